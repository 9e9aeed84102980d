//! Retries, deadline, access-token cache and the emulator's fault
//! injection, driven through the emulator's control endpoint.

use std::time::{Duration, Instant};

use guestissuer::config::Settings;
use serde_json::{Value, json};

use crate::helpers::{TestApp, base_env, problem, spawn_app_with, spawn_settings};

const LOGIN_ROUTE: &str = "POST /jwt/login";

/// Short backoff so retried tests stay quick.
const FAST_RETRY: [(&str, &str); 2] = [
    ("GUESTISSUER__WEBEX__RETRY__INITIAL_DELAY_MS", "10"),
    ("GUESTISSUER__WEBEX__RETRY__MAX_DELAY_MS", "50"),
];

/// Returns the emulator's control URL for `path`, such as
/// `http://127.0.0.1:1234/_emulator/calls`.
fn control_url(app: &TestApp, path: &str) -> String {
    let base = app.emulator_url.as_deref().expect("in-process emulator");
    format!("{}{path}", base.trim_end_matches("/v1"))
}

async fn set_faults(app: &TestApp, faults: Value) {
    let response = app
        .client
        .put(control_url(app, "/_emulator/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "faults accepted");
}

/// Returns how many calls the emulator received on `route`.
async fn calls(app: &TestApp, route: &str) -> u64 {
    let counts: Value = app
        .client
        .get(control_url(app, "/_emulator/calls"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    counts[route].as_u64().unwrap_or(0)
}

async fn login(app: &TestApp, user_id: &str, user_name: &str) -> reqwest::Response {
    app.post_json(
        "/guests/login",
        &json!({ "userId": user_id, "userName": user_name }),
    )
    .await
}

async fn access_token(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["accessToken"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn unavailable_twice_then_ok() {
    let app = spawn_app_with(&FAST_RETRY).await;
    set_faults(
        &app,
        json!({ LOGIN_ROUTE: { "responses": [503, 503, 200] } }),
    )
    .await;

    let response = login(&app, "retry-1", "Retry").await;

    assert_eq!(response.status(), 200);
    assert_eq!(calls(&app, LOGIN_ROUTE).await, 3);
}

#[tokio::test]
async fn every_retryable_status_is_retried() {
    let app = spawn_app_with(&FAST_RETRY).await;
    for (index, status) in [423, 429, 502, 503, 504].into_iter().enumerate() {
        let before = calls(&app, LOGIN_ROUTE).await;
        set_faults(&app, json!({ LOGIN_ROUTE: { "responses": [status] } })).await;

        let response = login(&app, &format!("retryable-{index}"), "Retry").await;

        assert_eq!(response.status(), 200, "status {status} is retried");
        assert_eq!(
            calls(&app, LOGIN_ROUTE).await - before,
            2,
            "status {status}"
        );
    }
}

#[tokio::test]
async fn retry_after_one_second_is_honoured() {
    let app = spawn_app_with(&FAST_RETRY).await;
    set_faults(
        &app,
        json!({ LOGIN_ROUTE: { "responses": [429], "retry_after": 1 } }),
    )
    .await;

    let started = Instant::now();
    let response = login(&app, "limited-1", "Limited").await;
    let elapsed = started.elapsed();

    assert_eq!(response.status(), 200);
    assert_eq!(calls(&app, LOGIN_ROUTE).await, 2);
    assert!(
        elapsed >= Duration::from_millis(950),
        "waited {elapsed:?}, Retry-After asked for 1 s"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "waited {elapsed:?}, far past Retry-After"
    );
}

#[tokio::test]
async fn retry_after_above_cap_fails_at_once() {
    let app = spawn_app_with(&FAST_RETRY).await;
    set_faults(
        &app,
        json!({ LOGIN_ROUTE: { "responses": [429], "retry_after": 60 } }),
    )
    .await;

    let response = login(&app, "limited-2", "Limited").await;

    assert_eq!(response.headers()["retry-after"], "60");
    let body = problem(response, 502).await;
    assert_eq!(body["upstreamStatus"], 429);
    assert_eq!(calls(&app, LOGIN_ROUTE).await, 1);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let app = spawn_app_with(&FAST_RETRY).await;
    for (index, status) in [400, 401, 403, 404].into_iter().enumerate() {
        let before = calls(&app, LOGIN_ROUTE).await;
        set_faults(&app, json!({ LOGIN_ROUTE: { "responses": [status] } })).await;

        let response = login(&app, &format!("final-{index}"), "Final").await;

        let body = problem(response, 502).await;
        assert_eq!(body["upstreamStatus"], status);
        assert!(
            body["trackingId"]
                .as_str()
                .unwrap()
                .starts_with("EMULATOR_")
        );
        assert_eq!(
            calls(&app, LOGIN_ROUTE).await - before,
            1,
            "status {status} is not retried"
        );
    }
}

#[tokio::test]
async fn attempts_are_bounded() {
    let mut overrides = FAST_RETRY.to_vec();
    overrides.push(("GUESTISSUER__WEBEX__RETRY__MAX_ATTEMPTS", "3"));
    let app = spawn_app_with(&overrides).await;
    set_faults(
        &app,
        json!({ LOGIN_ROUTE: { "responses": [503, 503, 503, 503] } }),
    )
    .await;

    let response = login(&app, "bounded-1", "Bounded").await;

    let body = problem(response, 502).await;
    assert_eq!(body["upstreamStatus"], 503);
    assert_eq!(calls(&app, LOGIN_ROUTE).await, 3);
}

#[tokio::test]
async fn hanging_upstream_gives_504_within_deadline() {
    let app = spawn_app_with(&[("GUESTISSUER__WEBEX__DEADLINE_MS", "1000")]).await;
    set_faults(&app, json!({ LOGIN_ROUTE: { "latency_ms": 30000 } })).await;

    let started = Instant::now();
    let response = login(&app, "hang-1", "Hang").await;
    let elapsed = started.elapsed();

    let body = problem(response, 504).await;
    assert_eq!(body["type"], "urn:guestissuer:problem:upstream-timeout");
    assert!(body["detail"].as_str().unwrap().contains("1000 ms"));
    assert!(
        elapsed < Duration::from_secs(5),
        "answered after {elapsed:?}"
    );
}

#[tokio::test]
async fn dropped_connection_is_not_retried() {
    let app = spawn_app_with(&FAST_RETRY).await;
    set_faults(&app, json!({ LOGIN_ROUTE: { "responses": ["drop"] } })).await;

    let response = login(&app, "drop-1", "Dropped").await;

    let body = problem(response, 503).await;
    assert_eq!(body["type"], "urn:guestissuer:problem:upstream-unreachable");
    assert_eq!(calls(&app, LOGIN_ROUTE).await, 1);
}

#[tokio::test]
async fn refused_connection_is_retried_then_503() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", closed.local_addr().unwrap());
    drop(closed);
    let mut overrides = FAST_RETRY.to_vec();
    overrides.push(("GUESTISSUER__WEBEX__BASE_URL", &url));
    let app = spawn_app_with(&overrides).await;

    let response = login(&app, "refused-1", "Refused").await;

    let body = problem(response, 503).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("connection failed"),
        "{body}"
    );
}

#[tokio::test]
async fn second_login_served_from_cache() {
    let app = spawn_app_with(&[]).await;

    let first = access_token(login(&app, "cached-1", "Cached").await).await;
    let response = login(&app, "cached-1", "Cached").await;
    assert_eq!(response.status(), 200);
    let second: Value = response.json().await.unwrap();

    assert_eq!(second["accessToken"], first.as_str());
    assert!(second["expiresIn"].as_u64().unwrap() <= 21600);
    assert_eq!(calls(&app, LOGIN_ROUTE).await, 1);
}

#[tokio::test]
async fn concurrent_logins_share_one_call() {
    let app = spawn_app_with(&[]).await;
    set_faults(&app, json!({ LOGIN_ROUTE: { "latency_ms": 200 } })).await;

    let mut logins = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let request = app
            .client
            .post(app.url("/guests/login"))
            .json(&json!({ "userId": "crowd-1", "userName": "Crowd" }));
        logins.spawn(async move { access_token(request.send().await.unwrap()).await });
    }
    let mut tokens = logins.join_all().await;

    assert_eq!(tokens.len(), 100);
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every caller gets the same token");
    assert_eq!(calls(&app, LOGIN_ROUTE).await, 1);
}

#[tokio::test]
async fn rename_reaches_webex() {
    let app = spawn_app_with(&[]).await;

    access_token(login(&app, "renamed-1", "Old Name").await).await;
    let token = access_token(login(&app, "renamed-1", "New Name").await).await;

    assert_eq!(calls(&app, LOGIN_ROUTE).await, 2);
    let person: Value = app
        .client
        .get(app.url("/whoami"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(person["displayName"], "New Name");
}

#[tokio::test]
async fn failed_login_is_not_cached() {
    let app = spawn_app_with(&[]).await;
    set_faults(&app, json!({ LOGIN_ROUTE: { "responses": [401] } })).await;

    assert_eq!(login(&app, "flaky-1", "Flaky").await.status(), 502);
    assert_eq!(login(&app, "flaky-1", "Flaky").await.status(), 200);
    assert_eq!(calls(&app, LOGIN_ROUTE).await, 2);
}

#[tokio::test]
async fn cache_turned_off_reaches_webex_each_time() {
    let app = spawn_app_with(&[("GUESTISSUER__WEBEX__TOKEN_CACHE__ENABLED", "false")]).await;

    let first = access_token(login(&app, "uncached-1", "Uncached").await).await;
    let second = access_token(login(&app, "uncached-1", "Uncached").await).await;

    assert_ne!(first, second);
    assert_eq!(calls(&app, LOGIN_ROUTE).await, 2);
}

#[tokio::test]
async fn expiry_margin_above_lifetime_disables_reuse() {
    let app =
        spawn_app_with(&[("GUESTISSUER__WEBEX__TOKEN_CACHE__EXPIRY_MARGIN_S", "21600")]).await;

    access_token(login(&app, "short-1", "Short").await).await;
    access_token(login(&app, "short-1", "Short").await).await;

    assert_eq!(calls(&app, LOGIN_ROUTE).await, 2);
}

#[tokio::test]
async fn control_endpoint_lists_clears_and_rejects() {
    let app = spawn_app_with(&[]).await;
    set_faults(
        &app,
        json!({ "post /jwt/login": { "responses": [503, 200], "latency_ms": 5 } }),
    )
    .await;

    let active: Value = app
        .client
        .get(control_url(&app, "/_emulator/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(active[LOGIN_ROUTE]["responses"], json!([503, 200]));
    assert_eq!(active[LOGIN_ROUTE]["latency_ms"], 5);

    let response = app
        .client
        .delete(control_url(&app, "/_emulator/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(login(&app, "cleared-1", "Cleared").await.status(), 200);
    assert_eq!(calls(&app, LOGIN_ROUTE).await, 1);

    let response = app
        .client
        .put(control_url(&app, "/_emulator/faults"))
        .json(&json!({ LOGIN_ROUTE: { "responses": [700] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("status 700"));

    let response = app
        .client
        .delete(control_url(&app, "/_emulator/calls"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(calls(&app, LOGIN_ROUTE).await, 0);
}

#[tokio::test]
async fn faults_from_config_file_apply_at_start() {
    let path =
        std::env::temp_dir().join(format!("guestissuer-faults-{}.toml", uuid::Uuid::new_v4()));
    let file = r#"
[webex.retry]
max_attempts = 3
initial_delay_ms = 10
max_delay_ms = 50
max_retry_after_s = 5

[emulator.faults."POST /jwt/login"]
responses = [502, 200]
"#;
    std::fs::write(&path, file).unwrap();
    let settings = Settings::load_with_env(Some(&path), base_env()).expect("settings load");
    std::fs::remove_file(&path).unwrap();
    let app = spawn_settings(settings).await;

    assert_eq!(
        login(&app, "configured-1", "Configured").await.status(),
        200
    );
    assert_eq!(calls(&app, LOGIN_ROUTE).await, 2);
}

#[test]
fn invalid_resilience_settings_name_the_key() {
    let cases = [
        (
            "GUESTISSUER__WEBEX__RETRY__MAX_ATTEMPTS",
            "0",
            "webex.retry.max_attempts",
        ),
        (
            "GUESTISSUER__WEBEX__RETRY__INITIAL_DELAY_MS",
            "0",
            "webex.retry.initial_delay_ms",
        ),
        (
            "GUESTISSUER__WEBEX__RETRY__MAX_DELAY_MS",
            "1",
            "webex.retry.max_delay_ms",
        ),
        ("GUESTISSUER__WEBEX__DEADLINE_MS", "0", "webex.deadline_ms"),
        (
            "GUESTISSUER__WEBEX__TOKEN_CACHE__MAX_ENTRIES",
            "0",
            "webex.token_cache.max_entries",
        ),
    ];
    for (variable, value, key) in cases {
        let mut env = base_env();
        env.insert(variable.to_owned(), value.to_owned());
        let error = Settings::load_with_env(None, env).unwrap_err().to_string();
        assert!(error.contains(key), "{variable}={value}: {error}");
    }
}

#[test]
fn invalid_fault_in_config_names_the_route() {
    let path =
        std::env::temp_dir().join(format!("guestissuer-faults-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(
        &path,
        "[emulator.faults.\"POST /jwt/login\"]\nresponses = [42]\n",
    )
    .unwrap();
    let error = Settings::load_with_env(Some(&path), base_env())
        .unwrap_err()
        .to_string();
    std::fs::remove_file(&path).unwrap();

    assert!(error.contains("emulator.faults"), "{error}");
    assert!(error.contains("status 42"), "{error}");
}
