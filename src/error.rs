//! The HTTP error type: every failure a route returns, rendered as an
//! RFC 9457 `application/problem+json` body that carries the request id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::guest::FieldError;
use crate::rate_limit::RateLimitExceeded;
use crate::webex::UpstreamError;

tokio::task_local! {
    /// Id of the request being served, set by the request-id middleware.
    pub static REQUEST_ID: String;
}

/// Media type of error bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// `WWW-Authenticate` challenge of a request without credentials (RFC 6750).
const BEARER_CHALLENGE: &str = "Bearer";

/// Seconds a client is asked to wait after load shedding.
const OVERLOADED_RETRY_AFTER_SECS: u64 = 1;

/// A failed request, aligned with its HTTP status.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    MalformedBody(String),
    #[error("{0}")]
    InvalidField(#[from] FieldError),
    #[error("{0}")]
    InvalidBody(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Unauthorized(String),
    /// A credential that was sent but is not valid. `description` goes into
    /// the `error_description` of `WWW-Authenticate`, so it must not contain
    /// `"` or `\\`.
    #[error("{detail}")]
    InvalidToken {
        detail: String,
        description: &'static str,
    },
    #[error("{0}")]
    Forbidden(String),
    /// A caller that is known but not allowed this request; `rule` names
    /// the policy rule it broke.
    #[error("{detail}")]
    PolicyViolation { rule: &'static str, detail: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    /// A route that has no meaning in the configured `webex.mode`.
    #[error("{0}")]
    RouteNotInMode(String),
    /// A request body form that has no meaning in the configured
    /// `webex.mode`, though the route serves other forms.
    #[error("{0}")]
    BodyNotInMode(String),
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
    #[error(transparent)]
    RateLimited(#[from] RateLimitExceeded),
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    HeadersTooLarge(String),
    #[error("{0}")]
    Overloaded(String),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

/// Body of an error response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ApiError {
    /// Returns the status, problem type slug and title of this error.
    fn classify(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError::*;
        match self {
            MalformedBody(_) => (
                StatusCode::BAD_REQUEST,
                "malformed-body",
                "Malformed request body",
            ),
            InvalidField(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-field",
                "Invalid field",
            ),
            InvalidBody(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-body",
                "Invalid request body",
            ),
            UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Request body too large",
            ),
            Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            InvalidToken { .. } => (
                StatusCode::UNAUTHORIZED,
                "invalid-credentials",
                "Invalid credentials",
            ),
            Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            PolicyViolation { .. } => (
                StatusCode::FORBIDDEN,
                "policy-violation",
                "Not allowed for this caller",
            ),
            NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            RouteNotInMode(_) => (
                StatusCode::NOT_FOUND,
                "not-available-in-mode",
                "Not available in this mode",
            ),
            BodyNotInMode(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "not-available-in-mode",
                "Not available in this mode",
            ),
            TooManyRequests { .. } | RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            ),
            RequestTimeout(_) => (
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "Request timed out",
            ),
            HeadersTooLarge(_) => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "headers-too-large",
                "Request headers too large",
            ),
            Overloaded(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "Service overloaded",
            ),
            Upstream(e) => e.classify(),
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    /// Builds the problem body for this error.
    pub fn problem(&self) -> Problem {
        let (status, slug, title) = self.classify();
        let (upstream_status, tracking_id) = match self {
            ApiError::Upstream(e) => (e.upstream_status(), e.tracking_id().map(str::to_owned)),
            _ => (None, None),
        };
        let field = match self {
            ApiError::InvalidField(e) => Some(e.field),
            _ => None,
        };
        let rule = match self {
            ApiError::PolicyViolation { rule, .. } => Some(*rule),
            _ => None,
        };
        Problem {
            kind: format!("urn:guestissuer:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail: self.to_string(),
            field,
            rule,
            upstream_status,
            tracking_id,
            request_id: REQUEST_ID.try_with(Clone::clone).ok(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::warn!(status = problem.status, error = %self, "request failed");
        }
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(BEARER_CHALLENGE),
            );
        }
        match &self {
            ApiError::InvalidToken { description, .. } => {
                let challenge = format!(
                    "{BEARER_CHALLENGE} error=\"invalid_token\", error_description=\"{description}\""
                );
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            ApiError::TooManyRequests { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            ApiError::RateLimited(exceeded) => {
                headers.extend(exceeded.headers());
            }
            ApiError::Overloaded(_) => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(OVERLOADED_RETRY_AFTER_SECS),
                );
            }
            ApiError::Upstream(e) => {
                if let Some(seconds) = e.retry_after() {
                    headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                }
            }
            _ => {}
        }
        response
    }
}
