//! Session JWTs from the site itself: verification with a pinned
//! algorithm, required issuer, audience and expiry, and an explicit leeway.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::{ConfigError, read_secret_file};
use crate::error::ApiError;
use crate::guest::{GuestLimits, UserId, UserName};

/// Shortest accepted HMAC secret: 32 bytes, the output size of SHA-256.
const MIN_HMAC_SECRET_BYTES: usize = 32;

/// Largest accepted clock-skew allowance (seconds).
const MAX_LEEWAY_SECS: u64 = 300;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJwt {
    algorithm: String,
    secret: Option<SecretString>,
    secret_file: Option<PathBuf>,
    public_key: Option<String>,
    public_key_file: Option<PathBuf>,
    issuer: String,
    audience: String,
    leeway: u64,
    user_id_claim: String,
    user_id_prefix: String,
    user_name_claim: String,
}

/// `[auth.jwt]`: how session tokens are verified and mapped to guests.
#[derive(Clone)]
pub struct JwtSettings {
    pub algorithm: Algorithm,
    key: DecodingKey,
    pub issuer: String,
    pub audience: String,
    /// Clock skew tolerated on `exp` and `nbf` (seconds).
    pub leeway: u64,
    pub user_id_claim: String,
    pub user_id_prefix: String,
    pub user_name_claim: String,
}

impl fmt::Debug for JwtSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSettings")
            .field("algorithm", &self.algorithm)
            .field("key", &"[REDACTED]")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .field("user_id_claim", &self.user_id_claim)
            .field("user_id_prefix", &self.user_id_prefix)
            .field("user_name_claim", &self.user_name_claim)
            .finish()
    }
}

impl RawJwt {
    pub(crate) fn validate(self, guests: &GuestLimits) -> Result<JwtSettings, ConfigError> {
        let algorithm = Algorithm::from_str(self.algorithm.trim()).map_err(|_| {
            ConfigError::invalid(
                "auth.jwt.algorithm",
                format!(
                    "({}) is not supported; use HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA",
                    self.algorithm
                ),
            )
        })?;
        let key = self.decoding_key(algorithm)?;
        for (key_name, value) in [
            ("auth.jwt.issuer", &self.issuer),
            ("auth.jwt.audience", &self.audience),
            ("auth.jwt.user_id_claim", &self.user_id_claim),
            ("auth.jwt.user_name_claim", &self.user_name_claim),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::invalid(
                    key_name,
                    "must not be empty when auth.mode is \"jwt\"",
                ));
            }
        }
        if self.leeway > MAX_LEEWAY_SECS {
            return Err(ConfigError::invalid(
                "auth.jwt.leeway",
                format!(
                    "({}) must be at most {MAX_LEEWAY_SECS} seconds",
                    self.leeway
                ),
            ));
        }
        check_prefix(&self.user_id_prefix, guests)?;
        Ok(JwtSettings {
            algorithm,
            key,
            issuer: self.issuer,
            audience: self.audience,
            leeway: self.leeway,
            user_id_claim: self.user_id_claim,
            user_id_prefix: self.user_id_prefix,
            user_name_claim: self.user_name_claim,
        })
    }

    fn decoding_key(&self, algorithm: Algorithm) -> Result<DecodingKey, ConfigError> {
        let is_hmac = matches!(
            algorithm,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        );
        if is_hmac {
            if self.public_key.is_some() || self.public_key_file.is_some() {
                return Err(ConfigError::invalid(
                    "auth.jwt.public_key",
                    "is set but HS* algorithms use auth.jwt.secret or auth.jwt.secret_file",
                ));
            }
            return self.hmac_key();
        }
        if self.secret.is_some() || self.secret_file.is_some() {
            return Err(ConfigError::invalid(
                "auth.jwt.secret",
                format!(
                    "is set but {algorithm:?} uses auth.jwt.public_key or auth.jwt.public_key_file"
                ),
            ));
        }
        let pem = self.public_key_pem()?;
        let parsed = match algorithm {
            Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem.as_bytes()),
            Algorithm::EdDSA => DecodingKey::from_ed_pem(pem.as_bytes()),
            _ => DecodingKey::from_rsa_pem(pem.as_bytes()),
        };
        parsed.map_err(|e| {
            ConfigError::invalid(
                "auth.jwt.public_key",
                format!("is not a PEM public key for {algorithm:?}: {e}"),
            )
        })
    }

    fn hmac_key(&self) -> Result<DecodingKey, ConfigError> {
        let secret = match (&self.secret, &self.secret_file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::invalid(
                    "auth.jwt.secret",
                    "and auth.jwt.secret_file are both set; keep only one",
                ));
            }
            (None, None) => {
                return Err(ConfigError::invalid(
                    "auth.jwt.secret",
                    "is missing; set auth.jwt.secret or auth.jwt.secret_file",
                ));
            }
            (Some(secret), None) => secret.clone(),
            (None, Some(path)) => read_secret_file("auth.jwt.secret_file", path)?,
        };
        let bytes = secret.expose_secret().as_bytes();
        if bytes.len() < MIN_HMAC_SECRET_BYTES {
            return Err(ConfigError::invalid(
                "auth.jwt.secret",
                format!(
                    "is {} bytes; an HMAC secret must be at least {MIN_HMAC_SECRET_BYTES} bytes",
                    bytes.len()
                ),
            ));
        }
        Ok(DecodingKey::from_secret(bytes))
    }

    fn public_key_pem(&self) -> Result<String, ConfigError> {
        match (&self.public_key, &self.public_key_file) {
            (Some(_), Some(_)) => Err(ConfigError::invalid(
                "auth.jwt.public_key",
                "and auth.jwt.public_key_file are both set; keep only one",
            )),
            (None, None) => Err(ConfigError::invalid(
                "auth.jwt.public_key",
                "is missing; set auth.jwt.public_key or auth.jwt.public_key_file to a PEM public key",
            )),
            (Some(pem), None) => Ok(pem.clone()),
            (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
                ConfigError::invalid(
                    "auth.jwt.public_key_file",
                    format!("cannot be read from {}: {e}", path.display()),
                )
            }),
        }
    }
}

