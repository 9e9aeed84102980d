//! `guestissuer quick <userId> <userName> -i .. -s ..`: mints a short-lived
//! guest JWT, exchanges it at once and prints only the access token, like
//! `POST /guests/login` with `userId` and `userName`. With `--service-app`
//! the Service App's token gets the guest's access token from Webex
//! `POST /guests/token` instead.

use clap::Args;
use secrecy::ExposeSecret;

use super::input::{IssuerArgs, WebexArgs, guest_identity};
use super::login::print_access_token;
use super::service_app::{ServiceAppArgs, login_error};
use super::{CliError, CommonArgs, Output};
use crate::config::Settings;
use crate::guest::UserId;
use crate::readiness::CheckStatus;
use crate::webex::{GuestAccess, GuestBackend, GuestIssuerBackend};

/// Hint for a rejected `/jwt/login` of a token signed with `-i`/`-s`.
const QUICK_HINT: &str = "Check that -i/--issuer and -s/--secret match the Guest Issuer app in the Webex developer portal";

#[derive(Debug, Args)]
#[command(after_help = concat!(
    "The guest JWT lasts guests.login_jwt_lifetime (60 seconds) and is never printed; stdout gets the access token alone.

Examples:
  guestissuer quick 123 \"Jane Doe\" -i \"$ISSUER_ID\" -s \"$ISSUER_SECRET\"
  ISSUER=\"$ISSUER_ID\" SECRET=\"$ISSUER_SECRET\" guestissuer quick 123 \"Jane Doe\" --base-url http://127.0.0.1:8081/v1
  SERVICE_APP_CLIENT_SECRET=\"$SECRET\" guestissuer quick 123 \"Jane Doe\" --service-app --client-id \"$CLIENT_ID\" --refresh-token \"$REFRESH_TOKEN\" --state-file tokens.json

With --service-app no guest JWT exists: the Service App's access token (refreshed with the refresh token, or read from --state-file) gets the guest's access token from Webex POST /guests/token.

",
    super::exit_codes_help!()
))]
pub struct QuickArgs {
    /// Stable guest id, the `sub` claim: the same id is the same Webex guest
    #[arg(value_name = "USER_ID")]
    user_id: String,
    /// Display name of the guest, the `name` claim
    #[arg(value_name = "USER_NAME")]
    user_name: String,
    #[command(flatten)]
    issuer: IssuerArgs,
    /// Get the guest's access token through a Service App instead of a Guest Issuer
    #[arg(long, conflicts_with_all = ["issuer", "secret"])]
    service_app: bool,
    #[command(flatten)]
    service_app_credentials: ServiceAppArgs,
    #[command(flatten)]
    webex: WebexArgs,
    #[command(flatten)]
    common: CommonArgs,
}

/// Runs `quick` and returns the exit code.
pub async fn run(args: QuickArgs) -> u8 {
    let output = args.common.output();
    output.finish(quick(&args, &output).await)
}

async fn quick(args: &QuickArgs, output: &Output) -> Result<(), CliError> {
    let settings = args.common.settings(output)?;
    let access = if args.service_app {
        quick_service_app(args, &settings, output).await?
    } else {
        quick_guest_issuer(args, &settings, output).await?
    };
    print_access_token(
        output,
        access.access_token.expose_secret(),
        access.expires_in,
        Some(&access.user_id),
    )
}

/// Logs the guest in with a guest JWT signed for `-i`/`-s`.
async fn quick_guest_issuer(
    args: &QuickArgs,
    settings: &Settings,
    output: &Output,
) -> Result<GuestAccess, CliError> {
    let backend = backend(args, settings, output)?;
    let (user_id, user_name) = guest_identity(&args.user_id, &args.user_name, &settings.guests)?;
    log_login(output, &user_id, backend.name());
    backend
        .login(&user_id, &user_name)
        .await
        .map_err(|error| CliError::from(error).with_upstream_hint(QUICK_HINT))
}

/// Logs the guest in through the Service App, and warns when Webex
/// replaced the refresh token while no state file keeps the new one.
async fn quick_service_app(
    args: &QuickArgs,
    settings: &Settings,
    output: &Output,
) -> Result<GuestAccess, CliError> {
    let credentials = &args.service_app_credentials;
    let (backend, tokens) = credentials.backend(settings, &args.webex, output)?;
    let (user_id, user_name) = guest_identity(&args.user_id, &args.user_name, &settings.guests)?;
    log_login(output, &user_id, backend.name());

    let result = backend.login(&user_id, &user_name).await;
    if tokens.refresh_token_replaced() && tokens.state_file().is_none() {
        output.warn(
            "Webex replaced the refresh token at this refresh, so the one passed no longer works; pass --state-file FILE to keep the newest tokens between runs",
        );
    }
    let checks = tokens.readiness();
    if let Some(check) = checks.get("serviceAppStateFile")
        && check.status != CheckStatus::Ok
    {
        output.warn(&check.detail);
    }
    result.map_err(|error| login_error(error, &tokens))
}

fn log_login(output: &Output, user_id: &UserId, backend: &str) {
    output.step(format!(
        "logging in guest {:?} through the {backend} back end",
        user_id.as_str()
    ));
}

/// Builds the Guest Issuer back end that logs the guest in.
fn backend(
    args: &QuickArgs,
    settings: &Settings,
    output: &Output,
) -> Result<Box<dyn GuestBackend>, CliError> {
    let issuer = args.issuer.resolve(output)?;
    let client = args.webex.client(settings, output)?;
    output.step(format!(
        "the guest JWT lasts {} seconds (guests.login_jwt_lifetime)",
        settings.guests.login_jwt_lifetime
    ));
    Ok(Box::new(GuestIssuerBackend::new(
        issuer,
        settings.guests.clone(),
        client,
    )))
}
