//! `guestissuer login <guestToken>`: exchanges a guest JWT at Webex
//! `POST /jwt/login` and prints the access token.

use chrono::Utc;
use clap::Args;
use serde_json::{Value, json};

use super::input::{SecretArg, WebexArgs, guest_jwt, secret_arg, shorten};
use super::{CliError, CommonArgs, Output};
use crate::guest_token::Inspected;
use crate::routes::rfc3339;

/// Hint for a rejected `/jwt/login` when the token came from elsewhere.
const LOGIN_HINT: &str = "Check that the token was signed with the secret of the Guest Issuer app named in its iss claim and has not expired; make a new one with guestissuer create";

#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Prints the Webex access token alone on stdout (Webex access tokens last about 6 hours).

Examples:
  guestissuer login \"$GUEST_JWT\"
  guestissuer login --base-url http://127.0.0.1:8081/v1 \"$GUEST_JWT\"

",
    super::exit_codes_help!()
))]
pub struct LoginArgs {
    /// Guest JWT to exchange, as printed by guestissuer create
    #[arg(value_name = "GUEST_TOKEN", value_parser = secret_arg)]
    token: SecretArg,
    #[command(flatten)]
    webex: WebexArgs,
    #[command(flatten)]
    common: CommonArgs,
}

/// Runs `login` and returns the exit code.
pub async fn run(args: LoginArgs) -> u8 {
    let output = args.common.output();
    output.finish(login(&args, &output).await)
}

async fn login(args: &LoginArgs, output: &Output) -> Result<(), CliError> {
    let settings = args.common.settings(output)?;
    let (token, inspected) = guest_jwt(args.token.expose(), "<GUEST_TOKEN>")?;
    describe_guest_jwt(&inspected, output);
    let client = args.webex.client(&settings, output)?;

    output.step(format!(
        "POST {}/jwt/login with guest JWT {}",
        client.base_url(),
        shorten(token)
    ));
    let answer = client
        .jwt_login(token)
        .await
        .map_err(|error| CliError::from(error).with_upstream_hint(LOGIN_HINT))?;
    let user_id = inspected.claims.get("sub").and_then(Value::as_str);
    print_access_token(output, &answer.token, answer.expires_in, user_id)
}

/// Prints the claims Webex reads on stderr with `-v`, and warns when the
/// token has already expired.
fn describe_guest_jwt(inspected: &Inspected, output: &Output) {
    let claim = |name: &str| inspected.claims.get(name).cloned().unwrap_or(Value::Null);
    output.step(format!(
        "guest JWT claims: sub {}, name {}, iss {}, exp {}",
        claim("sub"),
        claim("name"),
        claim("iss"),
        claim("exp")
    ));
    if let Some(exp) = inspected.claims.get("exp").and_then(Value::as_i64)
        && exp <= Utc::now().timestamp()
    {
        output.warn(format!(
            "the guest JWT expired at {}; Webex rejects expired tokens, so make a new one with guestissuer create",
            rfc3339(exp)
        ));
    }
}

/// Prints an access token: alone on stdout, or with `--json` as
/// `{accessToken, expiresIn, expiresAt, userId}` like `POST /guests/login`.
pub fn print_access_token(
    output: &Output,
    access_token: &str,
    expires_in: u64,
    user_id: Option<&str>,
) -> Result<(), CliError> {
    output.step(format!(
        "received access token {}, valid for {expires_in} seconds",
        shorten(access_token)
    ));
    if !output.is_json() {
        return output.result_line(access_token);
    }
    let expires_at = Utc::now().timestamp() + expires_in as i64;
    output.result_json(&json!({
        "accessToken": access_token,
        "expiresIn": expires_in,
        "expiresAt": rfc3339(expires_at),
        "userId": user_id,
    }))
}
