//! Settings of the retry policy and the access-token cache, from
//! `[webex.retry]` and `[webex.token_cache]`.

use std::time::Duration;

use serde::Deserialize;

use crate::config::ConfigError;

/// `[webex.retry]` as written in configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    max_attempts: u32,
    initial_delay_ms: u64,
    max_delay_ms: u64,
    max_retry_after_s: u64,
}

/// When and how long to wait before a failed Webex call is sent again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first one included (at least 1).
    pub max_attempts: u32,
    /// Backoff before the first retry, doubled for each further retry.
    pub initial_delay: Duration,
    /// Upper bound of a backoff delay before jitter is added.
    pub max_delay: Duration,
    /// Longest `Retry-After` the client waits for. A longer one ends the
    /// retries at once.
    pub max_retry_after: Duration,
}

impl RawRetry {
    /// Checks the bounds and converts to durations.
    pub fn validate(self) -> Result<RetryPolicy, ConfigError> {
        if self.max_attempts == 0 {
            return Err(ConfigError::invalid(
                "webex.retry.max_attempts",
                "must be at least 1 (1 turns retries off)",
            ));
        }
        if self.initial_delay_ms == 0 {
            return Err(ConfigError::invalid(
                "webex.retry.initial_delay_ms",
                "must be at least 1 millisecond",
            ));
        }
        if self.max_delay_ms < self.initial_delay_ms {
            return Err(ConfigError::invalid(
                "webex.retry.max_delay_ms",
                format!(
                    "({}) must be at least webex.retry.initial_delay_ms ({})",
                    self.max_delay_ms, self.initial_delay_ms
                ),
            ));
        }
        Ok(RetryPolicy {
            max_attempts: self.max_attempts,
            initial_delay: Duration::from_millis(self.initial_delay_ms),
            max_delay: Duration::from_millis(self.max_delay_ms),
            max_retry_after: Duration::from_secs(self.max_retry_after_s),
        })
    }
}

/// `[webex.token_cache]` as written in configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTokenCache {
    enabled: bool,
    max_entries: u64,
    expiry_margin_s: u64,
}

/// Bounds of the in-memory cache of guest access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCacheSettings {
    pub enabled: bool,
    /// Maximum number of tokens held. When full, the cache evicts the
    /// entries it expects to be used least.
    pub max_entries: u64,
    /// Time before a token's expiry at which the cache stops handing it out.
    pub expiry_margin: Duration,
}

impl RawTokenCache {
    /// Checks the bounds and converts to durations.
    pub fn validate(self) -> Result<TokenCacheSettings, ConfigError> {
        if self.max_entries == 0 {
            return Err(ConfigError::invalid(
                "webex.token_cache.max_entries",
                "must be at least 1; set webex.token_cache.enabled = false to turn the cache off",
            ));
        }
        Ok(TokenCacheSettings {
            enabled: self.enabled,
            max_entries: self.max_entries,
            expiry_margin: Duration::from_secs(self.expiry_margin_s),
        })
    }
}
