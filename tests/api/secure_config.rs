//! Start-up checks of the security settings: each invalid value stops the
//! service with a message that names the key.

use crate::helpers::load_with_toml;

fn error_of(toml: &str, overrides: &[(&str, &str)]) -> String {
    match load_with_toml(toml, overrides) {
        Ok(_) => panic!("settings load, but {overrides:?} with {toml} is invalid"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn none_mode_requires_loopback() {
    let error = error_of("", &[("GUESTISSUER__SERVER__LISTEN", "0.0.0.0:0")]);
    assert!(error.contains("auth.mode"), "{error}");
    assert!(error.contains("allow_unauthenticated"), "{error}");

    let allowed = load_with_toml(
        "",
        &[
            ("GUESTISSUER__SERVER__LISTEN", "0.0.0.0:0"),
            ("GUESTISSUER__AUTH__ALLOW_UNAUTHENTICATED", "true"),
        ],
    );
    assert!(allowed.is_ok());
    let anonymous = load_with_toml(
        "",
        &[
            ("GUESTISSUER__SERVER__LISTEN", "[::]:0"),
            ("GUESTISSUER__AUTH__MODE", "anonymous"),
        ],
    );
    assert!(anonymous.is_ok());
    assert!(load_with_toml("", &[("GUESTISSUER__SERVER__LISTEN", "[::1]:0")]).is_ok());
}

#[test]
fn invalid_security_values_name_key() {
    let jwt = [
        ("GUESTISSUER__AUTH__MODE", "jwt"),
        ("GUESTISSUER__AUTH__JWT__ISSUER", "https://site.example"),
        ("GUESTISSUER__AUTH__JWT__AUDIENCE", "guestissuer"),
    ];
    let with_jwt = |extra: &[(&'static str, &'static str)]| {
        let mut all = jwt.to_vec();
        all.extend_from_slice(extra);
        all
    };
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("GUESTISSUER__AUTH__MODE", "password")], "auth.mode"),
        (
            vec![("GUESTISSUER__AUTH__MODE", "api_key")],
            "auth.api_keys",
        ),
        (with_jwt(&[]), "auth.jwt.secret"),
        (
            with_jwt(&[("GUESTISSUER__AUTH__JWT__SECRET", "too-short")]),
            "auth.jwt.secret",
        ),
        (
            with_jwt(&[
                ("GUESTISSUER__AUTH__JWT__ALGORITHM", "none"),
                (
                    "GUESTISSUER__AUTH__JWT__SECRET",
                    "0123456789abcdef0123456789abcdef",
                ),
            ]),
            "auth.jwt.algorithm",
        ),
        (
            with_jwt(&[
                ("GUESTISSUER__AUTH__JWT__ALGORITHM", "RS256"),
                ("GUESTISSUER__AUTH__JWT__PUBLIC_KEY", "not a pem"),
            ]),
            "auth.jwt.public_key",
        ),
        (
            with_jwt(&[
                ("GUESTISSUER__AUTH__JWT__ALGORITHM", "RS256"),
                (
                    "GUESTISSUER__AUTH__JWT__SECRET",
                    "0123456789abcdef0123456789abcdef",
                ),
            ]),
            "auth.jwt.secret",
        ),
        (
            with_jwt(&[
                (
                    "GUESTISSUER__AUTH__JWT__SECRET",
                    "0123456789abcdef0123456789abcdef",
                ),
                ("GUESTISSUER__AUTH__JWT__LEEWAY", "3600"),
            ]),
            "auth.jwt.leeway",
        ),
        (
            vec![
                ("GUESTISSUER__AUTH__MODE", "jwt"),
                (
                    "GUESTISSUER__AUTH__JWT__SECRET",
                    "0123456789abcdef0123456789abcdef",
                ),
            ],
            "auth.jwt.issuer",
        ),
        (
            vec![(
                "GUESTISSUER__SERVER__TRUSTED_PROXIES",
                "10.0.0.0/8,10.0.0.300",
            )],
            "server.trusted_proxies[1]",
        ),
        (
            vec![("GUESTISSUER__CORS__ALLOWED_ORIGINS", "https://app.example/")],
            "cors.allowed_origins[0]",
        ),
        (
            vec![
                ("GUESTISSUER__CORS__ALLOWED_ORIGINS", "*"),
                ("GUESTISSUER__CORS__ALLOW_CREDENTIALS", "true"),
            ],
            "cors.allowed_origins",
        ),
        (
            vec![("GUESTISSUER__RATE_LIMIT__PER_IP_BURST", "0")],
            "rate_limit.per_ip_burst",
        ),
        (
            vec![("GUESTISSUER__RATE_LIMIT__CLEANUP_INTERVAL_SECS", "0")],
            "rate_limit.cleanup_interval_secs",
        ),
        (
            vec![("GUESTISSUER__LIMITS__MAX_CONCURRENT_REQUESTS", "0")],
            "limits.max_concurrent_requests",
        ),
        (
            vec![("GUESTISSUER__AUTH__ANONYMOUS__USER_ID_PREFIX", LONG_PREFIX)],
            "auth.anonymous.user_id_prefix",
        ),
    ];
    for (overrides, key) in cases {
        let error = error_of("", &overrides);
        assert!(error.contains(key), "{overrides:?}: {error}");
    }
}

