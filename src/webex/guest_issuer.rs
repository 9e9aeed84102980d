//! The legacy Guest Issuer back end: the service signs guest JWTs itself and
//! exchanges them at `POST /jwt/login`.

use async_trait::async_trait;
use secrecy::SecretString;

use super::{GuestAccess, GuestBackend, MintedGuest, WebexClient};
use crate::config::Issuer;
use crate::error::ApiError;
use crate::guest::{ExpiresIn, GuestLimits, UserId, UserName};
use crate::guest_token::{self, GuestClaims};
use crate::readiness::{Check, Checks};

/// Signs a guest JWT for `user_id` that expires `lifetime_seconds` from
/// now. `POST /guests`, `POST /guests/login` and `guestissuer create` all
/// mint through this function.
pub fn mint_guest_jwt(
    issuer: &Issuer,
    user_id: &UserId,
    user_name: &UserName,
    lifetime_seconds: u64,
) -> MintedGuest {
    let exp = chrono::Utc::now().timestamp() + lifetime_seconds as i64;
    let claims = GuestClaims {
        sub: user_id.as_str().to_owned(),
        name: user_name.as_str().to_owned(),
        iss: issuer.id.clone(),
        exp,
    };
    let token = guest_token::mint(&claims, &issuer.secret);
    MintedGuest {
        token: SecretString::from(token),
        exp,
    }
}

/// Guest Issuer back end bound to one issuer and one Webex client.
#[derive(Debug, Clone)]
pub struct GuestIssuerBackend {
    issuer: Issuer,
    limits: GuestLimits,
    client: WebexClient,
}

impl GuestIssuerBackend {
    pub fn new(issuer: Issuer, limits: GuestLimits, client: WebexClient) -> Self {
        Self {
            issuer,
            limits,
            client,
        }
    }

    async fn exchange_own(
        &self,
        guest_jwt: &str,
        user_id: String,
    ) -> Result<GuestAccess, ApiError> {
        let answer = self.client.jwt_login(guest_jwt).await?;
        Ok(GuestAccess {
            access_token: SecretString::from(answer.token),
            expires_in: answer.expires_in,
            user_id,
        })
    }
}

#[async_trait]
impl GuestBackend for GuestIssuerBackend {
    fn name(&self) -> &'static str {
        "guest_issuer"
    }

    fn mint(
        &self,
        user_id: &UserId,
        user_name: &UserName,
        expires_in: ExpiresIn,
    ) -> Result<MintedGuest, ApiError> {
        Ok(mint_guest_jwt(
            &self.issuer,
            user_id,
            user_name,
            expires_in.seconds(),
        ))
    }

    async fn exchange(&self, guest_jwt: &str) -> Result<GuestAccess, ApiError> {
        let claims = guest_token::verify(
            guest_jwt,
            &self.issuer.secret,
            &self.issuer.id,
            self.limits.leeway,
        )
        .map_err(|e| {
            ApiError::Unauthorized(format!("{e}; mint a new guest token with POST /guests"))
        })?;
        self.exchange_own(guest_jwt, claims.sub).await
    }

    async fn login(&self, user_id: &UserId, user_name: &UserName) -> Result<GuestAccess, ApiError> {
        let minted = mint_guest_jwt(
            &self.issuer,
            user_id,
            user_name,
            self.limits.login_jwt_lifetime,
        );
        let jwt = secrecy::ExposeSecret::expose_secret(&minted.token);
        self.exchange_own(jwt, user_id.as_str().to_owned()).await
    }

    async fn person(&self, access_token: &str) -> Result<serde_json::Value, ApiError> {
        Ok(self.client.people_me(access_token).await?)
    }

    async fn guest_count(&self) -> Result<u64, ApiError> {
        Err(ApiError::RouteNotInMode(
            "GET /guests/count is available only when webex.mode is \"service_app\": Webex counts the guests of a Service App, and a Guest Issuer has no such call".to_owned(),
        ))
    }

    async fn readiness(&self) -> Checks {
        let detail = format!(
            "guest JWTs are signed locally for issuer {}",
            self.issuer.id
        );
        Checks::from([("guestIssuer", Check::ok(detail))])
    }
}
