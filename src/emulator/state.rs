//! What the emulator remembers: known issuers, guests and access tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

use crate::config::Issuer;
use crate::guest_token::IssuerSecret;

/// Lifetime of access tokens from `/jwt/login`, as Webex reports it.
pub const JWT_LOGIN_EXPIRES_IN: u64 = 21600;

/// A guest the emulator has seen.
#[derive(Debug, Clone)]
pub struct Guest {
    pub person_id: String,
    pub email: String,
    pub display_name: String,
    pub org_id: String,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
}

#[derive(Debug)]
struct Session {
    guest_key: String,
    expires: Instant,
}

#[derive(Debug, Default)]
struct Store {
    guests: HashMap<String, Guest>,
    sessions: HashMap<String, Session>,
}

/// Shared emulator state.
#[derive(Debug)]
pub struct EmulatorState {
    issuers: HashMap<String, IssuerSecret>,
    store: Mutex<Store>,
}

impl EmulatorState {
    pub fn new(issuers: Vec<Issuer>) -> Self {
        let issuers = issuers.into_iter().map(|i| (i.id, i.secret)).collect();
        Self {
            issuers,
            store: Mutex::new(Store::default()),
        }
    }

    /// Returns the secret of a known issuer.
    pub fn issuer_secret(&self, issuer_id: &str) -> Option<&IssuerSecret> {
        self.issuers.get(issuer_id)
    }

    /// Records a guest login and returns a new opaque access token.
    pub fn login_guest(&self, issuer_id: &str, sub: &str, name: &str) -> String {
        let key = format!("{issuer_id}\n{sub}");
        let now = Utc::now();
        let mut store = self.store.lock().expect("emulator store lock");
        let guest = store.guests.entry(key.clone()).or_insert_with(|| Guest {
            person_id: person_id(&key),
            email: format!("{sub}@{}", org_uuid(issuer_id)),
            display_name: name.to_owned(),
            org_id: issuer_id.to_owned(),
            created: now,
            last_modified: now,
        });
        if guest.display_name != name {
            guest.display_name = name.to_owned();
            guest.last_modified = now;
        }
        let token = new_access_token();
        let expires = Instant::now() + Duration::from_secs(JWT_LOGIN_EXPIRES_IN);
        store.sessions.retain(|_, s| s.expires > Instant::now());
        store.sessions.insert(
            token.clone(),
            Session {
                guest_key: key,
                expires,
            },
        );
        token
    }

    /// Returns the guest an unexpired access token belongs to.
    pub fn guest_for_token(&self, token: &str) -> Option<Guest> {
        let store = self.store.lock().expect("emulator store lock");
        let session = store.sessions.get(token)?;
        if session.expires <= Instant::now() {
            return None;
        }
        store.guests.get(&session.guest_key).cloned()
    }
}

impl Guest {
    /// Renders the guest as Webex's `GET /people/me` does.
    pub fn to_person(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.person_id,
            "emails": [self.email],
            "phoneNumbers": [],
            "displayName": self.display_name,
            "nickName": self.display_name,
            "orgId": self.org_id,
            "created": self.created.to_rfc3339_opts(SecondsFormat::Millis, true),
            "lastModified": self.last_modified.to_rfc3339_opts(SecondsFormat::Millis, true),
            "type": "appuser",
        })
    }
}

/// Derives a stable Webex-style person id from the guest's key.
fn person_id(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
    STANDARD_NO_PAD.encode(format!("ciscospark://us/PEOPLE/{uuid}"))
}

/// Returns the organization UUID inside a base64 issuer id
/// (`ciscospark://us/ORGANIZATION/<uuid>`), or the id itself when it does
/// not decode to that form.
pub fn org_uuid(issuer_id: &str) -> String {
    let lenient = base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent);
    let engine = base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, lenient);
    engine
        .decode(issuer_id)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.rsplit_once('/').map(|(_, uuid)| uuid.to_owned()))
        .filter(|uuid| !uuid.is_empty())
        .unwrap_or_else(|| issuer_id.to_owned())
}

fn new_access_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("EMU_{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_uuid_from_issuer_id() {
        let id = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8zOTE4OGM3Mi0wMDI5LTQ3YTQtYjAyNS01OGEwY2E3NDVkMDY";
        assert_eq!(org_uuid(id), "39188c72-0029-47a4-b025-58a0ca745d06");
        assert_eq!(org_uuid("not base64!"), "not base64!");
    }
}
