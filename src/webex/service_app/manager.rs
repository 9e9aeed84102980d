//! Keeps the Service App's access token fresh.
//!
//! A background task refreshes the token a margin before it expires.
//! Requests that find the token stale but unexpired keep using it and wake
//! that task; requests that find it expired wait for a refresh. All
//! refreshes run under one async mutex and carry an attempt number, so
//! callers that queued behind a refresh take its outcome instead of
//! starting another one: concurrent stale requests cause one refresh.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::oauth::OAuthClient;
use super::state_file::{StateFile, StateFileError, fingerprint};
use super::tokens::TokenState;
use crate::config::ServiceAppSettings;
use crate::error::ApiError;
use crate::readiness::{Check, Checks};
use crate::webex::{UpstreamError, WebexClient};

/// The Service App's access token for one Webex call, tagged with the
/// refresh attempt it came from.
#[derive(Clone)]
pub struct AppToken {
    pub token: SecretString,
    attempt: u64,
}

/// Owner of the Service App's tokens: refreshes, persists and reports them.
pub struct TokenManager {
    oauth: OAuthClient,
    state_file: Option<StateFile>,
    margin: Duration,
    retry_after: Duration,
    state: RwLock<TokenState>,
    refresh_lock: tokio::sync::Mutex<()>,
    wake: Notify,
    refreshes: AtomicU64,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("client_id", &self.oauth.client_id())
            .field("refreshes", &self.refresh_count())
            .finish_non_exhaustive()
    }
}

/// Aborts the background refresh task when dropped.
#[derive(Debug)]
pub struct RefresherHandle(JoinHandle<()>);

impl Drop for RefresherHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl TokenManager {
    /// Builds the manager from settings, starting from the state file's
    /// tokens when they descend from the configured refresh token.
    pub fn load(
        settings: &ServiceAppSettings,
        client: WebexClient,
    ) -> Result<Self, StateFileError> {
        let state_file = settings.state_file.clone().map(StateFile::new);
        let stored = match &state_file {
            Some(file) => file.load()?,
            None => None,
        };
        let oauth = OAuthClient::new(
            client,
            settings.client_id.clone(),
            settings.client_secret.clone(),
            settings.retry,
        );
        Ok(Self {
            oauth,
            state_file,
            margin: settings.refresh_margin,
            retry_after: settings.retry.retry_after,
            state: RwLock::new(TokenState::initial(settings, stored)),
            refresh_lock: tokio::sync::Mutex::new(()),
            wake: Notify::new(),
            refreshes: AtomicU64::new(0),
        })
    }

    /// Returns the error of the last refresh when it failed on every
    /// attempt.
    pub fn last_refresh_error(&self) -> Option<UpstreamError> {
        let state = self.read();
        state.last_failure.as_ref().map(|f| f.error.clone())
    }

    /// Returns true when the refresh token in use is no longer the
    /// configured one, because Webex replaced it at a refresh.
    pub fn refresh_token_replaced(&self) -> bool {
        let state = self.read();
        fingerprint(state.refresh.expose_secret()) != state.origin
    }

    /// Returns the state file the tokens are kept in, if any.
    pub fn state_file(&self) -> Option<&std::path::Path> {
        self.state_file.as_ref().map(StateFile::path)
    }

