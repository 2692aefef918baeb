//! Background jobs over HTTP: a bulk upload, or an export (a `GET` asking for CSV, NDJSON or
//! .xlsx), sent with `Prefer: respond-async` (RFC 7240) answers `202 Accepted` with
//! `Location: /api/v1/jobs/{id}` and runs on (`crate::jobs`); `GET` polls the job, `GET …/events`
//! follows it as server-sent events until it ends, `GET …/result` answers what the synchronous
//! request would have (the upload's summary or problem, the export's file).

use std::future::Future;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{get, web, HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::jobs::{Progress, Tracker};
use crate::state::AppState;
use crate::store::entities::job;
use crate::store::jobs::{self, Answer, JobStatus};
use crate::store::new_id;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(read).service(events).service(job_result);
}

/// How often a running job's counters are saved on PostgreSQL, and how often a follower looks.
const SAVE_EVERY: Duration = Duration::from_secs(1);
const LOOK_EVERY: Duration = Duration::from_millis(200);
/// A follower is sent a comment this often while nothing changes, so proxies keep the stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// A running job whose row was not saved for this long ran on an instance that stopped.
const SILENT_FOR: chrono::Duration = chrono::Duration::seconds(30);

/// A bulk upload running (or run) in the background.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01938a8e-7a4b-7c3d-9e2f-1a2b3c4d5e6f", "operation": "bulkCreateIncidents",
    "status": "running", "rows_read": 120000, "rows_validated": 87000, "rows_written": 0,
    "error_count": 0, "errors": [], "created_at": "2026-12-04T08:00:00Z",
    "updated_at": "2026-12-04T08:00:09Z", "events": "/api/v1/jobs/01938a8e-7a4b-7c3d-9e2f-1a2b3c4d5e6f/events"
}))]
pub struct Job {
    pub id: Uuid,
    /// The operation it runs: a bulk upload's (`bulkCreateIncidents`…) or an export's
    /// `GET /api/v1/rankings`.
    pub operation: String,
    pub status: JobStatus,
    /// Rows read from the body so far.
    pub rows_read: i64,
    /// Rows through validation (admission) so far, good or bad.
    pub rows_validated: i64,
    /// Rows written: 0 until the upload commits (all or nothing), then every row.
    pub rows_written: i64,
    /// Problems found so far; any makes the upload fail and write nothing.
    pub error_count: i64,
    /// The first problems found (at most 100; the `result` of a failed job lists them all, up to
    /// the upload's own limit).
    pub errors: Vec<FieldError>,
    /// Once the job ended: the answer the synchronous request would have given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<JobResult>,
    pub created_at: DateTime<Utc>,
    /// When its progress was last saved.
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Where to follow it live (`text/event-stream`).
    pub events: String,
}

/// One server-sent event of `GET /api/v1/jobs/{id}/events`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"event": "progress", "data": "{\"id\":\"01938a8e-7a4b-7c3d-9e2f-1a2b3c4d5e6f\",\"status\":\"running\",\"rows_read\":50000}"}))]
#[allow(dead_code)]
pub struct JobEvent {
    /// `progress` while the job runs, `done` once, last.
    pub event: JobEventKind,
    /// The `Job`, as JSON.
    pub data: String,
}

/// What a job's event says.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobEventKind {
    Progress,
    Done,
}

/// The answer a job ended with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobResult {
    /// The HTTP status the synchronous request would have answered (201, 200 for a dry run or an
    /// export, 422 with every bad row, 413…).
    #[schema(example = 201)]
    pub status: u16,
    /// Its media type.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "application/json")]
    pub content_type: Option<String>,
    /// Its body when it is JSON: the upload's `BulkSummary`, or an RFC 9457 problem. An
    /// export's file is downloaded from `download`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub body: Option<serde_json::Value>,
    /// The answer itself, as the synchronous request would have given it.
    #[schema(example = "/api/v1/jobs/01938a8e-7a4b-7c3d-9e2f-1a2b3c4d5e6f/result")]
    pub download: String,
}

