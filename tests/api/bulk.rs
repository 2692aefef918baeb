//! Issue 7: bulk uploads (JSON array, NDJSON, CSV), all-or-nothing, dry runs, idempotent retries.

use std::io::Write;

use serde_json::json;

use crate::helpers::{department_and_village, find_by, seed_a_scheme, seed_a_town, spawn_app, CSV, NDJSON};

fn ndjson_row(village: &str, month: u32) -> String {
    format!(
        "{{\"subject_id\":\"{village}\",\"item_code\":\"1.1\",\"rule_code\":\"L3\",\"quantity\":1,\"occurred_on\":\"2023-{month:02}-15\"}}\n"
    )
}

#[actix_web::test]
async fn ndjson_csv_and_json_uploads_write_every_row() {
    let app = spawn_app().await;
    let (_, _, v1, v2) = seed_a_town(&app).await;
    let body: String = (1..=12).map(|m| ndjson_row(&v1, m)).collect();
    let reply = app.upload("/api/v1/incidents:bulk", NDJSON, body, None).await;
    reply.assert(201);
    assert_eq!(reply.body["rows"], 12);
    assert_eq!(reply.body["created"], 12);
    let list = reply.body["list"].as_str().unwrap().to_owned();
    let listed = app.get(&format!("{list}&limit=100"), &app.admin).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 12);

    // CSV with a BOM, Chinese text and RFC 4180 quoting.
    let csv = format!(
        "\u{feff}subject_id,item_code,rule_code,quantity,occurred_on,source,note\n\
         {v2},1.3,error,2,2023-05-01,higher_feedback,\"上级反馈, 含逗号与\"\"引号\"\"\"\n\
         {v2},2.1,missing_doc,,2023-06-01,,\n"
    );
    let reply = app.upload("/api/v1/incidents:bulk", CSV, csv, None).await;
    reply.assert(201);
    assert_eq!(reply.body["created"], 2);
    let stored = app
        .get(&format!("/api/v1/incidents?subject_id={v2}&item=1.3"), &app.admin)
        .await;
    assert_eq!(stored.body["items"][0]["note"], "上级反馈, 含逗号与\"引号\"");
    assert_eq!(stored.body["items"][0]["quantity"], 2);

    let array = json!([{"subject_id": v2, "item_code": "3.3", "rule_code": "late", "occurred_on": "2023-07-01"}]);
    let reply = app.upload_json("/api/v1/incidents:bulk", &array, None).await;
    reply.assert(201);
    // One audit event per upload, with the row count and the body's hash.
    let events = app
        .get("/api/v1/audit-events?entity=incident&limit=1000", &app.admin)
        .await;
    let uploads: Vec<_> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "bulk_create")
        .collect();
    assert_eq!(uploads.len(), 3);
    assert_eq!(uploads[0]["after"]["rows"], 12);
    assert_eq!(uploads[0]["after"]["content_sha256"].as_str().unwrap().len(), 64);
    app.assert_trail_covers_data().await;
}

#[actix_web::test]
async fn one_bad_row_in_ten_thousand_writes_nothing_and_is_named() {
    let app = spawn_app().await;
    let (_, _, v1, _) = seed_a_town(&app).await;
    let mut body = String::new();
    for i in 1..=10_000u32 {
        if i == 5_000 {
            body.push_str(&format!(
                "{{\"subject_id\":\"{v1}\",\"item_code\":\"1.1\",\"rule_code\":\"L9\",\"occurred_on\":\"2023-03-01\"}}\n"
            ));
        } else {
            body.push_str(&ndjson_row(&v1, i % 12 + 1));
        }
    }
    let reply = app.upload("/api/v1/incidents:bulk", NDJSON, body.clone(), None).await;
    reply.assert_problem(422, "incident.rule_unknown", Some("rule_code"));
    let errors = reply.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["row"], 5000);
    assert_eq!(app.count("incidents").await, 0);
    // A dry run of the corrected file writes nothing and says it is valid.
    let fixed = body.replace("\"L9\"", "\"L1\"");
    let dry = app
        .upload("/api/v1/incidents:bulk?dry_run=true", NDJSON, fixed, None)
        .await;
    dry.assert(200);
    assert_eq!(dry.body["rows"], 10_000);
    assert_eq!(dry.body["dry_run"], true);
    assert_eq!(app.count("incidents").await, 0);
}

