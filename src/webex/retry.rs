//! Retries of Webex calls: bounded attempts, exponential backoff with
//! jitter, `Retry-After` up to a cap, and one deadline over all attempts.

use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};

use super::{RetryPolicy, UpstreamError};

/// Statuses with which Webex signals that a later attempt may succeed.
/// Every other error status (400, 401, 403, 404 among them) is final.
pub const RETRYABLE_STATUSES: [u16; 5] = [423, 429, 502, 503, 504];

/// A failed attempt, and whether sending the call again may succeed.
#[derive(Debug)]
pub struct AttemptError {
    pub error: UpstreamError,
    pub retryable: bool,
}

/// Runs `attempt` until it succeeds, fails with a final error, uses up
/// `policy.max_attempts`, or `deadline` passes, which gives
/// [`UpstreamError::Timeout`].
pub async fn with_retries<T, F, Fut>(
    call: &'static str,
    policy: &RetryPolicy,
    deadline: Duration,
    attempt: F,
) -> Result<T, UpstreamError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AttemptError>>,
{
    let started = Instant::now();
    let backoff = ExponentialBuilder::default()
        .with_factor(2.0)
        .with_min_delay(policy.initial_delay)
        .with_max_delay(policy.max_delay)
        .with_jitter()
        .with_max_times(policy.max_attempts.saturating_sub(1) as usize);
    let mut failed_attempts = 0;
    let retrying = attempt
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(|failure: &AttemptError| failure.retryable)
        .adjust(|failure, delay| next_delay(failure, delay, policy, started, deadline))
        .notify(|failure, delay| {
            failed_attempts += 1;
            log_retry(call, failed_attempts, policy.max_attempts, failure, delay);
        });

    match tokio::time::timeout(deadline, retrying).await {
        Ok(result) => result.map_err(|failure| {
            tracing::warn!(call, error = %failure.error, "Webex call failed");
            failure.error
        }),
        Err(_) => {
            let error = UpstreamError::Timeout {
                call,
                timeout_ms: deadline.as_millis() as u64,
            };
            tracing::warn!(call, error = %error, "Webex call failed");
            Err(error)
        }
    }
}

/// Picks the wait before the next attempt: the backoff delay, or the
/// `Retry-After` Webex sent. Returns `None` to stop when the attempts are
/// used up, `Retry-After` exceeds the cap, or the wait would pass the
/// deadline.
fn next_delay(
    failure: &AttemptError,
    backoff_delay: Option<Duration>,
    policy: &RetryPolicy,
    started: Instant,
    deadline: Duration,
) -> Option<Duration> {
    let backoff_delay = backoff_delay?;
    let delay = match failure.error.retry_after() {
        Some(seconds) => {
            let requested = Duration::from_secs(seconds);
            if requested > policy.max_retry_after {
                tracing::info!(
                    retry_after_s = seconds,
                    max_retry_after_s = policy.max_retry_after.as_secs(),
                    "Webex asked to wait longer than webex.retry.max_retry_after_s; not retrying"
                );
                return None;
            }
            requested
        }
        None => backoff_delay,
    };
    (started.elapsed() + delay < deadline).then_some(delay)
}

fn log_retry(
    call: &'static str,
    attempt: u32,
    max_attempts: u32,
    failure: &AttemptError,
    delay: Duration,
) {
    crate::metrics::record_retry(call, retry_reason(&failure.error));
    tracing::warn!(
        call,
        attempt,
        max_attempts,
        upstream_status = failure.error.upstream_status(),
        tracking_id = failure.error.tracking_id(),
        delay_ms = delay.as_millis() as u64,
        error = %failure.error,
        "retrying Webex call"
    );
}

/// Returns the `reason` label of a retry: `status_<code>` for an error
/// status, otherwise the kind of transport failure.
pub(super) fn retry_reason(error: &UpstreamError) -> String {
    match (error.upstream_status(), error) {
        (Some(status), _) => format!("status_{status}"),
        (None, UpstreamError::Timeout { .. }) => "timeout".to_owned(),
        (None, _) => "transport_error".to_owned(),
    }
}
