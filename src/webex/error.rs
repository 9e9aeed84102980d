//! Failures of Webex calls, with the Webex tracking id where one came back.

use axum::http::StatusCode;

/// A Webex call that did not succeed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// Webex returned an error status.
    #[error("Webex rejected {call} with status {status}{}{}{}", message_suffix(.message), tracking_suffix(.tracking_id), hint_suffix(.hint))]
    Rejected {
        call: &'static str,
        status: u16,
        message: Option<String>,
        tracking_id: Option<String>,
        hint: Option<&'static str>,
        retry_after: Option<u64>,
    },
    /// Webex rejected the caller's access token.
    #[error("Webex rejected the access token ({call} returned 401){}; get a new access token", tracking_suffix(.tracking_id))]
    AccessTokenRejected {
        call: &'static str,
        tracking_id: Option<String>,
    },
    /// Webex did not respond within the configured timeout.
    #[error("Webex did not answer {call} within {timeout_ms} ms; try again later")]
    Timeout { call: &'static str, timeout_ms: u64 },
    /// Webex could not be reached.
    #[error("Webex could not be reached for {call} ({cause}); try again later")]
    Unreachable { call: &'static str, cause: String },
    /// Webex returned success with a body this service cannot read.
    #[error("Webex returned an unreadable response to {call}: {detail}{}", tracking_suffix(.tracking_id))]
    InvalidResponse {
        call: &'static str,
        detail: String,
        tracking_id: Option<String>,
    },
}

fn message_suffix(message: &Option<String>) -> String {
    message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default()
}

fn tracking_suffix(tracking_id: &Option<String>) -> String {
    tracking_id
        .as_deref()
        .map(|t| format!(" (trackingId {t})"))
        .unwrap_or_default()
}

fn hint_suffix(hint: &Option<&'static str>) -> String {
    hint.map(|h| format!(". {h}")).unwrap_or_default()
}

impl UpstreamError {
    /// Returns the status, problem type slug and title for the HTTP response.
    pub fn classify(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::Rejected { .. } => (
                StatusCode::BAD_GATEWAY,
                "upstream-rejected",
                "Webex rejected the call",
            ),
            Self::AccessTokenRejected { .. } => (
                StatusCode::UNAUTHORIZED,
                "access-token-rejected",
                "Unauthorized",
            ),
            Self::Timeout { .. } => (
                StatusCode::GATEWAY_TIMEOUT,
                "upstream-timeout",
                "Webex timed out",
            ),
            Self::Unreachable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream-unreachable",
                "Webex unreachable",
            ),
            Self::InvalidResponse { .. } => (
                StatusCode::BAD_GATEWAY,
                "upstream-invalid-response",
                "Webex returned an invalid response",
            ),
        }
    }

    /// Returns the status Webex responded with, if it responded.
    pub fn upstream_status(&self) -> Option<u16> {
        match self {
            Self::Rejected { status, .. } => Some(*status),
            Self::AccessTokenRejected { .. } => Some(401),
            _ => None,
        }
    }

    /// Returns the Webex tracking id of the failed call, if any.
    pub fn tracking_id(&self) -> Option<&str> {
        match self {
            Self::Rejected { tracking_id, .. }
            | Self::AccessTokenRejected { tracking_id, .. }
            | Self::InvalidResponse { tracking_id, .. } => tracking_id.as_deref(),
            _ => None,
        }
    }

    /// Returns the `Retry-After` seconds Webex sent with a `429` or `503`.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Rejected { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
