//! Runs the curl walkthrough from README.md, as written, against the real
//! binary on a free port, so the documented commands stay true.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Extracts the shell blocks of the "Try it with curl" section, with the
/// list indentation removed.
fn walkthrough_blocks() -> Vec<String> {
    let readme = include_str!("../README.md");
    let start = readme
        .find("## Try it with curl")
        .expect("README has the curl walkthrough");
    let section = &readme[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in section[..end].lines() {
        let trimmed = line.trim_start();
        match (&mut current, trimmed) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(lines), "```") => {
                blocks.push(lines.join("\n"));
                current = None;
            }
            (Some(lines), _) => lines.push(line.strip_prefix("   ").unwrap_or(line)),
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn readme_curl_walkthrough_works() {
    let blocks = walkthrough_blocks();
    assert_eq!(blocks.len(), 3, "three calls: mint, login, whoami");

    let mut server = Command::new(env!("CARGO_BIN_EXE_guestissuer"))
        .arg("serve")
        .env("GUESTISSUER__SERVER__LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
    let addr = lines
        .find_map(|line| {
            let entry: serde_json::Value = serde_json::from_str(&line).ok()?;
            (entry["message"] == "listening").then(|| entry["addr"].as_str().unwrap().to_owned())
        })
        .expect("server logs its address");
    // Keeps reading so the server's log writes never hit a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));

    let outputs: Vec<String> = blocks
        .iter()
        .map(|block| {
            let script = block.replace("127.0.0.1:8080", &addr);
            let output = Command::new("bash")
                .args(["-euo", "pipefail", "-c", &script])
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{script}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8(output.stdout).unwrap()
        })
        .collect();
    server.kill().unwrap();
    server.wait().unwrap();

    let minted: serde_json::Value = serde_json::from_str(&outputs[0]).unwrap();
    assert_eq!(minted["userId"], "guest-42");
    assert_eq!(minted["expiresIn"], 5400);
    let login: serde_json::Value = serde_json::from_str(&outputs[1]).unwrap();
    assert_eq!(login["userId"], "guest-42");
    assert!(login["accessToken"].is_string());
    let person: serde_json::Value = serde_json::from_str(&outputs[2]).unwrap();
    assert_eq!(person["displayName"], "Jane Doe");
    assert_eq!(person["type"], "appuser");
    assert!(
        person["emails"][0]
            .as_str()
            .unwrap()
            .starts_with("guest-42@")
    );
}
