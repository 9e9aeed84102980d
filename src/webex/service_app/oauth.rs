//! The Service App's refresh-token grant (`POST /access_token`, form
//! encoded) with retries and exponential backoff on transient failures.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tracing::instrument;

use super::super::client::{read_error_body, read_json, retry_after_seconds, tracking_id};
use super::super::{UpstreamError, WebexClient, retry};
use crate::config::RefreshRetry;

const CALL: &str = "POST /access_token";

/// Hint for a rejected refresh token: only a new authorisation helps.
const INVALID_GRANT_HINT: &str = "The refresh token is no longer valid: an admin must authorise the Service App again, then set the new refresh token in service_app.refresh_token";

/// Hint for rejected client credentials.
const INVALID_CLIENT_HINT: &str =
    "Check service_app.client_id and service_app.client_secret against the Service App";

/// Tokens returned by a successful refresh.
#[derive(Deserialize)]
pub struct TokenGrant {
    pub access_token: String,
    pub expires_in: u64,
    /// The refresh token to use next time; absent when it did not change.
    pub refresh_token: Option<String>,
    pub refresh_token_expires_in: Option<u64>,
}

/// OAuth or Webex error body of the token endpoint; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenErrorBody {
    error: Option<String>,
    #[serde(rename = "error_description")]
    error_description: Option<String>,
    message: Option<String>,
    tracking_id: Option<String>,
}

/// The Service App's client credentials and the client that refreshes its
/// token.
pub struct OAuthClient {
    client: WebexClient,
    client_id: String,
    client_secret: SecretString,
    retry: RefreshRetry,
}

impl OAuthClient {
    pub fn new(
        client: WebexClient,
        client_id: String,
        client_secret: SecretString,
        retry: RefreshRetry,
    ) -> Self {
        Self {
            client,
            client_id,
            client_secret,
            retry,
        }
    }

    /// Returns the Service App's client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Refreshes with `refresh_token`, retrying transient failures with
    /// exponential backoff (honouring `Retry-After` up to the largest
    /// configured delay) and logging each retry.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenGrant, UpstreamError> {
        let retries = self.retry.attempts.saturating_sub(1) as usize;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.initial_backoff)
            .with_max_delay(self.retry.max_backoff)
            .with_factor(2.0)
            .with_max_times(retries);
        let max_backoff = self.retry.max_backoff;
        (|| self.refresh_once(refresh_token))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(is_transient)
            .adjust(move |error, delay| {
                let server_delay = error.retry_after().map(Duration::from_secs);
                delay.map(|computed| server_delay.unwrap_or(computed).min(max_backoff))
            })
            .notify(|error, delay| {
                crate::metrics::record_retry(CALL, retry::retry_reason(error));
                tracing::warn!(
                    call = CALL,
                    error = %error,
                    retry_in_ms = delay.as_millis() as u64,
                    "Service App token refresh failed; retrying"
                );
            })
            .await
    }

    /// Sends one refresh request. The client's own retries are bypassed
    /// because [`OAuthClient::refresh`] applies the refresh policy.
    #[instrument(name = "webex.access_token", skip_all)]
    async fn refresh_once(
        &self,
        refresh_token: &SecretString,
    ) -> Result<TokenGrant, UpstreamError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        let started = std::time::Instant::now();
        let sent = self
            .client
            .http
            .post(format!("{}/access_token", self.client.base_url()))
            .form(&form)
            .send()
            .await;
        self.client.record_attempt(CALL, &sent, started.elapsed());
        let response = sent.map_err(|e| self.client.transport_error(CALL, e).error)?;
        if !response.status().is_success() {
            return Err(token_error(response).await);
        }
        read_json(CALL, response).await
    }
}

/// Returns true for failures worth another attempt: no response, an
/// unreadable response, `429` and `5xx`.
pub fn is_transient(error: &UpstreamError) -> bool {
    match error {
        UpstreamError::Rejected { status, .. } => *status == 429 || *status >= 500,
        UpstreamError::AccessTokenRejected { .. } => false,
        UpstreamError::Timeout { .. }
        | UpstreamError::Unreachable { .. }
        | UpstreamError::InvalidResponse { .. } => true,
    }
}

/// Reads an OAuth-style (`error`, `error_description`) or Webex-style
/// (`message`, `trackingId`) error response.
async fn token_error(response: reqwest::Response) -> UpstreamError {
    let status = response.status().as_u16();
    let header_tracking_id = tracking_id(response.headers());
    let retry_after = retry_after_seconds(response.headers());
    let body: TokenErrorBody = read_error_body(response).await;
    let description = body.error_description.or(body.message);
    let message = match (&body.error, description) {
        (Some(code), Some(text)) => Some(format!("{code}: {text}")),
        (Some(code), None) => Some(code.clone()),
        (None, text) => text,
    };
    let hint = match (status, body.error.as_deref()) {
        (401, _) | (_, Some("invalid_client")) => Some(INVALID_CLIENT_HINT),
        (400, _) => Some(INVALID_GRANT_HINT),
        _ => None,
    };
    let tracking_id = body.tracking_id.or(header_tracking_id);
    tracing::warn!(
        call = CALL,
        status,
        tracking_id,
        message,
        "Webex rejected the Service App token refresh"
    );
    UpstreamError::Rejected {
        call: CALL,
        status,
        message,
        tracking_id,
        hint,
        retry_after,
    }
}
