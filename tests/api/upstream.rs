//! Webex failures map to 502, 503 and 504 with the call, the Webex status
//! and the tracking id in the problem body.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::post;
use serde_json::json;
use tokio::net::TcpListener;

use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};

/// Starts an emulator with no configured issuer and returns its base URL.
async fn emulator_without_issuers() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    guestissuer::emulator::spawn(listener, Vec::new())
        .unwrap()
        .base_url()
}

/// Starts a server that accepts connections and never responds.
async fn silent_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

async fn login(app: &TestApp) -> reqwest::Response {
    app.post_json(
        "/guests/login",
        &json!({ "userId": "u-1", "userName": "U" }),
    )
    .await
}

#[tokio::test]
async fn in_process_emulator_is_on_loopback() {
    let app = spawn_app().await;
    let url = app.emulator_url.clone().expect("defaults run the emulator");
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/v1"),
        "{url}"
    );
    let token = app.mint("loopback", "L").await;
    assert_eq!(token.split('.').count(), 3);
}

#[tokio::test]
async fn unknown_issuer_is_502_with_hint() {
    let base_url = emulator_without_issuers().await;
    let app = spawn_app_with(&[("GUESTISSUER__WEBEX__BASE_URL", &base_url)]).await;
    let body = problem(login(&app).await, 502).await;
    assert_eq!(body["upstreamStatus"], 404);
    assert_eq!(body["type"], "urn:guestissuer:problem:upstream-rejected");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("POST /jwt/login"), "{detail}");
    assert!(detail.contains("Issuer not found"), "{detail}");
    assert!(detail.contains("issuer.id and issuer.secret"), "{detail}");
    let tracking_id = body["trackingId"].as_str().unwrap();
    assert!(tracking_id.starts_with("EMULATOR_"));
    assert!(detail.contains(tracking_id), "{detail}");
}

#[tokio::test]
async fn unreachable_upstream_is_503() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let base_url = format!("http://{addr}/v1");
    let app = spawn_app_with(&[("GUESTISSUER__WEBEX__BASE_URL", &base_url)]).await;
    let body = problem(login(&app).await, 503).await;
    assert_eq!(body["type"], "urn:guestissuer:problem:upstream-unreachable");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("could not be reached")
    );
}

#[tokio::test]
async fn silent_upstream_is_504() {
    let addr = silent_upstream().await;
    let base_url = format!("http://{addr}/v1");
    let app = spawn_app_with(&[
        ("GUESTISSUER__WEBEX__BASE_URL", &base_url),
        ("GUESTISSUER__WEBEX__TIMEOUT_MS", "300"),
    ])
    .await;
    let started = std::time::Instant::now();
    let body = problem(login(&app).await, 504).await;
    assert!(started.elapsed().as_secs() < 5);
    assert_eq!(body["type"], "urn:guestissuer:problem:upstream-timeout");
    assert!(body["detail"].as_str().unwrap().contains("within 300 ms"));
}

#[tokio::test]
async fn unreadable_success_is_502() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new().route("/v1/jwt/login", post(|| async { "<html>ok</html>" }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let base_url = format!("http://{addr}/v1");
    let app = spawn_app_with(&[("GUESTISSUER__WEBEX__BASE_URL", &base_url)]).await;
    let body = problem(login(&app).await, 502).await;
    assert_eq!(
        body["type"],
        "urn:guestissuer:problem:upstream-invalid-response"
    );
}
