//! Subjects: who is assessed. Townships, villages and departments are their org unit (same id);
//! first secretaries, work teams and agricultural technicians are subjects of their own, linked
//! to the department that sent them and the village they serve in (§3).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::entities::{subject, subject_attribute};
use super::org_units::{self, NewOrgUnit, OrgKind};
use super::{new_id, now, Change, WriteTx};
use crate::auth::policy::{Action, Scope};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::scoring::SubjectType;

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

impl From<subject::Model> for Subject {
    fn from(m: subject::Model) -> Self {
        Self {
            id: m.id,
            county_id: m.county_id,
            subject_type: m.subject_type,
            name: m.name,
            org_unit_id: m.org_unit_id,
            township_id: m.township_id,
            village_id: m.village_id,
            dispatched_by: m.dispatched_by,
            stationed_in: m.stationed_in,
            external_code: m.external_code,
            active: m.active,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
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

/// Distinguishes an absent field (None) from an explicit null (Some(None)).
fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<subject::Model>, ApiError> {
    Ok(subject::Entity::find_by_id(id).one(conn).await?)
}

pub async fn load_for<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    action: Action,
    id: Uuid,
) -> Result<subject::Model, ApiError> {
    let row = find(conn, id).await?.ok_or_else(|| ApiError::not_found("subject"))?;
    caller.authorize(action, &scope_of(&row), "subject")?;
    Ok(row)
}

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
    let model = subject::Model {
        id: new_id(),
        county_id: caller.county_id,
        created_at: at,
        updated_at: at,
        version: 1,
        subject_type: new.subject_type,
        name,
        org_unit_id: None,
        township_id: links.township_id,
        village_id: links.village_id,
        dispatched_by: links.dispatched_by,
        stationed_in: links.stationed_in,
        external_code: new.external_code.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()),
        active: true,
    };
    subject::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(tx.conn())
        .await?;
    tx.audit(Change::created("subject", model.id, &Subject::from(model.clone())))
        .await?;
    Ok(model)
}

pub async fn update(
    tx: &WriteTx,
    caller: &Caller,
    id: Uuid,
    patch: SubjectPatch,
    if_match: Option<i32>,
) -> Result<subject::Model, ApiError> {
    let current = load_for(tx.conn(), caller, Action::Manage, id).await?;
    super::check_version(if_match.or(patch.version), current.version)?;
    if current.org_unit_id.is_some() {
        // Org-unit subjects change through their org unit, so the two never disagree.
        let unit = org_units::update(
            tx,
            caller,
            id,
            org_units::OrgUnitPatch {
                name: patch.name,
                code: patch.external_code,
                active: patch.active,
                version: None,
            },
            Some(
                org_units::find(tx.conn(), id)
                    .await?
                    .map(|u| u.version)
                    .unwrap_or_default(),
            ),
        )
        .await?;
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
    active.version = Set(current.version + 1);
    active.updated_at = Set(now());
    let updated = active.update(tx.conn()).await?;
    tx.audit(Change::updated(
        "update",
        "subject",
        id,
        &Subject::from(current),
        &Subject::from(updated.clone()),
    ))
    .await?;
    Ok(updated)
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

pub async fn list<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    filter: &SubjectFilter,
    page: &super::page::PageRequest,
) -> Result<Vec<subject::Model>, ApiError> {
    let mut select = subject::Entity::find().filter(caller.visible(subject::Entity));
    if let Some(t) = filter.subject_type {
        select = select.filter(subject::Column::SubjectType.eq(t));
    }
    if let Some(t) = filter.township_id {
        select = select.filter(subject::Column::TownshipId.eq(t));
    }
    if let Some(v) = filter.village_id {
        select = select.filter(subject::Column::VillageId.eq(v));
    }
    if let Some(d) = filter.dispatched_by {
        select = select.filter(subject::Column::DispatchedBy.eq(d));
    }
    if let Some(a) = filter.active {
        select = select.filter(subject::Column::Active.eq(a));
    }
    Ok(super::page::paginate(select, page).all(conn).await?)
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
    pub fn defaults(scheme_id: Uuid, subject_id: Uuid) -> Self {
        Self {
            scheme_id,
            subject_id,
            has_special_indicators: true,
            ranking_group: None,
            annual_target_met: true,
            recalled: false,
            reserve_cadre: false,
            vertically_managed: false,
            version: 0,
        }
    }
}

impl From<subject_attribute::Model> for SubjectAttributes {
    fn from(m: subject_attribute::Model) -> Self {
        Self {
            scheme_id: m.scheme_id,
            subject_id: m.subject_id,
            has_special_indicators: m.has_special_indicators,
            ranking_group: m.ranking_group,
            annual_target_met: m.annual_target_met,
            recalled: m.recalled,
            reserve_cadre: m.reserve_cadre,
            vertically_managed: m.vertically_managed,
            version: m.version,
        }
    }
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
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// The subjects of a county whose row or attributes changed after `since`.
pub async fn changed_since<C: ConnectionTrait>(
    conn: &C,
    county_id: Uuid,
    since: DateTime<Utc>,
) -> Result<std::collections::HashSet<Uuid>, ApiError> {
    use sea_orm::QuerySelect;
    let rows: Vec<Uuid> = subject::Entity::find()
        .select_only()
        .column(subject::Column::Id)
        .filter(subject::Column::CountyId.eq(county_id))
        .filter(subject::Column::UpdatedAt.gt(since))
        .into_tuple()
        .all(conn)
        .await?;
    let attributes: Vec<Uuid> = subject_attribute::Entity::find()
        .select_only()
        .column(subject_attribute::Column::SubjectId)
        .filter(subject_attribute::Column::CountyId.eq(county_id))
        .filter(subject_attribute::Column::UpdatedAt.gt(since))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().chain(attributes).collect())
}
