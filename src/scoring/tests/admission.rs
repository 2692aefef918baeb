//! Admission (`scoring/admission.rs`): whatever it admits the engine scores without ignoring it;
//! whatever it refuses names a field (proptest over both seeds' rubrics).

use proptest::prelude::*;

use super::*;
use crate::scoring::admission::{admit_ballot, admit_finding, admit_scoresheet, FindingDraft, FindingRules, Refusal};
use crate::scoring::IncidentKind;

/// Every item code of a built-in rubric, and every rule code of it.
fn codes(rubric: &Rubric) -> (Vec<String>, Vec<String>) {
    let items: Vec<String> = rubric.items().iter().map(|i| i.code.clone()).collect();
    let mut rules = Vec::new();
    for item in rubric.items() {
        match &item.method {
            Method::Deduction(m) => rules.extend(m.rules.iter().map(|r| r.code.clone())),
            Method::Bonus(m) => rules.extend(m.rules.iter().map(|r| r.code.clone())),
            Method::Adjustment(m) => rules.extend(m.rules.iter().map(|r| r.code.clone())),
            _ => {}
        }
    }
    rules.push("no_such_rule".to_owned());
    (items, rules)
}

fn rubrics() -> Vec<(SubjectType, Rubric)> {
    let mut all = vec![(SubjectType::Village, rubric_of(&seed_a(), SubjectType::Village))];
    for (subject_type, config) in &seed_b().subject_types {
        all.push((*subject_type, config.rubric.clone()));
    }
    all
}

/// A generated draft: indexes into the rubric's codes and raw field values, most of them
/// plausible, some not.
#[derive(Debug, Clone)]
struct Raw {
    rubric: usize,
    kind: Option<usize>,
    item: Option<usize>,
    rule: Option<usize>,
    month: u32,
    year_off: bool,
    quantity: Option<i32>,
    period: Option<usize>,
    rate: Option<i64>,
    counts: Option<(i32, i32)>,
    amount: Option<i64>,
    points: Option<i64>,
    event_key: Option<bool>,
    note: Option<bool>,
}

fn raw() -> impl Strategy<Value = Raw> {
    (
        (
            0usize..6,
            proptest::option::of(0usize..8),
            proptest::option::weighted(0.9, 0usize..64),
            proptest::option::of(0usize..64),
        ),
        (
            1u32..=12,
            proptest::bool::weighted(0.05),
            proptest::option::of(-2i32..30),
        ),
        (
            proptest::option::of(0usize..4),
            proptest::option::of(-500i64..11_000),
            proptest::option::of((-1i32..40, -1i32..40)),
        ),
        (
            proptest::option::of(-1_000i64..60_000_000),
            proptest::option::of(-1_500i64..1_500),
            proptest::option::of(any::<bool>()),
            proptest::option::weighted(0.7, any::<bool>()),
        ),
    )
        .prop_map(
            |(
                (rubric, kind, item, rule),
                (month, year_off, quantity),
                (period, rate, counts),
                (amount, points, event_key, note),
            )| Raw {
                rubric,
                kind,
                item,
                rule,
                month,
                year_off,
                quantity,
                period,
                rate,
                counts,
                amount,
                points,
                event_key,
                note,
            },
        )
}

