//! `[auth]` configuration: the caller authentication mode and the keys,
//! claims and policies it uses, checked once at start-up.

use std::net::SocketAddr;
use std::sync::Arc;

use serde::Deserialize;

use super::api_key::{ApiKeyClient, RawApiKey};
use super::jwt::{JwtSettings, RawJwt};
use crate::config::ConfigError;
use crate::guest::{GuestLimits, UserName};
use crate::rate_limit::RateLimitSettings;

/// Length of a hyphenated UUID, the random part of an anonymous `userId`.
const UUID_LEN: usize = 36;

/// Authentication mode of callers of the guest routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum AuthMode {
    /// No credential is checked, for local development.
    None,
    /// Site back ends send an API key.
    ApiKey,
    /// Browsers send the site's own session JWT.
    Jwt,
    /// Public pages get guests with generated ids.
    Anonymous,
}

impl TryFrom<String> for AuthMode {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let modes = [Self::None, Self::ApiKey, Self::Jwt, Self::Anonymous];
        let choices = modes.map(|mode| (mode.as_str(), mode));
        crate::config::parse_choice(&text, &choices)
    }
}

impl AuthMode {
    /// Returns the mode as written in `auth.mode`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::ApiKey => "api_key",
            AuthMode::Jwt => "jwt",
            AuthMode::Anonymous => "anonymous",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    mode: AuthMode,
    allow_unauthenticated: bool,
    api_keys: Vec<RawApiKey>,
    jwt: RawJwt,
    anonymous: RawAnonymous,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnonymous {
    user_id_prefix: String,
    default_user_name: String,
    allow_mint: bool,
}

/// `[auth.anonymous]`: guests of public pages.
#[derive(Debug, Clone)]
pub struct AnonymousSettings {
    pub user_id_prefix: String,
    pub default_user_name: String,
    pub allow_mint: bool,
}

/// `[auth]`: the mode and what it needs.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub mode: AuthMode,
    pub allow_unauthenticated: bool,
    /// API key clients; checked in every mode, used in `api_key` mode.
    pub api_keys: Vec<Arc<ApiKeyClient>>,
    /// Session JWT verification; present in `jwt` mode only.
    pub jwt: Option<JwtSettings>,
    pub anonymous: AnonymousSettings,
}

impl RawAuth {
    pub(crate) fn validate(
        self,
        listen: SocketAddr,
        guests: &GuestLimits,
        rates: &RateLimitSettings,
    ) -> Result<AuthSettings, ConfigError> {
        if self.mode == AuthMode::None && !listen.ip().is_loopback() && !self.allow_unauthenticated
        {
            return Err(ConfigError::invalid(
                "auth.mode",
                format!(
                    "is \"none\" while server.listen ({listen}) is not a loopback address, so anyone who reaches it could get any guest; set auth.mode to api_key, jwt or anonymous, or set auth.allow_unauthenticated = true"
                ),
            ));
        }
        let api_keys = validate_api_keys(self.api_keys, self.mode, guests, rates)?;
        let jwt = match self.mode {
            AuthMode::Jwt => Some(self.jwt.validate(guests)?),
            _ => None,
        };
        Ok(AuthSettings {
            mode: self.mode,
            allow_unauthenticated: self.allow_unauthenticated,
            api_keys,
            jwt,
            anonymous: self.anonymous.validate(guests)?,
        })
    }
}

fn validate_api_keys(
    raw: Vec<RawApiKey>,
    mode: AuthMode,
    guests: &GuestLimits,
    rates: &RateLimitSettings,
) -> Result<Vec<Arc<ApiKeyClient>>, ConfigError> {
    if mode == AuthMode::ApiKey && raw.is_empty() {
        return Err(ConfigError::invalid(
            "auth.api_keys",
            "is empty while auth.mode is \"api_key\"; add an entry printed by `guestissuer keygen`",
        ));
    }
    let mut clients: Vec<Arc<ApiKeyClient>> = Vec::with_capacity(raw.len());
    for (index, entry) in raw.into_iter().enumerate() {
        let client = entry.validate(index, guests, rates)?;
        if let Some(other) = clients.iter().find(|c| c.name == client.name) {
            return Err(ConfigError::invalid(
                format!("auth.api_keys[{index}].client"),
                format!(
                    "({}) is used by another entry; give each client its own name",
                    other.name
                ),
            ));
        }
        if clients.iter().any(|c| c.same_key(&client)) {
            return Err(ConfigError::invalid(
                format!("auth.api_keys[{index}].sha256"),
                "is the hash of a key listed before; give each client its own key",
            ));
        }
        clients.push(Arc::new(client));
    }
    Ok(clients)
}

impl RawAnonymous {
    fn validate(self, guests: &GuestLimits) -> Result<AnonymousSettings, ConfigError> {
        if self.user_id_prefix.chars().any(char::is_control) {
            return Err(ConfigError::invalid(
                "auth.anonymous.user_id_prefix",
                "must not contain control characters",
            ));
        }
        let longest = self.user_id_prefix.chars().count() + UUID_LEN;
        if longest > guests.max_user_id_len {
            return Err(ConfigError::invalid(
                "auth.anonymous.user_id_prefix",
                format!(
                    "plus a 36-character UUID makes {longest} characters, more than guests.max_user_id_len ({})",
                    guests.max_user_id_len
                ),
            ));
        }
        let name = UserName::parse(self.default_user_name.trim(), guests)
            .map_err(|e| ConfigError::invalid("auth.anonymous.default_user_name", e.message))?;
        Ok(AnonymousSettings {
            user_id_prefix: self.user_id_prefix,
            default_user_name: name.as_str().to_owned(),
            allow_mint: self.allow_mint,
        })
    }
}