fn check_prefix(prefix: &str, guests: &GuestLimits) -> Result<(), ConfigError> {
    if prefix.chars().any(char::is_control) {
        return Err(ConfigError::invalid(
            "auth.jwt.user_id_prefix",
            "must not contain control characters",
        ));
    }
    if prefix.chars().count() >= guests.max_user_id_len {
        return Err(ConfigError::invalid(
            "auth.jwt.user_id_prefix",
            "must be shorter than guests.max_user_id_len",
        ));
    }
    Ok(())
}

/// A verified session: the guest identity its claims give.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: UserId,
    /// From the name claim; `None` when the token has none.
    pub user_name: Option<UserName>,
}

/// Verifies session JWTs against one configuration.
pub struct SessionVerifier {
    settings: JwtSettings,
    validation: Validation,
}

impl SessionVerifier {
    /// Pins the algorithm and requires `exp`, `iss` and `aud`.
    pub fn new(settings: JwtSettings) -> Self {
        let mut validation = Validation::new(settings.algorithm);
        validation.leeway = settings.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        Self {
            settings,
            validation,
        }
    }

    /// Verifies `token` and reads the guest identity from its claims.
    pub fn verify(&self, token: &str, limits: &GuestLimits) -> Result<Session, ApiError> {
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, &self.settings.key, &self.validation)
                .map_err(|e| self.rejection(e.kind()))?;
        let claims = data.claims;

        let id_claim = &self.settings.user_id_claim;
        let Some(subject) = claims.get(id_claim).and_then(Value::as_str) else {
            return Err(ApiError::InvalidToken {
                detail: format!(
                    "the session token has no string claim {id_claim}, which names the guest"
                ),
                description: "a required claim is missing",
            });
        };
        let user_id = UserId::parse(
            &format!("{}{subject}", self.settings.user_id_prefix),
            limits,
        )
        .map_err(|e| ApiError::PolicyViolation {
            rule: "userIdClaim",
            detail: format!(
                "the session token's {id_claim} claim does not give a valid userId: {e}"
            ),
        })?;

        let name_claim = &self.settings.user_name_claim;
        let user_name = match claims.get(name_claim).and_then(Value::as_str) {
            Some(name) => Some(UserName::parse(name, limits).map_err(|e| {
                ApiError::PolicyViolation {
                    rule: "userNameClaim",
                    detail: format!(
                        "the session token's {name_claim} claim does not give a valid userName: {e}"
                    ),
                }
            })?),
            None => None,
        };
        Ok(Session { user_id, user_name })
    }

    fn rejection(&self, kind: &ErrorKind) -> ApiError {
        let (detail, description) = match kind {
            ErrorKind::ExpiredSignature => (
                "the session token has expired; sign in again".to_owned(),
                "the token has expired",
            ),
            ErrorKind::ImmatureSignature => (
                "the session token is not valid yet (nbf is in the future)".to_owned(),
                "the token is not valid yet",
            ),
            ErrorKind::InvalidAudience => (
                format!(
                    "the session token's aud claim is not {}",
                    self.settings.audience
                ),
                "the audience is not accepted",
            ),
            ErrorKind::InvalidIssuer => (
                format!(
                    "the session token's iss claim is not {}",
                    self.settings.issuer
                ),
                "the issuer is not accepted",
            ),
            ErrorKind::InvalidAlgorithm => (
                format!(
                    "the session token is not signed with {:?}, the only algorithm accepted",
                    self.settings.algorithm
                ),
                "the algorithm is not accepted",
            ),
            ErrorKind::InvalidSignature => (
                "the session token's signature does not verify".to_owned(),
                "the signature is invalid",
            ),
            ErrorKind::MissingRequiredClaim(claim) => (
                format!("the session token lacks the required claim {claim}"),
                "a required claim is missing",
            ),
            _ => (
                "the session token is not a well-formed JWT with a supported algorithm".to_owned(),
                "the token is malformed",
            ),
        };
        ApiError::InvalidToken {
            detail,
            description,
        }
    }
}
