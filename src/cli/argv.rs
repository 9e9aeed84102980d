//! Raw argument handling before clap parses: the default `create` command
//! and the `--json` switch for parse errors.

use std::ffi::{OsStr, OsString};

/// Names that select a command; `help` is clap's own.
const COMMANDS: &[&str] = &[
    "create",
    "login",
    "quick",
    "verify",
    "serve",
    "emulate",
    "keygen",
    "healthcheck",
    "help",
];

/// Flags that clap handles before any command.
const TOP_LEVEL_FLAGS: &[&str] = &["-h", "--help", "-V", "--version"];

/// Inserts `create` after the program name unless the first argument names
/// a command or is `--help`/`--version`, so `guestissuer <userId>
/// <userName> -i .. -s ..` runs `create` as the npm tool documented.
///
/// When options come first and the first positional argument names a
/// command, as in `guestissuer --json login <token>`, that command moves to
/// the front instead. `takes_value` returns whether an option such as `-i`
/// consumes the next argument.
pub fn with_default_command(
    mut args: Vec<OsString>,
    takes_value: impl Fn(&str) -> bool,
) -> Vec<OsString> {
    let Some(first) = args.get(1) else {
        return args;
    };
    let first = first.to_string_lossy();
    if COMMANDS.contains(&first.as_ref()) || TOP_LEVEL_FLAGS.contains(&first.as_ref()) {
        return args;
    }
    if let Some(index) = command_after_options(&args, takes_value) {
        let command = args.remove(index);
        args.insert(1, command);
        return args;
    }
    args.insert(1, OsString::from("create"));
    args
}

/// Returns the index of the first positional argument when it names a
/// command, skipping leading options and the values they take.
fn command_after_options(args: &[OsString], takes_value: impl Fn(&str) -> bool) -> Option<usize> {
    let mut index = 1;
    while let Some(arg) = args.get(index) {
        let arg = arg.to_string_lossy();
        if arg == "--" {
            return None;
        }
        if !arg.starts_with('-') || arg == "-" {
            return COMMANDS.contains(&arg.as_ref()).then_some(index);
        }
        let separate_value = if let Some(long) = arg.strip_prefix("--") {
            !long.contains('=') && takes_value(&arg)
        } else {
            arg.chars().count() == 2 && takes_value(&arg)
        };
        index += if separate_value { 2 } else { 1 };
    }
    None
}

/// Returns a tip for a first argument that looks like a misspelled
/// command, such as `verfiy`, which the default command took as
/// `<USER_ID>`. Shown only when parsing fails.
pub fn misspelled_command_tip(args: &[OsString]) -> Option<String> {
    let first = args.get(1)?.to_str()?;
    if first.starts_with('-') || COMMANDS.contains(&first) {
        return None;
    }
    let (distance, command) = COMMANDS
        .iter()
        .filter(|command| **command != "help")
        .map(|command| (strsim::osa_distance(first, command), *command))
        .min_by_key(|(distance, _)| *distance)?;
    (distance <= 2).then(|| {
        format!(
            "\"{first}\" was read as <USER_ID> of the default create command; did you mean guestissuer {command}?"
        )
    })
}

/// Tells whether `--json` appears before a `--` separator, so that even a
/// parse error can be reported as JSON.
pub fn wants_json(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|arg| arg.as_os_str() != OsStr::new("--"))
        .any(|arg| arg.as_os_str() == OsStr::new("--json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn with_default_command(list: Vec<OsString>) -> Vec<OsString> {
        super::with_default_command(list, |option| ["-i", "--base-url"].contains(&option))
    }

    #[test]
    fn command_after_leading_options_moves_to_front() {
        let result = with_default_command(args(&["guestissuer", "--json", "login", "t"]));
        assert_eq!(result, args(&["guestissuer", "login", "--json", "t"]));
        let result = with_default_command(args(&["guestissuer", "--base-url", "u", "verify", "t"]));
        assert_eq!(result[1], "verify");
        let result = with_default_command(args(&["guestissuer", "-i", "login", "u", "U"]));
        assert_eq!(result[1], "create");
        let result = with_default_command(args(&["guestissuer", "-v", "--", "login", "U"]));
        assert_eq!(result[1], "create");
    }

    #[test]
    fn default_command_inserted_before_user_id() {
        let result = with_default_command(args(&["guestissuer", "123", "Jane", "-i", "x"]));
        assert_eq!(
            result,
            args(&["guestissuer", "create", "123", "Jane", "-i", "x"])
        );
    }

    #[test]
    fn default_command_inserted_before_options() {
        let result = with_default_command(args(&["guestissuer", "-i", "x", "123", "Jane"]));
        assert_eq!(result[1], "create");
    }

    #[test]
    fn commands_and_top_flags_left_alone() {
        for first in [
            "serve", "emulate", "login", "verify", "help", "--help", "-V",
        ] {
            let list = args(&["guestissuer", first]);
            assert_eq!(with_default_command(list.clone()), list, "{first}");
        }
        assert_eq!(with_default_command(args(&["guestissuer"])).len(), 1);
    }

    #[test]
    fn misspelled_command_gets_tip() {
        let tip = misspelled_command_tip(&args(&["guestissuer", "verfiy", "--jwt"])).unwrap();
        assert!(tip.contains("did you mean guestissuer verify?"), "{tip}");
        assert!(misspelled_command_tip(&args(&["guestissuer", "guest-42", "Jane"])).is_none());
        assert!(misspelled_command_tip(&args(&["guestissuer", "login", "x"])).is_none());
        assert!(misspelled_command_tip(&args(&["guestissuer", "-i", "x"])).is_none());
    }

    #[test]
    fn json_flag_found_before_separator_only() {
        assert!(wants_json(&args(&["guestissuer", "login", "--json", "t"])));
        assert!(!wants_json(&args(&[
            "guestissuer",
            "create",
            "--",
            "--json",
            "x"
        ])));
        assert!(!wants_json(&args(&["--json"])));
    }
}
