//! Webex Guest Management calls made with the Service App's access token:
//! `POST /guests/token` and `GET /guests/count`.

use serde::Deserialize;
use tracing::instrument;

use super::super::client::{read_json, rejected, tracking_id};
use super::super::{UpstreamError, WebexClient};

/// Hint added when Webex rejects a Guest Management call with 401, 403 or
/// 404.
const GUEST_MANAGEMENT_HINT: &str = "Check that an admin has authorised the Service App for the org and that it has the guest-issuer:write and guest-issuer:read scopes";

/// `POST /guests/token` success body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuestToken {
    /// The guest's Webex person id.
    pub id: Option<String>,
    pub access_token: String,
    pub expires_in: u64,
}

impl std::fmt::Debug for GuestToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestToken")
            .field("id", &self.id)
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl WebexClient {
    /// Gets an access token for the guest `subject`, creating or renaming
    /// the guest (`POST /guests/token`).
    #[instrument(name = "webex.guests_token", skip_all)]
    pub async fn guests_token(
        &self,
        app_token: &str,
        subject: &str,
        display_name: &str,
    ) -> Result<GuestToken, UpstreamError> {
        let call = "POST /guests/token";
        let url = format!("{}/guests/token", self.base_url());
        let body = serde_json::json!({ "subject": subject, "displayName": display_name });
        let build = || self.http.post(&url).bearer_auth(app_token).json(&body);
        let response = self.send(call, build).await?;
        if !response.status().is_success() {
            return Err(rejected(call, response, Some(GUEST_MANAGEMENT_HINT)).await);
        }
        read_json(call, response).await
    }

    /// Returns how many guests the Service App has created
    /// (`GET /guests/count`, a bare integer as `text/plain`).
    #[instrument(name = "webex.guests_count", skip_all)]
    pub async fn guests_count(&self, app_token: &str) -> Result<u64, UpstreamError> {
        let call = "GET /guests/count";
        let url = format!("{}/guests/count", self.base_url());
        let build = || self.http.get(&url).bearer_auth(app_token);
        let response = self.send(call, build).await?;
        if !response.status().is_success() {
            return Err(rejected(call, response, Some(GUEST_MANAGEMENT_HINT)).await);
        }
        let tracking_id = tracking_id(response.headers());
        let text = response
            .text()
            .await
            .map_err(|e| UpstreamError::Unreachable {
                call,
                cause: format!("reading the response failed: {e}"),
            })?;
        text.trim()
            .parse()
            .map_err(|_| UpstreamError::InvalidResponse {
                call,
                detail: format!("expected a bare integer, got {:?}", truncate(&text)),
                tracking_id,
            })
    }
}

/// Shortens an unexpected body for an error message.
fn truncate(text: &str) -> String {
    text.chars().take(64).collect()
}
