//! `login` against the emulator, including Webex rejections and network
//! failures.

use serde_json::json;

use super::support::{
    CLOSED_BASE_URL, OTHER_SECRET, VECTOR_ISSUER, cli, create_token, run, start_emulator, vectors,
};

#[tokio::test]
async fn login_prints_access_token_alone() {
    let emulator = start_emulator().await;
    let token = create_token("guest-1", "Jane Doe").await;

    let run = run(&["login", &token, "--base-url", &emulator.base_url]).await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(run.stdout.lines().count(), 1);
    assert!(run.out().starts_with("EMU_"), "{}", run.stdout);

    let person = super::support::run(&[
        "verify",
        "--access",
        run.out(),
        "--base-url",
        &emulator.base_url,
    ])
    .await;
    assert_eq!(person.code, 0, "stderr: {}", person.stderr);
    assert_eq!(person.json()["displayName"], "Jane Doe");
}

#[tokio::test]
async fn login_base_url_from_environment() {
    let emulator = start_emulator().await;
    let token = create_token("guest-2", "Env User").await;

    let run = cli(&["login", &token])
        .env("GUESTISSUER_WEBEX_BASE_URL", &emulator.base_url)
        .run()
        .await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(run.out().starts_with("EMU_"));
}

#[tokio::test]
async fn login_base_url_option_wins_over_environment() {
    let emulator = start_emulator().await;
    let token = create_token("guest-2", "Env User").await;

    let run = cli(&["login", &token, "--base-url", &emulator.base_url])
        .env("GUESTISSUER_WEBEX_BASE_URL", CLOSED_BASE_URL)
        .run()
        .await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
}

#[tokio::test]
async fn login_accepts_reference_token() {
    let emulator = start_emulator().await;
    let token = vectors()[1]["token"].as_str().unwrap().to_owned();

    let run = run(&["login", &token, "--base-url", &emulator.base_url, "--json"]).await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let body = run.json();
    assert_eq!(body["userId"], "guest-42");
    assert_eq!(body["expiresIn"], 21600);
    assert!(body["accessToken"].as_str().unwrap().starts_with("EMU_"));
    assert!(body["expiresAt"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn login_ignores_surrounding_whitespace() {
    let emulator = start_emulator().await;
    let token = create_token("guest-3", "Spacy").await;

    let run = run(&[
        "login",
        &format!("  {token}\n"),
        "--base-url",
        &emulator.base_url,
    ])
    .await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
}

#[tokio::test]
async fn login_wrong_secret_fails() {
    let emulator = start_emulator().await;
    let forged = super::support::run(&["u", "U", "-i", VECTOR_ISSUER, "-s", OTHER_SECRET]).await;
    assert_eq!(forged.code, 0);

    let run = run(&["login", forged.out(), "--base-url", &emulator.base_url]).await;

    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .starts_with("error: Webex rejected POST /jwt/login with status 401"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("JWT signature verification failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("trackingId EMULATOR_"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("guestissuer create"),
        "hint: {}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("issuer.secret"),
        "service hint: {}",
        run.stderr
    );
}

#[tokio::test]
async fn login_unknown_issuer_fails() {
    let emulator = start_emulator().await;
    let token = super::support::run(&["u", "U", "-i", "unknown-issuer", "-s", OTHER_SECRET]).await;

    let run = run(&["login", token.out(), "--base-url", &emulator.base_url]).await;

    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("status 404"), "{}", run.stderr);
}

#[tokio::test]
async fn login_expired_token_warns_and_fails() {
    let emulator = start_emulator().await;
    let token = vectors()[0]["token"].as_str().unwrap().to_owned();

    let run = run(&["login", &token, "--base-url", &emulator.base_url]).await;

    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("warning: the guest JWT expired at 2018-01-27T17:10:19Z"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("The JWT has expired."),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn login_network_failure_fails() {
    let token = create_token("guest-4", "Offline").await;

    let run = run(&["login", &token, "--base-url", CLOSED_BASE_URL]).await;

    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("Webex could not be reached for POST /jwt/login"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn login_json_error_carries_status_and_tracking_id() {
    let emulator = start_emulator().await;
    let forged = super::support::run(&["u", "U", "-i", VECTOR_ISSUER, "-s", OTHER_SECRET]).await;

    let run = run(&[
        "login",
        forged.out(),
        "--base-url",
        &emulator.base_url,
        "--json",
    ])
    .await;

    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    let error = &run.stderr_json()["error"];
    assert_eq!(error["exitCode"], 1);
    assert_eq!(error["kind"], "upstream-rejected");
    assert_eq!(error["upstreamStatus"], 401);
    assert!(
        error["trackingId"]
            .as_str()
            .unwrap()
            .starts_with("EMULATOR_")
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("POST /jwt/login")
    );
}

#[tokio::test]
async fn login_verbose_shortens_tokens() {
    let emulator = start_emulator().await;
    let token = create_token("guest-5", "Verbose").await;

    let run = run(&["login", &token, "--base-url", &emulator.base_url, "-v"]).await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let access_token = run.out();
    assert!(run.stderr.contains("/jwt/login"), "{}", run.stderr);
    assert!(run.stderr.contains(&access_token[..8]), "{}", run.stderr);
    assert!(
        !run.stderr.contains(access_token),
        "whole access token in {}",
        run.stderr
    );
    assert!(
        !run.stderr.contains(&token),
        "whole guest JWT in {}",
        run.stderr
    );
    let signature = token.rsplit('.').next().unwrap();
    assert!(
        !run.stderr.contains(signature),
        "signature in {}",
        run.stderr
    );
}

#[tokio::test]
async fn login_retries_unavailable_webex() {
    let emulator = start_emulator().await;
    emulator.inject(json!({ "POST /jwt/login": { "responses": [503], "retry_after": 0 } }));
    let token = create_token("guest-6", "Retry").await;

    let run = run(&["login", &token, "--base-url", &emulator.base_url, "-v"]).await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(run.out().starts_with("EMU_"));
    assert!(run.stderr.contains("retrying Webex call"), "{}", run.stderr);
    assert!(
        !run.stderr.contains(&token),
        "whole guest JWT in {}",
        run.stderr
    );
    assert_eq!(emulator.calls("POST /jwt/login"), 2);
}

#[tokio::test]
async fn login_retry_is_silent_without_verbose() {
    let emulator = start_emulator().await;
    emulator.inject(json!({ "POST /jwt/login": { "responses": [503], "retry_after": 0 } }));
    let token = create_token("guest-6", "Retry").await;

    let run = run(&["login", &token, "--base-url", &emulator.base_url]).await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stderr, "");
}

#[tokio::test]
async fn login_persistent_503_fails() {
    let emulator = start_emulator().await;
    emulator.inject(json!({
        "POST /jwt/login": { "responses": [503, 503, 503, 503], "retry_after": 0 }
    }));
    let token = create_token("guest-6", "Unavailable").await;

    let run = run(&["login", &token, "--base-url", &emulator.base_url, "--json"]).await;

    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    let error = &run.stderr_json()["error"];
    assert_eq!(error["upstreamStatus"], 503);
    assert_eq!(error["exitCode"], 1);
    assert_eq!(emulator.calls("POST /jwt/login"), 3);
}
