//! What-if (`POST /api/v1/results:simulate`): the result and ranks hypothetical findings,
//! scoresheets, ballots and revocations would give one subject, admitted exactly like real
//! ones, computed from the cached year, never written.

use std::collections::HashSet;
use std::sync::Arc;

use rust_decimal::Decimal;
use uuid::Uuid;

use crate::auth::policy::Action;
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::results::{self, Request, ResultsCache, Standing, View};
use crate::scoring::{Ballot, RubricResult, Scoresheet, SubjectYearResult};
use crate::store::evaluations::{InputValidator, NewBallot, NewScoresheet};
use crate::store::incidents::{NewIncident, Validator};
use crate::store::{schemes, subjects, year_data, Store};

/// The hypothetical inputs.
pub struct WhatIf<'a> {
    pub scheme_id: Uuid,
    pub subject_id: Uuid,
    pub findings: &'a [NewIncident],
    pub scoresheets: &'a [NewScoresheet],
    pub ballots: &'a [NewBallot],
    pub revoke: &'a [Uuid],
    pub month: Option<u32>,
}

/// What they would give.
pub struct Simulated {
    pub result: SubjectYearResult,
    pub standings: Vec<Standing>,
    pub current_published_score: Option<Decimal>,
    pub monthly: Option<RubricResult>,
}

/// At most this many hypothetical inputs at once.
const MAX_INPUTS: usize = 1000;

#[tracing::instrument(skip_all, fields(county = %caller.county_id, scheme = %what.scheme_id, subject = %what.subject_id))]
pub async fn simulate(
    store: &Store,
    cache: &ResultsCache,
    caller: &Caller,
    what: WhatIf<'_>,
) -> Result<Simulated, ApiError> {
    let db = store.db();
    subjects::load_for(db, caller, Action::Read, what.subject_id).await?;
    let scheme = schemes::load_for(db, caller, Action::ReadShared, what.scheme_id).await?;
    if what.findings.len() + what.scoresheets.len() + what.ballots.len() + what.revoke.len() > MAX_INPUTS {
        return Err(ApiError::invalid(
            "findings",
            "simulation.too_large",
            "simulate at most 1000 inputs at once",
        ));
    }
    if what.month.is_some_and(|m| !(1..=12).contains(&m)) {
        return Err(ApiError::invalid(
            "month",
            "results.month_invalid",
            "month must be 1–12",
        ));
    }
    let current = results::year(store, cache, scheme.clone(), Request::default()).await?;
    let current_published_score = current
        .results
        .subject(what.subject_id)
        .and_then(|s| s.annual.published_score);
    // The year the current answer was computed from, copied once to add the hypotheses to.
    let (loaded, base, revision) = results::base_inputs(store, cache, scheme).await?;
    let mut year = (*base).clone();
    apply(db, caller, &what, &mut year).await?;
    let request = Request {
        as_of: None,
        monthly: what.month,
        full: true,
    };
    let computed = results::compute(loaded, Arc::new(year), request, revision).await?;
    let result = computed
        .results
        .subject(what.subject_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("result of this subject in this scheme"))?;
    let standings = results::summaries(&computed, Some(caller), View::Annual, None, None)
        .into_iter()
        .find(|s| s.subject_id == what.subject_id)
        .map(|s| s.standings)
        .unwrap_or_default();
    let monthly = computed
        .results
        .monthly
        .as_ref()
        .and_then(|m| m.results.iter().find(|r| r.subject_id == what.subject_id))
        .map(|r| r.result.clone());
    Ok(Simulated {
        result,
        standings,
        current_published_score,
        monthly,
    })
}

/// Admits the hypothetical inputs like real ones and adds them to `year`; every refused one is
/// named by list and index (`findings[2].rule_code`).
async fn apply(
    db: &sea_orm::DatabaseConnection,
    caller: &Caller,
    what: &WhatIf<'_>,
    year: &mut year_data::LoadedYear,
) -> Result<(), ApiError> {
    let now = crate::store::now();
    let mut errors = Vec::new();
    let mut validator = Validator::prepare(db, caller, what.findings).await?;
    for (i, new) in what.findings.iter().enumerate() {
        match validator.check(caller, new) {
            Ok(model) => year.data.findings.extend(year_data::finding_of_model(model)),
            Err(e) => errors.extend(prefixed(e.into_fields(i + 1), "findings", i)),
        }
    }
    let (evaluation_ids, subject_ids): (HashSet<Uuid>, HashSet<Uuid>) = what
        .scoresheets
        .iter()
        .map(|s| (s.evaluation_id, s.subject_id))
        .chain(what.ballots.iter().map(|b| (b.evaluation_id, b.subject_id)))
        .unzip();
    let mut inputs = InputValidator::prepare(db, caller, &evaluation_ids, &subject_ids, true).await?;
    for (i, new) in what.scoresheets.iter().enumerate() {
        match inputs.check_sheet(caller, new) {
            Ok(valid) => year.data.scoresheets.push(Scoresheet {
                id: valid.sheet.id,
                evaluation_id: valid.sheet.evaluation_id,
                subject_id: valid.sheet.subject_id,
                assessor_id: year_data::assessor_identity(&valid.sheet.assessor_name),
                recorded_at: now,
                scores: new.scores.clone(),
            }),
            Err(e) => errors.extend(prefixed(e.into_fields(i + 1), "scoresheets", i)),
        }
    }
    for (i, new) in what.ballots.iter().enumerate() {
        match inputs.check_ballot(caller, new) {
            Ok(b) => year.data.ballots.push(Ballot {
                id: b.id,
                evaluation_id: b.evaluation_id,
                subject_id: b.subject_id,
                score: b.score.0,
                recorded_at: now,
            }),
            Err(e) => errors.extend(prefixed(e.into_fields(i + 1), "ballots", i)),
        }
    }
    for (i, id) in what.revoke.iter().enumerate() {
        match year
            .data
            .findings
            .iter_mut()
            .find(|f| f.id == *id && f.revoked_at.is_none())
        {
            Some(f) => f.revoked_at = Some(now),
            None => errors.push(FieldError::new(
                format!("revoke[{i}]"),
                "simulation.finding_unknown",
                "not an active finding of this scheme",
            )),
        }
    }
    ApiError::unless_invalid(errors)
}

/// Row errors of a simulation's list, named by list and index.
fn prefixed(errors: Vec<FieldError>, list: &str, index: usize) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|mut e| {
            e.field = format!("{list}[{index}].{}", e.field);
            e.row = None;
            e
        })
        .collect()
}
