//! `/api/v1/incidents`: findings, their revocation, and appeals against them.

use actix_web::{get, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::{action_endpoint, create_endpoint, read_endpoint};
use super::idempotency::Respond;
use super::listing::list_endpoint;
use super::{created, Body};
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

create_endpoint! {
    /// Record a finding: a deduction, bonus, measurement, amount, adjustment or veto.
    ///
    /// Validated against the subject's rubric: the item and rule exist, the fields the item's method
    /// needs are present and in range (and no others), the date lies in the scheme's year, a period
    /// is measured once (409 otherwise), an adjustment stays within its rule's bound.
    create: POST "/incidents", tag "incidents", operation "createIncident",
    body NewIncident, answers Incident, "Recorded", located "URL of the finding",
    |tx, caller, new| Incident::from(crate::recording::findings::record_finding(tx, caller, new).await?)
}

list_endpoint! {
    /// List findings in your scope.
    list: GET "/incidents", tag "incidents", operation "listIncidents", filter IncidentFilter, items Incident,
    |state, caller, filter, page| Ok(incidents::list(state.store.db(), caller, filter, page).await?.into_iter().map(Incident::from).collect())
}

read_endpoint! {
    /// Read one finding.
    read: GET "/incidents/{id}", tag "incidents", operation "getIncident", id "Finding id", answers Incident, "The finding",
    |state, caller, id| Incident::from(incidents::load_for(state.store.db(), caller, Action::Read, id).await?)
}

action_endpoint! {
    /// Revoke a finding with a reason. It stays in the history; results ignore it from now on.
    revoke: POST "/incidents/{id}/revoke", tag "incidents", operation "revokeIncident", id "Finding id",
    body Revocation, answers Incident, "Revoked",
    |tx, caller, id, revocation| Incident::from(incidents::revoke(tx, caller, id, &revocation.reason).await?)
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

read_endpoint! {
    /// Read one appeal.
    read_appeal: GET "/appeals/{id}", tag "incidents", operation "getAppeal", id "Appeal id", answers Appeal, "The appeal",
    |state, caller, id| Appeal::from(appeals::load_for(state.store.db(), caller, Action::Read, id).await?)
}

action_endpoint! {
    /// Decide an appeal: uphold the finding, or accept the appeal and revoke the finding.
    decide_appeal: POST "/appeals/{id}/decision", tag "incidents", operation "decideAppeal", id "Appeal id",
    body AppealDecision, answers Appeal, "Decided",
    |tx, caller, id, decision| Appeal::from(appeals::decide(tx, caller, id, decision).await?)
}
