//! The whole scheme-year in one call: every subject's evaluation results, annual score, veto,
//! grade and consequences, all rankings with prizes, and optionally a monthly standing.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::exact::Exact;
use crate::scoring::consequences::{
    codes, individual_consequences, refer_to_supervisor, score_consequences, Consequence, ConsequenceDetail,
};
use crate::scoring::democratic::{score_ballots, DemocraticResult};
use crate::scoring::explain::Veto;
use crate::scoring::fast_hash::{FastMap, FastSet};
use crate::scoring::formula::{evaluate_annual, AnnualInputs, AnnualResult, EvaluationScore, LinkedScore};
use crate::scoring::grading::{grade, GradeResult};
use crate::scoring::index::{RubricIndex, SubjectFindings, SubjectFindingsBuilder};
use crate::scoring::inputs::{
    last_day_of_month, EvaluationInfo, EvaluationKind, Period, Quarter, Scoresheet, SubjectInfo, Window, YearData,
};
use crate::scoring::model::SubjectType;
use crate::scoring::ranking::{rank, RankingCandidate, RankingEntry, RankingRules};
use crate::scoring::rubric::{effective_sheets, recorded_by, score_indexed, Detail, RubricResult, ScoringSettings};
use crate::scoring::scheme::{
    FormulaNode, LinkRelation, RankingGrouping, RankingSpec, SchemeDefinition, SubjectTypeScheme,
};

/// What to compute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComputeOptions {
    /// Compute from the data as recorded at this instant (later findings left out, later
    /// revocations not yet applied); absent = everything recorded, every revocation applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<DateTime<Utc>>,
    /// Full breakdowns or totals only.
    #[serde(default)]
    pub detail: Detail,
    /// Also compute the monthly standing (月度公开) of this month (1–12): the year-end
    /// computation over 1 Jan–the month's last day, for the types a monthly template covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 6, minimum = 1, maximum = 12)]
    pub monthly: Option<u32>,
}

/// Why a year could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoringError {
    /// The requested month is not 1–12.
    #[error("month {0} is not 1–12")]
    InvalidMonth(u32),
    /// The year is outside the calendar's range.
    #[error("year {0} is out of range")]
    YearOutOfRange(i32),
    /// Annual formulas link subject types in a cycle (validation rejects such schemes).
    #[error("annual formulas link subject types in a cycle: {0:?}")]
    LinkCycle(Vec<SubjectType>),
}

/// Everything a scheme-year yields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct YearResults {
    /// The scheme.
    pub scheme_key: String,
    /// The year.
    pub year: i32,
    /// The instant the results reflect (absent = everything recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<DateTime<Utc>>,
    /// Every subject of a type the scheme scores, in input order.
    pub subjects: Vec<SubjectYearResult>,
    /// Annual rankings, per ranking spec and group.
    pub rankings: Vec<RankingResult>,
    /// The monthly standing, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly: Option<MonthlyStandings>,
    /// Each half-year, year-end and democratic evaluation's rankings over its own scores.
    #[serde(default)]
    pub evaluation_rankings: Vec<EvaluationRankings>,
}

/// The rankings of one evaluation (no prizes or consequences: those are annual).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationRankings {
    /// The evaluation.
    pub evaluation_id: Uuid,
    /// Its template key.
    pub key: String,
    /// Its kind.
    pub kind: EvaluationKind,
    /// Its title.
    pub title: String,
    /// The scheme's rankings over the evaluation's published scores, for the types it covers.
    pub rankings: Vec<RankingResult>,
}

impl YearResults {
    /// The result of one subject.
    pub fn subject(&self, subject_id: Uuid) -> Option<&SubjectYearResult> {
        self.subjects.iter().find(|subject| subject.subject_id == subject_id)
    }
}

/// One subject's year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubjectYearResult {
    /// The subject.
    pub subject_id: Uuid,
    /// Its type.
    pub subject_type: SubjectType,
    /// Its name.
    pub name: String,
    /// Its result in each evaluation covering its type.
    pub evaluations: Vec<EvaluationResult>,
    /// Its annual score.
    pub annual: AnnualResult,
    /// The four quarterly assessments (Q1–Q4, absent ones marked), for types a quarterly
    /// evaluation template covers; the annual formula does not read them (§8.6).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quarterly: Vec<QuarterlyScore>,
    /// The year's first active veto, if any: no excellence, no prize.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vetoed: Option<Veto>,
    /// Its grade, for types the scheme grades.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<GradeResult>,
    /// Consequence codes, once each, in code order (§8.4–8.5).
    #[serde(default)]
    pub consequences: Vec<Consequence>,
    /// Each consequence with its cause (a finding, an attribute, a linked subject, the score
    /// or the ranking), in code order.
    #[serde(default)]
    pub consequence_details: Vec<ConsequenceDetail>,
}

