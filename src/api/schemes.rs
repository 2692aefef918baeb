//! `/api/v1/built-in-schemes`, `/api/v1/schemes` and `/api/v1/rubrics`: the rules, as data.

use actix_web::{get, patch, post, put, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::{create_endpoint, read_endpoint, update_endpoint};
use super::idempotency::Respond;
use super::listing::list_endpoint;
use super::{created, ok_versioned, Body, Query};
use crate::api::listing::Page;
use crate::auth::policy::Action;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::scoring::{EvaluationKind, Rubric, SchemeDefinition, SubjectType};
use crate::state::AppState;
use crate::store::entities::rubric;
use crate::store::schemes::{self};
use crate::store::Edit;
use chrono::{DateTime, Utc};
use serde::Deserialize;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_built_in)
        .service(read_built_in)
        .service(create)
        .service(list)
        .service(read)
        .service(update)
        .service(list_rubrics)
        .service(read_rubric)
        .service(edit_rubric);
}

/// A built-in scheme in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct BuiltInSummary {
    #[schema(example = "county-poverty")]
    pub key: String,
    #[schema(example = "某县脱贫攻坚工作考核办法")]
    pub title: String,
    pub description: String,
    pub subject_types: Vec<SubjectType>,
    pub evaluations: Vec<EvaluationKind>,
}

/// The two built-in schemes (Seed A and Seed B), ready to instantiate.
#[utoipa::path(
    tag = "schemes", operation_id = "listBuiltInSchemes",
    responses((status = 200, description = "The built-in schemes", body = Vec<BuiltInSummary>))
)]
#[get("/built-in-schemes")]
async fn list_built_in(_caller: Caller) -> Result<HttpResponse, ApiError> {
    let summaries: Vec<BuiltInSummary> = crate::schemes::built_in()
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|s| BuiltInSummary {
            key: s.key.clone(),
            title: s.title.clone(),
            description: s.description.clone(),
            subject_types: s.subject_types.keys().copied().collect(),
            evaluations: s.evaluations.iter().map(|e| e.kind).collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(summaries))
}

/// A built-in scheme's whole definition: rubrics, formulas, grades, prizes, consequences.
#[utoipa::path(
    tag = "schemes", operation_id = "getBuiltInScheme",
    params(("key" = String, Path, description = "`tongshi-2023-village` or `county-poverty`")),
    responses((status = 200, description = "The definition", body = SchemeDefinition))
)]
#[get("/built-in-schemes/{key}")]
async fn read_built_in(_caller: Caller, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let definition = crate::schemes::built_in_by_key(&key)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("built-in scheme"))?;
    Ok(HttpResponse::Ok().json(definition))
}

create_endpoint! {
    /// Instantiate a built-in scheme for a year (in the county or a town), or create a custom one.
    ///
    /// Creates the scheme, version 1 of each subject type's rubric, and the evaluations its
    /// templates describe (e.g. half-year, year-end and two democratic evaluations for Seed B).
    create: POST "/schemes", tag "schemes", operation "createScheme",
    body NewScheme, answers Scheme, "Created", located "URL of the scheme",
    |tx, caller, new| {
        let row = schemes::create(tx, caller, new).await?;
        schemes::to_api(tx.conn(), row).await?
    }
}

list_endpoint! {
    /// List the schemes that apply to you (the county's, and your town's).
    list: GET "/schemes", tag "schemes", operation "listSchemes", filter SchemeFilter, items Scheme,
    |state, caller, filter, page| {
        let db = state.store.db();
        let mut items = Vec::new();
        for row in schemes::list(db, caller, filter, page).await? {
            items.push(schemes::to_api(db, row).await?);
        }
        Ok(items)
    }
}

read_endpoint! {
    /// Read a scheme with its current rubrics.
    read: GET "/schemes/{id}", tag "schemes", operation "getScheme", id "Scheme id", answers Scheme, "The scheme",
    |state, caller, id| {
        let db = state.store.db();
        schemes::to_api(db, schemes::load_for(db, caller, Action::ReadShared, id).await?).await?
    }
}

update_endpoint! {
    /// Rename, deactivate or reactivate a scheme.
    update: PATCH "/schemes/{id}", tag "schemes", operation "updateScheme", id "Scheme id",
    body SchemePatch, answers Scheme,
    |tx, caller, id, patch, if_match| {
        let row = schemes::update(tx, caller, Edit { id, patch, if_match }).await?;
        schemes::to_api(tx.conn(), row).await?
    }
}

/// List a scheme's rubric versions.
#[utoipa::path(
    tag = "schemes", operation_id = "listRubrics",
    params(RubricFilter),
    responses((status = 200, description = "The versions, by subject type and version", body = Vec<RubricVersion>))
)]
#[get("/rubrics")]
async fn list_rubrics(
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<RubricFilter>,
) -> Result<HttpResponse, ApiError> {
    let rows = schemes::list_rubrics(state.store.db(), &caller, &filter).await?;
    let versions = rows
        .into_iter()
        .map(schemes::rubric_to_api)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(versions))
}

