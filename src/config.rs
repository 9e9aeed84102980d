//! Layered configuration: the built-in `config/default.toml`, an optional
//! file, then `GUESTISSUER__SECTION__KEY` environment variables.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{Environment, File, FileFormat};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::auth::{AuthSettings, RawAuth};
use crate::cors::{CorsSettings, RawCors};
use crate::emulator::{Faults, RouteFault};
use crate::guest::GuestLimits;
use crate::guest_token::IssuerSecret;
use crate::limits::{LimitSettings, RawLimits};
use crate::rate_limit::{RateLimitSettings, RawRateLimit};
use crate::webex::{RawRetry, RawTokenCache, RetryPolicy, TokenCacheSettings};

mod choice;
mod operations;
mod service_app;

pub(crate) use choice::parse_choice;
pub use operations::{MetricsSettings, ReadinessSettings};
pub use service_app::{
    DEMO_CLIENT_ID, EmulatorServiceApp, ExpiringToken, RefreshRetry, ServiceAppSettings, WebexMode,
    check_state_file_path,
};

/// The built-in defaults, compiled into the binary so it runs from any
/// working directory.
pub const DEFAULTS_TOML: &str = include_str!("../config/default.toml");

/// Id of the demo Guest Issuer in `config/default.toml`; its tokens work
/// only against the emulator.
pub const DEMO_ISSUER_ID: &str =
    "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi82ZjFjMmE0ZS04YjNkLTRjN2EtOWU1Zi0yZDFiMGE5YzhlN2Y";

/// Prefix of environment variables that override configuration keys.
pub const ENV_PREFIX: &str = "GUESTISSUER";

/// Configuration that could not be loaded; the message names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {}", one_line(&.0.to_string()))]
    Load(#[from] config::ConfigError),
    #[error("invalid configuration: {key} {message}")]
    Invalid { key: String, message: String },
}

/// Joins a multi-line message, such as a TOML parse error with its source
/// excerpt, into one line, dropping the excerpt's `|` gutter lines.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !is_excerpt_line(line))
        .collect::<Vec<_>>()
        .join(": ")
}

/// Tells whether `line` is a source excerpt line such as `1 | [server` or
/// `|   ^`.
fn is_excerpt_line(line: &str) -> bool {
    let after_number = line.trim_start_matches(|c: char| c.is_ascii_digit());
    after_number.trim_start().starts_with('|')
}

impl ConfigError {
    /// Builds the error for an invalid `key`, with `message` stating what is allowed.
    pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Settings as written in files and environment variables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    server: RawServer,
    issuer: RawIssuer,
    guests: GuestLimits,
    webex: RawWebex,
    service_app: service_app::RawServiceApp,
    emulator: RawEmulator,
    metrics: operations::RawMetrics,
    readiness: operations::RawReadiness,
    log: LogSettings,
    auth: RawAuth,
    rate_limit: RawRateLimit,
    limits: RawLimits,
    cors: RawCors,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: SocketAddr,
    trusted_proxies: StringList,
    shutdown_grace_ms: u64,
}

/// A list written as a TOML array, or as one comma-separated string, the
/// form an environment variable can carry.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum StringList {
    List(Vec<String>),
    Text(String),
}

