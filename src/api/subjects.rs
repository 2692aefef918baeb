//! `/api/v1/subjects`: who is assessed, and their per-scheme attributes.

use actix_web::{get, patch, post, put, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::{create_endpoint, from_row, read_endpoint, update_endpoint};
use super::idempotency::Respond;
use super::listing::list_endpoint;
use super::{if_match, ok_versioned, Body};
use crate::api::listing::Page;
use crate::auth::policy::Action;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::scoring::SubjectType;
use crate::state::AppState;
use crate::store::entities::{subject, subject_attribute};
use crate::store::subjects::{self};
use crate::store::Edit;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(read)
        .service(update)
        .service(read_attributes)
        .service(write_attributes);
}

create_endpoint! {
    /// Create a subject. Townships, villages and departments are created with their org unit.
    create: POST "/subjects", tag "subjects", operation "createSubject",
    body NewSubject, answers Subject, "Created", located "URL of the new subject",
    |tx, caller, new| Subject::from(subjects::create(tx, caller, new).await?)
}

list_endpoint! {
    /// List subjects in your scope.
    list: GET "/subjects", tag "subjects", operation "listSubjects", filter SubjectFilter, items Subject,
    |state, caller, filter, page| Ok(subjects::list(state.store.db(), caller, filter, page).await?.into_iter().map(Subject::from).collect())
}

read_endpoint! {
    /// Read one subject.
    read: GET "/subjects/{id}", tag "subjects", operation "getSubject", id "Subject id", answers Subject, "The subject",
    |state, caller, id| Subject::from(subjects::load_for(state.store.db(), caller, Action::Read, id).await?)
}

update_endpoint! {
    /// Rename, relink, deactivate or reactivate a subject.
    update: PATCH "/subjects/{id}", tag "subjects", operation "updateSubject", id "Subject id",
    body SubjectPatch, answers Subject,
    |tx, caller, id, patch, if_match| Subject::from(subjects::update(tx, caller, Edit { id, patch, if_match }).await?)
}

/// A subject's attributes for one scheme (defaults until set).
#[utoipa::path(
    tag = "subjects", operation_id = "getSubjectAttributes",
    params(("id" = Uuid, Path, description = "Subject id"), ("scheme_id" = Uuid, Path, description = "Scheme id")),
    responses((status = 200, description = "The attributes", body = SubjectAttributes, headers(("ETag" = String, description = "Their version"))))
)]
#[get("/subjects/{id}/attributes/{scheme_id}")]
async fn read_attributes(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, scheme_id) = path.into_inner();
    let db = state.store.db();
    subjects::load_for(db, &caller, Action::Read, id).await?;
    crate::store::schemes::load_for(db, &caller, Action::ReadShared, scheme_id).await?;
    let attributes = subjects::attributes(db, scheme_id, id).await?;
    Ok(ok_versioned(&attributes, attributes.version))
}

/// Set a subject's attributes for one scheme.
#[utoipa::path(
    tag = "subjects", operation_id = "setSubjectAttributes",
    params(("id" = Uuid, Path, description = "Subject id"), ("scheme_id" = Uuid, Path, description = "Scheme id"),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(W/)?"?[0-9]{1,9}"?$"#, description = "The ETag you read (or send `version`; 0 when never set)")),
    request_body = AttributesUpdate,
    responses((status = 200, description = "Updated", body = SubjectAttributes, headers(("ETag" = String, description = "The new version"))))
)]
#[put("/subjects/{id}/attributes/{scheme_id}")]
async fn write_attributes(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    Body(changes): Body<AttributesUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (id, scheme_id) = path.into_inner();
    let version = if_match(&req)?;
    let tx = state.store.write(&caller.actor()).await?;
    let subject = subjects::load_for(tx.conn(), &caller, Action::Manage, id).await?;
    crate::store::schemes::load_for(tx.conn(), &caller, Action::ReadShared, scheme_id).await?;
    let attributes = subjects::set_attributes(&tx, &caller, &subject, scheme_id, changes, version).await?;
    tx.respond(ok_versioned(&attributes, attributes.version)).await
}

// ---- request and response types ----

