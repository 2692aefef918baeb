//! The scheme (考核方案) as data: per subject type its rubric, annual formula, grade bands,
//! rankings, prizes and consequences, plus the evaluations of the year and scoring options.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::scoring::inputs::{EvaluationKind, Period};
use crate::scoring::model::{Rubric, SubjectType};

/// One year's assessment set-up. Built-in schemes ship as data (`schemes::built_in()`); users
/// may post their own in the same shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SchemeDefinition {
    /// Stable key, kebab-case.
    #[schema(example = "county-poverty")]
    pub key: String,
    /// The Chinese title.
    #[schema(example = "某县脱贫攻坚工作考核办法")]
    pub title: String,
    /// What the scheme is for.
    #[serde(default)]
    pub description: String,
    /// Where it comes from (the source document).
    #[serde(default)]
    pub source: String,
    /// Per subject type: how it is scored.
    pub subject_types: BTreeMap<SubjectType, SubjectTypeScheme>,
    /// The evaluations a year of this scheme holds.
    #[serde(default)]
    pub evaluations: Vec<EvaluationTemplate>,
    /// Scoring options.
    #[serde(default)]
    pub options: SchemeOptions,
}

impl SchemeDefinition {
    /// The evaluation template with this key.
    pub fn evaluation_template(&self, key: &str) -> Option<&EvaluationTemplate> {
        self.evaluations.iter().find(|template| template.key == key)
    }
}

/// How one subject type is scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubjectTypeScheme {
    /// The rubric for half-year, year-end and monthly results.
    pub rubric: Rubric,
    /// The annual score as a weighted formula tree (§8.1).
    pub annual: FormulaNode,
    /// Grade bands (§8.2); individuals only in the built-in schemes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grading: Option<Grading>,
    /// Rankings of this type's subjects (§8.3).
    #[serde(default)]
    pub rankings: Vec<RankingSpec>,
    /// Prize bands for rankings with `prizes: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prizes: Option<Vec<PrizeBand>>,
    /// Consequences (§8.4); townships and departments in the built-in schemes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consequences: Option<ConsequenceRules>,
}

/// An evaluation a scheme-year holds, e.g. the half-year assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationTemplate {
    /// Stable key; an evaluation names it.
    #[schema(example = "half_year")]
    pub key: String,
    /// What kind of evaluation.
    pub kind: EvaluationKind,
    /// Display title.
    #[schema(example = "半年考核")]
    pub title: String,
    /// The findings window; default H1 for half-year, the whole year otherwise; a quarterly
    /// evaluation names its quarter (Q1–Q4). Monthly standings always run 1 Jan to the
    /// month's last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Period>,
    /// The subject types it covers; empty = every type of the scheme.
    #[serde(default)]
    pub subject_types: Vec<SubjectType>,
}

impl EvaluationTemplate {
    /// The window period, explicit or the kind's default (§4).
    pub fn window_period(&self) -> Period {
        self.window.unwrap_or(match self.kind {
            EvaluationKind::HalfYear => Period::H1,
            EvaluationKind::YearEnd
            | EvaluationKind::Democratic
            | EvaluationKind::Monthly
            | EvaluationKind::Quarterly => Period::Y,
        })
    }

    /// Whether the evaluation covers a subject type.
    pub fn applies_to(&self, subject_type: SubjectType) -> bool {
        self.subject_types.is_empty() || self.subject_types.contains(&subject_type)
    }
}

/// Scheme-wide scoring options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SchemeOptions {
    /// How several scoresheets for one subject combine (§5.1).
    pub scoresheet_mode: ScoresheetMode,
    /// Democratic evaluations drop the k highest and k lowest ballots when there are more than
    /// 2k; 0 = plain mean (§7).
    pub ballot_trim: u32,
    /// Decimals of the published score, rounded half-up (§5.9).
    #[schema(example = 2)]
    pub published_digits: u32,
    /// The county's time zone (IANA name); dates are calendar dates in it.
    #[schema(example = "Asia/Shanghai")]
    pub timezone: String,
}

impl Default for SchemeOptions {
    fn default() -> Self {
        SchemeOptions {
            scoresheet_mode: ScoresheetMode::Mean,
            ballot_trim: 0,
            published_digits: 2,
            timezone: "Asia/Shanghai".to_owned(),
        }
    }
}

/// How several scoresheets for one subject in one evaluation combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScoresheetMode {
    /// Each assessor's latest sheet counts; an item's score is the mean over the sheets scoring it.
    #[default]
    Mean,
    /// The subject's latest sheet is the single consolidated sheet; items it lacks are unscored.
    Single,
}

