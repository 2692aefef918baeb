//! Issue 16: bulk uploads as background jobs (`Prefer: respond-async`): 202 with a job, its
//! progress before it ends (polled and as server-sent events), and the synchronous answer at
//! its end.

use serde_json::Value;

use crate::helpers::{find_by, seed_a_scheme, seed_a_town, spawn_app, TestApp, NDJSON};

/// `rows` findings about `village`: a missing document (2.1) on a day of 2023 each.
fn findings(village: &str, rows: usize) -> String {
    (0..rows)
        .map(|i| {
            let (month, day) = (i % 12 + 1, i % 28 + 1);
            format!(
                "{{\"subject_id\":\"{village}\",\"item_code\":\"2.1\",\"rule_code\":\"missing_doc\",\"occurred_on\":\"2023-{month:02}-{day:02}\"}}\n"
            )
        })
        .collect()
}

const ASYNC: (&str, &str) = ("prefer", "respond-async");

async fn start(app: &TestApp, body: String, extra: &[(&str, &str)]) -> Value {
    let mut headers = vec![("content-type", NDJSON), ASYNC];
    headers.extend_from_slice(extra);
    let accepted = app
        .post_with("/api/v1/incidents:bulk", &headers, body.into_bytes())
        .await;
    accepted.assert(202);
    assert_eq!(accepted.header("preference-applied").as_deref(), Some("respond-async"));
    let location = accepted.header("location").expect("a Location");
    assert_eq!(
        location,
        format!("/api/v1/jobs/{}", accepted.body["id"].as_str().unwrap())
    );
    assert_eq!(accepted.body["operation"], "bulkCreateIncidents");
    accepted.body
}

/// The events of a job's stream, followed to its end: (event, data).
async fn follow(app: &TestApp, job: &Value) -> Vec<(String, Value)> {
    let stream = app.get(job["events"].as_str().unwrap(), &app.admin).await;
    stream.assert(200);
    assert!(stream.header("content-type").unwrap().starts_with("text/event-stream"));
    let text = String::from_utf8(stream.bytes).unwrap();
    text.split("\n\n")
        .filter_map(|block| {
            let event = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((event.to_owned(), serde_json::from_str(data).unwrap()))
        })
        .collect()
}

