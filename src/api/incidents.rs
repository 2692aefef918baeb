//! `/api/v1/incidents`: findings, their revocation, and appeals against them.

use actix_web::{get, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::idempotency::Respond;
use super::listing::list_endpoint;
use super::{created, ok_versioned, Body};
use crate::auth::policy::Action;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::appeals::{self, Appeal, AppealDecision, AppealFilter, NewAppeal};
use crate::store::incidents::{self, Incident, IncidentFilter, NewIncident, Revocation};
use crate::store::page::Page;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(read)
        .service(revoke)
        .service(file_appeal)
        .service(list_appeals)
        .service(read_appeal)
        .service(decide_appeal);
}

/// Record a finding: a deduction, bonus, measurement, amount, adjustment or veto.
///
/// Validated against the subject's rubric: the item and rule exist, the fields the item's method
/// needs are present and in range (and no others), the date lies in the scheme's year, a period
/// is measured once (409 otherwise), an adjustment stays within its rule's bound.
#[utoipa::path(
    tag = "incidents", operation_id = "createIncident",
    request_body = NewIncident,
    responses((status = 201, description = "Recorded", body = Incident,
        headers(("Location" = String, description = "URL of the finding"), ("ETag" = String, description = "Its version"))))
)]
#[post("/incidents")]
async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    Body(new): Body<NewIncident>,
) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let row = crate::recording::findings::record_finding(&tx, &caller, new).await?;
    tx.respond(created(
        format!("/api/v1/incidents/{}", row.id),
        &Incident::from(row.clone()),
        row.version,
    ))
    .await
}

list_endpoint! {
    /// List findings in your scope.
    list: GET "/incidents", tag "incidents", operation "listIncidents", filter IncidentFilter, items Incident,
    |state, caller, filter, page| Ok(incidents::list(state.store.db(), caller, filter, page).await?.into_iter().map(Incident::from).collect())
}

/// Read one finding.
#[utoipa::path(
    tag = "incidents", operation_id = "getIncident",
    params(("id" = Uuid, Path, description = "Finding id")),
    responses((status = 200, description = "The finding", body = Incident, headers(("ETag" = String, description = "Its version"))))
)]
#[get("/incidents/{id}")]
async fn read(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let row = incidents::load_for(state.store.db(), &caller, Action::Read, *id).await?;
    Ok(ok_versioned(&Incident::from(row.clone()), row.version))
}

/// Revoke a finding with a reason. It stays in the history; results ignore it from now on.
#[utoipa::path(
    tag = "incidents", operation_id = "revokeIncident",
    params(("id" = Uuid, Path, description = "Finding id")),
    request_body = Revocation,
    responses((status = 200, description = "Revoked", body = Incident))
)]
#[post("/incidents/{id}/revoke")]
async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(body): Body<Revocation>,
) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let row = incidents::revoke(&tx, &caller, *id, &body.reason).await?;
    tx.respond(ok_versioned(&Incident::from(row.clone()), row.version))
        .await
}

/// Appeal a finding against your own village or town (申诉).
#[utoipa::path(
    tag = "incidents", operation_id = "fileAppeal",
    params(("id" = Uuid, Path, description = "Finding id")),
    request_body = NewAppeal,
    responses((status = 201, description = "Filed", body = Appeal, headers(("Location" = String, description = "URL of the appeal"))))
)]
#[post("/incidents/{id}/appeals")]
async fn file_appeal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(new): Body<NewAppeal>,
) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let row = appeals::file(&tx, &caller, *id, new).await?;
    tx.respond(created(
        format!("/api/v1/appeals/{}", row.id),
        &Appeal::from(row.clone()),
        row.version,
    ))
    .await
}

list_endpoint! {
    /// List appeals in your scope.
    list_appeals: GET "/appeals", tag "incidents", operation "listAppeals", filter AppealFilter, items Appeal,
    |state, caller, filter, page| Ok(appeals::list(state.store.db(), caller, filter, page).await?.into_iter().map(Appeal::from).collect())
}

/// Read one appeal.
#[utoipa::path(
    tag = "incidents", operation_id = "getAppeal",
    params(("id" = Uuid, Path, description = "Appeal id")),
    responses((status = 200, description = "The appeal", body = Appeal))
)]
#[get("/appeals/{id}")]
async fn read_appeal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = appeals::load_for(state.store.db(), &caller, Action::Read, *id).await?;
    Ok(ok_versioned(&Appeal::from(row.clone()), row.version))
}

/// Decide an appeal: uphold the finding, or accept the appeal and revoke the finding.
#[utoipa::path(
    tag = "incidents", operation_id = "decideAppeal",
    params(("id" = Uuid, Path, description = "Appeal id")),
    request_body = AppealDecision,
    responses((status = 200, description = "Decided", body = Appeal))
)]
#[post("/appeals/{id}/decision")]
async fn decide_appeal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(decision): Body<AppealDecision>,
) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let row = appeals::decide(&tx, &caller, *id, decision).await?;
    tx.respond(ok_versioned(&Appeal::from(row.clone()), row.version)).await
}
