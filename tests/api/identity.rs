//! Issue 4: org units, users, service accounts, the scope matrix and the audit trail.

use serde_json::json;

use crate::helpers::{spawn_app, PASSWORD};

#[actix_web::test]
async fn org_units_form_a_tree_and_create_their_subjects() {
    let app = spawn_app().await;
    let town = app.org_unit("township", "童市镇", None).await;
    let village = app
        .create(
            "/api/v1/org-units",
            &json!({"kind": "village", "name": "童市村", "parent_id": town}),
        )
        .await;
    assert_eq!(village.body["township_id"], json!(town));
    assert!(village.header("location").unwrap().ends_with(&village.id()));
    let subject = app.get_ok(&format!("/api/v1/subjects/{}", village.id())).await;
    assert_eq!(subject.body["subject_type"], "village");
    assert_eq!(subject.body["township_id"], json!(town));
    // A village under a village is refused, naming the field; nothing is written.
    let before = app.count("org_units").await;
    app.post_as_admin(
        "/api/v1/org-units",
        &json!({"kind": "village", "name": "x", "parent_id": village.id()}),
    )
    .await
    .assert_problem(422, "org_unit.parent_not_township", Some("parent_id"));
    app.post_as_admin("/api/v1/org-units", &json!({"kind": "village", "name": "x"}))
        .await
        .assert_problem(422, "org_unit.parent_required", Some("parent_id"));
    assert_eq!(app.count("org_units").await, before);
}

