//! `GET /metrics` against the real server and the in-process emulator:
//! requests, latencies, upstream attempts, retries and cache lookups are
//! counted, and `metrics.listen` moves the route to its own address.
//!
//! The metrics recorder is global to the process, so this binary holds
//! only these tests, and each takes [`SERIAL`] to count exact deltas.

use std::collections::HashMap;
use std::net::SocketAddr;

use guestissuer::config::Settings;
use guestissuer::startup::Application;
use serde_json::{Value, json};
use tokio::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::const_new(());

const LOGIN_CALL: &str = "POST /jwt/login";

struct App {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    emulator_url: String,
    client: reqwest::Client,
}

async fn spawn(overrides: &[(&str, &str)]) -> App {
    let mut env = HashMap::from([
        (
            "GUESTISSUER__SERVER__LISTEN".to_owned(),
            "127.0.0.1:0".to_owned(),
        ),
        (
            "GUESTISSUER__WEBEX__RETRY__INITIAL_DELAY_MS".to_owned(),
            "10".to_owned(),
        ),
        (
            "GUESTISSUER__WEBEX__RETRY__MAX_DELAY_MS".to_owned(),
            "50".to_owned(),
        ),
    ]);
    for (key, value) in overrides {
        env.insert((*key).to_owned(), (*value).to_owned());
    }
    let settings = Settings::load_with_env(None, env).expect("test settings are valid");
    let application = Application::build(settings)
        .await
        .expect("application starts");
    let app = App {
        addr: application.local_addr(),
        metrics_addr: application.metrics_addr(),
        emulator_url: application
            .emulator()
            .expect("in-process emulator")
            .base_url(),
        client: reqwest::Client::new(),
    };
    tokio::spawn(application.run_until(std::future::pending()));
    app
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn scrape(&self) -> Scrape {
        let addr = self.metrics_addr.unwrap_or(self.addr);
        let response = self
            .client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
        Scrape(response.text().await.unwrap())
    }

    async fn login(&self, user_id: &str) -> reqwest::Response {
        self.client
            .post(self.url("/guests/login"))
            .json(&json!({ "userId": user_id, "userName": "Metrics" }))
            .send()
            .await
            .unwrap()
    }

    async fn set_faults(&self, faults: Value) {
        let control = self.emulator_url.trim_end_matches("/v1");
        let response = self
            .client
            .put(format!("{control}/_emulator/faults"))
            .json(&faults)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "faults accepted");
    }
}

/// One scrape in the Prometheus text format.
struct Scrape(String);

impl Scrape {
    /// Sums the samples of `name` whose labels include every pair in
    /// `labels`; 0 when there is none.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .filter_map(parse_sample)
            .filter(|(series, series_labels, _)| {
                series == name
                    && labels
                        .iter()
                        .all(|(k, v)| series_labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, value)| value)
            .sum()
    }
}

/// Splits `name{a="x",b="y"} 3` into its name, labels and value.
fn parse_sample(line: &str) -> Option<(String, HashMap<String, String>, f64)> {
    let (series, value) = line.rsplit_once(' ')?;
    let value = value.parse().ok()?;
    let Some((name, rest)) = series.split_once('{') else {
        return Some((series.to_owned(), HashMap::new(), value));
    };
    let body = rest.strip_suffix('}')?;
    let labels = body
        .split("\",")
        .filter_map(|pair| {
            let (key, value) = pair.split_once("=\"")?;
            Some((key.to_owned(), value.trim_end_matches('"').to_owned()))
        })
        .collect();
    Some((name.to_owned(), labels, value))
}

#[tokio::test]
async fn request_counted_by_route_and_status() {
    let _serial = SERIAL.lock().await;
    let app = spawn(&[]).await;
    let created = [("method", "POST"), ("route", "/guests"), ("status", "201")];
    let invalid = [("method", "POST"), ("route", "/guests"), ("status", "422")];
    let unmatched = [("route", "unmatched"), ("status", "404")];
    let before = app.scrape().await;

    for body in [
        json!({ "userId": "m-1", "userName": "M" }),
        json!({ "userId": "m-2", "userName": "M" }),
        json!({ "userId": "", "userName": "M" }),
    ] {
        app.client
            .post(app.url("/guests"))
            .json(&body)
            .send()
            .await
            .unwrap();
    }
    app.client
        .get(app.url("/no/such/route"))
        .send()
        .await
        .unwrap();
    let after = app.scrape().await;

    let total = "guestissuer_http_requests_total";
    let count = "guestissuer_http_request_duration_seconds_count";
    assert_eq!(
        after.value(total, &created) - before.value(total, &created),
        2.0
    );
    assert_eq!(
        after.value(total, &invalid) - before.value(total, &invalid),
        1.0
    );
    assert_eq!(
        after.value(total, &unmatched) - before.value(total, &unmatched),
        1.0
    );
    assert_eq!(
        after.value(count, &created) - before.value(count, &created),
        2.0
    );
    let bucket = [("route", "/guests"), ("status", "201"), ("le", "+Inf")];
    let bucket_name = "guestissuer_http_request_duration_seconds_bucket";
    assert!(
        after.value(bucket_name, &bucket) >= 2.0,
        "latency histogram has buckets"
    );
}