#[actix_web::test]
async fn a_job_reports_progress_before_it_ends_and_ends_with_the_synchronous_answer() {
    let app = spawn_app().await;
    let (_, scheme, v1, v2) = seed_a_town(&app).await;
    let rows = 20_000;
    let scrape = || async { String::from_utf8(app.send("GET", "/metrics", None, &[], None).await.bytes).unwrap() };
    let before = scrape().await;
    let job = start(&app, findings(&v1, rows), &[]).await;
    assert_eq!(job["status"], "running");

    let events = follow(&app, &job).await;
    let (last, done) = events.last().expect("events");
    assert_eq!(last, "done");
    // Progress was shown while the upload ran: rows read but not all validated yet.
    let midway = events.iter().any(|(event, job)| {
        event == "progress"
            && job["status"] == "running"
            && job["rows_read"].as_i64().unwrap() > 0
            && job["rows_validated"].as_i64().unwrap() < rows as i64
    });
    assert!(midway, "no progress before the end: {events:?}");
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["rows_read"], rows);
    assert_eq!(done["rows_validated"], rows);
    assert_eq!(done["rows_written"], rows);
    assert_eq!(done["result"]["status"], 201);
    assert_eq!(done["result"]["body"]["created"], rows);
    // Polling says the same once it ended.
    let polled = app
        .get(&format!("/api/v1/jobs/{}", job["id"].as_str().unwrap()), &app.admin)
        .await;
    polled.assert(200);
    assert_eq!(polled.body["result"], done["result"]);
    // /metrics counted it (other tests' jobs may end meanwhile in this process: at least).
    let after = scrape().await;
    let grew = |series: &str| crate::results::series(&after, series) - crate::results::series(&before, series);
    assert!(
        grew(r#"kaohe_jobs_total{kind="upload",status="succeeded"}"#) >= 1.0,
        "{after}"
    );
    assert!(
        grew(r#"kaohe_job_rows_total{stage="written"}"#) >= rows as f64,
        "{after}"
    );
    assert!(after.contains(r#"kaohe_job_duration_seconds_count{kind="upload",status="succeeded"}"#));
    assert!(after.contains(r#"kaohe_jobs_running{kind="upload"}"#));

    // The same rows about the other village, synchronously: the same answer, the same scores.
    let sync = app
        .upload("/api/v1/incidents:bulk", NDJSON, findings(&v2, rows), None)
        .await;
    sync.assert(201);
    for field in ["rows", "created", "dry_run"] {
        assert_eq!(sync.body[field], done["result"]["body"][field], "{field}");
    }
    let results = app.get_ok(&format!("/api/v1/results?scheme_id={scheme}")).await;
    let score = |v: &str| find_by(&results.body["items"], "subject_id", v)["published_score"].clone();
    assert_eq!(score(&v1), score(&v2));
    app.assert_trail_covers_data().await;
}

#[actix_web::test]
async fn a_job_with_bad_rows_fails_with_every_problem_and_writes_nothing() {
    let app = spawn_app().await;
    let (_, _, v1, _) = seed_a_town(&app).await;
    let mut body = findings(&v1, 3000);
    for day in ["2024-01-03", "2022-12-31"] {
        body.push_str(&format!(
            "{{\"subject_id\":\"{v1}\",\"item_code\":\"2.1\",\"rule_code\":\"missing_doc\",\"occurred_on\":\"{day}\"}}\n"
        ));
    }
    let job = start(&app, body.clone(), &[]).await;
    let events = follow(&app, &job).await;
    let (_, done) = events.last().unwrap();
    assert_eq!(done["status"], "failed");
    assert_eq!(done["rows_written"], 0);
    assert_eq!(done["result"]["status"], 422);
    let sync = app.upload("/api/v1/incidents:bulk", NDJSON, body, None).await;
    sync.assert(422);
    assert_eq!(done["result"]["body"]["errors"], sync.body["errors"]);
    assert_eq!(done["result"]["body"]["code"], sync.body["code"]);
    assert_eq!(
        done["error_count"].as_u64().unwrap() as usize,
        sync.body["errors"].as_array().unwrap().len()
    );
    let rows: std::collections::BTreeSet<u64> = done["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["row"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, [3001, 3002].into());
    assert_eq!(app.count("incidents").await, 0);
}

#[actix_web::test]
async fn an_unreadable_body_is_refused_at_once_not_as_a_job() {
    let app = spawn_app().await;
    let (_, _, v1, _) = seed_a_town(&app).await;
    let mut body = findings(&v1, 10);
    body.push_str("{\"subject_id\": 7}\n");
    let headers = [("content-type", NDJSON), ASYNC];
    let refused = app
        .post_with("/api/v1/incidents:bulk", &headers, body.clone().into_bytes())
        .await;
    refused.assert(422);
    let sync = app.upload("/api/v1/incidents:bulk", NDJSON, body, None).await;
    assert_eq!(refused.body["errors"], sync.body["errors"]);
    assert_eq!(refused.body["errors"][0]["row"], 11);
    assert_eq!(app.count("jobs").await, 0);
    // A long-form scoresheet CSV is read as its item rows.
    let csv = "evaluation_id,subject_id,item_code,score\nnot-a-uuid,x,1.1,2\n";
    let refused = app
        .post_with(
            "/api/v1/scoresheets:bulk",
            &[("content-type", "text/csv"), ASYNC],
            csv.as_bytes().to_vec(),
        )
        .await;
    refused.assert(422);
    assert_eq!(refused.body["errors"][0]["row"], 2);
    // No rows at all: refused at once too.
    let empty = app
        .post_with(
            "/api/v1/ballots:bulk",
            &[("content-type", "text/csv"), ASYNC],
            b"{}".to_vec(),
        )
        .await;
    empty.assert_problem(422, "bulk.empty", None);
    assert_eq!(app.count("jobs").await, 0);
}

#[actix_web::test]
async fn a_job_is_seen_by_its_starter_and_the_county_admins_only_and_retries_find_it() {
    let app = spawn_app().await;
    let w = app.world().await;
    let scheme = seed_a_scheme(&app, &w.town_a).await;
    let _ = scheme;
    let key = ("idempotency-key", "job-retry-1");
    let body = findings(&w.village_a1, 10);
    let job = start(&app, body.clone(), &[key]).await;
    let id = job["id"].as_str().unwrap().to_owned();
    // A retry with the same key answers the same job, and starts no second one.
    let again = start(&app, body, &[key]).await;
    assert_eq!(again["id"], id);
    follow(&app, &job).await;
    assert_eq!(app.count("incidents").await, 10);
    assert_eq!(app.count("jobs").await, 1);

    let path = format!("/api/v1/jobs/{id}");
    for other in [
        &w.county_viewer,
        &w.county_assessor,
        &w.town_a_admin,
        &w.village_a1_viewer,
    ] {
        app.get(&path, other).await.assert_problem(404, "not_found", None);
        app.get(&format!("{path}/events"), other).await.assert(404);
    }
    // The starter's jobs: the town's assessor starts one of their own.
    let mine = app
        .send(
            "POST",
            "/api/v1/incidents:bulk",
            Some(&w.town_a_assessor),
            &[("content-type", NDJSON), ASYNC],
            Some(findings(&w.village_a1, 2).into_bytes()),
        )
        .await;
    mine.assert(202);
    let theirs = format!("/api/v1/jobs/{}", mine.body["id"].as_str().unwrap());
    app.get(&theirs, &w.town_a_assessor).await.assert(200);
    app.get(&theirs, &app.admin).await.assert(200);
    app.get(&theirs, &w.town_a_admin).await.assert(404);
    app.get(&format!("/api/v1/jobs/{}", uuid::Uuid::now_v7()), &app.admin)
        .await
        .assert(404);
}

#[actix_web::test]
async fn a_job_whose_instance_stopped_is_reported_interrupted() {
    let app = spawn_app().await;
    let county: uuid::Uuid = app.county_id.parse().unwrap();
    let me = app.get("/api/v1/users/me", &app.admin).await.id();
    let id = uuid::Uuid::now_v7();
    let db = app.state.store.db();
    kaohe::store::jobs::start(db, id, county, me.parse().unwrap(), "bulkCreateIncidents")
        .await
        .unwrap();
    // Nobody saved it for a minute, and no instance runs it.
    kaohe::store::jobs::save_progress(db, id, &Default::default())
        .await
        .unwrap();
    use sea_orm::{ConnectionTrait, Statement};
    let old = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => format!("UPDATE jobs SET updated_at = '{old}'::timestamptz WHERE id = '{id}'"),
        _ => format!(
            "UPDATE jobs SET updated_at = '{}' WHERE id = '{id}'",
            old.replace('T', " ")
        ),
    };
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    let job = app.get(&format!("/api/v1/jobs/{id}"), &app.admin).await;
    job.assert(200);
    assert_eq!(job.body["status"], "failed");
    assert_eq!(job.body["result"]["status"], 503);
    assert_eq!(job.body["result"]["body"]["code"], "job.interrupted");
    let events = follow(&app, &job.body).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "done");
}

#[actix_web::test]
async fn another_instance_follows_a_job_to_its_end() {
    let app = spawn_app().await;
    if app.state.store.backend() != sea_orm::DbBackend::Postgres {
        return; // one SQLite file is served by one instance
    }
    let other = app.second_instance().await;
    let (_, _, v1, _) = seed_a_town(&app).await;
    let job = start(&app, findings(&v1, 5000), &[]).await;
    let events = follow(&other, &job).await;
    let (last, done) = events.last().unwrap();
    assert_eq!(last, "done");
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["result"]["body"]["created"], 5000);
}

#[actix_web::test]
async fn an_export_sent_with_respond_async_is_a_job_whose_result_is_the_file() {
    let app = spawn_app().await;
    let (_, scheme, v1, _) = seed_a_town(&app).await;
    app.upload("/api/v1/incidents:bulk", NDJSON, findings(&v1, 50), None)
        .await
        .assert(201);
    for (path, media_type) in [
        (format!("/api/v1/results?scheme_id={scheme}&format=csv"), "text/csv"),
        (
            format!("/api/v1/rankings?scheme_id={scheme}"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ] {
        let accept = ("accept", media_type);
        let accepted = app.get_with(&path, &[accept, ASYNC]).await;
        accepted.assert(202);
        assert!(accepted.body["operation"].as_str().unwrap().starts_with("GET /api/v1/"));
        let events = follow(&app, &accepted.body).await;
        let (_, done) = events.last().unwrap();
        assert_eq!(done["status"], "succeeded", "{done}");
        assert_eq!(done["result"]["status"], 200);
        assert!(done["result"]["content_type"].as_str().unwrap().starts_with(media_type));
        let file = app.get(done["result"]["download"].as_str().unwrap(), &app.admin).await;
        file.assert(200);
        assert!(file.header("content-type").unwrap().starts_with(media_type));
        let sync = app.get_with(&path, &[accept]).await;
        sync.assert(200);
        if media_type == "text/csv" {
            assert_eq!(file.bytes, sync.bytes, "the job's file is the synchronous export");
        } else {
            assert_eq!(&file.bytes[..2], b"PK", "an .xlsx (zip) file");
        }
    }
    // An export the caller may not see fails as it would synchronously, and the job says so.
    let other = app.get("/api/v1/users/me", &app.admin).await;
    other.assert(200);
    let missing = format!("/api/v1/rankings?scheme_id={}&format=csv", uuid::Uuid::now_v7());
    let accepted = app.get_with(&missing, &[ASYNC]).await;
    accepted.assert(202);
    let events = follow(&app, &accepted.body).await;
    let (_, done) = events.last().unwrap();
    assert_eq!(done["status"], "failed");
    assert_eq!(done["result"]["status"], 404);
    assert_eq!(done["result"]["body"]["code"], "not_found");
    // Without the preference nothing changes; a JSON read ignores it.
    let json = app
        .get_with(&format!("/api/v1/rankings?scheme_id={scheme}"), &[ASYNC])
        .await;
    json.assert(200);
}

#[actix_web::test]
async fn a_running_job_has_no_result_yet() {
    let app = spawn_app().await;
    let (_, _, v1, _) = seed_a_town(&app).await;
    let job = start(&app, findings(&v1, 20_000), &[]).await;
    let early = app
        .get(
            &format!("/api/v1/jobs/{}/result", job["id"].as_str().unwrap()),
            &app.admin,
        )
        .await;
    early.assert_problem(409, "job.running", None);
    let events = follow(&app, &job).await;
    let (_, done) = events.last().unwrap();
    let answer = app.get(done["result"]["download"].as_str().unwrap(), &app.admin).await;
    answer.assert(201);
    assert_eq!(answer.body["created"], 20_000);
}
