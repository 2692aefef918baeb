//! Issue 16: webhooks for data platforms. A receiver inside the test (actix-web on a random port)
//! checks every Standard Webhooks signature with its own HMAC; it is down (503) for the first
//! attempts, and still gets every event exactly once, under the `webhook-id` of the deliveries
//! log. A dry run or a refused write enqueues nothing, other counties' subscriptions get nothing,
//! and only county admins subscribe.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use hmac::{Hmac, Mac};
use kaohe::config::Settings;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::data::{file_appeal, id_of, instantiate, record};
use crate::helpers::{spawn_with, TestApp, NDJSON};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: i64,
    signature_valid: bool,
    content_type: String,
    body: Value,
    /// What the receiver answered.
    status: u16,
}

#[derive(Default)]
struct Receiver {
    secret: Mutex<Option<String>>,
    /// Requests answered 503 before the receiver comes up.
    down_for: Mutex<usize>,
    log: Mutex<Vec<Received>>,
}

/// Standard Webhooks verification, written out here rather than borrowed from the service:
/// HMAC-SHA256 keyed with the base64-decoded part of `whsec_…` over `{id}.{timestamp}.{body}`,
/// compared with each `v1,` signature of the header.
fn verify(secret: &str, id: &str, timestamp: &str, body: &[u8], header: &str) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .expect("base64 key");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|s| s == expected)
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<Receiver>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (id, timestamp, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let secret = state.secret.lock().unwrap().clone().unwrap_or_default();
    let signature_valid = !secret.is_empty() && verify(&secret, &id, &timestamp, &body, &signature);
    let status = {
        let mut down = state.down_for.lock().unwrap();
        if *down > 0 {
            *down -= 1;
            503
        } else {
            204
        }
    };
    state.log.lock().unwrap().push(Received {
        id,
        timestamp: timestamp.parse().unwrap_or_default(),
        signature_valid,
        content_type: header("content-type"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        status,
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

/// Starts a receiver answering 503 to its first `down_for` requests; its URL and state.
fn receiver(down_for: usize) -> (String, web::Data<Receiver>) {
    let state = web::Data::new(Receiver {
        down_for: Mutex::new(down_for),
        ..Receiver::default()
    });
    let shared = state.clone();
    let server = HttpServer::new(move || App::new().app_data(shared.clone()).default_service(web::to(receive)))
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("bind the receiver");
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    (format!("http://127.0.0.1:{port}/hooks/kaohe"), state)
}

/// Deliveries on, polled every 50 ms, with this debounce, backoff (base, max) and attempts.
fn delivering(s: &mut Settings, debounce_ms: u64, (retry_base_ms, retry_max_ms): (u64, u64), max_attempts: i32) {
    s.webhooks.deliver = true;
    s.webhooks.poll_interval_ms = 50;
    s.webhooks.debounce_ms = debounce_ms;
    s.webhooks.retry_base_ms = retry_base_ms;
    s.webhooks.retry_max_ms = retry_max_ms;
    s.webhooks.max_attempts = max_attempts;
}

/// The service with a fast delivery task: short polls, debounce and backoff.
async fn app_delivering() -> TestApp {
    spawn_with(|s| {
        delivering(s, 3000, (150, 600), 30);
        s.webhooks.timeout_ms = 3000;
    })
    .await
}

fn events(all: &[&str]) -> Value {
    json!(all)
}

const ALL: [&str; 3] = ["publication.created", "result.changed", "appeal.decided"];

/// Every delivery of a subscription (the deliveries log, all pages at once as NDJSON).
async fn log(app: &TestApp, token: &str, subscription: &str) -> Vec<Value> {
    let reply = app
        .send(
            "GET",
            &format!("/api/v1/webhook-deliveries?subscription_id={subscription}"),
            Some(token),
            &[("accept", NDJSON)],
            None,
        )
        .await;
    reply.assert(200);
    reply.ndjson_rows()
}

/// Waits until every delivery of the subscription has left `pending`.
async fn settled(app: &TestApp, subscription: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rows = log(app, &app.admin, subscription).await;
        if !rows.is_empty() && rows.iter().all(|r| r["status"] != "pending") {
            return rows;
        }
        assert!(Instant::now() < deadline, "deliveries still pending: {rows:?}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_receiver_that_was_down_gets_every_event_once_with_a_valid_signature() {
    let app = app_delivering().await;
    // On PostgreSQL two instances deliver from the one outbox: neither sends a row the other
    // claimed. (SQLite serves one instance.)
    let second = match crate::helpers::postgres_url() {
        Some(_) => Some(app.second_instance().await),
        None => None,
    };
    let w = app.world().await;
    let scheme = id_of(&instantiate(&app, "tongshi-2023-village", None).await);
    let (url, receiver) = receiver(4);

    let created = app
        .post(
            "/api/v1/webhooks",
            &app.admin,
            &json!({"url": url, "events": events(&ALL)}),
        )
        .await;
    created.assert(201);
    let subscription = created.id();
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(created.body["events"], json!(ALL));
    *receiver.secret.lock().unwrap() = Some(secret.clone());
    let read = app.get_ok(&format!("/api/v1/webhooks/{subscription}")).await;
    assert!(
        read.body.get("secret").is_none(),
        "the secret is shown once: {}",
        read.body
    );

    // Two findings in quick succession: one result.changed, debounced, not yet due.
    let deduction = |village: &str| json!({"subject_id": village, "item_code": "1.1", "rule_code": "L1", "quantity": 2, "occurred_on": "2023-03-01"});
    let finding = id_of(&record(&app, &w.town_a_assessor, deduction(&w.village_a1)).await);
    record(&app, &w.town_a_assessor, deduction(&w.village_a2)).await;
    let waiting = log(&app, &app.admin, &subscription).await;
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0]["event_type"], "result.changed");
    assert_eq!(waiting[0]["payload"]["data"]["scheme_id"], json!(scheme));

    // A publication, and an appeal accepted (which revokes its finding: results change again).
    let publication = app
        .create("/api/v1/publications", &json!({"scheme_id": scheme}))
        .await
        .id();
    let appeal = file_appeal(&app, &w.village_a1_viewer, &finding, "数据已更正")
        .await
        .id();
    app.post(
        &format!("/api/v1/appeals/{appeal}/decision"),
        &w.town_a_assessor,
        &json!({"decision": "accept", "note": "属实"}),
    )
    .await
    .assert(200);
    let revision_after = app.state.store.revision(app.county_id.parse().unwrap()).await.unwrap();

    let rows = settled(&app, &subscription).await;
    drop(second);
    let received = receiver.log.lock().unwrap().clone();
    assert!(
        received
            .iter()
            .all(|r| r.signature_valid && r.content_type == "application/json"),
        "every signature verifies: {received:?}"
    );
    let now = chrono::Utc::now().timestamp();
    assert!(received.iter().all(|r| (now - r.timestamp).abs() < 300));
    assert_eq!(
        received.iter().filter(|r| r.status == 503).count(),
        4,
        "the receiver was down for four attempts"
    );
    // Each delivery of the log was accepted exactly once, under its id; nothing else arrived.
    for row in &rows {
        assert_eq!(row["status"], "delivered", "{row}");
        let id = row["id"].as_str().unwrap();
        let accepted: Vec<&Received> = received.iter().filter(|r| r.id == id && r.status == 204).collect();
        assert_eq!(accepted.len(), 1, "delivery {id} arrived once: {received:?}");
        assert_eq!(accepted[0].body, row["payload"], "the body is the logged payload");
        let tries = received.iter().filter(|r| r.id == id).count() as i64;
        assert_eq!(
            row["attempts"].as_i64(),
            Some(tries),
            "the log counts the attempts: {row}"
        );
        assert_eq!(row["last_status"], 204);
    }
    assert!(
        received.iter().all(|r| rows.iter().any(|row| row["id"] == json!(r.id))),
        "no phantom event"
    );
    assert!(rows.iter().any(|r| r["attempts"].as_i64().unwrap() > 1), "{rows:?}");

    let of_type = |t: &str| -> Vec<&Value> { rows.iter().filter(|r| r["event_type"] == t).collect() };
    let published = of_type("publication.created");
    assert_eq!(published.len(), 1, "{rows:?}");
    assert_eq!(published[0]["payload"]["type"], "publication.created");
    assert_eq!(published[0]["payload"]["data"]["publication_id"], json!(publication));
    assert_eq!(
        published[0]["payload"]["data"]["url"],
        json!(format!("/api/v1/publications/{publication}"))
    );
    let decided = of_type("appeal.decided");
    assert_eq!(decided.len(), 1, "{rows:?}");
    assert_eq!(decided[0]["payload"]["data"]["appeal_id"], json!(appeal));
    assert_eq!(decided[0]["payload"]["data"]["status"], "accepted");
    let changed = of_type("result.changed");
    assert!(!changed.is_empty() && changed.len() <= 2, "debounced: {rows:?}");
    for c in &changed {
        let data = &c["payload"]["data"];
        assert_eq!(data["scheme_id"], json!(scheme));
        assert_eq!(data["year"], 2023);
        assert_eq!(data["county_id"], json!(app.county_id));
        assert_eq!(data["results"], json!(format!("/api/v1/results?scheme_id={scheme}")));
    }
    assert_eq!(
        changed.last().unwrap()["payload"]["data"]["revision"],
        json!(revision_after),
        "the last result.changed names the data revision after the last change"
    );
}

#[actix_web::test]
async fn dry_runs_refused_writes_and_other_counties_enqueue_nothing() {
    let app = spawn_with(|s| s.webhooks.deliver = false).await;
    let w = app.world().await;
    instantiate(&app, "tongshi-2023-village", None).await;
    let url = "https://data.example.gov.cn/hooks/kaohe";
    let subscription = app
        .create("/api/v1/webhooks", &json!({"url": url, "events": ["result.changed"]}))
        .await
        .id();
    // Another county, with a subscription of its own.
    kaohe::startup::create_county_with_admin(
        &app.state.store,
        "test",
        "邻县",
        "admin-2".to_owned(),
        crate::helpers::ADMIN_PASSWORD.to_owned(),
    )
    .await
    .unwrap();
    let admin_2 = app.login("admin-2", crate::helpers::ADMIN_PASSWORD).await;
    let other = app
        .post("/api/v1/webhooks", &admin_2, &json!({"url": url, "events": ALL}))
        .await;
    other.assert(201);
    let other = other.id();
    app.get(&format!("/api/v1/webhooks/{other}"), &app.admin)
        .await
        .assert_problem(404, "not_found", None);

    let row = |village: &str| {
        format!("{{\"subject_id\":\"{village}\",\"item_code\":\"1.1\",\"rule_code\":\"L1\",\"quantity\":1,\"occurred_on\":\"2023-03-01\"}}\n")
    };
    let dry = app
        .upload("/api/v1/incidents:bulk?dry_run=true", NDJSON, row(&w.village_a1), None)
        .await;
    dry.assert(200);
    let refused = app
        .upload(
            "/api/v1/incidents:bulk",
            NDJSON,
            format!("{}{}", row(&w.village_a1), row("not-a-subject")),
            None,
        )
        .await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.body);
    assert_eq!(app.count("webhook_deliveries").await, 0, "no phantom events");

    let written = app
        .upload("/api/v1/incidents:bulk", NDJSON, row(&w.village_a1), None)
        .await;
    written.assert(201);
    let rows = log(&app, &app.admin, &subscription).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["event_type"], "result.changed");
    assert_eq!(rows[0]["status"], "pending");
    assert!(
        log(&app, &admin_2, &other).await.is_empty(),
        "the other county hears nothing"
    );
    assert_eq!(app.count("webhook_deliveries").await, 1);

    // Only county admins subscribe and read the log.
    for token in [&w.county_viewer, &w.county_assessor, &w.town_a_admin] {
        app.post("/api/v1/webhooks", token, &json!({"url": url, "events": ALL}))
            .await
            .assert_problem(403, "auth.forbidden", None);
        app.get("/api/v1/webhook-deliveries", token)
            .await
            .assert_problem(403, "auth.forbidden", None);
        app.get("/api/v1/webhooks", token)
            .await
            .assert_problem(403, "auth.forbidden", None);
    }
    app.get(&format!("/api/v1/webhooks/{subscription}"), &w.county_viewer)
        .await
        .assert_problem(403, "auth.forbidden", None);
    app.get(&format!("/api/v1/webhooks/{subscription}"), &w.town_a_admin)
        .await
        .assert_problem(404, "not_found", None);
}

#[actix_web::test]
async fn subscriptions_are_validated_versioned_and_audited() {
    let app = spawn_with(|s| s.webhooks.deliver = false).await;
    let url = "http://127.0.0.1:9/hooks";
    for (body, field, code) in [
        (
            json!({"url": "ftp://example.com/x", "events": ALL}),
            "url",
            "webhook.url_invalid",
        ),
        (json!({"url": "/relative", "events": ALL}), "url", "webhook.url_invalid"),
        (
            json!({"url": "https://exa mple.com", "events": ALL}),
            "url",
            "webhook.url_invalid",
        ),
        (
            json!({"url": format!("https://example.com/{}", "a".repeat(2000)), "events": ALL}),
            "url",
            "webhook.url_invalid",
        ),
        (json!({"url": url, "events": []}), "events", "webhook.events_empty"),
    ] {
        app.post("/api/v1/webhooks", &app.admin, &body)
            .await
            .assert_problem(422, code, Some(field));
    }
    let unknown = app
        .post(
            "/api/v1/webhooks",
            &app.admin,
            &json!({"url": url, "events": ["result.deleted"]}),
        )
        .await;
    assert_eq!(unknown.status.as_u16(), 422, "{}", unknown.body);
    assert_eq!(app.count("webhook_subscriptions").await, 0);

    let id = app
        .create(
            "/api/v1/webhooks",
            &json!({"url": url, "events": ["appeal.decided", "appeal.decided"]}),
        )
        .await
        .id();
    let path = format!("/api/v1/webhooks/{id}");
    let stale = app
        .send_if_match("PATCH", &path, "\"7\"", br#"{"active": false}"#)
        .await;
    stale.assert_problem(412, "precondition_failed", None);
    let invalid = app
        .send_if_match(
            "PATCH",
            &path,
            "\"7\"",
            br#"{"events": [], "url": "mailto:x@example.com"}"#,
        )
        .await;
    assert_eq!(invalid.status.as_u16(), 422, "an invalid field first: {}", invalid.body);
    let paused = app
        .send_if_match(
            "PATCH",
            &path,
            "\"1\"",
            br#"{"active": false, "events": ["result.changed", "publication.created"]}"#,
        )
        .await;
    paused.assert(200);
    assert_eq!(paused.body["active"], false);
    assert_eq!(paused.body["version"], 2);
    assert_eq!(paused.body["events"], json!(["publication.created", "result.changed"]));
    let list = app.get_ok("/api/v1/webhooks").await;
    assert_eq!(list.body["items"][0]["id"], json!(id));

    // Paused, it is sent nothing; resumed, it hears the next change.
    let scheme = id_of(&instantiate(&app, "tongshi-2023-village", None).await);
    assert_eq!(app.count("webhook_deliveries").await, 0);
    app.patch_as_admin(&path, &json!({"active": true, "version": 2}))
        .await
        .assert(200);
    app.patch_as_admin(
        &format!("/api/v1/schemes/{scheme}"),
        &json!({"title": "童市镇2023年度村级目标管理考核（修订）", "version": 1}),
    )
    .await
    .assert(200);
    let rows = log(&app, &app.admin, &id).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["event_type"], "result.changed");
    assert_eq!(rows[0]["payload"]["data"]["scheme_id"], json!(scheme));

    let trail = crate::data::audit_actions(&app, "webhook_subscription", &id).await;
    assert_eq!(trail, ["create", "update", "update"]);
}

#[actix_web::test]
async fn a_failed_delivery_is_retried_by_hand_under_its_id() {
    let app = spawn_with(|s| delivering(s, 0, (50, 50), 2)).await;
    let (url, receiver) = receiver(2);
    let created = app
        .create("/api/v1/webhooks", &json!({"url": url, "events": ["result.changed"]}))
        .await;
    // A receiver that refuses connections: nothing listens on its port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refusing = app
        .create(
            "/api/v1/webhooks",
            &json!({"url": format!("http://127.0.0.1:{closed}/hooks"), "events": ["result.changed"]}),
        )
        .await
        .id();
    *receiver.secret.lock().unwrap() = Some(created.body["secret"].as_str().unwrap().to_owned());
    let subscription = created.id();
    instantiate(&app, "tongshi-2023-village", None).await;
    let rows = settled(&app, &subscription).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["status"], "failed");
    assert_eq!(rows[0]["attempts"], 2);
    assert_eq!(rows[0]["last_status"], 503);
    let id = rows[0]["id"].as_str().unwrap().to_owned();
    let retried = app
        .post(
            &format!("/api/v1/webhook-deliveries/{id}/retry"),
            &app.admin,
            &json!(null),
        )
        .await;
    retried.assert(200);
    assert_eq!(retried.body["status"], "pending");
    let rows = settled(&app, &subscription).await;
    assert_eq!(rows[0]["status"], "delivered", "{rows:?}");
    app.post(
        &format!("/api/v1/webhook-deliveries/{id}/retry"),
        &app.admin,
        &json!(null),
    )
    .await
    .assert_problem(409, "webhook.delivery_not_failed", None);
    let refused = settled(&app, &refusing).await;
    assert_eq!(refused[0]["status"], "failed", "{refused:?}");
    assert_eq!(refused[0]["attempts"], 2);
    assert_eq!(refused[0]["last_status"], Value::Null);
    assert!(
        refused[0]["last_error"].as_str().unwrap().starts_with("no answer"),
        "{refused:?}"
    );
    let received = receiver.log.lock().unwrap().clone();
    assert_eq!(received.len(), 3, "{received:?}");
    assert!(received.iter().all(|r| r.id == id && r.signature_valid));
    assert_eq!(received.last().unwrap().status, 204);
}
