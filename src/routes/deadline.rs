//! One deadline over all the Webex work of a request.

use std::future::Future;

use crate::error::ApiError;
use crate::startup::AppState;
use crate::webex::UpstreamError;

/// Runs the Webex work of one request within `webex.deadline_ms` in total,
/// so a Service App token refresh, retries and the call itself share one
/// budget. Past it the request gets `504`. `work_name` names the Webex
/// work in the error, such as `the guest login`.
pub async fn within_deadline<T>(
    state: &AppState,
    work_name: &'static str,
    work: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let deadline = state.settings.webex.deadline;
    match tokio::time::timeout(deadline, work).await {
        Ok(outcome) => outcome,
        Err(_) => {
            let error = UpstreamError::Timeout {
                call: work_name,
                timeout_ms: deadline.as_millis() as u64,
            };
            tracing::warn!(error = %error, "request deadline passed");
            Err(error.into())
        }
    }
}
