//! Admission (DOMAIN.md §5–§7): what may be recorded. From a draft — a finding, a scoresheet, a
//! ballot, as a client wrote it — and the scheme's rules to the admitted value the engine
//! scores, or every violation, each naming its field. Pure: the recording use cases load the
//! context (the subject, its scheme and rubric, what is already stored) and write what is
//! admitted; the engine scores it without further checks.
//!
//! The field rules of each scoring method sit in one `match` ([`method_fields`]), beside the
//! engine's own (`methods.rs`).

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::named::named_enum;
use crate::scoring::inputs::{FindingDetail, MeasuredRate, Quarter};
use crate::scoring::model::{
    AdjustmentDirection, AdjustmentMethod, AdjustmentRuleKind, Item, Method, Node, NonStacking, Rubric, SubjectType,
};

named_enum! {
    /// What a finding records; it follows from the item's scoring method, except for the three
    /// kinds that name no item: `deduction` (扣分), `bonus` (加分), `measurement` (季度抽查准确率),
    /// `amount` (金额, e.g. 社会扶贫资金), `adjustment` (奖惩得分), `veto` (一票否决),
    /// `major_failure` (驻村帮扶工作出现重大失误, work teams), `dereliction` (失职渎职).
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
}

impl IncidentKind {
    /// The kind as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::Deduction => "deduction",
            IncidentKind::Bonus => "bonus",
            IncidentKind::Measurement => "measurement",
            IncidentKind::Amount => "amount",
            IncidentKind::Adjustment => "adjustment",
            IncidentKind::Veto => "veto",
            IncidentKind::MajorFailure => "major_failure",
            IncidentKind::Dereliction => "dereliction",
        }
    }

    /// Kinds recorded against the subject itself, with a reason and no item.
    pub fn is_itemless(self) -> bool {
        matches!(
            self,
            IncidentKind::Veto | IncidentKind::MajorFailure | IncidentKind::Dereliction
        )
    }
}

/// One broken rule: the field, a stable code and a message in the user's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub code: &'static str,
    /// In English; the catalogue texts of `code` (locales/*/problems.ftl) use `args`.
    pub message: String,
    /// The particulars of the message, by name (`value`, `item`, `rule`, `kind`, `max`, …).
    pub args: Vec<(&'static str, String)>,
}

impl Violation {
    /// A particular of the message, for its texts in other languages.
    fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }
}

fn violation(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Violation {
    Violation {
        field: field.into(),
        code,
        message: message.into(),
        args: Vec::new(),
    }
}

/// Why a draft is not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Every violation found (422).
    Invalid(Vec<Violation>),
    /// It contradicts what is recorded (409), e.g. a second measurement of a period.
    Conflict(Violation),
}

/// A finding as a client drafted it.
#[derive(Debug, Clone, Default)]
pub struct FindingDraft<'a> {
    pub kind: Option<IncidentKind>,
    pub item_code: Option<&'a str>,
    pub rule_code: Option<&'a str>,
    pub occurred_on: NaiveDate,
    pub quantity: Option<i32>,
    pub period: Option<Quarter>,
    pub rate: Option<Decimal>,
    pub sampled: Option<i32>,
    pub correct: Option<i32>,
    pub amount: Option<Decimal>,
    pub points: Option<Decimal>,
    pub event_key: Option<&'a str>,
    pub note: Option<&'a str>,
    pub evidence: &'a [String],
}

/// The rules a finding is admitted under: the subject's rubric and type, the scheme's year.
#[derive(Debug, Clone, Copy)]
pub struct FindingRules<'a> {
    pub rubric: &'a Rubric,
    pub subject_type: SubjectType,
    pub year: i32,
}

/// An admitted finding: its kind and the values it is stored and scored with.
#[derive(Debug, Clone, PartialEq)]
pub struct AdmittedFinding {
    pub kind: IncidentKind,
    pub quantity: i32,
    pub period: Option<Quarter>,
    pub rate: Option<Decimal>,
    pub sampled: Option<i32>,
    pub correct: Option<i32>,
    pub amount: Option<Decimal>,
    pub points: Option<Decimal>,
    pub event_key: Option<String>,
    /// Trimmed; the reason of vetoes, adjustments, major failures and derelictions.
    pub note: Option<String>,
}

