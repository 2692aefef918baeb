//! `/api/v1/evaluations`, `/api/v1/scoresheets` and `/api/v1/ballots`.

use actix_web::{get, post, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::idempotency::Respond;
use super::listing::list_endpoint;
use super::{created, ok_versioned, Body};
use crate::auth::policy::Action;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
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

/// Create an evaluation of a scheme (the built-in ones are created with the scheme).
#[utoipa::path(
    tag = "evaluations", operation_id = "createEvaluation",
    request_body = NewEvaluation,
    responses((status = 201, description = "Created", body = Evaluation, headers(("Location" = String, description = "URL of the evaluation"))))
)]
#[post("/evaluations")]
async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    Body(new): Body<NewEvaluation>,
) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let row = evaluations::create(&tx, &caller, new).await?;
    tx.respond(created(
        format!("/api/v1/evaluations/{}", row.id),
        &Evaluation::from(row.clone()),
        row.version,
    ))
    .await
}

list_endpoint! {
    /// List evaluations that apply to you.
    list: GET "/evaluations", tag "evaluations", operation "listEvaluations", filter EvaluationFilter, items Evaluation,
    |state, caller, filter, page| Ok(evaluations::list(state.store.db(), caller, filter, page).await?.into_iter().map(Evaluation::from).collect())
}

/// Read one evaluation.
#[utoipa::path(
    tag = "evaluations", operation_id = "getEvaluation",
    params(("id" = Uuid, Path, description = "Evaluation id")),
    responses((status = 200, description = "The evaluation", body = Evaluation))
)]
#[get("/evaluations/{id}")]
async fn read(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let row = evaluations::load_for(state.store.db(), &caller, Action::ReadShared, *id).await?;
    Ok(ok_versioned(&Evaluation::from(row.clone()), row.version))
}

/// Close an evaluation: it accepts no more scoresheets or ballots.
#[utoipa::path(
    tag = "evaluations", operation_id = "closeEvaluation",
    params(("id" = Uuid, Path, description = "Evaluation id")),
    responses((status = 200, description = "Closed", body = Evaluation))
)]
#[post("/evaluations/{id}/close")]
async fn close(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let row = evaluations::set_status(&tx, &caller, *id, EvaluationStatus::Closed).await?;
    tx.respond(ok_versioned(&Evaluation::from(row.clone()), row.version))
        .await
}

/// Reopen a closed evaluation.
#[utoipa::path(
    tag = "evaluations", operation_id = "reopenEvaluation",
    params(("id" = Uuid, Path, description = "Evaluation id")),
    responses((status = 200, description = "Reopened", body = Evaluation))
)]
#[post("/evaluations/{id}/reopen")]
async fn reopen(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let row = evaluations::set_status(&tx, &caller, *id, EvaluationStatus::Open).await?;
    tx.respond(ok_versioned(&Evaluation::from(row.clone()), row.version))
        .await
}

/// A stored scoresheet, and the earlier sheet of the same assessor it replaced.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredScoresheet {
    #[serde(flatten)]
    pub scoresheet: Scoresheet,
    /// The id of the same assessor's previous sheet for this subject, now superseded.
    pub supersedes: Option<Uuid>,
}

/// Enter an assessor's scoresheet for a subject in a half-year or year-end evaluation.
///
/// Only `assessed` items, each 0 ≤ score ≤ max. A second sheet of the same assessor for the same
/// subject supersedes the first. A closed evaluation answers 409.
#[utoipa::path(
    tag = "evaluations", operation_id = "createScoresheet",
    request_body = NewScoresheet,
    responses((status = 201, description = "Stored", body = StoredScoresheet))
)]
#[post("/scoresheets")]
async fn create_sheet(
    state: web::Data<AppState>,
    caller: Caller,
    Body(new): Body<NewScoresheet>,
) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let (sheet, supersedes) = crate::recording::inputs::record_scoresheet(&tx, &caller, new).await?;
    let location = format!(
        "/api/v1/scoresheets?evaluation_id={}&subject_id={}",
        sheet.evaluation_id, sheet.subject_id
    );
    tx.respond(created(
        location,
        &StoredScoresheet {
            scoresheet: sheet,
            supersedes,
        },
        1,
    ))
    .await
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

/// Cast a ballot (民主测评) for a subject in a democratic evaluation.
#[utoipa::path(
    tag = "evaluations", operation_id = "createBallot",
    request_body = NewBallot,
    responses((status = 201, description = "Stored", body = Ballot))
)]
#[post("/ballots")]
async fn create_ballot(
    state: web::Data<AppState>,
    caller: Caller,
    Body(new): Body<NewBallot>,
) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let ballot = crate::recording::inputs::record_ballot(&tx, &caller, new).await?;
    let location = format!(
        "/api/v1/ballots?evaluation_id={}&subject_id={}",
        ballot.evaluation_id, ballot.subject_id
    );
    // A ballot is never edited: its version is always 1.
    tx.respond(created(location, &ballot, 1)).await
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
