//! Incidents (findings): deductions, bonuses, measurements, amounts, adjustments and vetoes
//! recorded against subjects, validated against the subject's rubric (§6). Never deleted: revoked
//! with a reason. One [`Validator`] serves single writes and bulk uploads alike.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::entities::{incident, scheme, subject};
use super::schemes::LoadedScheme;
use super::{name_of, new_id, now, Change, WriteTx};
use crate::auth::policy::{Action, Scope};
use crate::auth::{parse_name, Caller};
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

/// A finding as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b0d2-7a1e-7c3e-9d52-1f0c2b7d4e30", "county_id": "0193b0d2-0000-7000-8000-000000000001",
    "scheme_id": "0193b0d2-0000-7000-8000-000000000010", "rubric_id": "0193b0d2-0000-7000-8000-000000000011",
    "subject_id": "0193b0d2-0000-7000-8000-000000000003", "kind": "deduction", "item_code": "1.1", "rule_code": "L1",
    "occurred_on": "2023-03-15", "quantity": 4, "period": null, "rate": null, "sampled": null, "correct": null,
    "amount": null, "points": null, "event_key": null, "source": "system_analysis", "note": "3月系统数据分析",
    "evidence": ["扫描件-2023-03-15.pdf"], "recorded_by": "0193b0d2-0000-7000-8000-000000000020",
    "recorded_at": "2023-03-16T02:00:00Z", "status": "active", "revoked_at": null, "revoked_by": null,
    "revoke_reason": null, "version": 1, "updated_at": "2023-03-16T02:00:00Z"
}))]
pub struct Incident {
    pub id: Uuid,
    pub county_id: Uuid,
    pub scheme_id: Uuid,
    /// The rubric version it was validated against.
    pub rubric_id: Uuid,
    pub subject_id: Uuid,
    pub kind: IncidentKind,
    pub item_code: Option<String>,
    pub rule_code: Option<String>,
    pub occurred_on: NaiveDate,
    pub quantity: i32,
    pub period: Option<Quarter>,
    /// Measured rate in percent.
    pub rate: Option<Decimal>,
    pub sampled: Option<i32>,
    pub correct: Option<i32>,
    pub amount: Option<Decimal>,
    /// An adjustment's own points (positive bonus, negative penalty).
    pub points: Option<Decimal>,
    pub event_key: Option<String>,
    pub source: Source,
    pub note: Option<String>,
    pub evidence: Vec<String>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub status: IncidentStatus,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<Uuid>,
    pub revoke_reason: Option<String>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

impl From<incident::Model> for Incident {
    fn from(m: incident::Model) -> Self {
        Self {
            id: m.id,
            county_id: m.county_id,
            scheme_id: m.scheme_id,
            rubric_id: m.rubric_id,
            subject_id: m.subject_id,
            kind: m.kind,
            item_code: m.item_code,
            rule_code: m.rule_code,
            occurred_on: m.occurred_on,
            quantity: m.quantity,
            period: m.period.as_deref().and_then(parse_name),
            rate: m.rate.map(Into::into),
            sampled: m.sampled,
            correct: m.correct,
            amount: m.amount.map(Into::into),
            points: m.points.map(Into::into),
            event_key: m.event_key,
            source: m.source,
            note: m.note,
            evidence: serde_json::from_str(&m.evidence).unwrap_or_default(),
            recorded_by: m.recorded_by,
            recorded_at: m.created_at,
            status: m.status,
            revoked_at: m.revoked_at,
            revoked_by: m.revoked_by,
            revoke_reason: m.revoke_reason,
            version: m.version,
            updated_at: m.updated_at,
        }
    }
}

pub fn scope_of(m: &incident::Model) -> Scope {
    Scope::new(m.county_id, m.township_id, m.village_id)
}

/// Body of `POST /api/v1/incidents` and one row of `POST /api/v1/incidents:bulk`.
/// Which fields apply follows from the item's method; the others must be absent.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "subject_id": "0193b0d2-0000-7000-8000-000000000003", "item_code": "1.1", "rule_code": "L1",
    "quantity": 4, "occurred_on": "2023-03-15", "source": "system_analysis", "note": "3月系统数据分析"
}))]
pub struct NewIncident {
    pub subject_id: Uuid,
    /// The scheme; may be left out when exactly one active scheme of that year covers the subject.
    pub scheme_id: Option<Uuid>,
    /// Checked against the item's method when given; a veto needs `kind: "veto"` and no item.
    pub kind: Option<IncidentKind>,
    pub item_code: Option<String>,
    /// The rule of the item (deductions, bonuses; adjustments may name a bounded rule).
    pub rule_code: Option<String>,
    #[serde(deserialize_with = "crate::date::strict")]
    pub occurred_on: NaiveDate,
    /// Deductions and bonuses: how many times (default 1).
    pub quantity: Option<i32>,
    /// Measurements: the quarter measured.
    pub period: Option<Quarter>,
    /// Measurements: the rate in percent (0–100, at most 2 decimals)…
    #[serde(default, deserialize_with = "crate::decimal::strict_option")]
    pub rate: Option<Decimal>,
    /// …or the phone-sampling counts it is computed from.
    pub sampled: Option<i32>,
    pub correct: Option<i32>,
    /// Amounts: yuan, at most 2 decimals.
    #[serde(default, deserialize_with = "crate::decimal::strict_option")]
    pub amount: Option<Decimal>,
    /// Adjustments: the points, positive (reward) or negative (penalty).
    #[serde(default, deserialize_with = "crate::decimal::strict_option")]
    pub points: Option<Decimal>,
    /// Bonuses: the achievement; the same one at several levels counts once, at the highest.
    /// Required on items that do not stack (Seed A 4.1, 4.2).
    pub event_key: Option<String>,
    #[serde(default)]
    pub source: Option<Source>,
    /// Free text; required for vetoes and adjustments (their reason). `reason` is accepted as
    /// another name for it.
    #[serde(alias = "reason")]
    pub note: Option<String>,
    /// References to evidence (file names, URLs, archive numbers).
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Evidence files (`POST /api/v1/evidence`) to attach to the finding as it is recorded.
    #[serde(default)]
    pub evidence_ids: Vec<Uuid>,
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
        let missing: Vec<Uuid> = ids
            .iter()
            .copied()
            .filter(|id| !self.subjects.contains_key(id))
            .collect();
        for chunk in missing.chunks(500) {
            for s in subject::Entity::find()
                .filter(subject::Column::Id.is_in(chunk.iter().copied()))
                .filter(subject::Column::CountyId.eq(caller.county_id))
                .all(conn)
                .await?
            {
                self.subjects.insert(s.id, s);
            }
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
        let model = incident::Model {
            id: new_id(),
            county_id: subject.county_id,
            created_at: at,
            updated_at: at,
            version: 1,
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
        };
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
            RowError::Conflict(error) => ApiError::conflict(error.code.clone(), error.message),
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
        FieldError::new(v.field, v.code, v.message)
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

pub async fn load_for<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    action: Action,
    id: Uuid,
) -> Result<incident::Model, ApiError> {
    let row = find(conn, id).await?.ok_or_else(|| ApiError::not_found("incident"))?;
    caller.authorize(action, &scope_of(&row), "incident")?;
    Ok(row)
}

/// Body of `POST /api/v1/incidents/{id}/revoke`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "重复录入"}))]
pub struct Revocation {
    pub reason: String,
}

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
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(ApiError::invalid(
            "reason",
            "incident.reason_required",
            "a revocation needs a reason (at most 2000 characters)",
        ));
    }
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
    active.version = Set(current.version + 1);
    active.updated_at = Set(at);
    let updated = active.update(tx.conn()).await?;
    tx.audit(Change::updated(
        action,
        "incident",
        current.id,
        &Incident::from(current),
        &Incident::from(updated.clone()),
    ))
    .await?;
    Ok(updated)
}

