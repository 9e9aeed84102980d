//! Request middleware: request ids, one log line and the request metrics
//! per request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::error::REQUEST_ID;

/// Header that carries the request id in both directions.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Maximum length of a request id taken from a caller; longer ones are
/// replaced.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Takes the caller's `x-request-id` when it is short printable ASCII, or
/// generates a UUID. Serves the request inside a span with the id, method
/// and route, then logs one line, records the metrics and echoes the id.
pub async fn request_context(mut request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= MAX_REQUEST_ID_LEN)
        .filter(|v| v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let header_value = HeaderValue::from_str(&request_id).expect("request id is visible ASCII");
    request
        .headers_mut()
        .insert(REQUEST_ID_HEADER, header_value.clone());

    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        route = %route,
        caller = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut response = REQUEST_ID
        .scope(request_id, next.run(request))
        .instrument(span.clone())
        .await;

    let elapsed = started.elapsed();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    crate::metrics::record_request(&method, &route, status, elapsed);
    span.in_scope(|| tracing::info!(status, latency_ms, "request completed"));
    response
        .headers_mut()
        .insert(REQUEST_ID_HEADER, header_value);
    response
}
