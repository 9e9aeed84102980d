//! A cache of guest access tokens in front of any [`GuestBackend`]: a
//! guest's token is reused until shortly before it expires, and concurrent
//! logins of the same guest share one Webex call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache;

use super::{GuestAccess, GuestBackend, MintedGuest, TokenCacheSettings};
use crate::error::ApiError;
use crate::guest::{ExpiresIn, UserId, UserName};
use crate::readiness::Checks;

/// The `cache` label of this cache's hit and miss counters.
const METRICS_CACHE_NAME: &str = "guest_access_token";

/// Identifies one guest token. The name is part of the key because Webex
/// renames the guest only when a login carries the new name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TokenKey {
    mode: &'static str,
    issuer: Arc<str>,
    user_id: String,
    user_name: String,
}

/// An access token and when it was obtained.
#[derive(Debug, Clone)]
struct CachedAccess {
    access: GuestAccess,
    obtained: Instant,
}

impl CachedAccess {
    fn lifetime(&self) -> Duration {
        Duration::from_secs(self.access.expires_in)
    }

    /// Returns the token with `expires_in` counted from now.
    fn remaining(self) -> GuestAccess {
        let elapsed = self.obtained.elapsed().as_secs();
        GuestAccess {
            expires_in: self.access.expires_in.saturating_sub(elapsed),
            ..self.access
        }
    }
}

/// Expires each entry `margin` before its token does.
struct ExpiryMargin {
    margin: Duration,
}

impl Expiry<TokenKey, CachedAccess> for ExpiryMargin {
    fn expire_after_create(
        &self,
        _key: &TokenKey,
        value: &CachedAccess,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.lifetime().saturating_sub(self.margin))
    }
}

/// A [`GuestBackend`] that caches the access tokens of `login` in memory.
/// `exchange` is not cached: the back end must verify each guest JWT a
/// caller presents.
pub struct TokenCache {
    inner: Arc<dyn GuestBackend>,
    issuer: Arc<str>,
    cache: Cache<TokenKey, CachedAccess>,
}

impl TokenCache {
    /// Wraps `inner`, whose guests belong to `issuer` (the Guest Issuer id,
    /// or the Service App's organization).
    pub fn new(inner: Arc<dyn GuestBackend>, issuer: &str, settings: &TokenCacheSettings) -> Self {
        let cache = Cache::builder()
            .name("guest-access-tokens")
            .max_capacity(settings.max_entries)
            .expire_after(ExpiryMargin {
                margin: settings.expiry_margin,
            })
            .build();
        Self {
            inner,
            issuer: Arc::from(issuer),
            cache,
        }
    }

    fn key(&self, user_id: &UserId, user_name: &UserName) -> TokenKey {
        TokenKey {
            mode: self.inner.name(),
            issuer: self.issuer.clone(),
            user_id: user_id.as_str().to_owned(),
            user_name: user_name.as_str().to_owned(),
        }
    }
}

#[async_trait]
impl GuestBackend for TokenCache {
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
        self.inner.exchange(guest_jwt).await
    }

    /// Returns the cached token of this guest, or logs in once for every
    /// concurrent caller and caches the result. Errors are not cached.
    async fn login(&self, user_id: &UserId, user_name: &UserName) -> Result<GuestAccess, ApiError> {
        let fetch = async {
            crate::metrics::record_cache_lookup(METRICS_CACHE_NAME, false);
            let access = self.inner.login(user_id, user_name).await?;
            Ok::<_, ApiError>(CachedAccess {
                access,
                obtained: Instant::now(),
            })
        };
        let entry = self
            .cache
            .entry(self.key(user_id, user_name))
            .or_try_insert_with(fetch)
            .await
            .map_err(Arc::unwrap_or_clone)?;
        if !entry.is_fresh() {
            crate::metrics::record_cache_lookup(METRICS_CACHE_NAME, true);
            tracing::debug!(backend = self.inner.name(), "guest access token from cache");
        }
        Ok(entry.into_value().remaining())
    }

    async fn person(&self, access_token: &str) -> Result<serde_json::Value, ApiError> {
        self.inner.person(access_token).await
    }

    async fn guest_count(&self) -> Result<u64, ApiError> {
        self.inner.guest_count().await
    }

    async fn readiness(&self) -> Checks {
        self.inner.readiness().await
    }
}
