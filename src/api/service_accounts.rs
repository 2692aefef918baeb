//! `/api/v1/service-accounts`: machine clients of data platforms (county admins).

use actix_web::{get, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::idempotency::Respond;
use super::listing::{list_endpoint, Unfiltered};
use super::{created, ok_versioned, Body};
use crate::auth::policy::Action;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::page::Page;
use crate::store::service_accounts::{self, CreatedServiceAccount, NewServiceAccount, ServiceAccount};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(list).service(read).service(revoke);
}

/// Create a service account; its secret is shown once.
#[utoipa::path(
    tag = "service-accounts", operation_id = "createServiceAccount",
    request_body = NewServiceAccount,
    responses((status = 201, description = "Created, with its secret", body = CreatedServiceAccount,
        headers(("Location" = String, description = "URL of the account"))))
)]
#[post("/service-accounts")]
async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    Body(new): Body<NewServiceAccount>,
) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let account = service_accounts::create(&tx, &caller, new).await?;
    let location = format!("/api/v1/service-accounts/{}", account.account.id);
    let version = account.account.version;
    tx.respond(created(location, &account, version)).await
}

list_endpoint! {
    /// List the county's service accounts.
    list: GET "/service-accounts", tag "service-accounts", operation "listServiceAccounts",
    filter Unfiltered, items ServiceAccount,
    |state, caller, _filter, page| {
        let rows = service_accounts::list(state.store.db(), caller, page).await?;
        Ok(rows.into_iter().map(ServiceAccount::from).collect())
    }
}

/// Read one service account.
#[utoipa::path(
    tag = "service-accounts", operation_id = "getServiceAccount",
    params(("id" = Uuid, Path, description = "Service account id")),
    responses((status = 200, description = "The account", body = ServiceAccount))
)]
#[get("/service-accounts/{id}")]
async fn read(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let row = service_accounts::load_for(state.store.db(), &caller, Action::Read, *id).await?;
    Ok(ok_versioned(&ServiceAccount::from(row.clone()), row.version))
}

/// Revoke a service account: its tokens stop working at once.
#[utoipa::path(
    tag = "service-accounts", operation_id = "revokeServiceAccount",
    params(("id" = Uuid, Path, description = "Service account id")),
    responses((status = 200, description = "Revoked", body = ServiceAccount))
)]
#[post("/service-accounts/{id}/revoke")]
async fn revoke(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let row = service_accounts::revoke(&tx, &caller, *id).await?;
    tx.respond(ok_versioned(&ServiceAccount::from(row.clone()), row.version))
        .await
}
