//! Emulator state: known issuers, guests and access tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

use super::service_apps::ServiceApps;
use crate::config::{EmulatorServiceApp, Issuer};
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
    /// Service Apps and their OAuth tokens.
    pub service_apps: ServiceApps,
}

impl EmulatorState {
    pub fn new(issuers: Vec<Issuer>, service_apps: Vec<EmulatorServiceApp>) -> Self {
        let issuers = issuers.into_iter().map(|i| (i.id, i.secret)).collect();
        Self {
            issuers,
            store: Mutex::new(Store::default()),
            service_apps: ServiceApps::new(service_apps),
        }
    }

    /// Returns the secret of a known issuer.
    pub fn issuer_secret(&self, issuer_id: &str) -> Option<&IssuerSecret> {
        self.issuers.get(issuer_id)
    }

    /// Records a Guest Issuer guest's login and returns a new opaque access
    /// token.
    pub fn login_guest(&self, issuer_id: &str, sub: &str, name: &str) -> String {
        let key = format!("{issuer_id}\n{sub}");
        let identity = NewGuest {
            email: format!("{sub}@{}", org_uuid(issuer_id)),
            org_id: issuer_id,
            display_name: name,
        };
        let lifetime = Duration::from_secs(JWT_LOGIN_EXPIRES_IN);
        self.login(key, identity, lifetime).1
    }

    /// Creates or renames a Service App guest, as `POST /guests/token` does,
    /// and returns it with a new access token valid for `lifetime`.
    pub fn login_app_guest(
        &self,
        client_id: &str,
        org_id: &str,
        subject: &str,
        display_name: &str,
        lifetime: Duration,
    ) -> (Guest, String) {
        let key = app_guest_key(client_id, subject);
        let identity = NewGuest {
            email: format!(
                "{}@appid.ciscospark.com",
                stable_uuid(&format!("email:{key}"))
            ),
            org_id,
            display_name,
        };
        self.login(key, identity, lifetime)
    }

    /// Counts the guests a Service App has created.
    pub fn app_guest_count(&self, client_id: &str) -> usize {
        let prefix = app_guest_key(client_id, "");
        let store = self.store.lock().expect("emulator store lock");
        store
            .guests
            .keys()
            .filter(|key| key.starts_with(&prefix))
            .count()
    }

    /// Creates the guest under `key` on first use, renames it when the
    /// display name changed, and opens a session for it.
    fn login(&self, key: String, identity: NewGuest<'_>, lifetime: Duration) -> (Guest, String) {
        let now = Utc::now();
        let mut store = self.store.lock().expect("emulator store lock");
        let guest = store.guests.entry(key.clone()).or_insert_with(|| Guest {
            person_id: person_id(&key),
            email: identity.email,
            display_name: identity.display_name.to_owned(),
            org_id: identity.org_id.to_owned(),
            created: now,
            last_modified: now,
        });
        if guest.display_name != identity.display_name {
            guest.display_name = identity.display_name.to_owned();
            guest.last_modified = now;
        }
        let guest = guest.clone();

        let token = new_access_token();
        let expires = Instant::now() + lifetime;
        store.sessions.retain(|_, s| s.expires > Instant::now());
        store.sessions.insert(
            token.clone(),
            Session {
                guest_key: key,
                expires,
            },
        );
        (guest, token)
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

/// Fields of a guest that its first login sets.
struct NewGuest<'a> {
    email: String,
    org_id: &'a str,
    display_name: &'a str,
}

/// Keys Service App guests apart from Guest Issuer guests, whose keys start
/// with an issuer id.
fn app_guest_key(client_id: &str, subject: &str) -> String {
    format!("app:{client_id}\n{subject}")
}

/// Derives a stable UUID from `key`.
fn stable_uuid(key: &str) -> uuid::Uuid {
    let digest = Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Derives a stable Webex-style person id from the guest's key.
fn person_id(key: &str) -> String {
    let uuid = stable_uuid(key);
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

/// Returns a new random opaque token such as `EMU_3f9a...`.
pub fn new_access_token() -> String {
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
