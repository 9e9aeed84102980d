//! Readiness checks reported by `GET /readyz`: each part of the service
//! names its checks, and any failed check makes the service not ready.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::ReadinessSettings;
use crate::webex::{UpstreamContact, WebexClient};

/// Outcome of one readiness check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Works as expected.
    Ok,
    /// Works now, but needs attention; does not make the service not ready.
    Warn,
    /// Cannot serve requests that depend on it; the service is not ready.
    Failed,
}

/// One readiness check with a sentence for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub status: CheckStatus,
    pub detail: String,
}

impl Check {
    pub fn ok(detail: impl Into<String>) -> Self {
        Self {
            status: CheckStatus::Ok,
            detail: detail.into(),
        }
    }

    pub fn warn(detail: impl Into<String>) -> Self {
        Self {
            status: CheckStatus::Warn,
            detail: detail.into(),
        }
    }

    pub fn failed(detail: impl Into<String>) -> Self {
        Self {
            status: CheckStatus::Failed,
            detail: detail.into(),
        }
    }
}

/// Named readiness checks, in name order.
pub type Checks = BTreeMap<&'static str, Check>;

/// Returns true when no check failed.
pub fn is_ready(checks: &Checks) -> bool {
    checks
        .values()
        .all(|check| check.status != CheckStatus::Failed)
}

/// Checks that Webex was reached recently, or probes it now: ok when Webex
/// responded within `readiness.upstream_recent_ms` and no call failed
/// since, otherwise ok when it responds to a probe, else failed.
pub async fn check_upstream(client: &WebexClient, settings: &ReadinessSettings) -> Check {
    let last_response_age = match client.monitor().contact(settings.upstream_recent) {
        UpstreamContact::Recent { age } => {
            return Check::ok(format!("Webex responded {} ms ago", age.as_millis()));
        }
        UpstreamContact::Stale {
            last_response_age, ..
        } => last_response_age,
    };
    match client.probe(settings.upstream_probe_timeout).await {
        Ok(()) => Check::ok("Webex responded to a probe just now"),
        Err(cause) => {
            let last = last_response_age.map_or_else(
                || "no response since start".to_owned(),
                |age| format!("last response {} s ago", age.as_secs()),
            );
            tracing::warn!(cause, "readiness: Webex is unreachable");
            Check::failed(format!("Webex is unreachable ({cause}); {last}"))
        }
    }
}
