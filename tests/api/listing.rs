//! Lists as CSV and NDJSON: every matching row in one answer (so a data platform need not page),
//! in the caller's scope, with the same rows and fields as the JSON pages.

use std::collections::BTreeSet;

use crate::data::instantiate;
use crate::helpers::{spawn_app, TestApp, CSV, NDJSON};

/// 1,203 findings on two villages of two towns, uploaded in one NDJSON body: more than one
/// internal batch of 1,000. Returns (town A assessor token, village in town A, village in town B).
async fn many_findings(app: &TestApp) -> (String, String, String) {
    let town_a = app.org_unit("township", "童市镇", None).await;
    let town_b = app.org_unit("township", "南江镇", None).await;
    let village_a = app.org_unit("village", "童市村", Some(&town_a)).await;
    let village_b = app.org_unit("village", "南江村", Some(&town_b)).await;
    for town in [&town_a, &town_b] {
        instantiate(app, "tongshi-2023-village", Some(town)).await;
    }
    let mut body = String::new();
    for i in 0..1203 {
        let village = if i % 3 == 0 { &village_b } else { &village_a };
        let day = i % 28 + 1;
        body.push_str(&format!(
            "{{\"subject_id\":\"{village}\",\"item_code\":\"1.1\",\"rule_code\":\"L3\",\"quantity\":{},\
             \"occurred_on\":\"2023-03-{day:02}\",\"note\":\"第{i}条, \\\"核查\\\"\"}}\n",
            i % 4 + 1
        ));
    }
    app.upload("/api/v1/incidents:bulk", NDJSON, body, None)
        .await
        .assert(201);
    (
        app.user("town-a-assessor", &town_a, "assessor").await,
        village_a,
        village_b,
    )
}

/// Every id the JSON pages list, following `next_cursor`.
async fn paged_ids(app: &TestApp, path: &str, token: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=500&cursor={c}"),
            None => format!("{path}?limit=500"),
        };
        let page = app.get(&url, token).await;
        page.assert(200);
        for item in page.body["items"].as_array().unwrap() {
            ids.insert(item["id"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
}

#[actix_web::test]
async fn findings_list_as_csv_and_ndjson_in_one_answer_with_the_pages_rows() {
    let app = spawn_app().await;
    let (town_a, _, village_b) = many_findings(&app).await;

    let csv = app.get_with("/api/v1/incidents", &[("accept", CSV)]).await;
    csv.assert(200);
    assert!(csv.content_type().starts_with("text/csv"), "{}", csv.content_type());
    assert!(csv.bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
    let mut reader = csv::Reader::from_reader(&csv.bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, note, quantity, kind) = (column("id"), column("note"), column("quantity"), column("kind"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1203, "every finding, past the first batch of 1,000");
    assert!(rows.iter().all(|r| &r[kind] == "deduction"));
    assert!(rows.iter().any(|r| &r[note] == "第7条, \"核查\""), "quoting survives");
    assert!(rows.iter().all(|r| ["1", "2", "3", "4"].contains(&&r[quantity])));
    let csv_ids: BTreeSet<String> = rows.iter().map(|r| r[id].to_owned()).collect();
    assert_eq!(csv_ids.len(), 1203, "no row twice");
    assert_eq!(csv_ids, paged_ids(&app, "/api/v1/incidents", &app.admin).await);

    // NDJSON keeps JSON types: numbers as numbers, nested lists as lists.
    let ndjson = app.get_with("/api/v1/incidents", &[("accept", NDJSON)]).await;
    ndjson.assert(200);
    assert!(ndjson.content_type().starts_with(NDJSON));
    let lines = ndjson.ndjson_rows();
    assert_eq!(lines.len(), 1203);
    assert!(lines.iter().all(|l| l["quantity"].is_u64() && l["evidence"].is_array()));
    let ndjson_ids: BTreeSet<String> = lines.iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ndjson_ids, csv_ids);

    // A town's assessor gets their town's rows only, and filters apply as to pages.
    let town = app
        .send("GET", "/api/v1/incidents", Some(&town_a), &[("accept", NDJSON)], None)
        .await;
    let town_lines = town.ndjson_rows();
    assert_eq!(town_lines.len(), 802);
    assert!(town_lines.iter().all(|l| l["subject_id"] != village_b.as_str()));
    let filtered = app
        .get_with(
            &format!("/api/v1/incidents?subject_id={village_b}"),
            &[("accept", NDJSON)],
        )
        .await;
    assert_eq!(std::str::from_utf8(&filtered.bytes).unwrap().lines().count(), 401);
}

#[actix_web::test]
async fn subjects_and_ballots_list_as_csv_and_an_empty_list_is_its_header() {
    let app = spawn_app().await;
    let town = app.org_unit("township", "童市镇", None).await;
    app.org_unit("village", "童市村", Some(&town)).await;
    let subjects = app.get_with("/api/v1/subjects", &[("accept", CSV)]).await;
    subjects.assert(200);
    let text = std::str::from_utf8(&subjects.bytes[3..]).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("id,"), "{header}");
    assert!(header.contains("subject_type"));
    assert_eq!(lines.filter(|l| l.contains("童市")).count(), 2, "{text}");

    let ballots = app.get_with("/api/v1/ballots", &[("accept", CSV)]).await;
    ballots.assert(200);
    let text = std::str::from_utf8(&ballots.bytes[3..]).unwrap();
    assert_eq!(text.lines().count(), 1, "only the header: {text}");
    assert!(text.starts_with("id,"));

    // A bad filter is still a problem, not a broken stream.
    app.get_with("/api/v1/incidents?subject_id=nope", &[("accept", CSV)])
        .await
        .assert_problem(400, "request.query_invalid", Some("subject_id"));
}
