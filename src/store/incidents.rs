//! Incidents (findings): deductions, bonuses, measurements, amounts, adjustments and vetoes
//! recorded against subjects, validated against the subject's rubric (§6). Never deleted: revoked
//! with a reason. One [`Validator`] serves single writes and bulk uploads alike.

use std::collections::{HashMap, HashSet};

use chrono::Datelike;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::entities::{incident, scheme, subject};
use super::load_for;
use super::new_row;
use super::page::list_rows;
use super::schemes::LoadedScheme;
use super::{name_of, new_id, now, WriteTx};
pub use crate::api::incidents::NewIncident;
use crate::api::incidents::{Incident, IncidentFilter};
use crate::auth::policy::{Action, Scope};
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::named::named_enum;
use crate::scoring::admission::{admit_finding, FindingDraft, FindingRules, Refusal, Violation};
use crate::scoring::{Quarter, SubjectType};

pub use crate::scoring::admission::IncidentKind;

named_enum! {
    /// Where a finding came from.
    #[derive(Default)]
    pub enum Source {
        /// 日常督查.
        #[default]
        DailyInspection,
        /// 专项督查.
        SpecialInspection,
        /// 上级反馈.
        HigherFeedback,
        /// 电话抽查.
        PhoneSampling,
        /// 系统分析.
        SystemAnalysis,
        Other,
    }
}

named_enum! {
    /// `active`, or `revoked` (kept in the history, ignored by scoring from its revocation on).
    pub enum IncidentStatus {
        Active,
        Revoked,
    }
}

pub fn scope_of(m: &incident::Model) -> Scope {
    Scope::new(m.county_id, m.township_id, m.village_id)
}

/// Checks new incidents against rubrics and scope. Built once per request (single or bulk).
pub struct Validator {
    schemes: Vec<LoadedScheme>,
    subjects: HashMap<Uuid, subject::Model>,
    /// Active measurements already stored: (scheme, subject, item, period).
    measured: HashSet<(Uuid, Uuid, String, String)>,
}

impl Validator {
    /// Loads what validating `rows` needs: the subjects they name, the county's active schemes,
    /// and the periods already measured for those subjects.
    pub async fn prepare<C: ConnectionTrait>(
        conn: &C,
        caller: &Caller,
        rows: &[NewIncident],
    ) -> Result<Self, ApiError> {
        let mut validator = Self::new(conn, caller).await?;
        let ids: HashSet<Uuid> = rows.iter().map(|r| r.subject_id).collect();
        validator.load_subjects(conn, caller, &ids).await?;
        Ok(validator)
    }

    /// A validator knowing the county's active schemes and no subjects yet.
    pub async fn new<C: ConnectionTrait>(conn: &C, caller: &Caller) -> Result<Self, ApiError> {
        let mut schemes = Vec::new();
        for row in scheme::Entity::find()
            .filter(scheme::Column::CountyId.eq(caller.county_id))
            .filter(scheme::Column::Active.eq(true))
            .all(conn)
            .await?
        {
            schemes.push(super::schemes::load_definition(conn, row).await?);
        }
        Ok(Self {
            schemes,
            subjects: HashMap::new(),
            measured: HashSet::new(),
        })
    }

