//! The shared HTTP client for Webex calls: timeouts, retries, error bodies
//! and tracking ids.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tracing::instrument;

use super::retry::{self, AttemptError, RETRYABLE_STATUSES};
use super::{RetryPolicy, UpstreamError, UpstreamMonitor};
use crate::config::WebexSettings;
use crate::metrics::UpstreamOutcome;

/// Hint added when `/jwt/login` rejects a guest JWT that this service
/// signed itself: the configured issuer and the Webex app disagree.
const JWT_LOGIN_HINT: &str = "Check that issuer.id and issuer.secret match the Guest Issuer app in the Webex developer portal";

/// `POST /jwt/login` success body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebexAccessToken {
    pub token: String,
    pub expires_in: u64,
}

/// Webex error body; every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebexErrorBody {
    message: Option<String>,
    #[serde(default)]
    errors: Vec<WebexErrorItem>,
    tracking_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct WebexErrorItem {
    description: Option<String>,
}

/// One pooled reqwest client bound to a Webex base URL.
#[derive(Debug, Clone)]
pub struct WebexClient {
    pub(super) http: reqwest::Client,
    base_url: String,
    timeout: Duration,
    deadline: Duration,
    retry: RetryPolicy,
    monitor: Arc<UpstreamMonitor>,
}

impl WebexClient {
    /// Builds the client for `base_url` (no trailing slash) with the
    /// configured timeouts and retry policy.
    pub fn new(base_url: &str, settings: &WebexSettings) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .user_agent(concat!("guestissuer/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            timeout: settings.timeout,
            deadline: settings.deadline,
            retry: settings.retry.clone(),
            monitor: Arc::default(),
        })
    }

    /// Returns the record of this client's latest contact with Webex.
    pub fn monitor(&self) -> &UpstreamMonitor {
        &self.monitor
    }

    /// Sends `GET` to the base URL and returns whether Webex responded with
    /// any status within `timeout`. The outcome is recorded in the monitor.
    pub async fn probe(&self, timeout: Duration) -> Result<(), String> {
        match self.http.get(&self.base_url).timeout(timeout).send().await {
            Ok(_) => {
                self.monitor.record_response();
                Ok(())
            }
            Err(error) => {
                let cause = if error.is_timeout() {
                    format!("no response within {} ms", timeout.as_millis())
                } else {
                    transport_cause(&error)
                };
                self.monitor.record_failure(cause.clone());
                Err(cause)
            }
        }
    }

    /// Returns the base URL calls go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Exchanges a guest JWT for an access token (`POST /jwt/login`).
    #[instrument(name = "webex.jwt_login", skip_all)]
    pub async fn jwt_login(&self, guest_jwt: &str) -> Result<WebexAccessToken, UpstreamError> {
        let call = "POST /jwt/login";
        let url = format!("{}/jwt/login", self.base_url);
        let request = || {
            self.http
                .post(&url)
                .header(AUTHORIZATION, format!("Bearer {guest_jwt}"))
        };
        let response = self.send(call, request).await?;
        if !response.status().is_success() {
            return Err(rejected(call, response, Some(JWT_LOGIN_HINT)).await);
        }
        read_json(call, response).await
    }

    /// Returns the person an access token belongs to (`GET /people/me`).
    #[instrument(name = "webex.people_me", skip_all)]
    pub async fn people_me(&self, access_token: &str) -> Result<serde_json::Value, UpstreamError> {
        let call = "GET /people/me";
        let url = format!("{}/people/me", self.base_url);
        let request = || self.http.get(&url).bearer_auth(access_token);
        let response = self.send(call, request).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            let tracking_id = tracking_id(response.headers());
            tracing::info!(call, tracking_id, "Webex rejected the access token");
            return Err(UpstreamError::AccessTokenRejected { call, tracking_id });
        }
        if !response.status().is_success() {
            return Err(rejected(call, response, None).await);
        }
        read_json(call, response).await
    }

    /// Sends the request that `build` makes, again after a connection
    /// failure or a retryable status, within the configured deadline.
    /// Returns the first final response, success or not.
    pub(super) async fn send(
        &self,
        call: &'static str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, UpstreamError> {
        retry::with_retries(call, &self.retry, self.deadline, || {
            self.attempt(call, &build)
        })
        .await
    }

    /// Sends one attempt. A retryable status becomes a retryable error.
    async fn attempt(
        &self,
        call: &'static str,
        build: &impl Fn() -> RequestBuilder,
    ) -> Result<Response, AttemptError> {
        let started = Instant::now();
        let sent = build().send().await;
        self.record_attempt(call, &sent, started.elapsed());
        let response = sent.map_err(|e| self.transport_error(call, e))?;
        if RETRYABLE_STATUSES.contains(&response.status().as_u16()) {
            return Err(AttemptError {
                error: read_rejection(call, response, None).await,
                retryable: true,
            });
        }
        Ok(response)
    }

    /// Records one HTTP attempt in the metrics and the monitor.
    pub(super) fn record_attempt(
        &self,
        call: &'static str,
        sent: &reqwest::Result<Response>,
        elapsed: Duration,
    ) {
        let (status, outcome) = match sent {
            Ok(response) if response.status().is_success() => {
                (Some(response.status().as_u16()), UpstreamOutcome::Success)
            }
            Ok(response) => (
                Some(response.status().as_u16()),
                UpstreamOutcome::ErrorStatus,
            ),
            Err(error) if error.is_timeout() && !error.is_connect() => {
                (None, UpstreamOutcome::Timeout)
            }
            Err(_) => (None, UpstreamOutcome::TransportError),
        };
        crate::metrics::record_upstream(call, status, outcome, elapsed);
        match sent {
            Ok(_) => self.monitor.record_response(),
            Err(error) => self
                .monitor
                .record_failure(format!("{call}: {}", transport_cause(error))),
        }
    }

    /// Maps a transport failure. Only a failed connection is retried,
    /// because after that Webex has not seen the request.
    pub(super) fn transport_error(
        &self,
        call: &'static str,
        error: reqwest::Error,
    ) -> AttemptError {
        let retryable = error.is_connect();
        let error = if error.is_timeout() && !error.is_connect() {
            UpstreamError::Timeout {
                call,
                timeout_ms: self.timeout.as_millis() as u64,
            }
        } else {
            UpstreamError::Unreachable {
                call,
                cause: transport_cause(&error),
            }
        };
        AttemptError { error, retryable }
    }
}

