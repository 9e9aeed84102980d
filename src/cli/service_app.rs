//! The Service App credentials of `quick --service-app`: options with
//! environment fallbacks, and the back end built from them.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use secrecy::SecretString;

use super::input::{SecretArg, Source, WebexArgs, flag_or_env, secret_arg, shorten};
use super::{CliError, Output};
use crate::config::{ServiceAppSettings, Settings, check_state_file_path};
use crate::error::ApiError;
use crate::webex::{ServiceAppBackend, TokenManager};

/// Hint for a rejected refresh of the Service App's token.
const REFRESH_HINT: &str = "Check --client-id and --client-secret, and pass a refresh token that Webex has not replaced or revoked (--refresh-token; --state-file keeps the newest one between runs)";

/// The Service App: `--client-id`, `--client-secret`, `--refresh-token`
/// and `--state-file`, or their `SERVICE_APP_*` environment variables.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Service App (with --service-app)")]
pub struct ServiceAppArgs {
    /// OAuth client id of the Service App [env: SERVICE_APP_CLIENT_ID]
    #[arg(long, value_name = "CLIENT_ID", requires = "service_app")]
    client_id: Option<String>,
    /// OAuth client secret of the Service App [env: SERVICE_APP_CLIENT_SECRET]; the variable keeps it out of the process list
    #[arg(long, value_name = "SECRET", value_parser = secret_arg, requires = "service_app")]
    client_secret: Option<SecretArg>,
    /// Refresh token from the admin's authorisation of the app [env: SERVICE_APP_REFRESH_TOKEN]
    #[arg(long, value_name = "TOKEN", value_parser = secret_arg, requires = "service_app")]
    refresh_token: Option<SecretArg>,
    /// File that keeps the newest access and refresh tokens between runs, mode 0600 [env: SERVICE_APP_STATE_FILE]; Webex may replace the refresh token at each refresh
    #[arg(long, value_name = "FILE", requires = "service_app")]
    state_file: Option<PathBuf>,
}

impl ServiceAppArgs {
    /// Builds the Service App back end from these options, with the
    /// refresh policy of `[service_app]` and no background refresh.
    pub fn backend(
        &self,
        settings: &Settings,
        webex: &WebexArgs,
        output: &Output,
    ) -> Result<(ServiceAppBackend, Arc<TokenManager>), CliError> {
        let service_app = self.settings(&settings.service_app, output)?;
        let client = webex.client(settings, output)?;
        let tokens = TokenManager::load(&service_app, client.clone()).map_err(|error| {
            let message = error
                .to_string()
                .replace("service_app.state_file", "--state-file")
                .replace("service_app.refresh_token", "--refresh-token");
            CliError::Usage(message)
        })?;
        let tokens = Arc::new(tokens);
        Ok((
            ServiceAppBackend::with_tokens(tokens.clone(), client),
            tokens,
        ))
    }

    fn settings(
        &self,
        defaults: &ServiceAppSettings,
        output: &Output,
    ) -> Result<ServiceAppSettings, CliError> {
        let (client_id, source) = required(
            flag_or_env(
                self.client_id.clone(),
                "--client-id",
                "SERVICE_APP_CLIENT_ID",
            ),
            "--client-id <CLIENT_ID>",
            "SERVICE_APP_CLIENT_ID",
        )?;
        output.step(format!("Service App client id from {source}: {client_id}"));
        let client_secret = credential(
            self.client_secret.as_ref(),
            ("--client-secret", "--client-secret <SECRET>"),
            "SERVICE_APP_CLIENT_SECRET",
            (output, hidden),
        )?;
        let refresh_token = credential(
            self.refresh_token.as_ref(),
            ("--refresh-token", "--refresh-token <TOKEN>"),
            "SERVICE_APP_REFRESH_TOKEN",
            (output, shorten),
        )?;
        let state_file = flag_or_env(
            self.state_file.as_ref().map(|p| p.display().to_string()),
            "--state-file",
            "SERVICE_APP_STATE_FILE",
        )
        .map(|(path, source)| {
            output.step(format!("tokens kept in {path} (from {source})"));
            PathBuf::from(path)
        });
        if let Some(path) = &state_file {
            check_state_file_path(path).map_err(|error| {
                CliError::Usage(
                    error
                        .to_string()
                        .replace("service_app.state_file", "--state-file"),
                )
            })?;
        }
        Ok(ServiceAppSettings {
            client_id,
            client_secret,
            refresh_token,
            access_token: None,
            state_file,
            ..defaults.clone()
        })
    }
}

/// Reads a credential from its option or environment variable; `-v`
/// shows it only as `describe` renders it.
fn credential(
    flag_value: Option<&SecretArg>,
    (flag, usage): (&'static str, &str),
    env: &'static str,
    (output, describe): (&Output, fn(&str) -> String),
) -> Result<SecretString, CliError> {
    let value = flag_value.map(|s| s.expose().to_owned());
    let (text, source) = required(flag_or_env(value, flag, env), usage, env)?;
    output.step(format!("{flag} from {source}: {}", describe(&text)));
    Ok(SecretString::from(text))
}

/// Describes a secret for `-v` by its length alone.
fn hidden(secret: &str) -> String {
    format!("{} characters, not shown", secret.chars().count())
}

/// Takes a trimmed, non-empty value or returns a usage error that names
/// the option and the environment variable.
fn required(
    value: Option<(String, Source)>,
    usage: &str,
    env: &str,
) -> Result<(String, Source), CliError> {
    let Some((text, source)) = value else {
        return Err(CliError::Usage(format!(
            "missing Service App credential: pass {usage} or set the {env} environment variable"
        )));
    };
    let text = text.trim().to_owned();
    if text.is_empty() {
        return Err(CliError::Usage(format!("{source} is empty")));
    }
    Ok((text, source))
}

/// Turns a failed guest login into a command-line error: a failed refresh
/// becomes the Webex error of the refresh with a hint for these options.
pub fn login_error(error: ApiError, tokens: &TokenManager) -> CliError {
    match (&error, tokens.last_refresh_error()) {
        (ApiError::Unavailable(_), Some(refresh_error)) => {
            CliError::from(refresh_error).with_upstream_hint(REFRESH_HINT)
        }
        _ => CliError::from(error),
    }
}
