//! Credentials as sent in request headers.

use axum::http::{HeaderMap, HeaderName, header};

use crate::error::ApiError;

/// Header that carries an API key as an alternative to `Authorization`.
pub const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// Returns the token of `Authorization: Bearer <token>`, or `None` when the
/// header is absent.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || ApiError::InvalidToken {
        detail: "the Authorization header must have the form Bearer <token>".to_owned(),
        description: "the Authorization header is malformed",
    };
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = text.split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer")
        || token.is_empty()
        || token.contains(char::is_whitespace)
    {
        return Err(malformed());
    }
    Ok(Some(token))
}

/// Returns the API key from `Authorization: Bearer` or `X-API-Key`.
pub fn api_key(headers: &HeaderMap) -> Result<&str, ApiError> {
    let bearer = bearer_token(headers)?;
    let mut keys = headers.get_all(X_API_KEY).iter();
    let header_key =
        match (keys.next(), keys.next()) {
            (Some(_), Some(_)) => {
                return Err(ApiError::InvalidToken {
                    detail: "the request has more than one X-API-Key header; send one".to_owned(),
                    description: "more than one API key was sent",
                });
            }
            (Some(value), None) => Some(value.to_str().map(str::trim).map_err(|_| {
                ApiError::InvalidToken {
                    detail: "the X-API-Key header contains characters that are not visible ASCII"
                        .to_owned(),
                    description: "the X-API-Key header is malformed",
                }
            })?),
            _ => None,
        };
    match (bearer, header_key) {
        (Some(_), Some(_)) => Err(ApiError::InvalidToken {
            detail: "send the API key in either Authorization or X-API-Key, not both".to_owned(),
            description: "more than one API key was sent",
        }),
        (Some(key), None) | (None, Some(key)) if !key.is_empty() => Ok(key),
        _ => Err(ApiError::Unauthorized(
            "this service requires an API key: send Authorization: Bearer <key> or X-API-Key: <key>"
                .to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn api_key_from_either_header() {
        let h = headers(&[("authorization", "Bearer k1")]);
        assert_eq!(api_key(&h).unwrap(), "k1");
        let h = headers(&[("x-api-key", "k2")]);
        assert_eq!(api_key(&h).unwrap(), "k2");
    }

    #[test]
    fn api_key_rejects_ambiguity() {
        let h = headers(&[("authorization", "Bearer k1"), ("x-api-key", "k1")]);
        assert!(matches!(api_key(&h), Err(ApiError::InvalidToken { .. })));
        let h = headers(&[("x-api-key", "k1"), ("x-api-key", "k2")]);
        assert!(matches!(api_key(&h), Err(ApiError::InvalidToken { .. })));
    }

    #[test]
    fn api_key_missing_or_malformed() {
        assert!(matches!(
            api_key(&HeaderMap::new()),
            Err(ApiError::Unauthorized(_))
        ));
        let h = headers(&[("x-api-key", "")]);
        assert!(matches!(api_key(&h), Err(ApiError::Unauthorized(_))));
        let h = headers(&[("authorization", "Basic abc")]);
        assert!(matches!(api_key(&h), Err(ApiError::InvalidToken { .. })));
    }
}
