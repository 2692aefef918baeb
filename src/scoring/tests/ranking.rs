//! Rankings, prizes, grades and consequences (§8.2–§8.4).

use super::*;
use crate::scoring::{grade, rank, Consequence, Grade, GradeBasis, RankingCandidate, RankingEntry, RankingRules};

fn candidate(name: &str, score: Option<&str>) -> RankingCandidate {
    RankingCandidate {
        subject_id: new_id(),
        name: name.to_owned(),
        published_score: score.map(d),
        vetoed: false,
        annual_target_met: true,
        vertically_managed: false,
    }
}

fn seed_b_rules(subject_type: SubjectType) -> RankingRules {
    let scheme = seed_b();
    let config = &scheme.subject_types[&subject_type];
    RankingRules {
        prizes: config.prizes.clone().unwrap_or_default(),
        consequences: config.consequences.clone(),
    }
}

fn by_name<'a>(entries: &'a [RankingEntry], name: &str) -> &'a RankingEntry {
    entries
        .iter()
        .find(|entry| entry.name == name)
        .unwrap_or_else(|| panic!("no entry {name}"))
}

fn prize_of(entries: &[RankingEntry], name: &str) -> Option<String> {
    by_name(entries, name).prize.as_ref().map(|prize| prize.key.clone())
}

#[test]
fn ties_share_a_competition_rank_and_unscored_come_last() {
    let candidates = [
        candidate("d", Some("80")),
        candidate("unscored", None),
        candidate("a", Some("90")),
        candidate("b", Some("85.5")),
        candidate("c", Some("85.50")),
    ];
    let entries = rank(&candidates, &RankingRules::default());
    let ranks: Vec<(&str, Option<u32>)> = entries.iter().map(|entry| (entry.name.as_str(), entry.rank)).collect();
    assert_eq!(
        ranks,
        vec![
            ("a", Some(1)),
            ("b", Some(2)),
            ("c", Some(2)),
            ("d", Some(4)),
            ("unscored", None)
        ]
    );
}

#[test]
fn a_tie_straddling_a_prize_boundary_gets_the_better_prize() {
    let candidates: Vec<RankingCandidate> = [
        ("s1", "99"),
        ("s2", "98"),
        ("s3", "97"),
        ("s4", "97"),
        ("s5", "96"),
        ("s9", "80"),
    ]
    .iter()
    .map(|(name, score)| candidate(name, Some(score)))
    .collect();
    let entries = rank(&candidates, &seed_b_rules(SubjectType::Township));
    assert_eq!(by_name(&entries, "s3").rank, Some(3));
    assert_eq!(by_name(&entries, "s4").rank, Some(3));
    assert_eq!(prize_of(&entries, "s3").as_deref(), Some("first"));
    assert_eq!(prize_of(&entries, "s4").as_deref(), Some("first"));
    assert_eq!(by_name(&entries, "s5").rank, Some(5));
    assert_eq!(prize_of(&entries, "s5").as_deref(), Some("second"));
    assert_eq!(by_name(&entries, "s4").prize.as_ref().unwrap().title, "一等奖");
}

#[test]
fn prize_quotas_are_three_five_and_eight() {
    let candidates: Vec<RankingCandidate> = (0..20)
        .map(|index| candidate(&format!("s{index:02}"), Some(&(100 - index).to_string())))
        .collect();
    let entries = rank(&candidates, &seed_b_rules(SubjectType::Department));
    let count = |key: &str| {
        entries
            .iter()
            .filter(|entry| entry.prize.as_ref().is_some_and(|prize| prize.key == key))
            .count()
    };
    assert_eq!((count("first"), count("second"), count("third")), (3, 5, 8));
    assert!(entries[16].prize.is_none());
}

#[test]
fn a_vetoed_subject_keeps_its_rank_but_takes_no_prize() {
    let mut vetoed = candidate("vetoed", Some("95"));
    vetoed.vetoed = true;
    let candidates = [vetoed, candidate("second", Some("93")), candidate("third", Some("92"))];
    let entries = rank(&candidates, &seed_b_rules(SubjectType::Township));
    let top = by_name(&entries, "vetoed");
    assert_eq!(top.rank, Some(1));
    assert!(top.vetoed);
    assert_eq!(top.prize, None);
    assert_eq!(top.prize_rank, None);
    assert_eq!(by_name(&entries, "second").rank, Some(2));
    assert_eq!(by_name(&entries, "second").prize_rank, Some(1));
    assert_eq!(prize_of(&entries, "second").as_deref(), Some("first"));
}

