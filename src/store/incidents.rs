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
use crate::scoring::{AdjustmentDirection, AdjustmentRuleKind, Method, NonStacking, Quarter, SubjectType};

/// What a finding records; it follows from the item's scoring method, except for the three
/// kinds that name no item: `deduction` (扣分), `bonus` (加分), `measurement` (季度抽查准确率),
/// `amount` (金额, e.g. 社会扶贫资金), `adjustment` (奖惩得分), `veto` (一票否决),
/// `major_failure` (驻村帮扶工作出现重大失误, work teams), `dereliction` (失职渎职).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// A deduction rule broken `quantity` times (`deduction` items).
    Deduction,
    /// A bonus rule earned (`bonus` items).
    Bonus,
    /// A period's measured rate (`rate_band` items).
    Measurement,
    /// An amount, e.g. social funds raised (`stepped_amount` items and rules).
    Amount,
    /// A reward or penalty with its own points (`adjustment` items).
    Adjustment,
    /// 一票否决: bars the subject from excellence and prizes.
    Veto,
    /// 驻村帮扶工作出现重大失误，反响恶劣 (work teams only): the team's leader is removed from
    /// their post and its members penalised (§8.5); no item, moves no points.
    MajorFailure,
    /// 失职渎职，严重影响工作进度与质效 (any subject): accountability for the unit's head and those
    /// directly responsible (§8.5); no item, moves no points.
    Dereliction,
}

impl IncidentKind {
    /// Kinds recorded against the subject itself, with a reason and no item.
    pub fn is_itemless(self) -> bool {
        matches!(
            self,
            IncidentKind::Veto | IncidentKind::MajorFailure | IncidentKind::Dereliction
        )
    }
}

/// Where a finding came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
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