impl Job {
    /// A job as its row and, while it runs here, its live counters show it.
    fn of(row: job::Model, live: Option<&Progress>, silent: bool) -> Job {
        let mut row = row;
        if let Some(progress) = live.filter(|_| row.status == JobStatus::Running) {
            let counts = progress.counts();
            row.rows_read = counts.rows_read;
            row.rows_validated = counts.rows_validated;
            row.rows_written = counts.rows_written;
            row.error_count = counts.error_count;
            row.errors = counts.errors;
        }
        let download = format!("/api/v1/jobs/{}/result", row.id);
        let json = row
            .result_content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/json") || t.starts_with(crate::error::PROBLEM_JSON));
        let mut result = row.result_status.map(|status| JobResult {
            status: u16::try_from(status).unwrap_or(500),
            content_type: row.result_content_type.clone(),
            body: json
                .then(|| row.result_body.as_deref().and_then(|b| serde_json::from_slice(b).ok()))
                .flatten(),
            download: download.clone(),
        });
        let mut status = row.status;
        if silent {
            let problem = ApiError::new(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "job.interrupted",
                "the instance running this job stopped before the job ended; an upload commits all or \
                 nothing, so upload the file again (with the same Idempotency-Key if it had one)",
            );
            status = JobStatus::Failed;
            result = Some(JobResult {
                status: 503,
                content_type: Some(crate::error::PROBLEM_JSON.to_owned()),
                body: serde_json::to_value(problem.problem()).ok(),
                download,
            });
        }
        Job {
            id: row.id,
            operation: row.operation,
            status,
            rows_read: row.rows_read,
            rows_validated: row.rows_validated,
            rows_written: row.rows_written,
            error_count: row.error_count,
            errors: serde_json::from_str(&row.errors).unwrap_or_default(),
            result,
            created_at: row.created_at,
            updated_at: row.updated_at,
            finished_at: row.finished_at,
            events: format!("/api/v1/jobs/{}/events", row.id),
        }
    }
}

/// The job as `caller` may see it, or 404.
async fn load(state: &AppState, caller: &Caller, id: Uuid) -> Result<Job, ApiError> {
    // Looked up before the row is read: a job that ends in between is then either still live
    // here or already ended in its row, never both gone.
    let live = state.jobs.live(id);
    let row = jobs::find(state.store.db(), id)
        .await?
        .filter(|row| caller.reads_job(row.county_id, row.created_by))
        .ok_or_else(|| ApiError::not_found("job"))?;
    // Not running here: on SQLite (one instance) its instance is gone; on PostgreSQL another
    // instance saves it every second, unless that one stopped.
    let silent = live.is_none()
        && row.status == JobStatus::Running
        && (state.store.backend() == sea_orm::DbBackend::Sqlite
            || jobs::silent_since(&row, crate::store::now() - SILENT_FOR));
    Ok(Job::of(row, live.as_deref(), silent))
}

/// Starts a job of `operation` for `caller`: its row and the tracker its upload reports to.
pub async fn begin(state: &AppState, caller: &Caller, operation: &str) -> Result<(job::Model, Tracker), ApiError> {
    let id = new_id();
    // Live here before its row exists (see `load`).
    let progress = state.jobs.register(id);
    match jobs::start(state.store.db(), id, caller.county_id, caller.id, operation).await {
        Ok(row) => Ok((row, Tracker::of(progress))),
        Err(err) => {
            state.jobs.remove(id);
            Err(err)
        }
    }
}