#[tokio::test]
async fn retry_and_upstream_attempts_counted() {
    let _serial = SERIAL.lock().await;
    let app = spawn(&[]).await;
    app.set_faults(json!({ LOGIN_CALL: { "responses": [503, 200] } }))
        .await;
    let retries = [("call", LOGIN_CALL), ("reason", "status_503")];
    let failed = [
        ("call", LOGIN_CALL),
        ("status", "503"),
        ("outcome", "error_status"),
    ];
    let succeeded = [
        ("call", LOGIN_CALL),
        ("status", "200"),
        ("outcome", "success"),
    ];
    let before = app.scrape().await;

    let response = app.login("metrics-retry").await;
    assert_eq!(response.status(), 200);
    let after = app.scrape().await;

    let retry_name = "guestissuer_upstream_retries_total";
    let attempts = "guestissuer_upstream_requests_total";
    assert_eq!(
        after.value(retry_name, &retries) - before.value(retry_name, &retries),
        1.0
    );
    assert_eq!(
        after.value(attempts, &failed) - before.value(attempts, &failed),
        1.0
    );
    assert_eq!(
        after.value(attempts, &succeeded) - before.value(attempts, &succeeded),
        1.0
    );
    let latency = "guestissuer_upstream_request_duration_seconds_count";
    let success = [("call", LOGIN_CALL), ("outcome", "success")];
    assert_eq!(
        after.value(latency, &success) - before.value(latency, &success),
        1.0
    );
}

#[tokio::test]
async fn cache_hits_and_misses_counted() {
    let _serial = SERIAL.lock().await;
    let app = spawn(&[]).await;
    let cache = [("cache", "guest_access_token")];
    let before = app.scrape().await;

    assert_eq!(app.login("metrics-cache").await.status(), 200);
    assert_eq!(app.login("metrics-cache").await.status(), 200);
    let after = app.scrape().await;

    let hits = "guestissuer_cache_hits_total";
    let misses = "guestissuer_cache_misses_total";
    assert_eq!(
        after.value(misses, &cache) - before.value(misses, &cache),
        1.0
    );
    assert_eq!(after.value(hits, &cache) - before.value(hits, &cache), 1.0);
}

#[tokio::test]
async fn separate_listener_serves_metrics_alone() {
    let _serial = SERIAL.lock().await;
    let app = spawn(&[("GUESTISSUER__METRICS__LISTEN", "127.0.0.1:0")]).await;
    let metrics_addr = app.metrics_addr.expect("metrics listener bound");
    assert_ne!(metrics_addr, app.addr);

    let on_main = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(
        on_main.status(),
        404,
        "the API port no longer serves /metrics"
    );
    let other = app
        .client
        .get(format!("http://{metrics_addr}/guests"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404, "the metrics port serves nothing else");

    let scrape = app.scrape().await;
    let not_found = [("route", "unmatched"), ("status", "404")];
    assert!(scrape.value("guestissuer_http_requests_total", &not_found) >= 1.0);
    assert_eq!(
        scrape.value(
            "guestissuer_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
}

#[test]
fn parse_sample_reads_labels_and_value() {
    let (name, labels, value) =
        parse_sample(r#"x_total{call="POST /jwt/login",status="200"} 3"#).unwrap();
    assert_eq!(name, "x_total");
    assert_eq!(labels["call"], "POST /jwt/login");
    assert_eq!(labels["status"], "200");
    assert_eq!(value, 3.0);
}

#[tokio::test]
async fn token_refresh_counted() {
    let _serial = SERIAL.lock().await;
    let outcome = [("outcome", "success")];
    let refresh_call = [("call", "POST /access_token"), ("status", "200")];
    let refreshes = "guestissuer_service_app_token_refreshes_total";
    let attempts = "guestissuer_upstream_requests_total";
    let before = spawn(&[]).await.scrape().await;

    let app = spawn(&[("GUESTISSUER__WEBEX__MODE", "service_app")]).await;
    assert_eq!(app.login("metrics-service-app").await.status(), 200);
    let after = app.scrape().await;

    assert_eq!(
        after.value(refreshes, &outcome) - before.value(refreshes, &outcome),
        1.0
    );
    assert_eq!(
        after.value(attempts, &refresh_call) - before.value(attempts, &refresh_call),
        1.0
    );
}

#[tokio::test]
async fn rate_limit_rejection_counted() {
    let _serial = SERIAL.lock().await;
    let app = spawn(&[
        ("GUESTISSUER__RATE_LIMIT__PER_IP_BURST", "1"),
        ("GUESTISSUER__RATE_LIMIT__PER_IP_PER_MINUTE", "1"),
    ])
    .await;
    let limiter = [("limiter", "client_ip")];
    let rejected = [("route", "/guests/login"), ("status", "429")];
    let before = app.scrape().await;

    assert_eq!(app.login("metrics-limit").await.status(), 200);
    assert_eq!(app.login("metrics-limit").await.status(), 429);
    let after = app.scrape().await;

    let limited = "guestissuer_rate_limited_total";
    let requests = "guestissuer_http_requests_total";
    assert_eq!(
        after.value(limited, &limiter) - before.value(limited, &limiter),
        1.0
    );
    assert_eq!(
        after.value(requests, &rejected) - before.value(requests, &rejected),
        1.0
    );
}
