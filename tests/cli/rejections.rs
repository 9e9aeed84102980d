//! Inputs the npm tool silently mangled are rejected: each exits with 2,
//! prints nothing on stdout, and names the problem and the fix on stderr.

use super::support::{VECTOR_ISSUER, VECTOR_SECRET, cli, vectors};

/// Runs `args` with `env` and checks the exit code 2, the empty stdout and
/// the message on stderr.
async fn assert_rejected(args: &[&str], env: &[(&str, &str)], expected: &[&str]) {
    let mut command = cli(args);
    for (name, value) in env {
        command = command.env(name, value);
    }
    let run = command.run().await;
    assert_eq!(run.code, 2, "{args:?}: stderr {}", run.stderr);
    assert_eq!(run.stdout, "", "{args:?}");
    for text in expected {
        assert!(
            run.stderr.contains(text),
            "{args:?}: expected {text:?} in {}",
            run.stderr
        );
    }
}

const ISSUER: &str = VECTOR_ISSUER;
const SECRET: &str = VECTOR_SECRET;

#[tokio::test]
async fn missing_arguments_rejected() {
    let required = "the following required arguments were not provided";
    assert_rejected(
        &["create", "u", "-i", ISSUER, "-s", SECRET],
        &[],
        &[required, "<USER_NAME>"],
    )
    .await;
    assert_rejected(
        &["u", "-i", ISSUER, "-s", SECRET],
        &[],
        &[required, "<USER_NAME>"],
    )
    .await;
    assert_rejected(&["create"], &[], &[required, "<USER_ID>"]).await;
    assert_rejected(&["login"], &[], &[required, "<GUEST_TOKEN>"]).await;
    assert_rejected(&["quick", "u"], &[], &[required, "<USER_NAME>"]).await;
    assert_rejected(&["verify"], &[], &[required, "<TOKEN>"]).await;
    assert_rejected(&["verify", "--jwt"], &[], &[required, "<TOKEN>"]).await;
    assert_rejected(&["verify", "--access"], &[], &[required, "<TOKEN>"]).await;
}

#[tokio::test]
async fn missing_issuer_or_secret_rejected() {
    assert_rejected(
        &["u", "U", "-s", SECRET],
        &[],
        &[
            "missing Guest Issuer id",
            "-i/--issuer",
            "ISSUER environment variable",
        ],
    )
    .await;
    assert_rejected(
        &["u", "U", "-i", ISSUER],
        &[],
        &[
            "missing Guest Issuer secret",
            "-s/--secret",
            "SECRET environment variable",
        ],
    )
    .await;
    assert_rejected(
        &["quick", "u", "U", "-i", ISSUER],
        &[],
        &["missing Guest Issuer secret"],
    )
    .await;
    assert_rejected(
        &["u", "U", "-i", "", "-s", SECRET],
        &[],
        &["-i/--issuer is empty"],
    )
    .await;
    assert_rejected(
        &["u", "U", "-s", SECRET],
        &[("ISSUER", " ")],
        &["the ISSUER environment variable is empty"],
    )
    .await;
    assert_rejected(
        &["u", "U", "-i", "ab cd", "-s", SECRET],
        &[],
        &["-i/--issuer contains whitespace", "character 3"],
    )
    .await;
}

#[tokio::test]
async fn invalid_delay_rejected() {
    let rule = "must be a whole number of seconds from 60 to 86400";
    for delay in [
        "abc",
        "0",
        "-5",
        "86401",
        "1.5",
        "90s",
        "",
        "99999999999999999999",
    ] {
        let args = ["u", "U", "-i", ISSUER, "-s", SECRET, "-d", delay];
        let quoted = format!("got \"{delay}\"");
        assert_rejected(&args, &[], &["-d/--delay", rule, &quoted]).await;
    }
    assert_rejected(
        &["u", "U", "-i", ISSUER, "-s", SECRET, "--delay=-1"],
        &[],
        &[rule],
    )
    .await;
    assert_rejected(
        &["u", "U", "-i", ISSUER, "-s", SECRET, "--expires-in", "30"],
        &[],
        &[rule, "got \"30\""],
    )
    .await;
    assert_rejected(
        &["u", "U", "-i", ISSUER, "-s", SECRET],
        &[("EXPIRES", "abc")],
        &["the EXPIRES environment variable", rule],
    )
    .await;
    assert_rejected(
        &["u", "U", "-i", ISSUER, "-s", SECRET],
        &[("EXPIRES", "0")],
        &["the EXPIRES environment variable", rule],
    )
    .await;
}

