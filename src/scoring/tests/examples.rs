//! DOMAIN.md §11's worked examples through the built-in schemes and `compute_year`, and the
//! year as a whole: rankings, vetoes, consequences, monthly standings.

use super::*;
use crate::scoring::{
    compute_year, ComputeOptions, Consequence, EvaluationOutcome, Grade, RankingGroup, YearData, YearResults,
};

fn example_a_findings(v: &SubjectInfo) -> Vec<Finding> {
    let on = |month| date(2023, month, 15);
    vec![
        deduction(v, "1.1", "L1", 4, on(2)),
        deduction(v, "1.1", "L2", 5, on(5)),
        deduction(v, "1.1", "L3", 7, on(8)),
        measurement(v, "1.2", Quarter::Q1, MeasuredRate::Percent(d("92")), on(3)),
        measurement(v, "1.2", Quarter::Q2, MeasuredRate::Percent(d("85")), on(6)),
        measurement(v, "1.2", Quarter::Q3, MeasuredRate::Percent(d("70.5")), on(9)),
        measurement(v, "1.2", Quarter::Q4, MeasuredRate::Percent(d("60")), on(12)),
        deduction(v, "1.3", "error", 12, on(4)),
        deduction(v, "2.1", "missed_household", 1, on(7)),
        deduction(v, "3.1", "criticized", 2, on(10)),
        deduction(v, "3.1", "missing_doc", 1, on(11)),
        bonus(v, "4.1", "county", Some("2023 县级脱贫攻坚先进集体"), on(5)),
        bonus(v, "4.1", "city", Some("2023 县级脱贫攻坚先进集体"), on(11)),
    ]
}

fn seed_a_year(villages: &[SubjectInfo], findings: Vec<Finding>) -> (YearData, EvaluationInfo) {
    let year_end = evaluation(EvaluationKind::YearEnd, "year_end", year_2023());
    let data = YearData {
        year: 2023,
        subjects: villages.to_vec(),
        evaluations: vec![year_end.clone()],
        findings,
        scoresheets: Vec::new(),
        ballots: Vec::new(),
    };
    (data, year_end)
}

#[test]
fn example_a_seed_a_village_year_end_is_56_65() {
    let town = new_id();
    let mut v = subject(SubjectType::Village, "童市村");
    v.township_id = Some(town);
    let (data, _) = seed_a_year(&[v.clone()], example_a_findings(&v));
    let results = compute_year(&seed_a(), &data, &ComputeOptions::default()).unwrap();
    let village = results.subject(v.id).unwrap();
    let EvaluationOutcome::Rubric(year_end) = &village.evaluations[0].outcome else {
        panic!("rubric outcome");
    };
    for (code, expected) in [
        ("1.1", "15.8"),
        ("1.2", "5.05"),
        ("1.3", "3.8"),
        ("2.1", "0"),
        ("2.2", "10"),
        ("2.3", "10"),
        ("3.1", "-3"),
        ("3.2", "5"),
        ("3.3", "5"),
        ("4.1", "5"),
        ("4.2", "0"),
        ("4.3", "0"),
    ] {
        assert_eq!(item_score(year_end, code), Some(x(expected)), "item {code}");
    }
    assert_eq!(year_end.total, Some(x("56.65")));
    assert_eq!(year_end.published_score.unwrap().to_string(), "56.65");
    // Annual = the year-end total.
    assert_eq!(village.annual.value, Some(x("56.65")));
    assert_eq!(village.annual.published_score.unwrap().to_string(), "56.65");
    assert!(year_end.missing.is_empty());
}

