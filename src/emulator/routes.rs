//! Emulated Webex routes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::json;

use super::EmulatorState;
use super::state::JWT_LOGIN_EXPIRES_IN;
use crate::guest_token;

type SharedState = Arc<EmulatorState>;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/jwt/login", post(jwt_login))
        .route("/people/me", get(people_me))
        .merge(super::guest_management::router())
        .fallback(|| async {
            webex_error(
                StatusCode::NOT_FOUND,
                "The requested resource could not be found.",
            )
        })
}

/// Builds a Webex-shaped error: body with `message`, `errors` and
/// `trackingId`, and the same id in the `TrackingID` header.
pub(super) fn webex_error(status: StatusCode, message: &str) -> Response {
    let tracking_id = format!("EMULATOR_{}", uuid::Uuid::new_v4());
    let body = json!({
        "message": message,
        "errors": [{ "description": message }],
        "trackingId": tracking_id,
    });
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&tracking_id) {
        response.headers_mut().insert("trackingid", value);
    }
    response
}

/// Reads the credential from `Authorization`, with or without `Bearer `.
pub(super) fn credential(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => value,
    };
    (!token.is_empty()).then_some(token)
}

async fn jwt_login(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let Some(jwt) = credential(&headers) else {
        return webex_error(
            StatusCode::UNAUTHORIZED,
            "The request requires a valid access token set in the Authorization request header.",
        );
    };
    match check_guest_jwt(&state, jwt) {
        Ok((issuer, sub, name)) => {
            let token = state.login_guest(&issuer, &sub, &name);
            let body = json!({ "token": token, "expiresIn": JWT_LOGIN_EXPIRES_IN });
            let mut response = Json(body).into_response();
            let tracking_id = format!("EMULATOR_{}", uuid::Uuid::new_v4());
            if let Ok(value) = HeaderValue::from_str(&tracking_id) {
                response.headers_mut().insert("trackingid", value);
            }
            response
        }
        Err((status, message)) => webex_error(status, message),
    }
}

/// Checks a guest JWT as Webex does: known issuer (else 404), HS256
/// signature and `exp` (else 401), `sub` and `name` present (else 400).
fn check_guest_jwt(
    state: &EmulatorState,
    jwt: &str,
) -> Result<(String, String, String), (StatusCode, &'static str)> {
    let malformed = (StatusCode::BAD_REQUEST, "Unable to parse the JWT.");
    let inspected = guest_token::inspect(jwt).map_err(|_| malformed)?;
    if inspected.header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err((
            StatusCode::UNAUTHORIZED,
            "JWT signature algorithm is not supported.",
        ));
    }
    let issuer = inspected
        .claims
        .get("iss")
        .and_then(|v| v.as_str())
        .ok_or((StatusCode::BAD_REQUEST, "The JWT has no issuer (iss)."))?;
    let secret = state
        .issuer_secret(issuer)
        .ok_or((StatusCode::NOT_FOUND, "Issuer not found."))?;

    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    let key = DecodingKey::from_secret(secret_bytes(secret));
    let data = jsonwebtoken::decode::<serde_json::Value>(jwt, &key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::ExpiredSignature => (StatusCode::UNAUTHORIZED, "The JWT has expired."),
            ErrorKind::InvalidSignature => (
                StatusCode::UNAUTHORIZED,
                "JWT signature verification failed.",
            ),
            _ => malformed,
        }
    })?;
    let text = |name: &str| {
        data.claims
            .get(name)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let sub = text("sub").ok_or((StatusCode::BAD_REQUEST, "The JWT has no subject (sub)."))?;
    let name = text("name").ok_or((
        StatusCode::BAD_REQUEST,
        "The JWT has no display name (name).",
    ))?;
    Ok((issuer.to_owned(), sub, name))
}

fn secret_bytes(secret: &guest_token::IssuerSecret) -> &[u8] {
    secret.expose_bytes()
}

async fn people_me(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let unauthorized =
        "The request requires a valid access token set in the Authorization request header.";
    let Some(token) = credential(&headers) else {
        return webex_error(StatusCode::UNAUTHORIZED, unauthorized);
    };
    match state.guest_for_token(token) {
        Some(guest) => Json(guest.to_person()).into_response(),
        None => webex_error(StatusCode::UNAUTHORIZED, unauthorized),
    }
}
