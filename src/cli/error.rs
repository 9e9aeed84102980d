//! Failures of command-line operations and their exit codes.

use serde_json::{Value, json};

use super::{EXIT_FAILED, EXIT_USAGE};
use crate::error::ApiError;
use crate::webex::UpstreamError;

/// A command that did not succeed; the message names the problem and the
/// fix, and never contains a secret or a whole token.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Invalid usage or input (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// The operation failed locally, such as an invalid signature (exit
    /// code 1).
    #[error("{0}")]
    Failed(String),
    /// A Webex call failed (exit code 1).
    #[error(transparent)]
    Upstream(UpstreamError),
}

impl CliError {
    /// Returns the process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => EXIT_USAGE,
            Self::Failed(_) | Self::Upstream(_) => EXIT_FAILED,
        }
    }

    /// Renders the failure for `--json`: the message, the exit code and,
    /// for Webex calls, the Webex status and tracking id.
    pub fn to_json(&self) -> Value {
        let kind = match self {
            Self::Usage(_) => "invalid-usage",
            Self::Failed(_) => "failed",
            Self::Upstream(error) => error.classify().1,
        };
        let mut body = json!({
            "kind": kind,
            "message": self.to_string(),
            "exitCode": self.exit_code(),
        });
        if let Self::Upstream(error) = self {
            if let Some(status) = error.upstream_status() {
                body["upstreamStatus"] = json!(status);
            }
            if let Some(tracking_id) = error.tracking_id() {
                body["trackingId"] = json!(tracking_id);
            }
        }
        json!({ "error": body })
    }

    /// Replaces the hint of a rejected Webex call, which the service words
    /// for its configuration keys, with one for the command line.
    pub fn with_upstream_hint(self, hint: &'static str) -> Self {
        match self {
            Self::Upstream(UpstreamError::Rejected {
                call,
                status,
                message,
                tracking_id,
                hint: Some(_),
                retry_after,
            }) => Self::Upstream(UpstreamError::Rejected {
                call,
                status,
                message,
                tracking_id,
                hint: Some(hint),
                retry_after,
            }),
            other => other,
        }
    }
}

impl From<UpstreamError> for CliError {
    fn from(error: UpstreamError) -> Self {
        Self::Upstream(error)
    }
}

impl From<ApiError> for CliError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Upstream(upstream) => Self::Upstream(upstream),
            ApiError::InvalidField(_) | ApiError::InvalidBody(_) | ApiError::MalformedBody(_) => {
                Self::Usage(error.to_string())
            }
            other => Self::Failed(other.to_string()),
        }
    }
}
