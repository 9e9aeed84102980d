//! A built-in Webex emulator for development and tests: the Webex calls the
//! service uses, with Webex's status codes, error bodies and `TrackingID`
//! headers. It runs in-process (`webex.base_url = "emulator"`) or alone
//! (`guestissuer emulate`), and can inject faults (see [`faults`]) set from
//! config or its control endpoint (see [`control`]).

pub mod control;
pub mod faults;
mod guest_management;
mod routes;
mod service_apps;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

pub use faults::{FaultInjector, Faults, RouteFault};
pub use service_apps::ServiceApps;
pub use state::EmulatorState;

use crate::config::{EmulatorServiceApp, Issuer};
use faults::ConnectionCloser;

/// Builds the emulator's router: the Webex routes under `/v1` behind the
/// fault-injection middleware, the control endpoint under `/_emulator`, and
/// `GET /healthz`, which returns `200` for container health checks.
pub fn router(state: Arc<EmulatorState>, injector: Arc<FaultInjector>) -> Router {
    let webex = routes::router()
        .layer(axum::middleware::from_fn_with_state(
            injector.clone(),
            faults::inject,
        ))
        .with_state(state);
    Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .nest("/v1", webex)
        .merge(control::router().with_state(injector))
}

/// A running emulator.
#[derive(Debug)]
pub struct RunningEmulator {
    pub addr: SocketAddr,
    pub state: Arc<EmulatorState>,
    pub faults: Arc<FaultInjector>,
}

impl RunningEmulator {
    /// Returns the Webex base URL of this emulator, such as
    /// `http://127.0.0.1:8081/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

/// Set-up of a started emulator: the credentials it accepts and the faults
/// it injects.
#[derive(Debug, Clone, Default)]
pub struct EmulatorSetup {
    pub issuers: Vec<Issuer>,
    pub service_apps: Vec<EmulatorServiceApp>,
    /// Faults active from the first call.
    pub faults: Faults,
}

/// Starts the emulator on `listener` in a background task, with `issuers`
/// only: no Service App and no faults.
pub fn spawn(listener: TcpListener, issuers: Vec<Issuer>) -> std::io::Result<RunningEmulator> {
    let setup = EmulatorSetup {
        issuers,
        ..EmulatorSetup::default()
    };
    spawn_with(listener, setup)
}

/// Starts the emulator on `listener` in a background task with `faults`
/// active from the first call, and no Service App.
pub fn spawn_with_faults(
    listener: TcpListener,
    issuers: Vec<Issuer>,
    faults: Faults,
) -> std::io::Result<RunningEmulator> {
    let setup = EmulatorSetup {
        issuers,
        faults,
        ..EmulatorSetup::default()
    };
    spawn_with(listener, setup)
}

/// Starts the emulator on `listener` in a background task as `setup`
/// describes.
pub fn spawn_with(listener: TcpListener, setup: EmulatorSetup) -> std::io::Result<RunningEmulator> {
    let addr = listener.local_addr()?;
    let state = Arc::new(EmulatorState::new(setup.issuers, setup.service_apps));
    let injector = Arc::new(FaultInjector::new(setup.faults));
    let app = router(state.clone(), injector.clone());
    tokio::spawn(accept_loop(listener, app));
    Ok(RunningEmulator {
        addr,
        state,
        faults: injector,
    })
}

/// Accepts connections until the task is dropped. The loop is written out,
/// not `axum::serve`, so that a fault can close one connection on purpose.
async fn accept_loop(listener: TcpListener, app: Router) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_connection(stream, app.clone()));
            }
            Err(error) => {
                tracing::warn!(%error, "emulator failed to accept a connection");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// Serves one connection until it ends, or until a fault requests that it
/// close, in which case the socket is closed without a response.
async fn serve_connection(stream: TcpStream, app: Router) {
    let _ = stream.set_nodelay(true);
    let closer = ConnectionCloser::default();
    let request_closer = closer.clone();
    let service = app.map_request(move |mut request: Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(request_closer.clone());
        request
    });
    let builder = Builder::new(TokioExecutor::new());
    let connection =
        builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::select! {
        result = connection => {
            if let Err(error) = result {
                tracing::debug!(%error, "emulator connection ended with an error");
            }
        }
        () = closer.0.notified() => {}
    }
}