/// Runs `work` in the background as the job `row` and answers 202 with where to follow it.
pub fn accepted<W>(state: web::Data<AppState>, row: job::Model, work: W) -> Result<HttpResponse, ApiError>
where
    W: Future<Output = Result<HttpResponse, ApiError>> + 'static,
{
    let id = row.id;
    let progress = state.jobs.live(id);
    let job = Job::of(row, progress.as_deref(), false);
    let answer = async move { work.await.unwrap_or_else(|err| err.error_response()) };
    let context = crate::telemetry::current_request();
    actix_web::rt::spawn(crate::telemetry::within(context, run(state, id, "upload", answer)));
    Ok(answer_202(job))
}

/// The 202 of a job just started.
fn answer_202(job: Job) -> HttpResponse {
    let id = job.id;
    HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/api/v1/jobs/{id}")))
        .insert_header(("preference-applied", "respond-async"))
        .insert_header((header::RETRY_AFTER, "1"))
        .json(job)
}

/// Whether a request prefers an asynchronous answer (`Prefer: respond-async`, RFC 7240).
pub fn prefers_async(headers: &HeaderMap) -> bool {
    headers.get_all("prefer").any(|value| {
        value.to_str().is_ok_and(|v| {
            v.split(',').any(|p| {
                p.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("respond-async")
            })
        })
    })
}

/// Whether a `GET` asks for an export: CSV, NDJSON or .xlsx by `Accept` or `?format=`.
fn wants_export(req: &ServiceRequest) -> bool {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let by_accept = ["text/csv", "application/x-ndjson", "spreadsheetml"]
        .iter()
        .any(|t| accept.contains(t));
    let by_query = form_urlencoded::parse(req.query_string().as_bytes())
        .any(|(k, v)| k == "format" && matches!(&*v, "csv" | "ndjson" | "xlsx"));
    by_accept || by_query
}

/// Middleware: an export sent with `Prefer: respond-async` becomes a job. The job asks this
/// instance the same question without the preference (the same headers: token, `Accept`,
/// `Accept-Language`, request id) and keeps the answer; its caller gets the 202 at once. Any
/// other request passes untouched.
pub async fn exports(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let export = req.method() == Method::GET && prefers_async(req.headers()) && wants_export(&req);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (true, Some(state)) = (export, state) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // A job belongs to its caller: one who is not authenticated is answered as the export would.
    let Ok(caller) = req.extract::<Caller>().await else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let operation = format!("GET {}", req.path());
    let (row, _) = match begin(&state, &caller, &operation).await {
        Ok(started) => started,
        Err(err) => return Ok(req.error_response(err)),
    };
    let id = row.id;
    let job = Job::of(row, state.jobs.live(id).as_deref(), false);
    let url = format!(
        "{}{}",
        state.local_url,
        req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let forwarded: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter(|(name, _)| {
            [
                header::AUTHORIZATION,
                header::ACCEPT,
                header::ACCEPT_LANGUAGE,
                crate::telemetry::REQUEST_ID,
            ]
            .contains(name)
        })
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let answer = ask_again(url, forwarded);
    let context = crate::telemetry::current_request();
    actix_web::rt::spawn(crate::telemetry::within(context, run(state, id, "export", answer)));
    Ok(req.into_response(answer_202(job)))
}

/// The export, asked of this instance again without `Prefer`, as an answer to keep.
async fn ask_again(url: String, headers: Vec<(String, String)>) -> HttpResponse {
    let asked = async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(3600))
            .build()
            .map_err(ApiError::internal)?;
        let mut request = client.get(&url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let answer = request.send().await.map_err(ApiError::internal)?;
        let status = StatusCode::from_u16(answer.status().as_u16()).map_err(ApiError::internal)?;
        let mut response = HttpResponse::build(status);
        for name in [header::CONTENT_TYPE, header::CONTENT_DISPOSITION] {
            if let Some(value) = answer.headers().get(name.as_str()).and_then(|v| v.to_str().ok()) {
                response.insert_header((name, value.to_owned()));
            }
        }
        let body = answer.bytes().await.map_err(ApiError::internal)?;
        Ok::<_, ApiError>(response.body(body.to_vec()))
    };
    asked.await.unwrap_or_else(|err| err.error_response())
}