    /// Loads the subjects (and their measured periods) not loaded yet; bulk uploads call this
    /// batch by batch.
    pub async fn load_subjects<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        caller: &Caller,
        ids: &HashSet<Uuid>,
    ) -> Result<(), ApiError> {
        let missing = super::subjects::load_missing(conn, caller.county_id, ids, &mut self.subjects).await?;
        for chunk in missing.chunks(500) {
            let found: Vec<(Uuid, Uuid, Option<String>, Option<String>)> = incident::Entity::find()
                .select_only()
                .columns([
                    incident::Column::SchemeId,
                    incident::Column::SubjectId,
                    incident::Column::ItemCode,
                    incident::Column::Period,
                ])
                .filter(incident::Column::SubjectId.is_in(chunk.iter().copied()))
                .filter(incident::Column::Kind.eq("measurement"))
                .filter(incident::Column::Status.eq("active"))
                .into_tuple()
                .all(conn)
                .await?;
            for (scheme_id, subject_id, item, period) in found {
                self.measured.insert((
                    scheme_id,
                    subject_id,
                    item.unwrap_or_default(),
                    period.unwrap_or_default(),
                ));
            }
        }
        Ok(())
    }

    /// Validates one row: the subject in scope and active, its scheme, then admission against
    /// the scheme's rules. Errors name fields; the first error decides single-write statuses.
    pub fn check(&mut self, caller: &Caller, new: &NewIncident) -> Result<incident::Model, RowError> {
        let unknown_subject = || {
            RowError::Invalid(vec![FieldError::new(
                "subject_id",
                "incident.subject_unknown",
                "subject_id is not a subject in your scope",
            )])
        };
        let subject = self.subjects.get(&new.subject_id).ok_or_else(unknown_subject)?;
        let scope = super::subjects::scope_of(subject);
        if !caller.may(Action::Read, &scope) {
            return Err(unknown_subject());
        }
        if !caller.may(Action::Record, &scope) {
            return Err(RowError::Forbidden);
        }
        if !subject.active {
            return Err(RowError::Invalid(vec![FieldError::new(
                "subject_id",
                "incident.subject_inactive",
                "the subject is deactivated",
            )]));
        }
        let subject_type: SubjectType = subject.subject_type;
        let scheme = self.scheme_for(new, subject, subject_type)?;
        let rubric_id = *scheme.rubric_ids.get(&subject_type).ok_or(RowError::Internal)?;
        let config = scheme
            .definition
            .subject_types
            .get(&subject_type)
            .ok_or(RowError::Internal)?;
        let rules = FindingRules {
            rubric: &config.rubric,
            subject_type,
            year: scheme.row.year,
        };
        let scheme_id = scheme.row.id;
        let measured = |item: &str, quarter: Quarter| {
            self.measured
                .contains(&(scheme_id, subject.id, item.to_owned(), name_of(quarter)))
        };
        let admitted = admit_finding(&rules, &draft_of(new), &measured).map_err(RowError::from)?;
        let at = now();
        let model = new_row!(incident, new_id(), subject.county_id, at, {
            scheme_id,
            rubric_id,
            subject_id: subject.id,
            township_id: subject.township_id,
            village_id: subject.village_id,
            kind: admitted.kind,
            item_code: new.item_code.clone(),
            rule_code: new.rule_code.clone(),
            occurred_on: new.occurred_on,
            quantity: admitted.quantity,
            period: admitted.period.map(name_of),
            rate: admitted.rate.map(Into::into),
            sampled: new.sampled,
            correct: new.correct,
            amount: admitted.amount.map(Into::into),
            points: admitted.points.map(Into::into),
            event_key: admitted.event_key,
            source: new.source.unwrap_or_default(),
            note: admitted.note,
            evidence: serde_json::to_string(&new.evidence.iter().map(|e| e.trim()).collect::<Vec<_>>())
                .unwrap_or_else(|_| "[]".into()),
            recorded_by: caller.id,
            upload_id: None,
            status: IncidentStatus::Active,
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
        });
        if let (IncidentKind::Measurement, Some(q), Some(code)) =
            (admitted.kind, admitted.period, new.item_code.as_deref())
        {
            self.measured
                .insert((model.scheme_id, model.subject_id, code.to_owned(), name_of(q)));
        }
        Ok(model)
    }

    /// The scheme a finding belongs to: the one named, or the only active one of that year that
    /// covers the subject.
    fn scheme_for(
        &self,
        new: &NewIncident,
        subject: &subject::Model,
        subject_type: SubjectType,
    ) -> Result<&LoadedScheme, RowError> {
        let covers = |s: &&LoadedScheme| {
            s.definition.subject_types.contains_key(&subject_type)
                && (s.row.township_id.is_none() || s.row.township_id == subject.township_id)
        };
        match new.scheme_id {
            Some(id) => self
                .schemes
                .iter()
                .find(|s| s.row.id == id)
                .filter(covers)
                .ok_or_else(|| {
                    RowError::Invalid(vec![FieldError::new(
                        "scheme_id",
                        "incident.scheme_unknown",
                        "scheme_id is not an active scheme of your county that covers this subject",
                    )])
                }),
            None => {
                let candidates: Vec<&LoadedScheme> = self
                    .schemes
                    .iter()
                    .filter(covers)
                    .filter(|s| s.row.year == new.occurred_on.year())
                    .collect();
                match candidates.as_slice() {
                    [one] => Ok(one),
                    [] => {
                        let mut years: Vec<i32> = self.schemes.iter().filter(covers).map(|s| s.row.year).collect();
                        years.sort_unstable();
                        years.dedup();
                        Err(RowError::Invalid(vec![if years.is_empty() {
                            FieldError::new(
                                "scheme_id",
                                "incident.scheme_missing",
                                "no active scheme covers this subject",
                            )
                        } else {
                            FieldError::new(
                                "occurred_on",
                                "incident.date_outside_year",
                                format!(
                                    "occurred_on {} is outside the years of the subject's schemes ({})",
                                    new.occurred_on,
                                    years.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
                                ),
                            )
                            .arg("value", new.occurred_on)
                            .arg("year", years.iter().map(i32::to_string).collect::<Vec<_>>().join("、"))
                        }]))
                    }
                    _ => Err(RowError::Invalid(vec![FieldError::new(
                        "scheme_id",
                        "incident.scheme_ambiguous",
                        "several schemes cover this subject that year: name one in scheme_id",
                    )])),
                }
            }
        }
    }
}

