//! A built-in Webex emulator for development and tests: the Webex calls the
//! service uses, with Webex's status codes, error bodies and `TrackingID`
//! headers. It runs in-process (`webex.base_url = "emulator"`) or alone
//! (`guestissuer emulate`).

mod routes;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

pub use state::EmulatorState;

use crate::config::Issuer;

/// Builds the emulator's router; all Webex routes sit under `/v1`.
pub fn router(state: Arc<EmulatorState>) -> Router {
    Router::new()
        .nest("/v1", routes::router())
        .with_state(state)
}

/// A running emulator.
#[derive(Debug)]
pub struct RunningEmulator {
    pub addr: SocketAddr,
    pub state: Arc<EmulatorState>,
}

impl RunningEmulator {
    /// Returns the Webex base URL of this emulator, such as
    /// `http://127.0.0.1:8081/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

/// Starts the emulator on `listener` in a background task.
pub fn spawn(listener: TcpListener, issuers: Vec<Issuer>) -> std::io::Result<RunningEmulator> {
    let addr = listener.local_addr()?;
    let state = Arc::new(EmulatorState::new(issuers));
    let app = router(state.clone());
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "emulator stopped");
        }
    });
    Ok(RunningEmulator { addr, state })
}
