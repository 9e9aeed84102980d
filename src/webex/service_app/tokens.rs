//! The Service App's own tokens in memory, and how they start: from the
//! configuration or from a state file that descends from it.

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::oauth::TokenGrant;
use super::state_file::{StoredTokens, fingerprint};
use crate::config::ServiceAppSettings;
use crate::webex::UpstreamError;

/// An access token of the Service App.
#[derive(Clone)]
pub struct AccessToken {
    pub token: SecretString,
    /// When Webex issued it; unknown for a token taken from configuration.
    pub issued_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

impl AccessToken {
    /// Returns when to refresh: `margin` before expiry, or half-way
    /// through the token's lifetime when that comes first.
    pub fn refresh_at(&self, margin: std::time::Duration) -> DateTime<Utc> {
        let mut margin = TimeDelta::from_std(margin).unwrap_or(TimeDelta::MAX);
        if let Some(issued_at) = self.issued_at {
            margin = margin.min((self.expires_at - issued_at) / 2);
        }
        self.expires_at
            .checked_sub_signed(margin)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Returns true while the token has not expired.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }
}

/// A refresh that failed on every attempt.
#[derive(Clone)]
pub struct Failure {
    pub at: std::time::Instant,
    pub error: UpstreamError,
}

/// The token manager's record of the Service App's tokens and refreshes.
pub struct TokenState {
    pub access: Option<AccessToken>,
    pub refresh: SecretString,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// SHA-256 of the configured refresh token these tokens descend from.
    pub origin: String,
    /// Number of finished refresh attempts, successful or not.
    pub attempt: u64,
    pub last_failure: Option<Failure>,
    pub persist_error: Option<String>,
}

impl TokenState {
    /// Picks the starting tokens: the state file's when it belongs to the
    /// same client id and descends from the configured refresh token, else
    /// the configured ones.
    pub fn initial(settings: &ServiceAppSettings, stored: Option<StoredTokens>) -> Self {
        let origin = fingerprint(settings.refresh_token.expose_secret());
        match stored {
            Some(stored) if stored.client_id != settings.client_id => {
                tracing::warn!(
                    stored_client_id = %stored.client_id,
                    "service_app.state_file holds tokens of another client id; starting from service_app.refresh_token"
                );
            }
            Some(stored)
                if stored.origin_refresh_token_sha256 == origin
                    || fingerprint(&stored.refresh_token) == origin =>
            {
                tracing::info!(
                    updated_at = %stored.updated_at,
                    "using the Service App tokens saved in service_app.state_file"
                );
                return Self::from_stored(stored, origin);
            }
            Some(_) => {
                tracing::info!(
                    "service_app.refresh_token is not the token service_app.state_file descends from; starting from the configured refresh token"
                );
            }
            None => {}
        }
        Self::from_settings(settings, origin)
    }

    fn from_settings(settings: &ServiceAppSettings, origin: String) -> Self {
        let access = settings
            .access_token
            .as_ref()
            .map(|configured| AccessToken {
                token: configured.token.clone(),
                issued_at: None,
                expires_at: configured.expires_at,
            });
        Self::new(access, settings.refresh_token.clone(), None, origin)
    }

    fn from_stored(stored: StoredTokens, origin: String) -> Self {
        let access = match (stored.access_token, stored.access_token_expires_at) {
            (Some(token), Some(expires_at)) => Some(AccessToken {
                token: SecretString::from(token),
                issued_at: stored.access_token_issued_at,
                expires_at,
            }),
            _ => None,
        };
        let refresh = SecretString::from(stored.refresh_token);
        Self::new(access, refresh, stored.refresh_token_expires_at, origin)
    }

    fn new(
        access: Option<AccessToken>,
        refresh: SecretString,
        refresh_expires_at: Option<DateTime<Utc>>,
        origin: String,
    ) -> Self {
        Self {
            access,
            refresh,
            refresh_expires_at,
            origin,
            attempt: 0,
            last_failure: None,
            persist_error: None,
        }
    }

    /// Takes the tokens of a successful refresh requested at `requested_at`
    /// and returns true when Webex replaced the refresh token.
    pub fn apply_grant(&mut self, grant: TokenGrant, requested_at: DateTime<Utc>) -> bool {
        let seconds = |s: u64| TimeDelta::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
        self.access = Some(AccessToken {
            token: SecretString::from(grant.access_token),
            issued_at: Some(requested_at),
            expires_at: requested_at + seconds(grant.expires_in),
        });
        let rotated = grant
            .refresh_token
            .as_deref()
            .is_some_and(|new| new != self.refresh.expose_secret());
        if let Some(new) = grant.refresh_token {
            self.refresh = SecretString::from(new);
        }
        if let Some(lifetime) = grant.refresh_token_expires_in {
            self.refresh_expires_at = Some(requested_at + seconds(lifetime));
        }
        self.attempt += 1;
        self.last_failure = None;
        rotated
    }

    /// Records a refresh that failed on every attempt.
    pub fn record_failure(&mut self, error: UpstreamError) {
        self.attempt += 1;
        self.last_failure = Some(Failure {
            at: std::time::Instant::now(),
            error,
        });
    }

    /// Returns the current tokens in state-file form.
    pub fn to_stored(&self, client_id: &str) -> StoredTokens {
        StoredTokens {
            version: StoredTokens::current_version(),
            client_id: client_id.to_owned(),
            access_token: self
                .access
                .as_ref()
                .map(|a| a.token.expose_secret().to_owned()),
            access_token_issued_at: self.access.as_ref().and_then(|a| a.issued_at),
            access_token_expires_at: self.access.as_ref().map(|a| a.expires_at),
            refresh_token: self.refresh.expose_secret().to_owned(),
            refresh_token_expires_at: self.refresh_expires_at,
            origin_refresh_token_sha256: self.origin.clone(),
            updated_at: Utc::now(),
        }
    }
}
