//! `guestissuer emulate` as a separate process, used by the other commands
//! the way the documentation shows.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::support::{DEMO_ISSUER, DEMO_SECRET, run};

/// Starts `guestissuer emulate` on a free loopback port and returns the
/// child with the base URL from its `emulator listening` log line.
async fn spawn_emulate() -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_guestissuer"))
        .args(["emulate", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env_remove("GUESTISSUER_CONFIG")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("emulate starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base_url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let Ok(entry) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if entry["message"] == "emulator listening" {
                return entry["base_url"].as_str().unwrap().to_owned();
            }
        }
        panic!("emulate exited without logging its base URL");
    })
    .await
    .expect("emulate logs its base URL");
    (child, base_url)
}

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
