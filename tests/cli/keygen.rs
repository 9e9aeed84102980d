//! `guestissuer keygen`: a fresh key on stdout and the configuration entry
//! holding its SHA-256 on stderr.

use guestissuer::auth::{KEY_PREFIX, hash_key};

use super::support::run;

#[tokio::test]
async fn keygen_prints_key_and_entry() {
    let first = run(&["keygen", "--client", "shop-backend"]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let key = first.out();
    assert!(key.starts_with(KEY_PREFIX), "{key}");
    assert_eq!(key.lines().count(), 1, "stdout holds the key alone");
    assert!(
        first.stderr.contains("[[auth.api_keys]]"),
        "{}",
        first.stderr
    );
    assert!(first.stderr.contains("client = \"shop-backend\""));
    assert!(
        first
            .stderr
            .contains(&format!("sha256 = \"{}\"", hash_key(key))),
        "{}",
        first.stderr
    );
    assert!(!first.stderr.contains(key), "the key stays off stderr");

    let second = run(&["keygen"]).await;
    assert_eq!(second.code, 0);
    assert_ne!(second.out(), key, "each run makes a new key");
}

#[tokio::test]
async fn keygen_rejects_bad_client() {
    let result = run(&["keygen", "--client", "two words"]).await;
    assert_eq!(result.code, 2);
    assert!(result.stdout.is_empty());
    assert!(result.stderr.contains("--client"), "{}", result.stderr);
}
