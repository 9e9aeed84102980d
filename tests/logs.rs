//! Runs the real binary and reads its log output: one JSON line per
//! request, and no secret, token or Authorization header anywhere.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

const DEMO_SECRET: &str = "X6WncCJD+d4V9DXM4yTgdVzFNi4P7Jzbh5tTGvLmiQw=";

/// The binary under test with its stdout lines collected on a thread.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    addr: String,
}

fn start_server(extra_env: &[(&str, &str)]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guestissuer"));
    command
        .arg("serve")
        .env("GUESTISSUER__SERVER__LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in extra_env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut server = Server {
        child,
        lines,
        addr: String::new(),
    };
    server.addr = server.wait_for_listening();
    server
}

impl Server {
    fn wait_for_listening(&self) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .expect("server logs its address");
            let entry: Value = serde_json::from_str(&line).expect("log lines are JSON");
            if entry["message"] == "listening" {
                return entry["addr"].as_str().unwrap().to_owned();
            }
        }
    }

    /// Stops the server with SIGTERM and returns every line it wrote.
    fn stop(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exit status {status}");
        // The reader thread ends when the exited process's stdout closes,
        // so this waits for the last lines instead of racing them.
        self.lines.iter().collect()
    }
}

#[tokio::test]
async fn full_flow_logs_no_secret_or_token() {
    let server = start_server(&[]);
    let client = reqwest::Client::new();
    let base = format!("http://{}", server.addr);

    let minted: Value = client
        .post(format!("{base}/guests"))
        .json(&json!({ "userId": "log-check", "userName": "Log Check" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let guest_jwt = minted["token"].as_str().unwrap().to_owned();
    let login: Value = client
        .post(format!("{base}/guests/login"))
        .json(&json!({ "token": guest_jwt }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = login["accessToken"].as_str().unwrap().to_owned();
    let person = client
        .get(format!("{base}/whoami"))
        .bearer_auth(&access_token)
        .header("x-request-id", "flow-whoami")
        .send()
        .await
        .unwrap();
    assert_eq!(person.status(), 200);
    let rejected = client
        .get(format!("{base}/whoami"))
        .bearer_auth("EMU_not-a-real-token-value")
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), 401);

    let lines = server.stop();
    let output = lines.join("\n");
    let signature = guest_jwt.rsplit('.').next().unwrap();
    for (what, needle) in [
        ("issuer secret", DEMO_SECRET),
        ("guest JWT", guest_jwt.as_str()),
        ("guest JWT signature", signature),
        ("access token", access_token.as_str()),
        ("rejected access token", "EMU_not-a-real-token-value"),
        ("Authorization header", "Bearer "),
    ] {
        assert!(!output.contains(needle), "the {what} appears in the logs");
    }

    let completed: Vec<Value> = lines
        .iter()
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON line"))
        .filter(|entry| entry["message"] == "request completed")
        .collect();
    assert_eq!(completed.len(), 4, "one line per request");
    let whoami = completed
        .iter()
        .find(|entry| entry["span"]["request_id"] == "flow-whoami")
        .expect("the caller's request id is logged");
    assert_eq!(whoami["span"]["method"], "GET");
    assert_eq!(whoami["span"]["route"], "/whoami");
    assert_eq!(whoami["status"], 200);
    assert!(whoami["latency_ms"].as_f64().unwrap() >= 0.0);
    assert!(output.contains("\"message\":\"stopped\""));
}

#[test]
fn invalid_config_stops_start_up_with_one_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_guestissuer"))
        .arg("serve")
        .env("GUESTISSUER__ISSUER__SECRET", "***not base64***")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("issuer.secret") && stderr.contains("base64"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("***not base64***"),
        "the secret is not echoed"
    );
}

#[tokio::test]
async fn retry_log_names_attempt_status_and_tracking_id() {
    let settings = guestissuer::config::Settings::load_with_env(None, Default::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let emulator = guestissuer::emulator::spawn(listener, settings.emulator.issuers).unwrap();
    let faults = json!({ "POST /jwt/login": { "responses": [503, 200] } });
    let faults = serde_json::from_value(faults).unwrap();
    emulator
        .faults
        .replace(guestissuer::emulator::Faults::from_routes(faults).unwrap());
    let base_url = emulator.base_url();
    let server = start_server(&[
        ("GUESTISSUER__WEBEX__BASE_URL", base_url.as_str()),
        ("GUESTISSUER__WEBEX__RETRY__INITIAL_DELAY_MS", "10"),
    ]);

    let response = reqwest::Client::new()
        .post(format!("http://{}/guests/login", server.addr))
        .json(&json!({ "userId": "retry-log", "userName": "Retry Log" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let lines = server.stop();
    let retry: Value = lines
        .iter()
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON line"))
        .find(|entry| entry["message"] == "retrying Webex call")
        .expect("the retry is logged");
    assert_eq!(retry["attempt"], 1);
    assert_eq!(retry["max_attempts"], 3);
    assert_eq!(retry["upstream_status"], 503);
    assert_eq!(retry["call"], "POST /jwt/login");
    let tracking_id = retry["tracking_id"].as_str().expect("tracking id logged");
    assert!(tracking_id.starts_with("EMULATOR_"), "{tracking_id}");
    assert!(retry["delay_ms"].as_u64().is_some());
}