#[tokio::test]
async fn option_without_value_rejected() {
    let no_value = "a value is required for";
    assert_rejected(
        &["u", "U", "-s", SECRET, "-i"],
        &[],
        &[no_value, "--issuer <ISSUER_ID>"],
    )
    .await;
    assert_rejected(
        &["u", "U", "-i", "-s", SECRET],
        &[],
        &[no_value, "--issuer <ISSUER_ID>"],
    )
    .await;
    assert_rejected(
        &["u", "U", "-i", ISSUER, "-s"],
        &[],
        &[no_value, "--secret <SECRET>"],
    )
    .await;
    assert_rejected(
        &["u", "U", "-i", ISSUER, "-s", SECRET, "-d"],
        &[],
        &[no_value, "--delay <SECONDS>"],
    )
    .await;
    assert_rejected(
        &["u", "U", "-i", ISSUER, "-d", "-s", SECRET],
        &[],
        &[no_value, "--delay <SECONDS>"],
    )
    .await;
    assert_rejected(
        &["login", "x.y.z", "--base-url"],
        &[],
        &[no_value, "--base-url <URL>"],
    )
    .await;
    assert_rejected(
        &["u", "U", "-i", ISSUER, "-s", SECRET, "--config"],
        &[],
        &[no_value, "--config <FILE>"],
    )
    .await;
}

#[tokio::test]
async fn invalid_secret_rejected() {
    let fix = "paste the secret exactly as Webex shows it";
    for secret in ["!!!", "not base64", "c2Vj*mV0", "a+b-c_d/"] {
        assert_rejected(
            &["u", "U", "-i", ISSUER, "-s", secret],
            &[],
            &["-s/--secret", fix],
        )
        .await;
    }
    assert_rejected(
        &["u", "U", "-i", ISSUER, "-s", ""],
        &[],
        &["-s/--secret is empty"],
    )
    .await;
    assert_rejected(
        &["u", "U", "-i", ISSUER],
        &[("SECRET", "!!!")],
        &["the SECRET environment variable is not valid base64"],
    )
    .await;
    let token = vectors()[1]["token"].as_str().unwrap().to_owned();
    assert_rejected(
        &["verify", "--jwt", &token, "-s", "!!!"],
        &[],
        &["-s/--secret is not valid base64"],
    )
    .await;
    assert_rejected(
        &["quick", "u", "U", "-i", ISSUER, "-s", "%%%"],
        &[],
        &["-s/--secret is not valid base64"],
    )
    .await;
}

#[tokio::test]
async fn unknown_option_rejected() {
    let unexpected = "unexpected argument";
    assert_rejected(
        &["u", "U", "-i", ISSUER, "-s", SECRET, "--frobnicate"],
        &[],
        &[unexpected, "--frobnicate"],
    )
    .await;
    assert_rejected(
        &["create", "u", "U", "-i", ISSUER, "-s", SECRET, "-x"],
        &[],
        &[unexpected, "-x"],
    )
    .await;
    assert_rejected(
        &["login", "a.b.c", "--secret", SECRET],
        &[],
        &[unexpected, "--secret"],
    )
    .await;
    assert_rejected(
        &["verify", "--jwt", "a.b.c", "--verbosee"],
        &[],
        &[unexpected],
    )
    .await;
    assert_rejected(
        &["u", "U", "extra", "-i", ISSUER, "-s", SECRET],
        &[],
        &[unexpected, "extra"],
    )
    .await;
}

