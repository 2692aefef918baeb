//! Annual formulas (§8.1): weighted trees, absent components, links.

use super::*;
use crate::scoring::{
    compute_year, evaluate_annual, AnnualInputs, ComputeOptions, EvaluationScore, FormulaInput, FormulaResult,
    FormulaResultNode, LinkRelation, LinkedScore, YearData,
};

fn own(kind: EvaluationKind, value: &str) -> EvaluationScore {
    EvaluationScore {
        evaluation_id: new_id(),
        kind,
        title: format!("{kind:?}"),
        value: Some(x(value)),
    }
}

fn linked(subject_type: SubjectType, relation: LinkRelation, value: &str) -> LinkedScore {
    LinkedScore {
        subject_id: new_id(),
        name: "linked".to_owned(),
        subject_type,
        relation,
        value: Some(x(value)),
    }
}

fn department_formula() -> crate::scoring::FormulaNode {
    seed_b().subject_types[&SubjectType::Department].annual.clone()
}

#[test]
fn example_b_department_formula_directly() {
    let inputs = AnnualInputs {
        evaluations: vec![own(EvaluationKind::HalfYear, "84"), own(EvaluationKind::YearEnd, "88")],
        linked: vec![
            linked(SubjectType::FirstSecretary, LinkRelation::DispatchedBy, "91.2"),
            linked(SubjectType::FirstSecretary, LinkRelation::DispatchedBy, "86.0"),
        ],
    };
    let result = evaluate_annual(&department_formula(), &inputs, &ScoringSettings::default());
    assert_eq!(result.value, Some(x("87.04")));
    assert_eq!(result.published_score.unwrap().to_string(), "87.04");
    // The absent work-team leaf gave its weight to the first secretaries.
    let FormulaResultNode::Weighted { children } = &result.formula.node else {
        panic!("weighted root");
    };
    assert_eq!(children[0].effective_weight, d("0.6"));
    assert_eq!(children[0].value, Some(x("86")));
    let FormulaResultNode::Weighted { children: sent } = &children[1].node else {
        panic!("weighted dispatched component");
    };
    assert_eq!(sent[0].effective_weight, d("0.4"));
    assert_eq!(sent[0].value, Some(x("88.6")));
    assert!(sent[1].absent);
    assert_eq!(sent[1].effective_weight, d("0"));
    assert_eq!(sent[1].declared_weight, d("0.3"));
}

#[test]
fn a_department_that_sent_nobody_gets_its_own_score() {
    let inputs = AnnualInputs {
        evaluations: vec![own(EvaluationKind::HalfYear, "84"), own(EvaluationKind::YearEnd, "88")],
        linked: Vec::new(),
    };
    let result = evaluate_annual(&department_formula(), &inputs, &ScoringSettings::default());
    assert_eq!(result.value, Some(x("86")));
    let FormulaResultNode::Weighted { children } = &result.formula.node else {
        panic!("weighted root");
    };
    assert_eq!(children[0].effective_weight, d("1"));
    assert!(children[1].absent);
}

#[test]
fn a_department_with_a_work_team_uses_all_three_components() {
    let inputs = AnnualInputs {
        evaluations: vec![own(EvaluationKind::HalfYear, "80"), own(EvaluationKind::YearEnd, "90")],
        linked: vec![
            linked(SubjectType::FirstSecretary, LinkRelation::DispatchedBy, "90"),
            linked(SubjectType::WorkTeam, LinkRelation::DispatchedBy, "80"),
            linked(SubjectType::WorkTeam, LinkRelation::DispatchedBy, "70"),
        ],
    };
    // 0.6 × 85 + 0.4 × (0.7 × 90 + 0.3 × 75) = 51 + 34.2 = 85.2
    let result = evaluate_annual(&department_formula(), &inputs, &ScoringSettings::default());
    assert_eq!(result.value, Some(x("85.2")));
}

#[test]
fn a_missing_half_year_total_leaves_the_year_end_alone_in_its_leaf() {
    let formula = seed_b().subject_types[&SubjectType::FirstSecretary].annual.clone();
    let mut half_year = own(EvaluationKind::HalfYear, "0");
    half_year.value = None;
    let inputs = AnnualInputs {
        evaluations: vec![
            half_year,
            own(EvaluationKind::YearEnd, "90"),
            own(EvaluationKind::Democratic, "80"),
        ],
        linked: Vec::new(),
    };
    let result = evaluate_annual(&formula, &inputs, &ScoringSettings::default());
    assert_eq!(result.value, Some(x("86")));
    let FormulaResultNode::Weighted { children } = &result.formula.node else {
        panic!("weighted root");
    };
    let FormulaResultNode::Own { inputs, .. } = &children[0].node else {
        panic!("own leaf");
    };
    assert_eq!(inputs.len(), 1);
    assert!(matches!(
        inputs[0],
        FormulaInput::Evaluation {
            kind: EvaluationKind::YearEnd,
            ..
        }
    ));
}