/// One quarter's assessment beside the annual result (§8.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"quarter": "Q1", "absent": false, "evaluation_id": "0193b0d2-0000-7000-8000-000000000031", "title": "第一季度考核", "published_score": "88.50"}))]
pub struct QuarterlyScore {
    /// The quarter.
    pub quarter: Quarter,
    /// No quarterly evaluation of this quarter, or no total in it.
    pub absent: bool,
    /// The quarter's evaluation, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_id: Option<Uuid>,
    /// Its title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The exact total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "88.5")]
    pub score: Option<Exact>,
    /// The published score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "88.50")]
    pub published_score: Option<Decimal>,
}

/// One subject's result in one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationResult {
    /// The evaluation.
    pub evaluation_id: Uuid,
    /// Its template key.
    pub key: String,
    /// Its kind.
    pub kind: EvaluationKind,
    /// Its title.
    pub title: String,
    /// Its window.
    pub window: Window,
    /// The result.
    pub outcome: EvaluationOutcome,
}

/// A rubric total or a democratic score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EvaluationOutcome {
    /// Half-year and year-end evaluations.
    Rubric(RubricResult),
    /// Democratic evaluations.
    Democratic(DemocraticResult),
}

impl EvaluationOutcome {
    /// The exact value the annual formula uses.
    pub fn value(&self) -> Option<&Exact> {
        match self {
            EvaluationOutcome::Rubric(result) => result.total.as_ref(),
            EvaluationOutcome::Democratic(result) => result.score.as_ref(),
        }
    }

    /// The published score.
    pub fn published_score(&self) -> Option<Decimal> {
        match self {
            EvaluationOutcome::Rubric(result) => result.published_score,
            EvaluationOutcome::Democratic(result) => result.published_score,
        }
    }
}

/// One group of one ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RankingResult {
    /// The ranking spec's key.
    #[schema(example = "townships")]
    pub key: String,
    /// Its title.
    pub title: String,
    /// The subject type ranked.
    pub subject_type: SubjectType,
    /// Which group this is.
    pub group: RankingGroup,
    /// The entries, ranked first, unscored last.
    pub entries: Vec<RankingEntry>,
}

/// The group a ranking covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RankingGroup {
    /// All subjects of the type.
    All,
    /// One `ranking_group` category (absent = subjects without a category).
    RankingGroup {
        /// The category.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// One township's subjects.
    Township {
        /// The township (absent = subjects without one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        township_id: Option<Uuid>,
        /// Its name, when the township is among the subjects.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
}

/// A monthly standing (月度公开).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MonthlyStandings {
    /// The month, 1–12.
    pub month: u32,
    /// 1 Jan–the month's last day.
    pub window: Window,
    /// Each covered subject's running result.
    pub results: Vec<MonthlyStanding>,
    /// The scheme's rankings over the running results (no prizes or consequences: those are annual).
    pub rankings: Vec<RankingResult>,
}

/// One subject's running result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MonthlyStanding {
    /// The subject.
    pub subject_id: Uuid,
    /// The running rubric result.
    pub result: RubricResult,
}

/// Computes a scheme-year for a county. Subjects of types the scheme does not score are only
/// used as link targets (villages that individuals serve in).
pub fn compute_year(
    scheme: &SchemeDefinition,
    data: &YearData,
    options: &ComputeOptions,
) -> Result<YearResults, ScoringError> {
    compute_over(scheme, data, options, None, false).map(|(results, _)| results)
}

/// What a computation may take from an earlier one instead of computing it again: each
/// subject's result before the rankings (own consequences only), as the earlier computation
/// left it, for every scored subject outside `affected`.
pub(crate) struct Reuse<'p> {
    pub before: &'p FastMap<Uuid, SubjectYearResult>,
    pub affected: &'p FastSet<Uuid>,
}

