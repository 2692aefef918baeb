//! One test per method rule and DOMAIN decision (§5.1–§5.7).

use super::*;
use crate::scoring::{ContributionNote, ContributionSource, IgnoredReason, ItemStatus, Missing, SteppedAmount};

fn village() -> SubjectInfo {
    subject(SubjectType::Village, "童市村")
}

// §5.2 deduction

#[test]
fn deductions_are_points_per_unit_times_quantity() {
    let v = village();
    let on = date(2023, 3, 1);
    let result = score_village(
        &v,
        &[
            deduction(&v, "1.1", "L1", 4, on),
            deduction(&v, "1.1", "L2", 5, on),
            deduction(&v, "1.1", "L3", 7, on),
        ],
    );
    assert_eq!(item_score(&result, "1.1"), Some(x("15.8")));
    let item = result.item("1.1").unwrap();
    let moved: Vec<_> = item
        .explanation
        .contributions
        .iter()
        .map(|c| (c.rule_code.clone().unwrap(), c.points.clone().unwrap()))
        .collect();
    assert_eq!(
        moved,
        vec![
            ("L1".to_owned(), x("-2")),
            ("L2".to_owned(), x("-1.5")),
            ("L3".to_owned(), x("-0.7"))
        ]
    );
    assert_eq!(
        item.explanation.contributions[0].rule_label.as_deref(),
        Some("一级规则每条扣0.5分")
    );
    assert_eq!(item.explanation.contributions[0].quantity, Some(4));
}

#[test]
fn deductions_stop_at_the_items_points() {
    let v = village();
    let result = score_village(
        &v,
        &[
            deduction(&v, "2.1", "member_unclear", 3, date(2023, 2, 1)),
            deduction(&v, "2.1", "missed_household", 1, date(2023, 3, 1)),
        ],
    );
    assert_eq!(item_score(&result, "2.1"), Some(x("0")));
    let contributions = &result.item("2.1").unwrap().explanation.contributions;
    assert_eq!(contributions[1].nominal_points, Some(x("-10")));
    assert_eq!(contributions[1].points, Some(x("-1")));
    assert_eq!(contributions[1].notes, vec![ContributionNote::CappedAtItemMax]);
    // The total loses exactly the item's 10 points, no more.
    assert_eq!(result.total, Some(x("70")));
}

#[test]
fn uncapped_criticism_pushes_an_item_below_zero() {
    let v = village();
    let on = date(2023, 5, 1);
    let result = score_village(
        &v,
        &[
            deduction(&v, "3.1", "criticized", 3, on),
            deduction(&v, "3.1", "missing_doc", 1, on),
        ],
    );
    // 5 − min(5, 2) − 9 = −6: the item eats 11 points of the total.
    assert_eq!(item_score(&result, "3.1"), Some(x("-6")));
    assert_eq!(result.section("3").unwrap().subtotal, Some(x("4")));
    assert_eq!(result.total, Some(x("69")));
    let notes = &result.item("3.1").unwrap().explanation.contributions[0].notes;
    assert_eq!(notes, &vec![ContributionNote::Uncapped]);
}

#[test]
fn the_same_rule_code_in_another_item_is_that_items_rule() {
    let v = village();
    let on = date(2023, 5, 1);
    // `criticized` is uncapped in 3.1 but capped in 3.2.
    let result = score_village(&v, &[deduction(&v, "3.2", "criticized", 3, on)]);
    assert_eq!(item_score(&result, "3.2"), Some(x("0")));
}

// §5.3 rate band

fn rate_result(rates: &[(Quarter, MeasuredRate)]) -> RubricResult {
    let v = village();
    let findings: Vec<Finding> = rates
        .iter()
        .map(|(quarter, rate)| {
            let start = quarter.start(2023).unwrap();
            measurement(&v, "1.2", *quarter, rate.clone(), start + chrono::Days::new(80))
        })
        .collect();
    score_village(&v, &findings)
}

