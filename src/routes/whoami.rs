//! `GET /whoami`: the Webex person an access token belongs to.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::extract::BearerToken;
use crate::auth::RateLimitedClient;
use crate::error::ApiError;
use crate::startup::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/whoami", get(whoami))
}

async fn whoami(
    State(state): State<AppState>,
    _client: RateLimitedClient,
    BearerToken(access_token): BearerToken,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(state.backend.person(&access_token).await?))
}