impl AdmittedFinding {
    /// What the engine scores.
    pub fn detail(&self) -> FindingDetail {
        let quantity = u32::try_from(self.quantity).unwrap_or(1);
        let reason = self.note.clone().unwrap_or_default();
        match self.kind {
            IncidentKind::Deduction => FindingDetail::Deduction { quantity },
            IncidentKind::Bonus => FindingDetail::Bonus {
                quantity,
                event_key: self.event_key.clone(),
            },
            IncidentKind::Measurement => FindingDetail::Measurement {
                period: self.period.unwrap_or(Quarter::Q1),
                rate: match (self.rate, self.sampled, self.correct) {
                    (Some(rate), _, _) => MeasuredRate::Percent(rate),
                    (None, sampled, correct) => MeasuredRate::Counts {
                        sampled: sampled.and_then(|s| u32::try_from(s).ok()).unwrap_or(0),
                        correct: correct.and_then(|c| u32::try_from(c).ok()).unwrap_or(0),
                    },
                },
            },
            IncidentKind::Amount => FindingDetail::Amount {
                amount: self.amount.unwrap_or_default(),
            },
            IncidentKind::Adjustment => FindingDetail::Adjustment {
                points: self.points.unwrap_or_default(),
                reason,
            },
            IncidentKind::Veto => FindingDetail::Veto { reason },
            IncidentKind::MajorFailure => FindingDetail::MajorFailure { reason },
            IncidentKind::Dereliction => FindingDetail::Dereliction { reason },
        }
    }
}

/// The optional fields a method may use; any other one given is refused.
const OPTIONAL_FIELDS: [&str; 8] = [
    "rule_code",
    "quantity",
    "period",
    "rate",
    "sampled",
    "correct",
    "amount",
    "points",
];

/// Admits a finding (§6): the item in the rubric and the rule in the item, the fields its method
/// needs present and in range and no others, the date inside the scheme's year. `measured` says
/// whether an item's quarter already has an active measurement (a second one is a conflict).
pub fn admit_finding(
    rules: &FindingRules<'_>,
    draft: &FindingDraft<'_>,
    measured: &dyn Fn(&str, Quarter) -> bool,
) -> Result<AdmittedFinding, Refusal> {
    let mut errors = Vec::new();
    if draft.occurred_on.year() != rules.year {
        errors.push(
            violation(
                "occurred_on",
                "incident.date_outside_year",
                format!(
                    "occurred_on {} is outside the scheme year {}",
                    draft.occurred_on, rules.year
                ),
            )
            .arg("value", draft.occurred_on)
            .arg("year", rules.year),
        );
    }
    let note = draft.note.map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        errors.push(violation("note", "field.length", "note must be at most 2000 characters").arg("max", 2000));
    }
    if draft.evidence.len() > 50
        || draft
            .evidence
            .iter()
            .any(|e| e.trim().is_empty() || e.chars().count() > 500)
    {
        errors.push(violation(
            "evidence",
            "incident.evidence_invalid",
            "evidence is at most 50 non-empty references of at most 500 characters",
        ));
    }
    let mut admitted = AdmittedFinding {
        kind: IncidentKind::Veto,
        quantity: 1,
        period: None,
        rate: None,
        sampled: draft.sampled,
        correct: draft.correct,
        amount: None,
        points: None,
        event_key: None,
        note,
    };
    let mut allowed: HashSet<&str> = HashSet::new();
    match draft.item_code {
        None => itemless(rules.subject_type, draft, &mut admitted, &mut errors),
        Some(code) => {
            if let Some(given) = draft.kind.filter(|k| k.is_itemless()) {
                errors.push(
                    violation(
                        "item_code",
                        "incident.field_not_applicable",
                        format!("a {} has no item", given.as_str()),
                    )
                    .arg("field", "item_code")
                    .arg("kind", given.as_str()),
                );
            }
            match rules.rubric.find_item(code) {
                None => errors.push(
                    violation(
                        "item_code",
                        "incident.item_unknown",
                        format!("item {code} is not in the {} rubric", rules.subject_type.as_str()),
                    )
                    .arg("item", code)
                    .arg("subject_type", rules.subject_type.as_str()),
                ),
                Some(item) => {
                    allowed = method_fields(item, draft, measured, &mut admitted, &mut errors)?;
                }
            }
            if let Some(given) = draft.kind {
                if given != admitted.kind && errors.is_empty() {
                    errors.push(
                        violation(
                            "kind",
                            "incident.kind_mismatch",
                            format!("item {code} records {}, not {}", admitted.kind.as_str(), given.as_str()),
                        )
                        .arg("item", code)
                        .arg("kind", admitted.kind.as_str())
                        .arg("given", given.as_str()),
                    );
                }
            }
        }
    }
    if errors.is_empty() {
        not_applicable(draft, admitted.kind, &allowed, &mut errors);
    }
    if errors.is_empty() {
        Ok(admitted)
    } else {
        Err(Refusal::Invalid(errors))
    }
}

