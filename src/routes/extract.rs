//! Request extractors whose rejections are problem+json errors that name
//! the problem.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

use crate::error::ApiError;

/// A JSON request body; any failure to read it becomes an [`ApiError`].
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let text = rejection.body_text();
    let reason = text
        .split_once(": ")
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or(text);
    match rejection {
        JsonRejection::JsonDataError(_) => ApiError::InvalidBody(format!(
            "the JSON body does not match the expected fields: {reason}"
        )),
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::MalformedBody(format!("the body is not valid JSON: {reason}"))
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "send the body as JSON with the header Content-Type: application/json".to_owned(),
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(
            "the request body exceeds the size limit of this service".to_owned(),
        ),
        other => ApiError::MalformedBody(format!(
            "the request body could not be read: {}",
            other.body_text()
        )),
    }
}

/// The token from an `Authorization: Bearer <token>` header.
pub struct BearerToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let missing = || {
            ApiError::Unauthorized(
                "send the Webex access token in the header Authorization: Bearer <access token>"
                    .to_owned(),
            )
        };
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(missing)?;
        let text = value.to_str().map_err(|_| {
            ApiError::Unauthorized(
                "the Authorization header contains characters that are not visible ASCII"
                    .to_owned(),
            )
        })?;
        let Some((scheme, token)) = text.split_once(' ') else {
            return Err(ApiError::Unauthorized(
                "the Authorization header must have the form Bearer <access token>".to_owned(),
            ));
        };
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer")
            || token.is_empty()
            || token.contains(char::is_whitespace)
        {
            return Err(ApiError::Unauthorized(
                "the Authorization header must have the form Bearer <access token>".to_owned(),
            ));
        }
        Ok(Self(token.to_owned()))
    }
}

/// Deserializes an optional whole number written as `60` or `60.0`, since
/// JSON Schema counts both as integers. A value above `i64::MAX` becomes
/// `i64::MAX`, so the range check that follows names the bounds.
pub fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    if let Some(value) = number.as_i64() {
        return Ok(Some(value));
    }
    if number.as_u64().is_some() {
        return Ok(Some(i64::MAX));
    }
    match number.as_f64() {
        Some(value) if value.fract() == 0.0 => {
            Ok(Some(value.clamp(i64::MIN as f64, i64::MAX as f64) as i64))
        }
        _ => Err(D::Error::custom(format!(
            "invalid value {number}, expected a whole number of seconds"
        ))),
    }
}
