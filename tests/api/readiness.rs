//! `GET /readyz` follows the Webex upstream: it turns 503 when the
//! emulator goes away and 200 again when it comes back, and a recent
//! response or a failed call decides it without waiting for a probe.

use std::net::SocketAddr;
use std::sync::Arc;

use guestissuer::config::Settings;
use guestissuer::emulator::{self, EmulatorState, FaultInjector, Faults};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::helpers::{TestApp, base_env, spawn_settings};

/// An emulator on a fixed loopback port that the test can stop and start.
struct Upstream {
    addr: SocketAddr,
    stop: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
}

impl Upstream {
    async fn start_on(addr: SocketAddr) -> Self {
        let listener = TcpListener::bind(addr)
            .await
            .expect("emulator port is free");
        let addr = listener.local_addr().unwrap();
        let settings = Settings::load_with_env(None, base_env()).unwrap();
        let state = Arc::new(EmulatorState::new(vec![settings.issuer], Vec::new()));
        let injector = Arc::new(FaultInjector::new(Faults::default()));
        let router = emulator::router(state, injector);
        let (sender, receiver) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = receiver.await;
                })
                .await
                .unwrap();
        });
        Self {
            addr,
            stop: Some((sender, task)),
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Stops accepting, closes every connection and waits until it has.
    async fn stop(&mut self) {
        let (sender, task) = self.stop.take().expect("upstream is running");
        sender.send(()).unwrap();
        task.await.unwrap();
    }
}

async fn spawn_against(upstream: &Upstream, recent_ms: &str) -> TestApp {
    let mut env = base_env();
    env.insert("GUESTISSUER__WEBEX__BASE_URL".into(), upstream.base_url());
    env.insert(
        "GUESTISSUER__READINESS__UPSTREAM_RECENT_MS".into(),
        recent_ms.into(),
    );
    env.insert("GUESTISSUER__WEBEX__RETRY__MAX_ATTEMPTS".into(), "1".into());
    spawn_settings(Settings::load_with_env(None, env).unwrap()).await
}

/// Returns the status and body of `GET /readyz`.
async fn readyz(app: &TestApp) -> (u16, Value) {
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.unwrap())
}

/// Logs in `user_id`; a new id each time keeps the token cache out of it.
async fn login(app: &TestApp, user_id: &str) -> u16 {
    app.post_json(
        "/guests/login",
        &json!({ "userId": user_id, "userName": "Ready" }),
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test]
async fn readyz_flips_with_upstream() {
    let mut upstream = Upstream::start_on("127.0.0.1:0".parse().unwrap()).await;
    let app = spawn_against(&upstream, "0").await;

    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["webexUpstream"]["status"], "ok");

    upstream.stop().await;
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["checks"]["webexUpstream"]["status"], "failed");
    let detail = body["checks"]["webexUpstream"]["detail"].as_str().unwrap();
    assert!(detail.contains("unreachable"), "{detail}");
    assert_eq!(
        body["checks"]["guestIssuer"]["status"], "ok",
        "other checks still run"
    );

    let _restarted = Upstream::start_on(upstream.addr).await;
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["webexUpstream"]["status"], "ok");
}

#[tokio::test]
async fn readyz_trusts_recent_response() {
    let upstream = Upstream::start_on("127.0.0.1:0".parse().unwrap()).await;
    let app = spawn_against(&upstream, "60000").await;
    assert_eq!(login(&app, "recent-1").await, 200);

    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    let detail = body["checks"]["webexUpstream"]["detail"].as_str().unwrap();
    assert!(
        detail.contains("ms ago"),
        "a recent response needs no probe: {detail}"
    );
}

#[tokio::test]
async fn readyz_fails_after_failed_call() {
    let mut upstream = Upstream::start_on("127.0.0.1:0".parse().unwrap()).await;
    let app = spawn_against(&upstream, "60000").await;
    assert_eq!(login(&app, "failed-1").await, 200);

    upstream.stop().await;
    assert_eq!(
        login(&app, "failed-2").await,
        503,
        "the login finds Webex unreachable"
    );
    let (status, body) = readyz(&app).await;
    assert_eq!(
        status, 503,
        "a failure after the last response forces a probe: {body}"
    );
    let detail = body["checks"]["webexUpstream"]["detail"].as_str().unwrap();
    assert!(detail.contains("last response"), "{detail}");
}
