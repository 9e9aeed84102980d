//! `[service_app]` (the Service App this service uses in `service_app` mode)
//! and `[emulator.service_app]` (the Service App the emulator accepts).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{ConfigError, read_secret_file};

/// Client id of the demo Service App in `config/default.toml`; its
/// credentials work only against the emulator.
pub const DEMO_CLIENT_ID: &str = "C0demo-service-app-for-the-guestissuer-emulator";

/// Webex back end that serves guests (`webex.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum WebexMode {
    /// The service signs guest JWTs with `[issuer]` and exchanges them at
    /// `POST /jwt/login`.
    GuestIssuer,
    /// A Service App's own token buys guest tokens at `POST /guests/token`.
    ServiceApp,
}

impl TryFrom<String> for WebexMode {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let choices = [
            (Self::GuestIssuer.as_str(), Self::GuestIssuer),
            (Self::ServiceApp.as_str(), Self::ServiceApp),
        ];
        super::parse_choice(&text, &choices)
    }
}

impl WebexMode {
    /// Returns the configuration value of this mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GuestIssuer => "guest_issuer",
            Self::ServiceApp => "service_app",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServiceApp {
    client_id: String,
    client_secret: Option<SecretString>,
    client_secret_file: Option<PathBuf>,
    refresh_token: Option<SecretString>,
    refresh_token_file: Option<PathBuf>,
    access_token: Option<SecretString>,
    access_token_expires_at: Option<String>,
    state_file: Option<PathBuf>,
    refresh_margin_secs: u64,
    refresh_attempts: u32,
    refresh_backoff_ms: u64,
    refresh_backoff_max_ms: u64,
    refresh_retry_after_secs: u64,
}

/// An access token with the instant it expires.
#[derive(Debug, Clone)]
pub struct ExpiringToken {
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
}

/// Retry policy for a failed refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshRetry {
    /// Attempts per refresh, the first included.
    pub attempts: u32,
    /// Delay before the second attempt, doubled after each further one.
    pub initial_backoff: Duration,
    /// Largest delay between two attempts.
    pub max_backoff: Duration,
    /// Wait after a refresh failed on every attempt before the next one.
    pub retry_after: Duration,
}

/// `[service_app]`: credentials and token upkeep of the Service App.
#[derive(Debug, Clone)]
pub struct ServiceAppSettings {
    pub client_id: String,
    pub client_secret: SecretString,
    pub refresh_token: SecretString,
    pub access_token: Option<ExpiringToken>,
    pub state_file: Option<PathBuf>,
    pub refresh_margin: Duration,
    pub retry: RefreshRetry,
}

impl RawServiceApp {
    /// Lets `client_secret_file` or `refresh_token_file` given by the
    /// operator replace the built-in demo value instead of conflicting
    /// with it.
    pub(super) fn prefer_files_over_defaults(&mut self, user_layers: &config::Config) {
        if user_layers.get_string("service_app.client_secret").is_err()
            && self.client_secret_file.is_some()
        {
            self.client_secret = None;
        }
        if user_layers.get_string("service_app.refresh_token").is_err()
            && self.refresh_token_file.is_some()
        {
            self.refresh_token = None;
        }
    }

    pub(super) fn validate(self) -> Result<ServiceAppSettings, ConfigError> {
        let client_id = self.client_id.trim().to_owned();
        if client_id.is_empty() {
            return Err(ConfigError::invalid(
                "service_app.client_id",
                "must not be empty; set it to the Service App's client id",
            ));
        }
        let client_secret = secret_or_file(
            "service_app.client_secret",
            self.client_secret,
            self.client_secret_file,
        )?;
        let refresh_token = secret_or_file(
            "service_app.refresh_token",
            self.refresh_token,
            self.refresh_token_file,
        )?;
        let access_token = expiring_token(self.access_token, self.access_token_expires_at)?;
        if let Some(path) = &self.state_file {
            check_state_file_path(path)?;
        }
        let retry = validate_retry(
            self.refresh_attempts,
            self.refresh_backoff_ms,
            self.refresh_backoff_max_ms,
            self.refresh_retry_after_secs,
        )?;
        Ok(ServiceAppSettings {
            client_id,
            client_secret,
            refresh_token,
            access_token,
            state_file: self.state_file,
            refresh_margin: Duration::from_secs(self.refresh_margin_secs),
            retry,
        })
    }
}

/// Takes a secret from `key` or from `{key}_file`, exactly one of them.
fn secret_or_file(
    key: &str,
    value: Option<SecretString>,
    file: Option<PathBuf>,
) -> Result<SecretString, ConfigError> {
    let secret = match (value, file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::invalid(
                key,
                format!("and {key}_file are both set; keep only one"),
            ));
        }
        (None, None) => {
            return Err(ConfigError::invalid(
                key,
                format!("is missing; set {key} or {key}_file"),
            ));
        }
        (Some(secret), None) => secret,
        (None, Some(path)) => read_secret_file(&format!("{key}_file"), &path)?,
    };
    if secret.expose_secret().trim().is_empty() {
        return Err(ConfigError::invalid(key, "must not be empty"));
    }
    Ok(SecretString::from(secret.expose_secret().trim().to_owned()))
}

