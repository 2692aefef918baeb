//! Schemes (one year's assessment set-up in a county or a town) and their versioned rubrics.
//!
//! A scheme's definition is stored whole, except that each subject type's rubric lives in its own
//! versioned row: a version that a finding or scoresheet has used is immutable, and editing it
//! creates the next version, which becomes current.

use std::collections::BTreeMap;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use super::entities::{evaluation, org_unit, rubric, scheme};
use super::load_for;
use super::new_row;
use super::org_units::OrgKind;
use super::page::list_rows;
use super::{find_or_404, new_id, now, Change, Edit, WriteTx};
use crate::api::schemes::{
    NewScheme, RubricFilter, RubricVersion, RubricVersionRef, Scheme, SchemeFilter, SchemePatch,
};
use crate::auth::policy::{Action, Scope};
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::scoring::{EvaluationKind, Rubric, SchemeDefinition, SubjectType};
use crate::store::evaluations::EvaluationStatus;

pub fn scope_of(m: &scheme::Model) -> Scope {
    Scope::new(m.county_id, m.township_id, None)
}

/// A problem list from the engine's validation, as field errors under `prefix`.
pub fn issues_to_errors(prefix: &str, issues: Vec<crate::schemes::ValidationProblem>) -> ApiError {
    ApiError::validation(
        issues
            .into_iter()
            .map(|i| FieldError::new(format!("{prefix}{}", i.path), i.code, i.message))
            .collect(),
    )
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<scheme::Model>, ApiError> {
    Ok(scheme::Entity::find_by_id(id).one(conn).await?)
}

load_for!(
    /// Loads a scheme the caller may act on (schemes are shared down the tree).
    scheme,
    authorize_shared,
    "scheme"
);

/// The current rubric rows of a scheme.
pub async fn current_rubrics<C: ConnectionTrait>(conn: &C, scheme_id: Uuid) -> Result<Vec<rubric::Model>, ApiError> {
    Ok(rubric::Entity::find()
        .filter(rubric::Column::SchemeId.eq(scheme_id))
        .filter(rubric::Column::Current.eq(true))
        .order_by_asc(rubric::Column::SubjectType)
        .all(conn)
        .await?)
}

/// The scheme's definition with its current rubrics in place.
pub async fn definition<C: ConnectionTrait>(
    conn: &C,
    row: &scheme::Model,
) -> Result<(SchemeDefinition, Vec<rubric::Model>), ApiError> {
    let mut definition: SchemeDefinition = serde_json::from_str(&row.definition)?;
    let rubrics = current_rubrics(conn, row.id).await?;
    for r in &rubrics {
        if let Some(config) = definition.subject_types.get_mut(&r.subject_type) {
            config.rubric = serde_json::from_str(&r.definition)?;
        }
    }
    Ok((definition, rubrics))
}

pub async fn to_api<C: ConnectionTrait>(conn: &C, row: scheme::Model) -> Result<Scheme, ApiError> {
    let (definition, rubrics) = definition(conn, &row).await?;
    Ok(Scheme {
        id: row.id,
        county_id: row.county_id,
        org_unit_id: row.org_unit_id,
        township_id: row.township_id,
        key: row.key,
        title: row.title,
        year: row.year,
        built_in: row.built_in,
        active: row.active,
        rubrics: rubrics
            .into_iter()
            .map(|r| RubricVersionRef {
                subject_type: r.subject_type,
                rubric_id: r.id,
                version_no: r.version_no,
            })
            .collect(),
        definition,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Instantiates a scheme for a year in the caller's county (or one town), with its rubrics
/// (version 1) and the evaluations its templates describe.
#[tracing::instrument(skip_all, fields(county = %caller.county_id, year = new.year))]
pub async fn create(tx: &WriteTx, caller: &Caller, new: NewScheme) -> Result<scheme::Model, ApiError> {
    let definition = definition_of(new.built_in.as_deref(), new.definition)?;
    let problems = crate::schemes::validate_scheme(&definition);
    if !problems.is_empty() {
        return Err(issues_to_errors("definition.", problems));
    }
    if !(2000..=2100).contains(&new.year) {
        return Err(ApiError::invalid(
            "year",
            "scheme.year_out_of_range",
            "year must be between 2000 and 2100",
        ));
    }
    let (org_unit_id, township_id) = set_up_in(tx, caller, new.org_unit_id).await?;
    // Schemes are the county's rules: only county admins set them up, for the county or a town.
    caller.require(Action::Manage, &Scope::county(caller.county_id), "scheme")?;
    let title = match new.title {
        Some(t) => super::org_units::check_name("title", &t)?,
        None => definition.title.clone(),
    };
    let duplicate = scheme::Entity::find()
        .filter(scheme::Column::CountyId.eq(caller.county_id))
        .filter(scheme::Column::OrgUnitId.eq(org_unit_id))
        .filter(scheme::Column::Key.eq(definition.key.clone()))
        .filter(scheme::Column::Year.eq(new.year))
        .one(tx.conn())
        .await?;
    if duplicate.is_some() {
        return Err(ApiError::conflict(
            "scheme.duplicate",
            format!(
                "scheme {} already exists for {} in this org unit",
                definition.key, new.year
            ),
        )
        .arg("key", &definition.key)
        .arg("year", new.year));
    }
    let at = now();
    let id = new_id();
    let model = new_row!(scheme, id, caller.county_id, at, {
        org_unit_id,
        township_id,
        key: definition.key.clone(),
        title,
        year: new.year,
        built_in: new.built_in.clone(),
        definition: serde_json::to_string(&definition)?,
        active: true,
    });
    tx.insert(model.clone()).await?;
    insert_first_rubrics(tx, &model, &definition).await?;
    let evaluations = open_evaluations(tx, &model, &definition).await?;
    let api = to_api(tx.conn(), model.clone()).await?;
    let change = evaluations
        .into_iter()
        .fold(Change::created("scheme", id, &api), Change::seal);
    tx.audit(change).await?;
    Ok(model)
}

/// The definition a new scheme is made from: a built-in scheme or one given in full.
fn definition_of(built_in: Option<&str>, definition: Option<SchemeDefinition>) -> Result<SchemeDefinition, ApiError> {
    match (built_in, definition) {
        (Some(key), None) => crate::schemes::built_in_by_key(key)
            .map_err(ApiError::internal)?
            .ok_or_else(|| {
                ApiError::invalid(
                    "built_in",
                    "scheme.built_in_unknown",
                    format!("no built-in scheme {key}"),
                )
                .arg("value", key)
            }),
        (None, Some(definition)) => Ok(definition),
        _ => Err(ApiError::invalid(
            "built_in",
            "scheme.source_required",
            "give exactly one of built_in and definition",
        )),
    }
}

/// The org unit a new scheme is set up in and its town: the caller's county by default, or the
/// county or one of its townships by id.
async fn set_up_in(tx: &WriteTx, caller: &Caller, org_unit_id: Option<Uuid>) -> Result<(Uuid, Option<Uuid>), ApiError> {
    let Some(id) = org_unit_id else {
        return Ok((caller.county_id, None));
    };
    // A town outside the caller's scope is as unknown as one that does not exist.
    let unit: Option<org_unit::Model> = super::org_units::find(tx.conn(), id)
        .await?
        .filter(|u| caller.may(Action::Read, &super::org_units::scope_of(u)));
    match unit {
        Some(u) if u.county_id == caller.county_id && u.kind == OrgKind::County => Ok((u.id, None)),
        Some(u) if u.county_id == caller.county_id && u.kind == OrgKind::Township => Ok((u.id, Some(u.id))),
        _ => Err(ApiError::invalid(
            "org_unit_id",
            "scheme.org_unit_invalid",
            "org_unit_id must be your county or one of its townships",
        )),
    }
}

/// Version 1 of each subject type's rubric, current and unused.
async fn insert_first_rubrics(
    tx: &WriteTx,
    scheme_row: &scheme::Model,
    definition: &SchemeDefinition,
) -> Result<(), ApiError> {
    let at = scheme_row.created_at;
    for (subject_type, config) in &definition.subject_types {
        let row = new_row!(rubric, new_id(), scheme_row.county_id, at, {
            scheme_id: scheme_row.id,
            subject_type: *subject_type,
            version_no: 1,
            current: true,
            used: false,
            definition: serde_json::to_string(&config.rubric)?,
        });
        tx.insert(row).await?;
    }
    Ok(())
}

/// The open evaluations the scheme's templates describe for its year (monthly standings need
/// none); the seals of their rows, for the scheme's audit event.
async fn open_evaluations(
    tx: &WriteTx,
    scheme_row: &scheme::Model,
    definition: &SchemeDefinition,
) -> Result<Vec<super::seals::Seal>, ApiError> {
    let at = scheme_row.created_at;
    let year = scheme_row.year;
    let mut evaluations = Vec::new();
    for template in &definition.evaluations {
        if template.kind == EvaluationKind::Monthly {
            continue;
        }
        let window = template.window_period().window(year).ok_or_else(|| {
            ApiError::invalid(
                "year",
                "scheme.window_invalid",
                format!("evaluation {} has no window in {}", template.key, year),
            )
            .arg("evaluation", &template.key)
            .arg("year", year)
        })?;
        let row = new_row!(evaluation, new_id(), scheme_row.county_id, at, {
            scheme_id: scheme_row.id,
            org_unit_id: scheme_row.org_unit_id,
            township_id: scheme_row.township_id,
            kind: template.kind,
            key: template.key.clone(),
            title: template.title.clone(),
            window_from: window.from,
            window_to: window.to,
            status: EvaluationStatus::Open,
            closed_at: None,
        });
        evaluations.push(super::seals::Seal::Row("evaluation", row.id));
        tx.insert(row).await?;
    }
    Ok(evaluations)
}

#[tracing::instrument(skip_all, fields(county = %caller.county_id, scheme = %edit.id))]
pub async fn update(tx: &WriteTx, caller: &Caller, edit: Edit<SchemePatch>) -> Result<scheme::Model, ApiError> {
    let Edit { id, patch, if_match } = edit;
    let current = load_for(tx.conn(), caller, Action::ReadShared, id).await?;
    caller.authorize_shared(Action::Manage, &Scope::county(current.county_id), "scheme")?;
    super::check_version(if_match.or(patch.version), current.version)?;
    let mut active = current.clone().into_active_model();
    if let Some(title) = &patch.title {
        active.title = Set(super::org_units::check_name("title", title)?);
    }
    if let Some(flag) = patch.active {
        active.active = Set(flag);
    }
    let summary = |m: scheme::Model| serde_json::json!({"title": m.title, "active": m.active, "version": m.version});
    tx.save("update", "scheme", id, current, active, now(), summary).await
}

list_rows!(list(SchemeFilter) -> scheme, visible_shared, equal {
    year => Year, key => Key, org_unit_id => OrgUnitId, active => Active,
});

/// Loads a rubric version the caller may read (through its scheme).
pub async fn load_rubric<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    id: Uuid,
) -> Result<(rubric::Model, scheme::Model), ApiError> {
    let row = find_or_404::<rubric::Entity, _>(conn, id, "rubric").await?;
    let scheme = find(conn, row.scheme_id)
        .await?
        .ok_or_else(|| ApiError::not_found("rubric"))?;
    caller.authorize_shared(Action::ReadShared, &scope_of(&scheme), "rubric")?;
    Ok((row, scheme))
}

pub fn rubric_to_api(row: rubric::Model) -> Result<RubricVersion, ApiError> {
    RubricVersion::from_row(row)
}

pub async fn list_rubrics<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    filter: &RubricFilter,
) -> Result<Vec<rubric::Model>, ApiError> {
    load_for(conn, caller, Action::ReadShared, filter.scheme_id).await?;
    let mut select = rubric::Entity::find().filter(rubric::Column::SchemeId.eq(filter.scheme_id));
    if let Some(t) = filter.subject_type {
        select = select.filter(rubric::Column::SubjectType.eq(t.as_str()));
    }
    if let Some(c) = filter.current {
        select = select.filter(rubric::Column::Current.eq(c));
    }
    Ok(select
        .order_by_asc(rubric::Column::SubjectType)
        .order_by_asc(rubric::Column::VersionNo)
        .all(conn)
        .await?)
}

/// Replaces a rubric: in place while no finding or scoresheet used it, else as the next version.
/// Answers the stored version and whether it is new.
#[tracing::instrument(skip_all, fields(county = %caller.county_id, rubric = %id))]
pub async fn edit_rubric(
    tx: &WriteTx,
    caller: &Caller,
    id: Uuid,
    new_rubric: Rubric,
) -> Result<(rubric::Model, bool), ApiError> {
    let (row, scheme) = load_rubric(tx.conn(), caller, id).await?;
    caller.authorize_shared(Action::Manage, &Scope::county(scheme.county_id), "rubric")?;
    if !row.current {
        return Err(ApiError::conflict(
            "rubric.not_current",
            "only the current version of a rubric can be edited; edit the newest version",
        ));
    }
    let subject_type: SubjectType = row.subject_type;
    if new_rubric.subject_type != subject_type {
        return Err(ApiError::invalid(
            "subject_type",
            "rubric.subject_type_changed",
            "a rubric keeps its subject type",
        ));
    }
    // The whole scheme must stay valid with the new rubric (formulas and derived sections refer to it).
    let (mut definition, _) = definition(tx.conn(), &scheme).await?;
    if let Some(config) = definition.subject_types.get_mut(&subject_type) {
        config.rubric = new_rubric.clone();
    }
    let problems = crate::schemes::validate_scheme(&definition);
    if !problems.is_empty() {
        return Err(issues_to_errors("", problems));
    }
    let text = serde_json::to_string(&new_rubric)?;
    let before = RubricVersion::from_row(row.clone())?;
    let at = now();
    if !row.used {
        let mut active = row.clone().into_active_model();
        active.definition = Set(text);
        active.version = Set(row.version + 1);
        active.updated_at = Set(at);
        let updated = active.update(tx.conn()).await?;
        tx.audit(Change::updated(
            "update",
            "rubric",
            id,
            &before,
            &RubricVersion::from_row(updated.clone())?,
        ))
        .await?;
        return Ok((updated, false));
    }
    let mut old = row.clone().into_active_model();
    old.current = Set(false);
    old.version = Set(row.version + 1);
    old.updated_at = Set(at);
    old.update(tx.conn()).await?;
    let next = new_row!(rubric, new_id(), row.county_id, at, {
        scheme_id: row.scheme_id,
        subject_type: row.subject_type,
        version_no: row.version_no + 1,
        current: true,
        used: false,
        definition: text,
    });
    tx.insert(next.clone()).await?;
    tx.audit(Change::created("rubric", next.id, &RubricVersion::from_row(next.clone())?).before(&before))
        .await?;
    Ok((next, true))
}

/// Marks a rubric version used (a finding or scoresheet now refers to it).
pub async fn mark_used<C: ConnectionTrait>(conn: &C, rubric_id: Uuid) -> Result<(), ApiError> {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    let mut update = Query::update();
    update
        .table(rubric::Entity)
        .value(rubric::Column::Used, true)
        .and_where(Expr::col(rubric::Column::Id).eq(rubric_id))
        .and_where(Expr::col(rubric::Column::Used).eq(false));
    conn.execute(&update).await?;
    Ok(())
}

/// A scheme with its definition, ready for validating inputs and scoring.
#[derive(Debug, Clone)]
pub struct LoadedScheme {
    pub row: scheme::Model,
    pub definition: SchemeDefinition,
    /// Current rubric id per subject type.
    pub rubric_ids: BTreeMap<SubjectType, Uuid>,
}

pub async fn load_definition<C: ConnectionTrait>(conn: &C, row: scheme::Model) -> Result<LoadedScheme, ApiError> {
    let (definition, rubrics) = definition(conn, &row).await?;
    let rubric_ids = rubrics.iter().map(|r| (r.subject_type, r.id)).collect();
    Ok(LoadedScheme {
        row,
        definition,
        rubric_ids,
    })
}
