//! Subjects: who is assessed. Townships, villages and departments are their org unit (same id);
//! first secretaries, work teams and agricultural technicians are subjects of their own, linked
//! to the department that sent them and the village they serve in (§3).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use uuid::Uuid;

use super::entities::{subject, subject_attribute};
use super::load_for;
use super::new_row;
use super::org_units::{self, OrgKind};
use super::page::list_rows;
use super::{new_id, now, Change, Edit, WriteTx};
use crate::api::org_units::NewOrgUnit;
use crate::api::subjects::{AttributesUpdate, NewSubject, SubjectFilter, SubjectPatch};
pub use crate::api::subjects::{Subject, SubjectAttributes};
use crate::auth::policy::{Action, Scope};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::scoring::SubjectType;

/// Adds to `known` the county's subjects among `ids` it does not hold yet, 500 ids a query;
/// returns the ids it looked for.
pub async fn load_missing<C: ConnectionTrait>(
    conn: &C,
    county_id: Uuid,
    ids: &HashSet<Uuid>,
    known: &mut HashMap<Uuid, subject::Model>,
) -> Result<Vec<Uuid>, ApiError> {
    let missing: Vec<Uuid> = ids.iter().copied().filter(|id| !known.contains_key(id)).collect();
    for chunk in missing.chunks(500) {
        for s in subject::Entity::find()
            .filter(subject::Column::Id.is_in(chunk.iter().copied()))
            .filter(subject::Column::CountyId.eq(county_id))
            .all(conn)
            .await?
        {
            known.insert(s.id, s);
        }
    }
    Ok(missing)
}

pub fn scope_of(m: &subject::Model) -> Scope {
    Scope::new(m.county_id, m.township_id, m.village_id)
}