#[test]
fn example_a_monthly_standings_run_from_january() {
    let town = subject(SubjectType::Township, "童市镇");
    let mut v = subject(SubjectType::Village, "童市村");
    v.township_id = Some(town.id);
    let mut w = subject(SubjectType::Village, "大桥村");
    w.township_id = Some(town.id);
    let mut findings = example_a_findings(&v);
    findings.push(deduction(&w, "3.3", "absent", 1, date(2023, 2, 1)));
    let (mut data, _) = seed_a_year(&[v.clone(), w.clone()], findings);
    data.subjects.push(town.clone());
    let options = ComputeOptions {
        monthly: Some(6),
        ..ComputeOptions::default()
    };
    let results = compute_year(&seed_a(), &data, &options).unwrap();
    let monthly = results.monthly.as_ref().unwrap();
    assert_eq!(monthly.window.to, date(2023, 6, 30));
    let standing = |id| {
        monthly
            .results
            .iter()
            .find(|standing| standing.subject_id == id)
            .unwrap()
            .result
            .total
            .clone()
    };
    // By June: 1.1 −2 −1.5; 1.2 Q1 0, Q2 −0.5; 1.3 −1.2; 4.1 county +3.
    assert_eq!(standing(v.id), Some(x("77.8")));
    assert_eq!(standing(w.id), Some(x("75")));
    let ranking = &monthly.rankings[0];
    assert_eq!(ranking.key, "villages_by_town");
    assert_eq!(
        ranking.group,
        RankingGroup::Township {
            township_id: Some(town.id),
            name: Some("童市镇".to_owned())
        }
    );
    assert_eq!(ranking.entries[0].subject_id, v.id);
    assert_eq!(ranking.entries[0].rank, Some(1));
    // Month 13 is refused, not a panic.
    let bad = ComputeOptions {
        monthly: Some(13),
        ..ComputeOptions::default()
    };
    assert!(compute_year(&seed_a(), &data, &bad).is_err());
}

/// A Seed B year: its half-year, year-end and two democratic evaluations, and the data so far.
pub(super) struct SeedBYear {
    pub(super) data: YearData,
    pub(super) half_year: EvaluationInfo,
    pub(super) year_end: EvaluationInfo,
    pub(super) democratic: [EvaluationInfo; 2],
}

impl SeedBYear {
    pub(super) fn new() -> Self {
        let half_year = evaluation(EvaluationKind::HalfYear, "half_year", Period::H1.window(2023).unwrap());
        let year_end = evaluation(EvaluationKind::YearEnd, "year_end", year_2023());
        let democratic = [
            evaluation(EvaluationKind::Democratic, "democratic_half_year", year_2023()),
            evaluation(EvaluationKind::Democratic, "democratic_year_end", year_2023()),
        ];
        let data = YearData {
            year: 2023,
            evaluations: vec![
                half_year.clone(),
                year_end.clone(),
                democratic[0].clone(),
                democratic[1].clone(),
            ],
            ..YearData::default()
        };
        SeedBYear {
            data,
            half_year,
            year_end,
            democratic,
        }
    }

    pub(super) fn add(&mut self, subject: &SubjectInfo, half_year: &str, year_end: &str, ballots: [&[&str]; 2]) {
        let rubric = rubric_of(&seed_b(), subject.subject_type);
        let skip_derived = !subject.attributes.has_special_indicators;
        for (evaluation, total) in [(&self.half_year, half_year), (&self.year_end, year_end)] {
            self.data.scoresheets.push(sheet(
                evaluation,
                subject,
                new_id(),
                scores_for_total(&rubric, total, skip_derived),
                at(2023, 12, 20),
            ));
        }
        for (evaluation, scores) in self.democratic.iter().zip(ballots) {
            for score in scores {
                self.data.ballots.push(ballot(evaluation, subject, score));
            }
        }
        self.data.subjects.push(subject.clone());
    }

    pub(super) fn compute(&self) -> YearResults {
        compute_year(&seed_b(), &self.data, &ComputeOptions::default()).unwrap()
    }
}

#[test]
fn example_b_seed_b_department_annual_is_87_04() {
    let mut year = SeedBYear::new();
    let dept = subject(SubjectType::Department, "县交通运输局");
    year.add(&dept, "84", "88", [&[], &[]]);
    for score in ["91.2", "86.0"] {
        let mut secretary = subject(SubjectType::FirstSecretary, &format!("书记{score}"));
        secretary.dispatched_by = Some(dept.id);
        year.add(&secretary, score, score, [&[score], &[score]]);
    }
    let results = year.compute();
    let department = results.subject(dept.id).unwrap();
    assert_eq!(department.annual.value, Some(x("87.04")));
    assert_eq!(department.annual.published_score.unwrap().to_string(), "87.04");
    assert!(department.consequences.is_empty());
    assert!(department.grade.is_none(), "departments are not graded");
    // Democratic evaluations do not cover departments.
    assert_eq!(department.evaluations.len(), 2);
}

