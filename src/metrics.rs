//! Prometheus metrics: the metric names, their labels and one recording
//! function per event, so each call site is one line.
//!
//! The `metrics` facade keeps one recorder per process. Every
//! [`Application`](crate::startup::Application) in a process, which in tests
//! means several, therefore reports into the same registry.

use std::sync::OnceLock;
use std::time::Duration;

use axum::http::Method;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Inbound HTTP requests, by `method`, `route` and `status`.
pub const HTTP_REQUESTS: &str = "guestissuer_http_requests_total";
/// Inbound request latency in seconds, by `method`, `route` and `status`.
pub const HTTP_REQUEST_DURATION: &str = "guestissuer_http_request_duration_seconds";
/// Webex HTTP attempts, by `call`, `status` and `outcome`.
pub const UPSTREAM_REQUESTS: &str = "guestissuer_upstream_requests_total";
/// Webex attempt latency in seconds, by `call` and `outcome`.
pub const UPSTREAM_REQUEST_DURATION: &str = "guestissuer_upstream_request_duration_seconds";
/// Webex attempts repeated after a failure, by `call` and `reason`.
pub const UPSTREAM_RETRIES: &str = "guestissuer_upstream_retries_total";
/// Cache lookups that found an entry, by `cache`.
pub const CACHE_HITS: &str = "guestissuer_cache_hits_total";
/// Cache lookups that found no entry, by `cache`.
pub const CACHE_MISSES: &str = "guestissuer_cache_misses_total";
/// Requests rejected with `429` by a rate limit, by `limiter`.
pub const RATE_LIMITED: &str = "guestissuer_rate_limited_total";
/// Refreshes of the Service App access token, by `outcome`.
pub const TOKEN_REFRESHES: &str = "guestissuer_service_app_token_refreshes_total";
/// Always 1; the `version` label carries the crate version.
pub const BUILD_INFO: &str = "guestissuer_build_info";

/// Media type of the Prometheus text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Histogram buckets in seconds for inbound requests.
const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Histogram buckets in seconds for Webex calls, which may take up to
/// `webex.timeout_ms`.
const UPSTREAM_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Result of one Webex HTTP attempt, the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamOutcome {
    /// Webex responded with a 2xx status.
    Success,
    /// Webex responded with another status.
    ErrorStatus,
    /// No response within the timeout.
    Timeout,
    /// The connection failed or broke.
    TransportError,
}

impl UpstreamOutcome {
    /// Returns the label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::ErrorStatus => "error_status",
            Self::Timeout => "timeout",
            Self::TransportError => "transport_error",
        }
    }
}

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide Prometheus recorder on first use and returns
/// the handle that renders it.
pub fn install() -> PrometheusHandle {
    HANDLE.get_or_init(build_and_install).clone()
}

fn build_and_install() -> PrometheusHandle {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(HTTP_REQUEST_DURATION.to_owned()),
            HTTP_BUCKETS,
        )
        .and_then(|builder| {
            builder.set_buckets_for_metric(
                Matcher::Full(UPSTREAM_REQUEST_DURATION.to_owned()),
                UPSTREAM_BUCKETS,
            )
        })
        .expect("bucket lists are constant and not empty")
        .build_recorder();
    let handle = recorder.handle();
    if let Err(error) = ::metrics::set_global_recorder(recorder) {
        tracing::warn!(%error, "another metrics recorder is installed; /metrics stays empty");
    }
    describe();
    ::metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    handle
}

/// Registers the HELP text of every metric.
fn describe() {
    use ::metrics::{Unit, describe_counter, describe_gauge, describe_histogram};

    describe_counter!(
        HTTP_REQUESTS,
        "Inbound HTTP requests by method, route and status."
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Inbound HTTP request latency by method, route and status."
    );
    describe_counter!(
        UPSTREAM_REQUESTS,
        "Webex HTTP attempts by call, status (none when no answer came) and outcome."
    );
    describe_histogram!(
        UPSTREAM_REQUEST_DURATION,
        Unit::Seconds,
        "Webex HTTP attempt latency by call and outcome."
    );
    describe_counter!(
        UPSTREAM_RETRIES,
        "Webex attempts repeated after a failure, by call and reason."
    );
    describe_counter!(CACHE_HITS, "Cache lookups that found an entry, by cache.");
    describe_counter!(CACHE_MISSES, "Cache lookups that found no entry, by cache.");
    describe_counter!(
        RATE_LIMITED,
        "Requests rejected with 429 by a rate limit, by limiter."
    );
    describe_counter!(
        TOKEN_REFRESHES,
        "Refreshes of the Service App access token, by outcome (success or failure)."
    );
    describe_gauge!(
        BUILD_INFO,
        "Always 1; the version label carries the service version."
    );
}

/// Records one inbound request. `route` is the matched route template
/// (such as `/guests`) or `unmatched`, so label values stay bounded.
pub fn record_request(method: &Method, route: &str, status: u16, elapsed: Duration) {
    let labels = [
        ("method", method_label(method)),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    ::metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    ::metrics::histogram!(HTTP_REQUEST_DURATION, &labels).record(elapsed.as_secs_f64());
}

/// Records one Webex HTTP attempt; `status` is `None` when no response came.
pub fn record_upstream(
    call: &'static str,
    status: Option<u16>,
    outcome: UpstreamOutcome,
    elapsed: Duration,
) {
    let status = status.map_or_else(|| "none".to_owned(), |s| s.to_string());
    let outcome = outcome.as_str();
    ::metrics::counter!(UPSTREAM_REQUESTS, "call" => call, "status" => status, "outcome" => outcome)
        .increment(1);
    ::metrics::histogram!(UPSTREAM_REQUEST_DURATION, "call" => call, "outcome" => outcome)
        .record(elapsed.as_secs_f64());
}

/// Records that a Webex call is tried again; `reason` is a short label
/// such as `status_503` or `transport_error`.
pub fn record_retry(call: &'static str, reason: impl Into<String>) {
    ::metrics::counter!(UPSTREAM_RETRIES, "call" => call, "reason" => reason.into()).increment(1);
}

/// Records one lookup in the named cache.
pub fn record_cache_lookup(cache: &'static str, hit: bool) {
    let name = if hit { CACHE_HITS } else { CACHE_MISSES };
    ::metrics::counter!(name, "cache" => cache).increment(1);
}

/// Records a request rejected by the named rate limit.
pub fn record_rate_limited(limiter: &'static str) {
    ::metrics::counter!(RATE_LIMITED, "limiter" => limiter).increment(1);
}

/// Records one refresh of the Service App access token.
pub fn record_token_refresh(success: bool) {
    let outcome = if success { "success" } else { "failure" };
    ::metrics::counter!(TOKEN_REFRESHES, "outcome" => outcome).increment(1);
}

/// Keeps the method label to the standard methods, so a client cannot
/// create new series with made-up methods.
fn method_label(method: &Method) -> String {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::PATCH,
        Method::TRACE,
        Method::CONNECT,
    ];
    if KNOWN.contains(method) {
        method.as_str().to_owned()
    } else {
        "other".to_owned()
    }
}

/// Drains histogram samples into their buckets every `interval`; the
/// exporter otherwise does this only when `/metrics` is scraped.
pub fn spawn_upkeep(handle: PrometheusHandle, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            handle.run_upkeep();
        }
    })
}