/// Read a rubric version: the whole tree with points, methods and rules, ready to render a form.
#[utoipa::path(
    tag = "schemes", operation_id = "getRubric",
    params(("id" = Uuid, Path, description = "Rubric version id")),
    responses((status = 200, description = "The rubric version", body = RubricVersion))
)]
#[get("/rubrics/{id}")]
async fn read_rubric(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (row, _) = schemes::load_rubric(state.store.db(), &caller, *id).await?;
    Ok(HttpResponse::Ok().json(schemes::rubric_to_api(row)?))
}

/// Replace a rubric. A version already used by a finding or scoresheet is immutable: the edit
/// becomes the next version (201, `Location` names it); an unused version changes in place (200).
#[utoipa::path(
    tag = "schemes", operation_id = "editRubric",
    params(("id" = Uuid, Path, description = "Rubric version id (the current one)")),
    request_body = Rubric,
    responses(
        (status = 200, description = "Changed in place", body = RubricVersion),
        (status = 201, description = "Saved as the next version", body = RubricVersion,
            headers(("Location" = String, description = "URL of the new version")))
    )
)]
#[put("/rubrics/{id}")]
async fn edit_rubric(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(rubric): Body<Rubric>,
) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let (row, is_new) = schemes::edit_rubric(&tx, &caller, *id, rubric).await?;
    let body = schemes::rubric_to_api(row.clone())?;
    let response = if is_new {
        created(format!("/api/v1/rubrics/{}", row.id), &body, row.version)
    } else {
        ok_versioned(&body, row.version)
    };
    tx.respond(response).await
}

// ---- request and response types ----

/// A scheme as the API shows it: the definition with each subject type's current rubric.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Scheme {
    pub id: Uuid,
    pub county_id: Uuid,
    /// The county, or the town for a town's scheme (Seed A).
    pub org_unit_id: Uuid,
    pub township_id: Option<Uuid>,
    #[schema(example = "tongshi-2023-village")]
    pub key: String,
    #[schema(example = "童市镇2023年度村级目标管理考核")]
    pub title: String,
    #[schema(example = 2023)]
    pub year: i32,
    /// The built-in scheme it was instantiated from, if any.
    pub built_in: Option<String>,
    pub active: bool,
    /// The current rubric version of each subject type.
    pub rubrics: Vec<RubricVersionRef>,
    pub definition: SchemeDefinition,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which rubric version a subject type currently uses.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RubricVersionRef {
    pub subject_type: SubjectType,
    pub rubric_id: Uuid,
    pub version_no: i32,
}

/// A rubric version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RubricVersion {
    pub id: Uuid,
    pub scheme_id: Uuid,
    pub subject_type: SubjectType,
    /// 1, 2, … for this scheme and subject type.
    pub version_no: i32,
    /// The version new findings and results use.
    pub current: bool,
    /// A finding or scoresheet refers to it: it can no longer change.
    pub used: bool,
    pub rubric: Rubric,
    pub created_at: DateTime<Utc>,
}

impl RubricVersion {
    pub fn from_row(m: rubric::Model) -> Result<Self, ApiError> {
        Ok(Self {
            id: m.id,
            scheme_id: m.scheme_id,
            subject_type: m.subject_type,
            version_no: m.version_no,
            current: m.current,
            used: m.used,
            rubric: serde_json::from_str(&m.definition)?,
            created_at: m.created_at,
        })
    }
}

/// Body of `POST /api/v1/schemes`: instantiate a built-in scheme, or create a custom one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"built_in": "tongshi-2023-village", "year": 2023, "org_unit_id": "0193b0d2-0000-7000-8000-000000000002"}))]
pub struct NewScheme {
    /// Key of a built-in scheme (`tongshi-2023-village`, `county-poverty`).
    pub built_in: Option<String>,
    /// A complete custom definition (instead of `built_in`).
    pub definition: Option<SchemeDefinition>,
    pub year: i32,
    /// The town the scheme is for (Seed A); default: the whole county.
    pub org_unit_id: Option<Uuid>,
    /// Overrides the definition's title.
    pub title: Option<String>,
}

/// Body of `PATCH /api/v1/schemes/{id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "童市镇2023年度村级目标管理考核（修订）", "version": 1}))]
pub struct SchemePatch {
    pub title: Option<String>,
    pub active: Option<bool>,
    pub version: Option<i32>,
}

/// Filters of `GET /api/v1/schemes`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SchemeFilter {
    pub year: Option<i32>,
    pub key: Option<String>,
    pub org_unit_id: Option<Uuid>,
    pub active: Option<bool>,
}

/// Filters of `GET /api/v1/rubrics`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RubricFilter {
    pub scheme_id: Uuid,
    pub subject_type: Option<SubjectType>,
    /// Only the current versions.
    pub current: Option<bool>,
}
