//! Request limits: body and header sizes, a time limit per request and a
//! cap on requests in flight with load shedding. Every rejection is a
//! problem+json body, including those made by tower layers.

use std::time::Duration;

use axum::BoxError;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::config::ConfigError;
use crate::error::{ApiError, PROBLEM_JSON};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    max_body_bytes: usize,
    max_header_bytes: usize,
    request_timeout_ms: u64,
    max_concurrent_requests: usize,
}

/// `[limits]`: bounds on each request and on requests in flight.
#[derive(Debug, Clone, Copy)]
pub struct LimitSettings {
    pub max_body_bytes: usize,
    pub max_header_bytes: usize,
    pub request_timeout: Duration,
    pub max_concurrent_requests: usize,
}

impl RawLimits {
    pub(crate) fn validate(self) -> Result<LimitSettings, ConfigError> {
        let positive = [
            ("limits.max_body_bytes", self.max_body_bytes as u64),
            ("limits.max_header_bytes", self.max_header_bytes as u64),
            ("limits.request_timeout_ms", self.request_timeout_ms),
            (
                "limits.max_concurrent_requests",
                self.max_concurrent_requests as u64,
            ),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(ConfigError::invalid(*key, "must be at least 1"));
        }
        Ok(LimitSettings {
            max_body_bytes: self.max_body_bytes,
            max_header_bytes: self.max_header_bytes,
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            max_concurrent_requests: self.max_concurrent_requests,
        })
    }
}

/// Rejects a request whose header names and values exceed `max_bytes` in
/// total with `431`. Each field counts as `name: value` plus CRLF.
///
/// NOTE: hyper 1.13 rejects a request with more than 100 headers, or a
/// head over its 417,792-byte read buffer, with its own bodiless `431` response
/// before this middleware runs; `axum::serve` does not expose those limits.
pub async fn check_header_size(
    State(max_bytes): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let total: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if total > max_bytes {
        return ApiError::HeadersTooLarge(format!(
            "the request headers are {total} bytes, more than the limit of {max_bytes}; send fewer or shorter headers"
        ))
        .into_response();
    }
    next.run(request).await
}

/// Turns the errors of tower's timeout and load-shed layers into problems.
pub async fn layer_error(error: BoxError) -> ApiError {
    if error.is::<tower::timeout::error::Elapsed>() {
        return ApiError::RequestTimeout(
            "the request took longer than this service allows (limits.request_timeout_ms) and was cut off; retry"
                .to_owned(),
        );
    }
    if error.is::<tower::load_shed::error::Overloaded>() {
        return ApiError::Overloaded(
            "the service is serving as many requests as it allows (limits.max_concurrent_requests); retry after the time in Retry-After"
                .to_owned(),
        );
    }
    ApiError::Internal(format!("a request layer failed: {error}"))
}

/// Replaces the body of an error response that has no body type or a
/// plain-text one, such as tower-http's bare `413`, with a problem for the
/// same status. JSON bodies (problems, the `/readyz` report) pass unchanged.
pub async fn problem_for_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_bare = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|value| value.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !is_bare {
        return response;
    }
    let (mut parts, _body) = response.into_parts();
    let mut replacement = bare_status_problem(status).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    replacement.headers_mut().extend(parts.headers);
    *replacement.status_mut() = status;
    replacement
}

fn bare_status_problem(status: StatusCode) -> ApiError {
    let reason = status.canonical_reason().unwrap_or("error");
    let detail = format!("the request was rejected: {reason}");
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(
            "the request body exceeds the size limit of this service (limits.max_body_bytes)"
                .to_owned(),
        ),
        StatusCode::REQUEST_TIMEOUT => ApiError::RequestTimeout(detail),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ApiError::HeadersTooLarge(detail),
        StatusCode::SERVICE_UNAVAILABLE => ApiError::Overloaded(detail),
        status if status.is_server_error() => ApiError::Internal(detail),
        _ => ApiError::MalformedBody(detail),
    }
}
