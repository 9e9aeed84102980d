//! The command line: `create`, `login`, `quick` and `verify` work like the
//! npm `guestissuer` tool, `serve` runs the HTTP service and `emulate` runs
//! the Webex emulator alone.
//!
//! `create` is the default command, so `guestissuer <userId> <userName> -i
//! ... -s ...` mints a guest JWT. Results go to stdout, everything else to
//! stderr, and the exit code is one of [`EXIT_OK`], [`EXIT_FAILED`] and
//! [`EXIT_USAGE`].

mod argv;
mod create;
mod error;
mod healthcheck;
mod input;
mod keygen;
mod login;
mod output;
mod quick;
mod server;
mod service_app;
mod verify;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand};

pub use error::CliError;
pub use output::Output;
pub use server::shutdown_signal;

use crate::config::Settings;

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for an operation that failed: Webex rejected it, the network
/// failed, or a token or signature is invalid.
pub const EXIT_FAILED: u8 = 1;
/// Exit code for invalid usage or input, including invalid configuration.
pub const EXIT_USAGE: u8 = 2;

/// Exit codes as listed at the end of every `--help` page.
macro_rules! exit_codes_help {
    () => {
        "Exit codes:
  0  success
  1  the operation failed: Webex rejected it, the network failed, or a token or signature is invalid
  2  invalid usage or input: a missing or unknown argument, an invalid value, invalid configuration"
    };
}
pub(crate) use exit_codes_help;

const TOP_AFTER_HELP: &str = concat!(
    "`create` is the default command: `guestissuer <USER_ID> <USER_NAME> -i .. -s ..` runs `guestissuer create`.

Examples:
  guestissuer create 123 \"Jane Doe\" -i \"$ISSUER_ID\" -s \"$ISSUER_SECRET\"
  guestissuer login \"$GUEST_JWT\"
  guestissuer verify --jwt \"$GUEST_JWT\"

",
    exit_codes_help!()
);

#[derive(Debug, Parser)]
#[command(
    name = "guestissuer",
    version,
    about = "Webex guest credentials: HTTP service and command-line tool",
    after_help = TOP_AFTER_HELP,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Mint a guest JWT and print it (the default command).
    Create(create::CreateArgs),
    /// Exchange a guest JWT for a Webex access token and print it.
    Login(login::LoginArgs),
    /// Mint a 60-second guest JWT, exchange it at once and print the access token.
    Quick(quick::QuickArgs),
    /// Decode a guest JWT, or show the Webex person behind an access token.
    Verify(verify::VerifyArgs),
    /// Run the HTTP service.
    Serve(server::ServeArgs),
    /// Run the built-in Webex emulator alone.
    Emulate(server::EmulateArgs),
    /// Print a new API key, and the configuration entry with its hash.
    Keygen(keygen::KeygenArgs),
    /// Check that the service returns 200 for GET /healthz; exit 0 if it does, 1 if not.
    Healthcheck(healthcheck::HealthcheckArgs),
}

/// Options shared by `create`, `login`, `quick` and `verify`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output and configuration")]
pub struct CommonArgs {
    /// Print machine-readable JSON on stdout, and errors as JSON on stderr.
    #[arg(long)]
    json: bool,
    /// Print each step on stderr; secrets and tokens are shortened.
    #[arg(short, long, action = ArgAction::Count)]
    verbose: u8,
    /// Configuration file for limits and timeouts (guests.*, webex.timeout_ms); optional.
    #[arg(
        long,
        env = "GUESTISSUER_CONFIG",
        value_name = "FILE",
        hide_env_values = true
    )]
    config: Option<PathBuf>,
}

impl CommonArgs {
    /// Builds the output channel these options ask for.
    fn output(&self) -> Output {
        Output::new(self.json, self.verbose > 0)
    }

    /// Loads the built-in defaults, the optional file and the
    /// `GUESTISSUER__*` environment.
    fn settings(&self, output: &Output) -> Result<Settings, CliError> {
        let settings = Settings::load(self.config.as_deref())
            .map_err(|error| CliError::Usage(error.to_string()))?;
        match &self.config {
            Some(path) => output.step(format!("loaded configuration from {}", path.display())),
            None => output.step("using the built-in configuration defaults"),
        }
        Ok(settings)
    }
}

/// Parses the process arguments, runs the command and returns its exit
/// code.
pub fn main() -> ExitCode {
    ExitCode::from(run(std::env::args_os().collect()))
}

/// Runs the command line `args` (program name first) and returns the exit
/// code.
pub fn run(args: Vec<OsString>) -> u8 {
    let json = argv::wants_json(&args);
    let tip = argv::misspelled_command_tip(&args);
    let command = <Cli as clap::CommandFactory>::command();
    let args = argv::with_default_command(args, |option| option_takes_value(&command, option));
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let tip = tip.or_else(|| empty_config_env_tip(&error));
            return output::report_clap_error(&error, json, tip.as_deref());
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return EXIT_FAILED;
        }
    };
    runtime.block_on(dispatch(cli.command))
}

/// Returns a tip when `--config` was rejected for an empty value that came
/// from an empty `GUESTISSUER_CONFIG` variable.
fn empty_config_env_tip(error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let empty_env = std::env::var_os("GUESTISSUER_CONFIG").is_some_and(|value| value.is_empty());
    (arg.starts_with("--config") && empty_env).then(|| {
        "the GUESTISSUER_CONFIG environment variable is set but empty; unset it or set it to a configuration file".to_owned()
    })
}

/// Returns whether `option`, such as `-i` or `--base-url`, takes a value in
/// any command.
fn option_takes_value(command: &clap::Command, option: &str) -> bool {
    command
        .get_subcommands()
        .flat_map(|sub| sub.get_arguments())
        .any(|arg| {
            let named = match option.strip_prefix("--") {
                Some(long) => arg
                    .get_long_and_visible_aliases()
                    .is_some_and(|names| names.contains(&long)),
                None => option
                    .chars()
                    .nth(1)
                    .is_some_and(|short| arg.get_short() == Some(short)),
            };
            named && arg.get_action().takes_values()
        })
}

async fn dispatch(command: Command) -> u8 {
    match command {
        Command::Create(args) => create::run(args),
        Command::Login(args) => login::run(args).await,
        Command::Quick(args) => quick::run(args).await,
        Command::Verify(args) => verify::run(args).await,
        Command::Serve(args) => server::serve(args).await,
        Command::Emulate(args) => server::emulate(args).await,
        Command::Keygen(args) => keygen::run(args),
        Command::Healthcheck(args) => healthcheck::run(args).await,
    }
}
