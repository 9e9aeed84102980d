//! Validated guest identity and lifetime, parsed once at the edge.

use serde::Deserialize;

/// Bounds on guest identities and lifetimes, from the `[guests]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestLimits {
    pub default_expires_in: u64,
    pub min_expires_in: u64,
    pub max_expires_in: u64,
    pub login_jwt_lifetime: u64,
    pub leeway: u64,
    pub max_user_id_len: usize,
    pub max_user_name_len: usize,
}

/// A request field that failed validation, with the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Stable guest id, the `sub` claim: the same id is the same Webex guest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

/// Display name of a guest, the `name` claim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserName(String);

/// Lifetime of a guest JWT in seconds, within the configured bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiresIn(u64);

impl UserId {
    /// Checks a `userId`: non-empty, no control characters, within the
    /// configured length.
    pub fn parse(value: &str, limits: &GuestLimits) -> Result<Self, FieldError> {
        check_text("userId", value, limits.max_user_id_len)?;
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl UserName {
    /// Checks a `userName`: non-empty, no control characters, within the
    /// configured length.
    pub fn parse(value: &str, limits: &GuestLimits) -> Result<Self, FieldError> {
        check_text("userName", value, limits.max_user_name_len)?;
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ExpiresIn {
    /// Applies the default to a missing `expiresIn` and checks the bounds.
    pub fn parse(value: Option<i64>, limits: &GuestLimits) -> Result<Self, FieldError> {
        let Some(seconds) = value else {
            return Ok(Self(limits.default_expires_in));
        };
        let (min, max) = (limits.min_expires_in, limits.max_expires_in);
        match u64::try_from(seconds) {
            Ok(s) if (min..=max).contains(&s) => Ok(Self(s)),
            _ => Err(FieldError::new(
                "expiresIn",
                format!("must be a whole number of seconds from {min} to {max}; got {seconds}"),
            )),
        }
    }

    pub fn seconds(self) -> u64 {
        self.0
    }
}

fn check_text(field: &'static str, value: &str, max_len: usize) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(
            field,
            "must not be empty or only whitespace",
        ));
    }
    if let Some(position) = value.chars().position(char::is_control) {
        return Err(FieldError::new(
            field,
            format!(
                "must not contain control characters (found one at character {})",
                position + 1
            ),
        ));
    }
    let length = value.chars().count();
    if length > max_len {
        return Err(FieldError::new(
            field,
            format!("must be at most {max_len} characters; got {length}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> GuestLimits {
        GuestLimits {
            default_expires_in: 5400,
            min_expires_in: 60,
            max_expires_in: 86400,
            login_jwt_lifetime: 60,
            leeway: 30,
            max_user_id_len: 8,
            max_user_name_len: 8,
        }
    }

    #[test]
    fn user_id_rules() {
        assert!(UserId::parse("guest-1", &limits()).is_ok());
        assert_eq!(UserId::parse("", &limits()).unwrap_err().field, "userId");
        assert!(
            UserId::parse("a\u{7}b", &limits())
                .unwrap_err()
                .message
                .contains("character 2")
        );
        assert!(
            UserId::parse("123456789", &limits())
                .unwrap_err()
                .message
                .contains("at most 8")
        );
        assert!(UserName::parse("山田太郎", &limits()).is_ok());
    }

    #[test]
    fn expires_in_bounds() {
        assert_eq!(ExpiresIn::parse(None, &limits()).unwrap().seconds(), 5400);
        assert_eq!(ExpiresIn::parse(Some(60), &limits()).unwrap().seconds(), 60);
        assert!(ExpiresIn::parse(Some(59), &limits()).is_err());
        assert!(ExpiresIn::parse(Some(-1), &limits()).is_err());
        assert!(ExpiresIn::parse(Some(86401), &limits()).is_err());
    }
}
