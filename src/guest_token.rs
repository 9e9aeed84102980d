//! Guest JWTs in the Webex Guest Issuer format: minting, verification and
//! secret-free inspection.
//!
//! A guest JWT is a compact JWS with the header `{"alg":"HS256","typ":"JWT"}`
//! and the claims `sub`, `name`, `iss` and `exp` (Unix seconds), in that
//! order and with no `iat`. It is signed with HMAC-SHA256 keyed by the
//! base64-decoded issuer secret.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};

/// Base64url of `{"alg":"HS256","typ":"JWT"}`, the header every Webex guest
/// JWT carries, byte for byte.
const HEADER_B64: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// Decoded Guest Issuer secret: the HMAC key. `Debug` never shows the bytes.
#[derive(Clone)]
pub struct IssuerSecret(SecretSlice<u8>);

impl fmt::Debug for IssuerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IssuerSecret([redacted])")
    }
}

/// Reason a Guest Issuer secret could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("is empty; set it to the base64 secret shown for the Guest Issuer app")]
    Empty,
    #[error(
        "mixes the standard (+ /) and URL-safe (- _) base64 alphabets; paste the secret exactly as Webex shows it"
    )]
    MixedAlphabets,
    #[error(
        "is not valid base64 ({0}); paste the secret exactly as Webex shows it (standard or URL-safe alphabet, padding optional)"
    )]
    Invalid(String),
}

impl IssuerSecret {
    /// Decodes base64 secret text, standard or URL-safe alphabet, with or
    /// without `=` padding, ignoring surrounding whitespace.
    pub fn from_base64(text: &str) -> Result<Self, SecretError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(SecretError::Empty);
        }
        let standard = trimmed.contains(['+', '/']);
        let url_safe = trimmed.contains(['-', '_']);
        if standard && url_safe {
            return Err(SecretError::MixedAlphabets);
        }
        let alphabet = if url_safe {
            base64::alphabet::URL_SAFE
        } else {
            base64::alphabet::STANDARD
        };
        let lenient = GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true);
        let bytes = GeneralPurpose::new(&alphabet, lenient)
            .decode(trimmed)
            .map_err(|e| SecretError::Invalid(describe_decode_error(&e)))?;
        if bytes.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self(bytes.into()))
    }

    /// Returns the key bytes, for HMAC signing and verification only.
    pub fn expose_bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

/// Describes a base64 error by position only, so no character of the
/// secret reaches a message.
fn describe_decode_error(error: &base64::DecodeError) -> String {
    match error {
        base64::DecodeError::InvalidByte(offset, _) => {
            format!("invalid character at position {}", offset + 1)
        }
        base64::DecodeError::InvalidLength(_) => "wrong length".to_owned(),
        base64::DecodeError::InvalidLastSymbol(offset, _) => {
            format!("invalid last character at position {}", offset + 1)
        }
        base64::DecodeError::InvalidPadding => "invalid padding".to_owned(),
    }
}

/// Claims of a guest JWT, serialized in the order Webex samples use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestClaims {
    pub sub: String,
    pub name: String,
    pub iss: String,
    pub exp: i64,
}

/// Signs `claims` as a guest JWT with the issuer secret.
pub fn mint(claims: &GuestClaims, secret: &IssuerSecret) -> String {
    let payload = serde_json::to_vec(claims).expect("guest claims always serialize");
    let signing_input = format!("{HEADER_B64}.{}", URL_SAFE_NO_PAD.encode(payload));
    let key = EncodingKey::from_secret(secret.expose_bytes());
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, Algorithm::HS256)
        .expect("HMAC signing cannot fail");
    format!("{signing_input}.{signature}")
}

/// Reason a guest JWT was not accepted as one of this issuer's own.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("the token is not a well-formed JWT: {0}")]
    Malformed(String),
    #[error("the token is signed with {0}; guest tokens are signed with HS256")]
    WrongAlgorithm(String),
    #[error("the token's signature does not match this issuer's secret")]
    BadSignature,
    #[error("the token was issued by another issuer (iss does not match)")]
    WrongIssuer,
    #[error("the token has expired (exp is in the past)")]
    Expired,
    #[error("the token's {0} claim is missing or not a non-empty string")]
    MissingClaim(&'static str),
}

