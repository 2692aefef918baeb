//! `/api/v1/incidents`: findings, their revocation, and appeals against them.

use actix_web::{get, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::{action_endpoint, create_endpoint, from_row, read_endpoint};
use super::idempotency::Respond;
use super::listing::list_endpoint;
use super::{created, Body};
use crate::api::listing::Page;
use crate::auth::parse_name;
use crate::auth::policy::Action;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::scoring::admission::IncidentKind;
use crate::scoring::inputs::Quarter;
use crate::state::AppState;
use crate::store::appeals::AppealStatus;
use crate::store::appeals::{self};
use crate::store::entities::{appeal, incident};
use crate::store::incidents::{self};
use crate::store::incidents::{IncidentStatus, Source};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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

// ---- request and response types ----

/// An appeal as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Appeal {
    pub id: Uuid,
    pub county_id: Uuid,
    pub incident_id: Uuid,
    pub subject_id: Uuid,
    #[schema(example = "该户信息已于3月10日更正，系统同步延迟")]
    pub reason: String,
    pub status: AppealStatus,
    pub filed_by: Uuid,
    pub filed_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

from_row! { Appeal from appeal:
    id, county_id, incident_id, subject_id, reason, status, filed_by, decided_by, decided_at, decision_note, version,
    updated_at;
    |m|
    filed_at: m.created_at,
}

/// Body of `POST /api/v1/incidents/{id}/appeals`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "该户信息已于3月10日更正，系统同步延迟"}))]
pub struct NewAppeal {
    pub reason: String,
}

/// What an assessor decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The finding stays.
    Uphold,
    /// The finding is revoked.
    Accept,
}

/// Body of `POST /api/v1/appeals/{id}/decision`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "accept", "note": "经核实，数据已更正"}))]
pub struct AppealDecision {
    pub decision: Decision,
    pub note: Option<String>,
}

/// Filters of `GET /api/v1/appeals`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppealFilter {
    pub incident_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub status: Option<AppealStatus>,
}

