//! Builds the application from settings: the upstream, the router with its
//! middleware, and the bound listener.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;

use crate::config::{DEMO_ISSUER_ID, Settings, Upstream};
use crate::emulator::{self, RunningEmulator};
use crate::middleware::request_context;
use crate::routes;
use crate::webex::{GuestBackend, GuestIssuerBackend, TokenCache, WebexClient};

/// Largest accepted request body; guest requests are a few hundred bytes.
const BODY_LIMIT_BYTES: usize = 16 * 1024;

/// State shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub backend: Arc<dyn GuestBackend>,
}

/// Failure to start the service.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {addr} (server.listen): {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the built-in emulator: {0}")]
    Emulator(std::io::Error),
    #[error("cannot build the Webex HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// A bound, not yet serving, application.
pub struct Application {
    listener: TcpListener,
    router: Router,
    emulator: Option<RunningEmulator>,
}

impl Application {
    /// Starts the in-process emulator when configured, builds the back end
    /// and binds `server.listen`.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let emulator = match &settings.webex.upstream {
            Upstream::Emulator => Some(start_in_process_emulator(&settings).await?),
            Upstream::Url(_) => None,
        };
        let base_url = match (&settings.webex.upstream, &emulator) {
            (Upstream::Url(url), _) => url.clone(),
            (Upstream::Emulator, Some(running)) => running.base_url(),
            (Upstream::Emulator, None) => unreachable!("emulator started above"),
        };
        log_upstream(&settings, &base_url, emulator.is_some());

        let client = WebexClient::new(&base_url, &settings.webex)?;
        let backend: Arc<dyn GuestBackend> = Arc::new(GuestIssuerBackend::new(
            settings.issuer.clone(),
            settings.guests.clone(),
            client,
        ));
        let backend = with_token_cache(backend, &settings);
        let state = AppState {
            settings: Arc::new(settings),
            backend,
        };
        let addr = state.settings.server.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartupError::Bind { addr, source })?;
        Ok(Self {
            listener,
            router: app(state),
            emulator,
        })
    }

    /// Returns the address the service listens on (the real port when
    /// `server.listen` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// Returns the in-process emulator, when one runs.
    pub fn emulator(&self) -> Option<&RunningEmulator> {
        self.emulator.as_ref()
    }

    /// Serves requests until `shutdown` completes, then lets in-flight
    /// requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr = self.local_addr();
        tracing::info!(%addr, "listening");
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}

/// Builds the router with its middleware around `state`.
pub fn app(state: AppState) -> Router {
    routes::router()
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(axum::middleware::from_fn(request_context))
        .with_state(state)
}

/// Puts the access-token cache in front of `backend` unless it is turned
/// off in `webex.token_cache.enabled`.
fn with_token_cache(backend: Arc<dyn GuestBackend>, settings: &Settings) -> Arc<dyn GuestBackend> {
    let cache_settings = &settings.webex.token_cache;
    if !cache_settings.enabled {
        tracing::info!("access-token cache is off (webex.token_cache.enabled = false)");
        return backend;
    }
    Arc::new(TokenCache::new(
        backend,
        &settings.issuer.id,
        cache_settings,
    ))
}

async fn start_in_process_emulator(settings: &Settings) -> Result<RunningEmulator, StartupError> {
    let mut issuers = settings.emulator.issuers.clone();
    issuers.push(settings.issuer.clone());
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(StartupError::Emulator)?;
    let faults = settings.emulator.faults.clone();
    emulator::spawn_with_faults(listener, issuers, faults).map_err(StartupError::Emulator)
}

fn log_upstream(settings: &Settings, base_url: &str, in_process: bool) {
    if in_process {
        tracing::info!(base_url, "Webex upstream: built-in emulator, in-process");
    } else {
        tracing::info!(base_url, "Webex upstream");
    }
    if settings.issuer.id == DEMO_ISSUER_ID {
        tracing::warn!(
            "issuer.id is the public demo issuer: its tokens work only against the emulator; set issuer.id and issuer.secret for real Webex"
        );
    }
}
