//! Issue 2: probes, problem documents for every error path, request ids, CORS, body limits.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_with, JSON};

#[actix_web::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let health = app.send("GET", "/healthz", None, &[], None).await;
    health.assert(200);
    assert_eq!(health.body["status"], "ok");
    app.send("GET", "/readyz", None, &[], None).await.assert(200);
}

#[actix_web::test]
async fn unknown_routes_and_methods_answer_problems() {
    let app = spawn_app().await;
    let reply = app.send("GET", "/nope", None, &[], None).await;
    reply.assert_problem(404, "not_found", None);
    assert_eq!(reply.body["instance"], "/nope");
    let reply = app
        .send("DELETE", "/api/v1/org-units", Some(&app.admin), &[], None)
        .await;
    reply.assert_problem(405, "request.method_not_allowed", None);
    assert_eq!(reply.header("allow").as_deref(), Some("GET, POST"));
    let reply = app
        .send(
            "DELETE",
            &format!("/api/v1/org-units/{}", app.county_id),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(reply.header("allow").as_deref(), Some("GET, PATCH"));
    // `/users/me` is its own resource, not a user id: PATCH reaches `/users/{id}` and is refused.
    let reply = app.send("PATCH", "/api/v1/users/me", Some(&app.admin), &[], None).await;
    reply.assert_problem(405, "request.method_not_allowed", None);
    assert_eq!(reply.header("allow").as_deref(), Some("GET"));
    app.get_with("/api/v1/org-units/not-an-id", &[])
        .await
        .assert_problem(404, "not_found", None);
}

#[actix_web::test]
async fn text_with_a_nul_character_is_never_a_500() {
    let app = spawn_app().await;
    let reply = app
        .post_as_admin("/api/v1/org-units", &json!({"kind": "township", "name": "童\u{0}市"}))
        .await;
    // PostgreSQL cannot store U+0000 in text: refused on both databases alike, naming the field.
    reply.assert_problem(422, "request.nul_character", Some("name"));
    let reply = app
        .post_as_admin(
            "/api/v1/incidents:bulk",
            &json!([{"subject_id": app.county_id, "item_code": "1.1", "rule_code": "L1", "quantity": 1,
                "occurred_on": "2023-03-01", "note": "a\u{0}b"}]),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(
        reply.body["errors"][0]["code"], "request.nul_character",
        "{}",
        reply.body
    );
    // An escaped backslash followed by `u0000` is ordinary text.
    app.post_as_admin("/api/v1/org-units", &json!({"kind": "township", "name": "童\\u0000市"}))
        .await
        .assert(201);
    let reply = app.get("/api/v1/incidents?item=1%001", &app.admin).await;
    assert!(!reply.status.is_server_error(), "unexpected answer: {}", reply.body);
}

#[actix_web::test]
async fn malformed_json_is_a_400_problem_and_writes_nothing() {
    let app = spawn_app().await;
    let before = app.count("org_units").await;
    let reply = app
        .upload("/api/v1/org-units", JSON, b"{\"kind\": \"township\",".to_vec(), None)
        .await;
    reply.assert_problem(400, "request.malformed_json", None);
    assert_eq!(app.count("org_units").await, before);
}

#[actix_web::test]
async fn a_wrong_field_is_a_422_naming_it() {
    let app = spawn_app().await;
    for (body, field) in [
        (json!({"kind": "castle", "name": "x"}), "kind"),
        (json!({"kind": "township"}), "name"),
    ] {
        app.post_as_admin("/api/v1/org-units", &body)
            .await
            .assert_problem(422, "request.field_invalid", Some(field));
    }
}

#[actix_web::test]
async fn a_bad_query_parameter_is_a_400_naming_it() {
    let app = spawn_app().await;
    let subject = uuid::Uuid::now_v7();
    app.get(&format!("/api/v1/subjects/{subject}/result"), &app.admin)
        .await
        .assert_problem(400, "request.query_invalid", Some("scheme_id"));
    app.get(
        &format!("/api/v1/results?scheme_id={subject}&as_of=yesterday"),
        &app.admin,
    )
    .await
    .assert_problem(400, "request.query_invalid", Some("as_of"));
    app.get("/api/v1/subjects?limit=many", &app.admin).await.assert_problem(
        400,
        "request.query_invalid",
        Some("limit"),
    );
}

#[actix_web::test]
async fn wrong_content_type_is_415() {
    let app = spawn_app().await;
    let reply = app
        .upload("/api/v1/org-units", "text/plain", b"hello".to_vec(), None)
        .await;
    reply.assert_problem(415, "request.unsupported_media_type", None);
}

#[actix_web::test]
async fn oversized_bodies_are_413() {
    let app = spawn_with(|s| s.limits.json_body_bytes = 2048).await;
    let name = "村".repeat(2000);
    let reply = app
        .post_as_admin("/api/v1/org-units", &json!({"kind": "township", "name": name}))
        .await;
    reply.assert_problem(413, "request.too_large", None);
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated() {
    let app = spawn_app().await;
    let reply = app
        .send("GET", "/healthz", None, &[("x-request-id", "trace-abc-123")], None)
        .await;
    assert_eq!(reply.header("x-request-id").as_deref(), Some("trace-abc-123"));
    let reply = app.send("GET", "/healthz", None, &[], None).await;
    assert!(reply.header("x-request-id").is_some_and(|id| id.len() >= 32));
    let problem = app
        .send("GET", "/nope", None, &[("x-request-id", "trace-xyz")], None)
        .await;
    assert_eq!(problem.body["request_id"], "trace-xyz");
}

#[actix_web::test]
async fn cors_preflight_is_answered_for_configured_origins_only() {
    let app = spawn_with(|s| s.cors.allowed_origins = vec!["https://front.example".to_owned()]).await;
    let headers = [
        ("origin", "https://front.example"),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "authorization, content-type"),
    ];
    let reply = app.send("OPTIONS", "/api/v1/org-units", None, &headers, None).await;
    assert!(reply.status.is_success(), "preflight refused: {:?}", reply.status);
    assert_eq!(
        reply.header("access-control-allow-origin").as_deref(),
        Some("https://front.example")
    );
    let reply = app
        .send("GET", "/healthz", None, &[("origin", "https://front.example")], None)
        .await;
    let exposed = reply
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_lowercase();
    for header in ["etag", "location", "x-request-id"] {
        assert!(exposed.contains(header), "{header} not exposed: {exposed}");
    }
    let reply = app
        .send(
            "OPTIONS",
            "/api/v1/org-units",
            None,
            &[
                ("origin", "https://evil.example"),
                ("access-control-request-method", "POST"),
            ],
            None,
        )
        .await;
    assert!(reply.header("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn swagger_ui_and_the_document_are_served() {
    let app = spawn_app().await;
    let docs = app.send("GET", "/docs/", None, &[], None).await;
    docs.assert(200);
    assert!(String::from_utf8_lossy(&docs.bytes).contains("swagger"));
    let doc = app.send("GET", "/openapi.json", None, &[], None).await;
    doc.assert(200);
    assert_eq!(doc.body["openapi"], "3.1.0");
}

#[actix_web::test]
async fn readiness_fails_fast_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.state.store.db().clone().close().await.ok();
    let started = std::time::Instant::now();
    let reply = app.send("GET", "/readyz", None, &[], None).await;
    reply.assert_problem(503, "database.unavailable", None);
    assert!(reply.header("retry-after").is_some());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let health = app.send("GET", "/healthz", None, &[], None).await;
    health.assert(200);
}

/// Issue 8's data generator: `kaohe demo --counties N` loads a province, each county its own
/// tenant with its own audit chain, and the demo county's users see a computed ranking.
#[actix_web::test]
async fn the_demo_generator_loads_a_province_of_separate_counties() {
    let app = spawn_app().await;
    let summaries = kaohe::demo::load_province(&app.state.store, 2, 1)
        .await
        .expect("load two counties");
    assert_eq!(summaries.len(), 2);
    assert_ne!(summaries[0].county_id, summaries[1].county_id);
    assert_eq!(summaries[0].county_id.to_string(), app.county_id);
    assert_eq!(
        summaries[0].findings, summaries[1].findings,
        "the same deterministic county twice"
    );
    assert!(
        summaries[1].findings > 100,
        "a year of findings: {}",
        summaries[1].findings
    );

    let verification = kaohe::store::audit::verify(app.state.store.db()).await.expect("verify");
    assert!(verification.broken.is_empty());
    assert_eq!(verification.counties, 2);

    // The first county's viewer ranks its own Seed B scheme and cannot see the second county's.
    let viewer = app.login("demo-county-viewer", kaohe::demo::DEMO_PASSWORD).await;
    let own = summaries[0].seed_b_scheme.expect("seed B");
    let other = summaries[1].seed_b_scheme.expect("seed B");
    let ranking = app.get(&format!("/api/v1/rankings?scheme_id={own}"), &viewer).await;
    ranking.assert(200);
    assert!(ranking.body["rankings"].as_array().is_some_and(|r| !r.is_empty()));
    app.get(&format!("/api/v1/rankings?scheme_id={other}"), &viewer)
        .await
        .assert_problem(404, "not_found", None);
}

#[actix_web::test]
async fn metrics_can_require_a_token_or_be_switched_off() {
    let app = spawn_with(|s| s.metrics.token = Some(kaohe::config::Secret::new("scrape-token-0123456789"))).await;
    app.send("GET", "/metrics", None, &[], None)
        .await
        .assert_problem(401, "auth.unauthorized", None);
    app.send("GET", "/metrics", Some("wrong-token-0123456789"), &[], None)
        .await
        .assert(401);
    let scraped = app
        .send("GET", "/metrics", Some("scrape-token-0123456789"), &[], None)
        .await;
    scraped.assert(200);
    assert!(scraped
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    assert!(String::from_utf8(scraped.bytes)
        .unwrap()
        .contains("# TYPE kaohe_http_requests_total counter"));
    let off = spawn_with(|s| s.metrics.enabled = false).await;
    off.send("GET", "/metrics", None, &[], None).await.assert(404);
}
