//! Runs the `guestissuer` binary with a clean environment and starts the
//! emulator it talks to.

use std::process::Stdio;
use std::time::Duration;

use guestissuer::config::{DEMO_ISSUER_ID, Issuer};
use guestissuer::emulator::{self, Faults, RunningEmulator};
use guestissuer::guest_token::IssuerSecret;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

/// Issuer id and secret of the reference vectors.
pub const VECTOR_ISSUER: &str =
    "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8zOTE4OGM3Mi0wMDI5LTQ3YTQtYjAyNS01OGEwY2E3NDVkMDY";
pub const VECTOR_SECRET: &str = "ugsonZRXEFcNRrvbm06UZCKK/clvHS9ybmdwgz5NbZY=";

/// Secret of the demo issuer in `config/default.toml`.
pub const DEMO_SECRET: &str = "X6WncCJD+d4V9DXM4yTgdVzFNi4P7Jzbh5tTGvLmiQw=";
pub const DEMO_ISSUER: &str = DEMO_ISSUER_ID;

/// A valid base64 secret that no emulated issuer uses.
pub const OTHER_SECRET: &str = "c2VjcmV0LW9mLWFub3RoZXItaXNzdWVy";

/// A loopback URL where nothing listens, set for every run so that no
/// test can reach the default Webex host.
pub const CLOSED_BASE_URL: &str = "http://127.0.0.1:1/v1";

/// Environment variables the binary reads; removed before each run.
const READ_ENV: &[&str] = &[
    "ISSUER",
    "SECRET",
    "EXPIRES",
    "GUESTISSUER_CONFIG",
    "GUESTISSUER_WEBEX_BASE_URL",
    "RUST_LOG",
    "SERVICE_APP_CLIENT_ID",
    "SERVICE_APP_CLIENT_SECRET",
    "SERVICE_APP_REFRESH_TOKEN",
    "SERVICE_APP_STATE_FILE",
];

/// Exit code, stdout and stderr of one run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Returns stdout without its final line break.
    pub fn out(&self) -> &str {
        self.stdout.trim_end_matches('\n')
    }

    /// Parses stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", self.stdout))
    }

    /// Parses stderr as one JSON value.
    pub fn stderr_json(&self) -> Value {
        serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {:?}", self.stderr))
    }
}

/// A prepared command line.
pub struct Cli {
    command: tokio::process::Command,
}

/// Prepares `guestissuer args...` with none of the variables it reads set,
/// except a closed loopback base URL.
pub fn cli(args: &[&str]) -> Cli {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_guestissuer"));
    command.args(args);
    for name in READ_ENV {
        command.env_remove(name);
    }
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GUESTISSUER__") {
            command.env_remove(name);
        }
    }
    command.env("GUESTISSUER_WEBEX_BASE_URL", CLOSED_BASE_URL);
    command.stdin(Stdio::null());
    Cli { command }
}

impl Cli {
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.command.env(name, value);
        self
    }

    /// Runs the binary to completion.
    pub async fn run(mut self) -> Run {
        let output = self.command.output().await.expect("binary runs");
        Run {
            code: output.status.code().expect("binary exits with a code"),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// Runs `guestissuer args...` in a clean environment.
pub async fn run(args: &[&str]) -> Run {
    cli(args).run().await
}

/// An emulator running in the test process.
pub struct Emulator {
    pub base_url: String,
    running: RunningEmulator,
}

impl Emulator {
    /// Replaces the emulator's faults with `faults`, keyed by route as in
    /// `[emulator.faults]`.
    pub fn inject(&self, faults: Value) {
        let routes = serde_json::from_value(faults).expect("faults are well-formed");
        let faults = Faults::from_routes(routes).expect("faults are valid");
        self.running.faults.replace(faults);
    }

    /// Returns how many calls `route`, such as `POST /jwt/login`, received.
    pub fn calls(&self, route: &str) -> u64 {
        self.running.faults.calls().get(route).copied().unwrap_or(0)
    }
}

/// Starts the emulator on a free loopback port, accepting the vector
/// issuer and the demo issuer.
pub async fn start_emulator() -> Emulator {
    let issuers = vec![
        issuer(VECTOR_ISSUER, VECTOR_SECRET),
        issuer(DEMO_ISSUER, DEMO_SECRET),
    ];
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let running = emulator::spawn(listener, issuers).unwrap();
    Emulator {
        base_url: running.base_url(),
        running,
    }
}

fn issuer(id: &str, secret: &str) -> Issuer {
    Issuer {
        id: id.to_owned(),
        secret: IssuerSecret::from_base64(secret).unwrap(),
    }
}

/// Mints a guest JWT for the vector issuer with `guestissuer create`.
pub async fn create_token(user_id: &str, user_name: &str) -> String {
    let run = run(&[
        "create",
        user_id,
        user_name,
        "-i",
        VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
    ])
    .await;
    assert_eq!(run.code, 0, "create failed: {}", run.stderr);
    run.out().to_owned()
}

/// Reads the reference vectors from `tests/fixtures/guest-tokens.json`.
pub fn vectors() -> Vec<Value> {
    let text = include_str!("../fixtures/guest-tokens.json");
    let file: Value = serde_json::from_str(text).unwrap();
    file["vectors"].as_array().unwrap().clone()
}

/// Decodes the payload of a compact JWT.
pub fn payload(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(1).expect("token has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("payload is base64url");
    serde_json::from_slice(&bytes).expect("payload is JSON")
}

/// Returns the current Unix time in seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Starts `guestissuer emulate` on a free loopback port and returns the
/// child with the base URL from its `emulator listening` log line.
pub async fn spawn_emulate() -> (Child, String) {
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
    // Keeps reading so the emulator's log writes never hit a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base_url)
}
