//! `POST /guests` (mint a guest JWT), `POST /guests/login` (get a Webex
//! access token for a guest) and `GET /guests/count` (how many guests the
//! Service App has created).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::deadline::within_deadline;
use super::extract::JsonBody;
use crate::auth::{Caller, IdentityRequest};
use crate::error::ApiError;
use crate::startup::AppState;
use crate::webex::GuestAccess;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/guests", post(mint))
        .route("/guests/login", post(login))
        .route("/guests/count", get(count))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MintRequest {
    user_id: Option<String>,
    user_name: Option<String>,
    #[serde(default, deserialize_with = "super::extract::whole_number")]
    expires_in: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MintResponse<'a> {
    token: &'a str,
    user_id: &'a str,
    user_name: &'a str,
    expires_in: u64,
    expires_at: String,
}

async fn mint(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<MintRequest>,
) -> Result<Response, ApiError> {
    let request = IdentityRequest {
        user_id: body.user_id,
        user_name: body.user_name,
    };
    let (grant, expires_in) = state.auth.grant_mint(&caller, request, body.expires_in)?;

    let minted = state
        .backend
        .mint(&grant.user_id, &grant.user_name, expires_in)?;
    let answer = MintResponse {
        token: minted.token.expose_secret(),
        user_id: grant.user_id.as_str(),
        user_name: grant.user_name.as_str(),
        expires_in: expires_in.seconds(),
        expires_at: rfc3339(minted.exp),
    };
    Ok(no_store(StatusCode::CREATED, Json(answer)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LoginRequest {
    token: Option<String>,
    user_id: Option<String>,
    user_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoginResponse<'a> {
    access_token: &'a str,
    expires_in: u64,
    expires_at: String,
    user_id: &'a str,
}

async fn login(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Result<Response, ApiError> {
    let access = match body {
        LoginRequest {
            token: Some(_),
            user_id: Some(_),
            ..
        }
        | LoginRequest {
            token: Some(_),
            user_name: Some(_),
            ..
        } => {
            return Err(ApiError::InvalidBody(
                "send either token, or userId and userName, not both".to_owned(),
            ));
        }
        LoginRequest {
            token: Some(token), ..
        } => {
            state.auth.check_exchange(&caller, token.trim())?;
            let exchange = state.backend.exchange(token.trim());
            within_deadline(&state, "the guest login", exchange).await?
        }
        LoginRequest {
            user_id, user_name, ..
        } => {
            let request = IdentityRequest { user_id, user_name };
            let grant = state.auth.grant_login(&caller, request)?;
            let login = state.backend.login(&grant.user_id, &grant.user_name);
            within_deadline(&state, "the guest login", login).await?
        }
    };
    Ok(no_store(StatusCode::OK, Json(login_response(&access))))
}

#[derive(Serialize)]
struct CountResponse {
    count: u64,
}

/// Returns the number of guests to site back ends (`api_key`) and in mode
/// `none`. Browser sessions and anonymous visitors get 403, because the
/// count describes the whole Webex organization.
async fn count(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<CountResponse>, ApiError> {
    if matches!(caller, Caller::Session(_) | Caller::Anonymous) {
        return Err(ApiError::Forbidden(format!(
            "GET /guests/count is for site back ends; call it with an API key (auth.mode \"api_key\"), not as {}",
            caller.label()
        )));
    }
    let count = within_deadline(&state, "GET /guests/count", state.backend.guest_count()).await?;
    Ok(Json(CountResponse { count }))
}

fn login_response(access: &GuestAccess) -> LoginResponse<'_> {
    let expires_at = Utc::now().timestamp() + access.expires_in as i64;
    LoginResponse {
        access_token: access.access_token.expose_secret(),
        expires_in: access.expires_in,
        expires_at: rfc3339(expires_at),
        user_id: &access.user_id,
    }
}

/// Formats Unix seconds as RFC 3339 in UTC, such as `2026-01-01T00:00:00Z`.
pub fn rfc3339(unix_seconds: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix_seconds, 0)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Wraps a response that carries a credential so no cache stores it.
fn no_store(status: StatusCode, body: impl IntoResponse) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
