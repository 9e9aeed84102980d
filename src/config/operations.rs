//! `[metrics]` and `[readiness]`, and the shutdown grace period of
//! `[server]`: the settings an operator tunes for probes and scraping.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

/// Longest accepted `server.shutdown_grace_ms`: ten minutes.
const MAX_SHUTDOWN_GRACE_MS: u64 = 600_000;

/// `[metrics]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetrics {
    listen: String,
}

/// `[metrics]`: where `GET /metrics` is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// A separate address for `/metrics` only; `None` serves it on
    /// `server.listen`.
    pub listen: Option<SocketAddr>,
}

impl RawMetrics {
    pub(super) fn validate(self) -> Result<MetricsSettings, ConfigError> {
        let text = self.listen.trim();
        if text.is_empty() {
            return Ok(MetricsSettings { listen: None });
        }
        let addr = text.parse().map_err(|_| {
            ConfigError::invalid(
                "metrics.listen",
                format!(
                    "({text}) is not an address; use IP:PORT such as 0.0.0.0:9090, or \"\" to serve /metrics on server.listen"
                ),
            )
        })?;
        Ok(MetricsSettings { listen: Some(addr) })
    }
}

/// `[readiness]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReadiness {
    upstream_recent_ms: u64,
    upstream_probe_timeout_ms: u64,
}

/// `[readiness]`: how `GET /readyz` judges the Webex upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadinessSettings {
    /// A Webex response younger than this makes the upstream check pass
    /// without a probe.
    pub upstream_recent: Duration,
    /// Time allowed for the probe sent when no response is recent.
    pub upstream_probe_timeout: Duration,
}

impl RawReadiness {
    pub(super) fn validate(self) -> Result<ReadinessSettings, ConfigError> {
        if self.upstream_probe_timeout_ms == 0 {
            return Err(ConfigError::invalid(
                "readiness.upstream_probe_timeout_ms",
                "must be at least 1 millisecond",
            ));
        }
        Ok(ReadinessSettings {
            upstream_recent: Duration::from_millis(self.upstream_recent_ms),
            upstream_probe_timeout: Duration::from_millis(self.upstream_probe_timeout_ms),
        })
    }
}

/// Checks `server.shutdown_grace_ms` and returns it as a duration.
pub(super) fn shutdown_grace(ms: u64) -> Result<Duration, ConfigError> {
    if ms > MAX_SHUTDOWN_GRACE_MS {
        return Err(ConfigError::invalid(
            "server.shutdown_grace_ms",
            format!("({ms}) must not exceed {MAX_SHUTDOWN_GRACE_MS} (ten minutes)"),
        ));
    }
    Ok(Duration::from_millis(ms))
}
