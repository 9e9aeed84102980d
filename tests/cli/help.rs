//! Help pages, version, and the commands that existed before `create`.

use super::support::run;

#[tokio::test]
async fn top_help_lists_commands_and_exit_codes() {
    let run = run(&["--help"]).await;

    assert_eq!(run.code, 0);
    for text in [
        "create",
        "login",
        "quick",
        "verify",
        "serve",
        "emulate",
        "Exit codes:",
        "default command",
    ] {
        assert!(
            run.stdout.contains(text),
            "{text:?} missing from {}",
            run.stdout
        );
    }
}

#[tokio::test]
async fn every_command_help_has_example_and_exit_codes() {
    for command in ["create", "login", "quick", "verify", "serve", "emulate"] {
        let run = run(&[command, "--help"]).await;

        assert_eq!(run.code, 0, "{command}: {}", run.stderr);
        assert!(
            run.stdout.contains("Examples:"),
            "{command}: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains(&format!("guestissuer {command}")),
            "{command}: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains("2  invalid usage or input"),
            "{command}: {}",
            run.stdout
        );
    }
}

#[tokio::test]
async fn help_never_shows_secret_from_environment() {
    let run = super::support::cli(&["create", "--help"])
        .env("SECRET", "c2VjcmV0LWluLWhlbHA=")
        .run()
        .await;

    assert_eq!(run.code, 0);
    assert!(
        !run.stdout.contains("c2VjcmV0LWluLWhlbHA="),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn help_shows_config_variable_without_value() {
    for command in ["create", "login", "serve", "emulate", "healthcheck"] {
        let run = super::support::cli(&[command, "--help"]).run().await;

        assert_eq!(run.code, 0, "{command}");
        assert!(
            run.stdout.contains("[env: GUESTISSUER_CONFIG]"),
            "{command}: {}",
            run.stdout
        );
    }
}

#[tokio::test]
async fn version_prints_package_version() {
    let run = run(&["--version"]).await;

    assert_eq!(run.code, 0);
    assert_eq!(
        run.out(),
        format!("guestissuer {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn no_arguments_prints_help_and_exits_2() {
    let run = run(&[]).await;

    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("Usage: guestissuer <COMMAND>"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn serve_rejects_invalid_configuration() {
    let run = super::support::cli(&["serve"])
        .env("GUESTISSUER__SERVER__LISTEN", "not-an-address")
        .run()
        .await;

    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("invalid configuration"),
        "{}",
        run.stderr
    );
}
