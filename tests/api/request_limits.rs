//! Request limits: body and header size, time limit and load shedding, each
//! rejected with a problem+json body.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, problem, spawn_app_with};

/// Opens a connection and sends a login request whose body never arrives
/// in full, so the request stays in flight until the server gives up.
async fn stalled_request(app: &TestApp) -> TcpStream {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /guests/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"userId\":",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Reads one HTTP/1.1 response head and body from `stream`.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let read = stream.read(&mut chunk).await.unwrap();
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&buffer);
        if text.contains("\r\n\r\n") && text.trim_end().ends_with('}') {
            break;
        }
    }
    String::from_utf8(buffer).unwrap()
}

#[tokio::test]
async fn oversized_body_is_413() {
    let app = spawn_app_with(&[("GUESTISSUER__LIMITS__MAX_BODY_BYTES", "1024")]).await;
    let big_name = "x".repeat(2048);
    let body = json!({ "userId": "u-1", "userName": big_name });

    let response = app.post_json("/guests", &body).await;
    let problem_body = problem(response, 413).await;
    assert_eq!(
        problem_body["type"],
        "urn:guestissuer:problem:payload-too-large"
    );

    // Without Content-Length the limit applies while the body streams in.
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let chunk = format!(
        "{{\"userId\":\"u-1\",\"userName\":\"{}\"}}",
        "x".repeat(2048)
    );
    let request = format!(
        "POST /guests HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        app.addr,
        chunk.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let text = read_response(&mut stream).await;
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("payload-too-large"), "{text}");

    let response = app
        .post_json("/guests", &json!({ "userId": "u-1", "userName": "A" }))
        .await;
    assert_eq!(response.status(), 201, "small bodies still pass");
}

#[tokio::test]
async fn oversized_headers_are_431() {
    let app = spawn_app_with(&[("GUESTISSUER__LIMITS__MAX_HEADER_BYTES", "1024")]).await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-padding", "p".repeat(2000))
        .send()
        .await
        .unwrap();
    let body = problem(response, 431).await;
    assert!(body["detail"].as_str().unwrap().contains("1024"));

    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn slow_request_is_cut_off() {
    let app = spawn_app_with(&[("GUESTISSUER__LIMITS__REQUEST_TIMEOUT_MS", "300")]).await;
    let mut stream = stalled_request(&app).await;

    let text = tokio::time::timeout(Duration::from_secs(20), read_response(&mut stream))
        .await
        .expect("the server answers the stalled request");
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{text}"
    );
    let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["type"], "urn:guestissuer:problem:request-timeout");
    assert!(body["requestId"].is_string());
}

/// Polls `GET path` until it is shed with `503`, or ten seconds pass.
async fn first_shed_response(app: &TestApp, path: &str) -> reqwest::Response {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        if response.status() == 503 || tokio::time::Instant::now() > deadline {
            return response;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn overload_is_shed_with_503() {
    let app = spawn_app_with(&[
        ("GUESTISSUER__LIMITS__MAX_CONCURRENT_REQUESTS", "1"),
        ("GUESTISSUER__LIMITS__REQUEST_TIMEOUT_MS", "60000"),
    ])
    .await;
    let stalled = stalled_request(&app).await;

    // The stalled request takes the only slot once the server has read its
    // head; poll until the next request is shed.
    let response = first_shed_response(&app, "/openapi.yaml").await;
    assert_eq!(response.headers()["retry-after"], "1");
    let body = problem(response, 503).await;
    assert_eq!(body["type"], "urn:guestissuer:problem:overloaded");

    drop(stalled);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = app
            .client
            .get(app.url("/openapi.yaml"))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot is released when the stalled client goes away"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn probes_answer_while_shedding() {
    let app = spawn_app_with(&[
        ("GUESTISSUER__LIMITS__MAX_CONCURRENT_REQUESTS", "1"),
        ("GUESTISSUER__LIMITS__REQUEST_TIMEOUT_MS", "60000"),
    ])
    .await;
    let _stalled = stalled_request(&app).await;
    let shed = first_shed_response(&app, "/openapi.yaml").await;
    assert_eq!(shed.status(), 503, "the stalled request holds the slot");

    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "liveness is not shed");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200, "scrapes are not shed");
    let method = app.client.post(app.url("/healthz")).send().await.unwrap();
    assert_eq!(method.status(), 405);
    let body = problem(method, 405).await;
    assert_eq!(body["type"], "urn:guestissuer:problem:method-not-allowed");
}
