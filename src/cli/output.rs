//! Command-line output: results on stdout, and steps, warnings and errors
//! on stderr, as text or as JSON with `--json`.

use std::fmt::Display;
use std::io::Write;

use serde_json::{Value, json};
use tracing_subscriber::EnvFilter;

use super::input::{SHOWN_TOKEN_CHARS, shorten};
use super::{CliError, EXIT_FAILED, EXIT_OK};

/// Output channel of one command run.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
    verbose: bool,
}

impl Output {
    /// Builds the output channel; with `verbose`, also shows the Webex
    /// client's own log lines, such as retries, on stderr.
    pub fn new(json: bool, verbose: bool) -> Self {
        if verbose {
            init_client_logging(json);
        }
        Self { json, verbose }
    }

    /// Tells whether `--json` was given.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints one step on stderr when `-v` was given. Callers pass only
    /// shortened tokens and never a secret.
    pub fn step(&self, message: impl Display) {
        if self.verbose {
            self.stderr_line("step", &message.to_string());
        }
    }

    /// Prints a warning on stderr.
    pub fn warn(&self, message: impl Display) {
        self.stderr_line("warning", &message.to_string());
    }

    /// Prints a result line, such as a token, on stdout.
    pub fn result_line(&self, text: &str) -> Result<(), CliError> {
        write_stdout(text)
    }

    /// Prints a JSON result on stdout: one line with `--json`, indented
    /// otherwise.
    pub fn result_json(&self, value: &Value) -> Result<(), CliError> {
        let text = if self.json {
            value.to_string()
        } else {
            serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
        };
        write_stdout(&text)
    }

    /// Prints `error` on stderr and returns its exit code.
    pub fn fail(&self, error: &CliError) -> u8 {
        if self.json {
            eprintln!("{}", error.to_json());
        } else {
            eprintln!("error: {error}");
        }
        error.exit_code()
    }

    /// Returns the exit code of a command's result, printing the error.
    pub fn finish(&self, result: Result<(), CliError>) -> u8 {
        match result {
            Ok(()) => EXIT_OK,
            Err(error) => self.fail(&error),
        }
    }

    fn stderr_line(&self, level: &str, message: &str) {
        if self.json {
            eprintln!("{}", json!({ "level": level, "message": message }));
        } else {
            eprintln!("{level}: {message}");
        }
    }
}

/// Sends this crate's `info` and higher log events to stderr. The filter is
/// fixed, so `RUST_LOG` cannot turn on the logs of the HTTP libraries,
/// whose output was not checked for credentials.
fn init_client_logging(json: bool) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("guestissuer=info"))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false);
    // try_init fails when a subscriber is already installed, and that one
    // keeps working.
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.without_time().try_init()
    };
}

/// Writes one line on stdout; a closed stdout is a failure, not a panic.
fn write_stdout(text: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .map_err(|error| CliError::Failed(format!("cannot write to stdout: {error}")))
}

/// Reports a clap parse result that stopped the run: help and version on
/// stdout with exit code 0, usage errors on stderr with exit code 2 and the
/// optional `tip` after them.
pub fn report_clap_error(error: &clap::Error, json: bool, tip: Option<&str>) -> u8 {
    use clap::error::ErrorKind;
    let code = u8::try_from(error.exit_code()).unwrap_or(EXIT_FAILED);
    let is_help = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if is_help {
        let _ = error.print();
        return code;
    }
    let echoed = echoed_value(error);
    if !json {
        match &echoed {
            Some(value) => eprint!("{}", error.to_string().replace(value, &shorten(value))),
            None => drop(error.print()),
        }
        if let Some(tip) = tip {
            eprintln!("tip: {tip}");
        }
        return code;
    }
    let mut text = error.to_string();
    if let Some(value) = &echoed {
        text = text.replace(value, &shorten(value));
    }
    let mut message = text.trim().trim_start_matches("error: ").to_owned();
    if let Some(tip) = tip {
        message = format!("{message}\n\ntip: {tip}");
    }
    let body = json!({
        "error": { "kind": "invalid-usage", "message": message, "exitCode": code }
    });
    eprintln!("{body}");
    code
}

/// Returns the unexpected argument a clap error quotes when it may be a
/// token or a secret: not an option and longer than what `-v` shows.
fn echoed_value(error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(value)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = value.chars().count() > SHOWN_TOKEN_CHARS;
    (long && !value.starts_with('-')).then(|| value.clone())
}
