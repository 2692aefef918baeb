//! Properties that hold for any findings (proptest).

use proptest::prelude::*;

use super::*;
use crate::scoring::{
    evaluate_annual, AnnualInputs, EvaluationScore, FormulaNode, FormulaResult, FormulaResultNode, LinkRelation,
    LinkedScore, WeightedComponent,
};

/// Every (item, rule) of Seed A's deduction items, and whether the rule is uncapped.
const DEDUCTIONS: &[(&str, &str, bool)] = &[
    ("1.1", "L1", false),
    ("1.1", "L2", false),
    ("1.1", "L3", false),
    ("1.3", "error", false),
    ("2.1", "missing_doc", false),
    ("2.1", "member_unclear", false),
    ("2.1", "missed_household", false),
    ("2.2", "missing_ledger", false),
    ("2.2", "calc_error", false),
    ("2.2", "dissatisfied", false),
    ("2.3", "missing_ledger", false),
    ("2.3", "poor_upkeep", false),
    ("3.1", "criticized", true),
    ("3.1", "missing_doc", false),
    ("3.2", "criticized", false),
    ("3.3", "late", false),
    ("3.3", "early_leave", false),
    ("3.3", "absent", false),
];

const BONUSES: &[(&str, &str)] = &[
    ("4.1", "county"),
    ("4.1", "city"),
    ("4.1", "province"),
    ("4.2", "county"),
    ("4.2", "city"),
    ("4.2", "province"),
    ("4.3", "key_project"),
];

/// What a generated finding is, before it gets an id and a subject.
#[derive(Debug, Clone)]
enum Kind {
    Deduction { rule: usize, quantity: u32 },
    Bonus { rule: usize, event: Option<u8> },
    Measurement { quarter: usize, hundredths: u32 },
    Veto,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        6 => (0..DEDUCTIONS.len(), 1u32..=25).prop_map(|(rule, quantity)| Kind::Deduction { rule, quantity }),
        2 => (0..BONUSES.len(), proptest::option::of(0u8..3)).prop_map(|(rule, event)| Kind::Bonus { rule, event }),
        2 => (0usize..4, 0u32..=10_000).prop_map(|(quarter, hundredths)| Kind::Measurement { quarter, hundredths }),
        1 => Just(Kind::Veto),
    ]
}

/// A generated finding: its kind, day of the year and recording delay in hours.
fn spec() -> impl Strategy<Value = (Kind, u64, i64)> {
    (kind(), 0u64..365, 0i64..2_000)
}

fn build(village: &SubjectInfo, index: usize, (kind, day, delay): &(Kind, u64, i64)) -> Finding {
    let on = date(2023, 1, 1) + chrono::Days::new(*day);
    let mut built = match kind {
        Kind::Deduction { rule, quantity } => {
            let (item, rule, _) = DEDUCTIONS[*rule];
            deduction(village, item, rule, *quantity, on)
        }
        Kind::Bonus { rule, event } => {
            let (item, rule) = BONUSES[*rule];
            let event = event.map(|event| format!("event {event}"));
            bonus(village, item, rule, event.as_deref(), on)
        }
        Kind::Measurement { quarter, hundredths } => measurement(
            village,
            "1.2",
            Quarter::ALL[*quarter],
            MeasuredRate::Percent(Decimal::new(i64::from(*hundredths), 2)),
            on,
        ),
        Kind::Veto => veto(village, on),
    };
    built.id = Uuid::from_u128(1_000_000 + index as u128);
    built.recorded_at += chrono::Duration::hours(*delay);
    built
}

fn build_all(village: &SubjectInfo, specs: &[(Kind, u64, i64)]) -> Vec<Finding> {
    specs
        .iter()
        .enumerate()
        .map(|(index, spec)| build(village, index, spec))
        .collect()
}

fn fixed_village() -> SubjectInfo {
    let mut village = subject(SubjectType::Village, "童市村");
    village.id = Uuid::from_u128(42);
    village
}

fn items(result: &RubricResult) -> Vec<crate::scoring::ItemScore> {
    fn walk(nodes: &[crate::scoring::NodeResult], into: &mut Vec<crate::scoring::ItemScore>) {
        for node in nodes {
            match node {
                crate::scoring::NodeResult::Section(section) => walk(&section.children, into),
                crate::scoring::NodeResult::Item(item) => into.push(item.clone()),
            }
        }
    }
    let mut all = Vec::new();
    walk(&result.nodes, &mut all);
    all
}

