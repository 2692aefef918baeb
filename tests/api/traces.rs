//! Traces exported to an OpenTelemetry collector (`telemetry.otlp_endpoint`): the service as it
//! runs (the `kaohe` binary, on this test's database) sends OTLP over HTTP to a collector the test
//! runs, which decodes what it receives.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, Span};
use prost::Message;
use serde_json::json;

use crate::helpers::{spawn_app, TestApp, HMAC_SECRET};

/// What the collector received: each span with its resource's `service.name`, and the
/// content types the exports came with.
#[derive(Default)]
struct Received {
    spans: Vec<(String, Span)>,
    content_types: Vec<String>,
}

/// An OTLP/HTTP collector on a free port: `POST /v1/traces` with a protobuf body.
async fn collector() -> (String, Arc<Mutex<Received>>) {
    let received = Arc::new(Mutex::new(Received::default()));
    let sink = received.clone();
    let server = HttpServer::new(move || {
        let sink = sink.clone();
        App::new().route(
            "/v1/traces",
            web::post().to(move |request: actix_web::HttpRequest, body: web::Bytes| {
                let sink = sink.clone();
                async move {
                    let Ok(export) = ExportTraceServiceRequest::decode(body) else {
                        return HttpResponse::BadRequest().finish();
                    };
                    let mut received = sink.lock().unwrap();
                    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok());
                    received.content_types.push(content_type.unwrap_or_default().to_owned());
                    for resource_spans in export.resource_spans {
                        let service = resource_spans
                            .resource
                            .as_ref()
                            .and_then(|r| text(&r.attributes, "service.name"))
                            .unwrap_or_default();
                        for scope in resource_spans.scope_spans {
                            for span in scope.spans {
                                received.spans.push((service.clone(), span));
                            }
                        }
                    }
                    HttpResponse::Ok().content_type("application/x-protobuf").finish()
                }
            }),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let address = format!("http://{}", server.addrs()[0]);
    actix_web::rt::spawn(server.run());
    (address, received)
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn text(attributes: &[KeyValue], key: &str) -> Option<String> {
    match attribute(attributes, key)? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        _ => None,
    }
}

fn number(attributes: &[KeyValue], key: &str) -> Option<i64> {
    match attribute(attributes, key)? {
        any_value::Value::IntValue(n) => Some(*n),
        _ => None,
    }
}

/// The `kaohe` binary serving this test's database, stopped when dropped.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `kaohe serve` on `app`'s database with traces sent to `endpoint`; answers once ready.
async fn serve_with_traces(app: &TestApp, endpoint: &str, dir: &std::path::Path) -> (Service, TestApp) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let settings = &app.state.settings;
    let child = Command::new(env!("CARGO_BIN_EXE_kaohe"))
        .arg("serve")
        .current_dir(dir)
        .env("KAOHE__DATABASE__URL", settings.database.url.expose())
        .env("KAOHE__SERVER__PORT", port.to_string())
        .env("KAOHE__AUTH__HMAC_SECRET", HMAC_SECRET)
        .env("KAOHE__WEBHOOKS__DELIVER", "false")
        .env("KAOHE__EVIDENCE__LOCAL_DIR", dir.join("evidence"))
        .env("KAOHE__LOG__LEVEL", "warn")
        .env("KAOHE__TELEMETRY__OTLP_ENDPOINT", format!("{endpoint}/v1/traces"))
        .env("KAOHE__TELEMETRY__OTLP_HEADERS", "x-collector-key=test")
        .env("KAOHE__TELEMETRY__SERVICE_NAME", "kaohe-under-test")
        // The batch is sent every 100 ms instead of every 5 s (the SDK's own variable).
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the kaohe binary starts");
    let service = Service(child);
    let traced = app.at(format!("http://127.0.0.1:{port}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = traced.client.get(traced.url("/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        assert!(Instant::now() < deadline, "kaohe serve did not become ready");
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    (service, traced)
}

/// Waits until the collector holds a span `found` accepts.
async fn span_where(received: &Arc<Mutex<Received>>, found: impl Fn(&Span) -> bool) -> (String, Span) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let names: Vec<String> = {
            let received = received.lock().unwrap();
            if let Some(hit) = received.spans.iter().find(|(_, s)| found(s)) {
                return hit.clone();
            }
            received.spans.iter().map(|(_, s)| s.name.clone()).collect()
        };
        assert!(
            Instant::now() < deadline,
            "the collector received no such span, only {names:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn requests_and_use_cases_are_exported_as_spans_continuing_the_callers_trace() {
    let app = spawn_app().await;
    let (endpoint, received) = collector().await;
    let dir = tempfile::tempdir().unwrap();
    let (_service, traced) = serve_with_traces(&app, &endpoint, dir.path()).await;

    // A caller with a trace of its own: the request's span continues it.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_id = "00f067aa0ba902b7";
    traced
        .send(
            "GET",
            "/api/v1/org-units?kind=township",
            Some(&traced.admin),
            &[("traceparent", &format!("00-{trace_id}-{parent_id}-01"))],
            None,
        )
        .await
        .assert(200);
    // A write without one starts a trace, its use case a span inside the request's.
    let town = traced
        .post_as_admin("/api/v1/org-units", &json!({"kind": "township", "name": "追踪镇"}))
        .await
        .assert(201)
        .id();
    traced.get("/api/v1/no-such-route", &traced.admin).await.assert(404);

    let (service, listed) = span_where(&received, |s| s.name == "GET /api/v1/org-units").await;
    assert_eq!(service, "kaohe-under-test");
    assert_eq!(hex::encode(&listed.trace_id), trace_id);
    assert_eq!(hex::encode(&listed.parent_span_id), parent_id);
    assert_eq!(listed.kind, SpanKind::Server as i32);
    assert_eq!(
        text(&listed.attributes, "http.route").as_deref(),
        Some("/api/v1/org-units")
    );
    assert_eq!(text(&listed.attributes, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(number(&listed.attributes, "http.response.status_code"), Some(200));
    assert!(listed.end_time_unix_nano > listed.start_time_unix_nano);

    let (_, created) = span_where(&received, |s| s.name == "POST /api/v1/org-units").await;
    assert_ne!(hex::encode(&created.trace_id), trace_id);
    assert!(
        created.parent_span_id.is_empty(),
        "a request without traceparent is a root"
    );
    assert_eq!(number(&created.attributes, "http.response.status_code"), Some(201));
    let (_, use_case) = span_where(&received, |s| s.parent_span_id == created.span_id).await;
    assert_eq!(use_case.name, "create");
    assert_eq!(use_case.trace_id, created.trace_id);
    assert_eq!(
        text(&use_case.attributes, "county").as_deref(),
        Some(app.county_id.as_str())
    );

    // An unrouted request is named by its method alone (no route to name it by).
    let (_, unrouted) = span_where(&received, |s| {
        number(&s.attributes, "http.response.status_code") == Some(404)
    })
    .await;
    assert_eq!(unrouted.name, "GET");
    assert_eq!(
        text(&unrouted.attributes, "url.path").as_deref(),
        Some("/api/v1/no-such-route")
    );
    assert!(received
        .lock()
        .unwrap()
        .content_types
        .iter()
        .all(|t| t == "application/x-protobuf"));

    // What the traced instance wrote is the test's data like any other.
    app.get(&format!("/api/v1/org-units/{town}"), &app.admin)
        .await
        .assert(200);
}

#[test]
fn telemetry_settings_are_checked_at_start() {
    // Each bad value stops start-up (exit 2) with a message naming its setting.
    let bad = [
        ("otlp_endpoint", "collector:4318"),
        ("sample_ratio", "1.5"),
        ("otlp_headers", "no-value"),
        ("level", "kaohe=loud"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (key, value) in bad {
        let out = Command::new(env!("CARGO_BIN_EXE_kaohe"))
            .arg("serve")
            .current_dir(dir.path())
            .env(format!("KAOHE__TELEMETRY__{}", key.to_uppercase()), value)
            .output()
            .expect("the kaohe binary runs");
        assert_eq!(out.status.code(), Some(2), "{key}={value}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(&format!("telemetry.{key}")), "{key}={value}: {said}");
    }
}
