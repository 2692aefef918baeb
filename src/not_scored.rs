//! Why a subject in a results list has no score: a stable code and a message naming what is
//! missing, so a front end can tell "nothing recorded yet" from a score, and a county-wide list
//! can leave such rows out (`scored=true`).

use serde::Serialize;
use utoipa::ToSchema;

use crate::results::{Computed, ResultSummary, View};
use crate::scoring::{EvaluationKind, FormulaResult, FormulaResultNode};

/// Why `score` is null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotScoredCode {
    /// A half-year or year-end evaluation (or the monthly standing) whose rubric has items
    /// scored by assessors, and no scoresheet for the subject in it.
    NoScoresheets,
    /// A democratic evaluation with no ballot for the subject.
    NoBallots,
    /// The annual score: every component of the annual formula is absent (none of the
    /// subject's evaluations has a score, and no linked subject it averages has one).
    NoScoredComponents,
}

/// Why a row of a results list has no score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"code": "no_scored_components",
    "message": "every component of the annual formula is absent: no scoresheet in 半年考核, 年终考评; no scored first_secretary stationed_in it"}))]
pub struct NotScoredReason {
    pub code: NotScoredCode,
    pub message: String,
}

/// The reason a summary shows no score, or None when it has one.
pub fn reason(computed: &Computed, view: View, summary: &ResultSummary) -> Option<NotScoredReason> {
    if summary.score.is_some() {
        return None;
    }
    let why = |code, message: String| Some(NotScoredReason { code, message });
    match view {
        View::Evaluation(id) => {
            let evaluation = summary.evaluations.iter().find(|e| e.evaluation_id == id)?;
            if evaluation.kind == EvaluationKind::Democratic {
                why(
                    NotScoredCode::NoBallots,
                    format!("no ballot for this subject in {}", evaluation.title),
                )
            } else {
                why(
                    NotScoredCode::NoScoresheets,
                    format!(
                        "no scoresheet for this subject in {}, whose rubric has items scored by assessors",
                        evaluation.title
                    ),
                )
            }
        }
        View::Monthly => why(
            NotScoredCode::NoScoresheets,
            "the running standing includes items scored by assessors, and this subject has no scoresheet".to_owned(),
        ),
        View::Annual => {
            let titles = |democratic: bool| -> Vec<&str> {
                summary
                    .evaluations
                    .iter()
                    // Quarterly assessments are listed beside the annual score, not part of it (§8.6).
                    .filter(|e| e.kind != EvaluationKind::Quarterly)
                    .filter(|e| e.score.is_none() && (e.kind == EvaluationKind::Democratic) == democratic)
                    .map(|e| e.title.as_str())
                    .collect()
            };
            let mut missing = Vec::new();
            let (sheets, ballots) = (titles(false), titles(true));
            if !sheets.is_empty() {
                missing.push(format!("no scoresheet in {}", sheets.join(", ")));
            }
            if !ballots.is_empty() {
                missing.push(format!("no ballot in {}", ballots.join(", ")));
            }
            if let Some(result) = computed.results.subject(summary.subject_id) {
                linked_leaves(&result.annual.formula, &mut missing);
            }
            why(
                NotScoredCode::NoScoredComponents,
                format!(
                    "every component of the annual formula is absent: {}",
                    missing.join("; ")
                ),
            )
        }
    }
}

/// The absent leaves averaging linked subjects, as "no scored first_secretary stationed_in it".
fn linked_leaves(node: &FormulaResult, out: &mut Vec<String>) {
    match &node.node {
        FormulaResultNode::Weighted { children } => {
            for child in children {
                linked_leaves(child, out);
            }
        }
        FormulaResultNode::Linked {
            subject_type, relation, ..
        } if node.absent => out.push(format!(
            "no scored {} {} it",
            subject_type.as_str(),
            crate::store::name_of(relation)
        )),
        _ => {}
    }
}
