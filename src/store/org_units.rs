//! Org units: a county, its townships and their villages, and the county's departments.
//! A township, village or department is also a subject (§3), created with the same id.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel};
use uuid::Uuid;

use super::entities::{org_unit, subject};
use super::load_for;
use super::new_row;
use super::page::list_rows;
use super::{new_id, now, Change, Edit, WriteTx};
use crate::api::org_units::{NewOrgUnit, OrgUnit, OrgUnitFilter, OrgUnitPatch};
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

/// Where an org unit sits, for the access policy.
pub fn scope_of(m: &org_unit::Model) -> Scope {
    Scope::new(m.county_id, m.township_id, m.village_id)
}

pub fn check_name(field: &str, name: &str) -> Result<String, ApiError> {
    // The length is the one the document states, of the string as sent;
    // only emptiness is judged after trimming.
    let too_long = name.chars().count() > 200;
    let name = name.trim();
    if name.is_empty() || too_long {
        return Err(
            ApiError::invalid(field, "field.length", format!("{field} must be 1–200 characters")).arg("max", 200),
        );
    }
    Ok(name.to_owned())
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<org_unit::Model>, ApiError> {
    Ok(org_unit::Entity::find_by_id(id).one(conn).await?)
}

load_for!(
    /// Loads an org unit the caller may act on, or 404/403.
    org_unit,
    authorize,
    "org unit"
);

/// Creates a county (the tenant) with its chain's first audit event.
#[tracing::instrument(skip_all, fields(name = %name))]
pub async fn create_county(tx: &WriteTx, name: &str) -> Result<org_unit::Model, ApiError> {
    let id = new_id();
    let at = now();
    let model = new_row!(org_unit, id, id, at, {
        parent_id: None,
        kind: OrgKind::County,
        name: check_name("name", name)?,
        code: None,
        township_id: None,
        village_id: None,
        active: true,
    });
    tx.insert(model.clone()).await?;
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
    let model = new_row!(org_unit, id, county_id, at, {
        parent_id: Some(parent_id),
        kind: new.kind,
        name,
        code: new.code.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()),
        township_id,
        village_id,
        active: true,
    });
    tx.insert_created("org_unit", id, &model, OrgUnit::from).await?;
    let subject = new_row!(subject, id, county_id, at, {
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
    });
    tx.insert_created("subject", id, &subject, crate::api::subjects::Subject::from)
        .await?;
    Ok(model)
}

/// Renames, recodes or (de)activates an org unit; its subject follows.
#[tracing::instrument(skip_all, fields(county = %caller.county_id, org_unit = %edit.id))]
pub async fn update(tx: &WriteTx, caller: &Caller, edit: Edit<OrgUnitPatch>) -> Result<org_unit::Model, ApiError> {
    let Edit { id, patch, if_match } = edit;
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
    let updated = tx
        .save("update", "org_unit", id, current, active, now(), OrgUnit::from)
        .await?;
    if let Some(s) = subject::Entity::find_by_id(id).one(tx.conn()).await? {
        let mut subject_active = s.clone().into_active_model();
        subject_active.name = Set(updated.name.clone());
        subject_active.active = Set(updated.active);
        subject_active.external_code = Set(updated.code.clone());
        let record = crate::api::subjects::Subject::from;
        tx.save("update", "subject", id, s, subject_active, updated.updated_at, record)
            .await?;
    }
    Ok(updated)
}

list_rows!(list(OrgUnitFilter) -> org_unit, visible, equal { kind => Kind, parent_id => ParentId, active => Active });