#[test]
fn example_c_seed_b_first_secretary_is_91_49_excellent() {
    let mut year = SeedBYear::new();
    let secretary = subject(SubjectType::FirstSecretary, "王书记");
    year.add(&secretary, "88.5", "91.0", [&["92.4", "94.0"], &["95.0"]]);
    let results = year.compute();
    let result = results.subject(secretary.id).unwrap();
    assert_eq!(result.annual.value, Some(x("91.49")));
    let graded = result.grade.as_ref().unwrap();
    assert_eq!(graded.grade, Grade::Excellent);
    assert_eq!(graded.title, "优秀");
    assert_eq!(graded.bonus_pay, d("1"));
    assert!(!graded.accountability);
    let democratic: Vec<Option<Exact>> = result
        .evaluations
        .iter()
        .filter(|evaluation| evaluation.kind == EvaluationKind::Democratic)
        .map(|evaluation| evaluation.outcome.value().cloned())
        .collect();
    assert_eq!(democratic, vec![Some(x("93.2")), Some(x("95"))]);
}

#[test]
fn a_vetoed_excellent_secretary_is_competent_for_the_year() {
    let mut year = SeedBYear::new();
    let secretary = subject(SubjectType::FirstSecretary, "王书记");
    year.add(&secretary, "95", "95", [&["95"], &["95"]]);
    year.data.findings.push(veto(&secretary, date(2023, 8, 1)));
    let results = year.compute();
    let result = results.subject(secretary.id).unwrap();
    assert!(result.vetoed.is_some());
    assert_eq!(result.annual.value, Some(x("95")));
    assert_eq!(result.grade.as_ref().unwrap().grade, Grade::Competent);
}

#[test]
fn a_recalled_technician_is_incompetent() {
    let mut year = SeedBYear::new();
    let mut tech = subject(SubjectType::AgriTech, "李技术员");
    tech.attributes.recalled = true;
    year.add(&tech, "95", "95", [&["95"], &["95"]]);
    let results = year.compute();
    assert_eq!(
        results.subject(tech.id).unwrap().grade.as_ref().unwrap().grade,
        Grade::Incompetent
    );
}

#[test]
fn townships_are_ranked_with_prizes_and_consequences() {
    let mut year = SeedBYear::new();
    let mut towns = Vec::new();
    for (index, (score, target_met)) in [
        ("95", true),
        ("90", true),
        ("89", true),
        ("88", true),
        ("88", true),
        ("74", false),
        ("72", false),
        ("70", true),
    ]
    .into_iter()
    .enumerate()
    {
        let mut town = subject(SubjectType::Township, &format!("镇{index}"));
        town.township_id = Some(town.id);
        town.attributes.annual_target_met = target_met;
        year.add(&town, score, score, [&[], &[]]);
        towns.push(town);
    }
    year.data.findings.push(veto(&towns[0], date(2023, 5, 1)));
    let results = year.compute();
    let ranking = results
        .rankings
        .iter()
        .find(|ranking| ranking.key == "townships")
        .unwrap();
    assert_eq!(ranking.group, RankingGroup::All);
    let entry = |town: &SubjectInfo| {
        ranking
            .entries
            .iter()
            .find(|entry| entry.subject_id == town.id)
            .unwrap()
    };
    // Vetoed: rank 1, no prize; among the eligible the tie at 88 straddles the first-prize
    // boundary (prize ranks 3 and 4): both win it.
    assert_eq!((entry(&towns[0]).rank, entry(&towns[0]).prize.clone()), (Some(1), None));
    assert_eq!((entry(&towns[3]).rank, entry(&towns[3]).prize_rank), (Some(4), Some(3)));
    for town in &towns[1..5] {
        assert_eq!(entry(town).prize.as_ref().unwrap().key, "first");
    }
    assert_eq!(entry(&towns[5]).prize.as_ref().unwrap().key, "second");
    // Last three: 74 (missed), 72 (missed), 70 (met): two dismissals.
    let consequences = |town: &SubjectInfo| results.subject(town.id).unwrap().consequences.clone();
    assert_eq!(
        consequences(&towns[5]),
        vec![Consequence::Interview, Consequence::Dismissal]
    );
    assert_eq!(
        consequences(&towns[6]),
        vec![Consequence::Interview, Consequence::Dismissal]
    );
    assert_eq!(consequences(&towns[7]), vec![Consequence::Interview]);
    assert_eq!(entry(&towns[5]).consequences, consequences(&towns[5]));
}