/// A veto, a major failure or a dereliction: a kind, a reason and no item.
fn itemless(
    subject_type: SubjectType,
    draft: &FindingDraft<'_>,
    admitted: &mut AdmittedFinding,
    errors: &mut Vec<Violation>,
) {
    let Some(given) = draft.kind.filter(|k| k.is_itemless()) else {
        errors.push(violation(
            "item_code",
            "incident.item_required",
            "item_code is required (a veto, major_failure or dereliction has that kind and no item)",
        ));
        return;
    };
    admitted.kind = given;
    if given == IncidentKind::MajorFailure && subject_type != SubjectType::WorkTeam {
        errors.push(
            violation(
                "kind",
                "incident.kind_not_applicable",
                format!(
                    "a major_failure (重大失误) is recorded against a work team, not a {}",
                    subject_type.as_str()
                ),
            )
            .arg("kind", given.as_str())
            .arg("subject_type", subject_type.as_str()),
        );
    }
    if admitted.note.is_none() {
        errors.push(
            violation(
                "note",
                "incident.reason_required",
                format!("a {} needs its reason in note", given.as_str()),
            )
            .arg("kind", given.as_str()),
        );
    }
}

/// The fields of the item's method: checks them into `admitted` and answers which optional
/// fields the method uses. One arm per method.
fn method_fields(
    item: &Item,
    draft: &FindingDraft<'_>,
    measured: &dyn Fn(&str, Quarter) -> bool,
    admitted: &mut AdmittedFinding,
    errors: &mut Vec<Violation>,
) -> Result<HashSet<&'static str>, Refusal> {
    let code = item.code.as_str();
    let mut allowed = HashSet::new();
    match &item.method {
        Method::Assessed => errors.push(
            violation(
                "item_code",
                "incident.item_assessed",
                format!("item {code} is scored by assessors on scoresheets, not by findings"),
            )
            .arg("item", code),
        ),
        Method::Deduction(m) => {
            admitted.kind = IncidentKind::Deduction;
            allowed.extend(["rule_code", "quantity"]);
            counted(
                code,
                draft,
                |rule| m.rules.iter().any(|r| r.code == rule),
                admitted,
                errors,
            );
        }
        Method::Bonus(m) => {
            admitted.kind = IncidentKind::Bonus;
            allowed.extend(["rule_code", "quantity", "event_key"]);
            counted(
                code,
                draft,
                |rule| m.rules.iter().any(|r| r.code == rule),
                admitted,
                errors,
            );
            admitted.event_key = draft
                .event_key
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned);
            if m.non_stacking == NonStacking::PerEvent && admitted.event_key.is_none() {
                errors.push(
                    violation(
                        "event_key",
                        "incident.event_key_required",
                        format!("item {code} counts each achievement once: name it in event_key"),
                    )
                    .arg("item", code),
                );
            }
        }
        Method::RateBand(_) => {
            admitted.kind = IncidentKind::Measurement;
            allowed.extend(["period", "rate", "sampled", "correct"]);
            match draft.period {
                None => errors.push(violation(
                    "period",
                    "incident.period_required",
                    "a measurement needs its period (Q1–Q4)",
                )),
                Some(quarter) if measured(code, quarter) => {
                    return Err(Refusal::Conflict(
                        violation(
                            "period",
                            "incident.period_already_measured",
                            format!("{quarter:?} of item {code} already has an active measurement; revoke it first"),
                        )
                        .arg("period", format!("{quarter:?}"))
                        .arg("item", code),
                    ));
                }
                Some(quarter) => admitted.period = Some(quarter),
            }
            admitted.rate = check_rate(draft, errors);
        }
        Method::SteppedAmount(_) => {
            admitted.kind = IncidentKind::Amount;
            allowed.insert("amount");
            admitted.amount = check_amount(draft.amount, errors);
        }
        Method::Adjustment(m) => adjustment_fields(m, code, draft, admitted, &mut allowed, errors),
    }
    Ok(allowed)
}

