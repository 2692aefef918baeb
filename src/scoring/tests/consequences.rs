//! Seed B's consequences for individuals and their units, and quarterly assessments of first
//! secretaries (DOMAIN.md §8.5–8.6).

use proptest::prelude::*;

use super::examples::SeedBYear;
use super::*;
use crate::scoring::{
    compute_year, individual_consequences, CauseAttribute, CauseFindingKind, ComputeOptions, Consequence,
    ConsequenceCause, ConsequenceDetail, Grade, YearResults,
};

fn marked(subject: &SubjectInfo, on: NaiveDate, major: bool) -> Finding {
    let reason = "驻村帮扶工作出现重大失误".to_owned();
    finding(
        subject,
        None,
        None,
        on,
        if major {
            FindingDetail::MajorFailure { reason }
        } else {
            FindingDetail::Dereliction { reason }
        },
    )
}

fn codes_of(results: &YearResults, subject: &SubjectInfo) -> Vec<Consequence> {
    results.subject(subject.id).expect("scored").consequences.clone()
}

fn details_of<'a>(results: &'a YearResults, subject: &SubjectInfo) -> &'a [ConsequenceDetail] {
    &results.subject(subject.id).expect("scored").consequence_details
}

#[test]
fn a_recalled_reserve_cadre_is_held_accountable_and_its_units_head_barred_from_honours() {
    let mut year = SeedBYear::new();
    let department = subject(SubjectType::Department, "县农业农村局");
    let mut secretary = subject(SubjectType::FirstSecretary, "李明");
    secretary.dispatched_by = Some(department.id);
    secretary.attributes.recalled = true;
    secretary.attributes.reserve_cadre = true;
    let mut technician = subject(SubjectType::AgriTech, "王农");
    technician.dispatched_by = Some(department.id);
    year.add(&department, "90", "90", [&[], &[]]);
    year.add(&secretary, "95", "95", [&["95"], &["95"]]);
    year.add(&technician, "88", "88", [&["90"], &["90"]]);
    let results = year.compute();

    let result = results.subject(secretary.id).unwrap();
    assert_eq!(result.grade.as_ref().unwrap().grade, Grade::Incompetent);
    assert_eq!(
        codes_of(&results, &secretary),
        vec![Consequence::Accountability, Consequence::ReserveStatusRevoked]
    );
    assert_eq!(
        details_of(&results, &secretary)[1].cause,
        ConsequenceCause::Attribute {
            attributes: vec![CauseAttribute::Recalled, CauseAttribute::ReserveCadre]
        }
    );
    assert!(codes_of(&results, &technician).is_empty());
    // The unit that sent the secretary: its head is barred, naming whom; it keeps its prize.
    assert_eq!(
        codes_of(&results, &department),
        vec![Consequence::HeadBarredFromHonours]
    );
    assert_eq!(
        details_of(&results, &department)[0].cause,
        ConsequenceCause::LinkedSubject {
            subject_id: secretary.id,
            name: "李明".to_owned(),
            subject_type: SubjectType::FirstSecretary,
            attribute: CauseAttribute::Recalled,
        }
    );
    let entry = results
        .rankings
        .iter()
        .find(|ranking| ranking.key == "departments")
        .and_then(|ranking| ranking.entries.iter().find(|e| e.subject_id == department.id))
        .unwrap();
    assert_eq!(entry.prize.as_ref().map(|p| p.key.as_str()), Some("first"));
    assert_eq!(entry.consequences, vec![Consequence::HeadBarredFromHonours]);
    assert_eq!(entry.consequence_details, details_of(&results, &department));
}

#[test]
fn a_recalled_individual_without_reserve_status_only_faces_accountability() {
    let mut year = SeedBYear::new();
    let mut technician = subject(SubjectType::AgriTech, "王农");
    technician.attributes.recalled = true;
    year.add(&technician, "88", "88", [&["90"], &["90"]]);
    let results = year.compute();
    assert_eq!(codes_of(&results, &technician), vec![Consequence::Accountability]);
}

