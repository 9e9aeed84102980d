//! Mode `api_key`: site back ends authenticate with a key whose SHA-256 is
//! configured, and each client's policy bounds the guests it may get.

use guestissuer::auth::{generate_key, hash_key};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app_with_toml};

struct Keys {
    shop: String,
    ops: String,
}

async fn spawn_api_key_app(extra: &[(&str, &str)]) -> (TestApp, Keys) {
    let keys = Keys {
        shop: generate_key().expose_secret().to_owned(),
        ops: generate_key().expose_secret().to_owned(),
    };
    let toml = format!(
        r#"
[auth]
mode = "api_key"

[[auth.api_keys]]
client = "shop"
sha256 = "{}"
user_id_pattern = "shop-[0-9]+"
max_expires_in = 600

[[auth.api_keys]]
client = "ops"
sha256 = "{}"
"#,
        hash_key(&keys.shop),
        hash_key(&keys.ops)
    );
    (spawn_api_key_toml(&toml, extra).await, keys)
}

async fn spawn_api_key_toml(toml: &str, extra: &[(&str, &str)]) -> TestApp {
    spawn_app_with_toml(toml, extra).await
}

async fn mint_with(app: &TestApp, key: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = app.client.post(app.url("/guests")).json(&body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn api_key_accepts_either_header() {
    let (app, keys) = spawn_api_key_app(&[]).await;

    let response = mint_with(
        &app,
        Some(&keys.shop),
        json!({ "userId": "shop-1", "userName": "A" }),
    )
    .await;
    assert_eq!(response.status(), 201);

    let response = app
        .client
        .post(app.url("/guests/login"))
        .header("x-api-key", &keys.ops)
        .json(&json!({ "userId": "anyone", "userName": "B" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["userId"], "anyone");
}

#[tokio::test]
async fn api_key_missing_is_401() {
    let (app, _keys) = spawn_api_key_app(&[]).await;
    for path in ["/guests", "/guests/login"] {
        let response = app
            .post_json(path, &json!({ "userId": "shop-1", "userName": "A" }))
            .await;
        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{path}");
        let body = problem(response, 401).await;
        assert_eq!(body["type"], "urn:guestissuer:problem:unauthorized");
        assert!(body["detail"].as_str().unwrap().contains("X-API-Key"));
    }
}

#[tokio::test]
async fn guest_count_needs_key() {
    let (app, keys) = spawn_api_key_app(&[]).await;
    let response = app
        .client
        .get(app.url("/guests/count"))
        .send()
        .await
        .unwrap();
    problem(response, 401).await;

    let response = app
        .client
        .get(app.url("/guests/count"))
        .bearer_auth(&keys.ops)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        404,
        "with a key, the Guest Issuer back end has no count"
    );
}

#[tokio::test]
async fn api_key_wrong_is_401() {
    let (app, keys) = spawn_api_key_app(&[]).await;
    let mut tampered = keys.shop.clone();
    tampered.pop();
    tampered.push('x');
    for key in [
        generate_key().expose_secret().to_owned(),
        tampered,
        hash_key(&keys.shop),
    ] {
        let response = mint_with(
            &app,
            Some(&key),
            json!({ "userId": "shop-1", "userName": "A" }),
        )
        .await;
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            challenge.starts_with("Bearer error=\"invalid_token\""),
            "{challenge}"
        );
        let body = problem(response, 401).await;
        assert_eq!(body["type"], "urn:guestissuer:problem:invalid-credentials");
        assert!(!body["detail"].as_str().unwrap().contains(&key));
    }
}

#[tokio::test]
async fn api_key_in_both_headers_is_401() {
    let (app, keys) = spawn_api_key_app(&[]).await;
    let response = app
        .client
        .post(app.url("/guests"))
        .bearer_auth(&keys.shop)
        .header("x-api-key", &keys.ops)
        .json(&json!({ "userId": "shop-1", "userName": "A" }))
        .send()
        .await
        .unwrap();
    let body = problem(response, 401).await;
    assert!(body["detail"].as_str().unwrap().contains("not both"));
}

#[tokio::test]
async fn policy_rejects_foreign_user_id() {
    let (app, keys) = spawn_api_key_app(&[]).await;
    for user_id in ["ops-1", "shop-1x", "xshop-1", "shop-"] {
        let response = mint_with(
            &app,
            Some(&keys.shop),
            json!({ "userId": user_id, "userName": "A" }),
        )
        .await;
        let body = problem(response, 403).await;
        assert_eq!(body["rule"], "userIdPattern", "{user_id}");
        assert_eq!(body["type"], "urn:guestissuer:problem:policy-violation");
        assert!(body["detail"].as_str().unwrap().contains("shop-[0-9]+"));
    }

    let response = app
        .client
        .post(app.url("/guests/login"))
        .bearer_auth(&keys.shop)
        .json(&json!({ "userId": "ops-1", "userName": "A" }))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response, 403).await["rule"], "userIdPattern");
}