/// The scheme-year, and when `keep` the results before rankings of the subjects it computed
/// (all of them without `reuse`, only the affected ones with it). With `reuse`, only the affected subjects'
/// findings are indexed and scored, by the same functions; rankings, evaluation rankings and
/// final consequences are always taken over every subject. A monthly standing reads every
/// subject's findings, so asking for one computes everything.
pub(crate) fn compute_over(
    scheme: &SchemeDefinition,
    data: &YearData,
    options: &ComputeOptions,
    reuse: Option<Reuse<'_>>,
    keep: bool,
) -> Result<(YearResults, Vec<SubjectYearResult>), ScoringError> {
    let settings = ScoringSettings::new(&scheme.options, options.detail);
    let year_window = Period::Y
        .window(data.year)
        .ok_or(ScoringError::YearOutOfRange(data.year))?;
    let monthly_window = options
        .monthly
        .map(|month| monthly_window(data.year, month))
        .transpose()?;
    let order = type_order(scheme)?;
    let reuse = reuse.filter(|_| options.monthly.is_none());
    // The subjects computed here: the affected ones and any the earlier computation lacks.
    let fresh: Option<FastSet<Uuid>> = reuse.as_ref().map(|reuse| {
        data.subjects
            .iter()
            .filter(|subject| scheme.subject_types.contains_key(&subject.subject_type))
            .filter(|subject| reuse.affected.contains(&subject.id) || !reuse.before.contains_key(&subject.id))
            .map(|subject| subject.id)
            .collect()
    });
    let is_fresh = |id: &Uuid| fresh.as_ref().is_none_or(|fresh| fresh.contains(id));
    // The earlier computation's results before rankings, when reusing one.
    let before = reuse.as_ref().map(|reuse| reuse.before);
    let index = YearIndex::new(scheme, data, options.as_of, fresh.as_ref());

    let mut evaluations = evaluation_results(scheme, data, &index, &settings, &is_fresh);
    let evaluation_rankings = evaluation_rankings(scheme, data, &index, |id: &Uuid| {
        evaluations
            .get(id)
            .or_else(|| {
                before
                    .and_then(|before| before.get(id))
                    .map(|result| &result.evaluations)
            })
            .map(Vec::as_slice)
    });
    let mut annual = annual_results(scheme, &order, &index, &evaluations, &settings, &is_fresh, |id| {
        before
            .and_then(|before| before.get(id))
            .and_then(|result| result.annual.value.clone())
    });
    let mut computed: Vec<SubjectYearResult> = Vec::new();
    let mut subjects: Vec<SubjectYearResult> = Vec::with_capacity(index.scored.len());
    for subject in &index.scored {
        if !is_fresh(&subject.id) {
            subjects.extend(before.and_then(|before| before.get(&subject.id)).cloned());
            continue;
        }
        let (Some(config), Some(annual)) = (index.config(subject), annual.remove(&subject.id)) else {
            continue;
        };
        let evaluations = evaluations.remove(&subject.id).unwrap_or_default();
        let result = subject_year(scheme, year_window, &index, subject, config, annual, evaluations);
        if keep {
            computed.push(result.clone());
        }
        subjects.push(result);
    }
    let rankings = annual_rankings(&index, &mut subjects);
    let monthly = match (options.monthly, monthly_window) {
        (Some(month), Some(window)) => Some(index.monthly(month, window, &settings)),
        _ => None,
    };

    let results = YearResults {
        scheme_key: scheme.key.clone(),
        year: data.year,
        as_of: options.as_of,
        subjects,
        rankings,
        monthly,
        evaluation_rankings,
    };
    Ok((results, computed))
}

/// Every fresh scored subject's result in each evaluation covering its type.
fn evaluation_results(
    scheme: &SchemeDefinition,
    data: &YearData,
    index: &YearIndex<'_>,
    settings: &ScoringSettings,
    fresh: &impl Fn(&Uuid) -> bool,
) -> FastMap<Uuid, Vec<EvaluationResult>> {
    let mut evaluations: FastMap<Uuid, Vec<EvaluationResult>> = FastMap::default();
    for subject in index.scored.iter().filter(|subject| fresh(&subject.id)) {
        let results = data
            .evaluations
            .iter()
            .filter(|evaluation| covers(scheme, evaluation, subject.subject_type))
            .filter_map(|evaluation| {
                let outcome = match evaluation.kind {
                    EvaluationKind::HalfYear | EvaluationKind::YearEnd | EvaluationKind::Quarterly => {
                        EvaluationOutcome::Rubric(score_indexed(
                            index.rubric(subject.subject_type)?,
                            &subject.attributes,
                            index.findings(subject.id),
                            evaluation.window,
                            &index.sheets(evaluation.id, subject.id, settings),
                            settings,
                        ))
                    }
                    EvaluationKind::Democratic => EvaluationOutcome::Democratic(score_ballots(
                        index.ballots(evaluation.id, subject.id),
                        scheme.options.ballot_trim,
                        settings,
                    )),
                    EvaluationKind::Monthly => return None,
                };
                Some(EvaluationResult {
                    evaluation_id: evaluation.id,
                    key: evaluation.key.clone(),
                    kind: evaluation.kind,
                    title: evaluation.title.clone(),
                    window: evaluation.window,
                    outcome,
                })
            })
            .collect();
        evaluations.insert(subject.id, results);
    }
    evaluations
}

