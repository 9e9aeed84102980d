//! The Service App back end: the app's own OAuth token (kept fresh by
//! [`TokenManager`]) buys guest access tokens at `POST /guests/token`.
//! Guest JWTs do not exist in this mode.

mod api;
mod manager;
mod oauth;
mod state_file;
mod tokens;

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

pub use manager::{AppToken, RefresherHandle, TokenManager};
pub use state_file::StateFileError;

use super::{GuestAccess, GuestBackend, MintedGuest, UpstreamError, WebexClient};
use crate::config::ServiceAppSettings;
use crate::error::ApiError;
use crate::guest::{ExpiresIn, UserId, UserName};
use crate::readiness::Checks;

/// Detail for `POST /guests`, which mints a guest JWT.
const NO_GUEST_JWT_MINT: &str = "POST /guests is not available when webex.mode is \"service_app\": a Service App gets guest access tokens from Webex directly and no guest JWT exists; use POST /guests/login with {\"userId\", \"userName\"}";

/// Detail for `POST /guests/login` with `{"token"}`.
const NO_GUEST_JWT_LOGIN: &str = "POST /guests/login with {\"token\"} (a guest JWT) is not available when webex.mode is \"service_app\": no guest JWT exists in this mode; send {\"userId\", \"userName\"} instead";

/// Service App back end: the guest calls and the token manager behind them.
#[derive(Debug)]
pub struct ServiceAppBackend {
    client: WebexClient,
    tokens: Arc<TokenManager>,
    _refresher: Option<RefresherHandle>,
}

impl ServiceAppBackend {
    /// Loads the tokens (state file or configuration) and starts the task
    /// that refreshes them ahead of expiry. Must run inside a Tokio runtime.
    pub fn start(
        settings: &ServiceAppSettings,
        client: WebexClient,
    ) -> Result<Self, StateFileError> {
        let tokens = Arc::new(TokenManager::load(settings, client.clone())?);
        let refresher = tokens.spawn_refresher();
        Ok(Self {
            client,
            tokens,
            _refresher: Some(refresher),
        })
    }

    /// Builds the back end around `tokens` without the background refresh
    /// task, for one-shot use such as the command line: a token is
    /// refreshed only when a call needs it.
    pub fn with_tokens(tokens: Arc<TokenManager>, client: WebexClient) -> Self {
        Self {
            client,
            tokens,
            _refresher: None,
        }
    }

    /// Returns the token manager.
    pub fn tokens(&self) -> &Arc<TokenManager> {
        &self.tokens
    }

    /// Runs `call` with the app's access token. When Webex rejects the
    /// token with 401 before its expiry, the token is replaced once and the
    /// call repeated.
    async fn with_app_token<T, F, Fut>(&self, call: F) -> Result<T, ApiError>
    where
        F: Fn(SecretString) -> Fut,
        Fut: Future<Output = Result<T, UpstreamError>>,
    {
        let token = self.tokens.access_token().await?;
        match call(token.token.clone()).await {
            Err(error) if error.upstream_status() == Some(401) => {
                let replacement = self.tokens.replace_rejected(&token).await?;
                Ok(call(replacement.token).await?)
            }
            result => Ok(result?),
        }
    }
}

#[async_trait]
impl GuestBackend for ServiceAppBackend {
    fn name(&self) -> &'static str {
        "service_app"
    }

    fn mint(
        &self,
        _user_id: &UserId,
        _user_name: &UserName,
        _expires_in: ExpiresIn,
    ) -> Result<MintedGuest, ApiError> {
        Err(ApiError::RouteNotInMode(NO_GUEST_JWT_MINT.to_owned()))
    }

    async fn exchange(&self, _guest_jwt: &str) -> Result<GuestAccess, ApiError> {
        Err(ApiError::BodyNotInMode(NO_GUEST_JWT_LOGIN.to_owned()))
    }

    async fn login(&self, user_id: &UserId, user_name: &UserName) -> Result<GuestAccess, ApiError> {
        let client = &self.client;
        let (subject, display_name) = (user_id.as_str(), user_name.as_str());
        let guest = self
            .with_app_token(|token| async move {
                client
                    .guests_token(token.expose_secret(), subject, display_name)
                    .await
            })
            .await?;
        Ok(GuestAccess {
            access_token: SecretString::from(guest.access_token),
            expires_in: guest.expires_in,
            user_id: subject.to_owned(),
        })
    }

    async fn person(&self, access_token: &str) -> Result<serde_json::Value, ApiError> {
        Ok(self.client.people_me(access_token).await?)
    }

    async fn guest_count(&self) -> Result<u64, ApiError> {
        let client = &self.client;
        self.with_app_token(|token| async move { client.guests_count(token.expose_secret()).await })
            .await
    }

    async fn readiness(&self) -> Checks {
        self.tokens.readiness()
    }
}
