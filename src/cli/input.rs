//! Command-line inputs: options with environment fallbacks, and checks
//! that reject what the npm tool silently mangled, with messages that name
//! the option and the fix.

use std::convert::Infallible;
use std::fmt;

use clap::Args;

use super::{CliError, Output};
use crate::config::{Issuer, Settings};
use crate::guest::{ExpiresIn, FieldError, GuestLimits, UserId, UserName};
use crate::guest_token::{self, FormatError, Inspected, IssuerSecret};
use crate::webex::WebexClient;

/// Webex API base URL used when neither `--base-url` nor
/// [`BASE_URL_ENV`] is set.
pub const DEFAULT_BASE_URL: &str = "https://webexapis.com/v1";
/// Environment variable that sets the Webex API base URL.
pub const BASE_URL_ENV: &str = "GUESTISSUER_WEBEX_BASE_URL";

/// Number of leading characters of a token shown by `-v`.
pub const SHOWN_TOKEN_CHARS: usize = 8;

/// A credential given on the command line; `Debug` never shows it.
#[derive(Clone)]
pub struct SecretArg(String);

impl SecretArg {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretArg([redacted])")
    }
}

/// Wraps an argument in [`SecretArg`]; used as a clap value parser.
pub fn secret_arg(text: &str) -> Result<SecretArg, Infallible> {
    Ok(SecretArg(text.to_owned()))
}

/// Origin of a value (option, environment variable or default), named in
/// messages so the user knows what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag(flag) => f.write_str(flag),
            Self::Env(name) => write!(f, "the {name} environment variable"),
            Self::Default => f.write_str("the default"),
        }
    }
}

/// Returns the option's value, else the environment variable's value.
pub fn flag_or_env(
    flag_value: Option<String>,
    flag: &'static str,
    env: &'static str,
) -> Option<(String, Source)> {
    if let Some(value) = flag_value {
        return Some((value, Source::Flag(flag)));
    }
    std::env::var_os(env).map(|value| (value.to_string_lossy().into_owned(), Source::Env(env)))
}

/// Shortens a token for `-v` output: its first characters and its length.
pub fn shorten(token: &str) -> String {
    let head: String = token.chars().take(SHOWN_TOKEN_CHARS).collect();
    format!("{head}... ({} characters)", token.chars().count())
}

/// The Guest Issuer app: `-i` and `-s`, or `ISSUER` and `SECRET`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Guest Issuer")]
pub struct IssuerArgs {
    /// Guest Issuer app id, a base64 Webex organization id [env: ISSUER]
    #[arg(short, long, value_name = "ISSUER_ID")]
    issuer: Option<String>,
    /// Guest Issuer secret, base64 as the developer portal shows it [env: SECRET]; SECRET keeps it out of the process list
    #[arg(short, long, value_name = "SECRET", value_parser = secret_arg)]
    secret: Option<SecretArg>,
}

impl IssuerArgs {
    /// Reads and checks the issuer id and decodes the secret.
    pub fn resolve(&self, output: &Output) -> Result<Issuer, CliError> {
        let id = self.issuer_id(output)?;
        let secret = self.secret(output)?;
        Ok(Issuer { id, secret })
    }

    fn issuer_id(&self, output: &Output) -> Result<String, CliError> {
        let (text, source) = flag_or_env(self.issuer.clone(), "-i/--issuer", "ISSUER").ok_or_else(|| {
            CliError::Usage(
                "missing Guest Issuer id: pass -i/--issuer <ISSUER_ID> or set the ISSUER environment variable".into(),
            )
        })?;
        let id = text.trim();
        if id.is_empty() {
            return Err(CliError::Usage(format!(
                "{source} is empty: pass the Guest Issuer app id, a base64 Webex organization id"
            )));
        }
        if let Some(position) = id.chars().position(|c| c.is_whitespace() || c.is_control()) {
            return Err(CliError::Usage(format!(
                "{source} contains whitespace or a control character at character {}: pass the Guest Issuer app id exactly as the developer portal shows it",
                position + 1
            )));
        }
        output.step(format!("Guest Issuer id from {source}: {id}"));
        Ok(id.to_owned())
    }

