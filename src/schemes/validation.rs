//! Validation of schemes and rubrics, built-in or posted by users: every problem at once, each
//! with the path of the offending part, a stable machine code and a message.

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::scoring::year::type_order;
use crate::scoring::{
    AdjustmentRuleKind, EvaluationKind, FormulaNode, Grading, LinkRelation, Method, Node, Period, PrizeBand,
    RankingGrouping, Rubric, SchemeDefinition, Section, SteppedAmount, SubjectType, SubjectTypeScheme,
};

/// One problem found in a scheme or rubric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ValidationProblem {
    /// Where: dotted names for fields, `/`-separated codes for rubric nodes and child indices
    /// for formula nodes, e.g. `subject_types.department.rubric/2/2.1/rules/L1`.
    #[schema(example = "subject_types.department.rubric/2")]
    pub path: String,
    /// Stable machine code, e.g. `rubric.section_points_mismatch`.
    #[schema(example = "rubric.section_points_mismatch")]
    pub code: String,
    /// Human-readable explanation.
    #[schema(example = "section 2 states 50 points but its items add up to 45")]
    pub message: String,
}

/// Collects problems.
#[derive(Default)]
struct Problems(Vec<ValidationProblem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, code: &str, message: impl Into<String>) {
        self.0.push(ValidationProblem {
            path: path.into(),
            code: code.to_owned(),
            message: message.into(),
        });
    }
}

fn show(value: Decimal) -> String {
    value.normalize().to_string()
}

/// Validates a whole scheme; empty means valid.
pub fn validate_scheme(scheme: &SchemeDefinition) -> Vec<ValidationProblem> {
    let mut problems = Problems::default();
    let key_ok = !scheme.key.is_empty()
        && scheme
            .key
            .split('-')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    if !key_ok {
        problems.add(
            "key",
            "scheme.key_invalid",
            format!(
                "key {:?} must be kebab-case: lowercase letters and digits joined by '-'",
                scheme.key
            ),
        );
    }
    if scheme.title.trim().is_empty() {
        problems.add("title", "scheme.title_missing", "the scheme needs a title");
    }
    if scheme.subject_types.is_empty() {
        problems.add(
            "subject_types",
            "scheme.subject_types_empty",
            "the scheme scores no subject type",
        );
    }
    if scheme.options.published_digits > 10 {
        problems.add(
            "options.published_digits",
            "options.published_digits_out_of_range",
            format!(
                "published_digits is {}; it must be 0–10",
                scheme.options.published_digits
            ),
        );
    }
    if scheme.options.timezone.trim().is_empty() {
        problems.add(
            "options.timezone",
            "options.timezone_missing",
            "the scheme needs a time zone",
        );
    }

    let mut template_keys = HashSet::new();
    for (index, template) in scheme.evaluations.iter().enumerate() {
        let path = format!("evaluations[{index}]");
        if !template_keys.insert(template.key.as_str()) {
            problems.add(
                format!("{path}.key"),
                "evaluation.key_duplicate",
                format!("evaluation key {:?} is used twice", template.key),
            );
        }
        let quarter = matches!(template.window, Some(Period::Q1 | Period::Q2 | Period::Q3 | Period::Q4));
        if template.kind == EvaluationKind::Quarterly && !quarter {
            problems.add(
                format!("{path}.window"),
                "evaluation.window_not_quarter",
                "a quarterly evaluation's window is one quarter, Q1–Q4",
            );
        }
        for subject_type in &template.subject_types {
            if !scheme.subject_types.contains_key(subject_type) {
                problems.add(
                    format!("{path}.subject_types"),
                    "evaluation.subject_type_unknown",
                    format!("the scheme does not score {}", subject_type.as_str()),
                );
            }
        }
    }

    let mut ranking_keys = HashSet::new();
    for (&subject_type, config) in &scheme.subject_types {
        let path = format!("subject_types.{}", subject_type.as_str());
        if config.rubric.subject_type != subject_type {
            problems.add(
                format!("{path}.rubric.subject_type"),
                "rubric.subject_type_mismatch",
                format!(
                    "the rubric is for {} but is configured for {}",
                    config.rubric.subject_type.as_str(),
                    subject_type.as_str()
                ),
            );
        }
        check_rubric(&config.rubric, &format!("{path}.rubric"), &mut problems);
        check_formula(
            scheme,
            subject_type,
            &config.annual,
            &format!("{path}.annual"),
            &mut problems,
        );
        if let Some(grading) = &config.grading {
            check_grading(grading, &format!("{path}.grading"), &mut problems);
        }
        if let Some(prizes) = &config.prizes {
            check_prizes(prizes, &format!("{path}.prizes"), &mut problems);
        }
        check_rankings(subject_type, config, &path, &mut ranking_keys, &mut problems);
    }

    if let Err(cycle) = type_order(scheme) {
        problems.add("subject_types", "formula.link_cycle", cycle.to_string());
    }
    problems.0
}

