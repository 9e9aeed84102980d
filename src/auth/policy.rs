//! Per-client policy of an API key: which `userId`s it may request and the
//! longest guest JWT lifetime it may ask for.

use regex::Regex;

use crate::config::ConfigError;
use crate::error::ApiError;
use crate::guest::{ExpiresIn, GuestLimits};

/// Limits on what one API key client may request. The default allows
/// every `userId` and the `[guests]` bounds.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Pattern anchored at both ends, so it must match the whole `userId`.
    user_id_pattern: Option<Regex>,
    /// The pattern as configured, for error messages.
    pattern_text: Option<String>,
    pub max_expires_in: Option<u64>,
}

impl Policy {
    /// Compiles `pattern` and checks `max_expires_in` against `[guests]`;
    /// `pattern_key` and `max_key` name the keys in errors.
    pub fn new(
        pattern_key: &str,
        pattern: Option<&str>,
        max_key: &str,
        max_expires_in: Option<u64>,
        guests: &GuestLimits,
    ) -> Result<Self, ConfigError> {
        let user_id_pattern = pattern
            .map(|text| Regex::new(&format!("^(?:{text})$")))
            .transpose()
            .map_err(|e| {
                ConfigError::invalid(
                    pattern_key,
                    format!("is not a valid regular expression: {e}"),
                )
            })?;
        if let Some(max) = max_expires_in {
            let (min, limit) = (guests.min_expires_in, guests.max_expires_in);
            if !(min..=limit).contains(&max) {
                return Err(ConfigError::invalid(
                    max_key,
                    format!(
                        "({max}) must lie between guests.min_expires_in and guests.max_expires_in ({min} to {limit})"
                    ),
                ));
            }
        }
        Ok(Self {
            user_id_pattern,
            pattern_text: pattern.map(str::to_owned),
            max_expires_in,
        })
    }

    /// Rejects a `userId` that the pattern does not match in full.
    pub fn check_user_id(&self, user_id: &str) -> Result<(), ApiError> {
        let (Some(pattern), Some(text)) = (&self.user_id_pattern, &self.pattern_text) else {
            return Ok(());
        };
        if pattern.is_match(user_id) {
            return Ok(());
        }
        Err(ApiError::PolicyViolation {
            rule: "userIdPattern",
            detail: format!(
                "userId ({user_id}) is outside this client's allowed pattern {text}; request a userId the whole of which matches it"
            ),
        })
    }

    /// Applies the client's maximum to a requested lifetime: the `[guests]`
    /// default is capped at the maximum, and an explicit value above it is
    /// rejected.
    pub fn expires_in(
        &self,
        requested: Option<i64>,
        limits: &GuestLimits,
    ) -> Result<ExpiresIn, ApiError> {
        let Some(max) = self.max_expires_in else {
            return Ok(ExpiresIn::parse(requested, limits)?);
        };
        let Some(seconds) = requested else {
            let capped = limits.default_expires_in.min(max);
            return Ok(ExpiresIn::parse(Some(capped as i64), limits)?);
        };
        let expires_in = ExpiresIn::parse(Some(seconds), limits)?;
        if expires_in.seconds() > max {
            return Err(ApiError::PolicyViolation {
                rule: "maxExpiresIn",
                detail: format!(
                    "expiresIn ({seconds}) is above this client's maximum of {max} seconds; request {max} or less"
                ),
            });
        }
        Ok(expires_in)
    }
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
            max_user_id_len: 128,
            max_user_name_len: 256,
        }
    }

    fn policy(pattern: Option<&str>, max: Option<u64>) -> Policy {
        Policy::new("p", pattern, "m", max, &limits()).unwrap()
    }

    #[test]
    fn pattern_must_match_whole_user_id() {
        let policy = policy(Some("shop-[0-9]+"), None);
        assert!(policy.check_user_id("shop-42").is_ok());
        assert!(policy.check_user_id("xshop-42").is_err());
        assert!(policy.check_user_id("shop-42x").is_err());
        assert!(policy.check_user_id("shop-42\nadmin").is_err());
    }

    #[test]
    fn alternation_stays_anchored() {
        let policy = policy(Some("a|b"), None);
        assert!(policy.check_user_id("a").is_ok());
        assert!(policy.check_user_id("ab").is_err());
        assert!(policy.check_user_id("xb").is_err());
    }

    #[test]
    fn max_expires_in_caps_default() {
        let policy = policy(None, Some(600));
        assert_eq!(policy.expires_in(None, &limits()).unwrap().seconds(), 600);
        assert_eq!(
            policy.expires_in(Some(600), &limits()).unwrap().seconds(),
            600
        );
        let error = policy.expires_in(Some(601), &limits()).unwrap_err();
        assert!(matches!(
            error,
            ApiError::PolicyViolation {
                rule: "maxExpiresIn",
                ..
            }
        ));
    }

    #[test]
    fn invalid_settings_name_key() {
        let error = Policy::new("k.pattern", Some("("), "k.max", None, &limits()).unwrap_err();
        assert!(error.to_string().contains("k.pattern"));
        let error = Policy::new("k.pattern", None, "k.max", Some(10), &limits()).unwrap_err();
        assert!(error.to_string().contains("k.max"));
    }
}
