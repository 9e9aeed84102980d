//! The Service App's tokens across refreshes and restarts: the state file,
//! its permissions, and one refresh for many callers of a stale token.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use guestissuer::config::{DEMO_CLIENT_ID, Settings};
use guestissuer::emulator::{self, EmulatorState, RunningEmulator};
use guestissuer::webex::{TokenManager, WebexClient};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::helpers::{TestApp, base_env, problem, spawn_settings};
use crate::service_app::{login, readyz};

/// Refresh token of the demo Service App in `config/default.toml`.
const DEMO_REFRESH_TOKEN: &str = "demo-service-app-refresh-token-emulator-only";

/// Starts a standalone emulator that outlives the services started
/// against it, as Webex outlives a service restart.
async fn standalone_emulator() -> RunningEmulator {
    let defaults = Settings::load_with_env(None, base_env()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let setup = emulator::EmulatorSetup {
        service_apps: vec![defaults.emulator.service_app],
        ..emulator::EmulatorSetup::default()
    };
    emulator::spawn_with(listener, setup).unwrap()
}

fn service_app_settings(emulator: &RunningEmulator, state_file: &Path) -> Settings {
    let mut env = base_env();
    env.insert("GUESTISSUER__WEBEX__MODE".into(), "service_app".into());
    env.insert("GUESTISSUER__WEBEX__BASE_URL".into(), emulator.base_url());
    env.insert(
        "GUESTISSUER__SERVICE_APP__STATE_FILE".into(),
        state_file.display().to_string(),
    );
    Settings::load_with_env(None, env).unwrap()
}

fn read_state(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn refreshes(emulator: &EmulatorState) -> u64 {
    emulator.service_apps.refresh_count()
}

/// Writes a state file whose access token expired an hour ago and whose
/// refresh token is `refresh_token`.
fn write_expired_state(path: &Path, refresh_token: &str) {
    let hour_ago = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    let state = json!({
        "version": 1,
        "clientId": DEMO_CLIENT_ID,
        "accessToken": "EMU_expired_token",
        "accessTokenIssuedAt": hour_ago - chrono::TimeDelta::hours(1),
        "accessTokenExpiresAt": hour_ago,
        "refreshToken": refresh_token,
        "refreshTokenExpiresAt": null,
        "originRefreshTokenSha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(DEMO_REFRESH_TOKEN)),
        "updatedAt": hour_ago,
    });
    std::fs::write(path, serde_json::to_vec(&state).unwrap()).unwrap();
}

#[tokio::test]
async fn state_file_survives_restart() {
    let emulator = standalone_emulator().await;
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("service-app.json");

    let first = spawn_settings(service_app_settings(&emulator, &path)).await;
    assert_eq!(login(&first, "u-1", "One").await.status(), 200);
    assert_eq!(refreshes(&emulator.state), 1);
    let saved = read_state(&path);
    let rotated = saved["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(rotated, DEMO_REFRESH_TOKEN, "the refresh token rotated");
    assert_eq!(saved["clientId"], DEMO_CLIENT_ID);
    assert!(saved["accessToken"].as_str().unwrap().starts_with("EMU_"));
    assert_eq!(mode_of(&path), 0o600);

    // A restart reuses the saved access token without refreshing.
    let second = spawn_settings(service_app_settings(&emulator, &path)).await;
    assert_eq!(login(&second, "u-2", "Two").await.status(), 200);
    assert_eq!(refreshes(&emulator.state), 1);

    // The next refresh must use the saved, rotated refresh token: the
    // configured one was used up by the first refresh.
    emulator.state.service_apps.expire_access_tokens();
    assert_eq!(login(&second, "u-3", "Three").await.status(), 200);
    assert_eq!(refreshes(&emulator.state), 2);
    let saved = read_state(&path);
    assert_ne!(saved["refreshToken"].as_str().unwrap(), rotated);
    assert_eq!(mode_of(&path), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(directory.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
}

#[tokio::test]
async fn changed_config_token_beats_state_file() {
    let emulator = standalone_emulator().await;
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.json");
    let first = spawn_settings(service_app_settings(&emulator, &path)).await;
    assert_eq!(login(&first, "u-1", "One").await.status(), 200);

    // An operator puts a new refresh token into the configuration. Webex
    // does not know this one, so the service must fail with it rather than
    // quietly keep the state file's working tokens.
    let mut settings = service_app_settings(&emulator, &path);
    settings.service_app.refresh_token = "operator-supplied-new-token".to_owned().into();
    let second = spawn_settings(settings).await;
    let body = problem(login(&second, "u-2", "Two").await, 503).await;
    assert!(body["detail"].as_str().unwrap().contains("invalid_grant"));
    let (status, _) = readyz(&second).await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn loose_state_file_mode_narrowed() {
    let emulator = standalone_emulator().await;
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.json");
    write_expired_state(&path, DEMO_REFRESH_TOKEN);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();

    let app = spawn_settings(service_app_settings(&emulator, &path)).await;
    assert_eq!(mode_of(&path), 0o600);
    assert_eq!(login(&app, "u-1", "One").await.status(), 200);
    assert_eq!(mode_of(&path), 0o600);
}

#[tokio::test]
async fn corrupt_state_file_stops_startup() {
    let emulator = standalone_emulator().await;
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.json");
    std::fs::write(&path, "{ not json").unwrap();

    let settings = service_app_settings(&emulator, &path);
    let error = guestissuer::startup::Application::build(settings)
        .await
        .err()
        .expect("start-up fails")
        .to_string();
    assert!(error.contains("service_app.state_file"), "{error}");
    assert!(error.contains("delete it"), "{error}");
}

#[tokio::test]
async fn fifty_logins_with_expired_state_token() {
    let emulator = standalone_emulator().await;
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.json");
    write_expired_state(&path, DEMO_REFRESH_TOKEN);

    let app: TestApp = spawn_settings(service_app_settings(&emulator, &path)).await;
    let requests = (0..50).map(|i| {
        let app = &app;
        async move { login(app, &format!("g-{i}"), "Guest").await }
    });
    for (i, response) in futures::future::join_all(requests)
        .await
        .into_iter()
        .enumerate()
    {
        assert_eq!(response.status(), 200, "request {i}");
    }
    assert_eq!(refreshes(&emulator.state), 1);
}

/// Builds a token manager without its background task, so only callers
/// can start a refresh.
fn manager(emulator: &RunningEmulator, state_file: &Path) -> Arc<TokenManager> {
    let settings = service_app_settings(emulator, state_file);
    let client = WebexClient::new(&emulator.base_url(), &settings.webex).unwrap();
    Arc::new(TokenManager::load(&settings.service_app, client).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_callers_share_one_refresh() {
    let emulator = standalone_emulator().await;
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.json");
    write_expired_state(&path, DEMO_REFRESH_TOKEN);
    let tokens = manager(&emulator, &path);

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let tokens = Arc::clone(&tokens);
        tasks.spawn(async move {
            let token = tokens.access_token().await.expect("a token");
            token.token.expose_secret().to_owned()
        });
    }
    let mut seen = HashMap::new();
    while let Some(result) = tasks.join_next().await {
        *seen.entry(result.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 1, "every caller got the same new token");
    assert!(!seen.contains_key("EMU_expired_token"));
    assert_eq!(refreshes(&emulator.state), 1);
    assert_eq!(tokens.refresh_count(), 1);
}

#[tokio::test]
async fn stale_valid_token_served_without_waiting() {
    let emulator = standalone_emulator().await;
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.json");
    let soon = chrono::Utc::now() + chrono::TimeDelta::seconds(30);
    let state = json!({
        "version": 1,
        "clientId": DEMO_CLIENT_ID,
        "accessToken": "EMU_still_valid",
        "accessTokenIssuedAt": null,
        "accessTokenExpiresAt": soon,
        "refreshToken": "unknown-refresh-token",
        "refreshTokenExpiresAt": null,
        "originRefreshTokenSha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(DEMO_REFRESH_TOKEN)),
        "updatedAt": chrono::Utc::now(),
    });
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();

    // Within the refresh margin (3600 s by default) but unexpired: the
    // caller gets the token at once, and no refresh runs on its behalf.
    let tokens = manager(&emulator, &path);
    let token = tokens.access_token().await.unwrap();
    assert_eq!(token.token.expose_secret(), "EMU_still_valid");
    assert_eq!(refreshes(&emulator.state), 0);
    let checks = tokens.readiness();
    assert_eq!(
        checks["serviceAppToken"].status,
        guestissuer::readiness::CheckStatus::Ok
    );
}

/// Scripts the next responses of the emulator's `POST /access_token`.
fn script_refreshes(emulator: &RunningEmulator, statuses: &[u16]) {
    let routes = serde_json::from_value(json!({
        "POST /access_token": { "responses": statuses }
    }))
    .unwrap();
    let faults = guestissuer::emulator::Faults::from_routes(routes).unwrap();
    emulator.faults.replace(faults);
}

fn refresh_calls(emulator: &RunningEmulator) -> u64 {
    let calls = emulator.faults.calls();
    calls.get("POST /access_token").copied().unwrap_or(0)
}

fn fast_retry_settings(emulator: &RunningEmulator, state_file: &Path) -> Settings {
    let mut settings = service_app_settings(emulator, state_file);
    settings.service_app.retry.initial_backoff = std::time::Duration::from_millis(10);
    settings.service_app.retry.max_backoff = std::time::Duration::from_millis(40);
    settings.service_app.retry.retry_after = std::time::Duration::from_secs(1);
    settings
}

#[tokio::test]
async fn refresh_retried_after_503() {
    let emulator = standalone_emulator().await;
    script_refreshes(&emulator, &[503, 502]);
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.json");

    let app = spawn_settings(fast_retry_settings(&emulator, &path)).await;
    assert_eq!(login(&app, "u-1", "One").await.status(), 200);
    assert_eq!(refresh_calls(&emulator), 3, "two failures, then success");
    assert_eq!(refreshes(&emulator.state), 1);
}

#[tokio::test]
async fn exhausted_retries_recover_later() {
    let emulator = standalone_emulator().await;
    script_refreshes(&emulator, &[503, 503, 503, 503]);
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.json");

    let app = spawn_settings(fast_retry_settings(&emulator, &path)).await;
    let body = problem(login(&app, "u-1", "One").await, 503).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("status 503"), "{detail}");
    assert!(detail.contains("next refresh attempt"), "{detail}");
    assert_eq!(refresh_calls(&emulator), 4, "service_app.refresh_attempts");
    let (status, _) = readyz(&app).await;
    assert_eq!(status, 503);

    // The scripted failures are used up; after refresh_retry_after_secs the
    // next attempt succeeds without a restart.
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    assert_eq!(login(&app, "u-2", "Two").await.status(), 200);
    let (status, _) = readyz(&app).await;
    assert_eq!(status, 200);
}