/// Validates a rubric on its own (paths start with `rubric`); empty means valid.
pub fn validate_rubric(rubric: &Rubric) -> Vec<ValidationProblem> {
    let mut problems = Problems::default();
    check_rubric(rubric, "rubric", &mut problems);
    problems.0
}

fn check_rubric(rubric: &Rubric, path: &str, problems: &mut Problems) {
    if rubric.title.trim().is_empty() {
        problems.add(
            format!("{path}.title"),
            "rubric.title_missing",
            "the rubric needs a title",
        );
    }
    if rubric.nodes.is_empty() {
        problems.add(path, "rubric.empty", "the rubric has no sections or items");
    }
    let mut codes = HashSet::new();
    check_nodes(rubric, &rubric.nodes, path, &mut codes, problems);
}

fn check_nodes<'a>(
    rubric: &Rubric,
    nodes: &'a [Node],
    parent_path: &str,
    codes: &mut HashSet<&'a str>,
    problems: &mut Problems,
) {
    for node in nodes {
        let code = node.code();
        let path = format!("{parent_path}/{code}");
        if code.trim().is_empty() {
            problems.add(&path, "rubric.code_empty", "every section and item needs a code");
        } else if !codes.insert(code) {
            problems.add(&path, "rubric.code_duplicate", format!("code {code} is used twice"));
        }
        match node {
            Node::Section(section) => {
                check_section(rubric, section, &path, problems);
                check_nodes(rubric, &section.children, &path, codes, problems);
            }
            Node::Item(item) => {
                let kind = item.method.kind();
                match (item.max, kind.is_add_on()) {
                    (None, false) => problems.add(
                        format!("{path}.max"),
                        "rubric.item_max_required",
                        format!("item {code} needs its points (max)"),
                    ),
                    (Some(_), true) => problems.add(
                        format!("{path}.max"),
                        "rubric.item_max_not_allowed",
                        format!(
                            "item {code} is an add-on (bonus, stepped amount or adjustment): it \
                             scores on top of full marks and takes its bounds from its method, not max"
                        ),
                    ),
                    (Some(max), false) if max <= Decimal::ZERO => problems.add(
                        format!("{path}.max"),
                        "rubric.points_invalid",
                        format!("item {code} has {} points; they must be positive", show(max)),
                    ),
                    _ => {}
                }
                check_method(&item.method, item.max, &path, problems);
            }
        }
    }
}

fn check_section(rubric: &Rubric, section: &Section, path: &str, problems: &mut Problems) {
    if section.children.is_empty() {
        problems.add(
            path,
            "rubric.section_empty",
            format!("section {} has no children", section.code),
        );
    }
    let sum = section.full_marks();
    if let Some(points) = section.points {
        if points < Decimal::ZERO {
            problems.add(
                format!("{path}.points"),
                "rubric.points_invalid",
                format!("section {} has negative points", section.code),
            );
        } else if points != sum {
            problems.add(
                format!("{path}.points"),
                "rubric.section_points_mismatch",
                format!(
                    "section {} states {} points but its children add up to {}",
                    section.code,
                    show(points),
                    show(sum)
                ),
            );
        }
    }
    let Some(source_code) = &section.derived_from else {
        return;
    };
    let derived_path = format!("{path}.derived_from");
    let Some(source) = rubric.find_section(source_code) else {
        problems.add(
            derived_path,
            "rubric.derived_from_unknown",
            format!(
                "section {} is derived from section {source_code}, which does not exist",
                section.code
            ),
        );
        return;
    };
    let related = source_code == &section.code
        || section_contains(section, source_code)
        || section_contains(source, &section.code);
    if related {
        problems.add(
            &derived_path,
            "rubric.derived_from_invalid",
            format!(
                "section {} cannot be derived from itself, an ancestor or a descendant",
                section.code
            ),
        );
    } else if source.derived_from.is_some() {
        problems.add(
            &derived_path,
            "rubric.derived_from_invalid",
            format!("section {source_code} is itself derived; derive from a scored section"),
        );
    } else if source.full_marks() <= Decimal::ZERO {
        problems.add(
            &derived_path,
            "rubric.derived_from_invalid",
            format!("section {source_code} has no points to derive from"),
        );
    }
    if has_add_on(&section.children) {
        problems.add(
            path,
            "rubric.derived_section_invalid",
            format!(
                "derived section {} may hold only items with points (no bonus, stepped amount or adjustment)",
                section.code
            ),
        );
    }
}

