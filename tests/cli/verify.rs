//! `verify --jwt` on the reference vectors and on tokens of our own, and
//! `verify --access` against the emulator.

use guestissuer::routes::rfc3339;
use serde_json::json;

use super::support::{
    OTHER_SECRET, VECTOR_SECRET, cli, create_token, now, run, start_emulator, vectors,
};

#[tokio::test]
async fn vectors_decode_and_verify() {
    for vector in vectors() {
        let token = vector["token"].as_str().unwrap();
        let secret = vector["secret_base64"].as_str().unwrap();

        let run = run(&["verify", "--jwt", token, "-s", secret]).await;

        let sub = &vector["sub"];
        assert_eq!(run.code, 0, "vector {sub}: {}", run.stderr);
        let report = run.json();
        assert_eq!(
            report["header"],
            json!({ "alg": "HS256", "typ": "JWT" }),
            "vector {sub}"
        );
        assert_eq!(report["claims"]["sub"], vector["sub"]);
        assert_eq!(report["claims"]["name"], vector["name"]);
        assert_eq!(report["claims"]["iss"], vector["issuer"]);
        assert_eq!(report["claims"]["exp"], vector["exp"]);
        assert_eq!(report["signature"], "valid", "vector {sub}");
        let exp = vector["exp"].as_i64().unwrap();
        assert_eq!(report["expiresAt"], rfc3339(exp), "vector {sub}");
        assert_eq!(report["expired"], exp <= now(), "vector {sub}");
    }
}

