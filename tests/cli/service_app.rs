//! `quick --service-app`: a guest access token through a Service App, with
//! credentials from options or the environment, against the emulator.

use std::os::unix::fs::PermissionsExt;

use guestissuer::config::{DEMO_CLIENT_ID, Settings};
use guestissuer::emulator::{self, EmulatorSetup, RunningEmulator};
use serde_json::Value;
use tokio::net::TcpListener;

use super::support::{VECTOR_ISSUER, cli, run};

const DEMO_SECRET: &str = "demo-service-app-secret-emulator-only";
const DEMO_REFRESH_TOKEN: &str = "demo-service-app-refresh-token-emulator-only";

/// Starts an emulator that accepts the demo Service App.
async fn start_emulator() -> RunningEmulator {
    let defaults = Settings::load_with_env(None, Default::default()).unwrap();
    let setup = EmulatorSetup {
        service_apps: vec![defaults.emulator.service_app],
        ..EmulatorSetup::default()
    };
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    emulator::spawn_with(listener, setup).unwrap()
}

#[tokio::test]
async fn service_app_quick_with_options() {
    let emulator = start_emulator().await;
    let base_url = emulator.base_url();

    let quick = run(&[
        "quick",
        "visitor-1",
        "Service Guest",
        "--service-app",
        "--client-id",
        DEMO_CLIENT_ID,
        "--client-secret",
        DEMO_SECRET,
        "--refresh-token",
        DEMO_REFRESH_TOKEN,
        "--base-url",
        &base_url,
    ])
    .await;
    assert_eq!(quick.code, 0, "stderr: {}", quick.stderr);
    assert_eq!(quick.stdout.lines().count(), 1);
    assert!(quick.out().starts_with("EMU_"), "{}", quick.stdout);
    assert!(
        quick.stderr.contains("--state-file"),
        "the rotated refresh token is lost without a state file: {}",
        quick.stderr
    );
    assert!(!quick.stderr.contains("EMU_"), "no token on stderr");

    let person = run(&["verify", "--access", quick.out(), "--base-url", &base_url]).await;
    let person = person.json();
    assert_eq!(person["displayName"], "Service Guest");
    let email = person["emails"][0].as_str().unwrap();
    assert!(email.ends_with("@appid.ciscospark.com"), "{email}");
    assert_eq!(emulator.state.app_guest_count(DEMO_CLIENT_ID), 1);
}

