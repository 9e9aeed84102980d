//! `webex.mode = "service_app"` through the HTTP API: guest logins,
//! counts, calls that have no meaning in this mode, and how the service
//! degrades when Webex ends the Service App's tokens.

use std::time::{Duration, Instant};

use guestissuer::auth::{generate_key, hash_key};
use guestissuer::config::DEMO_CLIENT_ID;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with, spawn_app_with_toml};

pub const SERVICE_APP_MODE: (&str, &str) = ("GUESTISSUER__WEBEX__MODE", "service_app");

/// Starts the service in Service App mode against the in-process emulator.
pub async fn spawn_service_app(extra: &[(&str, &str)]) -> TestApp {
    let mut overrides = vec![SERVICE_APP_MODE];
    overrides.extend_from_slice(extra);
    spawn_app_with(&overrides).await
}

pub async fn login(app: &TestApp, user_id: &str, user_name: &str) -> reqwest::Response {
    app.post_json(
        "/guests/login",
        &json!({ "userId": user_id, "userName": user_name }),
    )
    .await
}

async fn whoami(app: &TestApp, access_token: &str) -> Value {
    let response = app
        .client
        .get(app.url("/whoami"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub async fn readyz(app: &TestApp) -> (u16, Value) {
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn guest_count(app: &TestApp) -> reqwest::Response {
    app.client
        .get(app.url("/guests/count"))
        .send()
        .await
        .unwrap()
}

fn refreshes(app: &TestApp) -> u64 {
    app.emulator.as_ref().unwrap().service_apps.refresh_count()
}

#[tokio::test]
async fn service_app_login_whoami_count() {
    let app = spawn_service_app(&[]).await;

    let response = login(&app, "visitor-42", "Grace Hopper").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["userId"], "visitor-42");
    assert_eq!(body["expiresIn"], 64799);
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(body["expiresAt"].as_str().unwrap()).unwrap();
    let lifetime = expires_at.timestamp() - chrono::Utc::now().timestamp();
    assert!((64790..=64800).contains(&lifetime), "expiresAt: {lifetime}");
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["accessToken", "expiresAt", "expiresIn", "userId"]);

    let person = whoami(&app, body["accessToken"].as_str().unwrap()).await;
    assert_eq!(person["displayName"], "Grace Hopper");
    assert_eq!(person["type"], "appuser");
    let email = person["emails"][0].as_str().unwrap();
    assert!(email.ends_with("@appid.ciscospark.com"), "email: {email}");
    assert!(
        !email.starts_with("visitor-42"),
        "email is synthetic: {email}"
    );

    let response = guest_count(&app).await;
    assert_eq!(response.status(), 200);
    let count: Value = response.json().await.unwrap();
    assert_eq!(count, json!({ "count": 1 }));

    assert_eq!(login(&app, "visitor-43", "Alan Turing").await.status(), 200);
    let count: Value = guest_count(&app).await.json().await.unwrap();
    assert_eq!(count["count"], 2);
    assert_eq!(refreshes(&app), 1, "one refresh serves every call");

    let (status, ready) = readyz(&app).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["serviceAppToken"]["status"], "ok");
}

#[tokio::test]
async fn service_app_same_subject_renames() {
    let app = spawn_service_app(&[]).await;
    let mut people = Vec::new();
    for name in ["First Name", "Second Name"] {
        let body: Value = login(&app, "returning", name).await.json().await.unwrap();
        people.push(whoami(&app, body["accessToken"].as_str().unwrap()).await);
    }
    assert_eq!(people[0]["id"], people[1]["id"]);
    assert_eq!(people[0]["emails"], people[1]["emails"]);
    assert_eq!(people[1]["displayName"], "Second Name");
    let count: Value = guest_count(&app).await.json().await.unwrap();
    assert_eq!(count["count"], 1);
}

#[tokio::test]
async fn service_app_rejects_guest_jwt_calls() {
    let app = spawn_service_app(&[]).await;

    let response = app
        .post_json("/guests", &json!({ "userId": "u-1", "userName": "U" }))
        .await;
    let body = problem(response, 404).await;
    assert_eq!(
        body["type"],
        "urn:guestissuer:problem:not-available-in-mode"
    );
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("service_app"), "{detail}");
    assert!(detail.contains("POST /guests/login"), "{detail}");
    assert!(detail.contains("userId"), "{detail}");

    let response = app
        .post_json("/guests/login", &json!({ "token": "a.b.c" }))
        .await;
    let body = problem(response, 422).await;
    assert_eq!(
        body["type"],
        "urn:guestissuer:problem:not-available-in-mode"
    );
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("userName"), "{detail}");
    let emulator = app.emulator.as_ref().unwrap();
    assert_eq!(
        emulator.app_guest_count(DEMO_CLIENT_ID),
        0,
        "no guest created by a call without meaning"
    );
}

