//! `/api/v1/users`: people who log in, and the caller's own account.

use actix_web::{get, patch, post, put, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::idempotency::Respond;
use super::listing::list_endpoint;
use super::{created, if_match, ok_versioned, Body};
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

/// Create a user in your scope.
#[utoipa::path(
    tag = "users", operation_id = "createUser",
    request_body = NewUser,
    responses((status = 201, description = "Created", body = User,
        headers(("Location" = String, description = "URL of the new user"), ("ETag" = String, description = "Its version"))))
)]
#[post("/users")]
async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    Body(new): Body<NewUser>,
) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let row = users::create(&tx, Some(&caller), caller.county_id, new).await?;
    tx.respond(created(
        format!("/api/v1/users/{}", row.id),
        &User::from(row.clone()),
        row.version,
    ))
    .await
}

list_endpoint! {
    /// List users in your scope.
    list: GET "/users", tag "users", operation "listUsers", filter UserFilter, items User,
    |state, caller, filter, page| Ok(users::list(state.store.db(), caller, filter, page).await?.into_iter().map(User::from).collect())
}

/// Read one user.
#[utoipa::path(
    tag = "users", operation_id = "getUser",
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "The user", body = User, headers(("ETag" = String, description = "Its version"))))
)]
#[get("/users/{id}")]
async fn read(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let row = users::load_for(state.store.db(), &caller, Action::Read, *id).await?;
    Ok(ok_versioned(&User::from(row.clone()), row.version))
}

/// Change a user's name or role, reset their password, deactivate or reactivate them.
#[utoipa::path(
    tag = "users", operation_id = "updateUser",
    params(("id" = Uuid, Path, description = "User id"),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(W/)?"?[0-9]{1,9}"?$"#, description = "The ETag you read (or send `version`)")),
    request_body = UserPatch,
    responses((status = 200, description = "Updated", body = User, headers(("ETag" = String, description = "The new version"))))
)]
#[patch("/users/{id}")]
async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    Body(patch): Body<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match(&req)?;
    let tx = state.store.write(&caller.actor()).await?;
    let row = users::update(&tx, &caller, *id, patch, version).await?;
    tx.respond(ok_versioned(&User::from(row.clone()), row.version)).await
}
