//! Builds the application from settings: the upstream, the router with its
//! middleware, and the bound listeners. [`crate::server`] serves it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::{AuthMode, Authenticator};
use crate::config::{DEMO_CLIENT_ID, DEMO_ISSUER_ID, Settings, Upstream, WebexMode};
use crate::emulator::EmulatorSetup;
use crate::emulator::{self, RunningEmulator};
use crate::middleware::request_context;
use crate::rate_limit::{RateLimits, WebexBudget, spawn_cleanup};
use crate::webex::{
    GuestBackend, GuestIssuerBackend, ServiceAppBackend, StateFileError, TokenCache, WebexClient,
};
use crate::{cors, limits, metrics, routes, server};

/// State shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    /// The Webex back end: token cache, then Webex call budget, then the
    /// Webex API, so cache hits cost no budget.
    pub backend: Arc<dyn GuestBackend>,
    pub auth: Arc<Authenticator>,
    pub rate_limits: Arc<RateLimits>,
    /// The Webex client every back-end call goes through, for readiness.
    pub upstream: WebexClient,
}

impl AppState {
    /// Builds the state and its authenticator. `backend` should already
    /// draw on `rate_limits`' Webex budget (see [`WebexBudget`]).
    pub fn new(
        settings: Settings,
        backend: Arc<dyn GuestBackend>,
        rate_limits: Arc<RateLimits>,
        upstream: WebexClient,
    ) -> Self {
        let auth = Arc::new(Authenticator::new(&settings, rate_limits.clone()));
        Self {
            settings: Arc::new(settings),
            backend,
            auth,
            rate_limits,
            upstream,
        }
    }
}

/// Failure to start the service.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {addr} (server.listen): {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr} (metrics.listen): {source}")]
    BindMetrics {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the built-in emulator: {0}")]
    Emulator(std::io::Error),
    #[error("cannot build the Webex HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("{0}")]
    ServiceAppState(#[from] StateFileError),
}

/// A bound, not yet serving, application.
pub struct Application {
    listener: TcpListener,
    router: Router,
    metrics_listener: Option<TcpListener>,
    shutdown_grace: Duration,
    emulator: Option<RunningEmulator>,
}

impl Application {
    /// Starts the in-process emulator when configured, builds the back end
    /// and binds `server.listen`.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        metrics::install();
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
        log_auth(&settings);

        let client = WebexClient::new(&base_url, &settings.webex)?;
        let rate_limits = Arc::new(RateLimits::from_settings(&settings));
        let backend = build_backend(&settings, client.clone())?;
        let backend = Arc::new(WebexBudget::new(backend, rate_limits.clone()));
        let backend = with_token_cache(backend, &settings);
        let state = AppState::new(settings, backend, rate_limits, client);
        spawn_cleanup(
            &state.rate_limits,
            state.settings.rate_limit.cleanup_interval,
        );
        let addr = state.settings.server.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartupError::Bind { addr, source })?;
        let metrics_listener = match state.settings.metrics.listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartupError::BindMetrics { addr, source })?,
            ),
            None => None,
        };
        Ok(Self {
            listener,
            shutdown_grace: state.settings.server.shutdown_grace,
            router: app(state),
            metrics_listener,
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

    /// Returns the address of the separate `/metrics` listener, when
    /// `metrics.listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .map(|l| l.local_addr().expect("bound listener has an address"))
    }

    /// Returns the in-process emulator, when one runs.
    pub fn emulator(&self) -> Option<&RunningEmulator> {
        self.emulator.as_ref()
    }

    /// Serves requests until `shutdown` completes, then stops accepting
    /// connections and lets in-flight requests finish for up to
    /// `server.shutdown_grace_ms` before it drops the rest and returns.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        server::serve(
            self.listener,
            self.router,
            self.metrics_listener,
            self.shutdown_grace,
            shutdown,
        )
        .await
    }
}

