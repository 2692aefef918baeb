//! Appeals (申诉): the subject's own level contests a finding; an assessor upholds it (the finding
//! stays) or accepts it (the finding is revoked). A pending appeal changes no score.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::entities::appeal;
use super::{incidents, new_id, now, Change, WriteTx};
use crate::auth::policy::{Action, Scope};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::named::named_enum;
use crate::store::incidents::IncidentStatus;

named_enum! {
    /// Where an appeal stands.
    pub enum AppealStatus {
        /// Waiting for an assessor.
        Pending,
        /// The finding stays.
        Upheld,
        /// The finding was revoked.
        Accepted,
    }
}

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

impl From<appeal::Model> for Appeal {
    fn from(m: appeal::Model) -> Self {
        Self {
            id: m.id,
            county_id: m.county_id,
            incident_id: m.incident_id,
            subject_id: m.subject_id,
            reason: m.reason,
            status: m.status,
            filed_by: m.filed_by,
            filed_at: m.created_at,
            decided_by: m.decided_by,
            decided_at: m.decided_at,
            decision_note: m.decision_note,
            version: m.version,
            updated_at: m.updated_at,
        }
    }
}

fn scope_of(m: &appeal::Model) -> Scope {
    Scope::new(m.county_id, m.township_id, m.village_id)
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

fn check_text(field: &str, text: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 2000 {
        return Err(ApiError::invalid(
            field,
            "appeal.text_invalid",
            format!("{field} must be 1–2000 characters"),
        ));
    }
    Ok(text.to_owned())
}

/// Files an appeal against an active finding.
#[tracing::instrument(skip_all, fields(county = %caller.county_id, incident = %incident_id))]
pub async fn file(tx: &WriteTx, caller: &Caller, incident_id: Uuid, new: NewAppeal) -> Result<appeal::Model, ApiError> {
    let finding = incidents::load_for(tx.conn(), caller, Action::Appeal, incident_id).await?;
    let reason = check_text("reason", &new.reason)?;
    if finding.status != IncidentStatus::Active {
        return Err(ApiError::conflict(
            "appeal.incident_revoked",
            "the finding is already revoked",
        ));
    }
    let pending = appeal::Entity::find()
        .filter(appeal::Column::IncidentId.eq(incident_id))
        .filter(appeal::Column::Status.eq("pending"))
        .one(tx.conn())
        .await?;
    if pending.is_some() {
        return Err(ApiError::conflict(
            "appeal.already_pending",
            "this finding already has a pending appeal",
        ));
    }
    let at = now();
    let model = appeal::Model {
        id: new_id(),
        county_id: finding.county_id,
        created_at: at,
        updated_at: at,
        version: 1,
        incident_id,
        subject_id: finding.subject_id,
        township_id: finding.township_id,
        village_id: finding.village_id,
        reason,
        status: AppealStatus::Pending,
        filed_by: caller.id,
        decided_by: None,
        decided_at: None,
        decision_note: None,
    };
    appeal::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(tx.conn())
        .await?;
    tx.audit(Change::created("appeal", model.id, &Appeal::from(model.clone())))
        .await?;
    Ok(model)
}

pub async fn load_for<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    action: Action,
    id: Uuid,
) -> Result<appeal::Model, ApiError> {
    let row = appeal::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("appeal"))?;
    caller.authorize(action, &scope_of(&row), "appeal")?;
    Ok(row)
}

/// An assessor decides a pending appeal; accepting revokes the finding in the same transaction.
#[tracing::instrument(skip_all, fields(county = %caller.county_id, appeal = %id))]
pub async fn decide(
    tx: &WriteTx,
    caller: &Caller,
    id: Uuid,
    decision: AppealDecision,
) -> Result<appeal::Model, ApiError> {
    let current = load_for(tx.conn(), caller, Action::Record, id).await?;
    if current.status != AppealStatus::Pending {
        return Err(ApiError::conflict(
            "appeal.already_decided",
            "this appeal is already decided",
        ));
    }
    let note = decision.note.as_deref().map(|n| check_text("note", n)).transpose()?;
    let status = match decision.decision {
        Decision::Uphold => AppealStatus::Upheld,
        Decision::Accept => {
            let finding = incidents::find(tx.conn(), current.incident_id)
                .await?
                .ok_or_else(|| ApiError::not_found("incident"))?;
            let reason = format!("appeal accepted: {}", note.as_deref().unwrap_or(&current.reason));
            incidents::revoke_row(tx, caller.id, finding, &reason, "revoke_on_appeal").await?;
            AppealStatus::Accepted
        }
    };
    let at = now();
    let mut active = current.clone().into_active_model();
    active.status = Set(status);
    active.decided_by = Set(Some(caller.id));
    active.decided_at = Set(Some(at));
    active.decision_note = Set(note);
    active.version = Set(current.version + 1);
    active.updated_at = Set(at);
    let updated = active.update(tx.conn()).await?;
    tx.audit(Change::updated(
        "decide",
        "appeal",
        id,
        &Appeal::from(current),
        &Appeal::from(updated.clone()),
    ))
    .await?;
    Ok(updated)
}

/// Filters of `GET /api/v1/appeals`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppealFilter {
    pub incident_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub status: Option<AppealStatus>,
}

pub async fn list<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    filter: &AppealFilter,
    page: &super::page::PageRequest,
) -> Result<Vec<appeal::Model>, ApiError> {
    let mut select = appeal::Entity::find().filter(caller.visible(appeal::Entity));
    if let Some(v) = filter.incident_id {
        select = select.filter(appeal::Column::IncidentId.eq(v));
    }
    if let Some(v) = filter.subject_id {
        select = select.filter(appeal::Column::SubjectId.eq(v));
    }
    if let Some(v) = filter.status {
        select = select.filter(appeal::Column::Status.eq(v));
    }
    Ok(super::page::paginate(select, page).all(conn).await?)
}
