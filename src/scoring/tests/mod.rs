//! Tests of the engine, written like the specification's examples (DOMAIN.md §5–§11).

mod admission;
mod annual;
mod consequences;
mod democratic;
mod evaluations;
mod exact;
mod examples;
mod incremental;
mod methods;
mod openapi;
mod properties;
mod ranking;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

pub(super) use crate::exact::Exact;
use crate::schemes::built_in_by_key;
use crate::scoring::{
    score_rubric, Ballot, Detail, EvaluationInfo, EvaluationKind, Finding, FindingDetail, MeasuredRate, Method, Node,
    Period, Quarter, Rubric, RubricInputs, RubricResult, SchemeDefinition, Scoresheet, ScoringSettings,
    SubjectAttributes, SubjectInfo, SubjectType, Window,
};

pub(super) fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|_| panic!("bad decimal in test: {text}"))
}

/// An exact value from a decimal (`"87.04"`) or a fraction (`"961/12"`).
pub(super) fn x(text: &str) -> Exact {
    Exact::from_str(text).unwrap_or_else(|_| panic!("bad exact value in test: {text}"))
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh, deterministic-looking id.
pub(super) fn new_id() -> Uuid {
    Uuid::from_u128(u128::from(NEXT_ID.fetch_add(1, Ordering::Relaxed)))
}

pub(super) fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid test date")
}

pub(super) fn at(year: i32, month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, 12, 0, 0)
        .single()
        .expect("valid test instant")
}

pub(super) fn year_2023() -> Window {
    Period::Y.window(2023).expect("2023")
}

pub(super) fn seed_a() -> SchemeDefinition {
    built_in_by_key("tongshi-2023-village")
        .expect("seed A loads")
        .expect("seed A exists")
}

pub(super) fn seed_b() -> SchemeDefinition {
    built_in_by_key("county-poverty")
        .expect("seed B loads")
        .expect("seed B exists")
}

pub(super) fn rubric_of(scheme: &SchemeDefinition, subject_type: SubjectType) -> Rubric {
    scheme.subject_types[&subject_type].rubric.clone()
}

pub(super) fn subject(subject_type: SubjectType, name: &str) -> SubjectInfo {
    SubjectInfo {
        id: new_id(),
        subject_type,
        name: name.to_owned(),
        township_id: None,
        dispatched_by: None,
        stationed_in: None,
        attributes: SubjectAttributes::default(),
    }
}

/// A finding recorded at noon of the day it occurred.
pub(super) fn finding(
    subject: &SubjectInfo,
    item: Option<&str>,
    rule: Option<&str>,
    on: NaiveDate,
    detail: FindingDetail,
) -> Finding {
    Finding {
        id: new_id(),
        subject_id: subject.id,
        item_code: item.map(str::to_owned),
        rule_code: rule.map(str::to_owned),
        occurred_on: on,
        recorded_at: on.and_hms_opt(12, 0, 0).expect("noon").and_utc(),
        revoked_at: None,
        detail,
    }
}

pub(super) fn deduction(subject: &SubjectInfo, item: &str, rule: &str, quantity: u32, on: NaiveDate) -> Finding {
    finding(
        subject,
        Some(item),
        Some(rule),
        on,
        FindingDetail::Deduction { quantity },
    )
}

pub(super) fn bonus(subject: &SubjectInfo, item: &str, rule: &str, event: Option<&str>, on: NaiveDate) -> Finding {
    finding(
        subject,
        Some(item),
        Some(rule),
        on,
        FindingDetail::Bonus {
            quantity: 1,
            event_key: event.map(str::to_owned),
        },
    )
}

pub(super) fn measurement(
    subject: &SubjectInfo,
    item: &str,
    period: Quarter,
    rate: MeasuredRate,
    on: NaiveDate,
) -> Finding {
    finding(
        subject,
        Some(item),
        None,
        on,
        FindingDetail::Measurement { period, rate },
    )
}

