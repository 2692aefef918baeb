//! Issue 17 §1: a publication that is not public, read below the county, is a filtered view —
//! the rows of the reader's scope, in JSON, CSV, NDJSON and xlsx alike, or 404 when it holds none
//! of them; a public one (公示) shows every row to everyone. Its `content_hash` stays the hash of
//! the frozen whole; each view has its own `ETag`.

use std::collections::BTreeSet;
use std::io::Read;

use serde_json::json;

use crate::data::{id_of, individual, instantiate, stationed};
use crate::helpers::{spawn_app, Reply, TestApp};

/// The export formats of a publication.
pub const FORMATS: [&str; 4] = ["json", "csv", "ndjson", "xlsx"];

/// The subject ids of a publication answer's results (JSON only).
pub fn result_ids(reply: &Reply) -> BTreeSet<String> {
    reply.body["content"]["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {}", reply.body))
        .iter()
        .map(|r| r["subject_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The text of every file of an xlsx (a zip) answer.
fn xlsx_text(bytes: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an xlsx is a zip");
    let mut text = String::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        file.read_to_string(&mut text).unwrap();
    }
    text
}

/// The subject ids of a publication answer's ranking rows, in its format. An xlsx keeps its
/// cells in shared strings, so there the ids of `candidates` found in the workbook are answered.
pub fn ranked_ids(reply: &Reply, format: &str, candidates: &[String]) -> BTreeSet<String> {
    match format {
        "json" => reply.body["content"]["rankings"]
            .as_array()
            .unwrap_or_else(|| panic!("no rankings in {}", reply.body))
            .iter()
            .flat_map(|g| g["entries"].as_array().cloned().unwrap_or_default())
            .map(|e| e["subject_id"].as_str().unwrap().to_owned())
            .collect(),
        "csv" => {
            let body = reply.bytes.strip_prefix(b"\xEF\xBB\xBF").expect("CSV with a BOM");
            let mut reader = csv::Reader::from_reader(body);
            let column = reader
                .headers()
                .unwrap()
                .iter()
                .position(|h| h == "subject_id")
                .expect("a subject_id column");
            reader.records().map(|r| r.unwrap()[column].to_owned()).collect()
        }
        "ndjson" => reply
            .ndjson_rows()
            .iter()
            .map(|row| row["subject_id"].as_str().unwrap().to_owned())
            .collect(),
        "xlsx" => {
            let text = xlsx_text(&reply.bytes);
            candidates
                .iter()
                .filter(|id| text.contains(id.as_str()))
                .cloned()
                .collect()
        }
        other => panic!("no format {other}"),
    }
}

async fn read(app: &TestApp, token: Option<&str>, id: &str, format: &str, etag: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = etag.map(|e| vec![("if-none-match", e)]).unwrap_or_default();
    app.send(
        "GET",
        &format!("/api/v1/publications/{id}?format={format}"),
        token,
        &headers,
        None,
    )
    .await
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).clone()).collect()
}