/// Why a row cannot be written.
#[derive(Debug)]
pub enum RowError {
    Invalid(Vec<FieldError>),
    Conflict(FieldError),
    Forbidden,
    Internal,
}

impl RowError {
    /// The answer to a single write.
    pub fn into_api(self) -> ApiError {
        match self {
            RowError::Invalid(errors) => ApiError::validation(errors),
            RowError::Conflict(error) => ApiError::conflict(error.code.clone(), error.message).with_args(error.args),
            RowError::Forbidden => {
                ApiError::forbidden("your role may not record findings, scoresheets or ballots for this subject")
            }
            RowError::Internal => ApiError::internal("inconsistent scheme data"),
        }
    }

    /// The field errors of a bulk row.
    pub fn into_fields(self, row: usize) -> Vec<FieldError> {
        let errors = match self {
            RowError::Invalid(errors) => errors,
            RowError::Conflict(error) => vec![error],
            RowError::Forbidden => vec![FieldError::new(
                "subject_id",
                "auth.forbidden",
                "your role may not record findings, scoresheets or ballots for this subject",
            )],
            RowError::Internal => vec![FieldError::new("", "internal", "inconsistent scheme data")],
        };
        errors.into_iter().map(|e| e.at_row(row)).collect()
    }
}

/// The draft admission reads from a request row.
pub fn draft_of(new: &NewIncident) -> FindingDraft<'_> {
    FindingDraft {
        kind: new.kind,
        item_code: new.item_code.as_deref(),
        rule_code: new.rule_code.as_deref(),
        occurred_on: new.occurred_on,
        quantity: new.quantity,
        period: new.period,
        rate: new.rate,
        sampled: new.sampled,
        correct: new.correct,
        amount: new.amount,
        points: new.points,
        event_key: new.event_key.as_deref(),
        note: new.note.as_deref(),
        evidence: &new.evidence,
    }
}

impl From<Violation> for FieldError {
    fn from(v: Violation) -> Self {
        FieldError {
            args: v.args,
            ..FieldError::new(v.field, v.code, v.message)
        }
    }
}

impl From<Refusal> for RowError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid(violations) => RowError::Invalid(violations.into_iter().map(FieldError::from).collect()),
            Refusal::Conflict(violation) => RowError::Conflict(violation.into()),
        }
    }
}

/// Inserts admitted findings.
pub async fn insert_many<C: ConnectionTrait>(conn: &C, models: Vec<incident::Model>) -> Result<(), ApiError> {
    if models.is_empty() {
        return Ok(());
    }
    incident::Entity::insert_many(models.into_iter().map(IntoActiveModel::into_active_model))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<incident::Model>, ApiError> {
    Ok(incident::Entity::find_by_id(id).one(conn).await?)
}

load_for!(incident, authorize, "incident");

/// Revokes a finding with a reason; it stays in the history.
pub async fn revoke(tx: &WriteTx, caller: &Caller, id: Uuid, reason: &str) -> Result<incident::Model, ApiError> {
    let current = load_for(tx.conn(), caller, Action::Record, id).await?;
    revoke_row(tx, caller.id, current, reason, "revoke").await
}

/// Revokes a loaded finding (also used when an appeal is accepted).
pub async fn revoke_row(
    tx: &WriteTx,
    by: Uuid,
    current: incident::Model,
    reason: &str,
    action: &str,
) -> Result<incident::Model, ApiError> {
    let reason = super::check_reason(reason, "incident.reason_required", "revocation")?;
    if current.status == IncidentStatus::Revoked {
        return Err(ApiError::conflict(
            "incident.already_revoked",
            "the finding is already revoked",
        ));
    }
    let at = now();
    let mut active = current.clone().into_active_model();
    active.status = Set(IncidentStatus::Revoked);
    active.revoked_at = Set(Some(at));
    active.revoked_by = Set(Some(by));
    active.revoke_reason = Set(Some(reason.to_owned()));
    let updated = tx
        .save(action, "incident", current.id, current, active, at, Incident::from)
        .await?;
    Ok(updated)
}

list_rows!(list(IncidentFilter) -> incident, visible, equal {
    subject_id => SubjectId, scheme_id => SchemeId, item => ItemCode, rule => RuleCode, kind => Kind, status => Status,
    source => Source, township_id => TownshipId, village_id => VillageId, upload_id => UploadId,
}, also |f| [
    f.from.map(|from| incident::Column::OccurredOn.gte(from)),
    f.to.map(|to| incident::Column::OccurredOn.lte(to)),
]);