    /// Counts successful refreshes since start.
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::SeqCst)
    }

    /// Returns an unexpired access token. A token past its refresh time is
    /// still returned while valid, and the background task is woken; an
    /// expired or missing token is refreshed first. Without a valid token
    /// the error is a `503` whose detail gives the reason.
    pub async fn access_token(self: &Arc<Self>) -> Result<AppToken, ApiError> {
        let now = Utc::now();
        let (access, attempt) = {
            let state = self.read();
            (state.access.clone(), state.attempt)
        };
        if let Some(access) = access.filter(|a| a.is_valid_at(now)) {
            if now >= access.refresh_at(self.margin) {
                self.wake.notify_one();
            }
            return Ok(AppToken {
                token: access.token,
                attempt,
            });
        }
        self.detached(move |manager| async move { manager.refresh_after(attempt).await })
            .await
    }

    /// Replaces a token that Webex rejected before its expiry: unless a
    /// refresh already ran since `rejected` was handed out, the token is
    /// dropped and refreshed.
    pub async fn replace_rejected(
        self: &Arc<Self>,
        rejected: &AppToken,
    ) -> Result<AppToken, ApiError> {
        let rejected = rejected.clone();
        self.detached(move |manager| async move { manager.replace_locked(&rejected).await })
            .await
    }

    /// Runs `work` on its own task and waits for it. A caller that gives up
    /// (a request timeout or a closed connection) then cannot cancel a
    /// refresh after Webex rotated the refresh token but before the new one
    /// was stored.
    async fn detached<F, Fut>(self: &Arc<Self>, work: F) -> Result<AppToken, ApiError>
    where
        F: FnOnce(Arc<Self>) -> Fut,
        Fut: Future<Output = Result<AppToken, ApiError>> + Send + 'static,
    {
        match tokio::spawn(work(Arc::clone(self))).await {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::error!(%error, "Service App token refresh task failed");
                Err(ApiError::Unavailable(
                    "the Service App token refresh stopped unexpectedly; try again".to_owned(),
                ))
            }
        }
    }

    async fn replace_locked(&self, rejected: &AppToken) -> Result<AppToken, ApiError> {
        let _guard = self.refresh_lock.lock().await;
        {
            let mut state = self.write();
            if state.attempt != rejected.attempt {
                return self.current_or_unavailable(&state);
            }
            let same = state
                .access
                .as_ref()
                .is_some_and(|a| a.token.expose_secret() == rejected.token.expose_secret());
            if same {
                tracing::warn!(
                    "Webex rejected the Service App access token before its expiry; refreshing it"
                );
                state.access = None;
            }
            if let Some(outcome) = self.cooling_down(&state) {
                return outcome;
            }
        }
        self.run_refresh().await
    }

    /// Refreshes unless a refresh finished after attempt `seen` or the last
    /// failure is more recent than `service_app.refresh_retry_after_secs`;
    /// in those cases returns that outcome.
    async fn refresh_after(&self, seen: u64) -> Result<AppToken, ApiError> {
        let _guard = self.refresh_lock.lock().await;
        {
            let state = self.read();
            if state.attempt != seen {
                return self.current_or_unavailable(&state);
            }
            if let Some(outcome) = self.cooling_down(&state) {
                return outcome;
            }
        }
        self.run_refresh().await
    }

    /// Returns the outcome to give while a recent failure blocks new
    /// attempts.
    fn cooling_down(&self, state: &TokenState) -> Option<Result<AppToken, ApiError>> {
        let failure = state.last_failure.as_ref()?;
        (failure.at.elapsed() < self.retry_after).then(|| self.current_or_unavailable(state))
    }

    /// Runs one refresh with its retries. The caller must hold `refresh_lock`.
    async fn run_refresh(&self) -> Result<AppToken, ApiError> {
        let refresh_token = self.read().refresh.clone();
        let requested_at = Utc::now();
        match self.oauth.refresh(&refresh_token).await {
            Ok(grant) => {
                let rotated = self.write().apply_grant(grant, requested_at);
                self.refreshes.fetch_add(1, Ordering::SeqCst);
                crate::metrics::record_token_refresh(true);
                let expires_at = self
                    .read()
                    .access
                    .as_ref()
                    .map(|a| rfc3339(a.expires_at))
                    .unwrap_or_default();
                tracing::info!(
                    %expires_at,
                    refresh_token_rotated = rotated,
                    "Service App access token refreshed"
                );
                self.persist().await;
            }
            Err(error) => {
                crate::metrics::record_token_refresh(false);
                tracing::error!(
                    error = %error,
                    next_attempt_in_secs = self.retry_after.as_secs(),
                    "Service App token refresh failed on every attempt"
                );
                self.write().record_failure(error);
            }
        }
        self.current_or_unavailable(&self.read())
    }

    /// Saves the tokens to the state file, when one is configured; a
    /// failure is logged and reported by readiness.
    async fn persist(&self) {
        let Some(file) = &self.state_file else {
            return;
        };
        let stored = self.read().to_stored(self.oauth.client_id());
        let result = file.save(&stored).await;
        let mut state = self.write();
        match result {
            Ok(()) => state.persist_error = None,
            Err(error) => {
                tracing::error!(
                    %error,
                    "cannot save the Service App tokens; a restart may lose the newest refresh token"
                );
                state.persist_error = Some(error.to_string());
            }
        }
    }

    fn current_or_unavailable(&self, state: &TokenState) -> Result<AppToken, ApiError> {
        match &state.access {
            Some(access) if access.is_valid_at(Utc::now()) => Ok(AppToken {
                token: access.token.clone(),
                attempt: state.attempt,
            }),
            _ => Err(ApiError::Unavailable(self.unavailable_detail(state))),
        }
    }

    /// Says why there is no valid token and when the next attempt comes.
    fn unavailable_detail(&self, state: &TokenState) -> String {
        match &state.last_failure {
            Some(failure) => {
                let wait = self.retry_after.saturating_sub(failure.at.elapsed());
                format!(
                    "the Service App has no valid Webex access token because refreshing it failed: {}; the next refresh attempt is in {} s",
                    failure.error,
                    wait.as_secs().max(1)
                )
            }
            None => "the Service App has no valid Webex access token yet because the first refresh has not finished; try again in a few seconds".to_owned(),
        }
    }

    /// Starts the task that refreshes the token ahead of expiry; it stops
    /// when the returned handle is dropped.
    pub fn spawn_refresher(self: &Arc<Self>) -> RefresherHandle {
        let manager = Arc::clone(self);
        RefresherHandle(tokio::spawn(async move { manager.keep_fresh().await }))
    }

    async fn keep_fresh(&self) {
        loop {
            let (seen, delay) = self.next_wake();
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.wake.notified() => {}
            }
            if self.needs_refresh() {
                // The outcome is logged inside; requests read it from the state.
                let _ = self.refresh_after(seen).await;
            }
        }
    }

    /// Returns the current attempt number and how long to sleep before the
    /// token needs a refresh, allowing for a recent failure.
    fn next_wake(&self) -> (u64, Duration) {
        let state = self.read();
        let until_refresh = state
            .access
            .as_ref()
            .map(|a| {
                (a.refresh_at(self.margin) - Utc::now())
                    .to_std()
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        let cooldown = state
            .last_failure
            .as_ref()
            .map(|f| self.retry_after.saturating_sub(f.at.elapsed()))
            .unwrap_or_default();
        (state.attempt, until_refresh.max(cooldown))
    }

    fn needs_refresh(&self) -> bool {
        let state = self.read();
        match &state.access {
            Some(access) => Utc::now() >= access.refresh_at(self.margin),
            None => true,
        }
    }

    /// Reports the token and the state file as readiness checks.
    pub fn readiness(&self) -> Checks {
        let state = self.read();
        let now = Utc::now();
        let valid = state.access.as_ref().filter(|a| a.is_valid_at(now));
        let token_check = match (valid, &state.last_failure) {
            (Some(access), None) => Check::ok(format!(
                "access token valid until {}",
                rfc3339(access.expires_at)
            )),
            (Some(access), Some(failure)) => Check::warn(format!(
                "access token valid until {}, but the last refresh failed: {}",
                rfc3339(access.expires_at),
                failure.error
            )),
            (None, _) => Check::failed(self.unavailable_detail(&state)),
        };
        let mut checks = Checks::from([("serviceAppToken", token_check)]);
        if let Some(file) = &self.state_file {
            let check = match &state.persist_error {
                Some(error) => Check::warn(error.clone()),
                None => Check::ok(format!("tokens are kept in {}", file.path().display())),
            };
            checks.insert("serviceAppStateFile", check);
        }
        checks
    }

    fn read(&self) -> RwLockReadGuard<'_, TokenState> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, TokenState> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

fn rfc3339(time: chrono::DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}