/// Annual results (§8.1) of the fresh subjects, linked types before the types linking to them;
/// a linked subject that is not fresh counts with its earlier value (`earlier`).
fn annual_results(
    scheme: &SchemeDefinition,
    order: &[SubjectType],
    index: &YearIndex<'_>,
    evaluations: &FastMap<Uuid, Vec<EvaluationResult>>,
    settings: &ScoringSettings,
    fresh: &impl Fn(&Uuid) -> bool,
    earlier: impl Fn(&Uuid) -> Option<Exact>,
) -> FastMap<Uuid, AnnualResult> {
    let mut annual: FastMap<Uuid, AnnualResult> = FastMap::default();
    for &subject_type in order {
        let Some(config) = scheme.subject_types.get(&subject_type) else {
            continue;
        };
        let mut links = Vec::new();
        formula_links(&config.annual, &mut links);
        for subject in index
            .scored
            .iter()
            .filter(|subject| subject.subject_type == subject_type && fresh(&subject.id))
        {
            let own = evaluations
                .get(&subject.id)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|evaluation| EvaluationScore {
                    evaluation_id: evaluation.evaluation_id,
                    kind: evaluation.kind,
                    title: evaluation.title.clone(),
                    value: evaluation.outcome.value().cloned(),
                })
                .collect();
            let linked = links
                .iter()
                .flat_map(|&(linked_type, relation)| {
                    index
                        .linked(subject, linked_type, relation)
                        .map(move |linked| (linked, relation))
                })
                .map(|(linked, relation)| LinkedScore {
                    subject_id: linked.id,
                    name: linked.name.clone(),
                    subject_type: linked.subject_type,
                    relation,
                    value: match annual.get(&linked.id) {
                        Some(result) => result.value.clone(),
                        None => earlier(&linked.id),
                    },
                })
                .collect();
            let inputs = AnnualInputs {
                evaluations: own,
                linked,
            };
            annual.insert(subject.id, evaluate_annual(&config.annual, &inputs, settings));
        }
    }
    annual
}

/// One subject's year: veto, grade, quarters and the consequences of its own result (§8.2,
/// §8.4–8.6); dismissal follows from the rankings.
fn subject_year(
    scheme: &SchemeDefinition,
    year_window: Window,
    index: &YearIndex<'_>,
    subject: &SubjectInfo,
    config: &SubjectTypeScheme,
    annual: AnnualResult,
    evaluations: Vec<EvaluationResult>,
) -> SubjectYearResult {
    let vetoed = index.findings(subject.id).veto_in(year_window);
    let grade = config.grading.as_ref().and_then(|grading| {
        grade(
            grading,
            annual.published_score,
            vetoed.is_some(),
            subject.attributes.recalled,
        )
    });
    let mut consequence_details = config
        .consequences
        .as_ref()
        .map(|rules| score_consequences(rules, annual.published_score))
        .unwrap_or_default();
    consequence_details.extend(individual_consequences(
        subject,
        index.findings(subject.id).marks(),
        year_window,
        index.dispatched_by.get(&subject.id).into_iter().flatten().copied(),
    ));
    let quarterly = quarterly_scores(scheme, year_window.year(), subject.subject_type, &evaluations);
    SubjectYearResult {
        subject_id: subject.id,
        subject_type: subject.subject_type,
        name: subject.name.clone(),
        evaluations,
        annual,
        quarterly,
        vetoed,
        grade,
        consequences: Vec::new(),
        consequence_details,
    }
}

/// The annual rankings. Dismissal comes from the dismissal groups; then every subject's final
/// consequences (referred to the supervisor where vertically managed) are shown on its result
/// and on each of its ranking entries.
fn annual_rankings(index: &YearIndex<'_>, subjects: &mut [SubjectYearResult]) -> Vec<RankingResult> {
    let candidates: FastMap<Uuid, RankingCandidate> = subjects
        .iter()
        .map(|result| {
            let attributes = &index.subject(result.subject_id).map(|s| &s.attributes);
            (
                result.subject_id,
                RankingCandidate {
                    subject_id: result.subject_id,
                    name: result.name.clone(),
                    published_score: result.annual.published_score,
                    vetoed: result.vetoed.is_some(),
                    annual_target_met: attributes.is_none_or(|a| a.annual_target_met),
                    vertically_managed: vertically_managed(index.subject(result.subject_id)),
                },
            )
        })
        .collect();
    let mut rankings = index.rankings(&candidates, true);
    let mut dismissed: FastMap<Uuid, ConsequenceDetail> = FastMap::default();
    for entry in rankings.iter().flat_map(|ranking| &ranking.entries) {
        if let Some(detail) = entry
            .consequence_details
            .iter()
            .find(|detail| detail.code == Consequence::Dismissal)
        {
            dismissed.entry(entry.subject_id).or_insert_with(|| detail.clone());
        }
    }
    let mut final_consequences: FastMap<Uuid, (Vec<Consequence>, Vec<ConsequenceDetail>)> = FastMap::default();
    for result in subjects.iter_mut() {
        result.consequence_details.extend(dismissed.remove(&result.subject_id));
        refer_to_supervisor(
            &mut result.consequence_details,
            vertically_managed(index.subject(result.subject_id)),
        );
        result.consequences = codes(&mut result.consequence_details);
        final_consequences.insert(
            result.subject_id,
            (result.consequences.clone(), result.consequence_details.clone()),
        );
    }
    for entry in rankings.iter_mut().flat_map(|ranking| &mut ranking.entries) {
        let (codes, details) = final_consequences.get(&entry.subject_id).cloned().unwrap_or_default();
        entry.consequences = codes;
        entry.consequence_details = details;
    }
    rankings
}

