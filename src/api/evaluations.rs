//! `/api/v1/evaluations`, `/api/v1/scoresheets` and `/api/v1/ballots`.

use actix_web::{get, post};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::{action_endpoint, create_endpoint, from_row, read_endpoint, Resource};
use super::listing::list_endpoint;
use crate::api::listing::Page;
use crate::auth::policy::Action;
use crate::error::ApiError;
use crate::store::evaluations::{self, EvaluationStatus};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

use crate::scoring::EvaluationKind;
use crate::store::entities::{ballot, evaluation, scoresheet, scoresheet_item};
use serde::Deserialize;
use utoipa::IntoParams;

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

// ---- request and response types ----

/// An evaluation as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b0d2-0000-7000-8000-000000000040", "county_id": "0193b0d2-0000-7000-8000-000000000001",
    "scheme_id": "0193b0d2-0000-7000-8000-000000000010", "org_unit_id": "0193b0d2-0000-7000-8000-000000000001",
    "township_id": null, "kind": "half_year", "key": "half_year", "title": "半年考核",
    "window_from": "2023-01-01", "window_to": "2023-06-30", "status": "open", "closed_at": null,
    "version": 1, "created_at": "2023-01-02T00:00:00Z", "updated_at": "2023-01-02T00:00:00Z"
}))]
pub struct Evaluation {
    pub id: Uuid,
    pub county_id: Uuid,
    pub scheme_id: Uuid,
    pub org_unit_id: Uuid,
    pub township_id: Option<Uuid>,
    pub kind: EvaluationKind,
    pub key: String,
    pub title: String,
    /// Findings that occurred in [window_from, window_to] count towards it.
    pub window_from: NaiveDate,
    pub window_to: NaiveDate,
    pub status: EvaluationStatus,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

from_row! { Evaluation from evaluation:
    id, county_id, scheme_id, org_unit_id, township_id, kind, key, title, window_from, window_to, status, closed_at,
    version, created_at, updated_at
}

/// Body of `POST /api/v1/evaluations`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"scheme_id": "0193b0d2-0000-7000-8000-000000000010", "kind": "democratic", "key": "democratic_extra", "title": "民主测评（补充）"}))]
pub struct NewEvaluation {
    pub scheme_id: Uuid,
    /// `half_year`, `year_end`, `democratic` or `quarterly` (monthly standings are computed,
    /// not created).
    pub kind: EvaluationKind,
    /// Unique within the scheme.
    pub key: String,
    pub title: String,
    /// Default: 1 January of the scheme year; a quarterly evaluation defaults to the quarter of
    /// the scheme's template with the same key, and otherwise names its quarter's first day.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub window_from: Option<NaiveDate>,
    /// Default: 30 June for a half-year, 31 December otherwise; a quarterly evaluation's window
    /// is one whole calendar quarter.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub window_to: Option<NaiveDate>,
}

/// Filters of `GET /api/v1/evaluations`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvaluationFilter {
    pub scheme_id: Option<Uuid>,
    pub kind: Option<EvaluationKind>,
    pub status: Option<EvaluationStatus>,
}

/// A scoresheet as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Scoresheet {
    pub id: Uuid,
    pub county_id: Uuid,
    pub evaluation_id: Uuid,
    pub subject_id: Uuid,
    /// The user who entered it.
    pub assessor_id: Uuid,
    /// The assessor it records (default: that user's name); one active sheet per assessor.
    #[schema(example = "县考核组-张三")]
    pub assessor: String,
    /// Item code → score.
    #[schema(example = json!({"1.1": "2.5", "1.2": "3"}))]
    pub scores: BTreeMap<String, Decimal>,
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
    /// Set when a later sheet of the same assessor replaced it.
    pub superseded_at: Option<DateTime<Utc>>,
    pub superseded_by: Option<Uuid>,
}

impl Scoresheet {
    pub fn from_rows(m: scoresheet::Model, items: &[scoresheet_item::Model]) -> Self {
        Self {
            id: m.id,
            county_id: m.county_id,
            evaluation_id: m.evaluation_id,
            subject_id: m.subject_id,
            assessor_id: m.assessor_id,
            assessor: m.assessor_name,
            scores: items.iter().map(|i| (i.item_code.clone(), i.score.0)).collect(),
            note: m.note,
            recorded_at: m.created_at,
            superseded_at: m.revoked_at,
            superseded_by: m.superseded_by,
        }
    }
}

/// Body of `POST /api/v1/scoresheets` and a row of `POST /api/v1/scoresheets:bulk`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "evaluation_id": "0193b0d2-0000-7000-8000-000000000040", "subject_id": "0193b0d2-0000-7000-8000-000000000002",
    "scores": {"1.1": "3", "1.2": "2.5", "1.3": "4"}, "assessor": "县考核组-张三"
}))]
pub struct NewScoresheet {
    pub evaluation_id: Uuid,
    pub subject_id: Uuid,
    /// Item code → score (0 ≤ score ≤ the item's max, at most 4 decimals); `assessed` items only.
    #[serde(deserialize_with = "crate::decimal::strict_map")]
    pub scores: BTreeMap<String, Decimal>,
    /// Whose sheet this is (default: your user's name). An item's score is the mean over the
    /// assessors' current sheets, and a sheet supersedes the same assessor's earlier one: name
    /// the assessor when one user enters several assessors' sheets.
    pub assessor: Option<String>,
    pub note: Option<String>,
}

/// A ballot as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Ballot {
    pub id: Uuid,
    pub county_id: Uuid,
    /// The democratic evaluation (meeting) the ballot was cast in.
    pub evaluation_id: Uuid,
    /// That evaluation's key: which meeting it was (Seed B: `democratic_half_year` at the
    /// half-year meeting, `democratic_year_end` at the year-end one).
    #[schema(example = "democratic_half_year")]
    pub evaluation_key: String,
    /// That evaluation's title.
    #[schema(example = "半年民主测评")]
    pub evaluation_title: String,
    pub subject_id: Uuid,
    #[schema(example = "93.5")]
    pub score: Decimal,
    /// The participant's label, if ballots are not anonymous.
    pub participant: Option<String>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

impl Ballot {
    /// A ballot with the evaluation it belongs to.
    pub fn of(m: ballot::Model, evaluation: &evaluation::Model) -> Self {
        Self {
            id: m.id,
            county_id: m.county_id,
            evaluation_id: m.evaluation_id,
            evaluation_key: evaluation.key.clone(),
            evaluation_title: evaluation.title.clone(),
            subject_id: m.subject_id,
            score: m.score.0,
            participant: m.participant,
            recorded_by: m.recorded_by,
            recorded_at: m.created_at,
        }
    }
}

/// Body of `POST /api/v1/ballots` and a row of `POST /api/v1/ballots:bulk`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"evaluation_id": "0193b0d2-0000-7000-8000-000000000041", "subject_id": "0193b0d2-0000-7000-8000-000000000020", "score": "93.5"}))]
pub struct NewBallot {
    pub evaluation_id: Uuid,
    pub subject_id: Uuid,
    /// 0–100, at most 1 decimal.
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub score: Decimal,
    /// Optional participant label; one ballot per participant and subject.
    pub participant: Option<String>,
}

/// Filters of `GET /api/v1/scoresheets` and `GET /api/v1/ballots`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InputFilter {
    pub evaluation_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    /// Include superseded scoresheets (default false).
    pub include_superseded: Option<bool>,
    /// Rows of one bulk upload.
    pub upload_id: Option<Uuid>,
}
