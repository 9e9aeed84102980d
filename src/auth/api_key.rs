//! API keys of site back ends: only their SHA-256 hashes are configured,
//! and a presented key is compared with every hash in constant time.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::SecretString;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::policy::Policy;
use crate::config::ConfigError;
use crate::guest::GuestLimits;
use crate::rate_limit::{RateLimitSettings, RateQuota};

/// Prefix of generated keys, so they are easy to recognise in secret scans.
pub const KEY_PREFIX: &str = "gik_";

/// Random bytes in a generated key.
const KEY_BYTES: usize = 32;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApiKey {
    client: String,
    sha256: String,
    user_id_pattern: Option<String>,
    max_expires_in: Option<u64>,
    per_minute: Option<u32>,
    burst: Option<u32>,
}

/// A site back end allowed to call the service with its own key.
pub struct ApiKeyClient {
    /// Client name, used in logs and as its rate-limit key.
    pub name: String,
    key_hash: [u8; 32],
    pub policy: Policy,
    /// Own rate limit, in place of `rate_limit.per_caller_*`.
    pub quota: Option<RateQuota>,
}

impl fmt::Debug for ApiKeyClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyClient")
            .field("name", &self.name)
            .field("policy", &self.policy)
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}

impl ApiKeyClient {
    /// Returns whether two clients are configured with the same key hash.
    pub fn same_key(&self, other: &ApiKeyClient) -> bool {
        self.key_hash == other.key_hash
    }
}

impl RawApiKey {
    pub(crate) fn validate(
        self,
        index: usize,
        guests: &GuestLimits,
        rates: &RateLimitSettings,
    ) -> Result<ApiKeyClient, ConfigError> {
        let key = |field: &str| format!("auth.api_keys[{index}].{field}");
        let name = self.client.trim().to_owned();
        if name.is_empty() || name.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ConfigError::invalid(
                key("client"),
                "must be a non-empty name without spaces, such as \"shop-backend\"",
            ));
        }
        let key_hash = parse_sha256(&self.sha256).ok_or_else(|| {
            ConfigError::invalid(
                key("sha256"),
                "must be 64 hex digits, the SHA-256 of the key as printed by `guestissuer keygen`",
            )
        })?;
        let policy = Policy::new(
            &key("user_id_pattern"),
            self.user_id_pattern.as_deref(),
            &key("max_expires_in"),
            self.max_expires_in,
            guests,
        )?;
        let quota = match (self.per_minute, self.burst) {
            (None, None) => None,
            (per_minute, burst) => Some(RateQuota::new(
                &format!("auth.api_keys[{index}]."),
                per_minute.unwrap_or(rates.per_caller.per_minute.get()),
                burst.unwrap_or(rates.per_caller.burst.get()),
            )?),
        };
        Ok(ApiKeyClient {
            name,
            key_hash,
            policy,
            quota,
        })
    }
}

fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

/// Returns the client whose key hash matches `presented`. Every configured
/// hash is compared in constant time, so the time taken does not reveal
/// which hash, or how much of it, matched.
pub fn find_client<'a, T: AsRef<ApiKeyClient>>(clients: &'a [T], presented: &str) -> Option<&'a T> {
    let digest = Sha256::digest(presented.as_bytes());
    let mut found = None;
    for client in clients {
        let matches: bool = client.as_ref().key_hash.ct_eq(digest.as_slice()).into();
        if matches {
            found = Some(client);
        }
    }
    found
}

/// Generates a new API key: the prefix and 32 random bytes in base64url.
pub fn generate_key() -> SecretString {
    let mut bytes = [0u8; KEY_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    SecretString::from(format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// Returns the SHA-256 of a key in lowercase hex, the form `sha256` takes.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn client(name: &str, key: &str) -> ApiKeyClient {
        ApiKeyClient {
            name: name.to_owned(),
            key_hash: parse_sha256(&hash_key(key)).unwrap(),
            policy: Policy::default(),
            quota: None,
        }
    }

    #[test]
    fn find_client_matches_only_its_key() {
        let clients = vec![
            std::sync::Arc::new(client("a", "key-a")),
            std::sync::Arc::new(client("b", "key-b")),
        ];
        assert_eq!(find_client(&clients, "key-b").unwrap().name, "b");
        assert_eq!(find_client(&clients, "key-a").unwrap().name, "a");
        assert!(find_client(&clients, "key-c").is_none());
        assert!(find_client(&clients, "").is_none());
    }

    #[test]
    fn generated_keys_differ_and_hash() {
        let first = generate_key();
        let second = generate_key();
        assert_ne!(first.expose_secret(), second.expose_secret());
        assert!(first.expose_secret().starts_with(KEY_PREFIX));
        assert_eq!(first.expose_secret().len(), KEY_PREFIX.len() + 43);
        assert_eq!(hash_key(first.expose_secret()).len(), 64);
        assert!(parse_sha256(&hash_key(first.expose_secret())).is_some());
    }

    #[test]
    fn debug_hides_key_hash() {
        let text = format!("{:?}", client("a", "key-a"));
        assert!(!text.contains(&hash_key("key-a")));
        assert!(text.contains("\"a\""));
    }
}