/// Ranks every half-year, year-end and democratic evaluation on its own published scores.
fn evaluation_rankings<'e>(
    scheme: &SchemeDefinition,
    data: &YearData,
    index: &YearIndex<'_>,
    evaluations: impl Fn(&Uuid) -> Option<&'e [EvaluationResult]>,
) -> Vec<EvaluationRankings> {
    data.evaluations
        .iter()
        .filter(|evaluation| evaluation.kind != EvaluationKind::Monthly)
        .map(|evaluation| {
            let candidates: FastMap<Uuid, RankingCandidate> = index
                .scored
                .iter()
                .filter_map(|subject| {
                    let result = evaluations(&subject.id)?
                        .iter()
                        .find(|result| result.evaluation_id == evaluation.id)?;
                    let vetoed = matches!(&result.outcome, EvaluationOutcome::Rubric(r) if r.vetoed.is_some());
                    Some((
                        subject.id,
                        RankingCandidate {
                            subject_id: subject.id,
                            name: subject.name.clone(),
                            published_score: result.outcome.published_score(),
                            vetoed,
                            annual_target_met: subject.attributes.annual_target_met,
                            vertically_managed: false,
                        },
                    ))
                })
                .collect();
            let rankings = index
                .rankings(&candidates, false)
                .into_iter()
                .filter(|ranking| covers(scheme, evaluation, ranking.subject_type))
                .collect();
            EvaluationRankings {
                evaluation_id: evaluation.id,
                key: evaluation.key.clone(),
                kind: evaluation.kind,
                title: evaluation.title.clone(),
                rankings,
            }
        })
        .collect()
}

/// A department marked 属上级垂管.
fn vertically_managed(subject: Option<&SubjectInfo>) -> bool {
    subject.is_some_and(|s| s.subject_type == SubjectType::Department && s.attributes.vertically_managed)
}

/// Q1–Q4 for a type that a quarterly template covers: each quarter's quarterly evaluation (the
/// scheme's template's, else the first other one of that window) and its total, or absent.
fn quarterly_scores(
    scheme: &SchemeDefinition,
    year: i32,
    subject_type: SubjectType,
    evaluations: &[EvaluationResult],
) -> Vec<QuarterlyScore> {
    let quarterly = scheme
        .evaluations
        .iter()
        .any(|template| template.kind == EvaluationKind::Quarterly && template.applies_to(subject_type));
    if !quarterly {
        return Vec::new();
    }
    Quarter::ALL
        .into_iter()
        .map(|quarter| {
            let window = quarter_period(quarter).window(year);
            // The scheme's own quarterly evaluation of that quarter first, then any other.
            let of_quarter = |e: &&EvaluationResult| e.kind == EvaluationKind::Quarterly && Some(e.window) == window;
            let templated = |e: &&EvaluationResult| scheme.evaluation_template(&e.key).is_some();
            let found = evaluations
                .iter()
                .filter(of_quarter)
                .find(templated)
                .or_else(|| evaluations.iter().find(of_quarter));
            let score = found.and_then(|e| e.outcome.value().cloned());
            QuarterlyScore {
                quarter,
                absent: score.is_none(),
                evaluation_id: found.map(|e| e.evaluation_id),
                title: found.map(|e| e.title.clone()),
                published_score: found.and_then(|e| e.outcome.published_score()),
                score,
            }
        })
        .collect()
}

fn quarter_period(quarter: Quarter) -> Period {
    match quarter {
        Quarter::Q1 => Period::Q1,
        Quarter::Q2 => Period::Q2,
        Quarter::Q3 => Period::Q3,
        Quarter::Q4 => Period::Q4,
    }
}

/// 1 Jan–the month's last day.
pub fn monthly_window(year: i32, month: u32) -> Result<Window, ScoringError> {
    if !(1..=12).contains(&month) {
        return Err(ScoringError::InvalidMonth(month));
    }
    let from = NaiveDate::from_ymd_opt(year, 1, 1).ok_or(ScoringError::YearOutOfRange(year))?;
    let to = last_day_of_month(year, month).ok_or(ScoringError::YearOutOfRange(year))?;
    Ok(Window { from, to })
}

/// Whether an evaluation covers a subject type: its template's types, or every type when the
/// evaluation names no template of the scheme.
fn covers(scheme: &SchemeDefinition, evaluation: &EvaluationInfo, subject_type: SubjectType) -> bool {
    scheme
        .evaluation_template(&evaluation.key)
        .is_none_or(|template| template.applies_to(subject_type))
}