/// A node of an annual formula tree (§8.1): weighted children, or a leaf that is the mean of a
/// list of scores. Absent leaves (empty lists) give their weight to present siblings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FormulaNode {
    /// Weighted sum of children; weights at one level sum to 1.
    Weighted {
        /// The weighted children.
        #[schema(no_recursion)]
        children: Vec<WeightedComponent>,
    },
    /// Mean of the subject's own evaluation results of these kinds (rubric totals for half-year
    /// and year-end, ballot scores for democratic).
    Own {
        /// Evaluation kinds whose results are averaged.
        evaluations: Vec<EvaluationKind>,
    },
    /// Mean of the annual scores of linked subjects.
    Linked {
        /// The linked subjects' type.
        subject_type: SubjectType,
        /// How they are linked to this subject.
        relation: LinkRelation,
    },
}

/// One weighted child of a formula node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WeightedComponent {
    /// Weight, 0 < weight ≤ 1.
    #[schema(example = "0.6")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub weight: Decimal,
    /// What the component is, e.g. "半年考核和年终考评平均得分".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The component.
    #[schema(no_recursion)]
    pub node: FormulaNode,
}

/// How linked subjects relate to the subject being scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkRelation {
    /// Individuals whose `dispatched_by` is this department.
    DispatchedBy,
    /// Individuals stationed in this village, or in the villages of this township.
    StationedIn,
}

/// A grade (考核等次).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 优秀.
    Excellent,
    /// 称职.
    Competent,
    /// 基本称职.
    Basic,
    /// 不称职.
    Incompetent,
}

/// Grade bands (§8.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Grading {
    /// Bands from best to worst; a published score takes the first band whose `min_score` it
    /// reaches. The last band has no `min_score` and takes everything below.
    pub bands: Vec<GradeBand>,
    /// The grade of a recalled (召回) individual, whatever the score.
    pub recalled: Grade,
    /// The best grade a vetoed subject can get (a vetoed 优秀 becomes 称职); absent = no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vetoed_ceiling: Option<Grade>,
}

/// One grade band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GradeBand {
    /// The grade.
    pub grade: Grade,
    /// Chinese name.
    #[schema(example = "优秀")]
    pub title: String,
    /// Lowest published score in the band (inclusive); absent only for the last band.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "90")]
    #[serde(deserialize_with = "crate::decimal::strict_option")]
    pub min_score: Option<Decimal>,
    /// Share of the year-end bonus (年终目标奖) paid, 0–1.
    #[schema(example = "1")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub bonus_pay: Decimal,
    /// Whether the grade starts accountability (启动问责程序).
    #[serde(default)]
    pub accountability: bool,
}

/// A prize band: ranks `from_rank..=to_rank` (among eligible subjects) win it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PrizeBand {
    /// Stable key.
    #[schema(example = "first")]
    pub key: String,
    /// Chinese name.
    #[schema(example = "一等奖")]
    pub title: String,
    /// First rank of the band, ≥ 1.
    #[schema(example = 1)]
    pub from_rank: u32,
    /// Last rank of the band, inclusive.
    #[schema(example = 3)]
    pub to_rank: u32,
}

/// A ranking of one subject type's annual published scores (§8.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RankingSpec {
    /// Stable key, unique within the scheme.
    #[schema(example = "townships")]
    pub key: String,
    /// Display title.
    #[schema(example = "乡镇排名")]
    pub title: String,
    /// How subjects are grouped; each group is ranked separately.
    pub grouping: RankingGrouping,
    /// Whether the scheme's prize bands are awarded in this ranking.
    #[serde(default)]
    pub prizes: bool,
    /// Whether this ranking's groups decide the "last 3" of the dismissal rule (§8.4).
    #[serde(default)]
    pub dismissal_group: bool,
}

/// How subjects are grouped for a ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankingGrouping {
    /// All subjects of the type together.
    All,
    /// By the subjects' `ranking_group` attribute (分类排位).
    RankingGroup,
    /// By township (Seed A: villages within their town).
    Township,
}

/// Consequences (结果运用, §8.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConsequenceRules {
    /// A published score below this → `interview` (约谈主要领导，诫勉分管领导).
    #[schema(example = "75")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub interview_below: Decimal,
    /// The dismissal rule, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dismissal: Option<DismissalRule>,
}

/// `dismissal` (主要领导、分管领导予以免职): published score below `below`, annual target not met
/// (when required), and among the last `last_n` of the dismissal group — at or below its n-th
/// lowest published score, ties included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DismissalRule {
    /// Score threshold (exclusive).
    #[schema(example = "75")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub below: Decimal,
    /// Whether the subject must also have missed its annual target.
    #[serde(default = "yes")]
    pub requires_target_missed: bool,
    /// How many of the group's lowest scores are "the last".
    #[schema(example = 3)]
    pub last_n: u32,
}

fn yes() -> bool {
    true
}