#[test]
fn a_work_teams_major_failure_removes_its_leader_while_the_finding_counts() {
    let mut year = SeedBYear::new();
    let team = subject(SubjectType::WorkTeam, "南江村驻村工作队");
    year.add(&team, "85", "85", [&["85"], &["85"]]);
    let failure = marked(&team, date(2023, 9, 8), true);
    year.data.findings.push(failure.clone());
    let results = year.compute();
    assert_eq!(
        codes_of(&results, &team),
        vec![Consequence::LeaderRemoved, Consequence::MembersPenalised]
    );
    for detail in details_of(&results, &team) {
        assert_eq!(
            detail.cause,
            ConsequenceCause::Finding {
                finding_id: failure.id,
                kind: CauseFindingKind::MajorFailure,
                occurred_on: failure.occurred_on,
                reason: "驻村帮扶工作出现重大失误".to_owned(),
            }
        );
    }
    // Moves no points.
    let without = {
        let mut clean = year.data.clone();
        clean.findings.clear();
        compute_year(&seed_b(), &clean, &ComputeOptions::default()).unwrap()
    };
    assert_eq!(
        results.subject(team.id).unwrap().annual,
        without.subject(team.id).unwrap().annual
    );
    // As of before it was recorded, and once revoked: no consequence.
    let before = ComputeOptions {
        as_of: Some(at(2023, 9, 1)),
        ..ComputeOptions::default()
    };
    assert!(codes_of(&compute_year(&seed_b(), &year.data, &before).unwrap(), &team).is_empty());
    year.data.findings[0].revoked_at = Some(at(2023, 10, 1));
    assert!(codes_of(&year.compute(), &team).is_empty());
}

#[test]
fn derelictions_bring_accountability_on_any_subject_once_per_finding() {
    let mut year = SeedBYear::new();
    let town = subject(SubjectType::Township, "南江镇");
    year.add(&town, "90", "90", [&[], &[]]);
    year.data.findings.push(marked(&town, date(2023, 3, 1), false));
    year.data.findings.push(marked(&town, date(2023, 8, 1), false));
    // A major failure only counts against a work team.
    year.data.findings.push(marked(&town, date(2023, 8, 2), true));
    let results = year.compute();
    assert_eq!(codes_of(&results, &town), vec![Consequence::Accountability]);
    assert_eq!(details_of(&results, &town).len(), 2);
}

#[test]
fn a_vertically_managed_department_is_referred_to_its_supervisor() {
    let mut year = SeedBYear::new();
    let mut departments = Vec::new();
    for (index, (score, vertical)) in [("70", true), ("71", false), ("90", false), ("91", true)]
        .into_iter()
        .enumerate()
    {
        let mut dept = subject(SubjectType::Department, &format!("部门{index}"));
        dept.attributes.ranking_group = Some("经济类".to_owned());
        dept.attributes.annual_target_met = false;
        dept.attributes.vertically_managed = vertical;
        year.add(&dept, score, score, [&[], &[]]);
        departments.push(dept);
    }
    let results = year.compute();
    let referred = |dept: &SubjectInfo| -> Vec<(Consequence, bool)> {
        details_of(&results, dept)
            .iter()
            .map(|d| (d.code, d.referred_to_supervisor))
            .collect()
    };
    assert_eq!(
        referred(&departments[0]),
        vec![(Consequence::Interview, true), (Consequence::Dismissal, true)]
    );
    assert_eq!(
        referred(&departments[1]),
        vec![(Consequence::Interview, false), (Consequence::Dismissal, false)]
    );
    assert!(referred(&departments[3]).is_empty());
    for ranking in &results.rankings {
        for entry in &ranking.entries {
            assert_eq!(
                entry.consequence_details,
                results.subject(entry.subject_id).unwrap().consequence_details
            );
        }
    }
}

#[test]
fn quarterly_assessments_are_listed_beside_an_unchanged_annual_score() {
    let mut year = SeedBYear::new();
    let secretary = subject(SubjectType::FirstSecretary, "李明");
    year.add(&secretary, "90", "92", [&["95"], &["93"]]);
    let before = year.compute();
    let quarters: Vec<EvaluationInfo> = [(Period::Q1, "quarterly_q1"), (Period::Q3, "quarterly_q3")]
        .into_iter()
        .map(|(period, key)| evaluation(EvaluationKind::Quarterly, key, period.window(2023).unwrap()))
        .collect();
    let rubric = rubric_of(&seed_b(), SubjectType::FirstSecretary);
    for (quarter, total) in quarters.iter().zip(["88.5", "70"]) {
        year.data.evaluations.push(quarter.clone());
        year.data.scoresheets.push(sheet(
            quarter,
            &secretary,
            new_id(),
            scores_for_total(&rubric, total, false),
            at(2023, 12, 20),
        ));
    }
    let after = year.compute();
    let result = after.subject(secretary.id).unwrap();
    assert_eq!(result.annual, before.subject(secretary.id).unwrap().annual);
    assert_eq!(result.grade, before.subject(secretary.id).unwrap().grade);
    let listed: Vec<(Quarter, bool, Option<Decimal>)> = result
        .quarterly
        .iter()
        .map(|q| (q.quarter, q.absent, q.published_score))
        .collect();
    assert_eq!(
        listed,
        vec![
            (Quarter::Q1, false, Some(d("88.50"))),
            (Quarter::Q2, true, None),
            (Quarter::Q3, false, Some(d("70.00"))),
            (Quarter::Q4, true, None),
        ]
    );
    assert_eq!(result.quarterly[0].evaluation_id, Some(quarters[0].id));
    // Each quarter is ranked like any evaluation.
    let q3 = after
        .evaluation_rankings
        .iter()
        .find(|e| e.evaluation_id == quarters[1].id)
        .unwrap();
    assert_eq!(q3.rankings[0].key, "first_secretaries");
    assert_eq!(q3.rankings[0].entries[0].published_score, Some(d("70.00")));
    // Types no quarterly template covers list no quarters.
    let mut other = SeedBYear::new();
    let town = subject(SubjectType::Township, "南江镇");
    other.add(&town, "90", "90", [&[], &[]]);
    assert!(other.compute().subject(town.id).unwrap().quarterly.is_empty());
}

