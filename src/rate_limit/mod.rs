//! Rate limits per client IP, per caller and for Webex calls, kept in
//! [`RateLimitStore`]s so a store shared by several replicas can replace the
//! in-memory one.

mod budget;
mod client_ip;
mod settings;
mod store;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, header};

pub use budget::WebexBudget;
pub use client_ip::{client_ip, resolve as resolve_client_ip};
pub use settings::{RateLimitSettings, RateQuota, RawRateLimit};
pub use store::{Denied, GovernorStore, RateLimitStore};

/// Limit that a request exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitScope {
    ClientIp,
    Caller,
    Webex,
}

impl LimitScope {
    /// Returns the `limiter` label of the rate-limit metric.
    pub fn label(self) -> &'static str {
        match self {
            LimitScope::ClientIp => "client_ip",
            LimitScope::Caller => "caller",
            LimitScope::Webex => "webex",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            LimitScope::ClientIp => "too many requests from this client address",
            LimitScope::Caller => "too many requests from this caller",
            LimitScope::Webex => "the service's budget of Webex calls is used up",
        }
    }
}

/// A request rejected by a rate limit.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{}: the limit is {} requests at once, refilled at {} per minute; retry in {} s",
    scope.describe(), quota.burst, quota.per_minute, self.retry_after_secs()
)]
pub struct RateLimitExceeded {
    pub scope: LimitScope,
    pub quota: RateQuota,
    pub retry_after: Duration,
}

impl RateLimitExceeded {
    /// Returns the wait in whole seconds, rounded up and at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        let seconds = self.retry_after.as_secs();
        let rounded = if self.retry_after.subsec_nanos() > 0 {
            seconds + 1
        } else {
            seconds
        };
        rounded.max(1)
    }

    /// Builds `Retry-After` and the `RateLimit-*` fields of the IETF
    /// httpapi rate-limit headers draft (version 07).
    pub fn headers(&self) -> [(HeaderName, HeaderValue); 5] {
        let wait = self.retry_after_secs();
        let window = self.quota.window().as_secs().max(1);
        let policy = format!("{};w={window}", self.quota.burst);
        [
            (header::RETRY_AFTER, HeaderValue::from(wait)),
            (
                HeaderName::from_static("ratelimit-limit"),
                HeaderValue::from(self.quota.burst.get()),
            ),
            (
                HeaderName::from_static("ratelimit-remaining"),
                HeaderValue::from(0u32),
            ),
            (
                HeaderName::from_static("ratelimit-reset"),
                HeaderValue::from(wait),
            ),
            (
                HeaderName::from_static("ratelimit-policy"),
                HeaderValue::from_str(&policy).expect("digits, ';' and 'w=' are valid"),
            ),
        ]
    }
}

/// Every limit of the service, with a count of rejections per scope.
pub struct RateLimits {
    per_ip: Arc<dyn RateLimitStore<IpAddr>>,
    per_caller: Arc<dyn RateLimitStore<String>>,
    per_client: HashMap<String, Arc<dyn RateLimitStore<String>>>,
    webex: Arc<dyn RateLimitStore<()>>,
    rejected: [AtomicU64; 3],
}

impl RateLimits {
    /// Builds in-memory stores for `settings.rate_limit` and the API key
    /// clients of `settings.auth` that have their own quota.
    ///
    /// TODO: add a Redis-backed [`RateLimitStore`] so that replicas share
    /// their limits; until then each process limits on its own.
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        let client_quotas = settings
            .auth
            .api_keys
            .iter()
            .filter_map(|client| Some((client.name.clone(), client.quota?)));
        Self::in_memory(&settings.rate_limit, client_quotas)
    }

    /// Builds in-memory stores from `settings`, plus one store for each API
    /// key client with its own quota.
    pub fn in_memory(
        settings: &RateLimitSettings,
        client_quotas: impl IntoIterator<Item = (String, RateQuota)>,
    ) -> Self {
        let per_client = client_quotas
            .into_iter()
            .map(|(name, quota)| {
                let store: Arc<dyn RateLimitStore<String>> = Arc::new(GovernorStore::new(quota));
                (name, store)
            })
            .collect();
        Self {
            per_ip: Arc::new(GovernorStore::new(settings.per_ip)),
            per_caller: Arc::new(GovernorStore::new(settings.per_caller)),
            per_client,
            webex: Arc::new(GovernorStore::new(settings.webex)),
            rejected: Default::default(),
        }
    }

    /// Takes one request from the quota of client address `ip`.
    pub async fn check_ip(&self, ip: IpAddr) -> Result<(), RateLimitExceeded> {
        let outcome = self.per_ip.check(&ip).await;
        self.judge(LimitScope::ClientIp, self.per_ip.quota(), outcome)
    }

    /// Takes one request from the quota of a caller: the API key client's
    /// own quota when it has one, else the shared per-caller quota.
    pub async fn check_caller(&self, caller: &str) -> Result<(), RateLimitExceeded> {
        let store = self.per_client.get(caller).unwrap_or(&self.per_caller);
        let outcome = store.check(&caller.to_owned()).await;
        self.judge(LimitScope::Caller, store.quota(), outcome)
    }

    /// Takes one call from the service-wide budget of Webex calls.
    pub async fn check_webex(&self) -> Result<(), RateLimitExceeded> {
        let outcome = self.webex.check(&()).await;
        self.judge(LimitScope::Webex, self.webex.quota(), outcome)
    }

    /// Returns how many requests `scope` has rejected since start-up.
    pub fn rejected(&self, scope: LimitScope) -> u64 {
        self.rejected[scope as usize].load(Ordering::Relaxed)
    }

    /// Drops the state of keys whose quota is full again.
    pub fn cleanup(&self) {
        self.per_ip.cleanup();
        self.per_caller.cleanup();
        self.per_client.values().for_each(|store| store.cleanup());
        self.webex.cleanup();
    }

    /// Returns the number of keys with stored state, over all stores.
    pub fn tracked_keys(&self) -> usize {
        let clients: usize = self.per_client.values().map(|store| store.len()).sum();
        self.per_ip.len() + self.per_caller.len() + clients + self.webex.len()
    }

    fn judge(
        &self,
        scope: LimitScope,
        quota: RateQuota,
        outcome: Result<(), Denied>,
    ) -> Result<(), RateLimitExceeded> {
        outcome.map_err(|denied| {
            self.rejected[scope as usize].fetch_add(1, Ordering::Relaxed);
            crate::metrics::record_rate_limited(scope.label());
            RateLimitExceeded {
                scope,
                quota,
                retry_after: denied.retry_after,
            }
        })
    }
}

/// Runs [`RateLimits::cleanup`] every `interval` until `limits` is dropped.
pub fn spawn_cleanup(limits: &Arc<RateLimits>, interval: Duration) -> tokio::task::JoinHandle<()> {
    let limits: Weak<RateLimits> = Arc::downgrade(limits);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let Some(limits) = limits.upgrade() else {
                return;
            };
            let before = limits.tracked_keys();
            limits.cleanup();
            let after = limits.tracked_keys();
            tracing::debug!(before, after, "rate-limit state cleaned up");
        }
    })
}
