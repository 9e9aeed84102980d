//! Emulated Service Apps: their OAuth access and refresh tokens, with
//! refresh-token rotation and hooks that let tests expire or revoke tokens.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::state::new_access_token;
use crate::config::EmulatorServiceApp;

/// A token and the Service App it was issued to.
#[derive(Clone)]
struct Grant {
    client_id: String,
    expires: Instant,
}

#[derive(Default)]
struct Tokens {
    access: HashMap<String, Grant>,
    refresh: HashMap<String, Grant>,
}

/// Registered Service Apps and the tokens issued to them.
pub struct ServiceApps {
    apps: HashMap<String, EmulatorServiceApp>,
    tokens: Mutex<Tokens>,
    refreshes: AtomicU64,
}

impl fmt::Debug for ServiceApps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceApps")
            .field("client_ids", &self.apps.keys().collect::<Vec<_>>())
            .field("refreshes", &self.refresh_count())
            .finish_non_exhaustive()
    }
}

/// Tokens returned by a successful refresh-token grant.
#[derive(Debug)]
pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub refresh_token_expires_in: u64,
}

/// An OAuth error as `POST /access_token` returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    InvalidClient,
    InvalidGrant,
}

impl ServiceApps {
    /// Registers `apps`, each with its configured refresh token.
    pub fn new(apps: Vec<EmulatorServiceApp>) -> Self {
        let mut tokens = Tokens::default();
        for app in &apps {
            let grant = Grant {
                client_id: app.client_id.clone(),
                expires: Instant::now() + app.refresh_token_lifetime,
            };
            let token = app.refresh_token.expose_secret().to_owned();
            tokens.refresh.insert(token, grant);
        }
        let apps = apps
            .into_iter()
            .map(|app| (app.client_id.clone(), app))
            .collect();
        Self {
            apps,
            tokens: Mutex::new(tokens),
            refreshes: AtomicU64::new(0),
        }
    }

    /// Checks the client credentials, then swaps `refresh_token` for a new
    /// access token and a new refresh token; the old refresh token stops
    /// working.
    pub fn refresh(
        &self,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
    ) -> Result<IssuedTokens, OAuthError> {
        let app = self.apps.get(client_id).ok_or(OAuthError::InvalidClient)?;
        let expected = app.client_secret.expose_secret().as_bytes();
        if !bool::from(expected.ct_eq(client_secret.as_bytes())) {
            return Err(OAuthError::InvalidClient);
        }

        let now = Instant::now();
        let mut tokens = self.tokens.lock().expect("service app tokens lock");
        match tokens.refresh.get(refresh_token) {
            Some(grant) if grant.client_id == client_id && grant.expires > now => {}
            _ => return Err(OAuthError::InvalidGrant),
        }
        tokens.refresh.remove(refresh_token);
        tokens.access.retain(|_, grant| grant.expires > now);

        let issued = IssuedTokens {
            access_token: new_access_token(),
            expires_in: app.access_token_lifetime.as_secs(),
            refresh_token: new_access_token(),
            refresh_token_expires_in: app.refresh_token_lifetime.as_secs(),
        };
        let grant = |lifetime: Duration| Grant {
            client_id: client_id.to_owned(),
            expires: now + lifetime,
        };
        let access_grant = grant(app.access_token_lifetime);
        let refresh_grant = grant(app.refresh_token_lifetime);
        tokens
            .access
            .insert(issued.access_token.clone(), access_grant);
        tokens
            .refresh
            .insert(issued.refresh_token.clone(), refresh_grant);
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Ok(issued)
    }

    /// Returns the Service App a current access token belongs to.
    pub fn app_for_access_token(&self, token: &str) -> Option<&EmulatorServiceApp> {
        let tokens = self.tokens.lock().expect("service app tokens lock");
        let grant = tokens.access.get(token)?;
        if grant.expires <= Instant::now() {
            return None;
        }
        self.apps.get(&grant.client_id)
    }

    /// Counts successful refresh-token grants since start.
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::SeqCst)
    }

    /// Ends every access token issued so far, as if each had expired;
    /// refresh tokens keep working.
    pub fn expire_access_tokens(&self) {
        let mut tokens = self.tokens.lock().expect("service app tokens lock");
        tokens.access.clear();
    }

    /// Revokes every refresh token of `client_id`; access tokens keep
    /// working until they expire.
    pub fn revoke_refresh_tokens(&self, client_id: &str) {
        let mut tokens = self.tokens.lock().expect("service app tokens lock");
        tokens
            .refresh
            .retain(|_, grant| grant.client_id != client_id);
    }

    /// Revokes every access and refresh token of `client_id`, as when an
    /// admin withdraws the app's authorisation.
    pub fn revoke(&self, client_id: &str) {
        let mut tokens = self.tokens.lock().expect("service app tokens lock");
        tokens
            .access
            .retain(|_, grant| grant.client_id != client_id);
        tokens
            .refresh
            .retain(|_, grant| grant.client_id != client_id);
    }
}
