//! The service-wide budget of Webex calls, applied around a back end.

use std::sync::Arc;

use async_trait::async_trait;

use super::RateLimits;
use crate::error::ApiError;
use crate::guest::{ExpiresIn, UserId, UserName};
use crate::readiness::Checks;
use crate::webex::{GuestAccess, GuestBackend, MintedGuest};

/// A back end whose Webex calls each take one unit of the Webex budget
/// first. Minting signs locally and readiness checks are exempt, so they
/// cost nothing.
pub struct WebexBudget {
    inner: Arc<dyn GuestBackend>,
    limits: Arc<RateLimits>,
}

impl WebexBudget {
    /// Wraps `inner` so its calls draw on `limits`' Webex budget.
    pub fn new(inner: Arc<dyn GuestBackend>, limits: Arc<RateLimits>) -> Self {
        Self { inner, limits }
    }
}

#[async_trait]
impl GuestBackend for WebexBudget {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn mint(
        &self,
        user_id: &UserId,
        user_name: &UserName,
        expires_in: ExpiresIn,
    ) -> Result<MintedGuest, ApiError> {
        self.inner.mint(user_id, user_name, expires_in)
    }

    async fn exchange(&self, guest_jwt: &str) -> Result<GuestAccess, ApiError> {
        self.limits.check_webex().await?;
        self.inner.exchange(guest_jwt).await
    }

    async fn login(&self, user_id: &UserId, user_name: &UserName) -> Result<GuestAccess, ApiError> {
        self.limits.check_webex().await?;
        self.inner.login(user_id, user_name).await
    }

    async fn person(&self, access_token: &str) -> Result<serde_json::Value, ApiError> {
        self.limits.check_webex().await?;
        self.inner.person(access_token).await
    }

    async fn guest_count(&self) -> Result<u64, ApiError> {
        self.limits.check_webex().await?;
        self.inner.guest_count().await
    }

    /// Passes readiness checks through without charging the budget, so an
    /// exhausted budget never fails the probe.
    async fn readiness(&self) -> Checks {
        self.inner.readiness().await
    }
}