#[test]
fn rate_band_cases_meet_at_the_boundaries() {
    let cases = [
        ("90", "10"),     // at full credit: nothing
        ("95.5", "10"),   // above
        ("89", "9.9"),    // 0.1 per point below 90
        ("82.5", "9.25"), // proportional: 0.75
        ("65", "7.5"),    // the two cases meet: 2.5
        ("64.99", "7.5"), // below 65: the whole quarter
        ("0", "7.5"),
    ];
    for (rate, expected) in cases {
        let result = rate_result(&[(Quarter::Q1, MeasuredRate::Percent(d(rate)))]);
        assert_eq!(item_score(&result, "1.2"), Some(x(expected)), "rate {rate}");
    }
}

#[test]
fn rate_from_counts_is_exact() {
    // 33 of 40 correct = 82.5 % → 0.75
    let result = rate_result(&[(
        Quarter::Q2,
        MeasuredRate::Counts {
            sampled: 40,
            correct: 33,
        },
    )]);
    assert_eq!(item_score(&result, "1.2"), Some(x("9.25")));
    let contribution = &result.item("1.2").unwrap().explanation.contributions[0];
    assert_eq!(contribution.rate, Some(x("82.5")));
    assert_eq!(contribution.period, Some(Quarter::Q2));
}

#[test]
fn unmeasured_periods_deduct_nothing_and_are_listed() {
    let result = rate_result(&[(Quarter::Q1, MeasuredRate::Percent(d("92")))]);
    assert_eq!(item_score(&result, "1.2"), Some(x("10")));
    let unmeasured: Vec<Quarter> = result
        .missing
        .iter()
        .filter_map(|missing| match missing {
            Missing::UnmeasuredPeriod { period, .. } => Some(*period),
            Missing::UnscoredItem { .. } => None,
        })
        .collect();
    assert_eq!(unmeasured, vec![Quarter::Q2, Quarter::Q3, Quarter::Q4]);
}

#[test]
fn only_periods_starting_inside_the_window_are_missing() {
    let v = village();
    let rubric = rubric_of(&seed_a(), SubjectType::Village);
    let june = crate::scoring::monthly_window(2023, 6).unwrap();
    let result = score(&rubric, &v, june, &[], &[]);
    let unmeasured = result
        .missing
        .iter()
        .filter(|missing| matches!(missing, Missing::UnmeasuredPeriod { .. }))
        .count();
    assert_eq!(unmeasured, 2, "Q1 and Q2 start by June");
}

#[test]
fn a_later_measurement_of_a_period_replaces_an_earlier_one() {
    let v = village();
    let first = measurement(
        &v,
        "1.2",
        Quarter::Q1,
        MeasuredRate::Percent(d("60")),
        date(2023, 3, 30),
    );
    let mut second = measurement(
        &v,
        "1.2",
        Quarter::Q1,
        MeasuredRate::Percent(d("85")),
        date(2023, 3, 30),
    );
    second.recorded_at = first.recorded_at + chrono::Duration::hours(1);
    let result = score_village(&v, &[second.clone(), first.clone()]);
    assert_eq!(item_score(&result, "1.2"), Some(x("9.5")));
    let superseded = result
        .item("1.2")
        .unwrap()
        .explanation
        .contributions
        .iter()
        .find(|c| {
            c.source
                == ContributionSource::Finding {
                    finding_id: first.id,
                    occurred_on: first.occurred_on,
                }
        })
        .unwrap();
    assert_eq!(
        superseded.notes,
        vec![ContributionNote::Superseded {
            counted_finding_id: second.id
        }]
    );
}

#[test]
fn out_of_range_rates_are_ignored_with_a_reason() {
    let v = village();
    let bad = measurement(
        &v,
        "1.2",
        Quarter::Q1,
        MeasuredRate::Counts {
            sampled: 10,
            correct: 11,
        },
        date(2023, 3, 1),
    );
    let result = score_village(&v, std::slice::from_ref(&bad));
    assert_eq!(item_score(&result, "1.2"), Some(x("10")));
    assert_eq!(result.ignored[0].finding_id, bad.id);
    assert_eq!(result.ignored[0].reason, IgnoredReason::InvalidValue);
}

// §5.4 bonus

