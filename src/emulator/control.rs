//! The emulator's control endpoint, which real Webex does not have: set and
//! clear faults, and read the call counters.
//!
//! - `GET /_emulator/faults`: the active faults, with the unused responses.
//! - `PUT /_emulator/faults`: replace them with a JSON object keyed by
//!   route, in the shape of `[emulator.faults]`.
//! - `DELETE /_emulator/faults`: remove them all.
//! - `GET /_emulator/calls`: calls received per route, such as
//!   `{"POST /jwt/login": 3}`.
//! - `DELETE /_emulator/calls`: set the counters back to zero.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::faults::{FaultInjector, Faults, RouteFault};
use super::routes::webex_error;

type SharedInjector = Arc<FaultInjector>;

pub fn router() -> Router<SharedInjector> {
    Router::new()
        .route(
            "/_emulator/faults",
            get(show_faults).put(replace_faults).delete(clear_faults),
        )
        .route("/_emulator/calls", get(show_calls).delete(reset_calls))
}

async fn show_faults(State(injector): State<SharedInjector>) -> Response {
    Json(injector.active()).into_response()
}

async fn replace_faults(State(injector): State<SharedInjector>, body: Bytes) -> Response {
    let routes: HashMap<String, RouteFault> = match serde_json::from_slice(&body) {
        Ok(routes) => routes,
        Err(error) => {
            let message = format!(
                "The body must be a JSON object of faults keyed by route, such as {{\"POST /jwt/login\": {{\"responses\": [503, 200]}}}}: {error}"
            );
            return webex_error(StatusCode::UNPROCESSABLE_ENTITY, &message);
        }
    };
    match Faults::from_routes(routes) {
        Ok(faults) => {
            injector.replace(faults);
            tracing::info!(faults = ?injector.active(), "emulator faults replaced");
            Json(injector.active()).into_response()
        }
        Err(error) => webex_error(StatusCode::UNPROCESSABLE_ENTITY, &error.to_string()),
    }
}

async fn clear_faults(State(injector): State<SharedInjector>) -> StatusCode {
    injector.clear();
    tracing::info!("emulator faults cleared");
    StatusCode::NO_CONTENT
}

async fn show_calls(State(injector): State<SharedInjector>) -> Response {
    Json(injector.calls()).into_response()
}

async fn reset_calls(State(injector): State<SharedInjector>) -> StatusCode {
    injector.reset_calls();
    StatusCode::NO_CONTENT
}