    fn secret(&self, output: &Output) -> Result<IssuerSecret, CliError> {
        let flag_value = self.secret.as_ref().map(|s| s.expose().to_owned());
        let (text, source) = flag_or_env(flag_value, "-s/--secret", "SECRET").ok_or_else(|| {
            CliError::Usage(
                "missing Guest Issuer secret: pass -s/--secret <SECRET> or set the SECRET environment variable".into(),
            )
        })?;
        let secret = IssuerSecret::from_base64(&text)
            .map_err(|error| CliError::Usage(format!("{source} {error}")))?;
        output.step(format!(
            "Guest Issuer secret from {source} decodes to a {}-byte key",
            secret.expose_bytes().len()
        ));
        Ok(secret)
    }
}

/// Checks `<USER_ID>` and `<USER_NAME>` with the rules `POST /guests`
/// applies.
pub fn guest_identity(
    user_id: &str,
    user_name: &str,
    limits: &GuestLimits,
) -> Result<(UserId, UserName), CliError> {
    let user_id = UserId::parse(user_id, limits).map_err(field_error)?;
    let user_name = UserName::parse(user_name, limits).map_err(field_error)?;
    Ok((user_id, user_name))
}

fn field_error(error: FieldError) -> CliError {
    let name = match error.field {
        "userId" => "<USER_ID>",
        "userName" => "<USER_NAME>",
        other => other,
    };
    let limit_key = match error.field {
        "userId" => "guests.max_user_id_len",
        _ => "guests.max_user_name_len",
    };
    if error.message.contains("at most") {
        return CliError::Usage(format!(
            "{name} {} ({limit_key} sets the maximum length)",
            error.message
        ));
    }
    CliError::Usage(format!("{name} {}", error.message))
}

/// Parses the guest JWT lifetime from `-d` or `EXPIRES`, within
/// `guests.min_expires_in` and `guests.max_expires_in`; absent, it is
/// `guests.default_expires_in`.
pub fn expires_in(
    flag_value: Option<String>,
    limits: &GuestLimits,
    output: &Output,
) -> Result<ExpiresIn, CliError> {
    let Some((text, source)) = flag_or_env(flag_value, "-d/--delay", "EXPIRES") else {
        let default = ExpiresIn::parse(None, limits).map_err(|e| CliError::Usage(e.to_string()))?;
        output.step(format!(
            "guest JWT lifetime: {} seconds (guests.default_expires_in)",
            default.seconds()
        ));
        return Ok(default);
    };
    let (min, max) = (limits.min_expires_in, limits.max_expires_in);
    let invalid = || {
        CliError::Usage(format!(
            "{source} must be a whole number of seconds from {min} to {max} (guests.min_expires_in to guests.max_expires_in); got \"{text}\""
        ))
    };
    let seconds: i64 = text.parse().map_err(|_| invalid())?;
    let lifetime = ExpiresIn::parse(Some(seconds), limits).map_err(|_| invalid())?;
    output.step(format!(
        "guest JWT lifetime from {source}: {} seconds",
        lifetime.seconds()
    ));
    Ok(lifetime)
}

/// Checks that `argument` is a compact JWT and decodes it without a key.
/// Whitespace around it is ignored; whitespace inside it is reported with
/// its position in `argument`.
pub fn guest_jwt<'a>(argument: &'a str, name: &str) -> Result<(&'a str, Inspected), CliError> {
    let leading = argument.chars().take_while(|c| c.is_whitespace()).count();
    let token = argument.trim();
    let inspected = guest_token::inspect(token).map_err(|error| {
        let error = match error {
            FormatError::Whitespace(position) => FormatError::Whitespace(position + leading),
            other => other,
        };
        CliError::Usage(format!("{name} is not a valid JWT: {}", with_fix(&error)))
    })?;
    Ok((token, inspected))
}

fn with_fix(error: &FormatError) -> String {
    match error {
        FormatError::NotBase64(..) | FormatError::NotJson(..) => {
            format!("{error}; copy the whole token again")
        }
        FormatError::Empty => format!("{error}; pass the token as printed by guestissuer create"),
        FormatError::Whitespace(_) | FormatError::SegmentCount(_) => error.to_string(),
    }
}