/// The answer a job ended with, as the synchronous request would have given it.
///
/// The upload's summary (201, or 200 for a dry run) or its problem (422 with every bad row…),
/// the export's file with its media type. `409 job.running` while the job runs.
#[utoipa::path(
    tag = "bulk", operation_id = "getJobResult",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "An export's file, or a dry run's summary",
         content((crate::api::bulk::BulkSummary = "application/json"), (String = "text/csv"),
                 (String = "application/x-ndjson"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 201, description = "The upload's summary: every row written", body = crate::api::bulk::BulkSummary),
        (status = 409, description = "`job.running`: the job has not ended yet", body = crate::error::Problem,
         content_type = "application/problem+json"),
        (status = 403, description = "The upload's answer: a row you may see but not write", body = crate::error::Problem,
         content_type = "application/problem+json"),
        (status = 413, description = "The upload's answer: more rows than `limits.bulk_max_rows`", body = crate::error::Problem,
         content_type = "application/problem+json"),
        (status = 422, description = "The upload's answer: every bad row, nothing written", body = crate::error::Problem,
         content_type = "application/problem+json"),
        (status = 503, description = "`job.interrupted`: the job's instance stopped before it ended, or the \
          export's database was unavailable", body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
#[get("/jobs/{id}/result")]
async fn job_result(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let job = load(&state, &caller, *id).await?;
    if job.status == JobStatus::Running {
        return Err(ApiError::conflict(
            "job.running",
            "the job has not ended yet: follow its events, or poll it",
        ));
    }
    let row = jobs::find(state.store.db(), *id)
        .await?
        .ok_or_else(|| ApiError::not_found("job"))?;
    let (Some(status), Some(body)) = (row.result_status, row.result_body) else {
        // Interrupted: the problem that says so.
        let result = job.result.and_then(|r| r.body).unwrap_or_default();
        return Ok(HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE)
            .content_type(crate::error::PROBLEM_JSON)
            .json(result));
    };
    let status = StatusCode::from_u16(u16::try_from(status).unwrap_or(500)).unwrap_or(StatusCode::OK);
    let mut answer = HttpResponse::build(status);
    if let Some(content_type) = row.result_content_type {
        answer.insert_header((header::CONTENT_TYPE, content_type));
    }
    Ok(answer.insert_header((header::CACHE_CONTROL, "no-store")).body(body))
}

/// A job's life: the upload or export, its counters saved every second meanwhile (PostgreSQL),
/// then its end and answer; measured for `/metrics` by `kind`.
async fn run<W>(state: web::Data<AppState>, id: Uuid, kind: &'static str, work: W)
where
    W: Future<Output = HttpResponse>,
{
    let Some(progress) = state.jobs.live(id) else { return };
    let started = std::time::Instant::now();
    crate::metrics::job_started(kind);
    let saver = (state.store.backend() == sea_orm::DbBackend::Postgres).then(|| {
        let (state, progress) = (state.clone(), progress.clone());
        actix_web::rt::spawn(async move {
            loop {
                tokio::time::sleep(SAVE_EVERY).await;
                if progress.ended() {
                    break;
                }
                if let Err(err) = jobs::save_progress(state.store.db(), id, &progress.counts()).await {
                    tracing::warn!(job = %id, error = ?err, "could not save a job's progress");
                }
            }
        })
    });
    let response = work.await;
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match actix_web::body::to_bytes(response.into_body()).await {
        Ok(bytes) => bytes.to_vec(),
        Err(err) => {
            tracing::error!(job = %id, error = %err, "a job's answer could not be read");
            Vec::new()
        }
    };
    if let Some(saver) = saver {
        saver.abort();
    }
    let tracker = Tracker::of(progress.clone());
    let summary: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    if status.is_success() {
        if let Some(created) = summary["created"].as_u64() {
            tracker.written(usize::try_from(created).unwrap_or(usize::MAX));
        }
    }
    let counts = progress.counts();
    let outcome = if status.is_success() {
        JobStatus::Succeeded
    } else {
        JobStatus::Failed
    };
    let answer = Answer {
        status: status.as_u16(),
        content_type,
        body,
    };
    if let Err(err) = jobs::finish(state.store.db(), id, outcome, &counts, answer).await {
        tracing::error!(job = %id, error = ?err, "could not record a job's end");
    }
    progress.end();
    state.jobs.remove(id);
    let counted = |n: i64| u64::try_from(n).unwrap_or(0);
    crate::metrics::job_ended(
        kind,
        if outcome == JobStatus::Succeeded {
            "succeeded"
        } else {
            "failed"
        },
        started,
        counted(counts.rows_read),
        counted(counts.rows_written),
    );
}

/// Read a background job: its progress, and once it ended the answer.
///
/// Visible to whoever started it and to the county's admins; 404 otherwise. Poll it (the 202
/// that started it suggests `Retry-After`) or follow `events`.
#[utoipa::path(
    tag = "bulk", operation_id = "getJob",
    params(("id" = Uuid, Path, description = "Job id (the `Location` of the 202)")),
    responses((status = 200, description = "The job", body = Job))
)]
#[get("/jobs/{id}")]
async fn read(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let job = load(&state, &caller, *id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(job))
}