proptest! {
    #[test]
    fn item_scores_never_exceed_their_max(specs in proptest::collection::vec(spec(), 0..60)) {
        let village = fixed_village();
        let result = score_village(&village, &build_all(&village, &specs));
        for item in items(&result) {
            if let (Some(max), Some(score)) = (item.max, item.score) {
                prop_assert!(score <= max, "item {} scored {} over {}", item.code, score, max);
            }
        }
    }

    #[test]
    fn capped_deductions_never_push_an_item_below_zero(specs in proptest::collection::vec(spec(), 0..60)) {
        let village = fixed_village();
        let findings = build_all(&village, &specs);
        let result = score_village(&village, &findings);
        for item in items(&result) {
            let uncapped = findings.iter().any(|finding| {
                finding.item_code.as_deref() == Some(item.code.as_str())
                    && DEDUCTIONS.iter().any(|(code, rule, uncapped)| {
                        *uncapped && *code == item.code && finding.rule_code.as_deref() == Some(*rule)
                    })
            });
            if !uncapped {
                prop_assert!(item.score.clone().unwrap_or_default() >= Decimal::ZERO, "item {} below zero", item.code);
            }
        }
    }

    #[test]
    fn adding_a_deduction_never_raises_the_total(
        specs in proptest::collection::vec(spec(), 0..40),
        rule in 0..DEDUCTIONS.len(),
        quantity in 1u32..=25,
        day in 0u64..365,
    ) {
        let village = fixed_village();
        let mut findings = build_all(&village, &specs);
        let before = score_village(&village, &findings).total;
        findings.push(build(&village, 999, &(Kind::Deduction { rule, quantity }, day, 0)));
        let after = score_village(&village, &findings).total;
        prop_assert!(after <= before, "{after:?} > {before:?}");
    }

    #[test]
    fn revoked_findings_never_change_a_result(
        specs in proptest::collection::vec(spec(), 0..40),
        revoked in proptest::collection::vec(spec(), 1..20),
    ) {
        let village = fixed_village();
        let findings = build_all(&village, &specs);
        let mut with_revoked = findings.clone();
        for (index, spec) in revoked.iter().enumerate() {
            let mut finding = build(&village, 500 + index, spec);
            finding.revoked_at = Some(finding.recorded_at + chrono::Duration::hours(1));
            with_revoked.push(finding);
        }
        prop_assert_eq!(score_village(&village, &findings), score_village(&village, &with_revoked));
    }

    #[test]
    fn results_do_not_depend_on_finding_order(
        specs in proptest::collection::vec(spec(), 0..60),
        seed in any::<u64>(),
    ) {
        let village = fixed_village();
        let findings = build_all(&village, &specs);
        let mut shuffled = findings.clone();
        // A deterministic shuffle from the seed.
        let mut state = seed | 1;
        for index in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(index, (state % (index as u64 + 1)) as usize);
        }
        prop_assert_eq!(score_village(&village, &findings), score_village(&village, &shuffled));
    }

    #[test]
    fn renormalised_weights_sum_to_the_parents_weight(
        (a, b) in (1u32..=8).prop_flat_map(|a| (Just(a), 1u32..=(9 - a))),
        x in 1u32..=9,
        present in proptest::collection::vec(any::<bool>(), 5),
        values in proptest::collection::vec(0u32..=10_000, 5),
    ) {
        let weight = |tenths: u32| Decimal::new(i64::from(tenths), 1);
        let leaf = |relation_type: SubjectType| FormulaNode::Linked {
            subject_type: relation_type,
            relation: LinkRelation::DispatchedBy,
        };
        let component = |tenths, node| WeightedComponent { weight: weight(tenths), label: None, node };
        let formula = FormulaNode::Weighted {
            children: vec![
                component(a, FormulaNode::Own { evaluations: vec![EvaluationKind::HalfYear] }),
                component(b, FormulaNode::Own { evaluations: vec![EvaluationKind::YearEnd] }),
                component(10 - a - b, FormulaNode::Weighted {
                    children: vec![
                        component(x, leaf(SubjectType::FirstSecretary)),
                        component(10 - x, FormulaNode::Weighted {
                            children: vec![
                                component(3, leaf(SubjectType::WorkTeam)),
                                component(7, leaf(SubjectType::AgriTech)),
                            ],
                        }),
                    ],
                }),
            ],
        };
        let value = |index: usize| Decimal::new(i64::from(values[index]), 2);
        let mut inputs = AnnualInputs::default();
        for (index, kind) in [EvaluationKind::HalfYear, EvaluationKind::YearEnd].into_iter().enumerate() {
            if present[index] {
                inputs.evaluations.push(EvaluationScore { evaluation_id: new_id(), kind, title: String::new(), value: Some(Exact::from(value(index))) });
            }
        }
        for (index, subject_type) in [SubjectType::FirstSecretary, SubjectType::WorkTeam, SubjectType::AgriTech].into_iter().enumerate() {
            if present[index + 2] {
                inputs.linked.push(LinkedScore {
                    subject_id: new_id(),
                    name: String::new(),
                    subject_type,
                    relation: LinkRelation::DispatchedBy,
                    value: Some(Exact::from(value(index + 2))),
                });
            }
        }
        let result = evaluate_annual(&formula, &inputs, &ScoringSettings::default());
        fn check(node: &FormulaResult) -> Result<(), TestCaseError> {
            if let FormulaResultNode::Weighted { children } = &node.node {
                if !node.absent {
                    // Exact: the present children's shares add up to the parent's, to the last digit.
                    let sum: Exact = children.iter().map(|child| &child.effective_weight).sum();
                    prop_assert!(sum == node.effective_weight,
                        "children sum {:?} vs parent {:?}", sum, node.effective_weight);
                }
                for child in children {
                    check(child)?;
                }
            }
            Ok(())
        }
        check(&result.formula)?;
        prop_assert_eq!(result.value.is_some(), present.iter().any(|present| *present));
        if result.value.is_some() {
            prop_assert_eq!(result.formula.effective_weight, Decimal::ONE);
        }
    }
}