#[actix_web::test]
async fn updates_need_the_current_version() {
    let app = spawn_app().await;
    let town = app.org_unit("township", "童市镇", None).await;
    let path = format!("/api/v1/org-units/{town}");
    app.patch_as_admin(&path, &json!({"name": "童市镇人民政府"}))
        .await
        .assert_problem(428, "precondition_required", None);
    let updated = app.send_if_match("PATCH", &path, "\"1\"", br#"{"name":"A"}"#).await;
    updated.assert(200);
    assert_eq!(updated.header("etag").as_deref(), Some("\"2\""));
    app.patch_as_admin(&path, &json!({"name": "B", "version": 1}))
        .await
        .assert_problem(412, "precondition_failed", None);
    let subject = app.get(&format!("/api/v1/subjects/{town}"), &app.admin).await;
    assert_eq!(subject.body["name"], "A");
}

#[actix_web::test]
async fn lists_paginate_with_a_cursor_and_updated_since() {
    let app = spawn_app().await;
    let town = app.org_unit("township", "镇", None).await;
    for i in 0..7 {
        app.org_unit("village", &format!("村{i}"), Some(&town)).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/org-units?kind=village&limit=3".to_owned();
    loop {
        let page = app.get_ok(&path).await;
        for item in page.body["items"].as_array().unwrap() {
            seen.push(item["name"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/org-units?kind=village&limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, (0..7).map(|i| format!("村{i}")).collect::<Vec<_>>());
    let future = "2999-01-01T00:00:00Z";
    let none = app
        .get(&format!("/api/v1/org-units?updated_since={future}"), &app.admin)
        .await;
    assert_eq!(none.body["items"].as_array().unwrap().len(), 0);
    app.get("/api/v1/org-units?limit=0", &app.admin).await.assert_problem(
        422,
        "page.limit_out_of_range",
        Some("limit"),
    );
    app.get("/api/v1/org-units?cursor=garbage!", &app.admin)
        .await
        .assert_problem(422, "page.cursor_invalid", Some("cursor"));
}

#[actix_web::test]
async fn the_scope_matrix_holds_for_identity_endpoints() {
    let app = spawn_app().await;
    let w = app.world().await;
    // Reading an org unit: (token, unit, expected status)
    let cases = [
        (&app.admin, &w.village_b1, 200),
        (&w.county_viewer, &w.village_b1, 200),
        (&w.county_assessor, &w.department, 200),
        (&w.town_a_admin, &w.village_a1, 200),
        (&w.town_a_admin, &w.town_a, 200),
        (&w.town_a_admin, &w.village_b1, 404),
        (&w.town_a_admin, &w.town_b, 404),
        (&w.town_a_admin, &w.department, 404),
        (&w.town_a_viewer, &w.village_a2, 200),
        (&w.town_b_assessor, &w.village_a1, 404),
        (&w.village_a1_viewer, &w.village_a1, 200),
        (&w.village_a1_viewer, &w.village_a2, 404),
        (&w.village_a1_viewer, &w.town_a, 404),
    ];
    for (token, unit, status) in cases {
        app.get(&format!("/api/v1/org-units/{unit}"), token)
            .await
            .assert(status);
    }
    // Creating villages: county admin anywhere, town admin in its own town only, others never.
    let create = |parent: &str| json!({"kind": "village", "name": "新村", "parent_id": parent});
    app.post("/api/v1/org-units", &w.town_a_admin, &create(&w.town_a))
        .await
        .assert(201);
    app.post("/api/v1/org-units", &w.town_a_admin, &create(&w.town_b))
        .await
        .assert_problem(422, "org_unit.parent_unknown", Some("parent_id"));
    app.post(
        "/api/v1/org-units",
        &w.town_a_admin,
        &json!({"kind": "township", "name": "新镇"}),
    )
    .await
    .assert_problem(403, "auth.forbidden", None);
    app.post("/api/v1/org-units", &w.town_a_assessor, &create(&w.town_a))
        .await
        .assert_problem(403, "auth.forbidden", None);
    app.post("/api/v1/org-units", &w.county_viewer, &create(&w.town_a))
        .await
        .assert_problem(403, "auth.forbidden", None);
    app.post("/api/v1/org-units", &w.village_a1_viewer, &create(&w.town_a))
        .await
        .assert(422);
    // Renaming: town admin renames its villages, not its town nor another town's villages.
    let rename = json!({"name": "改名", "version": 1});
    app.patch(&format!("/api/v1/org-units/{}", w.village_a2), &w.town_a_admin, &rename)
        .await
        .assert(200);
    app.patch(&format!("/api/v1/org-units/{}", w.town_a), &w.town_a_admin, &rename)
        .await
        .assert(403);
    app.patch(&format!("/api/v1/org-units/{}", w.village_b1), &w.town_a_admin, &rename)
        .await
        .assert(404);
    // Lists are filtered to the scope; a filter cannot widen it.
    let names = |reply: &crate::helpers::Reply| -> Vec<String> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let listed = names(&app.get("/api/v1/org-units?limit=1000", &w.town_a_viewer).await);
    assert!(listed.contains(&w.village_a1) && listed.contains(&w.town_a));
    assert!(!listed.contains(&w.village_b1) && !listed.contains(&w.department));
    let widened = names(
        &app.get(&format!("/api/v1/org-units?parent_id={}", w.town_b), &w.town_a_viewer)
            .await,
    );
    assert!(widened.is_empty());
    let own = names(&app.get("/api/v1/org-units", &w.village_a1_viewer).await);
    assert_eq!(own, vec![w.village_a1.clone()]);
    // Users: a town admin creates village viewers of its villages, nothing above or beside.
    let user = |unit: &str, role: &str, name: &str| json!({"username": name, "display_name": name, "password": PASSWORD, "org_unit_id": unit, "role": role});
    app.post(
        "/api/v1/users",
        &w.town_a_admin,
        &user(&w.village_a1, "viewer", "a1-viewer-2"),
    )
    .await
    .assert(201);
    app.post(
        "/api/v1/users",
        &w.town_a_admin,
        &user(&w.village_a1, "assessor", "a1-assessor"),
    )
    .await
    .assert_problem(422, "user.role_not_allowed", Some("role"));
    app.post(
        "/api/v1/users",
        &w.town_a_admin,
        &user(&w.town_a, "assessor", "a-assessor-2"),
    )
    .await
    .assert(403);
    app.post(
        "/api/v1/users",
        &w.town_a_admin,
        &user(&w.village_b1, "viewer", "b1-viewer"),
    )
    .await
    .assert_problem(422, "user.org_unit_unknown", Some("org_unit_id"));
    app.post(
        "/api/v1/users",
        &w.county_assessor,
        &user(&w.village_a1, "viewer", "x-viewer"),
    )
    .await
    .assert(403);
    // Audit trail: county admin and viewer only.
    app.get("/api/v1/audit-events", &w.county_viewer).await.assert(200);
    app.get("/api/v1/audit-events", &w.county_assessor).await.assert(403);
    app.get("/api/v1/audit-events", &w.town_a_admin).await.assert(403);
    app.get("/api/v1/audit-events", &w.village_a1_viewer).await.assert(403);
    // Service accounts: county admin only.
    app.post("/api/v1/service-accounts", &w.town_a_admin, &json!({"name": "x"}))
        .await
        .assert(403);
    app.get("/api/v1/service-accounts", &w.county_viewer).await.assert(403);
}

#[actix_web::test]
async fn service_accounts_log_in_read_the_county_and_can_be_revoked() {
    let app = spawn_app().await;
    let created = app.service_account("省数据平台").await;
    let client_id = created.body["client_id"].as_str().unwrap().to_owned();
    let secret = created.body["client_secret"].as_str().unwrap().to_owned();
    let form = format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}");
    let login = app.form_grant(form).await;
    login.assert(200);
    let token = login.body["access_token"].as_str().unwrap().to_owned();
    app.get("/api/v1/org-units", &token).await.assert(200);
    app.post("/api/v1/org-units", &token, &json!({"kind": "township", "name": "x"}))
        .await
        .assert(403);
    app.revoke_service_account(&created.id()).await;
    app.get("/api/v1/org-units", &token)
        .await
        .assert_problem(401, "auth.unauthorized", None);
    let listed = app.get("/api/v1/service-accounts", &app.admin).await;
    assert!(listed.bytes.windows(13).all(|w| w != b"client_secret"));
}

#[actix_web::test]
async fn a_name_is_measured_as_sent_before_it_is_trimmed() {
    let app = spawn_app().await;
    // 201 characters as sent, 200 once the leading newline is trimmed: the document's
    // maxLength of 200 refuses it, so the service must too.
    let long = format!("\n{}", "*".repeat(200));
    app.post("/api/v1/service-accounts", &app.admin, &json!({ "name": long }))
        .await
        .assert_problem(422, "field.length", Some("name"));
    app.post(
        "/api/v1/org-units",
        &app.admin,
        &json!({"kind": "township", "name": long}),
    )
    .await
    .assert_problem(422, "field.length", Some("name"));
    // Whitespace around a name that fits is still trimmed away.
    let created = app
        .post("/api/v1/service-accounts", &app.admin, &json!({"name": "  平台  "}))
        .await;
    created.assert(201);
    assert_eq!(created.body["name"], "平台");
}

#[actix_web::test]
async fn users_change_their_own_password() {
    let app = spawn_app().await;
    let county = app.county_id.clone();
    let token = app.user("changer", &county, "viewer").await;
    let body = json!({"current_password": "wrong-password-123", "new_password": "a brand new password"});
    app.put("/api/v1/users/me/password", &token, &body)
        .await
        .assert_problem(422, "user.password_wrong", Some("current_password"));
    let body = json!({"current_password": PASSWORD, "new_password": "short"});
    app.put("/api/v1/users/me/password", &token, &body)
        .await
        .assert_problem(422, "user.password_weak", Some("new_password"));
    let body = json!({"current_password": PASSWORD, "new_password": "a brand new password"});
    app.put("/api/v1/users/me/password", &token, &body).await.assert(204);
    app.login("changer", "a brand new password").await;
}

#[actix_web::test]
async fn every_write_is_in_the_audit_trail_and_the_chain_verifies() {
    let app = spawn_app().await;
    let town = app.org_unit("township", "童市镇", None).await;
    app.patch_as_admin(
        &format!("/api/v1/org-units/{town}"),
        &json!({"name": "童市", "version": 1}),
    )
    .await
    .assert(200);
    let events = app
        .get(
            &format!("/api/v1/audit-events?entity=org_unit&entity_id={town}"),
            &app.admin,
        )
        .await;
    let items = events.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "create");
    assert_eq!(items[1]["action"], "update");
    assert_eq!(items[1]["before"]["name"], "童市镇");
    assert_eq!(items[1]["after"]["name"], "童市");
    assert_eq!(
        items[1]["seq"].as_i64().unwrap(),
        items[0]["seq"].as_i64().unwrap() + 2,
        "the subject's creation sits between"
    );
    assert!(items[1]["request_id"].is_string());

    let db = app.state.store.db();
    let report = kaohe::store::audit::verify(db).await.unwrap();
    assert!(report.broken.is_empty(), "{:?}", report.broken);
    assert!(report.events >= 4);

    // Tamper with one stored event: verification names exactly that event.
    use sea_orm::{ConnectionTrait, Statement};
    let seq: i64 = items[1]["seq"].as_i64().unwrap();
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // The trigger refuses edits made through SQL.
        let refused = db
            .execute_raw(Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!("UPDATE audit_events SET actor = 'mallory' WHERE seq = {seq}"),
            ))
            .await;
        assert!(refused.is_err());
        db.execute_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only".to_owned(),
        ))
        .await
        .unwrap();
    }
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!("UPDATE audit_events SET actor = 'mallory' WHERE seq = {seq}"),
    ))
    .await
    .unwrap();
    let report = kaohe::store::audit::verify(db).await.unwrap();
    assert_eq!(report.broken.len(), 1);
    assert_eq!(report.broken[0].seq, seq);
}
