//! The shipped `config/production.example.toml`: it refuses to load until
//! its placeholders are filled, and once filled it serves only callers with
//! a valid key and within their policy.

use std::path::{Path, PathBuf};

use guestissuer::auth::{AuthMode, generate_key, hash_key};
use guestissuer::config::{DEMO_ISSUER_ID, Settings, Upstream};
use guestissuer::cors::AllowedOrigins;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::helpers::{base_env, problem, spawn_settings, temp_file};

const EXAMPLE: &str = include_str!("../../config/production.example.toml");
const DEMO_SECRET: &str = "X6WncCJD+d4V9DXM4yTgdVzFNi4P7Jzbh5tTGvLmiQw=";

/// Files that stand in for the container secrets, removed on drop.
struct Secrets {
    issuer_secret: PathBuf,
}

impl Secrets {
    fn new() -> Self {
        Self {
            issuer_secret: temp_file(".secret", DEMO_SECRET),
        }
    }
}

impl Drop for Secrets {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.issuer_secret);
    }
}

fn load(text: &str, secrets: &Secrets, overrides: &[(&str, &str)]) -> Result<Settings, String> {
    let path = temp_file(".toml", text);
    let mut env = base_env();
    env.insert(
        "GUESTISSUER__ISSUER__SECRET_FILE".to_owned(),
        secrets.issuer_secret.display().to_string(),
    );
    for (key, value) in overrides {
        env.insert((*key).to_owned(), (*value).to_owned());
    }
    let loaded = Settings::load_with_env(Some(&path), env).map_err(|e| e.to_string());
    let _ = std::fs::remove_file(&path);
    loaded
}

fn filled(key: &str) -> String {
    EXAMPLE
        .replace("REPLACE_ME_SHA256_FROM_GUESTISSUER_KEYGEN", &hash_key(key))
        .replace("REPLACE_ME_GUEST_ISSUER_ID", DEMO_ISSUER_ID)
}

#[test]
fn example_rejects_unfilled_placeholders() {
    let secrets = Secrets::new();
    let error = load(EXAMPLE, &secrets, &[]).unwrap_err();
    assert!(error.contains("auth.api_keys[0].sha256"), "{error}");
}

#[test]
fn example_loads_when_filled() {
    let secrets = Secrets::new();
    let key = generate_key();
    let settings = load(&filled(key.expose_secret()), &secrets, &[]).unwrap();

    assert_eq!(settings.auth.mode, AuthMode::ApiKey);
    assert_eq!(settings.auth.api_keys[0].name, "www-backend");
    assert_eq!(
        settings.webex.upstream,
        Upstream::Url("https://webexapis.com/v1".to_owned())
    );
    let AllowedOrigins::List(origins) = &settings.cors.origins else {
        panic!("the example lists its origins");
    };
    assert_eq!(origins.len(), 2);
    assert_eq!(settings.server.trusted_proxies.len(), 1);
}

#[test]
fn example_jwt_section_loads() {
    let secrets = Secrets::new();
    let key = generate_key();
    let public_key =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys/rsa-public.pem");
    let public_key = public_key.display().to_string();
    let settings = load(
        &filled(key.expose_secret()),
        &secrets,
        &[
            ("GUESTISSUER__AUTH__MODE", "jwt"),
            ("GUESTISSUER__AUTH__JWT__PUBLIC_KEY_FILE", &public_key),
        ],
    )
    .unwrap();
    let jwt = settings.auth.jwt.expect("jwt mode has its settings");
    assert_eq!(jwt.algorithm, jsonwebtoken::Algorithm::RS256);
    assert_eq!(jwt.audience, "guestissuer");
}

#[tokio::test]
async fn example_serves_only_valid_keys() {
    let secrets = Secrets::new();
    let key = generate_key();
    let key = key.expose_secret();
    // The example's Webex URL is replaced by the emulator: tests never call
    // the real Webex API.
    let settings = load(
        &filled(key),
        &secrets,
        &[("GUESTISSUER__WEBEX__BASE_URL", "emulator")],
    )
    .unwrap();
    let app = spawn_settings(settings).await;
    let login = |key: Option<String>, user_id: &'static str| {
        let mut request = app
            .client
            .post(app.url("/guests/login"))
            .json(&json!({ "userId": user_id, "userName": "Customer" }));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send()
    };

    let response = login(None, "www-12").await.unwrap();
    problem(response, 401).await;
    let stranger = generate_key().expose_secret().to_owned();
    let response = login(Some(stranger), "www-12").await.unwrap();
    problem(response, 401).await;
    let response = login(Some(key.to_owned()), "admin").await.unwrap();
    assert_eq!(problem(response, 403).await["rule"], "userIdPattern");

    let response = login(Some(key.to_owned()), "www-12").await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["userId"], "www-12");
}