fn section_contains(section: &Section, code: &str) -> bool {
    section.children.iter().any(|child| match child {
        Node::Section(inner) => inner.code == code || section_contains(inner, code),
        Node::Item(_) => false,
    })
}

fn has_add_on(nodes: &[Node]) -> bool {
    nodes.iter().any(|node| match node {
        Node::Section(section) => has_add_on(&section.children),
        Node::Item(item) => item.method.kind().is_add_on(),
    })
}

fn out_of_range(problems: &mut Problems, path: String, message: String) {
    problems.add(path, "rubric.param_out_of_range", message);
}

fn check_rule_codes<'a>(codes: impl Iterator<Item = &'a str>, path: &str, problems: &mut Problems) {
    let mut seen = HashSet::new();
    for code in codes {
        if code.trim().is_empty() {
            problems.add(
                format!("{path}/rules"),
                "rubric.rule_code_empty",
                "every rule needs a code",
            );
        } else if !seen.insert(code) {
            problems.add(
                format!("{path}/rules/{code}"),
                "rubric.rule_duplicate",
                format!("rule {code} appears twice in the item"),
            );
        }
    }
}

fn check_method(method: &Method, max: Option<Decimal>, path: &str, problems: &mut Problems) {
    let method_path = format!("{path}.method");
    match method {
        Method::Assessed => {}
        Method::Deduction(deduction) => {
            if deduction.rules.is_empty() {
                problems.add(&method_path, "rubric.rules_empty", "a deduction item needs rules");
            }
            check_rule_codes(deduction.rules.iter().map(|rule| rule.code.as_str()), path, problems);
            for rule in &deduction.rules {
                if rule.points_per_unit <= Decimal::ZERO {
                    out_of_range(
                        problems,
                        format!("{path}/rules/{}.points_per_unit", rule.code),
                        "points_per_unit must be positive".to_owned(),
                    );
                }
            }
        }
        Method::RateBand(band) => {
            if band.points_per_period <= Decimal::ZERO {
                out_of_range(
                    problems,
                    format!("{method_path}.points_per_period"),
                    "points_per_period must be positive".to_owned(),
                );
            }
            if !(Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&band.full_credit_at) {
                out_of_range(
                    problems,
                    format!("{method_path}.full_credit_at"),
                    "full_credit_at must be 0–100".to_owned(),
                );
            }
            if band.points_per_percent <= Decimal::ZERO {
                out_of_range(
                    problems,
                    format!("{method_path}.points_per_percent"),
                    "points_per_percent must be positive".to_owned(),
                );
            }
            let periods = Decimal::from(band.period.periods_per_year());
            if let Some(max) = max {
                if band.points_per_period.saturating_mul(periods) != max {
                    problems.add(
                        &method_path,
                        "rubric.rate_band_points_mismatch",
                        format!(
                            "{} periods × {} points must equal the item's {} points",
                            periods,
                            show(band.points_per_period),
                            show(max)
                        ),
                    );
                }
            }
        }
        Method::Bonus(bonus) => {
            if bonus.rules.is_empty() {
                problems.add(&method_path, "rubric.rules_empty", "a bonus item needs rules");
            }
            check_rule_codes(bonus.rules.iter().map(|rule| rule.code.as_str()), path, problems);
            for rule in &bonus.rules {
                if rule.points_per_unit <= Decimal::ZERO {
                    out_of_range(
                        problems,
                        format!("{path}/rules/{}.points_per_unit", rule.code),
                        "points_per_unit must be positive".to_owned(),
                    );
                }
            }
            if bonus.cap.is_some_and(|cap| cap < Decimal::ZERO) {
                out_of_range(
                    problems,
                    format!("{method_path}.cap"),
                    "cap must not be negative".to_owned(),
                );
            }
        }
        Method::SteppedAmount(steps) => check_steps(steps, &method_path, problems),
        Method::Adjustment(adjustment) => {
            if adjustment.bonus_cap < Decimal::ZERO {
                out_of_range(
                    problems,
                    format!("{method_path}.bonus_cap"),
                    "bonus_cap must not be negative".to_owned(),
                );
            }
            if adjustment.penalty_cap < Decimal::ZERO {
                out_of_range(
                    problems,
                    format!("{method_path}.penalty_cap"),
                    "penalty_cap must not be negative".to_owned(),
                );
            }
            check_rule_codes(adjustment.rules.iter().map(|rule| rule.code.as_str()), path, problems);
            for rule in &adjustment.rules {
                let rule_path = format!("{path}/rules/{}", rule.code);
                match &rule.kind {
                    AdjustmentRuleKind::Manual { max_points, .. } => {
                        if max_points.is_some_and(|bound| bound <= Decimal::ZERO) {
                            out_of_range(
                                problems,
                                format!("{rule_path}.max_points"),
                                "max_points must be positive".to_owned(),
                            );
                        }
                    }
                    AdjustmentRuleKind::SteppedAmount(steps) => {
                        check_steps(steps, &format!("{rule_path}.kind"), problems);
                    }
                }
            }
        }
    }
}

