//! Issue 17 §5: requests the OpenAPI document allows are not refused. JSON Schema counts
//! `4744.0` as an integer; a parameter the document cannot tie to another's value (`month`
//! beside `kind`) is ignored where it does not apply; the login body is documented as the two
//! grants it is; `subjects:bulk` takes the NDJSON body it documents.

use serde_json::{json, Value};

use crate::data::{id_of, instantiate, stationed};
use crate::helpers::{spawn_app, ADMIN_PASSWORD, JSON, NDJSON};

fn document() -> Value {
    serde_json::from_str(&kaohe::api::openapi("http://127.0.0.1:8080").to_json().unwrap()).unwrap()
}

#[actix_web::test]
async fn integral_numbers_are_integers_whichever_way_they_are_written() {
    let app = spawn_app().await;
    let w = app.world().await;
    let subject = stationed(&app, &w, "first_secretary", "李明", &w.village_a1).await;
    let path = format!("/api/v1/subjects/{subject}");
    // A PATCH body sent as written, so its numbers keep their spelling.
    let patch_raw = |body: &[u8]| {
        let body = body.to_vec();
        app.send("PATCH", &path, Some(&app.admin), &[("content-type", JSON)], Some(body))
    };

    // The document says integer; 1.0 is one.
    let version = &document()["components"]["schemas"]["SubjectPatch"]["properties"]["version"]["type"];
    assert!(
        version.to_string().contains("integer"),
        "version is an integer: {version}"
    );
    let patched = patch_raw(br#"{"name": "Li Ming A", "version": 1.0}"#).await;
    patched.assert(200);
    assert_eq!(patched.body["version"], 2);
    let patched = patch_raw(br#"{"name": "Li Ming B", "version": 2e0}"#).await;
    patched.assert(200);
    assert_eq!(patched.body["version"], 3);

    // A fraction is not an integer: 422 naming the field, nothing written.
    let before = app.count("audit_events").await;
    for body in [
        &br#"{"name": "Li Ming C", "version": 3.5}"#[..],
        &br#"{"name": "Li Ming C", "version": 3.0000001}"#[..],
    ] {
        patch_raw(body)
            .await
            .assert_problem(422, "request.field_invalid", Some("version"));
    }
    // Still the version's check, with the number however written.
    patch_raw(br#"{"name": "Li Ming C", "version": 2.0}"#)
        .await
        .assert_problem(412, "precondition_failed", None);
    assert_eq!(app.count("audit_events").await, before);
    assert_eq!(app.get(&path, &app.admin).await.body["name"], "Li Ming B");
}

#[actix_web::test]
async fn month_is_ignored_unless_the_kind_is_monthly() {
    let app = spawn_app().await;
    let w = app.world().await;
    let scheme = id_of(&instantiate(&app, "tongshi-2023-village", Some(&w.town_a)).await);
    let annual = app
        .get_ok(&format!("/api/v1/results?scheme_id={scheme}&kind=annual"))
        .await;
    for query in ["kind=annual&month=3", "month=3"] {
        let with_month = app.get_ok(&format!("/api/v1/results?scheme_id={scheme}&{query}")).await;
        assert_eq!(with_month.body["kind"], "annual");
        assert_eq!(with_month.body["month"], Value::Null);
        assert_eq!(
            with_month.body["items"], annual.body["items"],
            "{query}: the annual results"
        );
    }
    let rankings = app
        .get_ok(&format!("/api/v1/rankings?scheme_id={scheme}&kind=annual&month=7"))
        .await;
    assert_eq!(rankings.body["month"], Value::Null);
    // With kind=monthly, month still counts and is still checked.
    let monthly = app
        .get_ok(&format!("/api/v1/results?scheme_id={scheme}&kind=monthly&month=3"))
        .await;
    assert_eq!(monthly.body["month"], 3);
    app.get(
        &format!("/api/v1/results?scheme_id={scheme}&kind=monthly&month=13"),
        &app.admin,
    )
    .await
    .assert_problem(422, "results.month_required", Some("month"));
    // A publication of the annual results with a month is the annual publication.
    let published = app
        .create(
            "/api/v1/publications",
            &json!({"scheme_id": scheme, "kind": "annual", "month": 3, "township_id": w.town_a}),
        )
        .await;
    assert_eq!(published.body["kind"], "annual");
    assert_eq!(published.body["month"], Value::Null);
}

#[actix_web::test]
async fn the_login_body_is_documented_as_the_grants_it_accepts() {
    let doc = document();
    let body = &doc["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"];
    // JSON only: a body documented as both JSON and form breaks generated Python clients. The
    // form is still accepted (below), as the operation's description says.
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let media = "application/json";
    let target = body[media]["schema"]["$ref"].as_str().unwrap();
    let schema = doc.pointer(target.trim_start_matches('#')).unwrap();
    let grants = schema["oneOf"].as_array().unwrap();
    assert_eq!(grants.len(), 2);
    let password = &grants[0];
    assert_eq!(password["required"], json!(["username", "password"]), "{media}");
    assert_eq!(password["properties"]["username"]["type"], "string");
    assert_eq!(password["properties"]["grant_type"]["enum"], json!(["password"]));
    let client = &grants[1];
    assert_eq!(
        client["required"],
        json!(["grant_type", "client_id", "client_secret"]),
        "{media}"
    );

    // What the document allows logs in: JSON and form, with and without grant_type, with
    // properties the document does not name.
    let app = spawn_app().await;
    let token = "/api/v1/auth/token";
    for (content_type, request) in [
        (
            "application/json",
            json!({"username": "admin", "password": ADMIN_PASSWORD}).to_string(),
        ),
        (
            "application/json",
            json!({"grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD, "scope": "x"})
                .to_string(),
        ),
        (
            "application/x-www-form-urlencoded",
            format!("username=admin&password={ADMIN_PASSWORD}"),
        ),
        (
            "application/x-www-form-urlencoded",
            format!("grant_type=password&username=admin&password={ADMIN_PASSWORD}"),
        ),
    ] {
        let reply = app
            .send(
                "POST",
                token,
                None,
                &[("content-type", content_type)],
                Some(request.clone().into_bytes()),
            )
            .await;
        reply.assert(200);
        assert!(reply.body["access_token"].is_string(), "{request}");
    }
    // What it does not allow is refused naming the field.
    app.send(
        "POST",
        token,
        None,
        &[("content-type", "application/json")],
        Some(json!({"password": ADMIN_PASSWORD}).to_string().into_bytes()),
    )
    .await
    .assert_problem(422, "auth.field_required", Some("username"));
}

#[actix_web::test]
async fn subjects_bulk_takes_the_ndjson_body_it_documents() {
    let doc = document();
    let content = &doc["paths"]["/api/v1/subjects:bulk"]["post"]["requestBody"]["content"];
    assert!(content["application/x-ndjson"].is_object(), "NDJSON is documented");

    let app = spawn_app().await;
    let w = app.world().await;
    let row = |name: &str| {
        json!({"subject_type": "first_secretary", "name": name, "dispatched_by": w.department, "stationed_in": w.village_a1})
            .to_string()
    };
    // One object (what a client generated from the document sends), with and without a newline.
    for (i, body) in [row("一号"), format!("{}\n", row("二号"))].into_iter().enumerate() {
        let reply = app.upload("/api/v1/subjects:bulk", NDJSON, body, None).await;
        reply.assert(201);
        assert_eq!(reply.body["created"], 1, "body {i}");
    }
    // Several rows, CRLF line ends, a charset parameter.
    let body = format!("{}\r\n{}\r\n", row("三号"), row("四号"));
    let reply = app
        .upload(
            "/api/v1/subjects:bulk",
            "application/x-ndjson; charset=utf-8",
            body,
            None,
        )
        .await;
    reply.assert(201);
    assert_eq!(reply.body["created"], 2);
}
