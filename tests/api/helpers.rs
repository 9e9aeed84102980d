//! Shared test harness: starts the real service on a loopback port with
//! the in-process emulator as its Webex upstream.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use guestissuer::config::Settings;
use guestissuer::emulator::EmulatorState;
use guestissuer::startup::Application;
use serde_json::{Value, json};

/// Issuer id and secret of the reference vectors.
pub const VECTOR_ISSUER: &str =
    "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8zOTE4OGM3Mi0wMDI5LTQ3YTQtYjAyNS01OGEwY2E3NDVkMDY";
pub const VECTOR_SECRET: &str = "ugsonZRXEFcNRrvbm06UZCKK/clvHS9ybmdwgz5NbZY=";

/// A running service and an HTTP client pointed at it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    /// Base URL of the in-process emulator, such as `http://127.0.0.1:1234/v1`.
    pub emulator_url: Option<String>,
    /// State of the in-process emulator, for counting calls and expiring
    /// or revoking tokens.
    pub emulator: Option<Arc<EmulatorState>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request reaches the service")
    }

    /// Returns the person `GET /whoami` reports for `access_token`.
    pub async fn whoami(&self, access_token: &str) -> Value {
        let response = self
            .client
            .get(self.url("/whoami"))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("request reaches the service");
        assert_eq!(response.status(), 200, "whoami succeeds");
        response.json().await.unwrap()
    }

    /// Mints a guest JWT through `POST /guests` and returns the token.
    pub async fn mint(&self, user_id: &str, user_name: &str) -> String {
        let response = self
            .post_json(
                "/guests",
                &json!({ "userId": user_id, "userName": user_name }),
            )
            .await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }
}

/// Environment overrides for every test: a free loopback port, and a
/// per-IP burst large enough for the concurrent requests some tests send from
/// 127.0.0.1. Rate-limit tests set their own limits over it.
pub fn base_env() -> HashMap<String, String> {
    HashMap::from([
        (
            "GUESTISSUER__SERVER__LISTEN".to_owned(),
            "127.0.0.1:0".to_owned(),
        ),
        (
            "GUESTISSUER__RATE_LIMIT__PER_IP_BURST".to_owned(),
            "1000".to_owned(),
        ),
    ])
}

/// Starts the service on its built-in defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the service with extra `GUESTISSUER__...` overrides.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let mut env = base_env();
    for (key, value) in overrides {
        env.insert((*key).to_owned(), (*value).to_owned());
    }
    let settings = Settings::load_with_env(None, env).expect("test settings are valid");
    spawn_settings(settings).await
}

/// Starts the service with fully built settings.
pub async fn spawn_settings(settings: Settings) -> TestApp {
    let application = Application::build(settings)
        .await
        .expect("application starts");
    let addr = application.local_addr();
    let emulator_url = application.emulator().map(|e| e.base_url());
    let emulator = application.emulator().map(|e| e.state.clone());
    tokio::spawn(application.run_until(std::future::pending()));
    TestApp {
        addr,
        client: reqwest::Client::new(),
        emulator_url,
        emulator,
    }
}

/// Reads a problem+json body and checks its media type and status field.
pub async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "HTTP status");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:guestissuer:problem:")
    );
    assert!(!body["title"].as_str().unwrap().is_empty());
    assert!(
        body["requestId"].is_string(),
        "problem carries the request id: {body}"
    );
    body
}

/// Reads the reference vectors from `tests/fixtures/guest-tokens.json`.
pub fn vectors() -> Vec<Value> {
    let text = include_str!("../fixtures/guest-tokens.json");
    let file: Value = serde_json::from_str(text).unwrap();
    file["vectors"].as_array().unwrap().clone()
}

/// Writes `text` to a fresh file in the system temporary directory and
/// returns its path; the caller removes it.
pub fn temp_file(suffix: &str, text: &str) -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("guestissuer-test-{}{suffix}", uuid::Uuid::new_v4()));
    std::fs::write(&path, text).expect("temporary file is writable");
    path
}

/// Loads settings from the defaults, a configuration file with `toml`, and
/// `GUESTISSUER__...` overrides on a free loopback port.
pub fn load_with_toml(
    toml: &str,
    overrides: &[(&str, &str)],
) -> Result<Settings, guestissuer::config::ConfigError> {
    let mut env = base_env();
    for (key, value) in overrides {
        env.insert((*key).to_owned(), (*value).to_owned());
    }
    let path = temp_file(".toml", toml);
    let loaded = Settings::load_with_env(Some(&path), env);
    let _ = std::fs::remove_file(&path);
    loaded
}

/// Starts the service with a configuration file holding `toml`.
pub async fn spawn_app_with_toml(toml: &str, overrides: &[(&str, &str)]) -> TestApp {
    let settings = load_with_toml(toml, overrides).expect("test settings are valid");
    spawn_settings(settings).await
}
