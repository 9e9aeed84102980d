//! Mode `jwt`: callers present the site's own session JWT, verified with a
//! pinned algorithm, and the guest identity comes from its claims.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app_with};

const SECRET: &str = "session-secret-of-the-site-0123456789abcdef";
const ISSUER: &str = "https://site.example";
const AUDIENCE: &str = "guestissuer";
const RSA_PRIVATE: &str = include_str!("../fixtures/keys/rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("../fixtures/keys/rsa-public.pem");
const EC_PRIVATE: &str = include_str!("../fixtures/keys/ec-private.pem");
const EC_PUBLIC: &str = include_str!("../fixtures/keys/ec-public.pem");
const ED_PRIVATE: &str = include_str!("../fixtures/keys/ed-private.pem");
const ED_PUBLIC: &str = include_str!("../fixtures/keys/ed-public.pem");

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(sub: &str) -> Value {
    json!({ "sub": sub, "name": "Ada Lovelace", "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 300 })
}

fn sign(algorithm: Algorithm, key: &EncodingKey, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, key).unwrap()
}

fn hs256(claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET.as_bytes()),
        claims,
    )
}

async fn spawn_hs256_app() -> TestApp {
    spawn_app_with(&[
        ("GUESTISSUER__AUTH__MODE", "jwt"),
        ("GUESTISSUER__AUTH__JWT__SECRET", SECRET),
        ("GUESTISSUER__AUTH__JWT__ISSUER", ISSUER),
        ("GUESTISSUER__AUTH__JWT__AUDIENCE", AUDIENCE),
        ("GUESTISSUER__AUTH__JWT__USER_ID_PREFIX", "site-"),
    ])
    .await
}

async fn spawn_public_key_app(algorithm: &str, pem: &str) -> TestApp {
    spawn_app_with(&[
        ("GUESTISSUER__AUTH__MODE", "jwt"),
        ("GUESTISSUER__AUTH__JWT__ALGORITHM", algorithm),
        ("GUESTISSUER__AUTH__JWT__PUBLIC_KEY", pem),
        ("GUESTISSUER__AUTH__JWT__ISSUER", ISSUER),
        ("GUESTISSUER__AUTH__JWT__AUDIENCE", AUDIENCE),
    ])
    .await
}

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// Checks a `401` with an `invalid_token` challenge and returns its detail.
async fn invalid_token(response: reqwest::Response) -> String {
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\", error_description=\""),
        "{challenge}"
    );
    let body = problem(response, 401).await;
    body["detail"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn session_gives_guest_identity() {
    let app = spawn_hs256_app().await;
    let token = hs256(&claims("u-1"));

    let response = post(&app, "/guests", Some(&token), json!({})).await;
    assert_eq!(response.status(), 201);
    let minted: Value = response.json().await.unwrap();
    assert_eq!(minted["userId"], "site-u-1");
    assert_eq!(minted["userName"], "Ada Lovelace");

    let response = post(&app, "/guests/login", Some(&token), json!({})).await;
    assert_eq!(response.status(), 200);
    let login: Value = response.json().await.unwrap();
    assert_eq!(login["userId"], "site-u-1");

    let response = post(
        &app,
        "/guests/login",
        Some(&token),
        json!({ "userId": "site-u-1" }),
    )
    .await;
    assert_eq!(
        response.status(),
        200,
        "repeating the own userId is allowed"
    );
}

#[tokio::test]
async fn body_cannot_choose_user_id() {
    let app = spawn_hs256_app().await;
    let token = hs256(&claims("u-1"));
    for path in ["/guests", "/guests/login"] {
        let response = post(
            &app,
            path,
            Some(&token),
            json!({ "userId": "site-u-2", "userName": "Mallory" }),
        )
        .await;
        assert_eq!(
            problem(response, 403).await["rule"],
            "sessionIdentity",
            "{path}"
        );
    }

    let other = hs256(&claims("u-2"));
    let response = post(&app, "/guests", Some(&other), json!({})).await;
    let minted: Value = response.json().await.unwrap();
    let response = post(
        &app,
        "/guests/login",
        Some(&token),
        json!({ "token": minted["token"] }),
    )
    .await;
    assert_eq!(
        problem(response, 403).await["rule"],
        "sessionIdentity",
        "a guest JWT of another user cannot be exchanged"
    );
}

#[tokio::test]
async fn user_name_falls_back_to_body() {
    let app = spawn_hs256_app().await;
    let mut nameless = claims("u-3");
    nameless.as_object_mut().unwrap().remove("name");
    let token = hs256(&nameless);

    let response = post(&app, "/guests", Some(&token), json!({ "userName": "Bob" })).await;
    assert_eq!(response.status(), 201);
    let minted: Value = response.json().await.unwrap();
    assert_eq!(minted["userName"], "Bob");

    let response = post(&app, "/guests", Some(&token), json!({})).await;
    assert_eq!(problem(response, 422).await["field"], "userName");

    let named = hs256(&claims("u-3"));
    let response = post(&app, "/guests", Some(&named), json!({ "userName": "Bob" })).await;
    let minted: Value = response.json().await.unwrap();
    assert_eq!(minted["userName"], "Ada Lovelace", "the claim wins");
}

#[tokio::test]
async fn session_missing_is_401() {
    let app = spawn_hs256_app().await;
    let response = post(&app, "/guests/login", None, json!({})).await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body = problem(response, 401).await;
    assert!(body["detail"].as_str().unwrap().contains("session"));
}

#[tokio::test]
async fn session_rejections_are_401() {
    let app = spawn_hs256_app().await;
    let mut cases: Vec<(&str, String, &str)> = Vec::new();

    let mut expired = claims("u-1");
    expired["exp"] = json!(now() - 120);
    cases.push(("expired", hs256(&expired), "expired"));

    let mut audience = claims("u-1");
    audience["aud"] = json!("another-service");
    cases.push(("wrong audience", hs256(&audience), "aud"));

    let mut issuer = claims("u-1");
    issuer["iss"] = json!("https://evil.example");
    cases.push(("wrong issuer", hs256(&issuer), "iss"));

    let mut early = claims("u-1");
    early["nbf"] = json!(now() + 120);
    cases.push(("nbf ahead", hs256(&early), "nbf"));

    let mut no_exp = claims("u-1");
    no_exp.as_object_mut().unwrap().remove("exp");
    cases.push(("no exp", hs256(&no_exp), "exp"));

    let mut no_aud = claims("u-1");
    no_aud.as_object_mut().unwrap().remove("aud");
    cases.push(("no aud", hs256(&no_aud), "aud"));

    let other_secret = EncodingKey::from_secret(b"another-secret-0123456789abcdef-0123456789");
    cases.push((
        "wrong secret",
        sign(Algorithm::HS256, &other_secret, &claims("u-1")),
        "signature",
    ));

    let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap();
    cases.push((
        "RS256 token",
        sign(Algorithm::RS256, &rsa, &claims("u-1")),
        "HS256",
    ));

    let hs512 = EncodingKey::from_secret(SECRET.as_bytes());
    cases.push((
        "HS512 token",
        sign(Algorithm::HS512, &hs512, &claims("u-1")),
        "HS256",
    ));

    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims("u-1").to_string());
    cases.push(("alg none", format!("{header}.{payload}."), "JWT"));

    let mut no_sub = claims("u-1");
    no_sub.as_object_mut().unwrap().remove("sub");
    cases.push(("no sub", hs256(&no_sub), "sub"));

    cases.push(("garbage", "not-a-jwt".to_owned(), "JWT"));

    for (case, token, fragment) in cases {
        let response = post(&app, "/guests", Some(&token), json!({})).await;
        let detail = invalid_token(response).await;
        assert!(detail.contains(fragment), "{case}: {detail}");
    }
}