#[tokio::test]
async fn misspelled_command_gets_tip() {
    let token = vectors()[1]["token"].as_str().unwrap().to_owned();
    assert_rejected(
        &["verfiy", "--jwt", &token],
        &[],
        &[
            "unexpected argument '--jwt'",
            "did you mean guestissuer verify?",
        ],
    )
    .await;
}

#[tokio::test]
async fn conflicting_options_rejected() {
    let token = vectors()[1]["token"].as_str().unwrap().to_owned();
    assert_rejected(
        &["verify", "--jwt", "--access", &token],
        &[],
        &["cannot be used with"],
    )
    .await;
    assert_rejected(
        &["verify", "--access", &token, "-s", SECRET],
        &[],
        &["cannot be used with"],
    )
    .await;
}

#[tokio::test]
async fn malformed_guest_tokens_rejected() {
    let token = vectors()[0]["token"].as_str().unwrap().to_owned();
    let with_space = format!("{} {}", &token[..50], &token[50..]);
    let with_newline = format!("{}\n{}", &token[..10], &token[10..]);
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            with_space,
            vec![
                "whitespace at character 51",
                "without spaces or line breaks",
            ],
        ),
        (with_newline, vec!["whitespace at character 11"]),
        (
            "abc.def".into(),
            vec!["has 2 dot-separated parts", "exactly 3"],
        ),
        ("a.b.c.d".into(), vec!["has 4 dot-separated parts"]),
        ("nodots".into(), vec!["has 1 dot-separated parts"]),
        (
            "e30.!!.e30".into(),
            vec![
                "payload part is not base64url",
                "copy the whole token again",
            ],
        ),
        (
            "e30.WzFd.e30".into(),
            vec!["payload part is not a JSON object"],
        ),
        (
            "aGVsbG8.e30.e30".into(),
            vec!["header part is not a JSON object"],
        ),
        (
            "e30.e30.***".into(),
            vec!["signature part is not base64url"],
        ),
        ("".into(), vec!["the token is empty"]),
    ];
    for (token, expected) in &cases {
        let mut login = vec!["<GUEST_TOKEN> is not a valid JWT"];
        login.extend(expected);
        assert_rejected(&["login", token], &[], &login).await;
        let mut verify = vec!["<TOKEN> is not a valid JWT"];
        verify.extend(expected);
        assert_rejected(&["verify", "--jwt", token], &[], &verify).await;
    }
}

#[tokio::test]
async fn malformed_access_tokens_rejected() {
    assert_rejected(
        &["verify", "--access", "EMU_ab cd"],
        &[],
        &["access token contains whitespace at character 7"],
    )
    .await;
    assert_rejected(
        &["verify", "--access", "  "],
        &[],
        &["the access token is empty"],
    )
    .await;
}

#[tokio::test]
async fn invalid_guest_identity_rejected() {
    let long_id = "x".repeat(129);
    assert_rejected(
        &["u", " ", "-i", ISSUER, "-s", SECRET],
        &[],
        &["<USER_NAME> must not be empty"],
    )
    .await;
    assert_rejected(
        &[&long_id, "U", "-i", ISSUER, "-s", SECRET],
        &[],
        &["<USER_ID> must be at most 128 characters"],
    )
    .await;
    assert_rejected(
        &["u", "tab\there", "-i", ISSUER, "-s", SECRET],
        &[],
        &["<USER_NAME> must not contain control characters"],
    )
    .await;
}

