//! Issue 14, evidence files (佐证材料, DOMAIN.md §6): uploads as a form or a raw body,
//! content-addressed; the size limit and the media types detected from the bytes; attach and
//! detach with the history; who reads a file; ETag, ranges and the Chinese file name of its
//! content; a result's explanation naming its findings' evidence; the S3 store.

use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::data::{file_appeal, id_of, instantiate, record};
use crate::helpers::{spawn_app, spawn_with, Reply, TestApp};

/// A PNG-looking file of `size` bytes (the signature, then bytes from `seed`).
fn png(size: usize, seed: u8) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let mut x = u32::from(seed) | 1;
    while bytes.len() < size {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.push(x as u8);
    }
    bytes.truncate(size);
    bytes
}

fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {text}\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n").into_bytes()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

const BOUNDARY: &str = "kaohe-test-boundary-7d2f";

/// A multipart form with one part `name` holding `bytes` as `filename`.
fn form(name: &str, filename: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn form_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Uploads a raw body as `token`, named `name`.
async fn upload_raw(app: &TestApp, token: &str, bytes: &[u8], name: Option<&str>) -> Reply {
    let path = match name {
        Some(name) => format!("/api/v1/evidence?file_name={}", encode(name)),
        None => "/api/v1/evidence".to_owned(),
    };
    app.send(
        "POST",
        &path,
        Some(token),
        &[("content-type", "application/octet-stream")],
        Some(bytes.to_vec()),
    )
    .await
}

async fn upload_form(app: &TestApp, token: &str, filename: &str, bytes: &[u8]) -> Reply {
    app.send(
        "POST",
        "/api/v1/evidence",
        Some(token),
        &[("content-type", &form_type())],
        Some(form("file", filename, bytes)),
    )
    .await
}

async fn attach(app: &TestApp, token: &str, evidence: &str, target: &str, target_id: &str) -> Reply {
    app.post(
        &format!("/api/v1/evidence/{evidence}/links"),
        token,
        &json!({"target": target, "target_id": target_id}),
    )
    .await
}

fn finding(subject: &str) -> Value {
    json!({"subject_id": subject, "item_code": "1.1", "rule_code": "L1", "quantity": 1, "occurred_on": "2023-03-01"})
}

/// `POST /api/v1/incidents:bulk` of a JSON array of findings.
async fn bulk_findings(app: &TestApp, token: &str, rows: &Value) -> Reply {
    let body = serde_json::to_vec(rows).unwrap();
    app.upload_as(token, "/api/v1/incidents:bulk", "application/json", body)
        .await
}

/// Each reader, by its token, reads every one of `paths` with its status.
async fn assert_reads(app: &TestApp, paths: &[&str], readers: &[(&str, &String, u16)]) {
    for (who, token, status) in readers {
        for path in paths {
            assert_eq!(app.get(path, token).await.status.as_u16(), *status, "{who}: {path}");
        }
    }
}

#[actix_web::test]
async fn uploads_as_a_form_or_a_raw_body_are_stored_once_by_their_hash() {
    let app = spawn_app().await;
    let photo = png(40_000, 1);
    let first = upload_raw(&app, &app.admin, &photo, Some("现场照片.png")).await;
    first.assert(201);
    let id = first.id();
    assert_eq!(first.body["sha256"], sha256(&photo));
    assert_eq!(first.body["size_bytes"], 40_000);
    assert_eq!(first.body["media_type"], "image/png");
    assert_eq!(first.body["file_name"], "现场照片.png");
    assert_eq!(first.body["links"], json!([]));
    assert_eq!(first.header("location").unwrap(), format!("/api/v1/evidence/{id}"));
    assert_eq!(first.header("etag").unwrap(), format!("\"{}\"", sha256(&photo)));

    // The same bytes again, raw or as a form, are the same file.
    let again = upload_raw(&app, &app.admin, &photo, None).await;
    again.assert(200);
    assert_eq!(again.id(), id);
    let as_form = upload_form(&app, &app.admin, "另一个名字.png", &photo).await;
    as_form.assert(200);
    assert_eq!(as_form.id(), id);
    assert_eq!(as_form.body["file_name"], "现场照片.png", "the first name stays");

    // A form names its file by its part.
    let report = pdf("整改报告");
    let scanned = upload_form(&app, &app.admin, "整改报告.pdf", &report).await;
    scanned.assert(201);
    assert_eq!(scanned.body["media_type"], "application/pdf");
    assert_eq!(scanned.body["file_name"], "整改报告.pdf");

    // Without a name, one is made from the hash.
    let unnamed = upload_raw(&app, &app.admin, &png(100, 9), None).await;
    unnamed.assert(201);
    assert!(
        unnamed.body["file_name"].as_str().unwrap().ends_with(".png"),
        "{}",
        unnamed.body
    );

    // Another uploader's copy is their own file; the bytes are still stored once.
    let w = app.world().await;
    let theirs = upload_raw(&app, &w.county_assessor, &photo, Some("照片.png")).await;
    theirs.assert(201);
    assert_ne!(theirs.id(), id);
    let objects = app.state.objects.list("sha256").await;
    assert_eq!(objects.len(), 3, "{objects:?}");
    assert!(app.state.objects.list("tmp").await.is_empty());

    // Idempotency-Key: a retry replays the first answer.
    let bytes = png(2_000, 7);
    let headers = [("content-type", "image/png"), ("idempotency-key", "evidence-retry-1")];
    let once = app.post_with("/api/v1/evidence", &headers, bytes.clone()).await;
    once.assert(201);
    let twice = app.post_with("/api/v1/evidence", &headers, bytes).await;
    twice.assert(201);
    assert_eq!(twice.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(twice.id(), once.id());
    let other = app.post_with("/api/v1/evidence", &headers, png(2_000, 8)).await;
    other.assert_problem(422, "idempotency.key_reused", Some("Idempotency-Key"));

    // The county's viewers attach nothing, so they upload nothing.
    upload_raw(&app, &w.county_viewer, &png(300, 3), None)
        .await
        .assert_problem(403, "auth.forbidden", None);
    app.assert_trail_covers_data().await;
}

#[actix_web::test]
async fn too_large_or_unrecognised_files_are_refused_and_leave_nothing() {
    let app = spawn_with(|s| s.evidence.max_bytes = 10_000).await;
    let big = png(10_001, 2);
    let refused = upload_raw(&app, &app.admin, &big, None).await;
    refused.assert_problem(413, "evidence.too_large", Some("file"));
    // A form's size is known only as it streams: refused midway.
    let refused = upload_form(&app, &app.admin, "大.png", &big).await;
    refused.assert_problem(413, "evidence.too_large", Some("file"));
    upload_raw(&app, &app.admin, &png(10_000, 2), None).await.assert(201);

    let text = upload_raw(&app, &app.admin, "只是一段文字".as_bytes(), None).await;
    text.assert_problem(415, "evidence.media_type_unknown", Some("file"));
    let zip = upload_raw(&app, &app.admin, b"PK\x03\x04\x14\0\0\0\x08\0 an archive", None).await;
    zip.assert_problem(415, "evidence.media_type_refused", Some("file"));
    assert!(zip.body["detail"].as_str().unwrap().contains("application/zip"));
    // The name does not decide the type.
    let named = upload_raw(&app, &app.admin, b"not really a picture", Some("photo.jpg")).await;
    named.assert_problem(415, "evidence.media_type_unknown", None);

    upload_raw(&app, &app.admin, b"", None)
        .await
        .assert_problem(422, "evidence.file_empty", Some("file"));
    let stray = app
        .post_with(
            "/api/v1/evidence",
            &[("content-type", &form_type())],
            form("photo", "a.png", &png(100, 1)),
        )
        .await;
    stray.assert_problem(422, "evidence.form_field_unknown", Some("photo"));
    upload_raw(&app, &app.admin, &png(100, 4), Some("a\u{7}b.png"))
        .await
        .assert_problem(422, "evidence.file_name_invalid", Some("file_name"));

    // Nothing refused left a row or an object behind.
    assert_eq!(app.count("evidence").await, 1);
    assert_eq!(app.state.objects.list("sha256").await.len(), 1);
    assert!(app.state.objects.list("tmp").await.is_empty());
}

#[actix_web::test]
async fn an_upload_cut_off_midway_leaves_no_row_and_no_object() {
    let app = spawn_app().await;
    let chunks: Vec<Result<actix_web::web::Bytes, std::io::Error>> = vec![
        Ok(actix_web::web::Bytes::from(png(300_000, 5))),
        Err(std::io::Error::other("the client went away")),
    ];
    let sent = app
        .client
        .post(app.url("/api/v1/evidence"))
        .insert_header(("authorization", format!("Bearer {}", app.admin)))
        .insert_header(("content-type", "image/png"))
        .send_stream(futures_util::stream::iter(chunks))
        .await;
    assert!(sent.is_err() || !sent.unwrap().status().is_success());
    for _ in 0..50 {
        if app.state.objects.list("tmp").await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(app.state.objects.list("tmp").await.is_empty());
    assert!(app.state.objects.list("sha256").await.is_empty());
    assert_eq!(app.count("evidence").await, 0);
}

#[actix_web::test]
async fn evidence_is_attached_and_detached_with_a_reason_and_the_history_stays() {
    let app = spawn_app().await;
    let w = app.world().await;
    instantiate(&app, "tongshi-2023-village", Some(&w.town_a)).await;
    // A village org unit is the village subject.
    let village = w.village_a1.clone();
    let found = id_of(&record(&app, &w.town_a_assessor, finding(&village)).await);
    let file = upload_raw(&app, &w.town_a_assessor, &png(5_000, 11), Some("台账.png"))
        .await
        .assert(201)
        .id();

    let link = attach(&app, &w.town_a_assessor, &file, "incident", &found).await;
    link.assert(201);
    let link_id = link.id();
    assert_eq!(link.body["active"], true);
    assert_eq!(link.body["subject_id"], village);
    attach(&app, &w.town_a_assessor, &file, "incident", &found)
        .await
        .assert_problem(409, "evidence.already_attached", None);

    // The village reads it now, through its finding.
    let read = app.get(&format!("/api/v1/evidence/{file}"), &w.village_a1_viewer).await;
    read.assert(200);
    assert_eq!(read.body["links"][0]["target_id"], found);

    let detach = format!("/api/v1/evidence/{file}/links/{link_id}/detach");
    app.post(&detach, &w.town_a_assessor, &json!({"reason": "  "}))
        .await
        .assert_problem(422, "evidence.reason_required", Some("reason"));
    app.post(&detach, &w.town_a_viewer, &json!({"reason": "上传错了"}))
        .await
        .assert_problem(403, "auth.forbidden", None);
    let detached = app
        .post(&detach, &w.town_a_assessor, &json!({"reason": "上传错了文件"}))
        .await;
    detached.assert(200);
    assert_eq!(detached.body["active"], false);
    assert_eq!(detached.body["detach_reason"], "上传错了文件");
    assert!(detached.body["detached_at"].is_string());
    app.post(&detach, &w.town_a_assessor, &json!({"reason": "再次"}))
        .await
        .assert_problem(409, "evidence.already_detached", None);

    // The history keeps the link; the trail has both changes.
    let history = app.get_ok(&format!("/api/v1/evidence-links?target_id={found}")).await;
    assert_eq!(history.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(history.body["items"][0]["detach_reason"], "上传错了文件");
    let active = app
        .get_ok(&format!("/api/v1/evidence-links?target_id={found}&active=true"))
        .await;
    assert_eq!(active.body["items"], json!([]));
    assert_eq!(
        crate::data::audit_actions(&app, "evidence_link", &link_id).await,
        ["attach", "detach"]
    );
    let uploaded = crate::data::audit(&app, "evidence", &file).await;
    assert_eq!(uploaded.len(), 1);

    // Detached, it is attached to nothing: its uploader and the county's admins read it.
    app.get(&format!("/api/v1/evidence/{file}"), &w.village_a1_viewer)
        .await
        .assert(404);
    app.get(&format!("/api/v1/evidence/{file}"), &w.town_a_assessor)
        .await
        .assert(200);
    app.get(&format!("/api/v1/evidence/{file}"), &w.county_viewer)
        .await
        .assert(404);
    let by_admin = app.get_ok(&format!("/api/v1/evidence/{file}")).await;
    assert_eq!(by_admin.body["links"][0]["active"], false);

    // Attached again, anew; and to an appeal by the village that files it.
    attach(&app, &w.town_a_assessor, &file, "incident", &found)
        .await
        .assert(201);
    let appeal = file_appeal(&app, &w.village_a1_viewer, &found, "已整改").await.id();
    let proof = upload_form(&app, &w.village_a1_viewer, "整改照片.png", &png(800, 12))
        .await
        .assert(201)
        .id();
    attach(&app, &w.village_a1_viewer, &proof, "appeal", &appeal)
        .await
        .assert(201);
    // The village may not attach to the finding itself: it records none.
    attach(&app, &w.village_a1_viewer, &proof, "incident", &found)
        .await
        .assert_problem(403, "auth.forbidden", None);
    attach(
        &app,
        &w.town_a_assessor,
        &file,
        "incident",
        &uuid::Uuid::now_v7().to_string(),
    )
    .await
    .assert_problem(422, "evidence.target_unknown", Some("target_id"));
    app.assert_trail_covers_data().await;

    // A detach reason rewritten in the database, past the trail, is what verification names.
    let db = app.state.store.db();
    let backend = db.get_database_backend();
    let placeholder = if backend == sea_orm::DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend,
        format!("UPDATE evidence_links SET detach_reason = '无' WHERE id = {placeholder}"),
        vec![uuid::Uuid::parse_str(&link_id).unwrap().into()],
    ))
    .await
    .unwrap();
    let report = kaohe::store::audit::verify(db).await.unwrap();
    assert!(
        report
            .broken
            .iter()
            .any(|b| b.reason.contains(&format!("evidence_link {link_id} differs"))),
        "{:?}",
        report.broken
    );
}

#[actix_web::test]
async fn a_file_is_read_by_exactly_those_who_read_what_it_is_attached_to() {
    let app = spawn_app().await;
    let w = app.world().await;
    instantiate(&app, "tongshi-2023-village", Some(&w.town_a)).await;
    instantiate(&app, "tongshi-2023-village", Some(&w.town_b)).await;
    let (a1, b1) = (w.village_a1.clone(), w.village_b1.clone());
    let file = upload_raw(&app, &w.town_a_assessor, &png(3_000, 21), Some("照片.png"))
        .await
        .assert(201)
        .id();
    // Named in the finding as it is recorded.
    let mut body = finding(&a1);
    body["evidence_ids"] = json!([file]);
    let found = id_of(&record(&app, &w.town_a_assessor, body).await);
    let links = app.get_ok(&format!("/api/v1/evidence-links?target_id={found}")).await;
    assert_eq!(links.body["items"][0]["evidence_id"], file);

    let path = format!("/api/v1/evidence/{file}");
    let content = format!("{path}/content");
    let readers = [
        ("its village", &w.village_a1_viewer, 200),
        ("its town's viewer", &w.town_a_viewer, 200),
        ("its town's admin", &w.town_a_admin, 200),
        ("the county's viewer", &w.county_viewer, 200),
        ("the county's assessor", &w.county_assessor, 200),
        ("the county's admin", &app.admin, 200),
        ("a sibling town", &w.town_b_assessor, 404),
    ];
    assert_reads(&app, &[&path, &content], &readers).await;
    // A sibling can neither attach it nor name it.
    let theirs = id_of(&record(&app, &w.town_b_assessor, finding(&b1)).await);
    attach(&app, &w.town_b_assessor, &file, "incident", &theirs)
        .await
        .assert(404);
    let mut body = finding(&b1);
    body["evidence_ids"] = json!([file]);
    app.post("/api/v1/incidents", &w.town_b_assessor, &body)
        .await
        .assert_problem(422, "evidence.unknown", Some("evidence_ids[0]"));

    // Unattached: its uploader and the county's admins only.
    let loose = upload_raw(&app, &w.town_a_assessor, &png(3_000, 22), None)
        .await
        .assert(201)
        .id();
    let path = format!("/api/v1/evidence/{loose}");
    let readers = [
        ("its uploader", &w.town_a_assessor, 200),
        ("the county's admin", &app.admin, 200),
        ("the county's viewer", &w.county_viewer, 404),
        ("its uploader's town viewer", &w.town_a_viewer, 404),
        ("a sibling", &w.town_b_assessor, 404),
    ];
    assert_reads(&app, &[&path], &readers).await;

    // In bulk: a row naming a file it may not read is refused by row and field.
    let rows = json!([
        {"subject_id": a1, "item_code": "1.1", "rule_code": "L1", "occurred_on": "2023-04-01", "evidence_ids": [loose]},
        {"subject_id": a1, "item_code": "1.1", "rule_code": "L1", "occurred_on": "2023-04-02", "evidence_ids": [uuid::Uuid::now_v7()]},
    ]);
    let refused = bulk_findings(&app, &w.town_a_assessor, &rows).await;
    // A JSON array's rows are numbered by their index.
    refused.assert_row_errors(&[(1, "evidence_ids[0]", "evidence.unknown")]);
    let rows = json!([
        {"subject_id": a1, "item_code": "1.1", "rule_code": "L1", "occurred_on": "2023-04-01", "evidence_ids": [loose]},
    ]);
    let stored = bulk_findings(&app, &w.town_a_assessor, &rows).await;
    stored.assert(201);
    let bulk_finding = stored.created_ids()[0].clone();
    let links = app
        .get_ok(&format!("/api/v1/evidence-links?target_id={bulk_finding}"))
        .await;
    assert_eq!(links.body["items"][0]["evidence_id"], loose);
    app.get(&path, &w.town_a_viewer).await.assert(200);
}

#[actix_web::test]
async fn content_answers_etag_ranges_and_the_chinese_file_name() {
    let app = spawn_app().await;
    let bytes = png(5_000, 31);
    let file = upload_raw(&app, &app.admin, &bytes, Some("村部 现场照片.png"))
        .await
        .assert(201)
        .id();
    let path = format!("/api/v1/evidence/{file}/content");
    let whole = app.get_ok(&path).await;
    assert_eq!(whole.bytes, bytes);
    assert_eq!(whole.content_type(), "image/png");
    let etag = format!("\"{}\"", sha256(&bytes));
    assert_eq!(whole.header("etag").unwrap(), etag);
    assert_eq!(whole.header("accept-ranges").unwrap(), "bytes");
    assert_eq!(whole.header("content-length").unwrap(), "5000");
    assert_eq!(
        whole.header("content-disposition").unwrap(),
        "attachment; filename=\"__ ____.png\"; filename*=UTF-8''%E6%9D%91%E9%83%A8%20%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.png"
    );
    assert_eq!(whole.header("x-content-type-options").unwrap(), "nosniff");

    let admin = app.admin.clone();
    let get = |headers: Vec<(&'static str, String)>| {
        let (app, path, admin) = (&app, path.clone(), admin.clone());
        async move {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            app.send("GET", &path, Some(&admin), &headers, None).await
        }
    };
    let cached = get(vec![("if-none-match", etag.clone())]).await;
    cached.assert(304);
    assert!(cached.bytes.is_empty());

    let first = get(vec![("range", "bytes=0-99".into())]).await;
    first.assert(206);
    assert_eq!(first.bytes, &bytes[..100]);
    assert_eq!(first.header("content-range").unwrap(), "bytes 0-99/5000");
    let tail = get(vec![("range", "bytes=-10".into())]).await;
    tail.assert(206);
    assert_eq!(tail.bytes, &bytes[4_990..]);
    let rest = get(vec![("range", "bytes=4000-".into())]).await;
    assert_eq!(rest.bytes, &bytes[4_000..]);
    assert_eq!(rest.header("content-range").unwrap(), "bytes 4000-4999/5000");
    let beyond = get(vec![("range", "bytes=5000-".into())]).await;
    beyond.assert_problem(416, "evidence.range_unsatisfiable", Some("Range"));
    assert_eq!(beyond.header("content-range").unwrap(), "bytes */5000");
    let stale = get(vec![("range", "bytes=0-9".into()), ("if-range", "\"other\"".into())]).await;
    stale.assert(200);
    assert_eq!(stale.bytes.len(), 5_000);
    let several = get(vec![("range", "bytes=0-9,20-29".into())]).await;
    several.assert(200);
}

#[actix_web::test]
async fn a_results_explanation_lists_each_findings_evidence() {
    let app = spawn_app().await;
    let w = app.world().await;
    let scheme = id_of(&instantiate(&app, "tongshi-2023-village", Some(&w.town_a)).await);
    let village = w.village_a1.clone();
    let photo = upload_raw(&app, &w.town_a_assessor, &png(1_000, 41), None)
        .await
        .assert(201)
        .id();
    let scan = upload_raw(&app, &w.town_a_assessor, &pdf("台账"), None)
        .await
        .assert(201)
        .id();
    let mut body = finding(&village);
    body["evidence_ids"] = json!([photo, scan]);
    let with = id_of(&record(&app, &w.town_a_assessor, body).await);
    let mut other = finding(&village);
    other["occurred_on"] = json!("2023-05-01");
    let without = id_of(&record(&app, &w.town_a_assessor, other).await);

    let result = app
        .get(
            &format!("/api/v1/subjects/{village}/result?scheme_id={scheme}"),
            &w.village_a1_viewer,
        )
        .await;
    result.assert(200);
    assert_eq!(
        result.body["evidence"],
        json!([{"finding_id": with, "evidence_ids": [photo, scan]}]),
        "{without} has none"
    );
}

/// Against a real S3-compatible server (`moto_server`, started by `.ci/run`), when
/// `KAOHE_TEST_S3_URL` names one.
#[actix_web::test]
async fn the_s3_store_keeps_streams_and_ranges_files() {
    let Ok(endpoint) = std::env::var("KAOHE_TEST_S3_URL") else {
        eprintln!("KAOHE_TEST_S3_URL is not set: the S3 test is skipped");
        return;
    };
    let bucket = format!("kaohe-test-{}", uuid::Uuid::now_v7().simple());
    let client = awc::Client::default();
    let made = client
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("the S3 server answers");
    assert!(made.status().is_success(), "create bucket: {}", made.status());
    let app = spawn_with(|s| {
        s.evidence.store = kaohe::config::EvidenceStoreKind::S3;
        s.evidence.s3_endpoint = Some(endpoint.clone());
        s.evidence.s3_bucket = Some(bucket.clone());
        s.evidence.s3_allow_http = true;
        s.evidence.s3_access_key_id = Some(kaohe::config::Secret::new("testing"));
        s.evidence.s3_secret_access_key = Some(kaohe::config::Secret::new("testing"));
        s.evidence.max_bytes = 12 * 1024 * 1024;
    })
    .await;
    // Larger than one part (5 MiB): a multipart upload.
    let bytes = png(11 * 1024 * 1024 + 17, 51);
    let first = upload_raw(&app, &app.admin, &bytes, Some("大文件.png")).await;
    first.assert(201);
    assert_eq!(first.body["sha256"], sha256(&bytes));
    let again = upload_form(&app, &app.admin, "大文件.png", &bytes).await;
    again.assert(200);
    assert_eq!(again.id(), first.id());
    let small = upload_raw(&app, &app.admin, &pdf("小"), None).await;
    small.assert(201);

    let path = format!("/api/v1/evidence/{}/content", first.id());
    let whole = app.get_ok(&path).await;
    assert_eq!(whole.bytes.len(), bytes.len());
    assert!(whole.bytes == bytes);
    let part = app.get_with(&path, &[("range", "bytes=6000000-6000099")]).await;
    part.assert(206);
    assert_eq!(part.bytes, &bytes[6_000_000..6_000_100]);

    let refused = upload_form(&app, &app.admin, "太大.png", &png(13 * 1024 * 1024, 52)).await;
    refused.assert_problem(413, "evidence.too_large", Some("file"));
    assert_eq!(app.state.objects.list("sha256").await.len(), 2);
    assert!(app.state.objects.list("tmp").await.is_empty());
    assert_eq!(app.count("evidence").await, 2);
}
