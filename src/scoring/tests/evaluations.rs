//! Rubric evaluations as a whole: derived sections, vetoes, as-of, windows, ignored findings.

use super::*;
use crate::scoring::{IgnoredReason, ItemStatus};

fn department_year_end(has_special_indicators: bool, scores: BTreeMap<String, Decimal>) -> RubricResult {
    let rubric = rubric_of(&seed_b(), SubjectType::Department);
    let mut dept = subject(SubjectType::Department, "县农业农村局");
    dept.attributes.has_special_indicators = has_special_indicators;
    let year_end = evaluation(EvaluationKind::YearEnd, "year_end", year_2023());
    let sheets = [sheet(&year_end, &dept, new_id(), scores, at(2023, 12, 20))];
    score(&rubric, &dept, year_2023(), &[], &sheets)
}

#[test]
fn a_department_without_special_indicators_derives_its_special_section() {
    let rubric = rubric_of(&seed_b(), SubjectType::Department);
    // Common indicators 43 of 50; no scores for the special items at all.
    let scores = scores_for_total(&rubric, "43", true);
    let result = department_year_end(false, scores);
    let special = result.section("2").unwrap();
    assert_eq!(special.subtotal, Some(x("43")));
    let derived = special.derived.as_ref().unwrap();
    assert_eq!(derived.from_section, "1");
    assert_eq!(derived.source_subtotal, Some(x("43")));
    assert_eq!(derived.source_points, d("50"));
    // Items show their share: 43 ÷ 50 × 30.
    let item = result.item("2.1").unwrap();
    assert_eq!(item.status, ItemStatus::Derived);
    assert_eq!(item.score, Some(x("25.8")));
    assert_eq!(result.total, Some(x("86")));
    assert!(result.missing.is_empty(), "derived items are not missing");
}

#[test]
fn a_department_with_special_indicators_is_scored_on_them() {
    let rubric = rubric_of(&seed_b(), SubjectType::Department);
    let scores = scores_for_total(&rubric, "43", true);
    // The special items are unscored: the total is absent.
    let result = department_year_end(true, scores);
    assert_eq!(result.total, None);
    assert!(result.section("2").unwrap().derived.is_none());
    let scores = scores_for_total(&rubric, "93", false);
    let result = department_year_end(true, scores);
    assert_eq!(result.section("2").unwrap().subtotal, Some(x("43")));
    assert_eq!(result.total, Some(x("93")));
}

#[test]
fn a_derived_section_has_no_score_when_its_source_is_unscored() {
    let mut scores = BTreeMap::new();
    scores.insert("1.1".to_owned(), d("3"));
    let result = department_year_end(false, scores);
    assert_eq!(result.section("2").unwrap().subtotal, None);
    assert_eq!(result.total, None);
}

#[test]
fn a_veto_marks_the_result_and_keeps_the_score() {
    let v = subject(SubjectType::Village, "童市村");
    let the_veto = veto(&v, date(2023, 7, 1));
    let result = score_village(
        &v,
        &[the_veto.clone(), deduction(&v, "1.3", "error", 10, date(2023, 7, 2))],
    );
    let vetoed = result.vetoed.as_ref().unwrap();
    assert_eq!(vetoed.finding_id, the_veto.id);
    assert_eq!(vetoed.reason, "重点工作被一票否决");
    assert_eq!(result.total, Some(x("79")));
    // Outside the window it does not count.
    let rubric = rubric_of(&seed_a(), SubjectType::Village);
    let h1 = Period::H1.window(2023).unwrap();
    assert!(score(&rubric, &v, h1, &[the_veto], &[]).vetoed.is_none());
}

#[test]
fn the_window_selects_findings_by_occurred_on() {
    let v = subject(SubjectType::Village, "童市村");
    let findings = [
        deduction(&v, "1.3", "error", 10, date(2023, 6, 30)),
        deduction(&v, "1.3", "error", 10, date(2023, 7, 1)),
    ];
    let rubric = rubric_of(&seed_a(), SubjectType::Village);
    let june = crate::scoring::monthly_window(2023, 6).unwrap();
    assert_eq!(score(&rubric, &v, june, &findings, &[]).total, Some(x("79")));
    assert_eq!(score(&rubric, &v, year_2023(), &findings, &[]).total, Some(x("78")));
}

#[test]
fn as_of_leaves_out_later_findings_and_later_revocations() {
    let v = subject(SubjectType::Village, "童市村");
    let rubric = rubric_of(&seed_a(), SubjectType::Village);
    let early = deduction(&v, "1.3", "error", 10, date(2023, 3, 1)); // recorded 1 Mar
    let late = deduction(&v, "1.3", "error", 20, date(2023, 5, 1)); // recorded 1 May
    let mut revoked = deduction(&v, "1.3", "error", 5, date(2023, 2, 1));
    revoked.revoked_at = Some(at(2023, 4, 15));
    let findings = [early, late, revoked];
    let as_of = |instant| {
        score_rubric(
            &rubric,
            &v,
            &RubricInputs {
                window: year_2023(),
                as_of: instant,
                findings: &findings,
                scoresheets: &[],
            },
            &ScoringSettings::default(),
        )
        .total
    };
    // 1 April: the revocation has not happened yet, the May finding is not recorded yet.
    assert_eq!(as_of(Some(at(2023, 4, 1))), Some(x("78.5")));
    // 16 April: revoked.
    assert_eq!(as_of(Some(at(2023, 4, 16))), Some(x("79")));
    // Now: everything recorded, the revocation applied.
    assert_eq!(as_of(None), Some(x("77")));
    // Before anything was recorded.
    assert_eq!(as_of(Some(at(2023, 1, 1))), Some(x("80")));
}