#[tokio::test]
async fn invalid_base_url_rejected() {
    let token = vectors()[1]["token"].as_str().unwrap().to_owned();
    assert_rejected(
        &["login", &token, "--base-url", "webexapis.com/v1"],
        &[],
        &["--base-url", "is not a valid URL"],
    )
    .await;
    assert_rejected(
        &["login", &token, "--base-url", "emulator"],
        &[],
        &["guestissuer emulate"],
    )
    .await;
    assert_rejected(
        &["login", &token, "--base-url", "ftp://127.0.0.1/v1"],
        &[],
        &["must be an http or https URL"],
    )
    .await;
    assert_rejected(
        &["login", &token],
        &[("GUESTISSUER_WEBEX_BASE_URL", "nope")],
        &["the GUESTISSUER_WEBEX_BASE_URL environment variable"],
    )
    .await;
}

#[tokio::test]
async fn invalid_configuration_rejected() {
    assert_rejected(
        &[
            "u",
            "U",
            "-i",
            ISSUER,
            "-s",
            SECRET,
            "--config",
            "/nonexistent/guestissuer.toml",
        ],
        &[],
        &["invalid configuration", "--config"],
    )
    .await;
    assert_rejected(
        &["u", "U", "-i", ISSUER, "-s", SECRET],
        &[("GUESTISSUER__GUESTS__MAX_EXPIRES_IN", "ten")],
        &["invalid configuration"],
    )
    .await;
}

#[tokio::test]
async fn rejections_as_json() {
    let parse_error = cli(&[
        "u",
        "U",
        "-i",
        ISSUER,
        "-s",
        SECRET,
        "--json",
        "--frobnicate",
    ])
    .run()
    .await;
    let input_error = cli(&["u", "U", "-i", ISSUER, "-s", SECRET, "--json", "-d", "0"])
        .run()
        .await;

    for run in [&parse_error, &input_error] {
        assert_eq!(run.code, 2, "stderr: {}", run.stderr);
        assert_eq!(run.stdout, "");
        let error = &run.stderr_json()["error"];
        assert_eq!(error["exitCode"], 2);
        assert_eq!(error["kind"], "invalid-usage");
    }
    assert!(
        parse_error.stderr_json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--frobnicate")
    );
    assert!(
        input_error.stderr_json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("-d/--delay")
    );
}

#[tokio::test]
async fn rejections_never_echo_secret() {
    let secret = "c2VjcmV0IHRoYXQgbXVzdCBub3QgbGVhaw==";
    let runs = [
        cli(&["u", "", "-i", ISSUER, "-s", secret]).run().await,
        cli(&["u", "U", "-i", ISSUER, "-s", secret, "-d", "0"])
            .run()
            .await,
        cli(&[
            "u", "U", "-i", ISSUER, "-s", secret, "-d", "0", "--json", "-v",
        ])
        .run()
        .await,
    ];
    for run in &runs {
        assert_eq!(run.code, 2);
        assert!(!run.stderr.contains(secret), "secret in {}", run.stderr);
        assert!(
            !run.stderr.contains("c2VjcmV0"),
            "secret prefix in {}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn identity_errors_name_only_relevant_key() {
    let long_id = "a".repeat(300);
    let cases = [
        (vec!["create", "", "U"], None),
        (vec!["create", "u", "a\tb"], None),
        (
            vec!["create", long_id.as_str(), "U"],
            Some("guests.max_user_id_len"),
        ),
    ];
    for (args, key) in cases {
        let mut args = args;
        args.extend(["-i", ISSUER, "-s", SECRET]);
        let run = cli(&args).run().await;
        assert_eq!(run.code, 2, "{args:?}");
        assert!(!run.stderr.contains("max_user_name_len"), "{}", run.stderr);
        match key {
            Some(key) => assert!(run.stderr.contains(key), "{}", run.stderr),
            None => assert!(!run.stderr.contains("max_user_id_len"), "{}", run.stderr),
        }
    }
}

#[tokio::test]
async fn empty_config_variable_named() {
    let run = cli(&["create", "u", "U", "-i", ISSUER, "-s", SECRET])
        .env("GUESTISSUER_CONFIG", "")
        .run()
        .await;

    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("GUESTISSUER_CONFIG environment variable is set but empty"),
        "{}",
        run.stderr
    );
}