pub fn type_name(t: SubjectType) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn is_org_kind(t: SubjectType) -> Option<OrgKind> {
    match t {
        SubjectType::Township => Some(OrgKind::Township),
        SubjectType::Village => Some(OrgKind::Village),
        SubjectType::Department => Some(OrgKind::Department),
        _ => None,
    }
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<subject::Model>, ApiError> {
    Ok(subject::Entity::find_by_id(id).one(conn).await?)
}

load_for!(subject, authorize, "subject");

/// Resolved links of an individual: where it sits and who sent it.
struct Links {
    dispatched_by: Option<Uuid>,
    stationed_in: Option<Uuid>,
    township_id: Option<Uuid>,
    village_id: Option<Uuid>,
}

async fn resolve_links<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    subject_type: SubjectType,
    dispatched_by: Option<Uuid>,
    stationed_in: Option<Uuid>,
) -> Result<Links, ApiError> {
    let county_id = caller.county_id;
    let mut errors = Vec::new();
    // Technicians may carry the unit that sent them too (§8.5: its head is barred from honours
    // when they are recalled); only first secretaries and work teams feed its formula.
    let may_be_dispatched = subject_type.is_individual();
    if let Some(id) = dispatched_by {
        if !may_be_dispatched {
            errors.push(crate::error::FieldError::new(
                "dispatched_by",
                "subject.link_not_allowed",
                "only first secretaries, work teams and technicians are dispatched by a department",
            ));
        } else {
            match find(conn, id).await? {
                Some(d) if d.county_id == county_id && d.subject_type == SubjectType::Department && d.active => {}
                _ => errors.push(crate::error::FieldError::new(
                    "dispatched_by",
                    "subject.link_wrong_kind",
                    "dispatched_by must be an active department subject of this county",
                )),
            }
        }
    }
    let mut township_id = None;
    let mut village_id = None;
    if let Some(id) = stationed_in {
        match find(conn, id).await? {
            // A village outside the caller's scope is as unknown as one that does not exist.
            Some(v)
                if v.county_id == county_id
                    && v.subject_type == SubjectType::Village
                    && v.active
                    && caller.may(Action::Read, &scope_of(&v)) =>
            {
                township_id = v.township_id;
                village_id = Some(v.id);
            }
            _ => errors.push(crate::error::FieldError::new(
                "stationed_in",
                "subject.link_wrong_kind",
                "stationed_in must be an active village subject in your scope",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(Links {
        dispatched_by,
        stationed_in,
        township_id,
        village_id,
    })
}

/// Creates a subject. Townships, villages and departments are created as org units.
pub async fn create(tx: &WriteTx, caller: &Caller, new: NewSubject) -> Result<subject::Model, ApiError> {
    if let Some(kind) = is_org_kind(new.subject_type) {
        if new.dispatched_by.is_some() || new.stationed_in.is_some() {
            return Err(ApiError::invalid(
                if new.dispatched_by.is_some() {
                    "dispatched_by"
                } else {
                    "stationed_in"
                },
                "subject.link_not_allowed",
                "townships, villages and departments have no links",
            ));
        }
        let unit = org_units::create(
            tx,
            caller,
            NewOrgUnit {
                kind,
                name: new.name,
                parent_id: new.parent_id,
                code: new.external_code,
            },
        )
        .await?;
        return find(tx.conn(), unit.id)
            .await?
            .ok_or_else(|| ApiError::internal("subject of new org unit missing"));
    }
    if new.parent_id.is_some() {
        return Err(ApiError::invalid(
            "parent_id",
            "subject.parent_not_allowed",
            "parent_id is only for villages; use stationed_in",
        ));
    }
    let name = org_units::check_name("name", &new.name)?;
    let links = resolve_links(tx.conn(), caller, new.subject_type, new.dispatched_by, new.stationed_in).await?;
    let scope = Scope::new(caller.county_id, links.township_id, links.village_id);
    caller.require(Action::Manage, &scope, "subject")?;
    let at = now();
    let model = new_row!(subject, new_id(), caller.county_id, at, {
        subject_type: new.subject_type,
        name,
        org_unit_id: None,
        township_id: links.township_id,
        village_id: links.village_id,
        dispatched_by: links.dispatched_by,
        stationed_in: links.stationed_in,
        external_code: new.external_code.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()),
        active: true,
    });
    tx.insert_created("subject", model.id, &model, Subject::from).await?;
    Ok(model)
}

pub async fn update(tx: &WriteTx, caller: &Caller, edit: Edit<SubjectPatch>) -> Result<subject::Model, ApiError> {
    let Edit { id, patch, if_match } = edit;
    let current = load_for(tx.conn(), caller, Action::Manage, id).await?;
    super::check_version(if_match.or(patch.version), current.version)?;
    if current.org_unit_id.is_some() {
        // Org-unit subjects change through their org unit, so the two never disagree.
        let unit_patch = crate::api::org_units::OrgUnitPatch {
            name: patch.name,
            code: patch.external_code,
            active: patch.active,
            version: None,
        };
        let unit_version = org_units::find(tx.conn(), id)
            .await?
            .map(|u| u.version)
            .unwrap_or_default();
        let edit = Edit {
            id,
            patch: unit_patch,
            if_match: Some(unit_version),
        };
        let unit = org_units::update(tx, caller, edit).await?;
        if patch.dispatched_by.is_some() || patch.stationed_in.is_some() {
            return Err(ApiError::invalid(
                "stationed_in",
                "subject.link_not_allowed",
                "townships, villages and departments have no links",
            ));
        }
        return find(tx.conn(), unit.id)
            .await?
            .ok_or_else(|| ApiError::not_found("subject"));
    }
    let subject_type: SubjectType = current.subject_type;
    let dispatched_by = patch.dispatched_by.unwrap_or(current.dispatched_by);
    let stationed_in = patch.stationed_in.unwrap_or(current.stationed_in);
    let links = resolve_links(tx.conn(), caller, subject_type, dispatched_by, stationed_in).await?;
    // Moving a subject needs the right to manage it where it goes as well as where it was.
    caller.authorize(
        Action::Manage,
        &Scope::new(current.county_id, links.township_id, links.village_id),
        "subject",
    )?;
    let mut active = current.clone().into_active_model();
    if let Some(name) = &patch.name {
        active.name = Set(org_units::check_name("name", name)?);
    }
    if let Some(code) = &patch.external_code {
        active.external_code = Set(Some(code.trim().to_owned()).filter(|c| !c.is_empty()));
    }
    if let Some(flag) = patch.active {
        active.active = Set(flag);
    }
    active.dispatched_by = Set(links.dispatched_by);
    active.stationed_in = Set(links.stationed_in);
    active.township_id = Set(links.township_id);
    active.village_id = Set(links.village_id);
    let updated = tx
        .save("update", "subject", id, current, active, now(), Subject::from)
        .await?;
    Ok(updated)
}

list_rows!(list(SubjectFilter) -> subject, visible, equal {
    subject_type => SubjectType, township_id => TownshipId, village_id => VillageId, dispatched_by => DispatchedBy,
    active => Active,
});

pub async fn attributes<C: ConnectionTrait>(
    conn: &C,
    scheme_id: Uuid,
    subject_id: Uuid,
) -> Result<SubjectAttributes, ApiError> {
    let row = subject_attribute::Entity::find()
        .filter(subject_attribute::Column::SchemeId.eq(scheme_id))
        .filter(subject_attribute::Column::SubjectId.eq(subject_id))
        .one(conn)
        .await?;
    Ok(row
        .map(Into::into)
        .unwrap_or_else(|| SubjectAttributes::defaults(scheme_id, subject_id)))
}

/// Sets a subject's attributes for a scheme; the caller must manage the subject.
pub async fn set_attributes(
    tx: &WriteTx,
    caller: &Caller,
    subject: &subject::Model,
    scheme_id: Uuid,
    update: AttributesUpdate,
    if_match: Option<i32>,
) -> Result<SubjectAttributes, ApiError> {
    caller.authorize(Action::Manage, &scope_of(subject), "subject")?;
    let existing = subject_attribute::Entity::find()
        .filter(subject_attribute::Column::SchemeId.eq(scheme_id))
        .filter(subject_attribute::Column::SubjectId.eq(subject.id))
        .one(tx.conn())
        .await?;
    let current = existing
        .clone()
        .map(SubjectAttributes::from)
        .unwrap_or_else(|| SubjectAttributes::defaults(scheme_id, subject.id));
    // Attributes never set are the defaults: the first write needs no version (two first
    // writers cannot both insert), every later one does.
    let given = if_match.or(update.version);
    if given.is_some() || current.version > 0 {
        super::check_version(given, current.version)?;
    }
    check_applicable(subject, &update)?;
    let ranking_group = match update.ranking_group {
        Some(g) if g.trim().is_empty() => None,
        Some(g) => Some(org_units::check_name("ranking_group", &g)?),
        None => current.ranking_group.clone(),
    };
    let at = now();
    let model = subject_attribute::Model {
        id: existing.as_ref().map(|e| e.id).unwrap_or_else(new_id),
        county_id: subject.county_id,
        created_at: existing.as_ref().map(|e| e.created_at).unwrap_or(at),
        updated_at: at,
        version: current.version + 1,
        scheme_id,
        subject_id: subject.id,
        has_special_indicators: update.has_special_indicators.unwrap_or(current.has_special_indicators),
        ranking_group,
        annual_target_met: update.annual_target_met.unwrap_or(current.annual_target_met),
        recalled: update.recalled.unwrap_or(current.recalled),
        reserve_cadre: update.reserve_cadre.unwrap_or(current.reserve_cadre),
        vertically_managed: update.vertically_managed.unwrap_or(current.vertically_managed),
    };
    let active = model.clone().into_active_model();
    if existing.is_some() {
        active.reset_all().update(tx.conn()).await?;
    } else {
        subject_attribute::Entity::insert(active)
            .exec_without_returning(tx.conn())
            .await?;
    }
    let row_id = model.id;
    let after = SubjectAttributes::from(model);
    tx.audit(
        Change::updated("set_attributes", "subject", subject.id, &current, &after)
            .seal(super::seals::Seal::Row("subject_attribute", row_id)),
    )
    .await?;
    Ok(after)
}

/// `reserve_cadre` is for individuals and `vertically_managed` for departments: setting either
/// on another subject type is refused, naming the field.
fn check_applicable(subject: &subject::Model, update: &AttributesUpdate) -> Result<(), ApiError> {
    let individual = subject.subject_type.is_individual();
    let department = subject.subject_type == SubjectType::Department;
    let mut errors = Vec::new();
    if update.reserve_cadre == Some(true) && !individual {
        errors.push(crate::error::FieldError::new(
            "reserve_cadre",
            "attributes.not_applicable",
            "reserve_cadre (后备干部) is for first secretaries, work teams and technicians",
        ));
    }
    if update.vertically_managed == Some(true) && !department {
        errors.push(crate::error::FieldError::new(
            "vertically_managed",
            "attributes.not_applicable",
            "vertically_managed (属上级垂管) is for departments",
        ));
    }
    ApiError::unless_invalid(errors)
}

/// The subjects of a county whose row or attributes changed after `since`.
pub async fn changed_since<C: ConnectionTrait>(
    conn: &C,
    county_id: Uuid,
    since: DateTime<Utc>,
) -> Result<std::collections::HashSet<Uuid>, ApiError> {
    use subject::Column as S;
    use subject_attribute::Column as A;
    let rows =
        subject_ids_updated::<subject::Entity, _>(conn, S::Id, S::CountyId, S::UpdatedAt, county_id, since).await?;
    let attributes = subject_ids_updated::<subject_attribute::Entity, _>(
        conn,
        A::SubjectId,
        A::CountyId,
        A::UpdatedAt,
        county_id,
        since,
    )
    .await?;
    Ok(rows.into_iter().chain(attributes).collect())
}

/// The subject ids (column `subject_id`) of the rows of `E` in a county updated after `since`.
async fn subject_ids_updated<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    subject_id: E::Column,
    county: E::Column,
    updated_at: E::Column,
    county_id: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    use sea_orm::QuerySelect;
    E::find()
        .select_only()
        .column(subject_id)
        .filter(county.eq(county_id))
        .filter(updated_at.gt(since))
        .into_tuple()
        .all(conn)
        .await
}