#[tokio::test]
async fn verify_reports_expired_token() {
    let token = vectors()[0]["token"].as_str().unwrap().to_owned();

    let run = run(&["verify", "--jwt", &token]).await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let report = run.json();
    assert_eq!(report["expiresAt"], "2018-01-27T17:10:19Z");
    assert_eq!(report["expired"], true);
    assert!(
        run.stderr
            .contains("warning: the token expired at 2018-01-27T17:10:19Z\n"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn verify_without_secret_leaves_signature_unchecked() {
    let token = vectors()[1]["token"].as_str().unwrap().to_owned();

    let run = run(&["verify", "--jwt", &token]).await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let report = run.json();
    assert_eq!(report["signature"], "unchecked");
    assert_eq!(report["expired"], false);
    assert_eq!(report["expiresAt"], "2100-01-01T00:00:00Z");
}

#[tokio::test]
async fn verify_token_as_positional_like_npm_tool() {
    let token = vectors()[1]["token"].as_str().unwrap().to_owned();

    let flag_last = run(&["verify", &token, "--jwt"]).await;
    let no_flag = run(&["verify", &token]).await;

    assert_eq!(flag_last.code, 0, "stderr: {}", flag_last.stderr);
    assert_eq!(no_flag.code, 0, "stderr: {}", no_flag.stderr);
    assert_eq!(flag_last.json()["claims"]["sub"], "guest-42");
    assert_eq!(no_flag.json(), flag_last.json());
}

#[tokio::test]
async fn verify_secret_from_environment() {
    let token = vectors()[2]["token"].as_str().unwrap().to_owned();

    let run = cli(&["verify", "--jwt", &token])
        .env("SECRET", VECTOR_SECRET)
        .run()
        .await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.json()["signature"], "valid");
}

#[tokio::test]
async fn verify_wrong_secret_fails() {
    let token = create_token("guest-1", "Jane").await;

    let run = run(&["verify", "--jwt", &token, "-s", OTHER_SECRET]).await;

    assert_eq!(run.code, 1);
    assert_eq!(run.json()["signature"], "invalid");
    assert!(
        run.stderr.contains("error: invalid signature"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("-s/--secret"), "{}", run.stderr);
}

#[tokio::test]
async fn verify_tampered_token_fails() {
    let token = vectors()[1]["token"].as_str().unwrap().to_owned();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = vectors()[2]["token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let tampered = parts.join(".");

    let run = run(&["verify", "--jwt", &tampered, "-s", VECTOR_SECRET]).await;

    assert_eq!(run.code, 1);
    assert_eq!(run.json()["signature"], "invalid");
}

#[tokio::test]
async fn verify_json_is_one_line() {
    let token = vectors()[1]["token"].as_str().unwrap().to_owned();

    let run = run(&["verify", "--jwt", &token, "--json"]).await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1);
    assert_eq!(run.json()["claims"]["name"], "Jane Doe");
}

#[tokio::test]
async fn verify_decodes_non_guest_jwt() {
    use base64::Engine;
    let encode = |value: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };
    let token = format!(
        "{}.{}.c2ln",
        encode(json!({ "alg": "RS256" })),
        encode(json!({ "user_type": "machine", "expiry_time": 1517095624105_i64 }))
    );

    let run = run(&["verify", "--jwt", &token]).await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let report = run.json();
    assert_eq!(report["header"]["alg"], "RS256");
    assert_eq!(report["claims"]["user_type"], "machine");
    assert_eq!(report["expiresAt"], serde_json::Value::Null);
    assert_eq!(report["expired"], serde_json::Value::Null);
}

#[tokio::test]
async fn verify_out_of_range_exp() {
    use base64::Engine;
    let encode = |value: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };
    let cases = [
        (json!(-99_999_999_999_999_i64), true),
        (json!(99_999_999_999_999_999_i64), false),
        (json!(1e20), false),
    ];
    for (exp, expired) in cases {
        let token = format!(
            "{}.{}.c2ln",
            encode(json!({ "alg": "HS256" })),
            encode(json!({ "sub": "u", "exp": exp }))
        );

        let run = run(&["verify", "--jwt", &token]).await;

        assert_eq!(run.code, 0, "exp {exp}: {}", run.stderr);
        let report = run.json();
        assert_eq!(report["expiresAt"], serde_json::Value::Null, "exp {exp}");
        assert_eq!(report["expired"], expired, "exp {exp}");
        assert_eq!(
            run.stderr.contains("warning: the token expired"),
            expired,
            "exp {exp}: {}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn verify_secret_names_bad_alg() {
    use base64::Engine;
    let encode = |value: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };
    let claims = encode(json!({ "sub": "u", "exp": 4_102_444_800_i64 }));
    let cases = [
        (json!({}), "the token's header has no alg"),
        (
            json!({ "alg": "none" }),
            "the token is signed with \"none\"",
        ),
    ];
    for (header, expected) in cases {
        let token = format!("{}.{claims}.c2ln", encode(header));

        let run = run(&["verify", "--jwt", &token, "-s", VECTOR_SECRET]).await;

        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_eq!(run.json()["signature"], "invalid");
        assert!(run.stderr.contains(expected), "{}", run.stderr);
        assert!(!run.stderr.contains("variant"), "{}", run.stderr);
    }
}

#[tokio::test]
async fn verify_access_prints_person() {
    let emulator = start_emulator().await;
    let access_token = run(&[
        "quick",
        "guest-11",
        "Person",
        "-i",
        super::support::VECTOR_ISSUER,
        "-s",
        VECTOR_SECRET,
        "--base-url",
        &emulator.base_url,
    ])
    .await;
    assert_eq!(access_token.code, 0, "stderr: {}", access_token.stderr);

    let run = run(&[
        "verify",
        "--access",
        access_token.out(),
        "--base-url",
        &emulator.base_url,
    ])
    .await;

    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let person = run.json();
    assert_eq!(person["displayName"], "Person");
    assert_eq!(person["type"], "appuser");
    assert!(person["id"].as_str().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn verify_access_rejected_token_fails() {
    let emulator = start_emulator().await;

    let run = run(&[
        "verify",
        "--access",
        "EMU_unknown",
        "--base-url",
        &emulator.base_url,
    ])
    .await;

    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("Webex rejected the access token (GET /people/me returned 401)"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn verify_access_network_failure_fails() {
    let run = run(&["verify", "--access", "EMU_token"]).await;

    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("Webex could not be reached for GET /people/me"),
        "{}",
        run.stderr
    );
}
