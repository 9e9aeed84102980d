//! `GET /healthz` (the process is alive), `GET /readyz` (it can serve
//! guests now) and `GET /openapi.yaml`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::readiness;
use crate::startup::AppState;

/// The HTTP contract this service implements.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/readyz", get(readyz))
        .route("/openapi.yaml", get(openapi))
}

/// Builds the router with `GET /healthz` alone.
pub fn liveness_router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Runs the back end's checks and the Webex upstream check, and returns
/// `200 {"status":"ready"}` when no check failed, else
/// `503 {"status":"not_ready"}`, with every check and its detail.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let mut checks = state.backend.readiness().await;
    let upstream = readiness::check_upstream(&state.upstream, &state.settings.readiness).await;
    checks.insert("webexUpstream", upstream);
    let ready = readiness::is_ready(&checks);
    let (status, label) = if ready {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not_ready")
    };
    let body = json!({ "status": label, "checks": checks });
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI_YAML)
}