#[test]
fn the_same_event_at_county_and_city_counts_once_at_the_higher_level() {
    let v = village();
    let county = bonus(&v, "4.1", "county", Some("2023 先进集体"), date(2023, 6, 1));
    let city = bonus(&v, "4.1", "city", Some("2023 先进集体"), date(2023, 9, 1));
    let result = score_village(&v, &[county.clone(), city.clone()]);
    assert_eq!(item_score(&result, "4.1"), Some(x("5")));
    let contributions = &result.item("4.1").unwrap().explanation.contributions;
    assert_eq!(contributions[0].points, Some(x("0")));
    assert_eq!(
        contributions[0].notes,
        vec![ContributionNote::NonStacking {
            counted_finding_id: city.id
        }]
    );
    assert_eq!(contributions[1].points, Some(x("5")));
}

#[test]
fn distinct_events_add_up() {
    let v = village();
    let result = score_village(
        &v,
        &[
            bonus(&v, "4.1", "county", Some("先进集体"), date(2023, 6, 1)),
            bonus(&v, "4.1", "city", Some("防返贫监测先进"), date(2023, 9, 1)),
            bonus(&v, "4.2", "province", Some("典型"), date(2023, 10, 1)),
            bonus(&v, "4.3", "key_project", None, date(2023, 11, 1)),
        ],
    );
    assert_eq!(item_score(&result, "4.1"), Some(x("8")));
    assert_eq!(item_score(&result, "4.2"), Some(x("15")));
    assert_eq!(item_score(&result, "4.3"), Some(x("5")));
    assert_eq!(result.section("4").unwrap().subtotal, Some(x("28")));
    // Bonuses lift the total above the base of 80.
    assert_eq!(result.total, Some(x("108")));
    assert_eq!(result.full_marks, d("80"));
}

#[test]
fn a_bonus_without_an_event_key_is_an_achievement_of_its_own() {
    let v = village();
    let keyed = bonus(&v, "4.1", "city", Some("先进集体"), date(2023, 6, 1));
    let unkeyed = bonus(&v, "4.1", "county", None, date(2023, 9, 1));
    let result = score_village(&v, &[keyed, unkeyed]);
    assert_eq!(item_score(&result, "4.1"), Some(x("8")));
}

#[test]
fn a_bonus_cap_limits_the_item() {
    let mut rubric = rubric_of(&seed_a(), SubjectType::Village);
    if let Some(Node::Section(section)) = rubric.nodes.get_mut(3) {
        if let Some(Node::Item(item)) = section.children.get_mut(2) {
            if let Method::Bonus(method) = &mut item.method {
                method.cap = Some(d("7"));
            }
        }
    }
    let v = village();
    let findings = [
        bonus(&v, "4.3", "key_project", None, date(2023, 6, 1)),
        bonus(&v, "4.3", "key_project", None, date(2023, 7, 1)),
    ];
    let result = score(&rubric, &v, year_2023(), &findings, &[]);
    assert_eq!(item_score(&result, "4.3"), Some(x("7")));
    let notes = &result.item("4.3").unwrap().explanation.contributions[1].notes;
    assert_eq!(notes, &vec![ContributionNote::ItemCap]);
}

// §5.5 stepped amount

#[test]
fn stepped_amount_thresholds() {
    let steps = SteppedAmount {
        threshold: d("200000"),
        base: d("1"),
        step: d("100000"),
        cap: d("5"),
    };
    let cases = [
        ("199999.99", "0"),
        ("200000", "1"),
        ("299999", "1"),
        ("300000", "2"),
        ("600000", "5"),
        ("10000000", "5"),
        ("0", "0"),
    ];
    for (value, points) in cases {
        assert_eq!(steps.points(d(value)), d(points), "amount {value}");
    }
}

