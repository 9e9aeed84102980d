//! Configuration layering and validation.

use std::collections::HashMap;
use std::io::Write;

use guestissuer::config::{ConfigError, Settings, Upstream};

fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let env: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::load_with_env(None, env)
}

fn error_text(pairs: &[(&str, &str)]) -> String {
    let error = load(pairs).unwrap_err().to_string();
    assert!(!error.contains('\n'), "one line: {error}");
    error
}

#[test]
fn defaults_run_on_loopback_with_emulator() {
    let settings = load(&[]).unwrap();
    assert_eq!(settings.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(settings.webex.upstream, Upstream::Emulator);
    assert_eq!(settings.guests.default_expires_in, 5400);
    assert_eq!(settings.guests.min_expires_in, 60);
    assert_eq!(settings.guests.max_expires_in, 86400);
}

#[test]
fn env_reaches_keys_with_underscores() {
    let settings = load(&[
        (
            "GUESTISSUER__WEBEX__BASE_URL",
            "https://webex.example.test/v1/",
        ),
        ("GUESTISSUER__WEBEX__TIMEOUT_MS", "2500"),
        ("GUESTISSUER__GUESTS__MAX_EXPIRES_IN", "7200"),
        ("GUESTISSUER_CONFIG", "/not/read/here"),
    ])
    .unwrap();
    assert_eq!(
        settings.webex.upstream,
        Upstream::Url("https://webex.example.test/v1".to_owned())
    );
    assert_eq!(settings.webex.timeout.as_millis(), 2500);
    assert_eq!(settings.guests.max_expires_in, 7200);
}

#[test]
fn invalid_values_name_the_key() {
    let cases = [
        (
            ("GUESTISSUER__ISSUER__SECRET", "not base64!"),
            "issuer.secret",
        ),
        (("GUESTISSUER__ISSUER__SECRET", "   "), "issuer.secret"),
        (("GUESTISSUER__ISSUER__ID", " "), "issuer.id"),
        (
            ("GUESTISSUER__SERVER__LISTEN", "localhost"),
            "server.listen",
        ),
        (
            ("GUESTISSUER__WEBEX__BASE_URL", "webexapis.com/v1"),
            "webex.base_url",
        ),
        (
            ("GUESTISSUER__WEBEX__BASE_URL", "ftp://webex.example.test"),
            "webex.base_url",
        ),
        (
            ("GUESTISSUER__WEBEX__TIMEOUT_MS", "soon"),
            "webex.timeout_ms",
        ),
        (("GUESTISSUER__WEBEX__TIMEOUT_MS", "0"), "webex.timeout_ms"),
        (
            ("GUESTISSUER__GUESTS__MIN_EXPIRES_IN", "100000"),
            "guests.min_expires_in",
        ),
        (
            ("GUESTISSUER__GUESTS__DEFAULT_EXPIRES_IN", "10"),
            "guests.default_expires_in",
        ),
        (("GUESTISSUER__LOG__FORMAT", "xml"), "log.format"),
        (("GUESTISSUER__WEBEX__BASEURL", "x"), "baseurl"),
    ];
    for ((key, value), named) in cases {
        let error = error_text(&[(key, value)]);
        assert!(error.contains(named), "{key}={value}: {error}");
        assert!(error.starts_with("invalid configuration"), "{error}");
    }
}

#[test]
fn secret_and_secret_file_conflict() {
    let error = error_text(&[
        ("GUESTISSUER__ISSUER__SECRET", "c2VjcmV0"),
        ("GUESTISSUER__ISSUER__SECRET_FILE", "/run/secrets/issuer"),
    ]);
    assert!(
        error.contains("issuer.secret") && error.contains("issuer.secret_file"),
        "{error}"
    );
    assert!(error.contains("both set"), "{error}");
}

#[test]
fn secret_file_is_read_and_trimmed() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "  ugsonZRXEFcNRrvbm06UZCKK_clvHS9ybmdwgz5NbZY  ").unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("service.toml");
    std::fs::write(
        &config,
        format!("[issuer]\nid = \"issuer-from-file\"\nsecret_file = \"{path}\"\n"),
    )
    .unwrap();
    let settings = Settings::load_with_env(Some(&config), HashMap::new()).unwrap();
    assert_eq!(settings.issuer.id, "issuer-from-file");
    let vector_secret = guestissuer::guest_token::IssuerSecret::from_base64(
        "ugsonZRXEFcNRrvbm06UZCKK/clvHS9ybmdwgz5NbZY=",
    )
    .unwrap();
    assert_eq!(
        settings.issuer.secret.expose_bytes(),
        vector_secret.expose_bytes()
    );

    let env = HashMap::from([(
        "GUESTISSUER__ISSUER__SECRET_FILE".to_owned(),
        "/absent/secret".to_owned(),
    )]);
    let error = Settings::load_with_env(None, env).unwrap_err().to_string();
    assert!(
        error.contains("issuer.secret_file") && error.contains("/absent/secret"),
        "{error}"
    );
}

