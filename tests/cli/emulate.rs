//! `guestissuer emulate` as a separate process, used by the other commands
//! the way the documentation shows.

use super::support::{DEMO_ISSUER, DEMO_SECRET, run, spawn_emulate};

#[tokio::test]
async fn documented_flow_against_emulate_process() {
    let (mut child, base_url) = spawn_emulate().await;
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");

    let token = run(&[
        "create",
        "123",
        "Stève",
        "-i",
        DEMO_ISSUER,
        "-s",
        DEMO_SECRET,
    ])
    .await;
    assert_eq!(token.code, 0, "create: {}", token.stderr);
    let login = run(&["login", token.out(), "--base-url", &base_url]).await;
    assert_eq!(login.code, 0, "login: {}", login.stderr);
    let quick = run(&[
        "quick",
        "456",
        "Quick",
        "-i",
        DEMO_ISSUER,
        "-s",
        DEMO_SECRET,
        "--base-url",
        &base_url,
    ])
    .await;
    assert_eq!(quick.code, 0, "quick: {}", quick.stderr);
    let person = run(&["verify", "--access", login.out(), "--base-url", &base_url]).await;
    assert_eq!(person.code, 0, "verify --access: {}", person.stderr);
    let decoded = run(&["verify", "--jwt", token.out(), "-s", DEMO_SECRET]).await;
    assert_eq!(decoded.code, 0, "verify --jwt: {}", decoded.stderr);

    assert_eq!(person.json()["displayName"], "Stève");
    assert_eq!(
        person.json()["emails"][0],
        "123@6f1c2a4e-8b3d-4c7a-9e5f-2d1b0a9c8e7f"
    );
    assert_ne!(login.out(), quick.out());
    assert_eq!(decoded.json()["signature"], "valid");
    child.kill().await.unwrap();
}