/// The links a formula uses.
pub(crate) fn formula_links(node: &FormulaNode, into: &mut Vec<(SubjectType, LinkRelation)>) {
    match node {
        FormulaNode::Weighted { children } => {
            for child in children {
                formula_links(&child.node, into);
            }
        }
        FormulaNode::Own { .. } => {}
        FormulaNode::Linked { subject_type, relation } => {
            if !into.contains(&(*subject_type, *relation)) {
                into.push((*subject_type, *relation));
            }
        }
    }
}

/// The scheme's subject types with every linked type before the types linking to it.
pub fn type_order(scheme: &SchemeDefinition) -> Result<Vec<SubjectType>, ScoringError> {
    let mut depends: BTreeMap<SubjectType, Vec<SubjectType>> = BTreeMap::new();
    for (&subject_type, config) in &scheme.subject_types {
        let mut links = Vec::new();
        formula_links(&config.annual, &mut links);
        depends.insert(
            subject_type,
            links
                .into_iter()
                .map(|(linked, _)| linked)
                .filter(|linked| scheme.subject_types.contains_key(linked))
                .collect(),
        );
    }
    let mut order = Vec::new();
    while order.len() < depends.len() {
        let ready: Vec<SubjectType> = depends
            .iter()
            .filter(|(subject_type, linked)| !order.contains(*subject_type) && linked.iter().all(|l| order.contains(l)))
            .map(|(&subject_type, _)| subject_type)
            .collect();
        if ready.is_empty() {
            let cycle = depends
                .keys()
                .filter(|subject_type| !order.contains(*subject_type))
                .copied()
                .collect();
            return Err(ScoringError::LinkCycle(cycle));
        }
        order.extend(ready);
    }
    Ok(order)
}

/// The township an individual counts for: that of the village it serves in (§3, §8.1).
pub(crate) fn serving_township<'a>(
    subject: &SubjectInfo,
    subject_by_id: impl Fn(Uuid) -> Option<&'a SubjectInfo>,
) -> Option<Uuid> {
    subject
        .stationed_in
        .and_then(subject_by_id)
        .and_then(|village| village.township_id)
        .or(subject.township_id.filter(|_| subject.stationed_in.is_some()))
}

/// The year's data indexed for scoring.
struct YearIndex<'a> {
    scheme: &'a SchemeDefinition,
    data: &'a YearData,
    by_id: FastMap<Uuid, &'a SubjectInfo>,
    /// Subjects of a type the scheme scores, in input order.
    scored: Vec<&'a SubjectInfo>,
    rubrics: BTreeMap<SubjectType, RubricIndex<'a>>,
    /// Each scored subject's position in `scored`.
    slots: FastMap<Uuid, usize>,
    /// Per slot, the subject's resolved findings.
    findings: Vec<SubjectFindings<'a>>,
    no_findings: SubjectFindings<'a>,
    sheets: FastMap<(Uuid, Uuid), Vec<&'a Scoresheet>>,
    ballots: FastMap<(Uuid, Uuid), Vec<Decimal>>,
    dispatched_by: FastMap<Uuid, Vec<&'a SubjectInfo>>,
    stationed_in_village: FastMap<Uuid, Vec<&'a SubjectInfo>>,
    stationed_in_township: FastMap<Uuid, Vec<&'a SubjectInfo>>,
}