#[test]
fn as_of_leaves_out_later_scoresheets() {
    let rubric = rubric_of(&seed_b(), SubjectType::AgriTech);
    let tech = subject(SubjectType::AgriTech, "李技术员");
    let year_end = evaluation(EvaluationKind::YearEnd, "year_end", year_2023());
    let sheets = [sheet(
        &year_end,
        &tech,
        new_id(),
        scores_for_total(&rubric, "90", false),
        at(2023, 12, 20),
    )];
    let inputs = |as_of| RubricInputs {
        window: year_2023(),
        as_of,
        findings: &[],
        scoresheets: &sheets,
    };
    let settings = ScoringSettings::default();
    assert_eq!(
        score_rubric(&rubric, &tech, &inputs(Some(at(2023, 12, 19))), &settings).total,
        None
    );
    assert_eq!(
        score_rubric(&rubric, &tech, &inputs(Some(at(2023, 12, 20))), &settings).total,
        Some(x("90"))
    );
}

#[test]
fn findings_that_do_not_fit_are_ignored_with_a_reason() {
    let v = subject(SubjectType::Village, "童市村");
    let on = date(2023, 3, 1);
    let unknown_item = deduction(&v, "9.9", "L1", 1, on);
    let unknown_rule = deduction(&v, "1.1", "L9", 1, on);
    let wrong_kind = bonus(&v, "1.1", "L1", None, on);
    let no_item = finding(&v, None, None, on, FindingDetail::Deduction { quantity: 1 });
    let result = score_village(
        &v,
        &[
            unknown_item.clone(),
            unknown_rule.clone(),
            wrong_kind.clone(),
            no_item.clone(),
        ],
    );
    assert_eq!(result.total, Some(x("80")));
    let reasons: Vec<(Uuid, IgnoredReason)> = result
        .ignored
        .iter()
        .map(|ignored| (ignored.finding_id, ignored.reason))
        .collect();
    assert!(reasons.contains(&(unknown_item.id, IgnoredReason::UnknownItem)));
    assert!(reasons.contains(&(unknown_rule.id, IgnoredReason::UnknownRule)));
    assert!(reasons.contains(&(wrong_kind.id, IgnoredReason::DetailMismatch)));
    assert!(reasons.contains(&(no_item.id, IgnoredReason::UnknownItem)));
}

#[test]
fn other_subjects_findings_are_skipped() {
    let v = subject(SubjectType::Village, "童市村");
    let other = subject(SubjectType::Village, "长寿村");
    let result = score_village(&v, &[deduction(&other, "1.3", "error", 10, date(2023, 3, 1))]);
    assert_eq!(result.total, Some(x("80")));
}

#[test]
fn totals_detail_gives_the_same_totals_without_the_breakdown() {
    let v = subject(SubjectType::Village, "童市村");
    let findings = [
        deduction(&v, "3.1", "criticized", 2, date(2023, 3, 1)),
        measurement(
            &v,
            "1.2",
            Quarter::Q1,
            MeasuredRate::Percent(d("70.5")),
            date(2023, 3, 20),
        ),
        veto(&v, date(2023, 4, 1)),
    ];
    let rubric = rubric_of(&seed_a(), SubjectType::Village);
    let full = score(&rubric, &v, year_2023(), &findings, &[]);
    let inputs = RubricInputs {
        window: year_2023(),
        as_of: None,
        findings: &findings,
        scoresheets: &[],
    };
    let totals = score_rubric(&rubric, &v, &inputs, &totals_only());
    assert_eq!(totals.total, full.total);
    assert_eq!(totals.published_score, full.published_score);
    assert_eq!(totals.vetoed, full.vetoed);
    assert!(totals.nodes.is_empty() && totals.missing.is_empty());
}

#[test]
fn published_scores_round_half_up_and_digits_are_configurable() {
    let v = subject(SubjectType::Village, "童市村");
    // 1/3 of the way from 82.5: 33 of 40 … use counts giving a long exact decimal.
    let findings = [measurement(
        &v,
        "1.2",
        Quarter::Q1,
        MeasuredRate::Counts { sampled: 3, correct: 2 },
        date(2023, 3, 20),
    )];
    let rubric = rubric_of(&seed_a(), SubjectType::Village);
    let result = score(&rubric, &v, year_2023(), &findings, &[]);
    // 66.666…% → deduction 2.333…; total 77.666…
    assert!(result.total.unwrap().to_string().starts_with("77.6666"));
    assert_eq!(result.published_score.unwrap().to_string(), "77.67");
    let one_digit = ScoringSettings {
        published_digits: 1,
        ..ScoringSettings::default()
    };
    let inputs = RubricInputs {
        window: year_2023(),
        as_of: None,
        findings: &findings,
        scoresheets: &[],
    };
    let result = score_rubric(&rubric, &v, &inputs, &one_digit);
    assert_eq!(result.published_score.unwrap().to_string(), "77.7");
}