#[actix_web::test]
async fn below_the_county_a_private_publication_shows_the_readers_scope_in_every_format() {
    let app = spawn_app().await;
    let w = app.world().await;
    let town_b_viewer = app.user("town-b-viewer", &w.town_b, "viewer").await;
    let scheme = id_of(&instantiate(&app, "county-poverty", None).await);
    let sec_a = stationed(&app, &w, "first_secretary", "李明", &w.village_a1).await;
    let team_a2 = stationed(&app, &w, "work_team", "大路村工作队", &w.village_a2).await;
    let sec_b = stationed(&app, &w, "first_secretary", "王强", &w.village_b1).await;
    let tech = individual(&app, "agri_tech", "赵农", None, None).await;
    let everyone = [&w.town_a, &w.town_b, &w.department, &sec_a, &team_a2, &sec_b, &tech];
    let candidates: Vec<String> = everyone.iter().map(|s| (*s).clone()).collect();

    let private = app.create("/api/v1/publications", &json!({"scheme_id": scheme})).await;
    let private_id = private.id();
    let whole_hash = private.body["content_hash"].as_str().unwrap().to_owned();

    // The county reads the whole: every row, the content hash's own ETag.
    let whole = read(&app, Some(&w.county_viewer), &private_id, "json", None).await;
    whole.assert(200);
    assert_eq!(result_ids(&whole), set(&everyone));
    assert_eq!(whole.body["filtered"], false);
    let whole_etag = whole.header("etag").unwrap();
    assert_eq!(whole_etag, format!("\"{whole_hash}-json\""));
    let ranked_whole = ranked_ids(&whole, "json", &candidates);
    // Townships, departments and (Seed B ranks them too) first secretaries.
    assert_eq!(
        ranked_whole,
        set(&[&w.town_a, &w.town_b, &w.department, &sec_a, &sec_b])
    );

    // Below the county: exactly the rows of the reader's scope, in every format.
    let town_a_rows = set(&[&w.town_a, &sec_a, &team_a2]);
    let town_b_rows = set(&[&w.town_b, &sec_b]);
    let cases = [
        ("town A admin", &w.town_a_admin, &town_a_rows),
        ("town A assessor", &w.town_a_assessor, &town_a_rows),
        ("town A viewer", &w.town_a_viewer, &town_a_rows),
        ("town B assessor", &w.town_b_assessor, &town_b_rows),
        ("town B viewer", &town_b_viewer, &town_b_rows),
        ("village A1 viewer", &w.village_a1_viewer, &set(&[&sec_a])),
    ];
    let mut etags = BTreeSet::from([whole_etag.clone()]);
    for (who, token, rows) in cases {
        let ranked: BTreeSet<String> = ranked_whole.intersection(rows).cloned().collect();
        for format in FORMATS {
            let reply = read(&app, Some(token.as_str()), &private_id, format, None).await;
            assert_eq!(reply.status.as_u16(), 200, "{who} {format}: {}", reply.body);
            assert_eq!(ranked_ids(&reply, format, &candidates), ranked, "{who} {format}");
            if format == "json" {
                assert_eq!(&result_ids(&reply), rows, "{who}");
                assert_eq!(reply.body["filtered"], true, "{who}");
                assert_eq!(
                    reply.body["content_hash"],
                    json!(whole_hash),
                    "{who}: the hash is the whole's"
                );
            }
            let etag = reply.header("etag").unwrap();
            assert!(etag.starts_with(&format!("\"{whole_hash}-{format}-")), "{who}: {etag}");
            // The view's own ETag answers 304; another view's does not.
            let again = read(&app, Some(token.as_str()), &private_id, format, Some(&etag)).await;
            assert_eq!(again.status.as_u16(), 304, "{who} {format}");
            let other = format!("\"{whole_hash}-{format}\"");
            read(&app, Some(token.as_str()), &private_id, format, Some(&other))
                .await
                .assert(200);
            etags.insert(etag);
        }
    }
    // One ETag per (view, format): the whole's, town A's, town B's and A1's.
    assert_eq!(etags.len(), 1 + 3 * FORMATS.len(), "{etags:?}");

    // A publication holding none of the reader's rows is, for them, not there.
    let departments = app
        .create(
            "/api/v1/publications",
            &json!({"scheme_id": scheme, "subject_type": "department"}),
        )
        .await;
    for token in [&w.town_a_viewer, &w.town_a_admin, &w.village_a1_viewer] {
        for format in FORMATS {
            read(&app, Some(token.as_str()), &departments.id(), format, None)
                .await
                .assert_problem(404, "not_found", None);
        }
    }
    read(&app, Some(&w.county_viewer), &departments.id(), "csv", None)
        .await
        .assert(200);

    // A public one (公示) shows every row to everyone, also without a token.
    let public = app
        .create("/api/v1/publications", &json!({"scheme_id": scheme, "public": true}))
        .await;
    for token in [Some(w.village_a1_viewer.as_str()), Some(w.town_a_viewer.as_str()), None] {
        for format in FORMATS {
            let reply = read(&app, token, &public.id(), format, None).await;
            reply.assert(200);
            assert_eq!(ranked_ids(&reply, format, &candidates), ranked_whole, "{format}");
            if format == "json" {
                assert_eq!(result_ids(&reply), set(&everyone));
                assert_eq!(reply.body["filtered"], false);
            }
        }
    }
}

#[actix_web::test]
async fn a_publication_records_the_chain_head_it_was_made_at() {
    let app = spawn_app().await;
    let scheme = id_of(&instantiate(&app, "county-poverty", None).await);
    for _ in 0..2 {
        let published = app.create("/api/v1/publications", &json!({"scheme_id": scheme})).await;
        let (seq, hash) = (&published.body["chain_seq"], &published.body["chain_hash"]);
        assert!(seq.as_i64().is_some_and(|s| s > 0), "{}", published.body);
        assert_eq!(hash.as_str().map(str::len), Some(64), "{}", published.body);
        // Its own event follows that head directly, and the read shows the same head.
        let events = crate::data::audit(&app, "publication", &published.id()).await;
        assert_eq!(events[0]["seq"].as_i64(), seq.as_i64().map(|s| s + 1));
        assert_eq!(&events[0]["prev_hash"], hash);
        assert_eq!(&events[0]["after"]["chain_seq"], seq);
        let read = app
            .get(&format!("/api/v1/publications/{}", published.id()), &app.admin)
            .await;
        assert_eq!(&read.assert(200).body["chain_hash"], hash);
    }
}
