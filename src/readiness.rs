//! Readiness checks reported by `GET /readyz`: each part of the service
//! names its checks, and any failed check makes the service not ready.

use std::collections::BTreeMap;

use serde::Serialize;

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