/// The ±10 section (§5.7): signed points under a manual rule (bounded, signed by its
/// direction), or an amount under its stepped rule.
fn adjustment_fields(
    m: &AdjustmentMethod,
    code: &str,
    draft: &FindingDraft<'_>,
    admitted: &mut AdmittedFinding,
    allowed: &mut HashSet<&'static str>,
    errors: &mut Vec<Violation>,
) {
    allowed.extend(["rule_code", "points", "amount"]);
    let rule = draft.rule_code.and_then(|wanted| {
        let found = m.rules.iter().find(|r| r.code == wanted);
        if found.is_none() {
            errors.push(rule_unknown(code, wanted));
        }
        found
    });
    // An amount without its rule: name the stepped rule it needs.
    let unnamed_amount = (draft.rule_code.is_none() && draft.amount.is_some())
        .then(|| {
            m.rules
                .iter()
                .find(|r| matches!(r.kind, AdjustmentRuleKind::SteppedAmount(_)))
        })
        .flatten();
    match (unnamed_amount, rule.map(|r| &r.kind)) {
        (Some(stepped), _) => {
            admitted.kind = IncidentKind::Amount;
            errors.push(
                violation(
                    "rule_code",
                    "incident.rule_required",
                    format!(
                        "an amount is scored by a stepped rule: name it in rule_code (\"{}\")",
                        stepped.code
                    ),
                )
                .arg("item", code)
                .arg("rule", &stepped.code),
            );
        }
        (None, Some(AdjustmentRuleKind::SteppedAmount(_))) => {
            admitted.kind = IncidentKind::Amount;
            allowed.remove("points");
            admitted.amount = check_amount(draft.amount, errors);
        }
        (None, other) => {
            admitted.kind = IncidentKind::Adjustment;
            allowed.remove("amount");
            let (bound, direction) = match other {
                Some(AdjustmentRuleKind::Manual { max_points, direction }) => (*max_points, *direction),
                _ => (None, None),
            };
            admitted.points = check_points(draft.points, bound, direction, errors);
            if admitted.note.is_none() {
                errors.push(
                    violation(
                        "note",
                        "incident.reason_required",
                        "an adjustment needs its reason in note",
                    )
                    .arg("kind", IncidentKind::Adjustment.as_str()),
                );
            }
        }
    }
}

/// Fields the method does not use must be absent, so a mistake is not silently ignored.
fn not_applicable(draft: &FindingDraft<'_>, kind: IncidentKind, allowed: &HashSet<&str>, errors: &mut Vec<Violation>) {
    let present: [bool; 8] = [
        draft.rule_code.is_some(),
        draft.quantity.is_some(),
        draft.period.is_some(),
        draft.rate.is_some(),
        draft.sampled.is_some(),
        draft.correct.is_some(),
        draft.amount.is_some(),
        draft.points.is_some(),
    ];
    for (field, is_set) in OPTIONAL_FIELDS.into_iter().zip(present) {
        if is_set && !allowed.contains(field) {
            errors.push(
                violation(
                    field,
                    "incident.field_not_applicable",
                    format!("{field} does not apply to a {} finding", kind.as_str()),
                )
                .arg("field", field)
                .arg("kind", kind.as_str()),
            );
        }
    }
    if draft.event_key.is_some() && !allowed.contains("event_key") {
        errors.push(
            violation(
                "event_key",
                "incident.field_not_applicable",
                format!("event_key does not apply to a {} finding", kind.as_str()),
            )
            .arg("field", "event_key")
            .arg("kind", kind.as_str()),
        );
    }
}