/// Describes a transport error without the URL, which reqwest includes in
/// its own message.
fn transport_cause(error: &reqwest::Error) -> String {
    let mut cause = if error.is_connect() {
        "connection failed".to_owned()
    } else if error.is_request() {
        "request failed".to_owned()
    } else {
        "transport error".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        cause = format!("{cause}: {inner}");
        source = inner.source();
    }
    cause
}

/// Reads the tracking id that Webex sends in the `TrackingID` header.
pub fn tracking_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("trackingid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Builds the error for a final non-success response and logs it.
pub(super) async fn rejected(
    call: &'static str,
    response: Response,
    hint: Option<&'static str>,
) -> UpstreamError {
    let error = read_rejection(call, response, hint).await;
    tracing::warn!(
        call,
        upstream_status = error.upstream_status(),
        tracking_id = error.tracking_id(),
        error = %error,
        "Webex rejected the call"
    );
    error
}

/// Builds the error for a non-success response from its body and headers.
/// Reads `Retry-After` as whole seconds; an HTTP date or garbage gives
/// `None`.
pub(super) fn retry_after_seconds(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Reads an error body as `T`, or `T::default()` when it is not that JSON.
pub(super) async fn read_error_body<T: DeserializeOwned + Default>(response: Response) -> T {
    response
        .bytes()
        .await
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

async fn read_rejection(
    call: &'static str,
    response: Response,
    hint: Option<&'static str>,
) -> UpstreamError {
    let status = response.status().as_u16();
    let header_tracking_id = tracking_id(response.headers());
    let retry_after = retry_after_seconds(response.headers());
    let body: WebexErrorBody = read_error_body(response).await;
    let message = body
        .message
        .or_else(|| body.errors.into_iter().find_map(|item| item.description));
    let tracking_id = body.tracking_id.or(header_tracking_id);
    let hint = hint.filter(|_| matches!(status, 401 | 403 | 404));
    UpstreamError::Rejected {
        call,
        status,
        message,
        tracking_id,
        hint,
        retry_after,
    }
}

pub(super) async fn read_json<T: DeserializeOwned>(
    call: &'static str,
    response: Response,
) -> Result<T, UpstreamError> {
    let tracking_id = tracking_id(response.headers());
    let bytes = response
        .bytes()
        .await
        .map_err(|e| UpstreamError::Unreachable {
            call,
            cause: format!("reading the response failed: {e}"),
        })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let error = UpstreamError::InvalidResponse {
            call,
            detail: e.to_string(),
            tracking_id,
        };
        tracing::warn!(call, error = %error, "Webex call failed");
        error
    })
}
