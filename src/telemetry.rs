//! Tracing set-up, request ids, the access log, and the last line of defence that turns any error
//! response into an RFC 9457 problem.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogFormat, LogSettings, TelemetrySettings};
use crate::error::{ApiError, PROBLEM_JSON};
use crate::i18n::Lang;
use crate::otlp::TraceExport;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What every log line and problem of a request knows about it.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub path: String,
    /// The language negotiated from `Accept-Language`: problems and labels are written in it.
    pub lang: Lang,
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// The request being served by this task, if any.
pub fn current_request() -> Option<RequestContext> {
    REQUEST.try_with(Clone::clone).ok()
}

/// Runs `f` as part of the request `context` (a background job started by it: its log lines and
/// problems name the request).
pub async fn within<F: std::future::Future>(context: Option<RequestContext>, f: F) -> F::Output {
    match context {
        Some(context) => REQUEST.scope(context, f).await,
        None => f.await,
    }
}

/// Installs the global subscriber: human-readable text or JSON lines, filtered by `log.level`
/// (overridden by `RUST_LOG`), and, when `telemetry.otlp_endpoint` is set, spans exported to an
/// OpenTelemetry collector, filtered by `telemetry.level`. Safe to call more than once (tests):
/// only the first call installs anything.
pub fn init(settings: &LogSettings, traces: &TelemetrySettings) -> Result<Option<TraceExport>, String> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let lines = tracing_subscriber::fmt::layer().with_target(false);
    let lines = match settings.format {
        LogFormat::Json => lines.json().with_current_span(true).with_span_list(false).boxed(),
        LogFormat::Text => lines.boxed(),
    };
    let export = TraceExport::start(traces)?;
    let spans = export.as_ref().map(|export| {
        let level = EnvFilter::try_new(&traces.level).unwrap_or_else(|_| EnvFilter::new("info"));
        tracing_opentelemetry::layer()
            .with_tracer(export.tracer())
            .with_threads(false)
            .with_filter(level)
    });
    let installed = tracing_subscriber::registry()
        .with(lines.with_filter(filter))
        .with(spans)
        .try_init();
    match installed {
        Ok(()) => {
            crate::otlp::set_exporting(export.is_some());
            Ok(export)
        }
        // Another subscriber was installed first (a test): this call's export would see nothing.
        Err(_) => {
            if let Some(export) = export {
                export.shutdown();
            }
            Ok(None)
        }
    }
}

/// The request's span. When traces are exported it also carries the OpenTelemetry names (the
/// HTTP semantic conventions; the route as the path matches it, before the handler runs) and
/// continues a caller's W3C `traceparent`; otherwise log lines stay as they were.
fn request_span(req: &ServiceRequest, context: &RequestContext) -> tracing::Span {
    if !crate::otlp::exporting() {
        return tracing::info_span!("request", request_id = %context.request_id, method = %req.method());
    }
    let route = req.match_pattern();
    let name = match &route {
        Some(route) => format!("{} {route}", req.method()),
        None => req.method().to_string(),
    };
    let span = tracing::info_span!(
        "request",
        request_id = %context.request_id,
        method = %req.method(),
        otel.name = %name,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = %req.method(),
        http.route = route.as_deref(),
        url.path = %req.path(),
        http.response.status_code = tracing::field::Empty,
    );
    if let Some(caller) = crate::otlp::caller_context(req.headers()) {
        // Refused only by a span that is not exported (filtered out): nothing to continue then.
        let _ = span.set_parent(caller);
    }
    span
}

/// Accepts a sane client `X-Request-Id` or makes one (UUID v7).
fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// Middleware: request id in, out and on every log line; one access-log event per request; and
/// every error response as `application/problem+json`, whoever produced it.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let context = RequestContext {
        request_id: request_id_of(&req),
        path: req.path().to_owned(),
        lang: Lang::of(req.request()),
    };
    let span = request_span(&req, &context);
    let request_id = context.request_id.clone();

    let outcome = REQUEST
        .scope(context.clone(), next.call(req).instrument(span.clone()))
        .await;
    let response = match outcome {
        Ok(response) => response.map_into_boxed_body(),
        Err(err) => {
            // An inner middleware refused the request (the request is gone with the error): answer
            // a problem with the same status; actix renders it.
            let status = err.as_response_error().status_code();
            let _entered = span.enter();
            span.record("http.response.status_code", i64::from(status.as_u16()));
            tracing::info!(status = status.as_u16(), cause = %err, "request refused by middleware");
            let problem = REQUEST.sync_scope(context, || ApiError::new(status, "request.refused", err.to_string()));
            return Err(problem.into());
        }
    };
    let mut response = REQUEST.sync_scope(context, || as_problem(response));

    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    vary_by_language(response.headers_mut());
    let _entered = span.enter();
    let status = response.status().as_u16();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.record("http.response.status_code", i64::from(status));
    if status >= 500 {
        span.record("otel.status_code", "error");
        tracing::error!(route = %route, path = %response.request().path(), status, latency_ms, "request finished");
    } else {
        tracing::info!(route = %route, path = %response.request().path(), status, latency_ms, "request finished");
    }
    Ok(response)
}

/// An answer in a language (problems; answers with labels) says so to caches: `Vary:
/// Accept-Language` beside its `Content-Language`, whatever else `Vary` lists.
fn vary_by_language(headers: &mut header::HeaderMap) {
    if !headers.contains_key(header::CONTENT_LANGUAGE) {
        return;
    }
    let varies = headers.get_all(header::VARY).any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|name| name.trim().eq_ignore_ascii_case("accept-language"))
        })
    });
    if !varies {
        headers.append(header::VARY, HeaderValue::from_static("Accept-Language"));
    }
}

/// Rewrites error responses that are not problems yet (actix's own: unknown route, payload
/// errors, CORS refusals) into problems with the same status.
fn as_problem(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if status.as_u16() < 400 {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
        return response;
    }
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::new(status, "not_found", "no resource at this path"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::new(status, "request.method_not_allowed", "this method is not allowed here")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large("the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::unsupported_media_type("the request's content type is not supported here")
        }
        s if s.is_server_error() => ApiError::new(
            s,
            "internal",
            "the service failed to answer this request; it has been logged under the request id",
        ),
        s => ApiError::new(s, "request.invalid", "the request could not be processed"),
    };
    let (request, old) = response.into_parts();
    let mut new = error.error_response();
    for (name, value) in old.headers() {
        // The new body is not the old one: its length and content coding are its own.
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && name != header::CONTENT_ENCODING
            && name != header::CONTENT_LANGUAGE
        {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(request, new)
}