impl StringList {
    /// Returns the items, trimmed, without empty ones.
    pub(crate) fn items(&self) -> Vec<String> {
        let items: Vec<&str> = match self {
            StringList::List(list) => list.iter().map(String::as_str).collect(),
            StringList::Text(text) => text.split(',').collect(),
        };
        items
            .into_iter()
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssuer {
    id: String,
    secret: Option<SecretString>,
    secret_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebex {
    mode: WebexMode,
    base_url: String,
    timeout_ms: u64,
    connect_timeout_ms: u64,
    deadline_ms: u64,
    retry: RawRetry,
    token_cache: RawTokenCache,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmulator {
    listen: SocketAddr,
    #[serde(default)]
    issuers: Vec<RawEmulatorIssuer>,
    #[serde(default)]
    faults: HashMap<String, RouteFault>,
    service_app: service_app::RawEmulatorServiceApp,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmulatorIssuer {
    id: String,
    secret: SecretString,
}

/// `[server]`: the HTTP listener and the reverse proxies in front of it.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Networks whose peers may set the client address in `Forwarded` or
    /// `X-Forwarded-For`.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Time in-flight requests get to finish after a shutdown signal;
    /// then the remaining connections are dropped.
    pub shutdown_grace: Duration,
}

/// `[log]`: output format and filter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(try_from = "String")]
pub enum LogFormat {
    Json,
    Pretty,
}

impl TryFrom<String> for LogFormat {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        parse_choice(&text, &[("json", Self::Json), ("pretty", Self::Pretty)])
    }
}

/// A Guest Issuer app: its id and decoded secret.
#[derive(Debug, Clone)]
pub struct Issuer {
    pub id: String,
    pub secret: IssuerSecret,
}

/// Destination of Webex calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// The built-in emulator, started in-process on a free loopback port.
    Emulator,
    /// A Webex API base URL such as `https://webexapis.com/v1`, without a
    /// trailing slash.
    Url(String),
}

/// `[webex]`: the back end, the upstream, its timeouts, retries and token
/// cache.
#[derive(Debug, Clone)]
pub struct WebexSettings {
    pub mode: WebexMode,
    pub upstream: Upstream,
    /// Time allowed for one attempt of a Webex call.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Time allowed for one Webex call, all attempts and waits included.
    pub deadline: Duration,
    pub retry: RetryPolicy,
    pub token_cache: TokenCacheSettings,
}

/// `[emulator]`: the standalone emulator's address, known issuers and
/// Service App.
#[derive(Debug, Clone)]
pub struct EmulatorSettings {
    pub listen: SocketAddr,
    pub issuers: Vec<Issuer>,
    /// Faults injected from start-up, by route.
    pub faults: Faults,
    pub service_app: EmulatorServiceApp,
}

/// Validated configuration of the whole service.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub issuer: Issuer,
    pub guests: GuestLimits,
    pub webex: WebexSettings,
    pub service_app: ServiceAppSettings,
    pub emulator: EmulatorSettings,
    pub metrics: MetricsSettings,
    pub readiness: ReadinessSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub rate_limit: RateLimitSettings,
    pub limits: LimitSettings,
    pub cors: CorsSettings,
}

impl Settings {
    /// Loads the defaults, then `file` when given, then the process
    /// environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(file, std::env::vars().collect())
    }

    /// Loads like [`Settings::load`] with `env` in place of the process
    /// environment, so tests need not change global state.
    pub fn load_with_env(
        file: Option<&Path>,
        env: HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let mut user_layers = config::Config::builder();
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::invalid(
                    "--config",
                    format!("file {} does not exist or is not a file", path.display()),
                ));
            }
            user_layers = user_layers.add_source(File::from(path).required(true));
        }
        let environment = Environment::with_prefix(ENV_PREFIX)
            .prefix_separator("__")
            .separator("__")
            .source(Some(env.into_iter().collect()));
        let user_layers = user_layers.add_source(environment).build()?;

        let mut raw: RawSettings = config::Config::builder()
            .add_source(File::from_str(DEFAULTS_TOML, FileFormat::Toml))
            .add_source(user_layers.clone())
            .build()?
            .try_deserialize()?;
        // A secret file given by the operator replaces the built-in demo
        // secret instead of conflicting with it.
        if user_layers.get_string("issuer.secret").is_err() && raw.issuer.secret_file.is_some() {
            raw.issuer.secret = None;
        }
        raw.service_app.prefer_files_over_defaults(&user_layers);
        raw.validate()
    }
}

impl RawSettings {
    fn validate(self) -> Result<Settings, ConfigError> {
        validate_guests(&self.guests)?;
        let issuer = self.issuer.resolve()?;
        let webex = self.webex.validate()?;
        let service_app = self.service_app.validate()?;
        check_state_file_required(&webex, &service_app)?;
        let emulator = self.emulator.validate()?;
        let metrics = self.metrics.validate()?;
        let readiness = self.readiness.validate()?;
        validate_log_level(&self.log.level)?;
        let server = self.server.validate()?;
        let rate_limit = self.rate_limit.validate()?;
        let auth = self
            .auth
            .validate(server.listen, &self.guests, &rate_limit)?;
        Ok(Settings {
            server,
            issuer,
            guests: self.guests,
            webex,
            service_app,
            emulator,
            metrics,
            readiness,
            log: self.log,
            auth,
            rate_limit,
            limits: self.limits.validate()?,
            cors: self.cors.validate()?,
        })
    }
}