/// Follow a background job live.
///
/// A `text/event-stream` (server-sent events): an `event: progress` with the `Job` whenever it
/// changes (at most five a second), a comment every 15 s while nothing does, and last an
/// `event: done` with the ended `Job` (its `result`), after which the stream closes. Connecting to
/// an ended job sends `done` at once.
#[utoipa::path(
    tag = "bulk", operation_id = "followJob",
    params(("id" = Uuid, Path, description = "Job id")),
    responses((status = 200, description = "The job's progress as server-sent events: each event as `JobEvent` describes it",
        content_type = "text/event-stream", body = JobEvent))
)]
#[get("/jobs/{id}/events")]
async fn events(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = *id;
    let first = load(&state, &caller, id).await?;
    let follower = Follower {
        state,
        caller,
        id,
        pending: Some(first),
        sent: None,
        quiet: Duration::ZERO,
        done: false,
    };
    let stream = futures_util::stream::unfold(follower, |mut f| async move {
        let event = f.next().await?;
        Some((Ok::<_, actix_web::Error>(web::Bytes::from(event)), f))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // Not compressed (gzip would hold the events back) and not buffered by proxies.
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(stream))
}

/// One follower of a job's events.
struct Follower {
    state: web::Data<AppState>,
    caller: Caller,
    id: Uuid,
    pending: Option<Job>,
    sent: Option<String>,
    quiet: Duration,
    done: bool,
}

impl Follower {
    /// The next event to send, `None` once `done` was sent.
    async fn next(&mut self) -> Option<String> {
        if self.done {
            return None;
        }
        loop {
            let job = match self.pending.take() {
                Some(job) => job,
                None => {
                    tokio::time::sleep(LOOK_EVERY).await;
                    self.quiet += LOOK_EVERY;
                    match load(&self.state, &self.caller, self.id).await {
                        Ok(job) => job,
                        // The database is away for a moment: say nothing, look again.
                        Err(_) => continue,
                    }
                }
            };
            let data = serde_json::to_string(&job).unwrap_or_default();
            if job.status != JobStatus::Running {
                self.done = true;
                return Some(format!("event: done\ndata: {data}\n\n"));
            }
            if self.sent.as_deref() != Some(data.as_str()) {
                self.quiet = Duration::ZERO;
                let event = format!("event: progress\ndata: {data}\n\n");
                self.sent = Some(data);
                return Some(event);
            }
            if self.quiet >= KEEP_ALIVE {
                self.quiet = Duration::ZERO;
                return Some(": still running\n\n".to_owned());
            }
        }
    }
}
