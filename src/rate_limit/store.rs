//! The rate-limit store interface and its in-memory implementation on
//! governor's keyed GCRA limiter.

use std::hash::Hash;
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;

use super::RateQuota;

/// A request over its quota, and when the next one will be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denied {
    pub retry_after: Duration,
}

/// Per-key rate-limit state. The in-memory [`GovernorStore`] serves one
/// process; a store shared between replicas (such as Redis) implements the
/// same trait.
#[async_trait]
pub trait RateLimitStore<K>: Send + Sync {
    /// Takes one request from `key`'s quota, or returns how long to wait.
    async fn check(&self, key: &K) -> Result<(), Denied>;

    /// Returns the quota every key gets.
    fn quota(&self) -> RateQuota;

    /// Drops the state of keys whose quota is full again and releases the
    /// memory; such keys behave exactly as new ones.
    fn cleanup(&self);

    /// Returns the number of keys with stored state.
    fn len(&self) -> usize;

    /// Returns whether no key has stored state.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

type KeyedLimiter<K, C> =
    governor::RateLimiter<K, DefaultKeyedStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// In-memory keyed store: governor's GCRA state in a concurrent hash map.
pub struct GovernorStore<K: Hash + Eq + Clone, C: Clock = DefaultClock> {
    limiter: KeyedLimiter<K, C>,
    clock: C,
    quota: RateQuota,
}

impl<K: Hash + Eq + Clone> GovernorStore<K> {
    /// Creates an empty store on the system clock.
    pub fn new(quota: RateQuota) -> Self {
        Self::with_clock(quota, DefaultClock::default())
    }
}

impl<K: Hash + Eq + Clone, C: Clock + Clone> GovernorStore<K, C> {
    /// Creates an empty store on `clock`, such as governor's
    /// `FakeRelativeClock` in tests.
    pub fn with_clock(quota: RateQuota, clock: C) -> Self {
        let limiter = governor::RateLimiter::new(
            quota.to_governor(),
            DefaultKeyedStateStore::default(),
            clock.clone(),
        );
        Self {
            limiter,
            clock,
            quota,
        }
    }
}

#[async_trait]
impl<K, C> RateLimitStore<K> for GovernorStore<K, C>
where
    K: Hash + Eq + Clone + Send + Sync,
    C: Clock + Send + Sync,
    C::Instant: Send + Sync,
{
    async fn check(&self, key: &K) -> Result<(), Denied> {
        self.limiter.check_key(key).map_err(|not_until| Denied {
            retry_after: not_until.wait_time_from(self.clock.now()),
        })
    }

    fn quota(&self) -> RateQuota {
        self.quota
    }

    fn cleanup(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use governor::clock::FakeRelativeClock;

    use super::*;

    fn quota(per_minute: u32, burst: u32) -> RateQuota {
        RateQuota {
            per_minute: NonZeroU32::new(per_minute).unwrap(),
            burst: NonZeroU32::new(burst).unwrap(),
        }
    }

    #[tokio::test]
    async fn store_denies_after_burst() {
        let clock = FakeRelativeClock::default();
        let store = GovernorStore::with_clock(quota(60, 2), clock.clone());

        assert!(store.check(&"a").await.is_ok());
        assert!(store.check(&"a").await.is_ok());
        let denied = store.check(&"a").await.unwrap_err();
        assert_eq!(denied.retry_after, Duration::from_secs(1));
        assert!(
            store.check(&"b").await.is_ok(),
            "other keys keep their quota"
        );

        clock.advance(Duration::from_secs(1));
        assert!(store.check(&"a").await.is_ok());
    }

    #[tokio::test]
    async fn cleanup_bounds_many_keys() {
        let clock = FakeRelativeClock::default();
        let store = GovernorStore::with_clock(quota(600, 5), clock.clone());
        for n in 0..100_000u32 {
            store.check(&n).await.unwrap();
        }
        assert_eq!(store.len(), 100_000);

        store.cleanup();
        assert_eq!(store.len(), 100_000, "keys inside their window stay");

        // One request is refilled after 100 ms (600 per minute). governor
        // 0.10 drops a key one further interval after that, at 200 ms.
        clock.advance(Duration::from_millis(200));
        store.cleanup();
        assert_eq!(store.len(), 0, "refilled keys are dropped");
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn cleanup_keeps_limited_keys() {
        let clock = FakeRelativeClock::default();
        let store = GovernorStore::with_clock(quota(60, 1), clock.clone());
        store.check(&"busy").await.unwrap();
        assert!(store.check(&"busy").await.is_err());

        store.cleanup();
        assert_eq!(store.len(), 1);
        assert!(
            store.check(&"busy").await.is_err(),
            "cleanup does not reset a limited key"
        );
    }
}