const LONG_PREFIX: &str = "a-prefix-so-long-that-a-uuid-after-it-no-longer-fits-into-the-maximum-length-of-a-user-id-which-is-128-characters-";

#[test]
fn invalid_api_key_entries_name_key() {
    let valid_hash = "0".repeat(64);
    let cases = [
        (
            "[auth]\nmode = \"api_key\"\n[[auth.api_keys]]\nclient = \"a\"\nsha256 = \"abc\"\n"
                .to_owned(),
            "auth.api_keys[0].sha256",
        ),
        (
            format!(
                "[auth]\nmode = \"api_key\"\n[[auth.api_keys]]\nclient = \"a b\"\nsha256 = \"{valid_hash}\"\n"
            ),
            "auth.api_keys[0].client",
        ),
        (
            format!(
                "[auth]\nmode = \"api_key\"\n[[auth.api_keys]]\nclient = \"a\"\nsha256 = \"{valid_hash}\"\nuser_id_pattern = \"(\"\n"
            ),
            "auth.api_keys[0].user_id_pattern",
        ),
        (
            format!(
                "[auth]\nmode = \"api_key\"\n[[auth.api_keys]]\nclient = \"a\"\nsha256 = \"{valid_hash}\"\nmax_expires_in = 10\n"
            ),
            "auth.api_keys[0].max_expires_in",
        ),
        (
            format!(
                "[auth]\nmode = \"api_key\"\n[[auth.api_keys]]\nclient = \"a\"\nsha256 = \"{valid_hash}\"\nburst = 0\n"
            ),
            "auth.api_keys[0].burst",
        ),
        (
            format!(
                "[auth]\nmode = \"api_key\"\n[[auth.api_keys]]\nclient = \"a\"\nsha256 = \"{valid_hash}\"\n[[auth.api_keys]]\nclient = \"a\"\nsha256 = \"{}\"\n",
                "1".repeat(64)
            ),
            "auth.api_keys[1].client",
        ),
        (
            format!(
                "[auth]\nmode = \"api_key\"\n[[auth.api_keys]]\nclient = \"a\"\nsha256 = \"{valid_hash}\"\n[[auth.api_keys]]\nclient = \"b\"\nsha256 = \"{valid_hash}\"\n"
            ),
            "auth.api_keys[1].sha256",
        ),
    ];
    for (toml, key) in cases {
        let error = error_of(&toml, &[]);
        assert!(error.contains(key), "{toml}: {error}");
    }
}