/// Builds the router with its middleware around `state`. From the outside
/// in: request id and log line, problem bodies for bare layer errors, CORS,
/// header size, load shedding, concurrency cap, timeout, body size. The
/// probe routes skip the last four.
pub fn app(state: AppState) -> Router {
    let limits = state.settings.limits;
    let overload = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(limits::layer_error))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(
            limits.max_concurrent_requests,
        ))
        .timeout(limits.request_timeout);
    let probes = routes::probe_router(state.settings.metrics.listen.is_none());
    let mut router = routes::router()
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(overload)
        .merge(probes)
        .layer(axum::middleware::from_fn_with_state(
            limits.max_header_bytes,
            limits::check_header_size,
        ));
    if let Some(cors) = cors::layer(&state.settings.cors) {
        router = router
            .layer(cors)
            .layer(axum::middleware::from_fn(cors::strip_unless_allowed));
    }
    router
        .layer(axum::middleware::from_fn(limits::problem_for_bare_errors))
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
    let namespace = match settings.webex.mode {
        WebexMode::GuestIssuer => &settings.issuer.id,
        WebexMode::ServiceApp => &settings.service_app.client_id,
    };
    Arc::new(TokenCache::new(backend, namespace, cache_settings))
}

/// Builds the back end that `webex.mode` selects.
fn build_backend(
    settings: &Settings,
    client: WebexClient,
) -> Result<Arc<dyn GuestBackend>, StartupError> {
    let backend: Arc<dyn GuestBackend> = match settings.webex.mode {
        WebexMode::GuestIssuer => Arc::new(GuestIssuerBackend::new(
            settings.issuer.clone(),
            settings.guests.clone(),
            client,
        )),
        WebexMode::ServiceApp => Arc::new(ServiceAppBackend::start(&settings.service_app, client)?),
    };
    tracing::info!(mode = settings.webex.mode.as_str(), "Webex back end");
    Ok(backend)
}

/// Starts the emulator on a free loopback port. Besides its own issuers
/// and Service App it accepts the service's issuer and, when the client id
/// differs, the service's Service App with its configured refresh token.
async fn start_in_process_emulator(settings: &Settings) -> Result<RunningEmulator, StartupError> {
    let mut issuers = settings.emulator.issuers.clone();
    issuers.push(settings.issuer.clone());
    let mut service_apps = vec![settings.emulator.service_app.clone()];
    let own = &settings.service_app;
    if own.client_id != settings.emulator.service_app.client_id {
        let mut app = settings.emulator.service_app.clone();
        app.client_id = own.client_id.clone();
        app.client_secret = own.client_secret.clone();
        app.refresh_token = own.refresh_token.clone();
        service_apps.push(app);
    }
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(StartupError::Emulator)?;
    let setup = EmulatorSetup {
        issuers,
        service_apps,
        faults: settings.emulator.faults.clone(),
    };
    emulator::spawn_with(listener, setup).map_err(StartupError::Emulator)
}

fn log_auth(settings: &Settings) {
    let auth = &settings.auth;
    let mode = auth.mode.as_str();
    match auth.mode {
        AuthMode::None => tracing::warn!(
            mode,
            listen = %settings.server.listen,
            "auth.mode is \"none\": anyone who reaches this service can get a guest for any userId; use it for local development only"
        ),
        AuthMode::ApiKey => {
            tracing::info!(mode, clients = auth.api_keys.len(), "caller authentication")
        }
        AuthMode::Jwt => tracing::info!(mode, "caller authentication"),
        AuthMode::Anonymous => tracing::info!(
            mode,
            allow_mint = auth.anonymous.allow_mint,
            "caller authentication"
        ),
    }
}

fn log_upstream(settings: &Settings, base_url: &str, in_process: bool) {
    if in_process {
        tracing::info!(base_url, "Webex upstream: built-in emulator, in-process");
    } else {
        tracing::info!(base_url, "Webex upstream");
    }
    match settings.webex.mode {
        WebexMode::GuestIssuer if settings.issuer.id == DEMO_ISSUER_ID => tracing::warn!(
            "issuer.id is the public demo issuer: its tokens work only against the emulator; set issuer.id and issuer.secret for real Webex"
        ),
        WebexMode::ServiceApp
            if settings.service_app.client_id == DEMO_CLIENT_ID && !in_process =>
        {
            tracing::warn!(
                "service_app.client_id is the public demo Service App: it works only against the emulator; set the service_app credentials for real Webex"
            )
        }
        WebexMode::ServiceApp if in_process && settings.service_app.state_file.is_some() => {
            tracing::warn!(
                "service_app.state_file is set with the in-process emulator, which forgets its tokens on restart: a refresh token saved by an earlier run will be rejected; delete the file or run `guestissuer emulate` separately"
            )
        }
        _ => {}
    }
}
