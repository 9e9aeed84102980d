//! The HTTP API: one module per resource, merged here with the fallbacks
//! for unknown routes and methods.

mod deadline;
mod extract;
mod guests;
mod health;
pub mod metrics;
mod whoami;

use axum::Router;
use axum::http::{Method, Uri};

pub use guests::rfc3339;
pub use health::OPENAPI_YAML;

use crate::error::ApiError;
use crate::startup::AppState;

/// Builds the API router without middleware.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(guests::router())
        .merge(whoami::router())
        .merge(health::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// Builds the probe routes: `GET /healthz`, and `GET /metrics` when
/// `with_metrics` is set. They go outside load shedding, so an overloaded
/// process still passes its liveness probe and can be scraped.
pub fn probe_router(with_metrics: bool) -> Router<AppState> {
    let mut router = health::liveness_router();
    if with_metrics {
        router = router.merge(metrics::router());
    }
    router.method_not_allowed_fallback(method_not_allowed)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!(
        "no route for {method} {}; GET /openapi.yaml lists the routes",
        uri.path()
    ))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "{method} is not allowed on {}; GET /openapi.yaml lists the methods of each route",
        uri.path()
    ))
}