/// Checks that `log.level` is a `tracing` filter directive, because the
/// subscriber would otherwise fall back to "info" without a word.
fn validate_log_level(level: &str) -> Result<(), ConfigError> {
    if level.trim().is_empty() {
        return Err(ConfigError::invalid(
            "log.level",
            "must not be empty; use for example \"info\"",
        ));
    }
    tracing_subscriber::EnvFilter::try_new(level).map_err(|e| {
        ConfigError::invalid(
            "log.level",
            format!("({level}) is not a filter directive ({e}); use for example \"info\" or \"warn,guestissuer=debug\""),
        )
    })?;
    Ok(())
}

/// Requires `service_app.state_file` against real Webex, because Webex may
/// rotate the refresh token on every refresh and only the newest one works.
fn check_state_file_required(
    webex: &WebexSettings,
    service_app: &ServiceAppSettings,
) -> Result<(), ConfigError> {
    let real_upstream = matches!(webex.upstream, Upstream::Url(_));
    if webex.mode == WebexMode::ServiceApp && real_upstream && service_app.state_file.is_none() {
        return Err(ConfigError::invalid(
            "service_app.state_file",
            "is required when webex.mode is \"service_app\" and webex.base_url is a URL, because Webex may replace the refresh token at each refresh and the newest one must survive a restart; set it to a writable file path",
        ));
    }
    Ok(())
}

impl RawServer {
    fn validate(self) -> Result<ServerSettings, ConfigError> {
        let items = self.trusted_proxies.items();
        let mut trusted_proxies = Vec::with_capacity(items.len());
        for (index, text) in items.iter().enumerate() {
            trusted_proxies.push(parse_network(text).ok_or_else(|| {
                ConfigError::invalid(
                    format!("server.trusted_proxies[{index}]"),
                    format!("({text}) is not an IP address or CIDR network such as 10.0.0.0/8 or fd00::/8"),
                )
            })?);
        }
        Ok(ServerSettings {
            listen: self.listen,
            trusted_proxies,
            shutdown_grace: operations::shutdown_grace(self.shutdown_grace_ms)?,
        })
    }
}

/// Parses a CIDR network, or a single address as a one-address network.
fn parse_network(text: &str) -> Option<ipnet::IpNet> {
    let text = text.trim();
    if let Ok(network) = text.parse::<ipnet::IpNet>() {
        return Some(network.trunc());
    }
    text.parse::<std::net::IpAddr>()
        .ok()
        .map(ipnet::IpNet::from)
}

fn validate_guests(guests: &GuestLimits) -> Result<(), ConfigError> {
    if guests.min_expires_in == 0 {
        return Err(ConfigError::invalid(
            "guests.min_expires_in",
            "must be at least 1 second",
        ));
    }
    if guests.min_expires_in > guests.max_expires_in {
        return Err(ConfigError::invalid(
            "guests.min_expires_in",
            format!(
                "({}) must not exceed guests.max_expires_in ({})",
                guests.min_expires_in, guests.max_expires_in
            ),
        ));
    }
    let bounds = guests.min_expires_in..=guests.max_expires_in;
    if !bounds.contains(&guests.default_expires_in) {
        return Err(ConfigError::invalid(
            "guests.default_expires_in",
            format!(
                "({}) must lie between guests.min_expires_in and guests.max_expires_in ({} to {})",
                guests.default_expires_in, guests.min_expires_in, guests.max_expires_in
            ),
        ));
    }
    if guests.login_jwt_lifetime == 0 {
        return Err(ConfigError::invalid(
            "guests.login_jwt_lifetime",
            "must be at least 1 second",
        ));
    }
    if guests.max_user_id_len == 0 || guests.max_user_name_len == 0 {
        return Err(ConfigError::invalid(
            "guests.max_user_id_len",
            "and guests.max_user_name_len must be at least 1",
        ));
    }
    Ok(())
}