#[tokio::test]
async fn guest_issuer_has_no_guest_count() {
    let app = spawn_app().await;
    let body = problem(guest_count(&app).await, 404).await;
    assert_eq!(
        body["type"],
        "urn:guestissuer:problem:not-available-in-mode"
    );
    assert!(body["detail"].as_str().unwrap().contains("service_app"));

    let (status, ready) = readyz(&app).await;
    assert_eq!(status, 200);
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["guestIssuer"]["status"], "ok");
}

#[tokio::test]
async fn service_app_validates_identity() {
    let app = spawn_service_app(&[]).await;
    let response = login(&app, "", "Name").await;
    let body = problem(response, 422).await;
    assert_eq!(body["field"], "userId");
    let response = app
        .post_json("/guests/login", &json!({ "userId": "u-1" }))
        .await;
    let body = problem(response, 422).await;
    assert!(body["detail"].as_str().unwrap().contains("userName"));
}

#[tokio::test]
async fn rejected_app_token_refreshed_once_for_fifty() {
    let app = spawn_service_app(&[]).await;
    assert_eq!(login(&app, "warm-up", "Warm Up").await.status(), 200);
    assert_eq!(refreshes(&app), 1);

    // Webex ends the app's access token while the service still counts it
    // as valid: every request meets a 401 and needs the same new token.
    app.emulator
        .as_ref()
        .unwrap()
        .service_apps
        .expire_access_tokens();
    let requests = (0..50).map(|i| {
        let app = &app;
        async move { login(app, &format!("guest-{i}"), "Concurrent Guest").await }
    });
    let responses = futures::future::join_all(requests).await;
    for (i, response) in responses.into_iter().enumerate() {
        assert_eq!(response.status(), 200, "request {i}");
    }
    assert_eq!(refreshes(&app), 2, "exactly one refresh for 50 requests");
}

#[tokio::test]
async fn revoked_app_gives_503_not_500() {
    let app = spawn_service_app(&[]).await;
    assert_eq!(login(&app, "before", "Before").await.status(), 200);

    let emulator = app.emulator.as_ref().unwrap();
    emulator.service_apps.revoke(DEMO_CLIENT_ID);

    let body = problem(login(&app, "after", "After").await, 503).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("invalid_grant"), "{detail}");
    assert!(detail.contains("service_app.refresh_token"), "{detail}");
    assert!(!detail.contains("EMU_"), "no token in the detail: {detail}");

    let body = problem(guest_count(&app).await, 503).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("next refresh attempt")
    );

    let (status, ready) = readyz(&app).await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["status"], "not_ready");
    assert_eq!(ready["checks"]["serviceAppToken"]["status"], "failed");
    let detail = ready["checks"]["serviceAppToken"]["detail"]
        .as_str()
        .unwrap();
    assert!(detail.contains("invalid_grant"), "{detail}");
}

#[tokio::test]
async fn expired_app_token_refreshed_transparently() {
    let app = spawn_service_app(&[
        (
            "GUESTISSUER__EMULATOR__SERVICE_APP__ACCESS_TOKEN_LIFETIME_SECS",
            "2",
        ),
        ("GUESTISSUER__SERVICE_APP__REFRESH_MARGIN_SECS", "0"),
    ])
    .await;
    assert_eq!(login(&app, "early", "Early").await.status(), 200);
    assert_eq!(refreshes(&app), 1);

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let response = login(&app, "late", "Late").await;
    assert_eq!(response.status(), 200);
    assert!(refreshes(&app) >= 2, "the expired token was replaced");
    let (status, _) = readyz(&app).await;
    assert_eq!(status, 200);
}

