//! Client errors: each gets its 4xx status and a problem+json body that
//! names the problem.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use guestissuer::guest_token::{self, GuestClaims, IssuerSecret};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app};

const DEMO_ISSUER: &str =
    "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi82ZjFjMmE0ZS04YjNkLTRjN2EtOWU1Zi0yZDFiMGE5YzhlN2Y";
const DEMO_SECRET: &str = "X6WncCJD+d4V9DXM4yTgdVzFNi4P7Jzbh5tTGvLmiQw=";

async fn post_raw(app: &TestApp, path: &str, content_type: &str, body: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

fn sign(sub: &str, iss: &str, exp: i64, secret: &str) -> String {
    let claims = GuestClaims {
        sub: sub.to_owned(),
        name: "Name".to_owned(),
        iss: iss.to_owned(),
        exp,
    };
    guest_token::mint(&claims, &IssuerSecret::from_base64(secret).unwrap())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn mint_field_validation() {
    let app = spawn_app().await;
    let long_id = "x".repeat(129);
    let cases = [
        (json!({ "userId": "", "userName": "A" }), "userId", "empty"),
        (
            json!({ "userId": "   ", "userName": "A" }),
            "userId",
            "empty",
        ),
        (
            json!({ "userId": "a", "userName": "" }),
            "userName",
            "empty",
        ),
        (
            json!({ "userId": "a\nb", "userName": "A" }),
            "userId",
            "control characters",
        ),
        (
            json!({ "userId": "a", "userName": "A\u{0}" }),
            "userName",
            "control characters",
        ),
        (
            json!({ "userId": long_id, "userName": "A" }),
            "userId",
            "at most 128",
        ),
        (
            json!({ "userId": "a", "userName": "A", "expiresIn": 59 }),
            "expiresIn",
            "60 to 86400",
        ),
        (
            json!({ "userId": "a", "userName": "A", "expiresIn": 86401 }),
            "expiresIn",
            "60 to 86400",
        ),
        (
            json!({ "userId": "a", "userName": "A", "expiresIn": -5 }),
            "expiresIn",
            "60 to 86400",
        ),
        (
            json!({ "userId": "a", "userName": "A", "expiresIn": 0 }),
            "expiresIn",
            "60 to 86400",
        ),
    ];
    for (body, field, fragment) in cases {
        let response = app.post_json("/guests", &body).await;
        let problem = problem(response, 422).await;
        assert_eq!(problem["field"], field, "{body}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.starts_with(field), "{detail}");
        assert!(detail.contains(fragment), "{detail}");
    }
}

#[tokio::test]
async fn mint_body_shape_errors() {
    let app = spawn_app().await;

    let response = app
        .post_json(
            "/guests",
            &json!({ "userId": "a", "userName": "A", "admin": true }),
        )
        .await;
    let detail = problem(response, 422).await["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("unknown field `admin`"), "{detail}");
    assert!(
        detail.contains("`userId`") && detail.contains("`expiresIn`"),
        "{detail}"
    );

    let response = app.post_json("/guests", &json!({ "userId": "a" })).await;
    let detail = problem(response, 422).await["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("userName is missing"), "{detail}");

    let response = app
        .post_json("/guests", &json!({ "userId": 5, "userName": "A" }))
        .await;
    let detail = problem(response, 422).await["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        detail.contains("userId") && detail.contains("expected a string"),
        "{detail}"
    );

    let response = app
        .post_json(
            "/guests",
            &json!({ "userId": "a", "userName": "A", "expiresIn": 600.5 }),
        )
        .await;
    problem(response, 422).await;

    let response = app.post_json("/guests", &json!(["userId"])).await;
    problem(response, 422).await;

    let response = post_raw(&app, "/guests", "application/json", "{\"userId\": ").await;
    let detail = problem(response, 400).await["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("not valid JSON"), "{detail}");

    let response = post_raw(&app, "/guests", "application/json", "").await;
    problem(response, 400).await;

    let response = post_raw(
        &app,
        "/guests",
        "text/plain",
        "{\"userId\":\"a\",\"userName\":\"A\"}",
    )
    .await;
    let detail = problem(response, 415).await["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        detail.contains("Content-Type: application/json"),
        "{detail}"
    );

    let response = app.client.post(app.url("/guests")).send().await.unwrap();
    problem(response, 415).await;
}

#[tokio::test]
async fn oversized_body_is_413() {
    let app = spawn_app().await;
    let body = json!({ "userId": "a", "userName": "n".repeat(64 * 1024) });
    let response = app.post_json("/guests", &body).await;
    let detail = problem(response, 413).await["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("size limit"), "{detail}");
}

#[tokio::test]
async fn unknown_route_and_method() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/tokens")).send().await.unwrap();
    let detail = problem(response, 404).await["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("GET /tokens"), "{detail}");

    let response = app.client.get(app.url("/guests")).send().await.unwrap();
    let detail = problem(response, 405).await["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("GET is not allowed on /guests"), "{detail}");

    let response = app.client.delete(app.url("/whoami")).send().await.unwrap();
    problem(response, 405).await;
}

#[tokio::test]
async fn login_body_errors() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "send token"),
        (json!({ "userId": "a" }), "userName"),
        (json!({ "userName": "A" }), "send token"),
        (
            json!({ "token": "x", "userId": "a", "userName": "A" }),
            "not both",
        ),
        (json!({ "token": "x", "extra": 1 }), "unknown field `extra`"),
    ];
    for (body, fragment) in cases {
        let response = app.post_json("/guests/login", &body).await;
        let detail = problem(response, 422).await["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(detail.contains(fragment), "{body}: {detail}");
    }
    let response = app
        .post_json("/guests/login", &json!({ "userId": "", "userName": "A" }))
        .await;
    assert_eq!(problem(response, 422).await["field"], "userId");
}

#[tokio::test]
async fn login_rejects_foreign_tokens_itself() {
    let app = spawn_app().await;
    let other_secret = "c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1kZW1vLW9uZQ==";
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let none_claims = URL_SAFE_NO_PAD.encode(
        json!({ "sub": "a", "name": "A", "iss": DEMO_ISSUER, "exp": now() + 600 }).to_string(),
    );
    let hs512_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS512","typ":"JWT"}"#);
    let cases = [
        (
            sign("a", DEMO_ISSUER, now() + 600, other_secret),
            "signature",
        ),
        (
            sign("a", "another-issuer", now() + 600, DEMO_SECRET),
            "another issuer",
        ),
        (sign("a", DEMO_ISSUER, now() - 3600, DEMO_SECRET), "expired"),
        (format!("{none_header}.{none_claims}."), "HS256"),
        (format!("{hs512_header}.{none_claims}.c2ln"), "HS256"),
        ("not-a-jwt".to_owned(), "has 1 dot-separated parts"),
        ("a.b.c".to_owned(), "header part is not base64url"),
    ];
    for (token, fragment) in cases {
        let response = app
            .post_json("/guests/login", &json!({ "token": token }))
            .await;
        let www_authenticate = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(www_authenticate.starts_with("Bearer"));
        let detail = problem(response, 401).await["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(detail.contains(fragment), "{token}: {detail}");
        assert!(!detail.contains(&token), "the token is not echoed");
    }
}

#[tokio::test]
async fn login_accepts_token_within_leeway() {
    let app = spawn_app().await;
    let token = sign("late", DEMO_ISSUER, now() - 5, DEMO_SECRET);
    let response = app
        .post_json("/guests/login", &json!({ "token": token }))
        .await;
    // The service's 30 s leeway accepts it; the emulator, like Webex, has
    // no leeway, so the exchange itself is rejected upstream.
    let body = problem(response, 502).await;
    assert_eq!(body["upstreamStatus"], 401);
    assert!(body["detail"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn whoami_authorization_errors() {
    let app = spawn_app().await;
    let cases: [Option<&str>; 6] = [
        None,
        Some("Basic dXNlcjpwYXNz"),
        Some("Bearer"),
        Some("Bearer "),
        Some("Bearer two parts"),
        Some("EMU_token-without-scheme"),
    ];
    for header in cases {
        let mut request = app.client.get(app.url("/whoami"));
        if let Some(value) = header {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer",
            "{header:?}"
        );
        let detail = problem(response, 401).await["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(detail.contains("Bearer"), "{detail}");
    }

    let response = app
        .client
        .get(app.url("/whoami"))
        .bearer_auth("EMU_unknown")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body = problem(response, 401).await;
    assert_eq!(body["upstreamStatus"], 401);
    assert!(
        body["trackingId"]
            .as_str()
            .unwrap()
            .starts_with("EMULATOR_")
    );
}

#[tokio::test]
async fn health_and_spec_are_served() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");

    let response = app
        .client
        .get(app.url("/openapi.yaml"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().starts_with("openapi: 3.1"));
}