impl<'a> YearIndex<'a> {
    /// Indexes the year; with `only`, the findings, scoresheets and ballots of those subjects
    /// alone (the others are not scored again).
    fn new(
        scheme: &'a SchemeDefinition,
        data: &'a YearData,
        as_of: Option<DateTime<Utc>>,
        only: Option<&FastSet<Uuid>>,
    ) -> Self {
        let by_id: FastMap<Uuid, &SubjectInfo> = data.subjects.iter().map(|subject| (subject.id, subject)).collect();
        let scored: Vec<&SubjectInfo> = data
            .subjects
            .iter()
            .filter(|subject| scheme.subject_types.contains_key(&subject.subject_type))
            .collect();

        let rubrics: BTreeMap<SubjectType, RubricIndex> = scheme
            .subject_types
            .iter()
            .map(|(&subject_type, config)| (subject_type, RubricIndex::new(&config.rubric)))
            .collect();
        let slots: FastMap<Uuid, usize> = scored
            .iter()
            .enumerate()
            .filter(|(_, subject)| only.is_none_or(|only| only.contains(&subject.id)))
            .map(|(slot, subject)| (subject.id, slot))
            .collect();
        // First pass, in input order: each active finding's subject slot, and counts per slot
        // so every subject's entries are allocated once.
        let finding_slots: Vec<Option<usize>> = data
            .findings
            .iter()
            .map(|finding| {
                finding
                    .is_active(as_of)
                    .then(|| slots.get(&finding.subject_id).copied())
                    .flatten()
            })
            .collect();
        let mut counts = vec![0usize; scored.len()];
        for slot in finding_slots.iter().flatten() {
            if let Some(count) = counts.get_mut(*slot) {
                *count += 1;
            }
        }
        // Second pass, in input order: resolve each finding against its subject's rubric while
        // its codes are at hand; evaluations then only compare dates and integers.
        let mut builders: Vec<SubjectFindingsBuilder> = counts
            .iter()
            .map(|&count| SubjectFindingsBuilder::with_capacity(count))
            .collect();
        for (finding, slot) in data.findings.iter().zip(&finding_slots) {
            let Some(slot) = *slot else {
                continue;
            };
            let rubric = scored.get(slot).and_then(|subject| rubrics.get(&subject.subject_type));
            if let (Some(builder), Some(rubric)) = (builders.get_mut(slot), rubric) {
                builder.add(rubric, finding);
            }
        }
        let findings: Vec<SubjectFindings> = builders
            .into_iter()
            .zip(&scored)
            .map(|(builder, subject)| match rubrics.get(&subject.subject_type) {
                Some(rubric) => builder.finish(rubric),
                None => SubjectFindings::default(),
            })
            .collect();

        let mut sheets: FastMap<(Uuid, Uuid), Vec<&Scoresheet>> = FastMap::default();
        let indexed = |subject_id: &Uuid| only.is_none_or(|only| only.contains(subject_id));
        for sheet in &data.scoresheets {
            if recorded_by(sheet.recorded_at, as_of) && indexed(&sheet.subject_id) {
                sheets
                    .entry((sheet.evaluation_id, sheet.subject_id))
                    .or_default()
                    .push(sheet);
            }
        }
        let mut ballots: FastMap<(Uuid, Uuid), Vec<Decimal>> = FastMap::default();
        for ballot in &data.ballots {
            if recorded_by(ballot.recorded_at, as_of) && indexed(&ballot.subject_id) {
                ballots
                    .entry((ballot.evaluation_id, ballot.subject_id))
                    .or_default()
                    .push(ballot.score);
            }
        }

        let mut dispatched_by: FastMap<Uuid, Vec<&SubjectInfo>> = FastMap::default();
        let mut stationed_in_village: FastMap<Uuid, Vec<&SubjectInfo>> = FastMap::default();
        let mut stationed_in_township: FastMap<Uuid, Vec<&SubjectInfo>> = FastMap::default();
        for subject in &data.subjects {
            if let Some(department) = subject.dispatched_by {
                dispatched_by.entry(department).or_default().push(subject);
            }
            if let Some(village) = subject.stationed_in {
                stationed_in_village.entry(village).or_default().push(subject);
            }
            if let Some(township) = serving_township(subject, |id| by_id.get(&id).copied()) {
                stationed_in_township.entry(township).or_default().push(subject);
            }
        }

        YearIndex {
            scheme,
            data,
            by_id,
            scored,
            rubrics,
            slots,
            findings,
            no_findings: SubjectFindings::default(),
            sheets,
            ballots,
            dispatched_by,
            stationed_in_village,
            stationed_in_township,
        }
    }

