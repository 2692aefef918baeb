//! Org units: a county, its townships and their villages, and the county's departments.
//! A township, village or department is also a subject (§3), created with the same id.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::entities::{org_unit, subject};
use super::{new_id, now, Change, WriteTx};
use crate::auth::policy::{Action, Scope};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::named::named_enum;
use crate::scoring::SubjectType;

named_enum! {
    /// The kind of an org unit.
    pub enum OrgKind {
        County,
        Township,
        Village,
        Department,
    }
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::County => "county",
            OrgKind::Township => "township",
            OrgKind::Village => "village",
            OrgKind::Department => "department",
        }
    }

    /// The subject a unit of this kind is assessed as; a county is not assessed.
    pub fn subject_type(self) -> Option<SubjectType> {
        match self {
            OrgKind::County => None,
            OrgKind::Township => Some(SubjectType::Township),
            OrgKind::Village => Some(SubjectType::Village),
            OrgKind::Department => Some(SubjectType::Department),
        }
    }
}

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

impl From<org_unit::Model> for OrgUnit {
    fn from(m: org_unit::Model) -> Self {
        Self {
            id: m.id,
            county_id: m.county_id,
            parent_id: m.parent_id,
            kind: m.kind,
            name: m.name,
            code: m.code,
            township_id: m.township_id,
            active: m.active,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Where an org unit sits, for the access policy.
pub fn scope_of(m: &org_unit::Model) -> Scope {
    Scope::new(m.county_id, m.township_id, m.village_id)
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

pub fn check_name(field: &str, name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid(
            field,
            "field.length",
            format!("{field} must be 1–200 characters"),
        ));
    }
    Ok(name.to_owned())
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<org_unit::Model>, ApiError> {
    Ok(org_unit::Entity::find_by_id(id).one(conn).await?)
}

/// Loads an org unit the caller may act on, or 404/403.
pub async fn load_for<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    action: Action,
    id: Uuid,
) -> Result<org_unit::Model, ApiError> {
    let unit = find(conn, id).await?.ok_or_else(|| ApiError::not_found("org unit"))?;
    caller.authorize(action, &scope_of(&unit), "org unit")?;
    Ok(unit)
}

/// Creates a county (the tenant) with its chain's first audit event.
#[tracing::instrument(skip_all, fields(name = %name))]
pub async fn create_county(tx: &WriteTx, name: &str) -> Result<org_unit::Model, ApiError> {
    let id = new_id();
    let at = now();
    let model = org_unit::Model {
        id,
        county_id: id,
        created_at: at,
        updated_at: at,
        version: 1,
        parent_id: None,
        kind: OrgKind::County,
        name: check_name("name", name)?,
        code: None,
        township_id: None,
        village_id: None,
        active: true,
    };
    org_unit::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(tx.conn())
        .await?;
    tx.audit_in(id, Change::created("org_unit", id, &OrgUnit::from(model.clone())))
        .await?;
    Ok(model)
}

/// Creates a township, village or department in the caller's county, and its subject.
#[tracing::instrument(skip_all, fields(county = %caller.county_id, parent = ?new.parent_id))]
pub async fn create(tx: &WriteTx, caller: &Caller, new: NewOrgUnit) -> Result<org_unit::Model, ApiError> {
    let name = check_name("name", &new.name)?;
    let county_id = caller.county_id;
    let id = new_id();
    let (parent_id, township_id, village_id) = match new.kind {
        OrgKind::County => {
            return Err(ApiError::invalid(
                "kind",
                "org_unit.kind_not_creatable",
                "counties are created with `kaohe county create`",
            ))
        }
        OrgKind::Township | OrgKind::Department => (county_id, (new.kind == OrgKind::Township).then_some(id), None),
        OrgKind::Village => {
            let parent_id = new.parent_id.ok_or_else(|| {
                ApiError::invalid(
                    "parent_id",
                    "org_unit.parent_required",
                    "a village needs parent_id: its township",
                )
            })?;
            let parent = find(tx.conn(), parent_id)
                .await?
                .filter(|p| caller.may(Action::Read, &scope_of(p)));
            match parent {
                Some(p) if p.kind == OrgKind::Township && p.active => (p.id, Some(p.id), Some(id)),
                Some(_) => {
                    return Err(ApiError::invalid(
                        "parent_id",
                        "org_unit.parent_not_township",
                        "parent_id must be an active township",
                    ))
                }
                None => {
                    return Err(ApiError::invalid(
                        "parent_id",
                        "org_unit.parent_unknown",
                        "parent_id is not a township in your scope",
                    ))
                }
            }
        }
    };
    caller.require(
        Action::Manage,
        &Scope::new(county_id, township_id, village_id),
        "org unit",
    )?;
    let at = now();
    let model = org_unit::Model {
        id,
        county_id,
        created_at: at,
        updated_at: at,
        version: 1,
        parent_id: Some(parent_id),
        kind: new.kind,
        name,
        code: new.code.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()),
        township_id,
        village_id,
        active: true,
    };
    org_unit::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(tx.conn())
        .await?;
    tx.audit(Change::created("org_unit", id, &OrgUnit::from(model.clone())))
        .await?;
    let subject = subject::Model {
        id,
        county_id,
        created_at: at,
        updated_at: at,
        version: 1,
        subject_type: new
            .kind
            .subject_type()
            .ok_or_else(|| ApiError::internal("a county is not a subject"))?,
        name: model.name.clone(),
        org_unit_id: Some(id),
        township_id,
        village_id,
        dispatched_by: None,
        stationed_in: None,
        external_code: model.code.clone(),
        active: true,
    };
    subject::Entity::insert(subject.clone().into_active_model())
        .exec_without_returning(tx.conn())
        .await?;
    tx.audit(Change::created(
        "subject",
        id,
        &crate::store::subjects::Subject::from(subject),
    ))
    .await?;
    Ok(model)
}

/// Renames, recodes or (de)activates an org unit; its subject follows.
#[tracing::instrument(skip_all, fields(county = %caller.county_id, org_unit = %id))]
pub async fn update(
    tx: &WriteTx,
    caller: &Caller,
    id: Uuid,
    patch: OrgUnitPatch,
    if_match: Option<i32>,
) -> Result<org_unit::Model, ApiError> {
    let current = load_for(tx.conn(), caller, Action::Manage, id).await?;
    super::check_version(if_match.or(patch.version), current.version)?;
    let mut active = current.clone().into_active_model();
    if let Some(name) = &patch.name {
        active.name = Set(check_name("name", name)?);
    }
    if let Some(code) = &patch.code {
        active.code = Set(Some(code.trim().to_owned()).filter(|c| !c.is_empty()));
    }
    if let Some(flag) = patch.active {
        if !flag && current.kind == OrgKind::County {
            return Err(ApiError::invalid(
                "active",
                "org_unit.county_deactivation",
                "a county cannot deactivate itself",
            ));
        }
        active.active = Set(flag);
    }
    active.version = Set(current.version + 1);
    active.updated_at = Set(now());
    let updated = active.update(tx.conn()).await?;
    tx.audit(Change::updated(
        "update",
        "org_unit",
        id,
        &OrgUnit::from(current),
        &OrgUnit::from(updated.clone()),
    ))
    .await?;
    if let Some(s) = subject::Entity::find_by_id(id).one(tx.conn()).await? {
        let before = crate::store::subjects::Subject::from(s.clone());
        let mut subject_active = s.clone().into_active_model();
        subject_active.name = Set(updated.name.clone());
        subject_active.active = Set(updated.active);
        subject_active.external_code = Set(updated.code.clone());
        subject_active.version = Set(s.version + 1);
        subject_active.updated_at = Set(updated.updated_at);
        let after = subject_active.update(tx.conn()).await?;
        tx.audit(Change::updated(
            "update",
            "subject",
            id,
            &before,
            &crate::store::subjects::Subject::from(after),
        ))
        .await?;
    }
    Ok(updated)
}

/// Filters of `GET /api/v1/org-units`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgUnitFilter {
    pub kind: Option<OrgKind>,
    pub parent_id: Option<Uuid>,
    pub active: Option<bool>,
}

pub async fn list<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    filter: &OrgUnitFilter,
    page: &super::page::PageRequest,
) -> Result<Vec<org_unit::Model>, ApiError> {
    let mut select = org_unit::Entity::find().filter(caller.visible(org_unit::Entity));
    if let Some(kind) = filter.kind {
        select = select.filter(org_unit::Column::Kind.eq(kind.as_str()));
    }
    if let Some(parent) = filter.parent_id {
        select = select.filter(org_unit::Column::ParentId.eq(parent));
    }
    if let Some(active) = filter.active {
        select = select.filter(org_unit::Column::Active.eq(active));
    }
    Ok(super::page::paginate(select, page).all(conn).await?)
}