fn check_steps(steps: &SteppedAmount, path: &str, problems: &mut Problems) {
    if steps.threshold < Decimal::ZERO {
        out_of_range(
            problems,
            format!("{path}.threshold"),
            "threshold must not be negative".to_owned(),
        );
    }
    if steps.base < Decimal::ZERO {
        out_of_range(problems, format!("{path}.base"), "base must not be negative".to_owned());
    }
    if steps.step <= Decimal::ZERO {
        out_of_range(problems, format!("{path}.step"), "step must be positive".to_owned());
    }
    if steps.cap < Decimal::ZERO {
        out_of_range(problems, format!("{path}.cap"), "cap must not be negative".to_owned());
    }
}

fn check_formula(
    scheme: &SchemeDefinition,
    owner: SubjectType,
    node: &FormulaNode,
    path: &str,
    problems: &mut Problems,
) {
    match node {
        FormulaNode::Weighted { children } => {
            if children.is_empty() {
                problems.add(path, "formula.empty", "a weighted node needs children");
                return;
            }
            let mut sum = Decimal::ZERO;
            for (index, child) in children.iter().enumerate() {
                let child_path = format!("{path}/{index}");
                if child.weight <= Decimal::ZERO || child.weight > Decimal::ONE {
                    problems.add(
                        format!("{child_path}.weight"),
                        "formula.weight_out_of_range",
                        format!("weight {} must be above 0 and at most 1", show(child.weight)),
                    );
                }
                sum = sum.saturating_add(child.weight);
                check_formula(scheme, owner, &child.node, &child_path, problems);
            }
            if sum != Decimal::ONE {
                problems.add(
                    path,
                    "formula.weights_sum",
                    format!("the weights at this level add up to {}, not 1", show(sum)),
                );
            }
        }
        FormulaNode::Own { evaluations } => {
            if evaluations.is_empty() {
                problems.add(path, "formula.empty", "an own leaf needs evaluation kinds");
            }
            for kind in evaluations {
                if *kind == EvaluationKind::Monthly {
                    problems.add(
                        path,
                        "formula.evaluation_kind_invalid",
                        "monthly standings are running views, not annual inputs",
                    );
                } else if !scheme
                    .evaluations
                    .iter()
                    .any(|template| template.kind == *kind && template.applies_to(owner))
                {
                    problems.add(
                        path,
                        "formula.evaluation_unavailable",
                        format!("no evaluation template of kind {kind:?} covers {}", owner.as_str()),
                    );
                }
            }
        }
        FormulaNode::Linked { subject_type, relation } => {
            if !scheme.subject_types.contains_key(subject_type) {
                problems.add(
                    path,
                    "formula.link_unknown_type",
                    format!("the scheme does not score {}", subject_type.as_str()),
                );
            }
            let owner_ok = match relation {
                LinkRelation::DispatchedBy => owner == SubjectType::Department,
                LinkRelation::StationedIn => {
                    matches!(owner, SubjectType::Township | SubjectType::Village)
                }
            };
            if !owner_ok || !subject_type.is_individual() {
                problems.add(
                    path,
                    "formula.relation_invalid",
                    format!(
                        "{relation:?} links individuals to {}; {} cannot link {} that way",
                        match relation {
                            LinkRelation::DispatchedBy => "the department that sent them",
                            LinkRelation::StationedIn => "their village or its township",
                        },
                        owner.as_str(),
                        subject_type.as_str()
                    ),
                );
            }
        }
    }
}

