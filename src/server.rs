//! Serving a built application: the API listener, the optional metrics
//! listener, and graceful shutdown with a grace period.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::middleware::request_context;
use crate::{metrics, routes};

/// How often histogram samples are folded into buckets between scrapes.
const METRICS_UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Serves `router` on `listener`, and `/metrics` alone on
/// `metrics_listener` when there is one, until `shutdown` completes. Then
/// both stop accepting, and in-flight requests get up to `grace` to finish
/// before the remaining connections are dropped.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    metrics_listener: Option<TcpListener>,
    grace: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_sender, stop) = watch::channel(false);
    let upkeep = metrics::spawn_upkeep(metrics::install(), METRICS_UPKEEP_INTERVAL);
    let metrics_server = metrics_listener.map(|l| spawn_metrics_server(l, stop.clone()));

    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "listening");
    }
    let signal = async move {
        shutdown.await;
        let _ = stop_sender.send(true);
    };
    let serving = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal);
    let result = serve_with_grace(serving.into_future(), stop, grace).await;

    upkeep.abort();
    if let Some(task) = metrics_server {
        task.abort();
    }
    result
}

/// Drives `serving` until the shutdown signal, then for at most `grace`.
async fn serve_with_grace(
    serving: impl Future<Output = std::io::Result<()>>,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) -> std::io::Result<()> {
    let mut serving = std::pin::pin!(serving);
    tokio::select! {
        result = &mut serving => return result,
        _ = stop.wait_for(|stopped| *stopped) => {}
    }
    let grace_ms = grace.as_millis() as u64;
    tracing::info!(
        grace_ms,
        "shutdown started: no new connections; in-flight requests may finish"
    );
    let started = Instant::now();
    match tokio::time::timeout(grace, serving).await {
        Ok(result) => {
            let elapsed_ms = started.elapsed().as_millis() as u64;
            tracing::info!(elapsed_ms, "shutdown complete: every connection closed");
            result
        }
        Err(_) => {
            tracing::warn!(
                grace_ms,
                "shutdown complete: grace period over, remaining connections dropped"
            );
            Ok(())
        }
    }
}

/// Serves only `GET /metrics` on its own listener until `stop` turns true.
fn spawn_metrics_server(
    listener: TcpListener,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let addr = listener.local_addr().ok();
    let router = routes::metrics::router()
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
        .layer(axum::middleware::from_fn(request_context));
    tokio::spawn(async move {
        if let Some(addr) = addr {
            tracing::info!(%addr, "metrics listening");
        }
        let signal = async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        };
        if let Err(error) = axum::serve(listener, router)
            .with_graceful_shutdown(signal)
            .await
        {
            tracing::error!(%error, "metrics listener failed");
        }
    })
}
