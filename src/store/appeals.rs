//! Appeals (申诉): the subject's own level contests a finding; an assessor upholds it (the finding
//! stays) or accepts it (the finding is revoked). A pending appeal changes no score.

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use uuid::Uuid;

use super::entities::appeal;
use super::load_for;
use super::new_row;
use super::page::list_rows;
use super::{incidents, new_id, now, WriteTx};
use crate::api::incidents::{Appeal, AppealDecision, AppealFilter, Decision, NewAppeal};
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

fn scope_of(m: &appeal::Model) -> Scope {
    Scope::new(m.county_id, m.township_id, m.village_id)
}

fn check_text(field: &str, text: &str) -> Result<String, ApiError> {
    let too_long = text.chars().count() > 2000;
    let text = text.trim();
    if text.is_empty() || too_long {
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
    let model = new_row!(appeal, new_id(), finding.county_id, at, {
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
    });
    tx.insert_created("appeal", model.id, &model, Appeal::from).await?;
    Ok(model)
}

load_for!(appeal, authorize, "appeal");

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
    let updated = tx
        .save("decide", "appeal", id, current, active, at, Appeal::from)
        .await?;
    Ok(updated)
}

list_rows!(list(AppealFilter) -> appeal, visible, equal {
    incident_id => IncidentId, subject_id => SubjectId, status => Status,
});