fn expiring_token(
    token: Option<SecretString>,
    expires_at: Option<String>,
) -> Result<Option<ExpiringToken>, ConfigError> {
    match (token, expires_at) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError::invalid(
            "service_app.access_token_expires_at",
            "is missing; set it to the access token's expiry (RFC 3339, such as 2026-01-31T12:00:00Z) or remove service_app.access_token",
        )),
        (None, Some(_)) => Err(ConfigError::invalid(
            "service_app.access_token_expires_at",
            "is set without service_app.access_token; set both or neither",
        )),
        (Some(token), Some(text)) => {
            let expires_at = DateTime::parse_from_rfc3339(text.trim()).map_err(|e| {
                ConfigError::invalid(
                    "service_app.access_token_expires_at",
                    format!("({text}) is not an RFC 3339 time ({e}); use for example 2026-01-31T12:00:00Z"),
                )
            })?;
            if token.expose_secret().trim().is_empty() {
                return Err(ConfigError::invalid(
                    "service_app.access_token",
                    "must not be empty",
                ));
            }
            Ok(Some(ExpiringToken {
                token,
                expires_at: expires_at.with_timezone(&Utc),
            }))
        }
    }
}

/// Checks that the state file can be created: its directory exists and
/// the path itself is not a directory.
pub fn check_state_file_path(path: &Path) -> Result<(), ConfigError> {
    let key = "service_app.state_file";
    if path.as_os_str().is_empty() {
        return Err(ConfigError::invalid(
            key,
            "must not be empty; remove it or name a file",
        ));
    }
    if path.is_dir() {
        return Err(ConfigError::invalid(
            key,
            format!("({}) is a directory; name a file inside it", path.display()),
        ));
    }
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(ConfigError::invalid(
            key,
            format!(
                "({}) is in a directory that does not exist; create {} first",
                path.display(),
                parent.display()
            ),
        ));
    }
    Ok(())
}

fn validate_retry(
    attempts: u32,
    backoff_ms: u64,
    backoff_max_ms: u64,
    retry_after_secs: u64,
) -> Result<RefreshRetry, ConfigError> {
    if attempts == 0 {
        return Err(ConfigError::invalid(
            "service_app.refresh_attempts",
            "must be at least 1",
        ));
    }
    if backoff_ms == 0 {
        return Err(ConfigError::invalid(
            "service_app.refresh_backoff_ms",
            "must be at least 1 millisecond",
        ));
    }
    if backoff_max_ms < backoff_ms {
        return Err(ConfigError::invalid(
            "service_app.refresh_backoff_max_ms",
            format!(
                "({backoff_max_ms}) must not be below service_app.refresh_backoff_ms ({backoff_ms})"
            ),
        ));
    }
    if retry_after_secs == 0 {
        return Err(ConfigError::invalid(
            "service_app.refresh_retry_after_secs",
            "must be at least 1 second",
        ));
    }
    Ok(RefreshRetry {
        attempts,
        initial_backoff: Duration::from_millis(backoff_ms),
        max_backoff: Duration::from_millis(backoff_max_ms),
        retry_after: Duration::from_secs(retry_after_secs),
    })
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEmulatorServiceApp {
    client_id: String,
    client_secret: SecretString,
    refresh_token: SecretString,
    org_id: String,
    access_token_lifetime_secs: u64,
    refresh_token_lifetime_secs: u64,
    guest_token_lifetime_secs: u64,
}

/// A Service App the emulator accepts.
#[derive(Debug, Clone)]
pub struct EmulatorServiceApp {
    pub client_id: String,
    pub client_secret: SecretString,
    /// Refresh token accepted until the first refresh replaces it.
    pub refresh_token: SecretString,
    /// Organization the app's guests belong to.
    pub org_id: String,
    pub access_token_lifetime: Duration,
    pub refresh_token_lifetime: Duration,
    pub guest_token_lifetime: Duration,
}

impl RawEmulatorServiceApp {
    pub(super) fn validate(self) -> Result<EmulatorServiceApp, ConfigError> {
        let text_fields = [
            ("emulator.service_app.client_id", self.client_id.as_str()),
            (
                "emulator.service_app.client_secret",
                self.client_secret.expose_secret(),
            ),
            (
                "emulator.service_app.refresh_token",
                self.refresh_token.expose_secret(),
            ),
            ("emulator.service_app.org_id", self.org_id.as_str()),
        ];
        for (key, value) in text_fields {
            if value.trim().is_empty() {
                return Err(ConfigError::invalid(key, "must not be empty"));
            }
        }
        let lifetimes = [
            (
                "emulator.service_app.access_token_lifetime_secs",
                self.access_token_lifetime_secs,
            ),
            (
                "emulator.service_app.refresh_token_lifetime_secs",
                self.refresh_token_lifetime_secs,
            ),
            (
                "emulator.service_app.guest_token_lifetime_secs",
                self.guest_token_lifetime_secs,
            ),
        ];
        for (key, seconds) in lifetimes {
            if seconds == 0 {
                return Err(ConfigError::invalid(key, "must be at least 1 second"));
            }
        }
        Ok(EmulatorServiceApp {
            client_id: self.client_id.trim().to_owned(),
            client_secret: SecretString::from(self.client_secret.expose_secret().trim().to_owned()),
            refresh_token: SecretString::from(self.refresh_token.expose_secret().trim().to_owned()),
            org_id: self.org_id.trim().to_owned(),
            access_token_lifetime: Duration::from_secs(self.access_token_lifetime_secs),
            refresh_token_lifetime: Duration::from_secs(self.refresh_token_lifetime_secs),
            guest_token_lifetime: Duration::from_secs(self.guest_token_lifetime_secs),
        })
    }
}