#[test]
fn results_serialise_decimals_as_strings() {
    let v = subject(SubjectType::Village, "童市村");
    let result = score_village(&v, &[deduction(&v, "1.1", "L1", 4, date(2023, 3, 1))]);
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["total"], "78");
    assert_eq!(json["published_score"], "78.00");
    assert_eq!(json["nodes"][0]["kind"], "section");
    assert_eq!(json["nodes"][0]["children"][0]["score"], "18");
    let back: RubricResult = serde_json::from_value(json).unwrap();
    assert_eq!(back, result);
}

#[test]
fn absurd_inputs_never_panic() {
    use crate::scoring::{compute_year, ComputeOptions, FormulaNode, WeightedComponent, YearData};
    let mut scheme = seed_b();
    scheme.options.published_digits = u32::MAX;
    scheme.options.ballot_trim = u32::MAX;
    // Weights that sum to zero and a stepped rule with a zero step (validation would refuse both).
    if let Some(config) = scheme.subject_types.get_mut(&SubjectType::Township) {
        config.annual = FormulaNode::Weighted {
            children: vec![
                WeightedComponent {
                    weight: d("1"),
                    label: None,
                    node: FormulaNode::Own {
                        evaluations: vec![EvaluationKind::YearEnd],
                    },
                },
                WeightedComponent {
                    weight: d("-1"),
                    label: None,
                    node: FormulaNode::Own {
                        evaluations: vec![EvaluationKind::HalfYear],
                    },
                },
            ],
        };
    }
    if let Some(config) = scheme.subject_types.get_mut(&SubjectType::Department) {
        for node in &mut config.rubric.nodes {
            if let Node::Item(item) = node {
                if let Method::Adjustment(method) = &mut item.method {
                    for rule in &mut method.rules {
                        if let crate::scoring::AdjustmentRuleKind::SteppedAmount(steps) = &mut rule.kind {
                            steps.step = Decimal::ZERO;
                        }
                    }
                }
            }
        }
    }
    let town = subject(SubjectType::Township, "镇");
    let dept = subject(SubjectType::Department, "部门");
    let village = subject(SubjectType::Village, "村");
    let year_end = evaluation(EvaluationKind::YearEnd, "year_end", year_2023());
    let half_year = evaluation(EvaluationKind::HalfYear, "half_year", Period::H1.window(2023).unwrap());
    let on = date(2023, 3, 1);
    let mut huge_scores = BTreeMap::new();
    huge_scores.insert("1.1".to_owned(), Decimal::MAX);
    huge_scores.insert("4.1".to_owned(), Decimal::MIN);
    let data = YearData {
        year: 2023,
        subjects: vec![town.clone(), dept.clone(), village.clone()],
        evaluations: vec![year_end.clone(), half_year.clone()],
        findings: vec![
            amount(&dept, "3", Some("social_funds"), &Decimal::MAX.to_string(), on),
            amount(&dept, "3", Some("social_funds"), &Decimal::MAX.to_string(), on),
            adjustment(&town, "5", None, &Decimal::MAX.to_string(), on),
            adjustment(&town, "5", None, &Decimal::MIN.to_string(), on),
            finding(
                &town,
                Some("5"),
                None,
                on,
                FindingDetail::Deduction { quantity: u32::MAX },
            ),
            finding(
                &village,
                Some("1.1"),
                Some("L1"),
                on,
                FindingDetail::Deduction { quantity: u32::MAX },
            ),
        ],
        scoresheets: vec![
            sheet(&year_end, &town, new_id(), huge_scores.clone(), at(2023, 12, 1)),
            sheet(&half_year, &town, new_id(), huge_scores, at(2023, 7, 1)),
        ],
        ballots: Vec::new(),
    };
    for detail in [Detail::Full, Detail::Totals] {
        let options = ComputeOptions {
            detail,
            monthly: Some(12),
            ..ComputeOptions::default()
        };
        assert!(compute_year(&scheme, &data, &options).is_ok());
    }
    // A Seed A village with u32::MAX units of every rule, and an out-of-range year.
    let mut rubric_findings = Vec::new();
    for item in rubric_of(&seed_a(), SubjectType::Village).items() {
        if let Method::Deduction(method) = &item.method {
            for rule in &method.rules {
                rubric_findings.push(deduction(&village, &item.code, &rule.code, u32::MAX, on));
            }
        }
    }
    let result = score_village(&village, &rubric_findings);
    assert!(result.total.is_some());
    let far = YearData {
        year: i32::MAX,
        ..YearData::default()
    };
    assert!(compute_year(&seed_a(), &far, &ComputeOptions::default()).is_err());
}