/// Filters of `GET /api/v1/incidents`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentFilter {
    pub subject_id: Option<Uuid>,
    pub scheme_id: Option<Uuid>,
    /// Item code, e.g. `1.1`.
    pub item: Option<String>,
    /// Rule code, e.g. `L1`.
    pub rule: Option<String>,
    pub kind: Option<IncidentKind>,
    pub status: Option<IncidentStatus>,
    pub source: Option<Source>,
    /// Findings that occurred on or after this date.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub from: Option<NaiveDate>,
    /// Findings that occurred on or before this date.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub to: Option<NaiveDate>,
    pub township_id: Option<Uuid>,
    pub village_id: Option<Uuid>,
    /// Findings of one bulk upload.
    pub upload_id: Option<Uuid>,
}

pub async fn list<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    filter: &IncidentFilter,
    page: &super::page::PageRequest,
) -> Result<Vec<incident::Model>, ApiError> {
    let mut select = incident::Entity::find().filter(caller.visible(incident::Entity));
    if let Some(v) = filter.subject_id {
        select = select.filter(incident::Column::SubjectId.eq(v));
    }
    if let Some(v) = filter.scheme_id {
        select = select.filter(incident::Column::SchemeId.eq(v));
    }
    if let Some(v) = &filter.item {
        select = select.filter(incident::Column::ItemCode.eq(v.as_str()));
    }
    if let Some(v) = &filter.rule {
        select = select.filter(incident::Column::RuleCode.eq(v.as_str()));
    }
    if let Some(v) = filter.kind {
        select = select.filter(incident::Column::Kind.eq(v));
    }
    if let Some(v) = filter.status {
        select = select.filter(incident::Column::Status.eq(v));
    }
    if let Some(v) = filter.source {
        select = select.filter(incident::Column::Source.eq(v));
    }
    if let Some(v) = filter.from {
        select = select.filter(incident::Column::OccurredOn.gte(v));
    }
    if let Some(v) = filter.to {
        select = select.filter(incident::Column::OccurredOn.lte(v));
    }
    if let Some(v) = filter.township_id {
        select = select.filter(incident::Column::TownshipId.eq(v));
    }
    if let Some(v) = filter.village_id {
        select = select.filter(incident::Column::VillageId.eq(v));
    }
    if let Some(v) = filter.upload_id {
        select = select.filter(incident::Column::UploadId.eq(v));
    }
    Ok(super::page::paginate(select, page).all(conn).await?)
}