#[test]
fn a_vetoed_individual_above_ninety_is_competent() {
    let scheme = seed_b();
    let grading = scheme.subject_types[&SubjectType::FirstSecretary]
        .grading
        .clone()
        .unwrap();
    let graded = grade(&grading, Some(d("95")), true, false).unwrap();
    assert_eq!(graded.grade, Grade::Competent);
    assert_eq!(graded.title, "称职");
    assert_eq!(graded.basis, GradeBasis::Vetoed);
    assert_eq!(graded.bonus_pay, d("1"));
    // A vetoed individual below 90 keeps their band.
    let graded = grade(&grading, Some(d("70")), true, false).unwrap();
    assert_eq!((graded.grade, graded.basis), (Grade::Basic, GradeBasis::Score));
}

#[test]
fn grade_bands_and_bonus_pay() {
    let scheme = seed_b();
    let grading = scheme.subject_types[&SubjectType::WorkTeam].grading.clone().unwrap();
    let cases = [
        ("90", Grade::Excellent, "1", false),
        ("89.99", Grade::Competent, "1", false),
        ("75", Grade::Competent, "1", false),
        ("74.99", Grade::Basic, "0.8", false),
        ("60", Grade::Basic, "0.8", false),
        ("59.99", Grade::Incompetent, "0", true),
    ];
    for (score, expected, pay, accountability) in cases {
        let graded = grade(&grading, Some(d(score)), false, false).unwrap();
        assert_eq!(graded.grade, expected, "score {score}");
        assert_eq!(graded.bonus_pay, d(pay), "score {score}");
        assert_eq!(graded.accountability, accountability, "score {score}");
    }
    assert!(grade(&grading, None, false, false).is_none());
}

#[test]
fn a_recalled_individual_is_incompetent_whatever_the_score() {
    let scheme = seed_b();
    let grading = scheme.subject_types[&SubjectType::AgriTech].grading.clone().unwrap();
    for score in [Some(d("96")), None] {
        let graded = grade(&grading, score, false, true).unwrap();
        assert_eq!(graded.grade, Grade::Incompetent);
        assert_eq!(graded.basis, GradeBasis::Recalled);
        assert!(graded.accountability);
        assert_eq!(graded.bonus_pay, d("0"));
    }
}

#[test]
fn below_seventy_five_means_an_interview() {
    let candidates = [candidate("ok", Some("75")), candidate("low", Some("74.99"))];
    let entries = rank(&candidates, &seed_b_rules(SubjectType::Township));
    assert!(by_name(&entries, "ok").consequences.is_empty());
    assert_eq!(by_name(&entries, "low").consequences, vec![Consequence::Interview]);
}

#[test]
fn dismissal_takes_the_last_three_with_ties_at_the_third_lowest() {
    let mut candidates = Vec::new();
    for (name, score, target_met) in [
        ("top", "95", false),
        ("a", "80", false),
        ("b", "74", false), // below 75, missed, but above the third-lowest score
        ("c", "70", false), // third-lowest score
        ("d", "70", false), // tied with it
        ("e", "60", true),  // among the last, but met its target
        ("f", "60", false),
    ] {
        let mut c = candidate(name, Some(score));
        c.annual_target_met = target_met;
        candidates.push(c);
    }
    candidates.push(candidate("unscored", None));
    let entries = rank(&candidates, &seed_b_rules(SubjectType::Township));
    let dismissed: Vec<&str> = entries
        .iter()
        .filter(|entry| entry.consequences.contains(&Consequence::Dismissal))
        .map(|entry| entry.name.as_str())
        .collect();
    assert_eq!(dismissed, vec!["c", "d", "f"]);
    assert_eq!(by_name(&entries, "b").consequences, vec![Consequence::Interview]);
    assert_eq!(by_name(&entries, "e").consequences, vec![Consequence::Interview]);
    assert_eq!(
        by_name(&entries, "f").consequences,
        vec![Consequence::Interview, Consequence::Dismissal]
    );
}

#[test]
fn ranking_works_for_any_list_such_as_a_half_year_ranking() {
    let candidates = [candidate("x", Some("88")), candidate("y", Some("91"))];
    let entries = rank(&candidates, &RankingRules::default());
    assert_eq!(entries[0].name, "y");
    assert!(entries
        .iter()
        .all(|entry| entry.prize.is_none() && entry.consequences.is_empty()));
}
