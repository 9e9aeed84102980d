//! `guestissuer verify --jwt <token>` decodes a JWT and checks its HS256
//! signature when given a secret; `guestissuer verify --access <token>`
//! prints the Webex person from `GET /people/me`.

use chrono::{DateTime, Datelike, Utc};
use clap::Args;
use serde_json::{Value, json};

use super::input::{
    SecretArg, WebexArgs, access_token, flag_or_env, guest_jwt, secret_arg, shorten,
};
use super::{CliError, CommonArgs, Output};
use crate::guest_token::{self, Inspected, IssuerSecret, VerifyError};
use crate::routes::rfc3339;

#[derive(Debug, Args)]
#[command(after_help = concat!(
    "--jwt prints {header, claims, expiresAt, expired, signature} as JSON; signature is \"valid\", \"invalid\" or \"unchecked\" (no secret given). An invalid signature exits with 1; an expired token is reported but exits with 0.
--access prints the person as JSON.

Examples:
  guestissuer verify --jwt \"$GUEST_JWT\"
  guestissuer verify --jwt \"$GUEST_JWT\" -s \"$ISSUER_SECRET\"
  guestissuer verify --access \"$ACCESS_TOKEN\" --base-url http://127.0.0.1:8081/v1

",
    super::exit_codes_help!()
))]
pub struct VerifyArgs {
    /// Decode TOKEN as a JWT without a key (the default)
    #[arg(long, conflicts_with = "access")]
    jwt: bool,
    /// Treat TOKEN as a Webex access token and print its person from GET /people/me
    #[arg(long)]
    access: bool,
    /// The guest JWT, or with --access the access token
    #[arg(value_name = "TOKEN", value_parser = secret_arg)]
    token: SecretArg,
    /// Guest Issuer secret (base64) to check the HS256 signature with [env: SECRET]
    #[arg(
        short,
        long,
        value_name = "SECRET",
        value_parser = secret_arg,
        conflicts_with = "access"
    )]
    secret: Option<SecretArg>,
    #[command(flatten)]
    webex: WebexArgs,
    #[command(flatten)]
    common: CommonArgs,
}

/// Runs `verify` and returns the exit code.
pub async fn run(args: VerifyArgs) -> u8 {
    let output = args.common.output();
    let result = match args.common.settings(&output) {
        Err(error) => Err(error),
        Ok(settings) if args.access => verify_access(&args, &settings, &output).await,
        Ok(_) => verify_jwt(&args, &output),
    };
    output.finish(result)
}

fn verify_jwt(args: &VerifyArgs, output: &Output) -> Result<(), CliError> {
    let (token, inspected) = guest_jwt(args.token.expose(), "<TOKEN>")?;
    output.step(format!("decoded {} without a key", shorten(token)));
    let mut report = describe(&inspected);
    let (signature, failure) = check_signature(args, (token, &inspected), output)?;
    report["signature"] = json!(signature);

    if report["expired"] == json!(true) {
        let when = match report["expiresAt"].as_str() {
            Some(expires_at) => format!("at {expires_at}"),
            None => format!("(exp {})", report["claims"]["exp"]),
        };
        output.warn(format!("the token expired {when}"));
    }
    output.result_json(&report)?;
    match failure {
        None => Ok(()),
        Some(error) => Err(error),
    }
}

/// Checks the HS256 signature when `-s` or `SECRET` gives a secret.
/// Returns `valid`, `invalid` or `unchecked`, and for `invalid` the error
/// to exit with after the report is printed.
fn check_signature(
    args: &VerifyArgs,
    (token, inspected): (&str, &Inspected),
    output: &Output,
) -> Result<(&'static str, Option<CliError>), CliError> {
    let flag_value = args.secret.as_ref().map(|s| s.expose().to_owned());
    let Some((text, source)) = flag_or_env(flag_value, "-s/--secret", "SECRET") else {
        output.step("signature not checked: pass -s/--secret or set SECRET to check it");
        return Ok(("unchecked", None));
    };
    let secret = IssuerSecret::from_base64(&text)
        .map_err(|error| CliError::Usage(format!("{source} {error}")))?;

    output.step(format!(
        "checking the HS256 signature with the secret from {source}"
    ));
    match guest_token::check_signature(token, &secret) {
        Ok(_) => Ok(("valid", None)),
        Err(error) => Ok((
            "invalid",
            Some(CliError::Failed(format!(
                "invalid signature: {} (secret from {source}); check that it is the secret of the Guest Issuer app named in iss",
                signature_problem(&error, &inspected.header)
            ))),
        )),
    }
}

/// Describes why the signature check failed, naming a missing or
/// unsupported `alg` in the header instead of the decoder's message.
fn signature_problem(error: &VerifyError, header: &Value) -> String {
    if !matches!(error, VerifyError::Malformed(_)) {
        return error.to_string();
    }
    match header.get("alg") {
        None => "the token's header has no alg; guest tokens are signed with HS256".to_owned(),
        Some(alg) if alg != "HS256" => {
            format!("the token is signed with {alg}; guest tokens are signed with HS256")
        }
        Some(_) => error.to_string(),
    }
}

/// Builds the report: header, claims, and `exp` as an RFC 3339 date with
/// whether it has passed (both null when `exp` is missing or not a number,
/// and the date null when its year is outside 0 to 9999).
fn describe(inspected: &Inspected) -> Value {
    let exp = inspected.claims.get("exp").and_then(|value| {
        value
            .as_i64()
            .or_else(|| value.as_f64().map(|seconds| seconds.floor() as i64))
    });
    let (expires_at, expired) = match exp {
        Some(exp) => (rfc3339_date(exp), json!(exp <= Utc::now().timestamp())),
        None => (Value::Null, Value::Null),
    };
    json!({
        "header": inspected.header,
        "claims": inspected.claims,
        "expiresAt": expires_at,
        "expired": expired,
    })
}

/// Formats `unix_seconds` as RFC 3339, or null when the year does not fit
/// in the four digits RFC 3339 allows.
fn rfc3339_date(unix_seconds: i64) -> Value {
    match DateTime::<Utc>::from_timestamp(unix_seconds, 0) {
        Some(time) if (0..=9999).contains(&time.year()) => json!(rfc3339(unix_seconds)),
        _ => Value::Null,
    }
}

async fn verify_access(
    args: &VerifyArgs,
    settings: &crate::config::Settings,
    output: &Output,
) -> Result<(), CliError> {
    let token = access_token(args.token.expose())?;
    let client = args.webex.client(settings, output)?;
    output.step(format!(
        "GET {}/people/me with access token {}",
        client.base_url(),
        shorten(token)
    ));
    let person = client.people_me(token).await?;
    output.result_json(&person)
}
