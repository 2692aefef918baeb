//! `/api/v1/users`: people who log in, and the caller's own account.

use actix_web::{get, patch, post, put, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::{create_endpoint, read_endpoint, update_endpoint};
use super::idempotency::Respond;
use super::listing::list_endpoint;
use super::{ok_versioned, Body};
use crate::auth::policy::Action;
use crate::auth::{Caller, PrincipalKind};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::page::Page;
use crate::store::users::{self, NewUser, PasswordChange, User, UserFilter, UserPatch};

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
    |tx, caller, id, patch, version| User::from(users::update(tx, caller, id, patch, version).await?)
}