/// A counted finding (deductions, bonuses): a rule the item knows, and a quantity.
fn counted(
    item: &str,
    draft: &FindingDraft<'_>,
    known: impl Fn(&str) -> bool,
    admitted: &mut AdmittedFinding,
    errors: &mut Vec<Violation>,
) {
    named_rule(item, draft.rule_code, known, errors);
    admitted.quantity = check_quantity(draft.quantity, errors);
}

/// A deduction or bonus names one of its item's rules.
fn named_rule(item: &str, rule: Option<&str>, known: impl Fn(&str) -> bool, errors: &mut Vec<Violation>) {
    match rule {
        None => errors.push(
            violation(
                "rule_code",
                "incident.rule_required",
                format!("item {item} needs rule_code"),
            )
            .arg("item", item),
        ),
        Some(rule) if !known(rule) => errors.push(rule_unknown(item, rule)),
        Some(_) => {}
    }
}

fn rule_unknown(item: &str, rule: &str) -> Violation {
    violation(
        "rule_code",
        "incident.rule_unknown",
        format!("rule {rule} is not a rule of item {item}"),
    )
    .arg("rule", rule)
    .arg("item", item)
}

fn check_quantity(quantity: Option<i32>, errors: &mut Vec<Violation>) -> i32 {
    let quantity = quantity.unwrap_or(1);
    if !(1..=100_000).contains(&quantity) {
        errors.push(violation(
            "quantity",
            "incident.quantity_invalid",
            "quantity must be a whole number from 1 to 100000",
        ));
    }
    quantity
}

/// A measured rate: a percentage, or the sample counts it is computed from.
fn check_rate(draft: &FindingDraft<'_>, errors: &mut Vec<Violation>) -> Option<Decimal> {
    match (draft.rate, draft.sampled, draft.correct) {
        (Some(rate), None, None) => {
            if rate < Decimal::ZERO || rate > Decimal::ONE_HUNDRED || rate.normalize().scale() > 2 {
                errors.push(violation(
                    "rate",
                    "incident.rate_out_of_range",
                    "rate must be a percentage from 0 to 100 with at most 2 decimals",
                ));
            }
            return Some(rate);
        }
        (None, Some(sampled), Some(correct)) => {
            if sampled < 1 {
                errors.push(violation(
                    "sampled",
                    "incident.counts_invalid",
                    "sampled must be at least 1",
                ));
            } else if correct < 0 || correct > sampled {
                errors.push(violation(
                    "correct",
                    "incident.counts_invalid",
                    "correct must be from 0 to sampled",
                ));
            }
        }
        (None, Some(_), None) => errors.push(violation(
            "correct",
            "incident.rate_required",
            "sampled needs correct beside it (or give rate alone)",
        )),
        (None, None, Some(_)) => errors.push(violation(
            "sampled",
            "incident.rate_required",
            "correct needs sampled beside it (or give rate alone)",
        )),
        _ => errors.push(violation(
            "rate",
            "incident.rate_required",
            "a measurement needs either rate, or sampled and correct",
        )),
    }
    None
}