fn check_grading(grading: &Grading, path: &str, problems: &mut Problems) {
    if grading.bands.is_empty() {
        problems.add(format!("{path}.bands"), "grading.bands_empty", "grading needs bands");
        return;
    }
    let mut grades = HashSet::new();
    let mut previous: Option<Decimal> = None;
    let last = grading.bands.len() - 1;
    for (index, band) in grading.bands.iter().enumerate() {
        let band_path = format!("{path}.bands[{index}]");
        if !grades.insert(band.grade) {
            problems.add(
                &band_path,
                "grading.grade_duplicate",
                format!("grade {:?} has two bands", band.grade),
            );
        }
        match (band.min_score, index == last) {
            (Some(_), true) | (None, false) => problems.add(
                format!("{band_path}.min_score"),
                "grading.bands_incomplete",
                "every band but the last needs a min_score; the last takes all lower scores and has none",
            ),
            (Some(min), false) => {
                if previous.is_some_and(|previous| min >= previous) {
                    problems.add(
                        format!("{band_path}.min_score"),
                        "grading.bands_unordered",
                        "bands must go from best to worst with strictly falling min_score",
                    );
                }
                previous = Some(min);
            }
            (None, true) => {}
        }
        if !(Decimal::ZERO..=Decimal::ONE).contains(&band.bonus_pay) {
            problems.add(
                format!("{band_path}.bonus_pay"),
                "grading.bonus_pay_out_of_range",
                "bonus_pay is a share, 0–1",
            );
        }
    }
    let known = |grade| grading.bands.iter().any(|band| band.grade == grade);
    if !known(grading.recalled) {
        problems.add(
            format!("{path}.recalled"),
            "grading.grade_unknown",
            format!("grade {:?} has no band", grading.recalled),
        );
    }
    if let Some(ceiling) = grading.vetoed_ceiling {
        if !known(ceiling) {
            problems.add(
                format!("{path}.vetoed_ceiling"),
                "grading.grade_unknown",
                format!("grade {ceiling:?} has no band"),
            );
        }
    }
}

fn check_prizes(prizes: &[PrizeBand], path: &str, problems: &mut Problems) {
    let mut keys = HashSet::new();
    let mut previous_to = 0u32;
    for (index, band) in prizes.iter().enumerate() {
        let band_path = format!("{path}[{index}]");
        if !keys.insert(band.key.as_str()) {
            problems.add(
                format!("{band_path}.key"),
                "prizes.key_duplicate",
                format!("prize key {:?} is used twice", band.key),
            );
        }
        if band.from_rank < 1 || band.from_rank > band.to_rank {
            problems.add(
                &band_path,
                "prizes.band_invalid",
                "a band covers ranks from_rank..=to_rank with 1 ≤ from_rank ≤ to_rank",
            );
        } else if band.from_rank <= previous_to {
            problems.add(
                &band_path,
                "prizes.bands_overlap",
                "bands must follow each other without overlapping, best first",
            );
        }
        previous_to = previous_to.max(band.to_rank);
    }
}