#[test]
fn social_funds_sum_the_windows_amounts_and_count_towards_the_bonus_cap() {
    let rubric = rubric_of(&seed_b(), SubjectType::Department);
    let dept = subject(SubjectType::Department, "县教育局");
    let findings = [
        amount(&dept, "3", Some("social_funds"), "150000", date(2023, 3, 1)),
        amount(&dept, "3", Some("social_funds"), "160000", date(2023, 8, 1)),
        adjustment(&dept, "3", Some("bonus"), "8", date(2023, 9, 1)),
    ];
    let result = score(&rubric, &dept, year_2023(), &findings, &[]);
    // 310 000 yuan → 2 points; 8 + 2 = 10, exactly the cap.
    assert_eq!(item_score(&result, "3"), Some(x("10")));
    let total = result
        .item("3")
        .unwrap()
        .explanation
        .contributions
        .iter()
        .find(|c| matches!(c.source, ContributionSource::AmountTotal { .. }))
        .unwrap()
        .clone();
    assert_eq!(total.amount, Some(d("310000")));
    assert_eq!(total.points, Some(x("2")));
    // Only the first half-year: 150 000 is below the threshold.
    let h1 = Period::H1.window(2023).unwrap();
    let result = score(&rubric, &dept, h1, &findings[..2], &[]);
    assert_eq!(item_score(&result, "3"), Some(x("0")));
}

// §5.7 adjustment

#[test]
fn adjustments_are_capped_ten_each_way() {
    let rubric = rubric_of(&seed_b(), SubjectType::Township);
    let town = subject(SubjectType::Township, "童市镇");
    let on = date(2023, 4, 1);
    let bonuses = [
        adjustment(&town, "5", Some("bonus"), "6", on),
        adjustment(&town, "5", Some("bonus"), "7", on),
    ];
    let result = score(&rubric, &town, year_2023(), &bonuses, &[]);
    assert_eq!(item_score(&result, "5"), Some(x("10")));
    assert_eq!(
        result.item("5").unwrap().explanation.contributions[1].notes,
        vec![ContributionNote::BonusCap]
    );
    let penalties = [
        adjustment(&town, "5", Some("penalty"), "-4", on),
        adjustment(&town, "5", None, "-8", on),
    ];
    let result = score(&rubric, &town, year_2023(), &penalties, &[]);
    assert_eq!(item_score(&result, "5"), Some(x("-10")));
    let both: Vec<Finding> = bonuses.iter().chain(&penalties).cloned().collect();
    let result = score(&rubric, &town, year_2023(), &both, &[]);
    assert_eq!(item_score(&result, "5"), Some(x("0")));
}

#[test]
fn a_rule_bounds_one_findings_points() {
    let mut rubric = rubric_of(&seed_b(), SubjectType::Township);
    if let Some(Node::Item(item)) = rubric.nodes.get_mut(4) {
        if let Method::Adjustment(method) = &mut item.method {
            method.rules[0].kind = crate::scoring::AdjustmentRuleKind::Manual {
                max_points: Some(d("3")),
                direction: None,
            };
        }
    }
    let town = subject(SubjectType::Township, "童市镇");
    let findings = [adjustment(&town, "5", Some("bonus"), "5", date(2023, 4, 1))];
    let result = score(&rubric, &town, year_2023(), &findings, &[]);
    assert_eq!(item_score(&result, "5"), Some(x("3")));
    assert_eq!(
        result.item("5").unwrap().explanation.contributions[0].notes,
        vec![ContributionNote::RuleBound { max_points: d("3") }]
    );
}

// §5.1 assessed

#[test]
fn assessed_items_take_the_mean_of_the_assessors() {
    let rubric = rubric_of(&seed_b(), SubjectType::AgriTech);
    let tech = subject(SubjectType::AgriTech, "李技术员");
    let year_end = evaluation(EvaluationKind::YearEnd, "year_end", year_2023());
    let mut first = scores_for_total(&rubric, "100", false);
    first.insert("1".to_owned(), d("6"));
    let mut second = first.clone();
    second.insert("1".to_owned(), d("7"));
    let mut third = first.clone();
    third.insert("1".to_owned(), d("8"));
    let sheets = [
        sheet(&year_end, &tech, new_id(), first, at(2023, 12, 20)),
        sheet(&year_end, &tech, new_id(), second, at(2023, 12, 21)),
        sheet(&year_end, &tech, new_id(), third, at(2023, 12, 22)),
    ];
    let result = score(&rubric, &tech, year_2023(), &[], &sheets);
    assert_eq!(item_score(&result, "1"), Some(x("7")));
    assert_eq!(result.total, Some(x("99")));
    assert_eq!(result.item("1").unwrap().explanation.contributions.len(), 3);
}

