//! Caller authentication for `POST /guests` and `POST /guests/login`: the
//! configured [`AuthMode`] turns request headers into a [`Caller`], and the
//! caller's policy decides which guest identity it may get.

mod api_key;
mod credentials;
mod grant;
mod jwt;
mod policy;
mod settings;

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use ipnet::IpNet;

pub use api_key::{ApiKeyClient, KEY_PREFIX, find_client, generate_key, hash_key};
pub use credentials::X_API_KEY;
pub use grant::{GuestGrant, IdentityRequest};
pub use jwt::{JwtSettings, Session, SessionVerifier};
pub use policy::Policy;
pub use settings::{AnonymousSettings, AuthMode, AuthSettings, RawAuth};

use crate::config::Settings;
use crate::error::ApiError;
use crate::guest::GuestLimits;
use crate::rate_limit::{RateLimits, client_ip};
use crate::startup::AppState;

/// Sender of a request, as established by the authentication mode.
#[derive(Debug, Clone)]
pub enum Caller {
    /// Mode `none`: no credential is checked.
    Unauthenticated,
    /// Mode `api_key`: a site back end with its own policy.
    ApiClient(Arc<ApiKeyClient>),
    /// Mode `jwt`: a signed-in user of the site.
    Session(Session),
    /// Mode `anonymous`: a visitor of a public page.
    Anonymous,
}

impl Caller {
    /// Returns the caller as shown in logs: the mode, and the client name
    /// or session `userId`.
    pub fn label(&self) -> String {
        match self {
            Caller::Unauthenticated => "none".to_owned(),
            Caller::ApiClient(client) => format!("api_key:{}", client.name),
            Caller::Session(session) => format!("jwt:{}", session.user_id.as_str()),
            Caller::Anonymous => "anonymous".to_owned(),
        }
    }
}

/// Authenticates callers and charges their rate limits.
pub struct Authenticator {
    mode: AuthMode,
    api_keys: Vec<Arc<ApiKeyClient>>,
    session: Option<SessionVerifier>,
    anonymous: AnonymousSettings,
    limits: GuestLimits,
    trusted_proxies: Vec<IpNet>,
    rate_limits: Arc<RateLimits>,
}

impl Authenticator {
    /// Builds the authenticator of `settings.auth`, charging `rate_limits`.
    pub fn new(settings: &Settings, rate_limits: Arc<RateLimits>) -> Self {
        let auth = &settings.auth;
        Self {
            mode: auth.mode,
            api_keys: auth.api_keys.clone(),
            session: auth.jwt.clone().map(SessionVerifier::new),
            anonymous: auth.anonymous.clone(),
            limits: settings.guests.clone(),
            trusted_proxies: settings.server.trusted_proxies.clone(),
            rate_limits,
        }
    }

    /// Returns the configured mode.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// Tells whether `token` is one of the configured API keys, so a key
    /// sent where a Webex access token belongs is never forwarded to Webex.
    pub fn is_api_key(&self, token: &str) -> bool {
        find_client(&self.api_keys, token).is_some()
    }

    /// Resolves the client address of a request and charges its per-IP
    /// limit.
    pub async fn check_client_ip(&self, parts: &Parts) -> Result<IpAddr, ApiError> {
        let ip = client_ip(parts, &self.trusted_proxies)?;
        self.rate_limits.check_ip(ip).await?;
        Ok(ip)
    }

    /// Establishes the caller of a request. In mode `api_key` the per-IP
    /// limit is charged only for requests without a valid key, because all
    /// of a site's users arrive from its back end's address. A valid key is
    /// charged to its client's own limit instead.
    pub async fn authenticate(&self, parts: &Parts) -> Result<Caller, ApiError> {
        match self.mode {
            AuthMode::None => {
                self.check_client_ip(parts).await?;
                Ok(Caller::Unauthenticated)
            }
            AuthMode::Anonymous => {
                self.check_client_ip(parts).await?;
                Ok(Caller::Anonymous)
            }
            AuthMode::Jwt => {
                self.check_client_ip(parts).await?;
                let session = self.verify_session(parts)?;
                self.rate_limits
                    .check_caller(&format!("jwt:{}", session.user_id.as_str()))
                    .await?;
                Ok(Caller::Session(session))
            }
            AuthMode::ApiKey => match self.find_api_client(parts) {
                Ok(client) => {
                    self.rate_limits.check_caller(&client.name).await?;
                    Ok(Caller::ApiClient(client))
                }
                Err(rejection) => {
                    self.check_client_ip(parts).await?;
                    Err(rejection)
                }
            },
        }
    }

    fn verify_session(&self, parts: &Parts) -> Result<Session, ApiError> {
        let verifier = self
            .session
            .as_ref()
            .ok_or_else(|| ApiError::Internal("auth.jwt is not configured".to_owned()))?;
        let token = credentials::bearer_token(&parts.headers)?.ok_or_else(|| {
            ApiError::Unauthorized(
                "this service requires the site's session token: send Authorization: Bearer <session JWT>"
                    .to_owned(),
            )
        })?;
        verifier.verify(token, &self.limits)
    }

    fn find_api_client(&self, parts: &Parts) -> Result<Arc<ApiKeyClient>, ApiError> {
        let presented = credentials::api_key(&parts.headers)?;
        find_client(&self.api_keys, presented)
            .cloned()
            .ok_or_else(|| ApiError::InvalidToken {
                detail: "the API key is not valid; check the key or create one with `guestissuer keygen`"
                    .to_owned(),
                description: "the API key is not valid",
            })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = state.auth.authenticate(parts).await?;
        tracing::Span::current().record("caller", caller.label());
        Ok(caller)
    }
}

/// A request whose client address is within its per-IP rate limit.
pub struct RateLimitedClient(pub IpAddr);

impl FromRequestParts<AppState> for RateLimitedClient {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        state.auth.check_client_ip(parts).await.map(Self)
    }
}
