//! `/api/v1/evaluations`, `/api/v1/scoresheets` and `/api/v1/ballots`.

use actix_web::{get, post};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::{action_endpoint, create_endpoint, read_endpoint, Resource};
use super::listing::list_endpoint;
use crate::auth::policy::Action;
use crate::error::ApiError;
use crate::store::evaluations::{
    self, Ballot, Evaluation, EvaluationFilter, EvaluationStatus, InputFilter, NewBallot, NewEvaluation, NewScoresheet,
    Scoresheet,
};
use crate::store::page::Page;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(read)
        .service(close)
        .service(reopen)
        .service(create_sheet)
        .service(list_sheets)
        .service(create_ballot)
        .service(list_ballots);
}

create_endpoint! {
    /// Create an evaluation of a scheme (the built-in ones are created with the scheme).
    create: POST "/evaluations", tag "evaluations", operation "createEvaluation",
    body NewEvaluation, answers Evaluation, "Created", located "URL of the evaluation",
    |tx, caller, new| Evaluation::from(evaluations::create(tx, caller, new).await?)
}

list_endpoint! {
    /// List evaluations that apply to you.
    list: GET "/evaluations", tag "evaluations", operation "listEvaluations", filter EvaluationFilter, items Evaluation,
    |state, caller, filter, page| Ok(evaluations::list(state.store.db(), caller, filter, page).await?.into_iter().map(Evaluation::from).collect())
}

read_endpoint! {
    /// Read one evaluation.
    read: GET "/evaluations/{id}", tag "evaluations", operation "getEvaluation", id "Evaluation id",
    answers Evaluation, "The evaluation",
    |state, caller, id| Evaluation::from(evaluations::load_for(state.store.db(), caller, Action::ReadShared, id).await?)
}

action_endpoint! {
    /// Close an evaluation: it accepts no more scoresheets or ballots.
    close: POST "/evaluations/{id}/close", tag "evaluations", operation "closeEvaluation", id "Evaluation id",
    answers Evaluation, "Closed",
    |tx, caller, id| Evaluation::from(evaluations::set_status(tx, caller, id, EvaluationStatus::Closed).await?)
}

action_endpoint! {
    /// Reopen a closed evaluation.
    reopen: POST "/evaluations/{id}/reopen", tag "evaluations", operation "reopenEvaluation", id "Evaluation id",
    answers Evaluation, "Reopened",
    |tx, caller, id| Evaluation::from(evaluations::set_status(tx, caller, id, EvaluationStatus::Open).await?)
}

/// A stored scoresheet, and the earlier sheet of the same assessor it replaced.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredScoresheet {
    #[serde(flatten)]
    pub scoresheet: Scoresheet,
    /// The id of the same assessor's previous sheet for this subject, now superseded.
    pub supersedes: Option<Uuid>,
}

impl Resource for StoredScoresheet {
    fn id(&self) -> Uuid {
        self.scoresheet.id
    }
    // A sheet is never edited; a later one supersedes it.
    fn version(&self) -> i32 {
        1
    }
}

create_endpoint! {
    /// Enter an assessor's scoresheet for a subject in a half-year or year-end evaluation.
    ///
    /// Only `assessed` items, each 0 ≤ score ≤ max. A second sheet of the same assessor for the same
    /// subject supersedes the first. A closed evaluation answers 409.
    create_sheet: POST "/scoresheets", tag "evaluations", operation "createScoresheet",
    body NewScoresheet, answers StoredScoresheet, "Stored", located "The sheets of this evaluation and subject"
    at |stored| inputs_of("scoresheets", stored.scoresheet.evaluation_id, stored.scoresheet.subject_id),
    |tx, caller, new| {
        let (scoresheet, supersedes) = crate::recording::inputs::record_scoresheet(tx, caller, new).await?;
        StoredScoresheet { scoresheet, supersedes }
    }
}

list_endpoint! {
    /// List scoresheets in your scope.
    list_sheets: GET "/scoresheets", tag "evaluations", operation "listScoresheets", filter InputFilter, items Scoresheet,
    |state, caller, filter, page| {
        let (rows, items) = evaluations::list_sheets(state.store.db(), caller, filter, page).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let its = items.get(&r.id).map(Vec::as_slice).unwrap_or_default();
                Scoresheet::from_rows(r, its)
            })
            .collect())
    }
}

create_endpoint! {
    /// Cast a ballot (民主测评) for a subject in a democratic evaluation.
    create_ballot: POST "/ballots", tag "evaluations", operation "createBallot",
    body NewBallot, answers Ballot, "Stored", located "The ballots of this evaluation and subject"
    at |ballot| inputs_of("ballots", ballot.evaluation_id, ballot.subject_id),
    |tx, caller, new| crate::recording::inputs::record_ballot(tx, caller, new).await?
}

/// Where a scoresheet or ballot is listed: its evaluation's and subject's inputs.
fn inputs_of(inputs: &str, evaluation_id: Uuid, subject_id: Uuid) -> String {
    format!("/api/v1/{inputs}?evaluation_id={evaluation_id}&subject_id={subject_id}")
}

list_endpoint! {
    /// List ballots in your scope.
    list_ballots: GET "/ballots", tag "evaluations", operation "listBallots", filter InputFilter, items Ballot,
    |state, caller, filter, page| {
        let (rows, of) = evaluations::list_ballots(state.store.db(), caller, filter, page).await?;
        rows.into_iter()
            .map(|r| match of.get(&r.evaluation_id) {
                Some(evaluation) => Ok(Ballot::of(r, evaluation)),
                None => Err(ApiError::internal("a ballot's evaluation is missing")),
            })
            .collect()
    }
}