fn check_amount(amount: Option<Decimal>, errors: &mut Vec<Violation>) -> Option<Decimal> {
    match amount {
        None => errors.push(violation(
            "amount",
            "incident.amount_required",
            "an amount finding needs amount (yuan)",
        )),
        Some(a) if a < Decimal::ZERO || a.normalize().scale() > 2 || a > Decimal::from(1_000_000_000_000i64) => errors
            .push(violation(
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
    errors: &mut Vec<Violation>,
) -> Option<Decimal> {
    let Some(p) = points else {
        errors.push(violation(
            "points",
            "incident.points_required",
            "an adjustment needs points",
        ));
        return None;
    };
    if p.is_zero() || p.normalize().scale() > 4 || p.abs() > Decimal::from(1000) {
        errors.push(violation(
            "points",
            "incident.points_invalid",
            "points must be non-zero with at most 4 decimals",
        ));
        return points;
    }
    match direction {
        Some(AdjustmentDirection::Bonus) if p.is_sign_negative() => errors.push(violation(
            "points",
            "incident.points_sign",
            "this rule rewards: its points are positive (a penalty goes under the penalty rule)",
        )),
        Some(AdjustmentDirection::Penalty) if p.is_sign_positive() => errors.push(violation(
            "points",
            "incident.points_sign",
            "this rule penalises: its points are negative, e.g. \"-2\"",
        )),
        _ => {}
    }
    if let Some(max) = bound {
        if p.abs() > max {
            errors.push(
                violation(
                    "points",
                    "incident.points_above_bound",
                    format!("one finding of this rule moves at most {max} points"),
                )
                .arg("max", max),
            );
        }
    }
    points
}

/// Admits one assessor's item scores (§5.1): only `assessed` items of the rubric, outside the
/// derived sections of a department without special indicators (§5.6), each `0 ≤ score ≤ max`.
pub fn admit_scoresheet(
    rubric: &Rubric,
    has_special_indicators: bool,
    scores: &BTreeMap<String, Decimal>,
    assessor: &str,
) -> Result<(), Vec<Violation>> {
    let derived = derived_items(rubric);
    let mut errors = Vec::new();
    if scores.is_empty() {
        errors.push(violation(
            "scores",
            "scoresheet.empty",
            "scores must name at least one item",
        ));
    }
    for (code, score) in scores {
        let field = format!("scores.{code}");
        match rubric.find_item(code) {
            None => errors.push(
                violation(
                    field,
                    "scoresheet.item_unknown",
                    format!("item {code} is not in the rubric"),
                )
                .arg("item", code),
            ),
            Some(item) if item.method != Method::Assessed => errors.push(
                violation(
                    field,
                    "scoresheet.item_not_assessed",
                    format!("item {code} is scored from findings, not by assessors"),
                )
                .arg("item", code),
            ),
            Some(_) if !has_special_indicators && derived.contains(code.as_str()) => errors.push(
                violation(
                    field,
                    "scoresheet.item_derived",
                    format!("item {code} is derived for this department (no special indicators)"),
                )
                .arg("item", code),
            ),
            Some(item) => {
                let max = item.max.unwrap_or(Decimal::ZERO);
                if *score < Decimal::ZERO || *score > max || score.normalize().scale() > 4 {
                    errors.push(
                        violation(
                            field,
                            "scoresheet.score_out_of_range",
                            format!("the score of item {code} must be from 0 to {max} with at most 4 decimals"),
                        )
                        .arg("item", code)
                        .arg("max", max),
                    );
                }
            }
        }
    }
    if assessor.chars().count() > 200 {
        errors.push(violation("assessor", "field.length", "assessor must be at most 200 characters").arg("max", 200));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Admits a democratic ballot's score (§7): 0–100 with at most one decimal.
pub fn admit_ballot(score: Decimal) -> Result<(), Violation> {
    if score < Decimal::ZERO || score > Decimal::ONE_HUNDRED || score.normalize().scale() > 1 {
        return Err(violation(
            "score",
            "ballot.score_out_of_range",
            "a ballot's score is from 0 to 100 with at most 1 decimal",
        ));
    }
    Ok(())
}

/// Item codes under derived sections (§5.6).
pub fn derived_items(rubric: &Rubric) -> HashSet<&str> {
    fn walk<'a>(nodes: &'a [Node], inside: bool, out: &mut HashSet<&'a str>) {
        for node in nodes {
            match node {
                Node::Section(s) => walk(&s.children, inside || s.derived_from.is_some(), out),
                Node::Item(i) if inside => {
                    out.insert(i.code.as_str());
                }
                Node::Item(_) => {}
            }
        }
    }
    let mut out = HashSet::new();
    walk(&rubric.nodes, false, &mut out);
    out
}