impl RawIssuer {
    fn resolve(self) -> Result<Issuer, ConfigError> {
        let id = self.id.trim().to_owned();
        if id.is_empty() {
            return Err(ConfigError::invalid(
                "issuer.id",
                "must not be empty; set it to the Guest Issuer app id",
            ));
        }
        let text = match (self.secret, self.secret_file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::invalid(
                    "issuer.secret",
                    "and issuer.secret_file are both set; keep only one",
                ));
            }
            (None, None) => {
                return Err(ConfigError::invalid(
                    "issuer.secret",
                    "is missing; set issuer.secret or issuer.secret_file",
                ));
            }
            (Some(secret), None) => secret,
            (None, Some(path)) => read_secret_file("issuer.secret_file", &path)?,
        };
        let secret = IssuerSecret::from_base64(text.expose_secret())
            .map_err(|e| ConfigError::invalid("issuer.secret", e.to_string()))?;
        Ok(Issuer { id, secret })
    }
}

/// Reads a secret from a file, as mounted by container secret stores.
pub fn read_secret_file(key: &str, path: &Path) -> Result<SecretString, ConfigError> {
    std::fs::read_to_string(path)
        .map(|text| SecretString::from(text.trim().to_owned()))
        .map_err(|e| {
            ConfigError::invalid(key, format!("cannot be read from {}: {e}", path.display()))
        })
}

impl RawWebex {
    fn validate(self) -> Result<WebexSettings, ConfigError> {
        let upstream = parse_upstream(&self.base_url)?;
        if self.timeout_ms == 0 || self.connect_timeout_ms == 0 {
            return Err(ConfigError::invalid(
                "webex.timeout_ms",
                "and webex.connect_timeout_ms must be at least 1 millisecond",
            ));
        }
        if self.deadline_ms == 0 {
            return Err(ConfigError::invalid(
                "webex.deadline_ms",
                "must be at least 1 millisecond",
            ));
        }
        Ok(WebexSettings {
            mode: self.mode,
            upstream,
            timeout: Duration::from_millis(self.timeout_ms),
            connect_timeout: Duration::from_millis(self.connect_timeout_ms),
            deadline: Duration::from_millis(self.deadline_ms),
            retry: self.retry.validate()?,
            token_cache: self.token_cache.validate()?,
        })
    }
}

/// Parses `webex.base_url`: `emulator` or an absolute http(s) URL.
pub fn parse_upstream(text: &str) -> Result<Upstream, ConfigError> {
    let text = text.trim();
    if text == "emulator" {
        return Ok(Upstream::Emulator);
    }
    let url = reqwest::Url::parse(text).map_err(|e| {
        ConfigError::invalid(
            "webex.base_url",
            format!("({text}) is not a URL ({e}); use \"emulator\" or for example https://webexapis.com/v1"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::invalid(
            "webex.base_url",
            format!("({text}) must be an http or https URL with a host, or \"emulator\""),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::invalid(
            "webex.base_url",
            "must not have a query or fragment",
        ));
    }
    Ok(Upstream::Url(url.as_str().trim_end_matches('/').to_owned()))
}

impl RawEmulator {
    fn validate(self) -> Result<EmulatorSettings, ConfigError> {
        let mut issuers = Vec::with_capacity(self.issuers.len());
        for (index, raw) in self.issuers.into_iter().enumerate() {
            let secret = IssuerSecret::from_base64(raw.secret.expose_secret()).map_err(|e| {
                ConfigError::invalid(format!("emulator.issuers[{index}].secret"), e.to_string())
            })?;
            issuers.push(Issuer {
                id: raw.id.trim().to_owned(),
                secret,
            });
        }
        let faults = Faults::from_routes(self.faults).map_err(|e| {
            ConfigError::invalid(format!("emulator.faults.\"{}\"", e.route), e.message)
        })?;
        Ok(EmulatorSettings {
            listen: self.listen,
            issuers,
            faults,
            service_app: self.service_app.validate()?,
        })
    }
}
