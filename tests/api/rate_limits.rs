//! Rate limits per client IP, per Webex budget, the client address behind
//! trusted proxies, and bounded limiter state.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use guestissuer::config::Settings;
use guestissuer::rate_limit::{RateLimits, spawn_cleanup};
use serde_json::json;

use crate::helpers::{TestApp, base_env, problem, spawn_app_with};

const TIGHT_IP_LIMIT: [(&str, &str); 2] = [
    ("GUESTISSUER__RATE_LIMIT__PER_IP_BURST", "2"),
    ("GUESTISSUER__RATE_LIMIT__PER_IP_PER_MINUTE", "1"),
];

async fn login_from(app: &TestApp, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/guests/login"))
        .json(&json!({ "userId": "u-1", "userName": "A" }));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn ip_limit_answers_429() {
    let app = spawn_app_with(&TIGHT_IP_LIMIT).await;
    for _ in 0..2 {
        assert_eq!(login_from(&app, None).await.status(), 200);
    }

    let response = login_from(&app, None).await;
    let headers = response.headers().clone();
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(headers["ratelimit-limit"], "2");
    assert_eq!(headers["ratelimit-remaining"], "0");
    assert_eq!(headers["ratelimit-reset"], retry_after.to_string().as_str());
    assert_eq!(headers["ratelimit-policy"], "2;w=120");
    let body = problem(response, 429).await;
    assert_eq!(body["type"], "urn:guestissuer:problem:rate-limited");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("this client address")
    );

    let response = app
        .client
        .get(app.url("/whoami"))
        .bearer_auth("EMU_anything")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429, "/whoami shares the address limit");

    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200, "probes are not limited");
}

#[tokio::test]
async fn untrusted_forwarded_for_is_ignored() {
    let app = spawn_app_with(&TIGHT_IP_LIMIT).await;
    assert_eq!(login_from(&app, Some("203.0.113.1")).await.status(), 200);
    assert_eq!(login_from(&app, Some("203.0.113.2")).await.status(), 200);
    let response = login_from(&app, Some("203.0.113.3")).await;
    assert_eq!(
        response.status(),
        429,
        "a spoofed X-Forwarded-For from an untrusted peer does not change the key"
    );
}

#[tokio::test]
async fn trusted_proxy_forwarded_for_sets_key() {
    let mut overrides = TIGHT_IP_LIMIT.to_vec();
    overrides.push(("GUESTISSUER__SERVER__TRUSTED_PROXIES", "127.0.0.1/32,::1"));
    let app = spawn_app_with(&overrides).await;

    for _ in 0..2 {
        assert_eq!(login_from(&app, Some("203.0.113.1")).await.status(), 200);
    }
    assert_eq!(
        login_from(&app, Some("203.0.113.1")).await.status(),
        429,
        "a flood from one address is cut off"
    );
    assert_eq!(
        login_from(&app, Some("203.0.113.2")).await.status(),
        200,
        "other addresses keep their quota"
    );
    assert_eq!(
        login_from(&app, Some("198.51.100.9, 203.0.113.2"))
            .await
            .status(),
        200,
        "the right-most untrusted hop is the client"
    );

    let response = app
        .client
        .post(app.url("/guests/login"))
        .header("forwarded", "for=\"[2001:db8::7]:4711\"")
        .json(&json!({ "userId": "u-1", "userName": "A" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "Forwarded names a fresh client");
}

#[tokio::test]
async fn webex_budget_limits_upstream_calls() {
    let app = spawn_app_with(&[
        ("GUESTISSUER__RATE_LIMIT__WEBEX_BURST", "1"),
        ("GUESTISSUER__RATE_LIMIT__WEBEX_PER_MINUTE", "1"),
    ])
    .await;
    let login = |user_id: &'static str| {
        app.client
            .post(app.url("/guests/login"))
            .json(&json!({ "userId": user_id, "userName": "A" }))
            .send()
    };
    assert_eq!(login("w-1").await.unwrap().status(), 200);
    let response = login("w-2").await.unwrap();
    let detail = problem(response, 429).await["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("Webex calls"), "{detail}");

    let response = login("w-1").await.unwrap();
    assert_eq!(response.status(), 200, "a cached token costs no Webex call");
    let response = app
        .post_json("/guests", &json!({ "userId": "w-3", "userName": "A" }))
        .await;
    assert_eq!(response.status(), 201, "minting signs locally");
}

fn settings_with(overrides: &[(&str, &str)]) -> Settings {
    let mut env = base_env();
    for (key, value) in overrides {
        env.insert((*key).to_owned(), (*value).to_owned());
    }
    Settings::load_with_env(None, env).unwrap()
}

fn address(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
}

#[tokio::test]
async fn cleanup_bounds_distinct_clients() {
    // One request refills in 1 ms at 60000 per minute.
    let settings = settings_with(&[
        ("GUESTISSUER__RATE_LIMIT__PER_IP_PER_MINUTE", "60000"),
        ("GUESTISSUER__RATE_LIMIT__PER_IP_BURST", "5"),
    ]);
    let limits = RateLimits::from_settings(&settings);
    for n in 0..100_000 {
        limits.check_ip(address(n)).await.unwrap();
    }
    assert_eq!(limits.tracked_keys(), 100_000);

    tokio::time::sleep(Duration::from_millis(50)).await;
    limits.cleanup();
    assert_eq!(limits.tracked_keys(), 0);
}

#[tokio::test]
async fn scheduled_cleanup_runs() {
    let settings = settings_with(&[("GUESTISSUER__RATE_LIMIT__PER_IP_PER_MINUTE", "60000")]);
    let limits = Arc::new(RateLimits::from_settings(&settings));
    for n in 0..1_000 {
        limits.check_ip(address(n)).await.unwrap();
    }
    let task = spawn_cleanup(&limits, Duration::from_millis(20));

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while limits.tracked_keys() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the scheduled sweep did not empty the store"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    drop(limits);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the sweep ends once the limits are dropped")
        .unwrap();
}
