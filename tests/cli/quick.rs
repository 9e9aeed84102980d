//! `quick`: mint and exchange in one step against the emulator.

use super::support::{
    DEMO_ISSUER, DEMO_SECRET, OTHER_SECRET, VECTOR_ISSUER, VECTOR_SECRET, cli, run, start_emulator,
};

#[tokio::test]
async fn quick_prints_access_token_alone() {
    let emulator = start_emulator().await;

    let run = run(&[
        "quick",
        "guest-9",
        "Quick Guest",
        "-i",
        VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
        "--base-url",
        &emulator.base_url,
    ])
    .await;

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
    let person = person.json();
    assert_eq!(person["displayName"], "Quick Guest");
    assert_eq!(person["type"], "appuser");
    assert_eq!(
        person["emails"][0],
        "guest-9@39188c72-0029-47a4-b025-58a0ca745d06"
    );
}

#[tokio::test]
async fn quick_reads_issuer_from_environment() {
    let emulator = start_emulator().await;

    let run = cli(&["quick", "guest-9", "Env Guest"])
        .env("ISSUER", DEMO_ISSUER)
        .env("SECRET", DEMO_SECRET)
        .env("GUESTISSUER_WEBEX_BASE_URL", &emulator.base_url)
        .run()
        .await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(run.out().starts_with("EMU_"));
}

#[tokio::test]
async fn quick_json_output() {
    let emulator = start_emulator().await;

    let run = run(&[
        "quick",
        "guest-9",
        "Json",
        "-i",
        VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
        "--json",
        "--base-url",
        &emulator.base_url,
    ])
    .await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let body = run.json();
    assert_eq!(body["userId"], "guest-9");
    assert_eq!(body["expiresIn"], 21600);
    assert!(body["accessToken"].as_str().unwrap().starts_with("EMU_"));
}

#[tokio::test]
async fn quick_wrong_secret_fails_with_option_hint() {
    let emulator = start_emulator().await;

    let run = run(&[
        "quick",
        "guest-9",
        "Bad",
        "-i",
        VECTOR_ISSUER,
        "-s",
        OTHER_SECRET,
        "--base-url",
        &emulator.base_url,
    ])
    .await;

    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("status 401"), "{}", run.stderr);
    assert!(
        run.stderr.contains("-i/--issuer and -s/--secret"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn quick_network_failure_fails() {
    let run = run(&[
        "quick",
        "guest-9",
        "Offline",
        "-i",
        VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
    ])
    .await;

    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("Webex could not be reached"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn quick_verbose_hides_secret() {
    let emulator = start_emulator().await;

    let run = run(&[
        "quick",
        "guest-9",
        "Verbose",
        "-i",
        VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
        "-v",
        "--base-url",
        &emulator.base_url,
    ])
    .await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(run.stderr.contains("60 seconds"), "{}", run.stderr);
    assert!(
        !run.stderr.contains(VECTOR_SECRET),
        "secret in {}",
        run.stderr
    );
    assert!(
        !run.stderr.contains(run.out()),
        "whole access token in {}",
        run.stderr
    );
}