#[test]
fn an_assessors_later_sheet_replaces_their_earlier_one() {
    let rubric = rubric_of(&seed_b(), SubjectType::AgriTech);
    let tech = subject(SubjectType::AgriTech, "李技术员");
    let year_end = evaluation(EvaluationKind::YearEnd, "year_end", year_2023());
    let assessor = new_id();
    let sheets = [
        sheet(
            &year_end,
            &tech,
            assessor,
            scores_for_total(&rubric, "90", false),
            at(2023, 12, 20),
        ),
        sheet(
            &year_end,
            &tech,
            assessor,
            scores_for_total(&rubric, "80", false),
            at(2023, 12, 21),
        ),
    ];
    let result = score(&rubric, &tech, year_2023(), &[], &sheets);
    assert_eq!(result.total, Some(x("80")));
}

#[test]
fn single_mode_uses_the_latest_sheet() {
    let rubric = rubric_of(&seed_b(), SubjectType::AgriTech);
    let tech = subject(SubjectType::AgriTech, "李技术员");
    let year_end = evaluation(EvaluationKind::YearEnd, "year_end", year_2023());
    let sheets = [
        sheet(
            &year_end,
            &tech,
            new_id(),
            scores_for_total(&rubric, "70", false),
            at(2023, 12, 22),
        ),
        sheet(
            &year_end,
            &tech,
            new_id(),
            scores_for_total(&rubric, "90", false),
            at(2023, 12, 20),
        ),
    ];
    let settings = ScoringSettings {
        scoresheet_mode: crate::scoring::ScoresheetMode::Single,
        ..ScoringSettings::default()
    };
    let inputs = RubricInputs {
        window: year_2023(),
        as_of: None,
        findings: &[],
        scoresheets: &sheets,
    };
    let result = score_rubric(&rubric, &tech, &inputs, &settings);
    assert_eq!(result.total, Some(x("70")));
    let mean = score_rubric(&rubric, &tech, &inputs, &ScoringSettings::default());
    assert_eq!(mean.total, Some(x("80")));
}

#[test]
fn scores_outside_zero_to_max_are_clamped() {
    let rubric = rubric_of(&seed_b(), SubjectType::AgriTech);
    let tech = subject(SubjectType::AgriTech, "李技术员");
    let year_end = evaluation(EvaluationKind::YearEnd, "year_end", year_2023());
    let mut scores = scores_for_total(&rubric, "100", false);
    scores.insert("1".to_owned(), d("9"));
    let result = score(
        &rubric,
        &tech,
        year_2023(),
        &[],
        &[sheet(&year_end, &tech, new_id(), scores, at(2023, 12, 20))],
    );
    assert_eq!(item_score(&result, "1"), Some(x("8")));
    assert_eq!(
        result.item("1").unwrap().explanation.contributions[0].notes,
        vec![ContributionNote::Clamped { submitted: d("9") }]
    );
}

#[test]
fn unscored_items_leave_the_total_absent() {
    let rubric = rubric_of(&seed_b(), SubjectType::AgriTech);
    let tech = subject(SubjectType::AgriTech, "李技术员");
    let year_end = evaluation(EvaluationKind::YearEnd, "year_end", year_2023());
    let mut scores = scores_for_total(&rubric, "100", false);
    scores.remove("3");
    let result = score(
        &rubric,
        &tech,
        year_2023(),
        &[],
        &[sheet(&year_end, &tech, new_id(), scores, at(2023, 12, 20))],
    );
    assert_eq!(result.total, None);
    assert_eq!(result.published_score, None);
    assert_eq!(result.item("3").unwrap().status, ItemStatus::Unscored);
    assert_eq!(result.item("2").unwrap().status, ItemStatus::Scored);
    assert_eq!(
        result.missing,
        vec![Missing::UnscoredItem {
            item_code: "3".to_owned()
        }]
    );
    // No sheet at all: absent too, not zero.
    let result = score(&rubric, &tech, year_2023(), &[], &[]);
    assert_eq!(result.total, None);
    assert_eq!(result.missing.len(), 5);
}