#[test]
fn nothing_at_all_is_absent() {
    let result = evaluate_annual(
        &department_formula(),
        &AnnualInputs::default(),
        &ScoringSettings::default(),
    );
    assert_eq!(result.value, None);
    assert_eq!(result.published_score, None);
    assert!(result.formula.absent);
}

fn effective_sum(children: &[FormulaResult]) -> Exact {
    children.iter().map(|child| &child.effective_weight).sum()
}

#[test]
fn renormalised_weights_sum_to_the_parents_weight() {
    let inputs = AnnualInputs {
        evaluations: vec![own(EvaluationKind::YearEnd, "70")],
        linked: vec![linked(SubjectType::WorkTeam, LinkRelation::DispatchedBy, "90")],
    };
    let result = evaluate_annual(&department_formula(), &inputs, &ScoringSettings::default());
    let FormulaResultNode::Weighted { children } = &result.formula.node else {
        panic!("weighted root");
    };
    assert_eq!(effective_sum(children), d("1"));
    let FormulaResultNode::Weighted { children: sent } = &children[1].node else {
        panic!("weighted");
    };
    assert_eq!(effective_sum(sent), children[1].effective_weight);
    assert_eq!(sent[1].effective_weight, d("0.4"));
    // 0.6 × 70 + 0.4 × 90
    assert_eq!(result.value, Some(x("78")));
}

/// A township, two of its villages with a first secretary each, a village of another town.
#[test]
fn a_township_counts_first_secretaries_stationed_in_its_villages() {
    let scheme = seed_b();
    let town = subject(SubjectType::Township, "童市镇");
    let other_town = subject(SubjectType::Township, "长寿镇");
    let mut villages = Vec::new();
    for (name, township) in [("童市村", &town), ("大桥村", &town), ("长寿村", &other_town)] {
        let mut village = subject(SubjectType::Village, name);
        village.township_id = Some(township.id);
        villages.push(village);
    }
    let mut secretaries = Vec::new();
    for (index, village) in villages.iter().enumerate() {
        let mut secretary = subject(SubjectType::FirstSecretary, &format!("书记{index}"));
        secretary.stationed_in = Some(village.id);
        secretaries.push(secretary);
    }
    let half_year = evaluation(EvaluationKind::HalfYear, "half_year", Period::H1.window(2023).unwrap());
    let year_end = evaluation(EvaluationKind::YearEnd, "year_end", year_2023());
    let town_rubric = rubric_of(&scheme, SubjectType::Township);
    let secretary_rubric = rubric_of(&scheme, SubjectType::FirstSecretary);
    let mut scoresheets = Vec::new();
    for (subject, rubric, total) in [
        (&town, &town_rubric, "70"),
        (&other_town, &town_rubric, "70"),
        (&secretaries[0], &secretary_rubric, "90"),
        (&secretaries[1], &secretary_rubric, "80"),
        (&secretaries[2], &secretary_rubric, "10"),
    ] {
        for evaluation in [&half_year, &year_end] {
            scoresheets.push(sheet(
                evaluation,
                subject,
                new_id(),
                scores_for_total(rubric, total, false),
                at(2023, 12, 20),
            ));
        }
    }
    let mut subjects = vec![town.clone(), other_town.clone()];
    subjects.extend(villages.iter().cloned());
    subjects.extend(secretaries.iter().cloned());
    let data = YearData {
        year: 2023,
        subjects,
        evaluations: vec![half_year, year_end],
        findings: Vec::new(),
        scoresheets,
        ballots: Vec::new(),
    };
    let results = compute_year(&scheme, &data, &ComputeOptions::default()).unwrap();
    // Villages are not scored by this scheme, only linked through.
    assert!(results.subject(villages[0].id).is_none());
    // Without democratic ballots a secretary's annual is the own leaf alone.
    assert_eq!(results.subject(secretaries[0].id).unwrap().annual.value, Some(x("90")));
    // 0.8 × 70 + 0.2 × mean(90, 80) = 56 + 17 = 73
    let annual = &results.subject(town.id).unwrap().annual;
    assert_eq!(annual.value, Some(x("73")));
    let FormulaResultNode::Weighted { children } = &annual.formula.node else {
        panic!("weighted root");
    };
    let FormulaResultNode::Linked { inputs, .. } = &children[1].node else {
        panic!("linked leaf");
    };
    assert_eq!(inputs.len(), 2);
    // The other town's secretary scored 10: 0.8 × 70 + 0.2 × 10 = 58
    assert_eq!(results.subject(other_town.id).unwrap().annual.value, Some(x("58")));
}