#[tokio::test]
async fn service_app_quick_keeps_state() {
    let emulator = start_emulator().await;
    let directory = tempfile::tempdir().unwrap();
    let state_file = directory.path().join("tokens.json");
    let state_path = state_file.display().to_string();

    for (round, user_id) in ["env-1", "env-2"].into_iter().enumerate() {
        let quick = cli(&["quick", user_id, "Env Guest", "--service-app", "--json"])
            .env("SERVICE_APP_CLIENT_ID", DEMO_CLIENT_ID)
            .env("SERVICE_APP_CLIENT_SECRET", DEMO_SECRET)
            .env("SERVICE_APP_REFRESH_TOKEN", DEMO_REFRESH_TOKEN)
            .env("SERVICE_APP_STATE_FILE", &state_path)
            .env("GUESTISSUER_WEBEX_BASE_URL", &emulator.base_url())
            .run()
            .await;
        assert_eq!(quick.code, 0, "round {round}: {}", quick.stderr);
        assert_eq!(quick.stderr, "", "round {round}");
        let body = quick.json();
        assert_eq!(body["userId"], user_id);
        assert_eq!(body["expiresIn"], 64799);
        // The second run reuses the saved access token: the configured
        // refresh token was used up by the first run's refresh.
        assert_eq!(emulator.state.service_apps.refresh_count(), 1);
    }
    let mode = std::fs::metadata(&state_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let saved: Value = serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    assert_ne!(saved["refreshToken"], DEMO_REFRESH_TOKEN);
}

#[tokio::test]
async fn service_app_quick_missing_credential() {
    let quick = run(&[
        "quick",
        "u-1",
        "Name",
        "--service-app",
        "--client-secret",
        DEMO_SECRET,
        "--refresh-token",
        DEMO_REFRESH_TOKEN,
    ])
    .await;
    assert_eq!(quick.code, 2);
    assert_eq!(quick.stdout, "");
    assert!(quick.stderr.contains("--client-id"), "{}", quick.stderr);
    assert!(
        quick.stderr.contains("SERVICE_APP_CLIENT_ID"),
        "{}",
        quick.stderr
    );
}

#[tokio::test]
async fn service_app_quick_state_dir_missing() {
    let directory = tempfile::tempdir().unwrap();
    let missing = directory.path().join("absent/tokens.json");
    let quick = cli(&["quick", "u-1", "Name", "--service-app"])
        .env("SERVICE_APP_CLIENT_ID", DEMO_CLIENT_ID)
        .env("SERVICE_APP_CLIENT_SECRET", DEMO_SECRET)
        .env("SERVICE_APP_REFRESH_TOKEN", DEMO_REFRESH_TOKEN)
        .env("SERVICE_APP_STATE_FILE", &missing.display().to_string())
        .run()
        .await;
    assert_eq!(quick.code, 2);
    assert!(quick.stderr.contains("--state-file"), "{}", quick.stderr);
    assert!(quick.stderr.contains("does not exist"), "{}", quick.stderr);
}

#[tokio::test]
async fn service_app_quick_rejects_mixed_options() {
    let with_issuer = run(&["quick", "u-1", "Name", "--service-app", "-i", VECTOR_ISSUER]).await;
    assert_eq!(with_issuer.code, 2);
    assert!(
        with_issuer.stderr.contains("--service-app"),
        "{}",
        with_issuer.stderr
    );

    let without_flag = run(&["quick", "u-1", "Name", "--client-id", DEMO_CLIENT_ID]).await;
    assert_eq!(without_flag.code, 2);
    assert!(
        without_flag.stderr.contains("--service-app"),
        "{}",
        without_flag.stderr
    );
}

#[tokio::test]
async fn service_app_quick_revoked_token_fails() {
    let emulator = start_emulator().await;
    let quick = run(&[
        "quick",
        "u-1",
        "Name",
        "--service-app",
        "--client-id",
        DEMO_CLIENT_ID,
        "--client-secret",
        DEMO_SECRET,
        "--refresh-token",
        "revoked-or-unknown",
        "--base-url",
        &emulator.base_url(),
    ])
    .await;
    assert_eq!(quick.code, 1, "stderr: {}", quick.stderr);
    assert_eq!(quick.stdout, "");
    assert!(quick.stderr.contains("invalid_grant"), "{}", quick.stderr);
    assert!(quick.stderr.contains("--refresh-token"), "{}", quick.stderr);
    assert!(!quick.stderr.contains(DEMO_SECRET), "{}", quick.stderr);
}

#[tokio::test]
async fn verbose_hides_client_secret() {
    let emulator = start_emulator().await;
    let base_url = emulator.base_url();

    let quick = run(&[
        "quick",
        "visitor-9",
        "Quiet Guest",
        "--service-app",
        "--client-id",
        DEMO_CLIENT_ID,
        "--client-secret",
        DEMO_SECRET,
        "--refresh-token",
        DEMO_REFRESH_TOKEN,
        "--base-url",
        &base_url,
        "-v",
    ])
    .await;

    assert_eq!(quick.code, 0, "stderr: {}", quick.stderr);
    let step = quick
        .stderr
        .lines()
        .find(|line| line.starts_with("step: --client-secret from"))
        .expect("a step names the client secret's source");
    assert!(!step.contains(&DEMO_SECRET[..4]), "secret shown: {step}");
    assert!(step.contains("37 characters"), "{step}");
}