/// Verifies that `token` is an unexpired HS256 guest JWT signed with
/// `secret` and issued by `issuer_id`, allowing `leeway` seconds of skew.
pub fn verify(
    token: &str,
    secret: &IssuerSecret,
    issuer_id: &str,
    leeway: u64,
) -> Result<GuestClaims, VerifyError> {
    let header = decode_header(token)?;
    if header.alg != Algorithm::HS256 {
        return Err(VerifyError::WrongAlgorithm(format!("{:?}", header.alg)));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = leeway;
    validation.set_issuer(&[issuer_id]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    validation.validate_aud = false;

    let key = DecodingKey::from_secret(secret.expose_bytes());
    let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .map_err(map_jwt_error)?;
    claims_from_value(&data.claims)
}

/// Checks only the HS256 signature of `token` against `secret` and returns
/// its claims; expiry and issuer are left to the caller.
pub fn check_signature(
    token: &str,
    secret: &IssuerSecret,
) -> Result<serde_json::Value, VerifyError> {
    let header = decode_header(token)?;
    if header.alg != Algorithm::HS256 {
        return Err(VerifyError::WrongAlgorithm(format!("{:?}", header.alg)));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let key = DecodingKey::from_secret(secret.expose_bytes());
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(map_jwt_error)
}

/// Reads the header of a compact JWT, reporting a format defect by the
/// part it is in rather than by the JWT library's error name.
fn decode_header(token: &str) -> Result<jsonwebtoken::Header, VerifyError> {
    inspect(token).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    jsonwebtoken::decode_header(token).map_err(|e| VerifyError::Malformed(e.to_string()))
}

fn map_jwt_error(error: jsonwebtoken::errors::Error) -> VerifyError {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::InvalidSignature => VerifyError::BadSignature,
        ErrorKind::ExpiredSignature => VerifyError::Expired,
        ErrorKind::InvalidIssuer => VerifyError::WrongIssuer,
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "exp" => VerifyError::MissingClaim("exp"),
            "iss" => VerifyError::MissingClaim("iss"),
            _ => VerifyError::MissingClaim("sub"),
        },
        _ => VerifyError::Malformed(error.to_string()),
    }
}

fn claims_from_value(value: &serde_json::Value) -> Result<GuestClaims, VerifyError> {
    let text = |name: &'static str| {
        value
            .get(name)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or(VerifyError::MissingClaim(name))
    };
    let exp = value
        .get("exp")
        .and_then(|v| v.as_i64())
        .ok_or(VerifyError::MissingClaim("exp"))?;
    Ok(GuestClaims {
        sub: text("sub")?,
        name: text("name")?,
        iss: text("iss")?,
        exp,
    })
}

/// Header and claims of a JWT, decoded without checking its signature.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspected {
    pub header: serde_json::Value,
    pub claims: serde_json::Value,
}

/// Reason a string is not a compact JWT.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    #[error("the token is empty")]
    Empty,
    #[error(
        "the token contains whitespace at character {0}; copy it again without spaces or line breaks"
    )]
    Whitespace(usize),
    #[error(
        "the token has {0} dot-separated parts; a JWT has exactly 3 (header.payload.signature)"
    )]
    SegmentCount(usize),
    #[error("the token's {0} part is not base64url: {1}")]
    NotBase64(&'static str, String),
    #[error("the token's {0} part is not a JSON object: {1}")]
    NotJson(&'static str, String),
}

/// Decodes header and claims of a compact JWT without a key, with an error
/// that points at the first defect.
pub fn inspect(token: &str) -> Result<Inspected, FormatError> {
    if token.is_empty() {
        return Err(FormatError::Empty);
    }
    if let Some(position) = token.chars().position(char::is_whitespace) {
        return Err(FormatError::Whitespace(position + 1));
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(FormatError::SegmentCount(parts.len()));
    }
    let header = decode_json_part("header", parts[0])?;
    let claims = decode_json_part("payload", parts[1])?;
    URL_SAFE_NO_PAD
        .decode(parts[2])
        .map_err(|e| FormatError::NotBase64("signature", e.to_string()))?;
    Ok(Inspected { header, claims })
}

fn decode_json_part(name: &'static str, part: &str) -> Result<serde_json::Value, FormatError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| FormatError::NotBase64(name, e.to_string()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| FormatError::NotJson(name, e.to_string()))?;
    if !value.is_object() {
        return Err(FormatError::NotJson(
            name,
            "found a JSON value that is not an object".into(),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "ugsonZRXEFcNRrvbm06UZCKK/clvHS9ybmdwgz5NbZY=";

    #[test]
    fn secret_accepts_both_alphabets_and_padding() {
        let standard = IssuerSecret::from_base64(SECRET).unwrap();
        let url_safe =
            IssuerSecret::from_base64(" ugsonZRXEFcNRrvbm06UZCKK_clvHS9ybmdwgz5NbZY\n").unwrap();
        assert_eq!(standard.expose_bytes(), url_safe.expose_bytes());
        assert_eq!(standard.expose_bytes().len(), 32);
    }

    #[test]
    fn secret_rejects_garbage() {
        assert_eq!(
            IssuerSecret::from_base64("  ").unwrap_err(),
            SecretError::Empty
        );
        assert!(matches!(
            IssuerSecret::from_base64("!!!"),
            Err(SecretError::Invalid(_))
        ));
        assert_eq!(
            IssuerSecret::from_base64("ab#cd").unwrap_err(),
            SecretError::Invalid("invalid character at position 3".to_owned())
        );
        let message = IssuerSecret::from_base64("zz%zz").unwrap_err().to_string();
        assert!(
            !message.contains('%') && !message.contains("37"),
            "{message}"
        );
        assert_eq!(
            IssuerSecret::from_base64("a+b-").unwrap_err(),
            SecretError::MixedAlphabets
        );
    }

    #[test]
    fn secret_debug_is_redacted() {
        let secret = IssuerSecret::from_base64(SECRET).unwrap();
        assert_eq!(format!("{secret:?}"), "IssuerSecret([redacted])");
    }

    #[test]
    fn inspect_reports_whitespace_position() {
        assert_eq!(inspect("ab c.d.e").unwrap_err(), FormatError::Whitespace(3));
        assert_eq!(inspect("a.b").unwrap_err(), FormatError::SegmentCount(2));
        assert!(matches!(
            inspect("e30.!!.e30"),
            Err(FormatError::NotBase64("payload", _))
        ));
        assert!(matches!(
            inspect("e30.WzFd.e30"),
            Err(FormatError::NotJson("payload", _))
        ));
    }

    #[test]
    fn verify_rejects_none_algorithm() {
        let secret = IssuerSecret::from_base64(SECRET).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let token = format!("{header}.e30.");
        assert!(verify(&token, &secret, "x", 0).is_err());
    }
}
