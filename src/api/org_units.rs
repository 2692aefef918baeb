//! `/api/v1/org-units`: the county's tree.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::idempotency::Respond;
use super::listing::list_endpoint;
use super::{created, if_match, ok_versioned, Body};
use crate::auth::policy::Action;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::org_units::{self, NewOrgUnit, OrgUnit, OrgUnitFilter, OrgUnitPatch};
use crate::store::page::Page;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(list).service(read).service(update);
}

/// Create a township, village or department (and its subject).
#[utoipa::path(
    tag = "org-units", operation_id = "createOrgUnit",
    request_body = NewOrgUnit,
    responses((status = 201, description = "Created", body = OrgUnit,
        headers(("Location" = String, description = "URL of the new org unit"), ("ETag" = String, description = "Its version"))))
)]
#[post("/org-units")]
async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    Body(new): Body<NewOrgUnit>,
) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let unit = org_units::create(&tx, &caller, new).await?;
    tx.respond(created(
        format!("/api/v1/org-units/{}", unit.id),
        &OrgUnit::from(unit.clone()),
        unit.version,
    ))
    .await
}

list_endpoint! {
    /// List org units in your scope.
    list: GET "/org-units", tag "org-units", operation "listOrgUnits", filter OrgUnitFilter, items OrgUnit,
    |state, caller, filter, page| Ok(org_units::list(state.store.db(), caller, filter, page).await?.into_iter().map(OrgUnit::from).collect())
}

/// Read one org unit.
#[utoipa::path(
    tag = "org-units", operation_id = "getOrgUnit",
    params(("id" = Uuid, Path, description = "Org unit id")),
    responses((status = 200, description = "The org unit", body = OrgUnit, headers(("ETag" = String, description = "Its version"))))
)]
#[get("/org-units/{id}")]
async fn read(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let unit = org_units::load_for(state.store.db(), &caller, Action::Read, *id).await?;
    Ok(ok_versioned(&OrgUnit::from(unit.clone()), unit.version))
}

/// Rename, recode, deactivate or reactivate an org unit.
#[utoipa::path(
    tag = "org-units", operation_id = "updateOrgUnit",
    params(("id" = Uuid, Path, description = "Org unit id"),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(W/)?"?[0-9]{1,9}"?$"#, description = "The ETag you read (or send `version`)")),
    request_body = OrgUnitPatch,
    responses((status = 200, description = "Updated", body = OrgUnit, headers(("ETag" = String, description = "The new version"))))
)]
#[patch("/org-units/{id}")]
async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    Body(patch): Body<OrgUnitPatch>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match(&req)?;
    let tx = state.store.write(&caller.actor()).await?;
    let unit = org_units::update(&tx, &caller, *id, patch, version).await?;
    tx.respond(ok_versioned(&OrgUnit::from(unit.clone()), unit.version))
        .await
}