/// A finding as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b0d2-7a1e-7c3e-9d52-1f0c2b7d4e30", "county_id": "0193b0d2-0000-7000-8000-000000000001",
    "scheme_id": "0193b0d2-0000-7000-8000-000000000010", "rubric_id": "0193b0d2-0000-7000-8000-000000000011",
    "subject_id": "0193b0d2-0000-7000-8000-000000000003", "kind": "deduction", "item_code": "1.1", "rule_code": "L1",
    "occurred_on": "2023-03-15", "quantity": 4, "period": null, "rate": null, "sampled": null, "correct": null,
    "amount": null, "points": null, "event_key": null, "source": "system_analysis", "note": "3月系统数据分析",
    "evidence": ["扫描件-2023-03-15.pdf"], "recorded_by": "0193b0d2-0000-7000-8000-000000000020",
    "recorded_at": "2023-03-16T02:00:00Z", "status": "active", "revoked_at": null, "revoked_by": null,
    "revoke_reason": null, "version": 1, "updated_at": "2023-03-16T02:00:00Z"
}))]
pub struct Incident {
    pub id: Uuid,
    pub county_id: Uuid,
    pub scheme_id: Uuid,
    /// The rubric version it was validated against.
    pub rubric_id: Uuid,
    pub subject_id: Uuid,
    pub kind: IncidentKind,
    pub item_code: Option<String>,
    pub rule_code: Option<String>,
    pub occurred_on: NaiveDate,
    pub quantity: i32,
    pub period: Option<Quarter>,
    /// Measured rate in percent.
    pub rate: Option<Decimal>,
    pub sampled: Option<i32>,
    pub correct: Option<i32>,
    pub amount: Option<Decimal>,
    /// An adjustment's own points (positive bonus, negative penalty).
    pub points: Option<Decimal>,
    pub event_key: Option<String>,
    pub source: Source,
    pub note: Option<String>,
    pub evidence: Vec<String>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub status: IncidentStatus,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<Uuid>,
    pub revoke_reason: Option<String>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

from_row! { Incident from incident:
    id, county_id, scheme_id, rubric_id, subject_id, kind, item_code, rule_code, occurred_on, quantity, sampled,
    correct, event_key, source, note, recorded_by, status, revoked_at, revoked_by, revoke_reason, version, updated_at;
    |m|
    period: m.period.as_deref().and_then(parse_name),
    rate: m.rate.map(Into::into),
    amount: m.amount.map(Into::into),
    points: m.points.map(Into::into),
    evidence: serde_json::from_str(&m.evidence).unwrap_or_default(),
    recorded_at: m.created_at,
}

/// Body of `POST /api/v1/incidents` and one row of `POST /api/v1/incidents:bulk`.
/// Which fields apply follows from the item's method; the others must be absent.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "subject_id": "0193b0d2-0000-7000-8000-000000000003", "item_code": "1.1", "rule_code": "L1",
    "quantity": 4, "occurred_on": "2023-03-15", "source": "system_analysis", "note": "3月系统数据分析"
}))]
pub struct NewIncident {
    pub subject_id: Uuid,
    /// The scheme; may be left out when exactly one active scheme of that year covers the subject.
    pub scheme_id: Option<Uuid>,
    /// Checked against the item's method when given; a veto needs `kind: "veto"` and no item.
    pub kind: Option<IncidentKind>,
    pub item_code: Option<String>,
    /// The rule of the item (deductions, bonuses; adjustments may name a bounded rule).
    pub rule_code: Option<String>,
    #[serde(deserialize_with = "crate::date::strict")]
    pub occurred_on: NaiveDate,
    /// Deductions and bonuses: how many times (default 1).
    pub quantity: Option<i32>,
    /// Measurements: the quarter measured.
    pub period: Option<Quarter>,
    /// Measurements: the rate in percent (0–100, at most 2 decimals)…
    #[serde(default, deserialize_with = "crate::decimal::strict_option")]
    pub rate: Option<Decimal>,
    /// …or the phone-sampling counts it is computed from.
    pub sampled: Option<i32>,
    pub correct: Option<i32>,
    /// Amounts: yuan, at most 2 decimals.
    #[serde(default, deserialize_with = "crate::decimal::strict_option")]
    pub amount: Option<Decimal>,
    /// Adjustments: the points, positive (reward) or negative (penalty).
    #[serde(default, deserialize_with = "crate::decimal::strict_option")]
    pub points: Option<Decimal>,
    /// Bonuses: the achievement; the same one at several levels counts once, at the highest.
    /// Required on items that do not stack (Seed A 4.1, 4.2).
    pub event_key: Option<String>,
    #[serde(default)]
    pub source: Option<Source>,
    /// Free text; required for vetoes and adjustments (their reason). `reason` is accepted as
    /// another name for it.
    #[serde(alias = "reason")]
    pub note: Option<String>,
    /// References to evidence (file names, URLs, archive numbers).
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Evidence files (`POST /api/v1/evidence`) to attach to the finding as it is recorded.
    #[serde(default)]
    pub evidence_ids: Vec<Uuid>,
}

/// Body of `POST /api/v1/incidents/{id}/revoke`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "重复录入"}))]
pub struct Revocation {
    pub reason: String,
}

/// Filters of `GET /api/v1/incidents`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentFilter {
    pub subject_id: Option<Uuid>,
    pub scheme_id: Option<Uuid>,
    /// Item code, e.g. `1.1`.
    pub item: Option<String>,
    /// Rule code, e.g. `L1`.
    pub rule: Option<String>,
    pub kind: Option<IncidentKind>,
    pub status: Option<IncidentStatus>,
    pub source: Option<Source>,
    /// Findings that occurred on or after this date.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub from: Option<NaiveDate>,
    /// Findings that occurred on or before this date.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub to: Option<NaiveDate>,
    pub township_id: Option<Uuid>,
    pub village_id: Option<Uuid>,
    /// Findings of one bulk upload.
    pub upload_id: Option<Uuid>,
}
