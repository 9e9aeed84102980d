//! The emulator's Service App calls, spoken to directly, and the
//! validation of the `[service_app]` configuration.

use std::collections::HashMap;

use guestissuer::config::{ConfigError, DEMO_CLIENT_ID, Settings, WebexMode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const DEMO_SECRET: &str = "demo-service-app-secret-emulator-only";
const DEMO_REFRESH_TOKEN: &str = "demo-service-app-refresh-token-emulator-only";

async fn grant(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    let url = format!("{}/access_token", app.emulator_url.as_ref().unwrap());
    app.client.post(url).form(form).send().await.unwrap()
}

async fn refresh(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    grant(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_SECRET),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

async fn oauth_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert!(response.headers().contains_key("trackingid"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    assert!(body["error_description"].as_str().unwrap().len() > 10);
    body
}

#[tokio::test]
async fn emulator_rotates_refresh_tokens() {
    let app = spawn_app().await;

    let response = refresh(&app, DEMO_REFRESH_TOKEN).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 1209600);
    assert_eq!(tokens["refresh_token_expires_in"], 7776000);
    let rotated = tokens["refresh_token"].as_str().unwrap();
    assert_ne!(rotated, DEMO_REFRESH_TOKEN);

    let reused = refresh(&app, DEMO_REFRESH_TOKEN).await;
    oauth_error(reused, 400, "invalid_grant").await;
    let unknown = refresh(&app, "never-issued").await;
    oauth_error(unknown, 400, "invalid_grant").await;
    assert_eq!(refresh(&app, rotated).await.status(), 200);
}

#[tokio::test]
async fn emulator_checks_grant_request() {
    let app = spawn_app().await;
    let wrong_secret = grant(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", "wrong"),
            ("refresh_token", DEMO_REFRESH_TOKEN),
        ],
    )
    .await;
    oauth_error(wrong_secret, 401, "invalid_client").await;

    let wrong_grant = grant(&app, &[("grant_type", "client_credentials")]).await;
    oauth_error(wrong_grant, 400, "unsupported_grant_type").await;

    let missing = grant(&app, &[("grant_type", "refresh_token")]).await;
    let body = oauth_error(missing, 400, "invalid_request").await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("client_id")
    );

    let url = format!("{}/access_token", app.emulator_url.as_ref().unwrap());
    let as_json = app
        .client
        .post(url)
        .json(&json!({ "grant_type": "refresh_token" }))
        .send()
        .await
        .unwrap();
    oauth_error(as_json, 400, "invalid_request").await;

    // The configured refresh token still works: failed grants used nothing.
    assert_eq!(refresh(&app, DEMO_REFRESH_TOKEN).await.status(), 200);
}