#[test]
fn departments_face_dismissal_within_their_category() {
    let mut year = SeedBYear::new();
    let mut departments = Vec::new();
    for (index, (group, score)) in [
        ("党群", "70"),
        ("党群", "90"),
        ("党群", "91"),
        ("党群", "92"),
        ("经济", "73"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut dept = subject(SubjectType::Department, &format!("部门{index}"));
        dept.attributes.ranking_group = Some(group.to_owned());
        dept.attributes.annual_target_met = false;
        year.add(&dept, score, score, [&[], &[]]);
        departments.push(dept);
    }
    let results = year.compute();
    let categories: Vec<&RankingGroup> = results
        .rankings
        .iter()
        .filter(|ranking| ranking.key == "departments_by_category")
        .map(|ranking| &ranking.group)
        .collect();
    assert_eq!(categories.len(), 2);
    for dept in [&departments[0], &departments[4]] {
        assert_eq!(
            results.subject(dept.id).unwrap().consequences,
            vec![Consequence::Interview, Consequence::Dismissal]
        );
    }
    // The overall ranking shows the dismissal decided in the category ranking.
    let overall = results
        .rankings
        .iter()
        .find(|ranking| ranking.key == "departments")
        .unwrap();
    let entry = overall
        .entries
        .iter()
        .find(|entry| entry.subject_id == departments[4].id)
        .unwrap();
    assert!(entry.consequences.contains(&Consequence::Dismissal));
}

#[test]
fn as_of_applies_to_the_whole_year() {
    let town = new_id();
    let mut v = subject(SubjectType::Village, "童市村");
    v.township_id = Some(town);
    let mut findings = example_a_findings(&v);
    let mut late_veto = veto(&v, date(2023, 12, 1));
    late_veto.recorded_at = at(2024, 1, 5);
    findings.push(late_veto);
    let (data, _) = seed_a_year(&[v.clone()], findings);
    let before = ComputeOptions {
        as_of: Some(at(2023, 7, 1)),
        ..ComputeOptions::default()
    };
    let results = compute_year(&seed_a(), &data, &before).unwrap();
    let result = results.subject(v.id).unwrap();
    // Recorded by 1 July: 1.1 L1, L2 (−3.5); 1.2 Q1, Q2 (−0.5); 1.3 (−1.2); 4.1 county (+3).
    assert_eq!(result.annual.value, Some(x("77.8")));
    assert!(result.vetoed.is_none());
    let now = compute_year(&seed_a(), &data, &ComputeOptions::default()).unwrap();
    assert!(now.subject(v.id).unwrap().vetoed.is_some());
    assert_eq!(now.subject(v.id).unwrap().annual.value, Some(x("56.65")));
}

#[test]
fn totals_detail_gives_the_same_year() {
    let mut year = SeedBYear::new();
    let dept = subject(SubjectType::Department, "县交通运输局");
    year.add(&dept, "84", "88", [&[], &[]]);
    let mut secretary = subject(SubjectType::FirstSecretary, "王书记");
    secretary.dispatched_by = Some(dept.id);
    year.add(&secretary, "88.5", "91.0", [&["93.2"], &["95.0"]]);
    let full = year.compute();
    let totals = compute_year(
        &seed_b(),
        &year.data,
        &ComputeOptions {
            detail: Detail::Totals,
            ..ComputeOptions::default()
        },
    )
    .unwrap();
    for (a, b) in full.subjects.iter().zip(&totals.subjects) {
        assert_eq!(a.annual.value, b.annual.value);
        assert_eq!(a.grade, b.grade);
    }
    assert_eq!(full.rankings, totals.rankings);
    let json = serde_json::to_string(&full).unwrap();
    let back: YearResults = serde_json::from_str(&json).unwrap();
    assert_eq!(back, full);
}