    fn subject(&self, id: Uuid) -> Option<&'a SubjectInfo> {
        self.by_id.get(&id).copied()
    }

    fn rubric(&self, subject_type: SubjectType) -> Option<&RubricIndex<'a>> {
        self.rubrics.get(&subject_type)
    }

    fn config(&self, subject: &SubjectInfo) -> Option<&'a SubjectTypeScheme> {
        self.scheme.subject_types.get(&subject.subject_type)
    }

    fn findings(&self, subject_id: Uuid) -> &SubjectFindings<'a> {
        self.slots
            .get(&subject_id)
            .and_then(|&slot| self.findings.get(slot))
            .unwrap_or(&self.no_findings)
    }

    fn sheets(&self, evaluation_id: Uuid, subject_id: Uuid, settings: &ScoringSettings) -> Vec<&'a Scoresheet> {
        self.sheets
            .get(&(evaluation_id, subject_id))
            .map(|sheets| effective_sheets(sheets.iter().copied(), settings.scoresheet_mode))
            .unwrap_or_default()
    }

    fn ballots(&self, evaluation_id: Uuid, subject_id: Uuid) -> Vec<Decimal> {
        self.ballots
            .get(&(evaluation_id, subject_id))
            .cloned()
            .unwrap_or_default()
    }

    /// Subjects of `linked_type` linked to `subject` by `relation`.
    fn linked(
        &self,
        subject: &SubjectInfo,
        linked_type: SubjectType,
        relation: LinkRelation,
    ) -> impl Iterator<Item = &'a SubjectInfo> + '_ {
        let candidates = match relation {
            LinkRelation::DispatchedBy => self.dispatched_by.get(&subject.id),
            LinkRelation::StationedIn => match subject.subject_type {
                SubjectType::Township => self.stationed_in_township.get(&subject.id),
                _ => self.stationed_in_village.get(&subject.id),
            },
        };
        candidates
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .copied()
            .filter(move |linked| linked.subject_type == linked_type)
    }

    /// Every ranking of the scheme over the given candidates. `annual` decides whether prizes
    /// and consequences apply.
    fn rankings(&self, candidates: &FastMap<Uuid, RankingCandidate>, annual: bool) -> Vec<RankingResult> {
        let mut rankings = Vec::new();
        for (&subject_type, config) in &self.scheme.subject_types {
            for spec in &config.rankings {
                let rules = RankingRules {
                    prizes: match (&config.prizes, annual && spec.prizes) {
                        (Some(prizes), true) => prizes.clone(),
                        _ => Vec::new(),
                    },
                    consequences: config.consequences.clone().filter(|_| annual && spec.dismissal_group),
                };
                for (group, members) in self.groups(subject_type, spec, candidates) {
                    rankings.push(RankingResult {
                        key: spec.key.clone(),
                        title: spec.title.clone(),
                        subject_type,
                        group,
                        entries: rank(&members, &rules),
                    });
                }
            }
        }
        rankings
    }

    fn groups(
        &self,
        subject_type: SubjectType,
        spec: &RankingSpec,
        candidates: &FastMap<Uuid, RankingCandidate>,
    ) -> Vec<(RankingGroup, Vec<RankingCandidate>)> {
        let members = self
            .scored
            .iter()
            .filter(|subject| subject.subject_type == subject_type)
            .filter_map(|subject| Some((*subject, candidates.get(&subject.id)?.clone())));
        match spec.grouping {
            RankingGrouping::All => vec![(RankingGroup::All, members.map(|(_, c)| c).collect())],
            RankingGrouping::RankingGroup => {
                let mut groups: BTreeMap<Option<String>, Vec<RankingCandidate>> = BTreeMap::new();
                for (subject, candidate) in members {
                    groups
                        .entry(subject.attributes.ranking_group.clone())
                        .or_default()
                        .push(candidate);
                }
                groups
                    .into_iter()
                    .map(|(name, members)| (RankingGroup::RankingGroup { name }, members))
                    .collect()
            }
            RankingGrouping::Township => {
                let mut groups: BTreeMap<Option<Uuid>, Vec<RankingCandidate>> = BTreeMap::new();
                for (subject, candidate) in members {
                    groups.entry(subject.township_id).or_default().push(candidate);
                }
                groups
                    .into_iter()
                    .map(|(township_id, members)| {
                        let name = township_id
                            .and_then(|id| self.subject(id))
                            .map(|township| township.name.clone());
                        (RankingGroup::Township { township_id, name }, members)
                    })
                    .collect()
            }
        }
    }

    /// The monthly standing: the year-end computation over 1 Jan–month end, using the
    /// year-end evaluation's scoresheets for any assessed items.
    fn monthly(&self, month: u32, window: Window, settings: &ScoringSettings) -> MonthlyStandings {
        let covered = |subject_type: SubjectType| {
            self.scheme
                .evaluations
                .iter()
                .any(|template| template.kind == EvaluationKind::Monthly && template.applies_to(subject_type))
        };
        let mut results = Vec::new();
        let mut candidates = FastMap::default();
        for subject in self.scored.iter().filter(|subject| covered(subject.subject_type)) {
            let sheets = self
                .data
                .evaluations
                .iter()
                .find(|evaluation| {
                    evaluation.kind == EvaluationKind::YearEnd && covers(self.scheme, evaluation, subject.subject_type)
                })
                .map(|evaluation| self.sheets(evaluation.id, subject.id, settings))
                .unwrap_or_default();
            let findings = self.findings(subject.id);
            let Some(rubric) = self.rubric(subject.subject_type) else {
                continue;
            };
            let result = score_indexed(rubric, &subject.attributes, findings, window, &sheets, settings);
            candidates.insert(
                subject.id,
                RankingCandidate {
                    subject_id: subject.id,
                    name: subject.name.clone(),
                    published_score: result.published_score,
                    vetoed: result.vetoed.is_some(),
                    annual_target_met: subject.attributes.annual_target_met,
                    vertically_managed: false,
                },
            );
            results.push(MonthlyStanding {
                subject_id: subject.id,
                result,
            });
        }
        let rankings = self
            .rankings(&candidates, false)
            .into_iter()
            .filter(|ranking| covered(ranking.subject_type))
            .collect();
        MonthlyStandings {
            month,
            window,
            results,
            rankings,
        }
    }
}