#[tokio::test]
async fn emulator_guest_token_and_count() {
    let app = spawn_app().await;
    let base = app.emulator_url.clone().unwrap();
    let tokens: Value = refresh(&app, DEMO_REFRESH_TOKEN)
        .await
        .json()
        .await
        .unwrap();
    let app_token = tokens["access_token"].as_str().unwrap();

    let unauthorised = app
        .client
        .post(format!("{base}/guests/token"))
        .json(&json!({ "subject": "s-1", "displayName": "S" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status(), 401);

    let missing_name = app
        .client
        .post(format!("{base}/guests/token"))
        .bearer_auth(app_token)
        .json(&json!({ "subject": "s-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(missing_name.status(), 400);
    let body: Value = missing_name.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("displayName"));
    assert!(body["trackingId"].is_string());

    let mut access_tokens = Vec::new();
    for _ in 0..2 {
        let response = app
            .client
            .post(format!("{base}/guests/token"))
            .bearer_auth(app_token)
            .json(&json!({ "subject": "PersonNo#1", "displayName": "Person of Interest" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let guest: Value = response.json().await.unwrap();
        assert_eq!(guest["subject"], "PersonNo#1");
        assert_eq!(guest["displayName"], "Person of Interest");
        assert_eq!(guest["expiresIn"], 64799);
        assert!(
            guest["email"]
                .as_str()
                .unwrap()
                .ends_with("@appid.ciscospark.com")
        );
        access_tokens.push(guest["accessToken"].as_str().unwrap().to_owned());
    }
    assert_ne!(access_tokens[0], access_tokens[1], "a new token each call");

    for token in &access_tokens {
        let person = app
            .client
            .get(format!("{base}/people/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(person.status(), 200, "earlier tokens stay valid");
    }

    let count = app
        .client
        .get(format!("{base}/guests/count"))
        .bearer_auth(app_token)
        .send()
        .await
        .unwrap();
    assert_eq!(count.status(), 200);
    let content_type = count.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert_eq!(count.text().await.unwrap(), "1");
}

fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let env: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::load_with_env(None, env)
}

#[test]
fn service_app_defaults_match_emulator() {
    let settings = load(&[]).unwrap();
    assert_eq!(settings.webex.mode, WebexMode::GuestIssuer);
    let own = &settings.service_app;
    let emulated = &settings.emulator.service_app;
    assert_eq!(own.client_id, emulated.client_id);
    assert!(own.state_file.is_none());
    assert_eq!(own.refresh_margin.as_secs(), 3600);
    assert_eq!(own.retry.attempts, 4);
    let demo = load(&[("GUESTISSUER__WEBEX__MODE", "service_app")]).unwrap();
    assert_eq!(demo.webex.mode, WebexMode::ServiceApp);
}

#[test]
fn service_app_config_errors_name_key() {
    let directory = tempfile::tempdir().unwrap();
    let secret_file = directory.path().join("secret");
    std::fs::write(&secret_file, "from-a-file\n").unwrap();
    let secret_file = secret_file.display().to_string();
    let missing_dir = directory.path().join("nowhere/state.json");
    let missing_dir = missing_dir.display().to_string();
    let real_url = (
        "GUESTISSUER__WEBEX__BASE_URL",
        "https://webex.example.test/v1",
    );
    let mode = ("GUESTISSUER__WEBEX__MODE", "service_app");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("GUESTISSUER__WEBEX__MODE", "jwt")], "mode"),
        (vec![mode, real_url], "service_app.state_file"),
        (
            vec![
                ("GUESTISSUER__SERVICE_APP__CLIENT_SECRET", "inline"),
                ("GUESTISSUER__SERVICE_APP__CLIENT_SECRET_FILE", &secret_file),
            ],
            "service_app.client_secret",
        ),
        (
            vec![("GUESTISSUER__SERVICE_APP__REFRESH_TOKEN_FILE", &missing_dir)],
            "service_app.refresh_token_file",
        ),
        (
            vec![("GUESTISSUER__SERVICE_APP__ACCESS_TOKEN", "abc")],
            "service_app.access_token_expires_at",
        ),
        (
            vec![
                ("GUESTISSUER__SERVICE_APP__ACCESS_TOKEN", "abc"),
                (
                    "GUESTISSUER__SERVICE_APP__ACCESS_TOKEN_EXPIRES_AT",
                    "tomorrow",
                ),
            ],
            "service_app.access_token_expires_at",
        ),
        (
            vec![("GUESTISSUER__SERVICE_APP__STATE_FILE", &missing_dir)],
            "service_app.state_file",
        ),
        (
            vec![("GUESTISSUER__SERVICE_APP__REFRESH_ATTEMPTS", "0")],
            "service_app.refresh_attempts",
        ),
        (
            vec![("GUESTISSUER__SERVICE_APP__REFRESH_BACKOFF_MAX_MS", "10")],
            "service_app.refresh_backoff_max_ms",
        ),
        (
            vec![("GUESTISSUER__SERVICE_APP__CLIENT_ID", " ")],
            "service_app.client_id",
        ),
        (
            vec![(
                "GUESTISSUER__EMULATOR__SERVICE_APP__GUEST_TOKEN_LIFETIME_SECS",
                "0",
            )],
            "emulator.service_app.guest_token_lifetime_secs",
        ),
    ];
    for (pairs, key) in cases {
        let error = load(&pairs).unwrap_err().to_string();
        assert!(error.contains(key), "{pairs:?}: {error}");
        assert!(!error.contains('\n'), "one line: {error}");
    }
}

#[test]
fn service_app_secret_from_file() {
    let directory = tempfile::tempdir().unwrap();
    let secret_file = directory.path().join("secret");
    std::fs::write(&secret_file, "from-a-file\n").unwrap();
    let secret_file = secret_file.display().to_string();
    let settings = load(&[
        ("GUESTISSUER__SERVICE_APP__CLIENT_SECRET_FILE", &secret_file),
        ("GUESTISSUER__SERVICE_APP__REFRESH_TOKEN_FILE", &secret_file),
    ])
    .unwrap();
    let own = &settings.service_app;
    assert_eq!(own.client_secret.expose_secret(), "from-a-file");
    assert_eq!(own.refresh_token.expose_secret(), "from-a-file");
    let debug = format!("{own:?}");
    assert!(
        !debug.contains("from-a-file"),
        "Debug hides secrets: {debug}"
    );

    let state_path = directory.path().join("state.json");
    let settings = load(&[
        ("GUESTISSUER__WEBEX__MODE", "service_app"),
        (
            "GUESTISSUER__WEBEX__BASE_URL",
            "https://webex.example.test/v1",
        ),
        (
            "GUESTISSUER__SERVICE_APP__STATE_FILE",
            &state_path.display().to_string(),
        ),
        ("GUESTISSUER__SERVICE_APP__ACCESS_TOKEN", "abc"),
        (
            "GUESTISSUER__SERVICE_APP__ACCESS_TOKEN_EXPIRES_AT",
            "2030-01-31T12:00:00Z",
        ),
    ])
    .unwrap();
    let access = settings.service_app.access_token.unwrap();
    assert_eq!(access.expires_at.to_rfc3339(), "2030-01-31T12:00:00+00:00");
    assert_eq!(settings.service_app.state_file.unwrap(), state_path);
}