/// Polls `/readyz` until the `serviceAppToken` check has `status`, for at
/// most ten seconds, and returns the readiness status code and body.
async fn wait_for_token_check(app: &TestApp, status: &str) -> (u16, Value) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (code, body) = readyz(app).await;
        if body["checks"]["serviceAppToken"]["status"] == status {
            return (code, body);
        }
        assert!(
            Instant::now() < deadline,
            "serviceAppToken never became {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn valid_token_outlives_failed_refresh() {
    // Access tokens live 4 s and are refreshed half-way, at 2 s.
    let app = spawn_service_app(&[
        (
            "GUESTISSUER__EMULATOR__SERVICE_APP__ACCESS_TOKEN_LIFETIME_SECS",
            "4",
        ),
        ("GUESTISSUER__SERVICE_APP__REFRESH_RETRY_AFTER_SECS", "60"),
    ])
    .await;
    assert_eq!(login(&app, "first", "First").await.status(), 200);
    let emulator = app.emulator.as_ref().unwrap();
    emulator.service_apps.revoke_refresh_tokens(DEMO_CLIENT_ID);

    // The refresh at 2 s fails, but the token stays valid until 4 s.
    let (status, ready) = wait_for_token_check(&app, "warn").await;
    assert_eq!(status, 200, "{ready}");
    let detail = ready["checks"]["serviceAppToken"]["detail"]
        .as_str()
        .unwrap();
    assert!(detail.contains("invalid_grant"), "{detail}");
    assert_eq!(
        login(&app, "second", "Second").await.status(),
        200,
        "the old token still works after the refresh failed"
    );
    assert_eq!(refreshes(&app), 1);

    let (status, ready) = wait_for_token_check(&app, "failed").await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["status"], "not_ready");
    let body = problem(login(&app, "third", "Third").await, 503).await;
    assert!(body["detail"].as_str().unwrap().contains("invalid_grant"));
}

#[tokio::test]
async fn guest_count_needs_api_key() {
    let key = generate_key().expose_secret().to_owned();
    let toml = format!(
        "[auth]\nmode = \"api_key\"\n\n[[auth.api_keys]]\nclient = \"ops\"\nsha256 = \"{}\"\n",
        hash_key(&key)
    );
    let app = spawn_app_with_toml(&toml, &[SERVICE_APP_MODE]).await;

    problem(guest_count(&app).await, 401).await;
    let response = app
        .client
        .get(app.url("/guests/count"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let count: Value = response.json().await.unwrap();
    assert_eq!(count["count"], 0);
}

#[tokio::test]
async fn guest_count_forbidden_to_visitors() {
    let app = spawn_service_app(&[("GUESTISSUER__AUTH__MODE", "anonymous")]).await;
    let body = problem(guest_count(&app).await, 403).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("API key"), "{detail}");
}

/// Sets the in-process emulator's faults through its control endpoint.
async fn set_emulator_faults(app: &TestApp, faults: Value) {
    let base = app.emulator_url.as_deref().unwrap().trim_end_matches("/v1");
    let response = app
        .client
        .put(format!("{base}/_emulator/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "faults accepted");
}

#[tokio::test]
async fn deadline_spans_refresh_and_call() {
    let app = spawn_service_app(&[("GUESTISSUER__WEBEX__DEADLINE_MS", "800")]).await;
    assert_eq!(login(&app, "warm-up", "Warm Up").await.status(), 200);
    assert_eq!(refreshes(&app), 1);

    // Each call alone fits in 800 ms, but a rejected guest call, the token
    // refresh and the repeated call together take about 1.5 s.
    set_emulator_faults(
        &app,
        json!({
            "POST /guests/token": { "latency_ms": 500 },
            "POST /access_token": { "latency_ms": 500 },
        }),
    )
    .await;
    app.emulator
        .as_ref()
        .unwrap()
        .service_apps
        .expire_access_tokens();
    let started = Instant::now();
    let body = problem(login(&app, "slow", "Slow").await, 504).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(1400),
        "cut at the deadline: {elapsed:?}"
    );
    assert!(body["detail"].as_str().unwrap().contains("within 800 ms"));

    // The refresh the request started finishes on its own task, so the
    // rotated refresh token is kept and the next login needs no refresh.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(refreshes(&app), 2, "the refresh completed after the 504");
    set_emulator_faults(&app, json!({})).await;
    assert_eq!(login(&app, "after", "After").await.status(), 200);
    assert_eq!(refreshes(&app), 2, "no second refresh was needed");
}
