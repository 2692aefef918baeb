//! `/api/v1/org-units`: the county's tree.

use actix_web::{get, patch, post};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::{create_endpoint, from_row, read_endpoint, update_endpoint};
use super::listing::list_endpoint;
use crate::api::listing::Page;
use crate::auth::policy::Action;
use crate::store::entities::org_unit;
use crate::store::org_units::OrgKind;
use crate::store::org_units::{self};
use crate::store::Edit;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(list).service(read).service(update);
}

create_endpoint! {
    /// Create a township, village or department (and its subject).
    create: POST "/org-units", tag "org-units", operation "createOrgUnit",
    body NewOrgUnit, answers OrgUnit, "Created", located "URL of the new org unit",
    |tx, caller, new| OrgUnit::from(org_units::create(tx, caller, new).await?)
}

list_endpoint! {
    /// List org units in your scope.
    list: GET "/org-units", tag "org-units", operation "listOrgUnits", filter OrgUnitFilter, items OrgUnit,
    |state, caller, filter, page| Ok(org_units::list(state.store.db(), caller, filter, page).await?.into_iter().map(OrgUnit::from).collect())
}

read_endpoint! {
    /// Read one org unit.
    read: GET "/org-units/{id}", tag "org-units", operation "getOrgUnit", id "Org unit id", answers OrgUnit, "The org unit",
    |state, caller, id| OrgUnit::from(org_units::load_for(state.store.db(), caller, Action::Read, id).await?)
}

update_endpoint! {
    /// Rename, recode, deactivate or reactivate an org unit.
    update: PATCH "/org-units/{id}", tag "org-units", operation "updateOrgUnit", id "Org unit id",
    body OrgUnitPatch, answers OrgUnit,
    |tx, caller, id, patch, if_match| OrgUnit::from(org_units::update(tx, caller, Edit { id, patch, if_match }).await?)
}

// ---- request and response types ----

/// An org unit as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b0d2-7a1e-7c3e-9d52-1f0c2b7d4e11", "county_id": "0193b0d2-0000-7000-8000-000000000001",
    "parent_id": "0193b0d2-0000-7000-8000-000000000002", "kind": "village", "name": "童市村", "code": "430626-101",
    "township_id": "0193b0d2-0000-7000-8000-000000000002", "active": true, "version": 1,
    "created_at": "2026-01-05T08:00:00Z", "updated_at": "2026-01-05T08:00:00Z"
}))]
pub struct OrgUnit {
    pub id: Uuid,
    pub county_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub kind: OrgKind,
    pub name: String,
    pub code: Option<String>,
    /// The town this unit is in (itself for a township).
    pub township_id: Option<Uuid>,
    pub active: bool,
    /// Increases with every change; send it back as `If-Match` to update.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

from_row! { OrgUnit from org_unit:
    id, county_id, parent_id, kind, name, code, township_id, active, version, created_at, updated_at
}

/// Body of `POST /api/v1/org-units`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "village", "name": "童市村", "parent_id": "0193b0d2-0000-7000-8000-000000000002"}))]
pub struct NewOrgUnit {
    /// `township`, `village` or `department` (counties are created with `kaohe county create`).
    pub kind: OrgKind,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// The township of a village; ignored for townships and departments (their parent is the county).
    pub parent_id: Option<Uuid>,
    pub code: Option<String>,
}

/// Body of `PATCH /api/v1/org-units/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "童市社区", "version": 1}))]
pub struct OrgUnitPatch {
    pub name: Option<String>,
    pub code: Option<String>,
    /// `false` deactivates the unit (it stays in the history).
    pub active: Option<bool>,
    /// The version you read, unless you send `If-Match`.
    pub version: Option<i32>,
}

/// Filters of `GET /api/v1/org-units`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgUnitFilter {
    pub kind: Option<OrgKind>,
    pub parent_id: Option<Uuid>,
    pub active: Option<bool>,
}
