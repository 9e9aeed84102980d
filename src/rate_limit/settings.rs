//! `[rate_limit]` configuration.

use std::num::NonZeroU32;
use std::time::Duration;

use serde::Deserialize;

use crate::config::ConfigError;

/// Sustained rate and burst of one limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateQuota {
    pub per_minute: NonZeroU32,
    pub burst: NonZeroU32,
}

impl RateQuota {
    /// Checks a rate and burst read from the keys `{key}per_minute` and
    /// `{key}burst`.
    pub fn new(key: &str, per_minute: u32, burst: u32) -> Result<Self, ConfigError> {
        let per_minute = NonZeroU32::new(per_minute).ok_or_else(|| {
            ConfigError::invalid(format!("{key}per_minute"), "must be at least 1")
        })?;
        let burst = NonZeroU32::new(burst)
            .ok_or_else(|| ConfigError::invalid(format!("{key}burst"), "must be at least 1"))?;
        Ok(Self { per_minute, burst })
    }

    /// Builds the governor quota: `burst` requests at once, refilled at
    /// `per_minute`.
    pub fn to_governor(self) -> governor::Quota {
        governor::Quota::per_minute(self.per_minute).allow_burst(self.burst)
    }

    /// Returns the time a fully used burst takes to refill, the window of
    /// the `RateLimit-Policy` header.
    pub fn window(self) -> Duration {
        let per_request = Duration::from_secs(60) / self.per_minute.get();
        per_request * self.burst.get()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    per_ip_per_minute: u32,
    per_ip_burst: u32,
    per_caller_per_minute: u32,
    per_caller_burst: u32,
    webex_per_minute: u32,
    webex_burst: u32,
    cleanup_interval_secs: u64,
}

/// `[rate_limit]`: quotas per client IP, per caller and for Webex calls.
#[derive(Debug, Clone)]
pub struct RateLimitSettings {
    pub per_ip: RateQuota,
    pub per_caller: RateQuota,
    pub webex: RateQuota,
    pub cleanup_interval: Duration,
}

impl RawRateLimit {
    pub(crate) fn validate(self) -> Result<RateLimitSettings, ConfigError> {
        if self.cleanup_interval_secs == 0 {
            return Err(ConfigError::invalid(
                "rate_limit.cleanup_interval_secs",
                "must be at least 1 second",
            ));
        }
        Ok(RateLimitSettings {
            per_ip: RateQuota::new(
                "rate_limit.per_ip_",
                self.per_ip_per_minute,
                self.per_ip_burst,
            )?,
            per_caller: RateQuota::new(
                "rate_limit.per_caller_",
                self.per_caller_per_minute,
                self.per_caller_burst,
            )?,
            webex: RateQuota::new("rate_limit.webex_", self.webex_per_minute, self.webex_burst)?,
            cleanup_interval: Duration::from_secs(self.cleanup_interval_secs),
        })
    }
}
