//! `create`, and `create` as the default command.

use guestissuer::config::Settings;
use guestissuer::guest_token::{self, GuestClaims, IssuerSecret};
use guestissuer::startup::Application;
use serde_json::{Value, json};

use super::support::{VECTOR_ISSUER, VECTOR_SECRET, cli, now, payload, run};

fn vector_secret() -> IssuerSecret {
    IssuerSecret::from_base64(VECTOR_SECRET).unwrap()
}

#[tokio::test]
async fn create_prints_token_alone() {
    let before = now();
    let run = run(&[
        "create",
        "guest-7",
        "Jane Doe",
        "-i",
        VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
    ])
    .await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(run.stdout.lines().count(), 1);
    let token = run.out();
    let claims = guest_token::check_signature(token, &vector_secret()).expect("signature valid");
    assert_eq!(claims["sub"], "guest-7");
    assert_eq!(claims["name"], "Jane Doe");
    assert_eq!(claims["iss"], VECTOR_ISSUER);
    let exp = claims["exp"].as_i64().unwrap();
    assert!((before + 5400..=now() + 5400).contains(&exp), "exp {exp}");
}

#[tokio::test]
async fn default_command_is_create() {
    let run = run(&[
        "guest-7",
        "Jane Doe",
        "-i",
        VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
    ])
    .await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let claims = guest_token::check_signature(run.out(), &vector_secret()).unwrap();
    assert_eq!(claims["sub"], "guest-7");
    assert_eq!(claims["name"], "Jane Doe");
}

#[tokio::test]
async fn default_command_with_options_first() {
    let run = run(&["-i", VECTOR_ISSUER, "-s", VECTOR_SECRET, "guest-7", "Jane"]).await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(payload(run.out())["name"], "Jane");
}

#[tokio::test]
async fn create_delay_sets_exp() {
    let before = now();
    let run = run(&[
        "create",
        "u",
        "U",
        "-i",
        VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
        "-d",
        "600",
    ])
    .await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let exp = payload(run.out())["exp"].as_i64().unwrap();
    assert!((before + 600..=now() + 600).contains(&exp), "exp {exp}");
}

#[tokio::test]
async fn create_reads_issuer_secret_expires_from_env() {
    let before = now();
    let run = cli(&["create", "u", "U"])
        .env("ISSUER", VECTOR_ISSUER)
        .env("SECRET", VECTOR_SECRET)
        .env("EXPIRES", "120")
        .run()
        .await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let claims = guest_token::check_signature(run.out(), &vector_secret()).unwrap();
    assert_eq!(claims["iss"], VECTOR_ISSUER);
    let exp = claims["exp"].as_i64().unwrap();
    assert!((before + 120..=now() + 120).contains(&exp), "exp {exp}");
}

#[tokio::test]
async fn create_options_win_over_env() {
    let run = cli(&[
        "u",
        "U",
        "-i",
        VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
        "-d",
        "90",
    ])
    .env("ISSUER", "other-issuer")
    .env("SECRET", "!!!")
    .env("EXPIRES", "abc")
    .run()
    .await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let claims = guest_token::check_signature(run.out(), &vector_secret()).unwrap();
    assert_eq!(claims["iss"], VECTOR_ISSUER);
}

#[tokio::test]
async fn create_json_output() {
    let run = run(&[
        "create",
        "u-1",
        "Ann",
        "-i",
        VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
        "-d",
        "3600",
        "--json",
    ])
    .await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1);
    let body = run.json();
    assert_eq!(body["userId"], "u-1");
    assert_eq!(body["userName"], "Ann");
    assert_eq!(body["expiresIn"], 3600);
    let token = body["token"].as_str().unwrap();
    let exp = payload(token)["exp"].as_i64().unwrap();
    assert_eq!(body["expiresAt"], guestissuer::routes::rfc3339(exp));
}

#[tokio::test]
async fn create_verbose_hides_secret_and_token() {
    let run = run(&["u", "U", "-i", VECTOR_ISSUER, "-s", VECTOR_SECRET, "-v"]).await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let token = run.out();
    assert!(run.stderr.contains("step: "), "{}", run.stderr);
    assert!(run.stderr.contains("32-byte key"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("{} characters", token.len())));
    assert!(
        !run.stderr.contains(VECTOR_SECRET),
        "secret in {}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("ugsonZRX"),
        "secret prefix in {}",
        run.stderr
    );
    assert!(!run.stderr.contains(token), "whole token in {}", run.stderr);
    let signature = token.rsplit('.').next().unwrap();
    assert!(
        !run.stderr.contains(signature),
        "signature in {}",
        run.stderr
    );
}