/// Checks an access token, which is opaque: not empty and no whitespace
/// inside. Whitespace around it is ignored.
pub fn access_token(argument: &str) -> Result<&str, CliError> {
    let leading = argument.chars().take_while(|c| c.is_whitespace()).count();
    let token = argument.trim();
    if token.is_empty() {
        return Err(CliError::Usage(
            "the access token is empty: pass the token that guestissuer login or quick printed"
                .into(),
        ));
    }
    if let Some(position) = token.chars().position(char::is_whitespace) {
        return Err(CliError::Usage(format!(
            "the access token contains whitespace at character {}; copy it again without spaces or line breaks",
            position + leading + 1
        )));
    }
    Ok(token)
}

/// The Webex API to call: `--base-url`, `GUESTISSUER_WEBEX_BASE_URL` or
/// Webex itself.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Webex")]
pub struct WebexArgs {
    /// Webex API base URL [env: GUESTISSUER_WEBEX_BASE_URL] [default: https://webexapis.com/v1]; for `guestissuer emulate`, http://127.0.0.1:8081/v1
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
}

impl WebexArgs {
    /// Builds a Webex client for the chosen base URL with the timeouts of
    /// `webex.timeout_ms` and `webex.connect_timeout_ms`.
    pub fn client(&self, settings: &Settings, output: &Output) -> Result<WebexClient, CliError> {
        let (text, source) = flag_or_env(self.base_url.clone(), "--base-url", BASE_URL_ENV)
            .unwrap_or_else(|| (DEFAULT_BASE_URL.to_owned(), Source::Default));
        let base_url = parse_base_url(&text, source)?;
        output.step(format!(
            "Webex base URL from {source}: {base_url} (timeout {} ms, connect timeout {} ms)",
            settings.webex.timeout.as_millis(),
            settings.webex.connect_timeout.as_millis()
        ));
        WebexClient::new(&base_url, &settings.webex)
            .map_err(|error| CliError::Failed(format!("cannot build the HTTP client: {error}")))
    }
}

/// Checks a Webex base URL: absolute http(s) with a host, no query or
/// fragment; returns it without a trailing slash.
pub fn parse_base_url(text: &str, source: Source) -> Result<String, CliError> {
    let text = text.trim();
    let example =
        "such as https://webexapis.com/v1, or http://127.0.0.1:8081/v1 for guestissuer emulate";
    if text == "emulator" {
        return Err(CliError::Usage(format!(
            "{source} is \"emulator\", which only the service understands: start guestissuer emulate and pass its URL, {example}"
        )));
    }
    let url = reqwest::Url::parse(text).map_err(|error| {
        CliError::Usage(format!(
            "{source} (\"{text}\") is not a valid URL ({error}): pass a base URL {example}"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(CliError::Usage(format!(
            "{source} (\"{text}\") must be an http or https URL with a host, {example}"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(CliError::Usage(format!(
            "{source} (\"{text}\") must not have a query or fragment: pass a base URL {example}"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_keeps_head_and_length() {
        assert_eq!(shorten("abcdefghijkl"), "abcdefgh... (12 characters)");
        assert_eq!(shorten("abc"), "abc... (3 characters)");
    }

    #[test]
    fn secret_arg_debug_is_redacted() {
        let secret = secret_arg("c2VjcmV0").unwrap();
        assert_eq!(format!("{secret:?}"), "SecretArg([redacted])");
    }

    #[test]
    fn base_url_rules() {
        let flag = Source::Flag("--base-url");
        assert_eq!(
            parse_base_url("http://127.0.0.1:8081/v1/", flag).unwrap(),
            "http://127.0.0.1:8081/v1"
        );
        for bad in [
            "emulator",
            "webexapis.com/v1",
            "ftp://host/v1",
            "http://h/v1?x=1",
        ] {
            let error = parse_base_url(bad, flag).unwrap_err();
            assert!(error.to_string().starts_with("--base-url"), "{error}");
            assert_eq!(error.exit_code(), 2);
        }
    }

    #[test]
    fn guest_jwt_whitespace_position_counts_leading_space() {
        let error = guest_jwt("  ab c.d.e", "<GUEST_TOKEN>").unwrap_err();
        assert!(error.to_string().contains("character 5"), "{error}");
    }

    #[test]
    fn access_token_rules() {
        assert_eq!(access_token(" tok \n").unwrap(), "tok");
        assert!(access_token("  ").is_err());
        let error = access_token("to k").unwrap_err();
        assert!(error.to_string().contains("character 3"), "{error}");
    }
}
