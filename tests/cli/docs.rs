//! Runs the command-line walkthrough of README.md, as written, so the
//! documented commands stay true.

use std::path::Path;

use tokio::process::Command;

use super::support::spawn_emulate;

/// Base URL the walkthrough uses for `guestissuer emulate`.
const DOCUMENTED_BASE_URL: &str = "http://127.0.0.1:8081/v1";

/// Extracts the shell blocks of the "Try it against the emulator" section.
fn walkthrough_blocks() -> Vec<String> {
    let docs = include_str!("../../README.md");
    let start = docs
        .find("## Try it against the emulator")
        .expect("README.md has the emulator walkthrough");
    let section = &docs[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in section[..end].lines() {
        match (&mut current, line) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(lines), "```") => {
                blocks.push(lines.join("\n"));
                current = None;
            }
            (Some(lines), _) => lines.push(line),
            (None, _) => {}
        }
    }
    blocks
}

#[tokio::test]
async fn docs_walkthrough_works() {
    let blocks = walkthrough_blocks();
    assert_eq!(
        blocks.len(),
        7,
        "emulate, environment, then one block per step"
    );
    assert_eq!(blocks[0], "guestissuer emulate");
    assert!(blocks[1].contains(DOCUMENTED_BASE_URL));

    let (mut emulator, base_url) = spawn_emulate().await;
    let script = blocks[1..]
        .join("\n")
        .replace(DOCUMENTED_BASE_URL, &base_url);
    let binary_dir = Path::new(env!("CARGO_BIN_EXE_guestissuer"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        binary_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("PATH", path)
        .env_remove("GUESTISSUER_CONFIG")
        .output()
        .await
        .unwrap();
    emulator.kill().await.unwrap();

    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{script}\nstderr: {stderr}");
    assert!(
        stdout.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."),
        "{stdout}"
    );
    assert!(stdout.contains("\"signature\": \"valid\""), "{stdout}");
    assert!(stdout.contains("\"displayName\": \"Jane Doe\""), "{stdout}");
    assert!(stdout.contains("\"type\": \"appuser\""), "{stdout}");
    assert_eq!(stderr, "");
}
