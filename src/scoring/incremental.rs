//! Incremental recomputation: after a write that changed a few subjects' inputs, the scheme-year
//! again, computing only what depends on them — those subjects, and the subjects their results
//! feed (§8.1 links: a first secretary feeds its department, its village and its township) —
//! with the same functions as a full computation; rankings, prizes and final consequences are
//! always taken over every subject (re-ranking a county is microseconds).
//!
//! The caller names the subjects whose own inputs changed (findings, scoresheets, ballots,
//! attributes, name, links). A link that moved is found here too: a subject whose link targets
//! differ from the earlier computation's is treated as changed, so both its old and its new
//! targets are computed again. Anything else (the scheme, the evaluations, the year) needs a full
//! computation.

use uuid::Uuid;

use crate::scoring::fast_hash::{FastMap, FastSet};
use crate::scoring::inputs::{SubjectInfo, YearData};
use crate::scoring::scheme::SchemeDefinition;
use crate::scoring::year::{
    compute_over, serving_township, ComputeOptions, Reuse, ScoringError, SubjectYearResult, YearResults,
};

/// A computed scheme-year kept so that the next one can be computed incrementally.
#[derive(Debug, Clone)]
pub struct YearState {
    options: ComputeOptions,
    /// Every scored subject's result before the rankings.
    before: FastMap<Uuid, SubjectYearResult>,
    /// Every subject's link targets: the subjects whose results read it.
    feeds: FastMap<Uuid, Vec<Uuid>>,
}

impl YearState {
    /// The options it was computed with; an incremental step must ask the same.
    pub fn options(&self) -> &ComputeOptions {
        &self.options
    }
}

/// The scheme-year computed in full, and the state the next incremental step starts from.
pub fn compute_year_state(
    scheme: &SchemeDefinition,
    data: &YearData,
    options: &ComputeOptions,
) -> Result<(YearResults, YearState), ScoringError> {
    let (results, computed) = compute_over(scheme, data, options, None, true)?;
    let state = YearState {
        options: *options,
        before: computed.into_iter().map(|result| (result.subject_id, result)).collect(),
        feeds: feeds(data),
    };
    Ok((results, state))
}

/// The scheme-year after `changed` subjects' inputs changed, computing only what depends on
/// them; equal to `compute_year` on the same data. Falls back to a full computation when the
/// state was computed with other options or a monthly standing is asked for.
pub fn recompute_year(
    scheme: &SchemeDefinition,
    data: &YearData,
    options: &ComputeOptions,
    mut state: YearState,
    changed: &[Uuid],
) -> Result<(YearResults, YearState), ScoringError> {
    if state.options != *options || options.monthly.is_some() {
        return compute_year_state(scheme, data, options);
    }
    let feeds_now = feeds(data);
    let affected = affected(changed, &state.feeds, &feeds_now);
    let (results, computed) = compute_over(
        scheme,
        data,
        options,
        Some(Reuse {
            before: &state.before,
            affected: &affected,
        }),
        true,
    )?;
    let scored: FastSet<Uuid> = results.subjects.iter().map(|result| result.subject_id).collect();
    state.before.retain(|id, _| scored.contains(id));
    state
        .before
        .extend(computed.into_iter().map(|result| (result.subject_id, result)));
    state.feeds = feeds_now;
    Ok((results, state))
}

/// The changed subjects, those whose links moved, and everything their results feed, old
/// links and new, transitively.
fn affected(
    changed: &[Uuid],
    feeds_then: &FastMap<Uuid, Vec<Uuid>>,
    feeds_now: &FastMap<Uuid, Vec<Uuid>>,
) -> FastSet<Uuid> {
    let moved = feeds_now
        .iter()
        .filter(|(id, targets)| feeds_then.get(*id) != Some(*targets))
        .map(|(id, _)| *id)
        .chain(feeds_then.keys().filter(|id| !feeds_now.contains_key(*id)).copied());
    let mut queue: Vec<Uuid> = changed.iter().copied().chain(moved).collect();
    let mut affected = FastSet::default();
    while let Some(id) = queue.pop() {
        if affected.insert(id) {
            for feeds in [feeds_then, feeds_now] {
                queue.extend(feeds.get(&id).into_iter().flatten().copied());
            }
        }
    }
    affected
}

/// Per subject, the subjects it is linked to — the department that dispatched it, the village
/// it serves in and that village's township (§3, §8.1) — as the engine's index links them.
fn feeds(data: &YearData) -> FastMap<Uuid, Vec<Uuid>> {
    let by_id: FastMap<Uuid, &SubjectInfo> = data.subjects.iter().map(|subject| (subject.id, subject)).collect();
    data.subjects
        .iter()
        .map(|subject| {
            let township = serving_township(subject, |id| by_id.get(&id).copied());
            let targets = [subject.dispatched_by, subject.stationed_in, township]
                .into_iter()
                .flatten()
                .collect();
            (subject.id, targets)
        })
        .collect()
}
