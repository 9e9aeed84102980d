//! Graceful shutdown of the real binary: SIGTERM during a slow Webex call
//! lets that call finish and exits 0; a call that outlasts
//! `server.shutdown_grace_ms` is dropped and the exit is still 0.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

/// The binary under test, with its JSON log lines read on a thread.
struct Server {
    child: Child,
    lines: mpsc::Receiver<Value>,
    seen: Vec<Value>,
    addr: String,
    /// The in-process emulator's base URL, such as `http://127.0.0.1:1234/v1`.
    emulator_url: String,
    _config: tempfile::NamedTempFile,
}

/// Starts `guestissuer serve` with the emulator delaying every
/// `POST /jwt/login` by `latency_ms`, and a shutdown grace of `grace_ms`.
fn start_server(latency_ms: u64, grace_ms: u64) -> Server {
    let mut config = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    writeln!(
        config,
        "[server]\nlisten = \"127.0.0.1:0\"\nshutdown_grace_ms = {grace_ms}\n\n\
         [emulator.faults.\"POST /jwt/login\"]\nlatency_ms = {latency_ms}\n"
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_guestissuer"))
        .args(["serve", "--config"])
        .arg(config.path())
        .env("RUST_LOG", "info")
        .env("GUESTISSUER__LOG__FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let entry = serde_json::from_str(&line).expect("log lines are JSON");
            if sender.send(entry).is_err() {
                break;
            }
        }
    });
    let mut server = Server {
        child,
        lines,
        seen: Vec::new(),
        addr: String::new(),
        emulator_url: String::new(),
        _config: config,
    };
    let upstream = server.wait_for("Webex upstream: built-in emulator, in-process");
    server.emulator_url = upstream["base_url"].as_str().unwrap().to_owned();
    let listening = server.wait_for("listening");
    server.addr = listening["addr"].as_str().unwrap().to_owned();
    server
}

impl Server {
    /// Waits up to 30 s for a log line with `message` and returns it.
    fn wait_for(&mut self, message: &str) -> Value {
        loop {
            let entry = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no log line {message:?}; seen: {:?}", self.seen));
            self.seen.push(entry.clone());
            if entry["message"] == message {
                return entry;
            }
        }
    }

    fn terminate(&self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success(), "kill -TERM {pid}");
    }

    /// Waits up to 30 s for the process to exit.
    fn wait_exit(&mut self) -> ExitStatus {
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.child.kill().unwrap();
        panic!("the server did not exit within 30 s of SIGTERM");
    }

    /// Returns every log line, once the exited process's output is read to
    /// its end (the reader thread then drops its sender).
    fn drain_lines(&mut self) -> Vec<Value> {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(30)) {
                Ok(entry) => self.seen.push(entry),
                Err(mpsc::RecvTimeoutError::Disconnected) => return self.seen.clone(),
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("the log output did not end"),
            }
        }
    }
}

/// Starts a login in the background; it waits in the emulator's latency.
fn start_login(addr: &str) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let url = format!("http://{addr}/guests/login");
    tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .json(&json!({ "userId": "slow-guest", "userName": "Slow" }))
            .send()
            .await
    })
}

/// Waits until the emulator has received the login's `POST /jwt/login`,
/// which it then holds back for its injected latency.
async fn wait_until_in_flight(emulator_url: &str) {
    let calls_url = format!("{}/_emulator/calls", emulator_url.trim_end_matches("/v1"));
    let client = reqwest::Client::new();
    for _ in 0..300 {
        let calls: Value = client
            .get(&calls_url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if calls["POST /jwt/login"].as_u64().unwrap_or(0) >= 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the emulator got no POST /jwt/login within 3 s");
}

/// Returns whether the server stops accepting connections within 2 s. The
/// shutdown log line comes from the signal task, a moment before the
/// accept loop receives the signal, so the first attempts may still connect.
async fn refuses_connections(addr: &str) -> bool {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    for _ in 0..100 {
        if client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn sigterm_lets_slow_call_finish_then_exits_zero() {
    let mut server = start_server(3000, 20_000);
    let login = start_login(&server.addr);
    wait_until_in_flight(&server.emulator_url).await;

    server.terminate();
    let started =
        server.wait_for("shutdown started: no new connections; in-flight requests may finish");
    assert_eq!(started["grace_ms"], 20_000);
    assert!(
        refuses_connections(&server.addr).await,
        "new connections are refused during shutdown"
    );

    let response = login
        .await
        .unwrap()
        .expect("the in-flight call gets its answer");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["accessToken"].is_string(), "{body}");

    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0), "exit status {status}");
    let messages: Vec<String> = server
        .drain_lines()
        .iter()
        .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m == "shutdown complete: every connection closed"),
        "{messages:?}"
    );
    assert!(messages.iter().any(|m| m == "stopped"), "{messages:?}");
}

#[tokio::test]
async fn grace_period_over_drops_call_and_exits_zero() {
    let mut server = start_server(20_000, 300);
    let login = start_login(&server.addr);
    wait_until_in_flight(&server.emulator_url).await;

    server.terminate();
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0), "exit status {status}");

    let outcome = login.await.unwrap();
    assert!(
        outcome.is_err(),
        "the dropped call gets no answer: {outcome:?}"
    );
    let lines = server.drain_lines();
    let over = lines
        .iter()
        .find(|entry| {
            entry["message"]
                == "shutdown complete: grace period over, remaining connections dropped"
        })
        .expect("the dropped connections are logged");
    assert_eq!(over["grace_ms"], 300);
    assert_eq!(over["level"], "WARN");
}
