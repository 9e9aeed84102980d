//! `GET /whoami`: the Webex person an access token belongs to.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use super::deadline::within_deadline;
use super::extract::BearerToken;
use crate::auth::RateLimitedClient;
use crate::error::ApiError;
use crate::startup::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/whoami", get(whoami))
}

/// Returns the person with `Cache-Control: no-store`, because it carries
/// the guest's name and email.
async fn whoami(
    State(state): State<AppState>,
    _client: RateLimitedClient,
    BearerToken(access_token): BearerToken,
) -> Result<impl IntoResponse, ApiError> {
    if state.auth.is_api_key(&access_token) {
        return Err(ApiError::Unauthorized(
            "the bearer token is an API key of this service, not a Webex access token; send the accessToken from POST /guests/login".to_owned(),
        ));
    }
    let person = within_deadline(
        &state,
        "GET /people/me",
        state.backend.person(&access_token),
    )
    .await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(person)))
}