fn check_rankings(
    subject_type: SubjectType,
    config: &SubjectTypeScheme,
    path: &str,
    keys: &mut HashSet<String>,
    problems: &mut Problems,
) {
    let mut dismissal_groups = 0;
    for (index, spec) in config.rankings.iter().enumerate() {
        let spec_path = format!("{path}.rankings[{index}]");
        if !keys.insert(spec.key.clone()) {
            problems.add(
                format!("{spec_path}.key"),
                "ranking.key_duplicate",
                format!("ranking key {:?} is used twice in the scheme", spec.key),
            );
        }
        if spec.prizes && config.prizes.as_ref().is_none_or(Vec::is_empty) {
            problems.add(
                format!("{spec_path}.prizes"),
                "ranking.prizes_missing",
                "the ranking awards prizes but the subject type has no prize bands",
            );
        }
        let township_ok = subject_type == SubjectType::Village || subject_type.is_individual();
        if spec.grouping == RankingGrouping::Township && !township_ok {
            problems.add(
                format!("{spec_path}.grouping"),
                "ranking.grouping_invalid",
                format!("{} subjects are not grouped by township", subject_type.as_str()),
            );
        }
        if spec.dismissal_group {
            dismissal_groups += 1;
            if dismissal_groups == 2 {
                problems.add(
                    format!("{spec_path}.dismissal_group"),
                    "ranking.dismissal_group_duplicate",
                    "only one ranking per subject type can be the dismissal group",
                );
            }
        }
    }
    let Some(consequences) = &config.consequences else {
        return;
    };
    let consequences_path = format!("{path}.consequences");
    if consequences.interview_below < Decimal::ZERO {
        problems.add(
            format!("{consequences_path}.interview_below"),
            "consequences.threshold_out_of_range",
            "interview_below must not be negative",
        );
    }
    if let Some(dismissal) = &consequences.dismissal {
        if dismissal.below < Decimal::ZERO {
            problems.add(
                format!("{consequences_path}.dismissal.below"),
                "consequences.threshold_out_of_range",
                "below must not be negative",
            );
        }
        if dismissal.last_n == 0 {
            problems.add(
                format!("{consequences_path}.dismissal.last_n"),
                "consequences.last_n_zero",
                "last_n must be at least 1",
            );
        }
        if dismissal_groups == 0 {
            problems.add(
                format!("{consequences_path}.dismissal"),
                "consequences.dismissal_group_missing",
                "the dismissal rule needs a ranking marked dismissal_group",
            );
        }
    }
}

/// All problem codes validation can report, for documentation and tests.
pub const PROBLEM_CODES: &[&str] = &[
    "scheme.key_invalid",
    "scheme.title_missing",
    "scheme.subject_types_empty",
    "options.published_digits_out_of_range",
    "options.timezone_missing",
    "evaluation.key_duplicate",
    "evaluation.subject_type_unknown",
    "evaluation.window_not_quarter",
    "rubric.subject_type_mismatch",
    "rubric.title_missing",
    "rubric.empty",
    "rubric.code_empty",
    "rubric.code_duplicate",
    "rubric.section_empty",
    "rubric.section_points_mismatch",
    "rubric.points_invalid",
    "rubric.item_max_required",
    "rubric.item_max_not_allowed",
    "rubric.rules_empty",
    "rubric.rule_code_empty",
    "rubric.rule_duplicate",
    "rubric.param_out_of_range",
    "rubric.rate_band_points_mismatch",
    "rubric.derived_from_unknown",
    "rubric.derived_from_invalid",
    "rubric.derived_section_invalid",
    "formula.empty",
    "formula.weight_out_of_range",
    "formula.weights_sum",
    "formula.evaluation_kind_invalid",
    "formula.evaluation_unavailable",
    "formula.link_unknown_type",
    "formula.relation_invalid",
    "formula.link_cycle",
    "grading.bands_empty",
    "grading.grade_duplicate",
    "grading.bands_incomplete",
    "grading.bands_unordered",
    "grading.bonus_pay_out_of_range",
    "grading.grade_unknown",
    "prizes.key_duplicate",
    "prizes.band_invalid",
    "prizes.bands_overlap",
    "ranking.key_duplicate",
    "ranking.prizes_missing",
    "ranking.grouping_invalid",
    "ranking.dismissal_group_duplicate",
    "consequences.threshold_out_of_range",
    "consequences.last_n_zero",
    "consequences.dismissal_group_missing",
];
