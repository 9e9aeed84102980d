//! Runs the real binary to check how it starts in auth mode `none`: a
//! warning on loopback, and no start at all on another address.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

fn serve(listen: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guestissuer"));
    command
        .arg("serve")
        .env_remove("GUESTISSUER_CONFIG")
        .env_remove("RUST_LOG")
        .env("GUESTISSUER__SERVER__LISTEN", listen)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[test]
fn none_mode_warns_on_loopback() {
    let mut child = serve("127.0.0.1:0").spawn().expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut warning = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let entry: Value = serde_json::from_str(&line).expect("log lines are JSON");
        let message = entry["message"].as_str().unwrap_or_default().to_owned();
        if message.starts_with("auth.mode is \"none\"") {
            warning = Some(entry);
        }
        if message == "listening" {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let warning = warning.expect("start-up logs the none-mode warning before listening");
    assert_eq!(warning["level"], "WARN");
    assert_eq!(warning["mode"], "none");
}

#[test]
fn none_mode_rejects_public_address() {
    let output = serve("0.0.0.0:0").output().expect("binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("auth.mode"), "{stderr}");
    assert!(stderr.contains("auth.allow_unauthenticated"), "{stderr}");
    assert!(
        !String::from_utf8(output.stdout)
            .unwrap()
            .contains("listening"),
        "the service did not start"
    );
}
