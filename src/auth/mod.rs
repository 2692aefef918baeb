//! Who is calling: tokens, passwords, the caller extracted from each request, and the access
//! policy that decides every read and write (`policy`).

pub mod login;
pub mod passwords;
pub mod policy;
pub mod tokens;

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;
use crate::named::named_enum;
use crate::state::AppState;
use crate::store::entities::{service_account, user};
use crate::store::Actor;

named_enum! {
    /// The level of the org unit a user works at.
    pub enum Level {
        County,
        Township,
        Village,
    }
}

named_enum! {
    /// What a user may do at their level (API.md, "Auth").
    pub enum Role {
        Admin,
        Assessor,
        Viewer,
    }
}

/// A person with a password, or a machine client with a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    Service,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
        }
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Assessor => "assessor",
            Role::Viewer => "viewer",
        }
    }
}

/// Parses a stored snake_case enumeration name.
pub fn parse_name<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

/// The authenticated caller of a request, checked against the database on every request so a
/// deactivated user or revoked service account is refused at once.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: Uuid,
    pub kind: PrincipalKind,
    pub name: String,
    pub county_id: Uuid,
    pub level: Level,
    pub role: Role,
    pub org_unit_id: Uuid,
    /// The caller's town (township and village levels).
    pub township_id: Option<Uuid>,
    /// The caller's village (village level).
    pub village_id: Option<Uuid>,
    /// The county's data revision when the request started (see `store::revisions`).
    pub revision: i64,
    /// Tokens issued before the account's last change of credentials or scope are dead: theirs
    /// must carry this generation, or (without one) be issued after `tokens_valid_after`.
    pub token_generation: i32,
    pub tokens_valid_after: Option<chrono::DateTime<chrono::Utc>>,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::principal(
            self.id,
            &self.name,
            self.role,
            self.level,
            self.county_id,
            self.org_unit_id,
        )
    }

    /// A stable key for per-caller state (idempotency keys).
    pub fn principal_key(&self) -> String {
        format!(
            "{}:{}",
            match self.kind {
                PrincipalKind::User => "user",
                PrincipalKind::Service => "service",
            },
            self.id
        )
    }

    async fn from_bearer(state: &AppState, token: &str) -> Result<Self, ApiError> {
        let claims = state.tokens.verify(token)?;
        let subject: Uuid = claims
            .sub
            .parse()
            .map_err(|_| ApiError::unauthorized("the token's subject is not a known account"))?;
        // Any change to an account is a write, and every write moves the county's revision: an
        // account read at the current revision is the account as it is now.
        let revision = state.store.revision(claims.county_id).await?;
        let caller = match state.accounts.get(claims.kind, subject, revision) {
            Some(caller) => caller,
            None => {
                let caller = Self::load(state, claims.kind, subject, revision).await?;
                state.accounts.put(caller.clone());
                caller
            }
        };
        if !caller.accepts_issue(&claims) {
            return Err(ApiError::unauthorized(
                "the token was issued before the account's credentials or scope changed",
            ));
        }
        // The token's scope claims must still describe the account: a moved user needs a new token.
        if caller.county_id != claims.county_id
            || caller.level != claims.level
            || caller.role != claims.role
            || caller.org_unit_id != claims.org_unit_id
        {
            return Err(ApiError::unauthorized(
                "the token's scope no longer matches the account",
            ));
        }
        Ok(caller)
    }

    /// Whether a token was issued at the account's current generation (or, lacking the claim,
    /// after the account's last change of credentials or scope).
    fn accepts_issue(&self, claims: &tokens::Claims) -> bool {
        match claims.r#gen {
            Some(generation) => generation == self.token_generation,
            None => self.tokens_valid_after.is_none_or(|after| {
                // `iat` has whole seconds: only a token of a later second is surely later.
                let floor = after.timestamp() + 1;
                i64::try_from(claims.iat).is_ok_and(|iat| iat >= floor)
            }),
        }
    }

    async fn load(state: &AppState, kind: PrincipalKind, subject: Uuid, revision: i64) -> Result<Self, ApiError> {
        let db = state.store.db();
        let revoked = || ApiError::unauthorized("the account of this token is inactive or unknown");
        Ok(match kind {
            PrincipalKind::User => {
                let row = user::Entity::find_by_id(subject)
                    .one(db)
                    .await?
                    .filter(|r| r.active)
                    .ok_or_else(revoked)?;
                Caller {
                    id: row.id,
                    kind: PrincipalKind::User,
                    name: row.username,
                    county_id: row.county_id,
                    level: row.level,
                    role: row.role,
                    org_unit_id: row.org_unit_id,
                    township_id: row.township_id,
                    village_id: row.village_id,
                    revision,
                    token_generation: row.token_generation,
                    tokens_valid_after: row.tokens_valid_after,
                }
            }
            PrincipalKind::Service => {
                let row = service_account::Entity::find_by_id(subject)
                    .one(db)
                    .await?
                    .filter(|r| r.active)
                    .ok_or_else(revoked)?;
                Caller {
                    id: row.id,
                    kind: PrincipalKind::Service,
                    name: row.client_id,
                    county_id: row.county_id,
                    level: Level::County,
                    role: Role::Viewer,
                    org_unit_id: row.county_id,
                    township_id: None,
                    village_id: None,
                    revision,
                    token_generation: row.token_generation,
                    tokens_valid_after: row.tokens_valid_after,
                }
            }
        })
    }
}

/// Active accounts as read at a county revision, so most requests need no account query.
#[derive(Default)]
pub struct AccountCache {
    entries: std::sync::Mutex<std::collections::HashMap<(PrincipalKind, Uuid), Caller>>,
}

impl AccountCache {
    fn get(&self, kind: PrincipalKind, id: Uuid, revision: i64) -> Option<Caller> {
        let entries = self.entries.lock().ok()?;
        entries.get(&(kind, id)).filter(|c| c.revision == revision).cloned()
    }

    fn put(&self, caller: Caller) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.clear();
            }
            entries.insert((caller.kind, caller.id), caller);
        }
    }
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req).map(str::to_owned);
        let state = state_of(req);
        Box::pin(async move {
            let state = state?;
            let token = token.ok_or_else(|| ApiError::unauthorized("a Bearer token is required"))?;
            Caller::from_bearer(&state, &token).await
        })
    }
}

/// A caller that may be anonymous (public publications). A token that is present must be valid.
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if bearer(req).is_none() {
            return Box::pin(async { Ok(MaybeCaller(None)) });
        }
        let caller = Caller::from_request(req, payload);
        Box::pin(async move { Ok(MaybeCaller(Some(caller.await?))) })
    }
}
