//! Emulated Service App calls: the OAuth refresh-token grant
//! (`POST /access_token`) and Guest Management (`POST /guests/token`,
//! `GET /guests/count`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{Value, json};

use super::EmulatorState;
use super::routes::{credential, webex_error};
use super::service_apps::OAuthError;
use crate::config::EmulatorServiceApp;

type SharedState = Arc<EmulatorState>;

const UNAUTHORIZED: &str =
    "The request requires a valid access token set in the Authorization request header.";

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/access_token", post(access_token))
        .route("/guests/token", post(guest_token))
        .route("/guests/count", get(guest_count))
}

/// Builds an OAuth-style error body (`error`, `error_description`) with a
/// tracking id, as token endpoints return it.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let tracking_id = format!("EMULATOR_{}", uuid::Uuid::new_v4());
    let body = json!({
        "error": error,
        "error_description": description,
        "trackingId": tracking_id,
    });
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&tracking_id) {
        headers.insert("trackingid", value);
    }
    response
}

async fn access_token(
    State(state): State<SharedState>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let Ok(Form(fields)) = form else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send the parameters form-encoded (application/x-www-form-urlencoded)",
        );
    };
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    if field("grant_type") != "refresh_token" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be refresh_token",
        );
    }
    for name in ["client_id", "client_secret", "refresh_token"] {
        if field(name).is_empty() {
            let description = format!("{name} is required");
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &description);
        }
    }
    let result = state.service_apps.refresh(
        field("client_id"),
        field("client_secret"),
        field("refresh_token"),
    );
    match result {
        Ok(issued) => {
            let body = json!({
                "access_token": issued.access_token,
                "expires_in": issued.expires_in,
                "refresh_token": issued.refresh_token,
                "refresh_token_expires_in": issued.refresh_token_expires_in,
                "token_type": "Bearer",
            });
            ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
        }
        Err(OAuthError::InvalidClient) => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client id or client secret is invalid.",
        ),
        Err(OAuthError::InvalidGrant) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The refresh token is invalid, expired, revoked or already used.",
        ),
    }
}

/// Returns the Service App whose current access token authorises the
/// request.
fn authorised_app<'a>(
    state: &'a EmulatorState,
    headers: &HeaderMap,
) -> Option<&'a EmulatorServiceApp> {
    credential(headers).and_then(|token| state.service_apps.app_for_access_token(token))
}

/// Reads a required, non-empty string field of the request body, or
/// returns the Webex error message for it.
fn required_text<'a>(body: &'a Value, name: &str) -> Result<&'a str, String> {
    match body.get(name).and_then(Value::as_str) {
        Some(text) if !text.trim().is_empty() => Ok(text),
        _ => Err(format!(
            "{name} is required and must be a non-empty string."
        )),
    }
}

async fn guest_token(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let Some(app) = authorised_app(&state, &headers) else {
        return webex_error(StatusCode::UNAUTHORIZED, UNAUTHORIZED);
    };
    let Ok(Json(body)) = body else {
        return webex_error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
        );
    };
    let (subject, display_name) = match (
        required_text(&body, "subject"),
        required_text(&body, "displayName"),
    ) {
        (Ok(subject), Ok(display_name)) => (subject, display_name),
        (Err(message), _) | (_, Err(message)) => {
            return webex_error(StatusCode::BAD_REQUEST, &message);
        }
    };

    let (guest, token) = state.login_app_guest(
        &app.client_id,
        &app.org_id,
        subject,
        display_name,
        app.guest_token_lifetime,
    );
    let body = json!({
        "id": guest.person_id,
        "subject": subject,
        "displayName": guest.display_name,
        "email": guest.email,
        "accessToken": token,
        "expiresIn": app.guest_token_lifetime.as_secs(),
    });
    Json(body).into_response()
}

async fn guest_count(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let Some(app) = authorised_app(&state, &headers) else {
        return webex_error(StatusCode::UNAUTHORIZED, UNAUTHORIZED);
    };
    let count = state.app_guest_count(&app.client_id);
    (
        [(header::CONTENT_TYPE, "text/plain;charset=UTF-8")],
        count.to_string(),
    )
        .into_response()
}