#[actix_web::test]
async fn every_bad_row_is_reported_with_its_field() {
    let app = spawn_app().await;
    let (_, _, v1, _) = seed_a_town(&app).await;
    let csv = format!(
        "subject_id,item_code,rule_code,quantity,occurred_on\n\
         {v1},1.1,L1,1,2023-02-01\n\
         {v1},1.1,L1,many,2023-02-01\n\
         {v1},9.9,L1,1,2023-02-01\n\
         {v1},1.1,L1,1,2024-02-01\n"
    );
    let reply = app.upload("/api/v1/incidents:bulk", CSV, csv, None).await;
    assert_eq!(reply.status.as_u16(), 422);
    let errors: Vec<(u64, String)> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap().to_owned()))
        .collect();
    // Each row by its line in the file: the header is line 1.
    assert_eq!(
        errors,
        vec![
            (3, "quantity".to_owned()),
            (4, "item_code".to_owned()),
            (5, "occurred_on".to_owned())
        ]
    );
    assert_eq!(app.count("incidents").await, 0);
}

#[actix_web::test]
async fn a_township_assessor_cannot_sneak_in_another_towns_finding() {
    let app = spawn_app().await;
    let w = app.world().await;
    for town in [&w.town_a, &w.town_b] {
        seed_a_scheme(&app, town).await;
    }
    let body = format!("{}{}", ndjson_row(&w.village_a1, 3), ndjson_row(&w.village_b1, 3));
    let reply = app
        .upload_as(&w.town_a_assessor, "/api/v1/incidents:bulk", NDJSON, body)
        .await;
    reply.assert_problem(422, "incident.subject_unknown", Some("subject_id"));
    assert_eq!(reply.body["errors"][0]["row"], 2);
    assert_eq!(app.count("incidents").await, 0);
}

#[actix_web::test]
async fn uploads_over_the_limits_answer_413() {
    let app = crate::helpers::spawn_with(|s| {
        s.limits.json_body_bytes = 2048;
        s.limits.bulk_body_bytes = 4096;
        s.limits.bulk_max_rows = 3;
    })
    .await;
    let (_, _, v1, _) = seed_a_town(&app).await;
    let rows: String = (1..=4).map(|m| ndjson_row(&v1, m)).collect();
    app.upload("/api/v1/incidents:bulk", NDJSON, rows, None)
        .await
        .assert_problem(413, "request.too_large", None);
    let big: String = (0..100).map(|m| ndjson_row(&v1, m % 12 + 1)).collect();
    app.upload("/api/v1/incidents:bulk", NDJSON, big, None)
        .await
        .assert_problem(413, "request.too_large", None);
    app.upload("/api/v1/incidents:bulk", "application/xml", b"<x/>".to_vec(), None)
        .await
        .assert_problem(415, "request.unsupported_media_type", None);
    assert_eq!(app.count("incidents").await, 0);
}

#[actix_web::test]
async fn a_killed_upload_writes_nothing() {
    let app = spawn_app().await;
    let (_, _, v1, _) = seed_a_town(&app).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let token = app.admin.clone();
    let rows: String = (0..2000).map(|m| ndjson_row(&v1, m % 12 + 1)).collect();
    actix_web::rt::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        let head = format!(
            "POST /api/v1/incidents:bulk HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
            rows.len() * 2
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(rows.as_bytes()).unwrap();
        stream.flush().unwrap();
        // The client goes away with half the announced body sent.
        drop(stream);
    })
    .await
    .unwrap();
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.count("incidents").await, 0);
    app.get("/healthz", &app.admin).await.assert(200);
}