pub(super) fn adjustment(
    subject: &SubjectInfo,
    item: &str,
    rule: Option<&str>,
    points: &str,
    on: NaiveDate,
) -> Finding {
    finding(
        subject,
        Some(item),
        rule,
        on,
        FindingDetail::Adjustment {
            points: d(points),
            reason: "test".to_owned(),
        },
    )
}

pub(super) fn amount(subject: &SubjectInfo, item: &str, rule: Option<&str>, value: &str, on: NaiveDate) -> Finding {
    finding(
        subject,
        Some(item),
        rule,
        on,
        FindingDetail::Amount { amount: d(value) },
    )
}

pub(super) fn veto(subject: &SubjectInfo, on: NaiveDate) -> Finding {
    finding(
        subject,
        None,
        None,
        on,
        FindingDetail::Veto {
            reason: "重点工作被一票否决".to_owned(),
        },
    )
}

/// Scores a subject over a window with full detail, default options.
pub(super) fn score(
    rubric: &Rubric,
    subject: &SubjectInfo,
    window: Window,
    findings: &[Finding],
    sheets: &[Scoresheet],
) -> RubricResult {
    score_rubric(
        rubric,
        subject,
        &RubricInputs {
            window,
            as_of: None,
            findings,
            scoresheets: sheets,
        },
        &ScoringSettings::default(),
    )
}

/// Scores a Seed A village over 2023.
pub(super) fn score_village(village: &SubjectInfo, findings: &[Finding]) -> RubricResult {
    score(
        &rubric_of(&seed_a(), SubjectType::Village),
        village,
        year_2023(),
        findings,
        &[],
    )
}

pub(super) fn item_score(result: &RubricResult, code: &str) -> Option<Exact> {
    result
        .item(code)
        .unwrap_or_else(|| panic!("no item {code} in result"))
        .score
        .clone()
}

pub(super) fn evaluation(kind: EvaluationKind, key: &str, window: Window) -> EvaluationInfo {
    EvaluationInfo {
        id: new_id(),
        kind,
        key: key.to_owned(),
        title: key.to_owned(),
        window,
    }
}

/// Item scores adding up to `total`, filling assessed items (outside derived sections when
/// `skip_derived`) in document order up to their max.
pub(super) fn scores_for_total(rubric: &Rubric, total: &str, skip_derived: bool) -> BTreeMap<String, Decimal> {
    fn walk(nodes: &[Node], skip_derived: bool, remaining: &mut Decimal, into: &mut BTreeMap<String, Decimal>) {
        for node in nodes {
            match node {
                Node::Section(section) if skip_derived && section.derived_from.is_some() => {}
                Node::Section(section) => walk(&section.children, skip_derived, remaining, into),
                Node::Item(item) => {
                    if let (Method::Assessed, Some(max)) = (&item.method, item.max) {
                        let score = (*remaining).min(max);
                        *remaining -= score;
                        into.insert(item.code.clone(), score);
                    }
                }
            }
        }
    }
    let mut remaining = d(total);
    let mut scores = BTreeMap::new();
    walk(&rubric.nodes, skip_derived, &mut remaining, &mut scores);
    assert!(remaining.is_zero(), "total {total} exceeds the rubric");
    scores
}

pub(super) fn sheet(
    evaluation: &EvaluationInfo,
    subject: &SubjectInfo,
    assessor: Uuid,
    scores: BTreeMap<String, Decimal>,
    recorded_at: DateTime<Utc>,
) -> Scoresheet {
    Scoresheet {
        id: new_id(),
        evaluation_id: evaluation.id,
        subject_id: subject.id,
        assessor_id: assessor,
        recorded_at,
        scores,
    }
}

pub(super) fn ballot(evaluation: &EvaluationInfo, subject: &SubjectInfo, score: &str) -> Ballot {
    Ballot {
        id: new_id(),
        evaluation_id: evaluation.id,
        subject_id: subject.id,
        score: d(score),
        recorded_at: at(2023, 12, 20),
    }
}

pub(super) fn totals_only() -> ScoringSettings {
    ScoringSettings {
        detail: Detail::Totals,
        ..ScoringSettings::default()
    }
}
