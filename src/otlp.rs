//! Optional export of traces to an OpenTelemetry collector (`telemetry.otlp_endpoint`): OTLP over
//! HTTP in protobuf, batched. The spans are the service's own `tracing` spans: one a request
//! (named `GET /api/v1/…` by its route, with the HTTP semantic-convention attributes) and one a use
//! case (`#[tracing::instrument]`, naming the county, scheme or subject). A request that arrives
//! with a W3C `traceparent` continues its caller's trace.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::http::header::HeaderMap;
use async_trait::async_trait;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, Tracer};
use opentelemetry_sdk::Resource;

use crate::config::TelemetrySettings;

static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported (the request span then carries the OpenTelemetry names).
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

pub(crate) fn set_exporting(on: bool) {
    EXPORTING.store(on, Ordering::Relaxed);
}

/// The running export: its provider (flushed on shutdown) and the runtime its HTTP requests run on.
pub struct TraceExport {
    provider: SdkTracerProvider,
    /// `telemetry.timeout_ms`: also the most shutdown waits for the last batch.
    timeout: Duration,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TraceExport {
    /// Starts the export the settings ask for; `None` when `telemetry.otlp_endpoint` is unset.
    pub fn start(settings: &TelemetrySettings) -> Result<Option<Self>, String> {
        let Some(endpoint) = &settings.otlp_endpoint else {
            return Ok(None);
        };
        let headers = match &settings.otlp_headers {
            Some(headers) => parse_headers(headers.expose())?,
            None => HashMap::new(),
        };
        // The batch processor exports from a thread of its own, outside any runtime: requests go
        // to a small runtime of the export's own, so neither actix's workers nor shutdown wait on it.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("kaohe-otlp")
            .enable_all()
            .build()
            .map_err(|e| format!("telemetry: cannot start the export's runtime: {e}"))?;
        let timeout = Duration::from_millis(settings.timeout_ms);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("telemetry: cannot build the HTTP client: {e}"))?;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(OnRuntime {
                client,
                runtime: runtime.handle().clone(),
            })
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint.as_str())
            .with_timeout(timeout)
            .with_headers(headers)
            .build()
            .map_err(|e| format!("telemetry.otlp_endpoint: {e}"))?;
        let resource = Resource::builder()
            .with_service_name(settings.service_name.clone())
            .with_attributes([
                KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
                KeyValue::new("service.instance.id", uuid::Uuid::now_v7().to_string()),
            ])
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                settings.sample_ratio,
            ))))
            .with_resource(resource)
            .build();
        Ok(Some(Self {
            provider,
            timeout,
            runtime: Some(runtime),
        }))
    }

    pub fn tracer(&self) -> Tracer {
        self.provider.tracer("kaohe")
    }

    /// Sends what is still batched and stops. Called outside any async runtime (after the
    /// service's own has ended).
    pub fn shutdown(mut self) {
        if let Err(err) = self.provider.shutdown_with_timeout(self.timeout) {
            eprintln!("kaohe: telemetry: the last traces were not exported: {err}");
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// `name=value,name=value` (values percent-decoded, as `OTEL_EXPORTER_OTLP_HEADERS`).
pub fn parse_headers(text: &str) -> Result<HashMap<String, String>, String> {
    let mut headers = HashMap::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("'{pair}' is not name=value"))?;
        let name = name.trim();
        let value: String = form_urlencoded::parse(format!("v={}", value.trim()).as_bytes())
            .map(|(_, v)| v.into_owned())
            .next()
            .unwrap_or_default();
        if actix_web::http::header::HeaderName::try_from(name).is_err()
            || actix_web::http::header::HeaderValue::try_from(value.as_str()).is_err()
        {
            return Err(format!("'{name}' is not a valid header name and value"));
        }
        headers.insert(name.to_owned(), value);
    }
    Ok(headers)
}

/// The trace a request continues: the W3C `traceparent`/`tracestate` it carries, if any.
pub fn caller_context(headers: &HeaderMap) -> Option<opentelemetry::Context> {
    headers.get("traceparent")?;
    Some(TraceContextPropagator::new().extract(&Headers(headers)))
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The exporter's HTTP client: the service's reqwest client, its requests run on the export's
/// runtime (the batch processor's thread has none).
struct OnRuntime {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

impl fmt::Debug for OnRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnRuntime")
    }
}

#[async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let mut outgoing = self.client.request(parts.method, parts.uri.to_string()).body(body);
        for (name, value) in &parts.headers {
            outgoing = outgoing.header(name, value);
        }
        let answer = self
            .runtime
            .spawn(async move {
                let answer = outgoing.send().await?;
                let status = answer.status();
                let headers = answer.headers().clone();
                let body = answer.bytes().await?;
                Ok::<_, reqwest::Error>((status, headers, body))
            })
            .await??;
        let (status, headers, body) = answer;
        let mut response = Response::builder().status(status.as_u16());
        for (name, value) in &headers {
            response = response.header(name.as_str(), value.as_bytes());
        }
        Ok(response.body(body)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_name_value_pairs_with_percent_decoded_values() {
        let headers = parse_headers("api-key=abc%20def, x-tenant=county%2F1").unwrap();
        assert_eq!(headers["api-key"], "abc def");
        assert_eq!(headers["x-tenant"], "county/1");
        assert!(parse_headers("").unwrap().is_empty());
        assert!(parse_headers("no-value").unwrap_err().contains("no-value"));
        assert!(parse_headers("bad name=1").is_err());
    }

    #[test]
    fn a_traceparent_names_the_callers_trace() {
        use opentelemetry::trace::TraceContextExt;
        let mut headers = HeaderMap::new();
        headers.insert(
            actix_web::http::header::HeaderName::from_static("traceparent"),
            actix_web::http::header::HeaderValue::from_static(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
        );
        let cx = caller_context(&headers).unwrap();
        let span = cx.span().span_context().clone();
        assert_eq!(span.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(span.span_id().to_string(), "00f067aa0ba902b7");
        assert!(span.is_sampled() && span.is_remote());
        assert!(caller_context(&HeaderMap::new()).is_none());
    }
}