#[actix_web::test]
async fn retries_with_one_key_write_once() {
    let app = spawn_app().await;
    let (_, _, v1, _) = seed_a_town(&app).await;
    let body: String = (0..300).map(|m| ndjson_row(&v1, m % 12 + 1)).collect();
    let first = app
        .upload("/api/v1/incidents:bulk", NDJSON, body.clone(), Some("upload-1"))
        .await;
    first.assert(201);
    let again = app
        .upload("/api/v1/incidents:bulk", NDJSON, body.clone(), Some("upload-1"))
        .await;
    again.assert(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(app.count("incidents").await, 300);
    let other: String = (0..2).map(|m| ndjson_row(&v1, m + 1)).collect();
    app.upload("/api/v1/incidents:bulk", NDJSON, other, Some("upload-1"))
        .await
        .assert_problem(422, "idempotency.key_reused", Some("Idempotency-Key"));

    // Concurrent retries of a new upload: one writes, the others replay it or are told to wait.
    let requests = (0..6).map(|_| app.upload("/api/v1/incidents:bulk", NDJSON, body.clone(), Some("upload-2")));
    let replies = futures_util::future::join_all(requests).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    assert!(statuses.contains(&201));
    assert_eq!(app.count("incidents").await, 600);
}

#[actix_web::test]
async fn single_posts_honour_idempotency_keys_too() {
    let app = spawn_app().await;
    let (_, _, v1, _) = seed_a_town(&app).await;
    let finding = json!({"subject_id": v1, "item_code": "1.1", "rule_code": "L1", "occurred_on": "2023-03-01"});
    let send = || app.upload_json("/api/v1/incidents", &finding, Some("finding-1"));
    let first = send().await;
    first.assert(201);
    let second = send().await;
    second.assert(201);
    assert_eq!(second.id(), first.id());
    assert_eq!(second.header("idempotent-replayed").as_deref(), Some("true"));
    // The replay is the first answer: status, body and the headers a client acts on.
    assert_eq!(second.body, first.body);
    for header in ["location", "etag", "content-type"] {
        assert_eq!(second.header(header), first.header(header), "{header}");
    }
    assert_eq!(app.count("incidents").await, 1);
    // A failed request does not keep its key: the corrected retry goes through.
    let bad = json!({"subject_id": v1, "item_code": "1.1", "rule_code": "L9", "occurred_on": "2023-03-01"});
    let key = Some("finding-2");
    app.upload_json("/api/v1/incidents", &bad, key).await.assert(422);
    app.upload_json("/api/v1/incidents", &finding, key).await.assert(201);
    assert_eq!(app.count("incidents").await, 2);
}

#[actix_web::test]
async fn scoresheets_ballots_and_subjects_upload_in_bulk() {
    let app = spawn_app().await;
    let (department, village) = department_and_village(&app).await;
    let subjects = format!(
        "subject_type,name,dispatched_by,stationed_in\n\
         first_secretary,李明,{department},{village}\n\
         work_team,童市村驻村工作队,{department},{village}\n"
    );
    let created = app.upload("/api/v1/subjects:bulk", CSV, subjects, None).await;
    created.assert(201);
    let ids = created.body["ids"].as_array().unwrap();
    assert_eq!(ids.len(), 2);
    let secretary = ids[0].as_str().unwrap().to_owned();
    let scheme = crate::data::id_of(&crate::data::instantiate(&app, "county-poverty", None).await);
    let evaluations = app
        .get(&format!("/api/v1/evaluations?scheme_id={scheme}"), &app.admin)
        .await;
    let find = |kind: &str| evaluations.item_where("kind", kind)["id"].as_str().unwrap().to_owned();
    let (half, democratic) = (find("half_year"), find("democratic"));
    let mut sheets = String::from("evaluation_id,subject_id,assessor,item_code,score\n");
    for assessor in ["一组", "二组"] {
        for (item, score) in [
            ("1", "14"),
            ("2", "18"),
            ("3", "14"),
            ("4", "13.5"),
            ("5", "5"),
            ("6", "14"),
            ("7", "13"),
        ] {
            sheets.push_str(&format!("{half},{secretary},{assessor},{item},{score}\n"));
        }
    }
    let reply = app.upload("/api/v1/scoresheets:bulk", CSV, sheets, None).await;
    reply.assert(201);
    assert_eq!(reply.body["rows"], 14, "fourteen CSV rows read");
    assert_eq!(reply.body["sheets"], 2, "two sheets from them");
    let ballots: Vec<_> = (0..30).map(|i| json!({"evaluation_id": democratic, "subject_id": secretary, "score": format!("{}.5", 80 + i % 15), "participant": format!("代表{i:02}")})).collect();
    let reply = app.upload_json("/api/v1/ballots:bulk", &ballots, None).await;
    reply.assert(201);
    assert_eq!(reply.body["created"], 30);
    // A ballot above 100 rejects the whole upload.
    let bad = json!([{"evaluation_id": democratic, "subject_id": secretary, "score": "100.5"}]);
    app.upload_json("/api/v1/ballots:bulk", &bad, None)
        .await
        .assert_problem(422, "ballot.score_out_of_range", Some("score"));
    assert_eq!(app.count("ballots").await, 30);
    app.assert_trail_covers_data().await;
}

#[actix_web::test]
async fn a_bad_row_reports_every_cell_it_cannot_read_in_the_users_words() {
    let app = spawn_app().await;
    let (_, _, v1, _) = seed_a_town(&app).await;
    let before = app.count("incidents").await;
    // Rows as the file shows them (the header is line 1): line 2 is good; line 3 has three
    // unreadable cells; line 4 one unknown kind.
    let csv = format!(
        "subject_id,kind,item_code,rule_code,quantity,occurred_on\n\
         {v1},,1.1,L1,2,2023-03-15\n\
         not-an-id,,1.1,L1,two,2023-13-40\n\
         {v1},visit,1.1,L1,1,2023-03-15\n"
    );
    let reply = app.upload("/api/v1/incidents:bulk?dry_run=true", CSV, csv, None).await;
    reply.assert_row_errors(&[
        (3, "subject_id", "request.field_invalid"),
        (3, "quantity", "request.field_invalid"),
        (3, "occurred_on", "request.field_invalid"),
        (4, "kind", "request.field_invalid"),
    ]);
    let message = |field: &str| {
        find_by(&reply.body["errors"], "field", field)["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(message("quantity"), "quantity must be a whole number");
    assert!(
        message("subject_id").contains("must be an id"),
        "{}",
        message("subject_id")
    );
    assert!(
        message("kind").contains("\"visit\" is not one of"),
        "{}",
        message("kind")
    );
    // The same rows as NDJSON: every member it cannot read, too.
    let ndjson = format!(
        "{{\"subject_id\":\"not-an-id\",\"item_code\":\"1.1\",\"rule_code\":\"L1\",\"quantity\":\"two\",\"occurred_on\":\"2023-13-40\"}}\n\
         {{\"subject_id\":\"{v1}\",\"item_code\":\"1.1\",\"rule_code\":\"L1\",\"occurred_on\":\"2023-03-15\"}}\n"
    );
    let reply = app.upload("/api/v1/incidents:bulk", NDJSON, ndjson, None).await;
    reply.assert_row_errors(&[
        (1, "subject_id", "request.field_invalid"),
        (1, "occurred_on", "request.field_invalid"),
        (1, "quantity", "request.field_invalid"),
    ]);
    assert_eq!(app.count("incidents").await, before, "nothing written");
}

/// `row` is the row as the file shows it: a CSV record's line (the header is line 1; a quoted
/// cell over two lines moves the records after it), an NDJSON line (blank lines counted), a
/// JSON array element's index.
#[actix_web::test]
async fn rows_are_numbered_as_the_file_shows_them() {
    let app = spawn_app().await;
    let (_, _, v1, _) = seed_a_town(&app).await;
    let csv = format!(
        "subject_id,item_code,rule_code,quantity,occurred_on,note\n\
         {v1},1.1,L1,1,2023-02-01,\"two\nlines\"\n\
         {v1},1.1,L9,1,2023-02-01,\n"
    );
    let reply = app.upload("/api/v1/incidents:bulk?dry_run=true", CSV, csv, None).await;
    assert_eq!(
        reply.row_errors(),
        [(4, "rule_code".to_owned(), "incident.rule_unknown".to_owned())]
    );

    let bad = "{\"subject_id\":\"V\",\"item_code\":\"1.1\",\"rule_code\":\"L9\",\"quantity\":1,\"occurred_on\":\"2023-02-01\"}"
        .replace('V', &v1);
    let ndjson = format!(
        "{}\n{}\n\n{bad}\n",
        ndjson_row(&v1, 1).trim_end(),
        ndjson_row(&v1, 2).trim_end()
    );
    let reply = app
        .upload("/api/v1/incidents:bulk?dry_run=true", NDJSON, ndjson, None)
        .await;
    assert_eq!(
        reply.row_errors(),
        [(4, "rule_code".to_owned(), "incident.rule_unknown".to_owned())]
    );
    assert_eq!(reply.body["status"], 422);

    let good: serde_json::Value = serde_json::from_str(ndjson_row(&v1, 1).trim_end()).unwrap();
    let bad: serde_json::Value = serde_json::from_str(&bad).unwrap();
    let reply = app
        .upload_json("/api/v1/incidents:bulk?dry_run=true", &json!([good, bad]), None)
        .await;
    assert_eq!(
        reply.row_errors(),
        [(1, "rule_code".to_owned(), "incident.rule_unknown".to_owned())]
    );
    assert_eq!(app.count("incidents").await, 0);
}
