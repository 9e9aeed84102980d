//! The upstream side: calls to the Webex API, behind a trait with one
//! implementation per Webex back end, so routes do not know which is in use.

mod cache;
mod client;
mod error;
mod guest_issuer;
mod monitor;
mod policy;
mod retry;
mod service_app;

use async_trait::async_trait;
use secrecy::SecretString;

pub use cache::TokenCache;
pub use client::{WebexAccessToken, WebexClient};
pub use error::UpstreamError;
pub use guest_issuer::{GuestIssuerBackend, mint_guest_jwt};
pub use monitor::{UpstreamContact, UpstreamMonitor};
pub use policy::{RawRetry, RawTokenCache, RetryPolicy, TokenCacheSettings};
pub use service_app::{AppToken, ServiceAppBackend, StateFileError, TokenManager};

use crate::error::ApiError;
use crate::guest::{ExpiresIn, UserId, UserName};
use crate::readiness::Checks;

/// A guest JWT minted by the service.
#[derive(Debug, Clone)]
pub struct MintedGuest {
    pub token: SecretString,
    pub exp: i64,
}

/// A Webex access token obtained for a guest.
#[derive(Debug, Clone)]
pub struct GuestAccess {
    pub access_token: SecretString,
    pub expires_in: u64,
    pub user_id: String,
}

/// One Webex back end: how guests are minted, logged in and looked up.
#[async_trait]
pub trait GuestBackend: Send + Sync + 'static {
    /// Names the back end in logs and errors.
    fn name(&self) -> &'static str;

    /// Mints a guest JWT for `user_id` that expires in `expires_in`.
    fn mint(
        &self,
        user_id: &UserId,
        user_name: &UserName,
        expires_in: ExpiresIn,
    ) -> Result<MintedGuest, ApiError>;

    /// Exchanges a guest JWT presented by a caller for an access token.
    async fn exchange(&self, guest_jwt: &str) -> Result<GuestAccess, ApiError>;

    /// Gets an access token for a guest identity in one step.
    async fn login(&self, user_id: &UserId, user_name: &UserName) -> Result<GuestAccess, ApiError>;

    /// Returns the Webex person an access token belongs to.
    async fn person(&self, access_token: &str) -> Result<serde_json::Value, ApiError>;

    /// Returns how many guests this back end's Webex app has created.
    async fn guest_count(&self) -> Result<u64, ApiError>;

    /// Reports whether the back end can serve guests now, one check per
    /// concern.
    async fn readiness(&self) -> Checks;
}