#[test]
fn file_layer_then_env_layer() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("service.toml");
    std::fs::write(
        &config,
        "[server]\nlisten = \"127.0.0.1:9000\"\n[webex]\ntimeout_ms = 1234\n",
    )
    .unwrap();
    let env = HashMap::from([(
        "GUESTISSUER__WEBEX__TIMEOUT_MS".to_owned(),
        "4321".to_owned(),
    )]);
    let settings = Settings::load_with_env(Some(&config), env).unwrap();
    assert_eq!(settings.server.listen.to_string(), "127.0.0.1:9000");
    assert_eq!(settings.webex.timeout.as_millis(), 4321);
}

#[test]
fn bad_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.toml");
    let error = Settings::load_with_env(Some(&missing), HashMap::new())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("absent.toml") && error.contains("does not exist"),
        "{error}"
    );

    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[server\nlisten = 1").unwrap();
    let error = Settings::load_with_env(Some(&broken), HashMap::new())
        .unwrap_err()
        .to_string();
    assert!(error.contains("broken.toml"), "{error}");

    let unknown = dir.path().join("unknown.toml");
    std::fs::write(&unknown, "[issuer]\nsecert = \"x\"\n").unwrap();
    let error = Settings::load_with_env(Some(&unknown), HashMap::new())
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown field `secert`"), "{error}");
}

#[test]
fn debug_output_hides_secrets() {
    let settings = load(&[]).unwrap();
    let debug = format!("{settings:?}");
    assert!(!debug.contains("X6WncCJD"), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
}

#[test]
fn broken_toml_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[server\nlisten = 1").unwrap();
    let error = Settings::load_with_env(Some(&broken), HashMap::new())
        .unwrap_err()
        .to_string();
    assert!(!error.contains('\n'), "one line: {error:?}");
    assert!(error.contains("line 1, column 8"), "{error}");
    assert!(error.contains("unclosed table"), "{error}");
    assert!(error.contains("broken.toml"), "{error}");
}

#[test]
fn invalid_log_level_names_the_key() {
    for level in ["[[[bad", "guestissuer=loud"] {
        let error = error_text(&[("GUESTISSUER__LOG__LEVEL", level)]);
        assert!(error.contains("log.level"), "{level}: {error}");
        assert!(error.contains(level), "{level}: {error}");
    }
}

#[test]
fn valid_log_levels_load() {
    for level in ["debug", "warn,guestissuer=trace", "tower_http=off"] {
        let settings = load(&[("GUESTISSUER__LOG__LEVEL", level)]).unwrap();
        assert_eq!(settings.log.level, level);
    }
}

#[test]
fn invalid_choices_list_the_allowed_values() {
    let cases = [
        (
            "GUESTISSUER__AUTH__MODE",
            "apikey",
            "auth.mode",
            "\"api_key\"",
        ),
        (
            "GUESTISSUER__WEBEX__MODE",
            "SERVICE_APP",
            "webex.mode",
            "\"service_app\"",
        ),
        (
            "GUESTISSUER__LOG__FORMAT",
            "xml",
            "log.format",
            "\"pretty\"",
        ),
    ];
    for (variable, value, key, allowed) in cases {
        let error = error_text(&[(variable, value)]);
        assert!(error.contains(key), "{error}");
        assert!(error.contains(value), "{error}");
        assert!(error.contains(allowed), "{error}");
        assert!(!error.contains("variant constructor"), "{error}");
    }
}

#[test]
fn valid_choices_load() {
    let settings = load(&[
        ("GUESTISSUER__WEBEX__MODE", "service_app"),
        ("GUESTISSUER__LOG__FORMAT", "pretty"),
    ])
    .unwrap();
    assert_eq!(settings.webex.mode.as_str(), "service_app");
    assert_eq!(settings.log.format, guestissuer::config::LogFormat::Pretty);
}
