//! CORS: preflight and response headers for allowed origins only.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app_with};

const ALLOWED: &str = "https://app.example";

async fn spawn_cors_app(extra: &[(&str, &str)]) -> TestApp {
    let mut overrides = vec![(
        "GUESTISSUER__CORS__ALLOWED_ORIGINS",
        "https://app.example,http://localhost:3000",
    )];
    overrides.extend_from_slice(extra);
    spawn_app_with(&overrides).await
}

async fn preflight(app: &TestApp, path: &str, origin: &str, method: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn preflight_allowed_origin() {
    let app = spawn_cors_app(&[]).await;
    for (path, method) in [
        ("/guests", "POST"),
        ("/guests/login", "POST"),
        ("/whoami", "GET"),
    ] {
        let response = preflight(&app, path, ALLOWED, method).await;
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            Some(ALLOWED)
        );
        let methods = header(&response, "access-control-allow-methods").unwrap();
        assert!(methods.contains(method), "{path}: {methods}");
        let headers = header(&response, "access-control-allow-headers")
            .unwrap()
            .to_ascii_lowercase();
        assert!(headers.contains("authorization"), "{headers}");
        assert!(headers.contains("content-type"), "{headers}");
        assert_eq!(header(&response, "access-control-max-age"), Some("600"));
        assert_eq!(header(&response, "access-control-allow-credentials"), None);
    }

    let response = preflight(&app, "/guests/login", "http://localhost:3000", "POST").await;
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some("http://localhost:3000")
    );
}

#[tokio::test]
async fn preflight_refused_origin() {
    let app = spawn_cors_app(&[]).await;
    for origin in [
        "https://evil.example",
        "https://app.example.evil.example",
        "http://app.example",
        "https://app.example:8443",
        "null",
    ] {
        let response = preflight(&app, "/guests/login", origin, "POST").await;
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            None,
            "{origin}"
        );
        assert_eq!(
            header(&response, "access-control-allow-methods"),
            None,
            "{origin}"
        );
    }
}

#[tokio::test]
async fn responses_carry_cors_for_allowed_origin() {
    let app = spawn_cors_app(&[
        ("GUESTISSUER__RATE_LIMIT__PER_IP_BURST", "1"),
        ("GUESTISSUER__RATE_LIMIT__PER_IP_PER_MINUTE", "1"),
    ])
    .await;
    let login = |origin: &'static str| {
        app.client
            .post(app.url("/guests/login"))
            .header("origin", origin)
            .json(&json!({ "userId": "c-1", "userName": "A" }))
            .send()
    };
    let response = login(ALLOWED).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ALLOWED)
    );
    let exposed = header(&response, "access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");

    let response = login("https://evil.example").await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(header(&response, "access-control-allow-origin"), None);

    let response = login(ALLOWED).await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ALLOWED),
        "a browser can read the 429"
    );
}

#[tokio::test]
async fn wildcard_origin_without_credentials() {
    let app = spawn_app_with(&[("GUESTISSUER__CORS__ALLOWED_ORIGINS", "*")]).await;
    let response = preflight(&app, "/guests/login", "https://any.example", "POST").await;
    assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
}

#[tokio::test]
async fn credentials_with_listed_origins() {
    let app = spawn_cors_app(&[("GUESTISSUER__CORS__ALLOW_CREDENTIALS", "true")]).await;
    let response = preflight(&app, "/guests/login", ALLOWED, "POST").await;
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ALLOWED)
    );
    assert_eq!(
        header(&response, "access-control-allow-credentials"),
        Some("true")
    );
}

#[tokio::test]
async fn no_origins_no_cors_headers() {
    let app = spawn_app_with(&[]).await;
    let response = preflight(&app, "/guests/login", ALLOWED, "POST").await;
    assert_eq!(header(&response, "access-control-allow-origin"), None);
}
