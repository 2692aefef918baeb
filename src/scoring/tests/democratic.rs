//! Democratic evaluations (§7): mean or trimmed mean of ballots, absent without ballots.

use super::*;
use crate::scoring::democratic_score;

fn ballots_for(subject: &SubjectInfo, scores: &[&str]) -> Vec<Ballot> {
    let evaluation = evaluation(EvaluationKind::Democratic, "democratic_year_end", year_2023());
    scores.iter().map(|score| ballot(&evaluation, subject, score)).collect()
}

#[test]
fn the_score_is_the_mean_of_the_ballots() {
    let person = subject(SubjectType::FirstSecretary, "王书记");
    let ballots = ballots_for(&person, &["92.4", "94.0"]);
    let result = democratic_score(&ballots, person.id, None, 0, &ScoringSettings::default());
    assert_eq!(result.ballots, 2);
    assert_eq!(result.score, Some(x("93.2")));
    assert_eq!(result.published_score.unwrap().to_string(), "93.20");
}

#[test]
fn trimming_drops_the_k_highest_and_lowest_when_there_are_more_than_2k() {
    let person = subject(SubjectType::WorkTeam, "驻村工作队");
    let ballots = ballots_for(&person, &["50", "90", "91", "92", "100"]);
    let trimmed = democratic_score(&ballots, person.id, None, 1, &ScoringSettings::default());
    assert_eq!((trimmed.score, trimmed.trimmed_each_side), (Some(x("91")), 1));
    // With exactly 2k ballots nothing is dropped: the plain mean.
    let two = ballots_for(&person, &["80", "90"]);
    let plain = democratic_score(&two, person.id, None, 1, &ScoringSettings::default());
    assert_eq!((plain.score, plain.trimmed_each_side), (Some(x("85")), 0));
}

#[test]
fn no_ballots_means_no_score_and_other_subjects_ballots_do_not_count() {
    let person = subject(SubjectType::AgriTech, "李技术员");
    let other = subject(SubjectType::AgriTech, "赵技术员");
    let ballots = ballots_for(&other, &["90"]);
    let result = democratic_score(&ballots, person.id, None, 0, &ScoringSettings::default());
    assert_eq!((result.ballots, result.score, result.published_score), (0, None, None));
}

#[test]
fn as_of_leaves_out_later_ballots_and_scores_are_clamped() {
    let person = subject(SubjectType::AgriTech, "李技术员");
    let mut ballots = ballots_for(&person, &["80", "120"]);
    ballots[0].recorded_at = at(2023, 6, 30);
    let early = democratic_score(
        &ballots,
        person.id,
        Some(at(2023, 7, 1)),
        0,
        &ScoringSettings::default(),
    );
    assert_eq!(early.score, Some(x("80")));
    let all = democratic_score(&ballots, person.id, None, 0, &ScoringSettings::default());
    assert_eq!(all.score, Some(x("90")), "120 counts as 100");
}

#[test]
fn an_item_in_the_documented_json_shape_parses() {
    let json = r#"{"kind":"item","code":"1.1","title":"到户基本信息(含易地后扶)维护","max":"20","method":{"type":"deduction","rules":[{"code":"L1","label":"一级规则","points_per_unit":"0.5","uncapped":false}]}}"#;
    let node: Node = serde_json::from_str(json).expect("parses");
    let Node::Item(item) = &node else {
        panic!("an item");
    };
    assert_eq!(item.max, Some(d("20")));
    assert!(matches!(&item.method, Method::Deduction(method) if method.rules[0].points_per_unit == d("0.5")));
    assert_eq!(
        serde_json::to_value(&node).expect("serialises"),
        serde_json::from_str::<serde_json::Value>(json).expect("json")
    );
    // Numbers are refused: points are exact decimals written as strings.
    let with_number = json.replace(r#""max":"20""#, r#""max":20"#);
    assert!(serde_json::from_str::<Node>(&with_number).is_err());
}