/// A subject as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b0d2-7a1e-7c3e-9d52-1f0c2b7d4e20", "county_id": "0193b0d2-0000-7000-8000-000000000001",
    "subject_type": "first_secretary", "name": "李明", "org_unit_id": null,
    "township_id": "0193b0d2-0000-7000-8000-000000000002", "village_id": "0193b0d2-0000-7000-8000-000000000003",
    "dispatched_by": "0193b0d2-0000-7000-8000-000000000004", "stationed_in": "0193b0d2-0000-7000-8000-000000000003",
    "external_code": null, "active": true, "version": 1,
    "created_at": "2026-01-05T08:00:00Z", "updated_at": "2026-01-05T08:00:00Z"
}))]
pub struct Subject {
    pub id: Uuid,
    pub county_id: Uuid,
    pub subject_type: SubjectType,
    pub name: String,
    /// The org unit a township, village or department subject is (the same id).
    pub org_unit_id: Option<Uuid>,
    /// The town the subject counts in (its own for a township; its village's town for individuals).
    pub township_id: Option<Uuid>,
    /// The village (its own for a village; where an individual is stationed).
    pub village_id: Option<Uuid>,
    /// 派出单位: the department that sent a first secretary or work team.
    pub dispatched_by: Option<Uuid>,
    /// 派驻村: the village subject where an individual or team serves.
    pub stationed_in: Option<Uuid>,
    pub external_code: Option<String>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

from_row! { Subject from subject:
    id, county_id, subject_type, name, org_unit_id, township_id, village_id, dispatched_by, stationed_in,
    external_code, active, version, created_at, updated_at
}

/// Body of `POST /api/v1/subjects` (and one row of `POST /api/v1/subjects:bulk`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "subject_type": "first_secretary", "name": "李明",
    "dispatched_by": "0193b0d2-0000-7000-8000-000000000004", "stationed_in": "0193b0d2-0000-7000-8000-000000000003"
}))]
pub struct NewSubject {
    pub subject_type: SubjectType,
    pub name: String,
    /// For a village: its township (creates the village org unit too).
    pub parent_id: Option<Uuid>,
    /// First secretary or work team: the sending department's subject id.
    pub dispatched_by: Option<Uuid>,
    /// First secretary, work team or technician: the village subject where they serve.
    pub stationed_in: Option<Uuid>,
    pub external_code: Option<String>,
}

/// Body of `PATCH /api/v1/subjects/{id}`. `null` clears a link; an absent field keeps it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"stationed_in": "0193b0d2-0000-7000-8000-000000000005", "version": 1}))]
pub struct SubjectPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub dispatched_by: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub stationed_in: Option<Option<Uuid>>,
    pub external_code: Option<String>,
    /// `false` deactivates the subject (kept in history and results).
    pub active: Option<bool>,
    pub version: Option<i32>,
}

/// Filters of `GET /api/v1/subjects`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubjectFilter {
    pub subject_type: Option<SubjectType>,
    /// Subjects in this town.
    pub township_id: Option<Uuid>,
    /// Subjects in this village (the village itself and individuals stationed there).
    pub village_id: Option<Uuid>,
    pub dispatched_by: Option<Uuid>,
    pub active: Option<bool>,
}

/// A subject's attributes for one scheme (§3): what the rules need to know about it that year.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "scheme_id": "0193b0d2-0000-7000-8000-000000000010", "subject_id": "0193b0d2-0000-7000-8000-000000000004",
    "has_special_indicators": false, "ranking_group": "经济类", "annual_target_met": true, "recalled": false,
    "reserve_cadre": false, "vertically_managed": true, "version": 2
}))]
pub struct SubjectAttributes {
    pub scheme_id: Uuid,
    pub subject_id: Uuid,
    /// Department: 有专项指标. False: its special section is derived from the common one (§5.6).
    pub has_special_indicators: bool,
    /// Department: the category (分类) it is ranked in for the dismissal rule.
    pub ranking_group: Option<String>,
    /// Township and department: 完成年度减贫目标任务.
    pub annual_target_met: bool,
    /// Individual: recalled (召回) during the year → graded 不称职; a recalled first secretary
    /// or technician brings `accountability`, and `head_barred_from_honours` on the unit that
    /// sent it (§8.5).
    pub recalled: bool,
    /// Individual: 优秀年轻干部人才递进培养计划学员、后备干部; recalled, it loses that status
    /// (`reserve_status_revoked`).
    #[serde(default)]
    pub reserve_cadre: bool,
    /// Department: 属上级垂管的单位; its `interview` and `dismissal` are referred to its
    /// supervising authority (`referred_to_supervisor`).
    #[serde(default)]
    pub vertically_managed: bool,
    /// 0 until first set.
    pub version: i32,
}

