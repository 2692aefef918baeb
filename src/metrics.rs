//! Operations metrics: `GET /metrics` in the Prometheus text format. Requests are counted and
//! timed per route (the matched pattern, so ids never become labels), method and status; the
//! database pool, the results cache and the engine's computations are measured where they
//! happen. The recorder is the process's one `metrics` recorder, rendered on request.

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{get, http::header, web, HttpRequest, HttpResponse};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::DbBackend;

use crate::error::ApiError;
use crate::state::AppState;

/// Seconds: from a cached answer (well under a millisecond) to a cold county-year.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

pub const REQUESTS: &str = "kaohe_http_requests_total";
pub const REQUEST_SECONDS: &str = "kaohe_http_request_duration_seconds";
pub const RESULTS: &str = "kaohe_results_requests_total";
pub const COMPUTE_SECONDS: &str = "kaohe_results_compute_duration_seconds";
pub const POOL: &str = "kaohe_db_pool_connections";
pub const JOBS: &str = "kaohe_jobs_total";
pub const JOBS_RUNNING: &str = "kaohe_jobs_running";
pub const JOB_SECONDS: &str = "kaohe_job_duration_seconds";
pub const JOB_ROWS: &str = "kaohe_job_rows_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use (every application in the process, such as the
/// tests' many, shares it).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".to_owned()), LATENCY_BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder already installed (a host embedding the library) keeps its place; this
        // one then renders only what is set on it directly, which is nothing: say so once.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; GET /metrics shows none of its data");
        }
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!(REQUESTS, "HTTP requests answered, by route, method and status");
    metrics::describe_histogram!(
        REQUEST_SECONDS,
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by route, method and status"
    );
    metrics::describe_counter!(
        RESULTS,
        "Scheme-year results asked for, by how they were answered: rendered (the kept answer itself), cached (a kept computation), incremental (a few subjects scored again), full, or as_of (a past instant)"
    );
    metrics::describe_histogram!(
        COMPUTE_SECONDS,
        metrics::Unit::Seconds,
        "Time to load and compute a scheme-year's results, by path (incremental or full)"
    );
    metrics::describe_gauge!(
        POOL,
        "Database pool connections, by state (idle, in_use) and the configured max"
    );
    metrics::describe_counter!(
        JOBS,
        "Background jobs ended, by kind (upload, export) and status (succeeded, failed)"
    );
    metrics::describe_gauge!(JOBS_RUNNING, "Background jobs running on this instance, by kind");
    metrics::describe_histogram!(
        JOB_SECONDS,
        metrics::Unit::Seconds,
        "Time from a job's start to its end, by kind and status"
    );
    metrics::describe_counter!(JOB_ROWS, "Rows of ended upload jobs, by stage (read, written)");
    metrics::describe_counter!(
        crate::webhooks::ATTEMPTS,
        "Webhook delivery attempts, by event type and outcome"
    );
    metrics::describe_histogram!(
        crate::webhooks::ATTEMPT_SECONDS,
        metrics::Unit::Seconds,
        "Time a webhook receiver took to answer one attempt"
    );
}

/// Middleware: counts and times every answer by its matched route.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    handle();
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let res = next.call(req).await?;
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!(REQUESTS, &labels).increment(1);
    metrics::histogram!(REQUEST_SECONDS, &labels).record(started.elapsed().as_secs_f64());
    Ok(res)
}

/// How a results question was answered (see `results::year_at`).
pub fn results_answered(outcome: &'static str) {
    metrics::counter!(RESULTS, "outcome" => outcome).increment(1);
}

/// A scheme-year computed along `path`, taking `started.elapsed()`.
pub fn results_computed(path: &'static str, started: Instant) {
    metrics::histogram!(COMPUTE_SECONDS, "path" => path).record(started.elapsed().as_secs_f64());
}

/// A background job of `kind` (`upload`, `export`) started on this instance.
pub fn job_started(kind: &'static str) {
    metrics::gauge!(JOBS_RUNNING, "kind" => kind).increment(1.0);
}

/// The job started at `started` ended as `status` with `read` and `written` rows.
pub fn job_ended(kind: &'static str, status: &'static str, started: Instant, read: u64, written: u64) {
    metrics::gauge!(JOBS_RUNNING, "kind" => kind).decrement(1.0);
    metrics::counter!(JOBS, "kind" => kind, "status" => status).increment(1);
    metrics::histogram!(JOB_SECONDS, "kind" => kind, "status" => status).record(started.elapsed().as_secs_f64());
    // An export reads and writes no rows: it adds nothing.
    metrics::counter!(JOB_ROWS, "stage" => "read").increment(read);
    metrics::counter!(JOB_ROWS, "stage" => "written").increment(written);
}

fn pool_gauges(state: &AppState) {
    let db = state.store.db();
    let (size, idle) = match state.store.backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    metrics::gauge!(POOL, "state" => "idle").set(f64::from(idle));
    metrics::gauge!(POOL, "state" => "in_use").set(f64::from(size.saturating_sub(idle)));
    metrics::gauge!(POOL, "state" => "max").set(f64::from(state.settings.database.max_connections));
}

/// The service's metrics, in the Prometheus text format.
#[utoipa::path(
    tag = "operations",
    operation_id = "metrics",
    responses(
        (status = 200, description = "Request counts and latency histograms per route and status, the database pool, \
          the results cache and computations, in the Prometheus text exposition format (version 0.0.4)",
         content_type = "text/plain; version=0.0.4", body = String,
         example = json!("# TYPE kaohe_http_requests_total counter\nkaohe_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 3\n")),
        (status = 401, description = "`metrics.token` is configured and the request does not carry it as a Bearer token",
         body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Metrics are switched off (`metrics.enabled = false`)",
         body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("metrics_token" = []))
)]
#[get("/metrics")]
pub async fn metrics_endpoint(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let settings = &state.settings.metrics;
    if !settings.enabled {
        return Err(ApiError::not_found("resource"));
    }
    if let Some(token) = &settings.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| constant_time_eq(g.trim().as_bytes(), token.expose().as_bytes())) {
            return Err(ApiError::unauthorized(
                "GET /metrics needs the configured metrics token as a Bearer token",
            ));
        }
    }
    pool_gauges(&state);
    let handle = handle();
    handle.run_upkeep();
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