#[tokio::test]
async fn create_maximum_from_config_file() {
    let path = std::env::temp_dir().join(format!("guestissuer-cli-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(
        &path,
        "[guests]\nmax_expires_in = 3600\ndefault_expires_in = 1800\n",
    )
    .unwrap();
    let config = path.to_str().unwrap();
    let base = [
        "u",
        "U",
        "-i",
        VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
        "--config",
        config,
    ];

    let accepted = run(&[&base[..], &["-d", "3600"]].concat()).await;
    let rejected = run(&[&base[..], &["-d", "3601"]].concat()).await;
    let default = run(&base).await;
    let from_env = cli(&[
        "u",
        "U",
        "-i",
        VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
        "-d",
        "3601",
    ])
    .env("GUESTISSUER_CONFIG", config)
    .run()
    .await;
    std::fs::remove_file(&path).unwrap();

    assert_eq!(accepted.code, 0, "stderr: {}", accepted.stderr);
    assert_eq!(rejected.code, 2);
    assert!(
        rejected.stderr.contains("from 60 to 3600"),
        "{}",
        rejected.stderr
    );
    assert_eq!(rejected.stdout, "");
    assert_eq!(default.code, 0, "stderr: {}", default.stderr);
    let exp = payload(default.out())["exp"].as_i64().unwrap();
    assert!(
        (exp - now() - 1800).abs() <= 2,
        "default lifetime from the file"
    );
    assert_eq!(from_env.code, 2);
    assert!(
        from_env.stderr.contains("from 60 to 3600"),
        "{}",
        from_env.stderr
    );
}

#[tokio::test]
async fn create_maximum_from_environment_override() {
    let run = cli(&[
        "u",
        "U",
        "-i",
        VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
        "-d",
        "7200",
    ])
    .env("GUESTISSUER__GUESTS__MAX_EXPIRES_IN", "7000")
    .run()
    .await;

    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("from 60 to 7000"), "{}", run.stderr);
}

/// Mints through `POST /guests` on the real service with the vector issuer.
async fn service_token(user_id: &str, user_name: &str, expires_in: u64) -> String {
    let env = [
        ("GUESTISSUER__SERVER__LISTEN", "127.0.0.1:0"),
        ("GUESTISSUER__ISSUER__ID", VECTOR_ISSUER),
        ("GUESTISSUER__ISSUER__SECRET", VECTOR_SECRET),
    ];
    let env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let settings = Settings::load_with_env(None, env).unwrap();
    let application = Application::build(settings).await.unwrap();
    let addr = application.local_addr();
    tokio::spawn(application.run_until(std::future::pending()));
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/guests"))
        .json(&json!({ "userId": user_id, "userName": user_name, "expiresIn": expires_in }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn create_matches_service_mint() {
    let from_service = service_token("a1b2-c3", "Zoë 🚀 O'Brien", 3600).await;
    let run = run(&[
        "a1b2-c3",
        "Zoë 🚀 O'Brien",
        "-i",
        VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
        "-d",
        "3600",
    ])
    .await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let from_cli = run.out();

    let header = |token: &str| token.split('.').next().unwrap().to_owned();
    assert_eq!(header(from_cli), header(&from_service));
    let mut cli_claims = payload(from_cli);
    let mut service_claims = payload(&from_service);
    let cli_exp = cli_claims["exp"].as_i64().unwrap();
    let service_exp = service_claims["exp"].as_i64().unwrap();
    assert!(
        (cli_exp - service_exp).abs() <= 5,
        "exp {cli_exp} vs {service_exp}"
    );
    let keys = |claims: &Value| {
        claims
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&cli_claims), ["sub", "name", "iss", "exp"]);
    assert_eq!(keys(&cli_claims), keys(&service_claims));
    let same_claims = GuestClaims {
        sub: "a1b2-c3".into(),
        name: "Zoë 🚀 O'Brien".into(),
        iss: VECTOR_ISSUER.into(),
        exp: cli_exp,
    };
    assert_eq!(guest_token::mint(&same_claims, &vector_secret()), from_cli);
    cli_claims["exp"] = json!(0);
    service_claims["exp"] = json!(0);
    assert_eq!(cli_claims, service_claims);
}
