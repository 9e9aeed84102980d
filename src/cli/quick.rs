//! `guestissuer quick <userId> <userName> -i .. -s ..`: mints a short-lived
//! guest JWT, exchanges it at once and prints only the access token, like
//! `POST /guests/login` with `userId` and `userName`.

use clap::Args;
use secrecy::ExposeSecret;

use super::input::{IssuerArgs, WebexArgs, guest_identity};
use super::login::print_access_token;
use super::{CliError, CommonArgs, Output};
use crate::config::Settings;
use crate::webex::{GuestBackend, GuestIssuerBackend};

/// Hint for a rejected `/jwt/login` of a token signed with `-i`/`-s`.
const QUICK_HINT: &str = "Check that -i/--issuer and -s/--secret match the Guest Issuer app in the Webex developer portal";

#[derive(Debug, Args)]
#[command(after_help = concat!(
    "The guest JWT lasts guests.login_jwt_lifetime (60 seconds) and is never printed; stdout gets the access token alone.

Examples:
  guestissuer quick 123 \"Jane Doe\" -i \"$ISSUER_ID\" -s \"$ISSUER_SECRET\"
  ISSUER=\"$ISSUER_ID\" SECRET=\"$ISSUER_SECRET\" guestissuer quick 123 \"Jane Doe\" --base-url http://127.0.0.1:8081/v1

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
    let backend = backend(args, &settings, output)?;
    let (user_id, user_name) = guest_identity(&args.user_id, &args.user_name, &settings.guests)?;

    output.step(format!(
        "logging in guest {:?} through the {} back end",
        user_id.as_str(),
        backend.name()
    ));
    let access = backend
        .login(&user_id, &user_name)
        .await
        .map_err(|error| CliError::from(error).with_upstream_hint(QUICK_HINT))?;
    print_access_token(
        output,
        access.access_token.expose_secret(),
        access.expires_in,
        Some(&access.user_id),
    )
}

/// Builds the back end that logs the guest in; options that select another
/// Webex back end belong here.
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