/// One generated subject with its §8.5 inputs.
#[derive(Debug, Clone)]
struct Case {
    subject_type: SubjectType,
    recalled: bool,
    reserve_cadre: bool,
    /// (major failure?, month, revoked?)
    findings: Vec<(bool, u32, bool)>,
    /// (type, recalled) of the individuals it sent.
    sent: Vec<(SubjectType, bool)>,
}

fn case() -> impl Strategy<Value = Case> {
    let types = prop_oneof![
        Just(SubjectType::Township),
        Just(SubjectType::Department),
        Just(SubjectType::FirstSecretary),
        Just(SubjectType::WorkTeam),
        Just(SubjectType::AgriTech),
    ];
    let individuals = prop_oneof![
        Just(SubjectType::FirstSecretary),
        Just(SubjectType::WorkTeam),
        Just(SubjectType::AgriTech),
    ];
    (
        types,
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec((any::<bool>(), 1u32..=12, any::<bool>()), 0..5),
        proptest::collection::vec((individuals, any::<bool>()), 0..4),
    )
        .prop_map(|(subject_type, recalled, reserve_cadre, findings, sent)| Case {
            subject_type,
            recalled,
            reserve_cadre,
            findings,
            sent,
        })
}

proptest! {
    /// The codes are exactly those §8.5 names, each with its own cause: recall of a first
    /// secretary or technician → accountability (+ reserve_status_revoked for a reserve cadre);
    /// each active major failure of a work team → leader_removed and members_penalised; each
    /// active dereliction → accountability; each recalled secretary or technician sent →
    /// head_barred_from_honours. Nothing else, and never a dependency on input order.
    #[test]
    fn individual_consequences_follow_the_rules(case in case()) {
        let mut me = subject(case.subject_type, "对象");
        me.attributes.recalled = case.recalled;
        me.attributes.reserve_cadre = case.reserve_cadre;
        let findings: Vec<Finding> = case
            .findings
            .iter()
            .map(|&(major, month, revoked)| {
                let mut f = marked(&me, date(2023, month, 10), major);
                if revoked {
                    f.revoked_at = Some(at(2023, month, 11));
                }
                f
            })
            .collect();
        let active: Vec<&Finding> = findings.iter().filter(|f| f.is_active(None)).collect();
        let sent: Vec<SubjectInfo> = case
            .sent
            .iter()
            .map(|&(subject_type, recalled)| {
                let mut s = subject(subject_type, "派出");
                s.attributes.recalled = recalled;
                s
            })
            .collect();
        let got = individual_consequences(&me, active.iter().copied(), year_2023(), sent.iter());

        let recallable = |t: SubjectType| matches!(t, SubjectType::FirstSecretary | SubjectType::AgriTech);
        let mut expected: Vec<Consequence> = Vec::new();
        if recallable(case.subject_type) && case.recalled {
            expected.push(Consequence::Accountability);
            if case.reserve_cadre {
                expected.push(Consequence::ReserveStatusRevoked);
            }
        }
        for &(major, _, revoked) in &case.findings {
            if revoked {
                continue;
            }
            if major && case.subject_type == SubjectType::WorkTeam {
                expected.extend([Consequence::LeaderRemoved, Consequence::MembersPenalised]);
            } else if !major {
                expected.push(Consequence::Accountability);
            }
        }
        for &(subject_type, recalled) in &case.sent {
            if recalled && recallable(subject_type) {
                expected.push(Consequence::HeadBarredFromHonours);
            }
        }
        let mut got_codes: Vec<Consequence> = got.iter().map(|d| d.code).collect();
        got_codes.sort();
        expected.sort();
        prop_assert_eq!(got_codes, expected);
        prop_assert!(got.iter().all(|d| !d.referred_to_supervisor && d.title == d.code.title()));

        let reversed = individual_consequences(&me, active.iter().rev().copied(), year_2023(), sent.iter().rev());
        let mut a: Vec<String> = got.iter().map(|d| format!("{d:?}")).collect();
        let mut b: Vec<String> = reversed.iter().map(|d| format!("{d:?}")).collect();
        a.sort();
        b.sort();
        prop_assert_eq!(a, b);
    }
}
