//! The scoring engine: pure functions from a scheme and a year's data (subjects, findings,
//! scoresheets, ballots) to scores with every point explained. No HTTP, no database, no clock:
//! the instant results reflect (`as_of`) is a parameter, and all arithmetic is exact decimal.
//!
//! Entry points:
//! - [`compute_year`]: the whole scheme-year of a county (evaluations, annual scores, grades,
//!   consequences, rankings, prizes, optionally a monthly standing);
//! - [`score_rubric`], [`democratic_score`], [`evaluate_annual`], [`grade`], [`rank`]: the same
//!   steps one at a time, for single-subject results and what-if simulations.

pub mod admission;
pub mod consequences;
pub mod democratic;
pub mod explain;
mod fast_hash;
pub(crate) use fast_hash::FastSet;
pub mod formula;
pub mod grading;
mod incremental;
mod index;
pub mod inputs;
mod methods;
pub mod model;
pub mod ranking;
pub mod rubric;
pub mod scheme;
pub mod year;

#[cfg(test)]
mod tests;

pub use admission::IncidentKind;
pub use consequences::{
    individual_consequences, own_consequences, score_consequences, CauseAttribute, CauseFindingKind, Consequence,
    ConsequenceCause, ConsequenceDetail,
};
pub use democratic::{democratic_score, DemocraticResult};
pub use explain::{
    Contribution, ContributionNote, ContributionSource, Explanation, IgnoredFinding, IgnoredReason, Missing, Veto,
};
pub use formula::{
    evaluate_annual, AnnualInputs, AnnualResult, EvaluationScore, FormulaInput, FormulaResult, FormulaResultNode,
    LinkedScore,
};
pub use grading::{grade, GradeBasis, GradeResult};
pub use incremental::{compute_year_state, recompute_year, YearState};
pub use inputs::{
    Ballot, EvaluationInfo, EvaluationKind, Finding, FindingDetail, MeasuredRate, Period, Quarter, Scoresheet,
    SubjectAttributes, SubjectInfo, Window, YearData,
};
pub use model::{
    AdjustmentDirection, AdjustmentMethod, AdjustmentRule, AdjustmentRuleKind, BonusMethod, BonusRule, DeductionMethod,
    DeductionRule, Item, Method, MethodKind, Node, NonStacking, RateBand, RatePeriod, Rubric, Section, SteppedAmount,
    SubjectType,
};
pub use ranking::{rank, Prize, RankingCandidate, RankingEntry, RankingRules};
pub use rubric::{
    score_rubric, DerivedScore, Detail, ItemScore, ItemStatus, NodeResult, RubricInputs, RubricResult, ScoringSettings,
    SectionScore,
};
pub use scheme::{
    ConsequenceRules, DismissalRule, EvaluationTemplate, FormulaNode, Grade, GradeBand, Grading, LinkRelation,
    PrizeBand, RankingGrouping, RankingSpec, SchemeDefinition, SchemeOptions, ScoresheetMode, SubjectTypeScheme,
    WeightedComponent,
};
pub use year::{
    compute_year, monthly_window, type_order, ComputeOptions, EvaluationOutcome, EvaluationRankings, EvaluationResult,
    MonthlyStanding, MonthlyStandings, QuarterlyScore, RankingGroup, RankingResult, ScoringError, SubjectYearResult,
    YearResults,
};