const KINDS: [IncidentKind; 8] = [
    IncidentKind::Deduction,
    IncidentKind::Bonus,
    IncidentKind::Measurement,
    IncidentKind::Amount,
    IncidentKind::Adjustment,
    IncidentKind::Veto,
    IncidentKind::MajorFailure,
    IncidentKind::Dereliction,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn admitted_findings_are_scored_and_refusals_name_a_field(raw in raw()) {
        let all = rubrics();
        let (subject_type, rubric) = &all[raw.rubric % all.len()];
        let (items, rules) = codes(rubric);
        let item = raw.item.map(|i| items[i % items.len()].clone());
        let rule = raw.rule.map(|r| rules[r % rules.len()].clone());
        let evidence: Vec<String> = Vec::new();
        let draft = FindingDraft {
            kind: raw.kind.map(|k| KINDS[k]),
            item_code: item.as_deref(),
            rule_code: rule.as_deref(),
            occurred_on: date(if raw.year_off { 2024 } else { 2023 }, raw.month, 15),
            quantity: raw.quantity,
            period: raw.period.map(|p| Quarter::ALL[p]),
            rate: raw.rate.map(|r| Decimal::new(r, 2)),
            sampled: raw.counts.map(|c| c.0),
            correct: raw.counts.map(|c| c.1),
            amount: raw.amount.map(|a| Decimal::new(a, 0)),
            points: raw.points.map(|p| Decimal::new(p, 1)),
            event_key: raw.event_key.map(|k| if k { "2023 县级先进集体" } else { "  " }),
            note: raw.note.map(|n| if n { "依据督查通报" } else { " " }),
            evidence: &evidence,
        };
        let rules = FindingRules { rubric, subject_type: *subject_type, year: 2023 };
        match admit_finding(&rules, &draft, &|_, _| false) {
            Ok(admitted) => {
                let subject = subject(*subject_type, "对象");
                let finding = finding(&subject, item.as_deref(), rule.as_deref(), draft.occurred_on, admitted.detail());
                let result = score(rubric, &subject, year_2023(), std::slice::from_ref(&finding), &[]);
                prop_assert!(
                    result.ignored.iter().all(|i| i.finding_id != finding.id),
                    "admitted but ignored: {:?} {:?}", draft, result.ignored
                );
                prop_assert_eq!(admitted.kind.is_itemless(), item.is_none());
            }
            Err(Refusal::Invalid(violations)) => {
                prop_assert!(!violations.is_empty());
                for v in &violations {
                    prop_assert!(!v.field.is_empty() && v.code.contains('.') && !v.message.is_empty(), "{:?}", v);
                }
            }
            Err(Refusal::Conflict(v)) => prop_assert!(false, "nothing is measured yet: {:?}", v),
        }
    }

    #[test]
    fn ballots_are_admitted_exactly_from_0_to_100_with_one_decimal(tenths in -50i64..1_100, extra in 0i64..10) {
        let score = Decimal::new(tenths * 10 + extra, 2);
        let expected = (0..=1000).contains(&tenths) && extra == 0;
        prop_assert_eq!(admit_ballot(score).is_ok(), expected);
    }
}

#[test]
fn a_second_measurement_of_a_quarter_is_a_conflict() {
    let rubric = rubric_of(&seed_a(), SubjectType::Village);
    let evidence = Vec::new();
    let draft = FindingDraft {
        item_code: Some("1.2"),
        occurred_on: date(2023, 3, 31),
        period: Some(Quarter::Q1),
        rate: Some(d("88.5")),
        evidence: &evidence,
        ..FindingDraft::default()
    };
    let rules = FindingRules {
        rubric: &rubric,
        subject_type: SubjectType::Village,
        year: 2023,
    };
    assert!(admit_finding(&rules, &draft, &|_, _| false).is_ok());
    let refused = admit_finding(&rules, &draft, &|item, quarter| item == "1.2" && quarter == Quarter::Q1);
    assert!(matches!(refused, Err(Refusal::Conflict(v)) if v.field == "period"));
}

#[test]
fn scoresheets_name_each_bad_item_and_skip_derived_sections_without_special_indicators() {
    let rubric = rubric_of(&seed_b(), SubjectType::Department);
    let derived = crate::scoring::admission::derived_items(&rubric);
    let some_derived = derived
        .iter()
        .next()
        .expect("Seed B departments derive a section")
        .to_string();
    let mut scores = BTreeMap::new();
    scores.insert(some_derived.clone(), d("1"));
    scores.insert("9.9".to_owned(), d("1"));
    assert!(admit_scoresheet(&rubric, true, &BTreeMap::from([(some_derived.clone(), d("1"))]), "一组").is_ok());
    let refused = admit_scoresheet(&rubric, false, &scores, "一组").unwrap_err();
    let mut fields: Vec<(String, &str)> = refused.iter().map(|v| (v.field.clone(), v.code)).collect();
    fields.sort();
    let mut expected = vec![
        (format!("scores.{some_derived}"), "scoresheet.item_derived"),
        ("scores.9.9".to_owned(), "scoresheet.item_unknown"),
    ];
    expected.sort();
    assert_eq!(fields, expected);
}