/// `active`, or `revoked` (kept in the history, ignored by scoring from its revocation on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Active,
    Revoked,
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
            kind: parse_name(&m.kind).unwrap_or(IncidentKind::Deduction),
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
            source: parse_name(&m.source).unwrap_or_default(),
            note: m.note,
            evidence: serde_json::from_str(&m.evidence).unwrap_or_default(),
            recorded_by: m.recorded_by,
            recorded_at: m.created_at,
            status: parse_name(&m.status).unwrap_or(IncidentStatus::Active),
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

    /// Validates one row. Errors name fields; the first error decides single-write statuses.
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
        let subject_type: SubjectType = parse_name(&subject.subject_type).ok_or(RowError::Internal)?;
        let scheme = self.scheme_for(new, subject, subject_type)?;
        let mut errors = Vec::new();
        let year = scheme.row.year;
        if new.occurred_on.year() != year {
            errors.push(FieldError::new(
                "occurred_on",
                "incident.date_outside_year",
                format!("occurred_on {} is outside the scheme year {year}", new.occurred_on),
            ));
        }
        let rubric_id = *scheme.rubric_ids.get(&subject_type).ok_or(RowError::Internal)?;
        let config = scheme
            .definition
            .subject_types
            .get(&subject_type)
            .ok_or(RowError::Internal)?;
        let note = new
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
            errors.push(FieldError::new(
                "note",
                "field.length",
                "note must be at most 2000 characters",
            ));
        }
        if new.evidence.len() > 50
            || new
                .evidence
                .iter()
                .any(|e| e.trim().is_empty() || e.chars().count() > 500)
        {
            errors.push(FieldError::new(
                "evidence",
                "incident.evidence_invalid",
                "evidence is at most 50 non-empty references of at most 500 characters",
            ));
        }

        let mut kind = IncidentKind::Veto;
        let mut quantity = 1;
        let mut rate = None;
        let mut amount = None;
        let mut points = None;
        let mut period = None;
        let mut event_key = None;
        // Fields that the method does not use must be absent, so a mistake is not silently ignored.
        let mut allowed: HashSet<&str> = HashSet::new();

        match new.item_code.as_deref() {
            None => match new.kind.filter(|k| k.is_itemless()) {
                None => errors.push(FieldError::new(
                    "item_code",
                    "incident.item_required",
                    "item_code is required (a veto, major_failure or dereliction has that kind and no item)",
                )),
                Some(given) => {
                    kind = given;
                    if given == IncidentKind::MajorFailure && subject_type != SubjectType::WorkTeam {
                        errors.push(FieldError::new(
                            "kind",
                            "incident.kind_not_applicable",
                            format!(
                                "a major_failure (重大失误) is recorded against a work team, not a {}",
                                subject_type.as_str()
                            ),
                        ));
                    }
                    if note.is_none() {
                        errors.push(FieldError::new(
                            "note",
                            "incident.reason_required",
                            format!("a {} needs its reason in note", name_of(given)),
                        ));
                    }
                }
            },
            Some(code) => {
                if let Some(given) = new.kind.filter(|k| k.is_itemless()) {
                    errors.push(FieldError::new(
                        "item_code",
                        "incident.field_not_applicable",
                        format!("a {} has no item", name_of(given)),
                    ));
                }
                match config.rubric.find_item(code) {
                    None => errors.push(FieldError::new(
                        "item_code",
                        "incident.item_unknown",
                        format!("item {code} is not in the {} rubric", subject_type.as_str()),
                    )),
                    Some(item) => {
                        match &item.method {
                            Method::Assessed => errors.push(FieldError::new(
                                "item_code",
                                "incident.item_assessed",
                                format!("item {code} is scored by assessors on scoresheets, not by findings"),
                            )),
                            Method::Deduction(m) => {
                                kind = IncidentKind::Deduction;
                                allowed.extend(["rule_code", "quantity"]);
                                match new.rule_code.as_deref() {
                                    None => errors.push(rule_required(code)),
                                    Some(rule) if !m.rules.iter().any(|r| r.code == rule) => {
                                        errors.push(rule_unknown(code, rule))
                                    }
                                    Some(_) => {}
                                }
                                quantity = check_quantity(new.quantity, &mut errors);
                            }
                            Method::Bonus(m) => {
                                kind = IncidentKind::Bonus;
                                allowed.extend(["rule_code", "quantity", "event_key"]);
                                match new.rule_code.as_deref() {
                                    None => errors.push(rule_required(code)),
                                    Some(rule) if !m.rules.iter().any(|r| r.code == rule) => {
                                        errors.push(rule_unknown(code, rule))
                                    }
                                    Some(_) => {}
                                }
                                quantity = check_quantity(new.quantity, &mut errors);
                                event_key = new
                                    .event_key
                                    .as_deref()
                                    .map(str::trim)
                                    .filter(|k| !k.is_empty())
                                    .map(str::to_owned);
                                if m.non_stacking == NonStacking::PerEvent && event_key.is_none() {
                                    errors.push(FieldError::new(
                                        "event_key",
                                        "incident.event_key_required",
                                        format!("item {code} counts each achievement once: name it in event_key"),
                                    ));
                                }
                            }
                            Method::RateBand(_) => {
                                kind = IncidentKind::Measurement;
                                allowed.extend(["period", "rate", "sampled", "correct"]);
                                match new.period {
                                    None => errors.push(FieldError::new(
                                        "period",
                                        "incident.period_required",
                                        "a measurement needs its period (Q1–Q4)",
                                    )),
                                    Some(q) => {
                                        period = Some(q);
                                        let key = (scheme.row.id, subject.id, code.to_owned(), name_of(q));
                                        if self.measured.contains(&key) {
                                            return Err(RowError::Conflict(FieldError::new(
                                            "period",
                                            "incident.period_already_measured",
                                            format!("{} of item {code} already has an active measurement; revoke it first", name_of(q)),
                                        )));
                                        }
                                    }
                                }
                                match (new.rate, new.sampled, new.correct) {
                                    (Some(r), None, None) => {
                                        if r < Decimal::ZERO || r > Decimal::ONE_HUNDRED || r.normalize().scale() > 2 {
                                            errors.push(FieldError::new(
                                                "rate",
                                                "incident.rate_out_of_range",
                                                "rate must be a percentage from 0 to 100 with at most 2 decimals",
                                            ));
                                        }
                                        rate = Some(r);
                                    }
                                    (None, Some(s), Some(c)) => {
                                        if s < 1 {
                                            errors.push(FieldError::new(
                                                "sampled",
                                                "incident.counts_invalid",
                                                "sampled must be at least 1",
                                            ));
                                        } else if c < 0 || c > s {
                                            errors.push(FieldError::new(
                                                "correct",
                                                "incident.counts_invalid",
                                                "correct must be from 0 to sampled",
                                            ));
                                        }
                                    }
                                    (None, Some(_), None) => errors.push(FieldError::new(
                                        "correct",
                                        "incident.rate_required",
                                        "sampled needs correct beside it (or give rate alone)",
                                    )),
                                    (None, None, Some(_)) => errors.push(FieldError::new(
                                        "sampled",
                                        "incident.rate_required",
                                        "correct needs sampled beside it (or give rate alone)",
                                    )),
                                    _ => errors.push(FieldError::new(
                                        "rate",
                                        "incident.rate_required",
                                        "a measurement needs either rate, or sampled and correct",
                                    )),
                                }
                            }
                            Method::SteppedAmount(_) => {
                                kind = IncidentKind::Amount;
                                allowed.insert("amount");
                                amount = check_amount(new.amount, &mut errors);
                            }
                            Method::Adjustment(m) => {
                                allowed.extend(["rule_code", "points", "amount"]);
                                let rule = match new.rule_code.as_deref() {
                                    None => None,
                                    Some(code_) => match m.rules.iter().find(|r| r.code == code_) {
                                        Some(r) => Some(r),
                                        None => {
                                            errors.push(rule_unknown(code, code_));
                                            None
                                        }
                                    },
                                };
                                // An amount without its rule: name the stepped rule it needs.
                                let unnamed_amount = if new.rule_code.is_none() && new.amount.is_some() {
                                    m.rules
                                        .iter()
                                        .find(|r| matches!(r.kind, AdjustmentRuleKind::SteppedAmount(_)))
                                } else {
                                    None
                                };
                                match (unnamed_amount, rule.map(|r| &r.kind)) {
                                    (Some(stepped), _) => {
                                        kind = IncidentKind::Amount;
                                        errors.push(FieldError::new(
                                            "rule_code",
                                            "incident.rule_required",
                                            format!(
                                                "an amount is scored by a stepped rule: name it in rule_code (\"{}\")",
                                                stepped.code
                                            ),
                                        ));
                                    }
                                    (None, Some(AdjustmentRuleKind::SteppedAmount(_))) => {
                                        kind = IncidentKind::Amount;
                                        allowed.remove("points");
                                        amount = check_amount(new.amount, &mut errors);
                                    }
                                    (None, other) => {
                                        kind = IncidentKind::Adjustment;
                                        allowed.remove("amount");
                                        let (bound, direction) = match other {
                                            Some(AdjustmentRuleKind::Manual { max_points, direction }) => {
                                                (*max_points, *direction)
                                            }
                                            _ => (None, None),
                                        };
                                        points = check_points(new.points, bound, direction, &mut errors);
                                        if note.is_none() {
                                            errors.push(FieldError::new(
                                                "note",
                                                "incident.reason_required",
                                                "an adjustment needs its reason in note",
                                            ));
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                if let Some(given) = new.kind {
                    if given != kind && errors.is_empty() {
                        errors.push(FieldError::new(
                            "kind",
                            "incident.kind_mismatch",
                            format!("item {code} records {}, not {}", name_of(kind), name_of(given)),
                        ));
                    }
                }
            }
        }
        let present: [(&str, bool); 8] = [
            ("rule_code", new.rule_code.is_some()),
            ("quantity", new.quantity.is_some()),
            ("period", new.period.is_some()),
            ("rate", new.rate.is_some()),
            ("sampled", new.sampled.is_some()),
            ("correct", new.correct.is_some()),
            ("amount", new.amount.is_some()),
            ("points", new.points.is_some()),
        ];
        let extra_event = new.event_key.is_some() && !allowed.contains("event_key");
        if errors.is_empty() {
            for (field, is_set) in present {
                if is_set && !allowed.contains(field) {
                    errors.push(FieldError::new(
                        field,
                        "incident.field_not_applicable",
                        format!("{field} does not apply to a {} finding", name_of(kind)),
                    ));
                }
            }
            if extra_event {
                errors.push(FieldError::new(
                    "event_key",
                    "incident.field_not_applicable",
                    format!("event_key does not apply to a {} finding", name_of(kind)),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(RowError::Invalid(errors));
        }
        let scheme_id = scheme.row.id;
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
            kind: name_of(kind),
            item_code: new.item_code.clone(),
            rule_code: new.rule_code.clone(),
            occurred_on: new.occurred_on,
            quantity,
            period: period.map(name_of),
            rate: rate.map(Into::into),
            sampled: new.sampled,
            correct: new.correct,
            amount: amount.map(Into::into),
            points: points.map(Into::into),
            event_key,
            source: name_of(new.source.unwrap_or_default()),
            note,
            evidence: serde_json::to_string(&new.evidence.iter().map(|e| e.trim()).collect::<Vec<_>>())
                .unwrap_or_else(|_| "[]".into()),
            recorded_by: caller.id,
            upload_id: None,
            status: "active".to_owned(),
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
        };
        if let (IncidentKind::Measurement, Some(q), Some(code)) = (kind, period, new.item_code.as_deref()) {
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

fn rule_required(item: &str) -> FieldError {
    FieldError::new(
        "rule_code",
        "incident.rule_required",
        format!("item {item} needs rule_code"),
    )
}

fn rule_unknown(item: &str, rule: &str) -> FieldError {
    FieldError::new(
        "rule_code",
        "incident.rule_unknown",
        format!("rule {rule} is not a rule of item {item}"),
    )
}

fn check_quantity(quantity: Option<i32>, errors: &mut Vec<FieldError>) -> i32 {
    let quantity = quantity.unwrap_or(1);
    if !(1..=100_000).contains(&quantity) {
        errors.push(FieldError::new(
            "quantity",
            "incident.quantity_invalid",
            "quantity must be a whole number from 1 to 100000",
        ));
    }
    quantity
}

fn check_amount(amount: Option<Decimal>, errors: &mut Vec<FieldError>) -> Option<Decimal> {
    match amount {
        None => errors.push(FieldError::new(
            "amount",
            "incident.amount_required",
            "an amount finding needs amount (yuan)",
        )),
        Some(a) if a < Decimal::ZERO || a.normalize().scale() > 2 || a > Decimal::from(1_000_000_000_000i64) => errors
            .push(FieldError::new(
                "amount",
                "incident.amount_invalid",
                "amount must be 0 or more yuan with at most 2 decimals",
            )),
        Some(_) => {}
    }
    amount
}

fn check_points(
    points: Option<Decimal>,
    bound: Option<Decimal>,
    direction: Option<AdjustmentDirection>,
    errors: &mut Vec<FieldError>,
) -> Option<Decimal> {
    match points {
        None => errors.push(FieldError::new(
            "points",
            "incident.points_required",
            "an adjustment needs points",
        )),
        Some(p) if p.is_zero() || p.normalize().scale() > 4 || p.abs() > Decimal::from(1000) => {
            errors.push(FieldError::new(
                "points",
                "incident.points_invalid",
                "points must be non-zero with at most 4 decimals",
            ))
        }
        Some(p) => {
            match direction {
                Some(AdjustmentDirection::Bonus) if p.is_sign_negative() => errors.push(FieldError::new(
                    "points",
                    "incident.points_sign",
                    "this rule rewards: its points are positive (a penalty goes under the penalty rule)",
                )),
                Some(AdjustmentDirection::Penalty) if p.is_sign_positive() => errors.push(FieldError::new(
                    "points",
                    "incident.points_sign",
                    "this rule penalises: its points are negative, e.g. \"-2\"",
                )),
                _ => {}
            }
            if let Some(max) = bound {
                if p.abs() > max {
                    errors.push(FieldError::new(
                        "points",
                        "incident.points_above_bound",
                        format!("one finding of this rule moves at most {max} points"),
                    ));
                }
            }
        }
    }
    points
}

/// Records one finding.
pub async fn create(tx: &WriteTx, caller: &Caller, new: NewIncident) -> Result<incident::Model, ApiError> {
    let mut validator = Validator::prepare(tx.conn(), caller, std::slice::from_ref(&new)).await?;
    let model = validator.check(caller, &new).map_err(RowError::into_api)?;
    incident::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(tx.conn())
        .await?;
    super::schemes::mark_used(tx.conn(), model.rubric_id).await?;
    tx.audit(Change::created("incident", model.id, &Incident::from(model.clone())))
        .await?;
    Ok(model)
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
    if current.status == "revoked" {
        return Err(ApiError::conflict(
            "incident.already_revoked",
            "the finding is already revoked",
        ));
    }
    let at = now();
    let mut active = current.clone().into_active_model();
    active.status = Set("revoked".to_owned());
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
        select = select.filter(incident::Column::Kind.eq(name_of(v)));
    }
    if let Some(v) = filter.status {
        select = select.filter(incident::Column::Status.eq(name_of(v)));
    }
    if let Some(v) = filter.source {
        select = select.filter(incident::Column::Source.eq(name_of(v)));
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
