//! CORS for browser callers: exact allowed origins from `[cors]`.

use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::X_API_KEY;
use crate::config::{ConfigError, StringList};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCors {
    allowed_origins: StringList,
    allow_credentials: bool,
    max_age_secs: u64,
}

/// Origins that may call the service from a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// No CORS headers at all.
    None,
    /// Any origin (`*`), only without credentials.
    Any,
    /// Exactly these origins, such as `https://www.example.com`.
    List(Vec<HeaderValue>),
}

/// `[cors]`: allowed origins and preflight caching.
#[derive(Debug, Clone)]
pub struct CorsSettings {
    pub origins: AllowedOrigins,
    pub allow_credentials: bool,
    pub max_age: Duration,
}

impl RawCors {
    pub(crate) fn validate(self) -> Result<CorsSettings, ConfigError> {
        let allowed = self.allowed_origins.items();
        let origins = if allowed.is_empty() {
            AllowedOrigins::None
        } else if allowed.iter().any(|o| o == "*") {
            if allowed.len() > 1 {
                return Err(ConfigError::invalid(
                    "cors.allowed_origins",
                    "contains \"*\" and other origins; use either [\"*\"] or a list of origins",
                ));
            }
            if self.allow_credentials {
                return Err(ConfigError::invalid(
                    "cors.allowed_origins",
                    "is [\"*\"] while cors.allow_credentials is true, which browsers reject; list the origins",
                ));
            }
            AllowedOrigins::Any
        } else {
            let list = allowed
                .iter()
                .enumerate()
                .map(|(index, text)| parse_origin(index, text))
                .collect::<Result<_, _>>()?;
            AllowedOrigins::List(list)
        };
        Ok(CorsSettings {
            origins,
            allow_credentials: self.allow_credentials,
            max_age: Duration::from_secs(self.max_age_secs),
        })
    }
}

/// Checks that `text` is an origin exactly as browsers send it: scheme,
/// host and optional port, without path or trailing slash.
fn parse_origin(index: usize, text: &str) -> Result<HeaderValue, ConfigError> {
    let invalid = |why: &str| {
        ConfigError::invalid(
            format!("cors.allowed_origins[{index}]"),
            format!("({text}) {why}; write an origin such as https://www.example.com"),
        )
    };
    let url = reqwest::Url::parse(text).map_err(|e| invalid(&format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must use http or https"));
    }
    let origin = url.origin().ascii_serialization();
    if origin != text {
        return Err(invalid(&format!(
            "is not an origin; browsers send {origin} for it"
        )));
    }
    HeaderValue::from_str(text).map_err(|_| invalid("is not a valid header value"))
}

/// Builds the CORS layer, or `None` when no origin is allowed.
pub fn layer(settings: &CorsSettings) -> Option<CorsLayer> {
    let allow_origin = match &settings.origins {
        AllowedOrigins::None => return None,
        AllowedOrigins::Any => AllowOrigin::any(),
        AllowedOrigins::List(list) => AllowOrigin::list(list.clone()),
    };
    let allow_headers = [
        header::CONTENT_TYPE,
        header::AUTHORIZATION,
        X_API_KEY,
        HeaderName::from_static("x-request-id"),
    ];
    let layer = CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(allow_headers)
        .expose_headers(exposed_headers())
        .allow_credentials(settings.allow_credentials)
        .max_age(settings.max_age);
    Some(layer)
}

/// Removes the CORS headers that tower-http sends to every preflight (such
/// as `Access-Control-Allow-Methods`) when the origin was not allowed, so a
/// refused origin gets no CORS headers at all.
pub async fn strip_unless_allowed(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        return response;
    }
    let cors_names: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for name in cors_names {
        headers.remove(name);
    }
    response
}

fn exposed_headers() -> Vec<HeaderName> {
    [
        "retry-after",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "ratelimit-policy",
        "x-request-id",
        "www-authenticate",
    ]
    .into_iter()
    .map(HeaderName::from_static)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(origins: &[&str], credentials: bool) -> Result<CorsSettings, ConfigError> {
        RawCors {
            allowed_origins: StringList::List(origins.iter().map(|o| (*o).to_owned()).collect()),
            allow_credentials: credentials,
            max_age_secs: 60,
        }
        .validate()
    }

    #[test]
    fn origins_must_be_exact() {
        assert!(settings(&["https://www.example.com"], true).is_ok());
        assert!(settings(&["http://localhost:3000"], false).is_ok());
        for bad in [
            "https://www.example.com/",
            "https://www.example.com/app",
            "www.example.com",
            "https://WWW.example.com",
            "ftp://example.com",
            "not a url",
            "https://example.com:443",
        ] {
            let error = settings(&[bad], false).unwrap_err().to_string();
            assert!(error.contains("cors.allowed_origins[0]"), "{bad}: {error}");
        }
    }

    #[test]
    fn wildcard_only_without_credentials() {
        assert_eq!(
            settings(&["*"], false).unwrap().origins,
            AllowedOrigins::Any
        );
        assert!(settings(&["*"], true).is_err());
        assert!(settings(&["*", "https://a.example"], false).is_err());
        assert_eq!(settings(&[], false).unwrap().origins, AllowedOrigins::None);
    }
}
