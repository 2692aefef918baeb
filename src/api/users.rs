//! `/api/v1/users`: people who log in, and the caller's own account.

use actix_web::{get, patch, post, put, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::{create_endpoint, from_row, read_endpoint, update_endpoint};
use super::idempotency::Respond;
use super::listing::list_endpoint;
use super::{ok_versioned, Body};
use crate::api::listing::Page;
use crate::auth::policy::Action;
use crate::auth::{Caller, PrincipalKind};
use crate::auth::{Level, Role};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::entities::user;
use crate::store::users::{self};
use crate::store::Edit;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(me)
        .service(change_password)
        .service(create)
        .service(list)
        .service(read)
        .service(update);
}

/// Your own account.
#[utoipa::path(
    tag = "auth", operation_id = "getMe",
    responses((status = 200, description = "The caller's user", body = User))
)]
#[get("/users/me")]
async fn me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    if caller.kind == PrincipalKind::Service {
        return Err(ApiError::not_found("user"));
    }
    let row = users::find(state.store.db(), caller.id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok(ok_versioned(&User::from(row.clone()), row.version))
}

/// Change your own password.
///
/// Every token issued to you before ends, this request's too: log in again with the new password.
#[utoipa::path(
    tag = "auth", operation_id = "changeMyPassword",
    request_body = PasswordChange,
    responses((status = 204, description = "Changed"))
)]
#[put("/users/me/password")]
async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    Body(change): Body<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    if caller.kind == PrincipalKind::Service {
        return Err(ApiError::not_found("user"));
    }
    let tx = state.store.write(&caller.actor()).await?;
    users::change_own_password(&tx, &caller, change).await?;
    tx.respond(HttpResponse::NoContent().finish()).await
}

create_endpoint! {
    /// Create a user in your scope.
    create: POST "/users", tag "users", operation "createUser",
    body NewUser, answers User, "Created", located "URL of the new user",
    |tx, caller, new| User::from(users::create(tx, Some(caller), caller.county_id, new).await?)
}

list_endpoint! {
    /// List users in your scope.
    list: GET "/users", tag "users", operation "listUsers", filter UserFilter, items User,
    |state, caller, filter, page| Ok(users::list(state.store.db(), caller, filter, page).await?.into_iter().map(User::from).collect())
}

read_endpoint! {
    /// Read one user.
    read: GET "/users/{id}", tag "users", operation "getUser", id "User id", answers User, "The user",
    |state, caller, id| User::from(users::load_for(state.store.db(), caller, Action::Read, id).await?)
}

update_endpoint! {
    /// Change a user's name or role, reset their password, deactivate or reactivate them.
    update: PATCH "/users/{id}", tag "users", operation "updateUser", id "User id",
    body UserPatch, answers User,
    |tx, caller, id, patch, if_match| User::from(users::update(tx, caller, Edit { id, patch, if_match }).await?)
}

// ---- request and response types ----

/// A user as the API shows it. The password hash is never shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b0d2-7a1e-7c3e-9d52-1f0c2b7d4e12", "county_id": "0193b0d2-0000-7000-8000-000000000001",
    "org_unit_id": "0193b0d2-0000-7000-8000-000000000002", "username": "tongshi-assessor",
    "display_name": "童市镇乡村振兴办", "level": "township", "role": "assessor", "active": true, "version": 1,
    "created_at": "2026-01-05T08:00:00Z", "updated_at": "2026-01-05T08:00:00Z"
}))]
pub struct User {
    pub id: Uuid,
    pub county_id: Uuid,
    pub org_unit_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub level: Level,
    pub role: Role,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

from_row! { User from user:
    id, county_id, org_unit_id, username, display_name, level, role, active, version, created_at, updated_at
}

/// Body of `POST /api/v1/users`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "username": "tongshi-assessor", "display_name": "童市镇乡村振兴办", "password": "a long secret phrase",
    "org_unit_id": "0193b0d2-0000-7000-8000-000000000002", "role": "assessor"
}))]
pub struct NewUser {
    /// 3–64 characters: letters, digits, `.`, `_`, `-`, `@`.
    #[schema(pattern = r"^[A-Za-z0-9._@-]{3,64}$")]
    pub username: String,
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: String,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
    /// The county, township or village the user works at; it sets the user's level.
    pub org_unit_id: Uuid,
    /// `admin`, `assessor` or `viewer`; village users are viewers.
    pub role: Role,
}

/// Body of `PATCH /api/v1/users/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false, "version": 1}))]
pub struct UserPatch {
    pub display_name: Option<String>,
    /// A new role ends the user's tokens issued before.
    pub role: Option<Role>,
    /// `false` deactivates the user: their tokens stop working at once, and stay dead should
    /// the user be reactivated.
    pub active: Option<bool>,
    /// Sets a new password (an admin resetting it); ends the user's tokens issued before.
    pub password: Option<String>,
    pub version: Option<i32>,
}

/// Body of `PUT /api/v1/users/me/password`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "the old secret phrase", "new_password": "a new long secret phrase"}))]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 256)]
    pub new_password: String,
}

/// Filters of `GET /api/v1/users`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    pub org_unit_id: Option<Uuid>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}