#[tokio::test]
async fn leeway_accepts_small_skew() {
    let app = spawn_hs256_app().await;
    let mut recent = claims("u-1");
    recent["exp"] = json!(now() - 10);
    let response = post(&app, "/guests", Some(&hs256(&recent)), json!({})).await;
    assert_eq!(
        response.status(),
        201,
        "10 s past exp is inside the 30 s leeway"
    );
}

#[tokio::test]
async fn rs256_accepts_own_key() {
    let app = spawn_public_key_app("RS256", RSA_PUBLIC).await;
    let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap();
    let token = sign(Algorithm::RS256, &rsa, &claims("r-1"));
    let response = post(&app, "/guests", Some(&token), json!({})).await;
    assert_eq!(response.status(), 201);
    let minted: Value = response.json().await.unwrap();
    assert_eq!(minted["userId"], "r-1");

    // An HS256 token keyed with the public key text must not pass as RS256.
    let confused = EncodingKey::from_secret(RSA_PUBLIC.as_bytes());
    let token = sign(Algorithm::HS256, &confused, &claims("r-1"));
    let response = post(&app, "/guests", Some(&token), json!({})).await;
    let detail = invalid_token(response).await;
    assert!(detail.contains("RS256"), "{detail}");
}

#[tokio::test]
async fn es256_and_eddsa_accept_own_key() {
    let app = spawn_public_key_app("ES256", EC_PUBLIC).await;
    let key = EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap();
    let token = sign(Algorithm::ES256, &key, &claims("e-1"));
    assert_eq!(
        post(&app, "/guests", Some(&token), json!({}))
            .await
            .status(),
        201
    );

    let app = spawn_public_key_app("EdDSA", ED_PUBLIC).await;
    let key = EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).unwrap();
    let token = sign(Algorithm::EdDSA, &key, &claims("d-1"));
    assert_eq!(
        post(&app, "/guests", Some(&token), json!({}))
            .await
            .status(),
        201
    );
    let wrong = sign(
        Algorithm::ES256,
        &EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap(),
        &claims("d-1"),
    );
    let detail = invalid_token(post(&app, "/guests", Some(&wrong), json!({})).await).await;
    assert!(detail.contains("EdDSA"), "{detail}");
}

#[tokio::test]
async fn session_subject_has_rate_limit() {
    let app = spawn_app_with(&[
        ("GUESTISSUER__AUTH__MODE", "jwt"),
        ("GUESTISSUER__AUTH__JWT__SECRET", SECRET),
        ("GUESTISSUER__AUTH__JWT__ISSUER", ISSUER),
        ("GUESTISSUER__AUTH__JWT__AUDIENCE", AUDIENCE),
        ("GUESTISSUER__RATE_LIMIT__PER_CALLER_BURST", "1"),
        ("GUESTISSUER__RATE_LIMIT__PER_CALLER_PER_MINUTE", "1"),
    ])
    .await;
    let first = hs256(&claims("busy"));
    assert_eq!(
        post(&app, "/guests", Some(&first), json!({}))
            .await
            .status(),
        201
    );
    let response = post(&app, "/guests", Some(&first), json!({})).await;
    assert!(response.headers().contains_key("retry-after"));
    let detail = problem(response, 429).await["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("this caller"), "{detail}");

    let second = hs256(&claims("calm"));
    assert_eq!(
        post(&app, "/guests", Some(&second), json!({}))
            .await
            .status(),
        201
    );
}