#[tokio::test]
async fn policy_caps_expires_in() {
    let (app, keys) = spawn_api_key_app(&[]).await;

    let response = mint_with(
        &app,
        Some(&keys.shop),
        json!({ "userId": "shop-1", "userName": "A", "expiresIn": 601 }),
    )
    .await;
    let body = problem(response, 403).await;
    assert_eq!(body["rule"], "maxExpiresIn");
    assert!(body["detail"].as_str().unwrap().contains("600"));

    let response = mint_with(
        &app,
        Some(&keys.shop),
        json!({ "userId": "shop-1", "userName": "A" }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let minted: Value = response.json().await.unwrap();
    assert_eq!(minted["expiresIn"], 600, "the default is capped");

    let response = mint_with(
        &app,
        Some(&keys.ops),
        json!({ "userId": "shop-1", "userName": "A", "expiresIn": 7200 }),
    )
    .await;
    assert_eq!(
        response.status(),
        201,
        "a client without a cap gets [guests]"
    );
}

#[tokio::test]
async fn exchange_checks_token_subject() {
    let (app, keys) = spawn_api_key_app(&[]).await;
    let response = mint_with(
        &app,
        Some(&keys.ops),
        json!({ "userId": "ops-7", "userName": "A" }),
    )
    .await;
    let minted: Value = response.json().await.unwrap();
    let token = minted["token"].as_str().unwrap();

    let exchange = |key: String| {
        app.client
            .post(app.url("/guests/login"))
            .bearer_auth(key)
            .json(&json!({ "token": token }))
            .send()
    };
    let response = exchange(keys.shop.clone()).await.unwrap();
    assert_eq!(problem(response, 403).await["rule"], "userIdPattern");

    let response = exchange(keys.ops.clone()).await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn failed_keys_spend_ip_quota() {
    let (app, keys) = spawn_api_key_app(&[
        ("GUESTISSUER__RATE_LIMIT__PER_IP_BURST", "2"),
        ("GUESTISSUER__RATE_LIMIT__PER_IP_PER_MINUTE", "1"),
    ])
    .await;
    let wrong = generate_key().expose_secret().to_owned();
    let body = json!({ "userId": "shop-1", "userName": "A" });
    for _ in 0..2 {
        let response = mint_with(&app, Some(&wrong), body.clone()).await;
        assert_eq!(response.status(), 401);
    }
    let response = mint_with(&app, Some(&wrong), body.clone()).await;
    assert_eq!(
        problem(response, 429).await["type"],
        "urn:guestissuer:problem:rate-limited"
    );

    for _ in 0..3 {
        let response = mint_with(&app, Some(&keys.shop), body.clone()).await;
        assert_eq!(
            response.status(),
            201,
            "a valid key is limited by its client quota, not the address"
        );
    }
}

#[tokio::test]
async fn client_has_own_rate_limit() {
    let shop = generate_key().expose_secret().to_owned();
    let ops = generate_key().expose_secret().to_owned();
    let toml = format!(
        r#"
[auth]
mode = "api_key"

[[auth.api_keys]]
client = "shop"
sha256 = "{}"
per_minute = 1
burst = 2

[[auth.api_keys]]
client = "ops"
sha256 = "{}"
"#,
        hash_key(&shop),
        hash_key(&ops)
    );
    let app = spawn_api_key_toml(&toml, &[]).await;
    let body = json!({ "userId": "u-1", "userName": "A" });
    for _ in 0..2 {
        assert_eq!(
            mint_with(&app, Some(&shop), body.clone()).await.status(),
            201
        );
    }
    let response = mint_with(&app, Some(&shop), body.clone()).await;
    assert_eq!(response.headers()["ratelimit-limit"], "2");
    let detail = problem(response, 429).await["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("this caller"), "{detail}");

    assert_eq!(
        mint_with(&app, Some(&ops), body.clone()).await.status(),
        201,
        "other clients keep their quota"
    );
}

#[tokio::test]
async fn api_key_never_forwarded_by_whoami() {
    let (app, keys) = spawn_api_key_app(&[]).await;
    let login: Value = app
        .client
        .post(app.url("/guests/login"))
        .bearer_auth(&keys.ops)
        .json(&json!({ "userId": "w-1", "userName": "W" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let person = app
        .client
        .get(app.url("/whoami"))
        .bearer_auth(login["accessToken"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(person.status(), 200, "a real access token reaches Webex");

    let response = app
        .client
        .get(app.url("/whoami"))
        .bearer_auth(&keys.shop)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body = problem(response, 401).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("API key"), "{detail}");
    assert!(!detail.contains(&keys.shop), "the key is not echoed");
    assert!(body.get("upstreamStatus").is_none(), "Webex was not called");

    let base = app.emulator_url.as_deref().unwrap().trim_end_matches("/v1");
    let counts: Value = app
        .client
        .get(format!("{base}/_emulator/calls"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        counts["GET /people/me"], 1,
        "only the real access token reached Webex"
    );
}
