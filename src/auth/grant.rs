//! Guest identity decisions behind `POST /guests` and `POST /guests/login`,
//! per authentication mode.

use super::{Authenticator, Caller, Session};
use crate::error::ApiError;
use crate::guest::{ExpiresIn, FieldError, UserId, UserName};
use crate::guest_token;

/// The identity fields of a request body, as sent.
#[derive(Debug, Default)]
pub struct IdentityRequest {
    pub user_id: Option<String>,
    pub user_name: Option<String>,
}

/// The request an identity is decided for; it changes only the wording of
/// errors.
#[derive(Debug, Clone, Copy)]
enum Purpose {
    Mint,
    Login,
}

/// A guest identity the caller is allowed to get.
#[derive(Debug, Clone)]
pub struct GuestGrant {
    pub user_id: UserId,
    pub user_name: UserName,
}

impl Authenticator {
    /// Decides the identity and lifetime of a guest JWT for `POST /guests`.
    pub fn grant_mint(
        &self,
        caller: &Caller,
        request: IdentityRequest,
        expires_in: Option<i64>,
    ) -> Result<(GuestGrant, ExpiresIn), ApiError> {
        if matches!(caller, Caller::Anonymous) && !self.anonymous.allow_mint {
            return Err(ApiError::PolicyViolation {
                rule: "anonymousMint",
                detail: "POST /guests is off in anonymous mode; use POST /guests/login, or set auth.anonymous.allow_mint = true".to_owned(),
            });
        }
        let grant = self.grant(caller, request, Purpose::Mint)?;
        let expires_in = match caller {
            Caller::ApiClient(client) => client.policy.expires_in(expires_in, &self.limits)?,
            _ => ExpiresIn::parse(expires_in, &self.limits)?,
        };
        Ok((grant, expires_in))
    }

    /// Decides the identity for `POST /guests/login` with `userId` and
    /// `userName` (or, depending on the mode, without them).
    pub fn grant_login(
        &self,
        caller: &Caller,
        request: IdentityRequest,
    ) -> Result<GuestGrant, ApiError> {
        self.grant(caller, request, Purpose::Login)
    }

    /// Checks that the caller may exchange a guest JWT: its `sub` must be an
    /// identity the caller could have requested itself. A token that cannot
    /// be decoded passes on to the back end, which rejects it.
    pub fn check_exchange(&self, caller: &Caller, guest_jwt: &str) -> Result<(), ApiError> {
        if matches!(caller, Caller::Unauthenticated) {
            return Ok(());
        }
        let subject = guest_token::inspect(guest_jwt)
            .ok()
            .and_then(|inspected| inspected.claims["sub"].as_str().map(str::to_owned))
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "the guest token is not a JWT with a sub claim; mint a new guest token with POST /guests"
                        .to_owned(),
                )
            })?;
        match caller {
            Caller::Unauthenticated => Ok(()),
            Caller::ApiClient(client) => client.policy.check_user_id(&subject),
            Caller::Session(session) if session.user_id.as_str() == subject => Ok(()),
            Caller::Session(_) => Err(ApiError::PolicyViolation {
                rule: "sessionIdentity",
                detail: "the guest token is for another userId than the session token gives"
                    .to_owned(),
            }),
            Caller::Anonymous if subject.starts_with(&self.anonymous.user_id_prefix) => Ok(()),
            Caller::Anonymous => Err(ApiError::PolicyViolation {
                rule: "anonymousUserId",
                detail: format!(
                    "in anonymous mode only guest tokens whose userId starts with {} can be exchanged",
                    self.anonymous.user_id_prefix
                ),
            }),
        }
    }

    fn grant(
        &self,
        caller: &Caller,
        request: IdentityRequest,
        purpose: Purpose,
    ) -> Result<GuestGrant, ApiError> {
        match caller {
            Caller::Unauthenticated => self.requested_identity(request, purpose),
            Caller::ApiClient(client) => {
                let grant = self.requested_identity(request, purpose)?;
                client.policy.check_user_id(grant.user_id.as_str())?;
                Ok(grant)
            }
            Caller::Session(session) => self.session_identity(session, request),
            Caller::Anonymous => self.anonymous_identity(request),
        }
    }

    /// Takes `userId` and `userName` from the request, both required.
    fn requested_identity(
        &self,
        request: IdentityRequest,
        purpose: Purpose,
    ) -> Result<GuestGrant, ApiError> {
        let Some(user_id) = request.user_id else {
            return Err(match purpose {
                Purpose::Mint => {
                    FieldError::new("userId", "is missing; send the guest's stable id").into()
                }
                Purpose::Login => ApiError::InvalidBody(
                    "missing field: send token (a guest JWT), or userId and userName".to_owned(),
                ),
            });
        };
        let user_name = request
            .user_name
            .ok_or_else(|| FieldError::new("userName", "is missing; send it with userId"))?;
        Ok(GuestGrant {
            user_id: UserId::parse(&user_id, &self.limits)?,
            user_name: UserName::parse(&user_name, &self.limits)?,
        })
    }

    /// Takes `userId` from the session; the request may repeat it but not
    /// change it. `userName` comes from the session, else the request.
    fn session_identity(
        &self,
        session: &Session,
        request: IdentityRequest,
    ) -> Result<GuestGrant, ApiError> {
        if let Some(asked) = request.user_id
            && asked != session.user_id.as_str()
        {
            return Err(ApiError::PolicyViolation {
                rule: "sessionIdentity",
                detail: format!(
                    "userId ({asked}) is not the one the session token gives ({}); leave userId out",
                    session.user_id.as_str()
                ),
            });
        }
        let user_name = match (&session.user_name, request.user_name) {
            (Some(name), _) => name.clone(),
            (None, Some(name)) => UserName::parse(&name, &self.limits)?,
            (None, None) => {
                return Err(FieldError::new(
                    "userName",
                    "is missing and the session token has no name claim; send userName",
                )
                .into());
            }
        };
        Ok(GuestGrant {
            user_id: session.user_id.clone(),
            user_name,
        })
    }

    /// Generates a fresh `userId`; `userName` is optional.
    fn anonymous_identity(&self, request: IdentityRequest) -> Result<GuestGrant, ApiError> {
        if request.user_id.is_some() {
            return Err(ApiError::PolicyViolation {
                rule: "anonymousUserId",
                detail: "userId is generated by the service in anonymous mode; leave it out"
                    .to_owned(),
            });
        }
        let settings = &self.anonymous;
        let user_id = format!("{}{}", settings.user_id_prefix, uuid::Uuid::new_v4());
        let user_name = request
            .user_name
            .unwrap_or_else(|| settings.default_user_name.clone());
        Ok(GuestGrant {
            user_id: UserId::parse(&user_id, &self.limits)?,
            user_name: UserName::parse(&user_name, &self.limits)?,
        })
    }
}