impl SubjectAttributes {
    /// The attributes of a subject none were set for: the engine's defaults, at version 0.
    pub fn defaults(scheme_id: Uuid, subject_id: Uuid) -> Self {
        let engine = crate::scoring::SubjectAttributes::default();
        Self {
            scheme_id,
            subject_id,
            has_special_indicators: engine.has_special_indicators,
            ranking_group: engine.ranking_group,
            annual_target_met: engine.annual_target_met,
            recalled: engine.recalled,
            reserve_cadre: engine.reserve_cadre,
            vertically_managed: engine.vertically_managed,
            version: 0,
        }
    }
}

from_row! { SubjectAttributes from subject_attribute:
    scheme_id, subject_id, has_special_indicators, ranking_group, annual_target_met, recalled, reserve_cadre,
    vertically_managed, version
}

/// Body of `PUT /api/v1/subjects/{id}/attributes/{scheme_id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"has_special_indicators": false, "ranking_group": "经济类", "annual_target_met": true, "recalled": false, "vertically_managed": true, "version": 0}))]
pub struct AttributesUpdate {
    pub has_special_indicators: Option<bool>,
    pub ranking_group: Option<String>,
    pub annual_target_met: Option<bool>,
    pub recalled: Option<bool>,
    /// Individuals only (first secretaries, work teams, technicians).
    pub reserve_cadre: Option<bool>,
    /// Departments only.
    pub vertically_managed: Option<bool>,
    /// The version you read, unless you send `If-Match`; required once the attributes were set
    /// (their first write may leave it out).
    pub version: Option<i32>,
}

/// One row of `POST /api/v1/subjects:bulk`: a [`NewSubject`] that may name other rows of the
/// upload by their `ref` instead of by id.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "ref": "sec-tongshi", "subject_type": "first_secretary", "name": "李明",
    "dispatched_by": "0193b0d2-0000-7000-8000-000000000004", "stationed_in_ref": "v-tongshi"
}))]
pub struct SubjectRow {
    /// This row's client key, unique within the upload (1–100 characters): other rows name it
    /// in `parent_ref`, `dispatched_by_ref` or `stationed_in_ref`.
    #[serde(rename = "ref")]
    #[schema(rename = "ref", example = "v-tongshi")]
    pub key: Option<String>,
    pub subject_type: SubjectType,
    pub name: String,
    /// For a village: its township's id (or `parent_ref`).
    pub parent_id: Option<Uuid>,
    /// For a village: the `ref` of the township's row in this upload.
    pub parent_ref: Option<String>,
    /// First secretary or work team: the sending department's id (or `dispatched_by_ref`).
    pub dispatched_by: Option<Uuid>,
    /// The `ref` of the sending department's row in this upload.
    pub dispatched_by_ref: Option<String>,
    /// First secretary, work team or technician: the village's id (or `stationed_in_ref`).
    pub stationed_in: Option<Uuid>,
    /// The `ref` of the village's row in this upload.
    pub stationed_in_ref: Option<String>,
    pub external_code: Option<String>,
}

/// One row of `POST /api/v1/attributes:bulk`: one subject's attributes for one scheme, as
/// `PUT /api/v1/subjects/{id}/attributes/{scheme_id}` sets them (absent fields keep their value).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "subject_id": "0193b0d2-0000-7000-8000-000000000004", "scheme_id": "0193b0d2-0000-7000-8000-000000000010",
    "has_special_indicators": false, "ranking_group": "经济类", "annual_target_met": true
}))]
pub struct AttributesRow {
    pub subject_id: Uuid,
    pub scheme_id: Uuid,
    pub has_special_indicators: Option<bool>,
    pub ranking_group: Option<String>,
    pub annual_target_met: Option<bool>,
    pub recalled: Option<bool>,
    pub reserve_cadre: Option<bool>,
    pub vertically_managed: Option<bool>,
    /// The version you read; required once the subject's attributes for the scheme were set
    /// (their first write may leave it out), as for the single write.
    pub version: Option<i32>,
}

/// Distinguishes an absent field (None) from an explicit null (Some(None)).
fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
