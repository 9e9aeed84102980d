//! Options before the command name and unexpected arguments that look
//! like tokens.

use super::support::{VECTOR_ISSUER, VECTOR_SECRET, cli, create_token, payload, start_emulator};

#[tokio::test]
async fn options_before_login_run_login() {
    let emulator = start_emulator().await;
    let token = create_token("guest-7", "Ada").await;
    let run = cli(&["--json", "login", &token])
        .env("GUESTISSUER_WEBEX_BASE_URL", &emulator.base_url)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.json()["accessToken"].is_string(), "{}", run.stdout);
    assert_eq!(emulator.calls("POST /jwt/login"), 1);
}

#[tokio::test]
async fn options_before_command_never_mint_for_command_name() {
    let run = cli(&["-v", "login", "a.b"])
        .env("ISSUER", VECTOR_ISSUER)
        .env("SECRET", VECTOR_SECRET)
        .run()
        .await;
    assert_eq!(run.code, 2, "stdout {}", run.stdout);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("<GUEST_TOKEN> is not a valid JWT"),
        "{}",
        run.stderr
    );

    let run = cli(&["--json", "verify", "e30.e30.abc"]).run().await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["signature"], "unchecked");
}

#[tokio::test]
async fn option_value_named_login_kept() {
    let run = cli(&["-s", VECTOR_SECRET, "-i", "login", "u", "U"])
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let claims = payload(run.out());
    assert_eq!(claims["iss"], "login");
    assert_eq!(claims["sub"], "u");
}

#[tokio::test]
async fn extra_token_argument_is_shortened() {
    let token = create_token("guest-8", "Bo").await;
    for json in [false, true] {
        let mut args = vec!["login", &token, &token];
        if json {
            args.push("--json");
        }
        let run = cli(&args).run().await;
        assert_eq!(run.code, 2);
        assert!(
            !run.stderr.contains(&token),
            "whole token in {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("unexpected argument 'eyJhbGci..."),
            "{}",
            run.stderr
        );
    }
    let run = cli(&["create", "u", "U", VECTOR_SECRET]).run().await;
    assert_eq!(run.code, 2);
    assert!(
        !run.stderr.contains(VECTOR_SECRET),
        "secret in {}",
        run.stderr
    );
}
