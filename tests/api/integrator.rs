//! Issue 12, "what an integrator trips over": bulk uploads answer their ids in row order and say
//! what they counted; lists come in their documented order on every database; a results list
//! says why a row has no score and can leave such rows out; Seed B's two democratic evaluations
//! are told apart; subject uploads refer to their own rows; attributes go up in bulk.

use serde_json::{json, Value};

use crate::data::{evaluation, id_of, individual, instantiate, scores, sheet, SECRETARY_ITEMS, TOWNSHIP_ITEMS};
use crate::helpers::{find_by, spawn_app, strings, TestApp, CSV, JSON, NDJSON};

fn keys(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|e| e["key"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn finding_uploads_answer_their_ids_in_row_order_and_dry_runs_none() {
    let app = spawn_app().await;
    let town = app.org_unit("township", "童市镇", None).await;
    let village = app.org_unit("village", "童市村", Some(&town)).await;
    instantiate(&app, "tongshi-2023-village", Some(&town)).await;
    let rows: String = (1..=5)
        .map(|i| {
            format!(
                "{{\"subject_id\":\"{village}\",\"item_code\":\"1.1\",\"rule_code\":\"L3\",\"occurred_on\":\"2023-0{i}-15\",\"note\":\"第{i}行\"}}\n"
            )
        })
        .collect();
    let dry = app
        .upload("/api/v1/incidents:bulk?dry_run=true", NDJSON, rows.clone(), None)
        .await;
    dry.assert(200);
    assert!(dry.body.get("ids").is_none(), "a dry run writes nothing: {}", dry.body);
    let reply = app.upload("/api/v1/incidents:bulk", NDJSON, rows, None).await;
    reply.assert(201);
    let ids = reply.created_ids();
    assert_eq!(ids.len(), 5);
    for (i, id) in ids.iter().enumerate() {
        let finding = app.get_ok(&format!("/api/v1/incidents/{id}")).await;
        assert_eq!(finding.body["note"], format!("第{}行", i + 1));
    }
    // A retry with the same key replays the same ids.
    let csv = format!(
        "subject_id,item_code,rule_code,occurred_on,note\n{village},1.3,error,2023-07-01,甲\n{village},1.3,error,2023-07-02,乙\n"
    );
    let first = app.upload("/api/v1/incidents:bulk", CSV, csv.clone(), Some("k1")).await;
    first.assert(201);
    let again = app.upload("/api/v1/incidents:bulk", CSV, csv, Some("k1")).await;
    assert_eq!(again.created_ids(), first.created_ids());
    let second = app
        .get(&format!("/api/v1/incidents/{}", first.created_ids()[1]), &app.admin)
        .await;
    assert_eq!(second.body["note"], "乙");
}

/// A county on Seed B with a department, a village and a first secretary; returns (scheme,
/// secretary).
async fn seed_b(app: &TestApp) -> (String, String) {
    let department = app.org_unit("department", "县农业农村局", None).await;
    let town = app.org_unit("township", "南江镇", None).await;
    let village = app.org_unit("village", "南江村", Some(&town)).await;
    let secretary = individual(app, "first_secretary", "李明", Some(&department), Some(&village)).await;
    let scheme = id_of(&instantiate(app, "county-poverty", None).await);
    (scheme, secretary)
}

#[actix_web::test]
async fn scoresheet_and_ballot_uploads_answer_ids_and_count_rows_and_sheets() {
    let app = spawn_app().await;
    let (scheme, secretary) = seed_b(&app).await;
    let half = evaluation(&app, &scheme, "half_year").await;
    let mut csv = String::from("evaluation_id,subject_id,assessor,item_code,score\n");
    for assessor in ["一组", "二组", "三组"] {
        for (item, max) in SECRETARY_ITEMS {
            csv.push_str(&format!("{half},{secretary},{assessor},{item},{max}\n"));
        }
    }
    let dry = app
        .upload("/api/v1/scoresheets:bulk?dry_run=true", CSV, csv.clone(), None)
        .await;
    dry.assert(200);
    assert_eq!(dry.body["rows"], 21, "data rows read");
    assert_eq!(dry.body["sheets"], 3, "sheets those rows make");
    assert!(dry.body.get("ids").is_none());
    let reply = app.upload("/api/v1/scoresheets:bulk", CSV, csv, None).await;
    reply.assert(201);
    assert_eq!(reply.body["rows"], 21);
    assert_eq!(reply.body["sheets"], 3);
    assert_eq!(reply.body["created"], 3);
    let ids = reply.created_ids();
    let listed = app
        .get(
            &format!(
                "/api/v1/scoresheets?upload_id={}",
                reply.body["upload_id"].as_str().unwrap()
            ),
            &app.admin,
        )
        .await;
    let assessor_of = |id: &str| listed.item_where("id", id)["assessor"].as_str().unwrap().to_owned();
    let assessors: Vec<String> = ids.iter().map(|id| assessor_of(id)).collect();
    assert_eq!(assessors, ["一组", "二组", "三组"]);
    // JSON sheets: one row, one sheet.
    let year_end = evaluation(&app, &scheme, "year_end").await;
    let body = json!([{"evaluation_id": year_end, "subject_id": secretary, "scores": scores(SECRETARY_ITEMS, 9000)}]);
    let reply = app.upload_json("/api/v1/scoresheets:bulk", &body, None).await;
    reply.assert(201);
    assert_eq!(
        (reply.body["rows"].clone(), reply.body["sheets"].clone()),
        (json!(1), json!(1))
    );

    // Ballots: ids in row order, and each ballot names its meeting.
    let democratic = evaluation(&app, &scheme, "democratic_year_end").await;
    let ballots: Vec<Value> = (0..4)
        .map(|i| json!({"evaluation_id": democratic, "subject_id": secretary, "score": format!("9{i}"), "participant": format!("代表{i}")}))
        .collect();
    let reply = app.upload_json("/api/v1/ballots:bulk", &ballots, None).await;
    reply.assert(201);
    assert!(reply.body.get("sheets").is_none());
    let ids = reply.created_ids();
    let listed = app
        .get(&format!("/api/v1/ballots?evaluation_id={democratic}"), &app.admin)
        .await;
    for (i, id) in ids.iter().enumerate() {
        let b = find_by(&listed.body["items"], "id", id);
        assert_eq!(b["participant"], format!("代表{i}"));
        assert_eq!(b["evaluation_key"], "democratic_year_end");
        assert_eq!(b["evaluation_title"], "年终民主测评");
    }
}

#[actix_web::test]
async fn seed_b_democratic_evaluations_have_their_meetings_windows_and_ballots_say_which() {
    let app = spawn_app().await;
    let (scheme, secretary) = seed_b(&app).await;
    let list = app
        .get(
            &format!("/api/v1/evaluations?scheme_id={scheme}&kind=democratic"),
            &app.admin,
        )
        .await;
    let window = |key: &str| -> (Value, Value) {
        let e = find_by(&list.body["items"], "key", key);
        (e["window_from"].clone(), e["window_to"].clone())
    };
    assert_eq!(
        window("democratic_half_year"),
        (json!("2023-01-01"), json!("2023-06-30"))
    );
    assert_eq!(
        window("democratic_year_end"),
        (json!("2023-01-01"), json!("2023-12-31"))
    );
    let half = evaluation(&app, &scheme, "democratic_half_year").await;
    let reply = app
        .create(
            "/api/v1/ballots",
            &json!({"evaluation_id": half, "subject_id": secretary, "score": "88.5"}),
        )
        .await;
    assert_eq!(reply.body["evaluation_key"], "democratic_half_year");
    assert_eq!(reply.body["evaluation_title"], "半年民主测评");
}

#[actix_web::test]
async fn evaluations_in_results_follow_the_documented_order() {
    let app = spawn_app().await;
    let (scheme, secretary) = seed_b(&app).await;
    // Two more evaluations: one sorting by kind and key among the scheme's, one by window start.
    for (kind, key, from, to) in [
        ("half_year", "z_spring", "2023-02-01", "2023-06-30"),
        ("democratic", "a_extra", "2023-01-01", "2023-03-31"),
    ] {
        app.post_as_admin(
            "/api/v1/evaluations",
            &json!({"scheme_id": scheme, "kind": kind, "key": key, "title": key, "window_from": from, "window_to": to}),
        )
        .await
        .assert(201);
    }
    let half = evaluation(&app, &scheme, "half_year").await;
    sheet(&app, &app.admin, &half, &secretary, scores(SECRETARY_ITEMS, 8850)).await;
    // Window start, then kind (half-year, year-end, democratic, quarterly), then key.
    let expected = [
        "half_year",
        "year_end",
        "a_extra",
        "democratic_half_year",
        "democratic_year_end",
        "quarterly_q1",
        "z_spring",
        "quarterly_q2",
        "quarterly_q3",
        "quarterly_q4",
    ];
    let result = app
        .get_ok(&format!("/api/v1/subjects/{secretary}/result?scheme_id={scheme}"))
        .await;
    assert_eq!(keys(&result.body["result"]["evaluations"]), expected);
    let list = app
        .get_ok(&format!(
            "/api/v1/results?scheme_id={scheme}&subject_type=first_secretary"
        ))
        .await;
    assert_eq!(keys(&list.body["items"][0]["evaluations"]), expected);
}

#[actix_web::test]
async fn results_say_why_a_subject_has_no_score_and_scored_true_leaves_it_out() {
    let app = spawn_app().await;
    // A Seed A town is a township of the county too: Seed B lists it, with nothing recorded.
    let seed_a_town = app.org_unit("township", "童市镇", None).await;
    instantiate(&app, "tongshi-2023-village", Some(&seed_a_town)).await;
    let scored_town = app.org_unit("township", "南江镇", None).await;
    let scheme = id_of(&instantiate(&app, "county-poverty", None).await);
    let half = evaluation(&app, &scheme, "half_year").await;
    sheet(&app, &app.admin, &half, &scored_town, scores(TOWNSHIP_ITEMS, 8000)).await;

    let path = format!("/api/v1/results?scheme_id={scheme}&subject_type=township");
    let all = app.get_ok(&path).await;
    let row = |list: &Value, id: &str| -> Value {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["subject_id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let unscored = row(&all.body, &seed_a_town);
    assert_eq!(unscored["score"], Value::Null);
    assert_eq!(unscored["not_scored_reason"]["code"], "no_scored_components");
    let message = unscored["not_scored_reason"]["message"].as_str().unwrap();
    assert!(message.contains("no scoresheet in 半年考核, 年终考评"), "{message}");
    assert!(message.contains("first_secretary stationed_in"), "{message}");
    let scored = row(&all.body, &scored_town);
    assert_eq!(scored["published_score"], "80.00");
    assert!(scored.get("not_scored_reason").is_none(), "{scored}");

    let only_scored = app.get(&format!("{path}&scored=true"), &app.admin).await;
    let ids: Vec<&str> = strings(&only_scored.body["items"], "subject_id");
    assert_eq!(ids, [scored_town.as_str()]);
    let only_unscored = app.get(&format!("{path}&scored=false"), &app.admin).await;
    assert_eq!(only_unscored.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(only_unscored.body["items"][0]["subject_id"], seed_a_town.as_str());

    // One evaluation's view names what that evaluation lacks.
    let year_end = app.get_ok(&format!("{path}&kind=year_end")).await;
    let reason = &row(&year_end.body, &scored_town)["not_scored_reason"];
    assert_eq!(reason["code"], "no_scoresheets");
    assert!(reason["message"].as_str().unwrap().contains("年终考评"));
    app.get(&format!("{path}&scored=maybe"), &app.admin).await.assert(400);
}

#[actix_web::test]
async fn subject_uploads_refer_to_their_own_rows_in_any_order() {
    let app = spawn_app().await;
    let town = app.org_unit("township", "童市镇", None).await;
    // The secretary comes first, naming the village and department rows below it.
    let body = json!([
        {"ref": "sec", "subject_type": "first_secretary", "name": "李明", "dispatched_by_ref": "dept", "stationed_in_ref": "v1"},
        {"ref": "v1", "subject_type": "village", "name": "童市村", "parent_id": town},
        {"ref": "dept", "subject_type": "department", "name": "县农业农村局"},
        {"subject_type": "work_team", "name": "童市村驻村工作队", "dispatched_by_ref": "dept", "stationed_in_ref": "v1"}
    ]);
    let dry = app.upload_json("/api/v1/subjects:bulk?dry_run=true", &body, None).await;
    dry.assert(200);
    assert_eq!(app.count("subjects").await, 1, "a dry run writes nothing");
    let reply = app.upload_json("/api/v1/subjects:bulk", &body, None).await;
    reply.assert(201);
    let ids = reply.created_ids();
    assert_eq!(ids.len(), 4);
    let get = |id: String| {
        let app = &app;
        async move { app.get(&format!("/api/v1/subjects/{id}"), &app.admin).await.body }
    };
    let (secretary, village, department, team) = (
        get(ids[0].clone()).await,
        get(ids[1].clone()).await,
        get(ids[2].clone()).await,
        get(ids[3].clone()).await,
    );
    assert_eq!(secretary["name"], "李明");
    assert_eq!(village["subject_type"], "village");
    assert_eq!(village["township_id"], town.as_str());
    assert_eq!(department["subject_type"], "department");
    assert_eq!(secretary["stationed_in"], ids[1].as_str());
    assert_eq!(secretary["dispatched_by"], ids[2].as_str());
    assert_eq!(secretary["township_id"], town.as_str());
    assert_eq!(team["stationed_in"], ids[1].as_str());

    // A township and its village in CSV, the village first.
    let csv = "ref,subject_type,name,parent_ref\nv,village,新村,t\nt,township,新镇,\n";
    let reply = app
        .upload("/api/v1/subjects:bulk", CSV, csv.as_bytes().to_vec(), None)
        .await;
    reply.assert(201);
    let ids = reply.created_ids();
    let village = get(ids[0].clone()).await;
    assert_eq!(village["township_id"], ids[1].as_str());
}

#[actix_web::test]
async fn unknown_duplicate_and_cyclic_refs_are_named_and_write_nothing() {
    let app = spawn_app().await;
    let before = app.count("subjects").await;
    let audit_before = app.count("audit_events").await;
    let body = json!([
        {"ref": "a", "subject_type": "department", "name": "甲局"},
        {"ref": "a", "subject_type": "department", "name": "乙局"},
        {"subject_type": "first_secretary", "name": "王五", "stationed_in_ref": "nowhere"},
        {"subject_type": "department", "name": " "}
    ]);
    let reply = app.upload_json("/api/v1/subjects:bulk", &body, None).await;
    // A JSON array's rows by their index (`body[1]` is the second).
    reply.assert_row_errors(&[
        (1, "ref", "bulk.ref_duplicate"),
        (2, "stationed_in_ref", "bulk.ref_unknown"),
        // A bad row past the bad refs is reported in the same answer.
        (3, "name", "field.length"),
    ]);
    // Two villages each the other's parent: a cycle, named on both rows.
    let csv = "ref,subject_type,name,parent_ref\nx,village,甲村,y\ny,village,乙村,x\n";
    let reply = app
        .upload("/api/v1/subjects:bulk", CSV, csv.as_bytes().to_vec(), None)
        .await;
    reply.assert_problem(422, "bulk.ref_cycle", Some("parent_ref"));
    let rows: Vec<u64> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["row"].as_u64().unwrap())
        .collect();
    // CSV rows by their line: the header is line 1.
    assert_eq!(rows, [2, 3]);
    // A ref to a row that is not a village: the link's error names the ref field.
    let body = json!([
        {"ref": "d", "subject_type": "department", "name": "丙局"},
        {"subject_type": "agri_tech", "name": "赵六", "stationed_in_ref": "d"}
    ]);
    let reply = app.upload_json("/api/v1/subjects:bulk", &body, None).await;
    reply.assert_problem(422, "subject.link_wrong_kind", Some("stationed_in_ref"));
    assert_eq!(reply.body["errors"][0]["row"], 1);
    assert_eq!(app.count("subjects").await, before);
    assert_eq!(app.count("audit_events").await, audit_before);
}

#[actix_web::test]
async fn attribute_uploads_set_many_subjects_all_or_nothing() {
    let app = spawn_app().await;
    let w = app.world().await;
    let scheme = id_of(&instantiate(&app, "county-poverty", None).await);
    let second = app.org_unit("department", "县财政局", None).await;
    let csv = format!(
        "subject_id,scheme_id,has_special_indicators,ranking_group,annual_target_met\n\
         {},{scheme},false,经济类,\n\
         {second},{scheme},,经济类,false\n\
         {},{scheme},,,false\n",
        w.department, w.town_a
    );
    let dry = app
        .upload("/api/v1/attributes:bulk?dry_run=true", CSV, csv.clone(), None)
        .await;
    dry.assert(200);
    assert_eq!(dry.body["rows"], 3);
    let untouched = app
        .get(
            &format!("/api/v1/subjects/{}/attributes/{scheme}", w.department),
            &app.admin,
        )
        .await;
    assert_eq!(untouched.body["version"], 0, "a dry run writes nothing");
    let reply = app
        .upload("/api/v1/attributes:bulk", CSV, csv.clone(), Some("attrs-1"))
        .await;
    reply.assert(201);
    assert_eq!(
        reply.created_ids(),
        [w.department.clone(), second.clone(), w.town_a.clone()]
    );
    let read = |id: String| {
        let app = &app;
        let scheme = scheme.clone();
        async move {
            app.get(&format!("/api/v1/subjects/{id}/attributes/{scheme}"), &app.admin)
                .await
                .body
        }
    };
    let department = read(w.department.clone()).await;
    assert_eq!(department["has_special_indicators"], false);
    assert_eq!(department["ranking_group"], "经济类");
    assert_eq!(department["annual_target_met"], true, "an empty cell keeps the value");
    assert_eq!(read(second.clone()).await["annual_target_met"], false);
    assert_eq!(read(w.town_a.clone()).await["annual_target_met"], false);
    // The retry replays; each row is audited like the single write, and the upload once.
    let again = app.upload("/api/v1/attributes:bulk", CSV, csv, Some("attrs-1")).await;
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(read(second.clone()).await["version"], 1);
    let events = app
        .get("/api/v1/audit-events?entity=subject&limit=1000", &app.admin)
        .await;
    let actions: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.contains("attributes"))
        .collect();
    assert_eq!(actions.iter().filter(|a| **a == "set_attributes").count(), 3);
    assert_eq!(actions.iter().filter(|a| **a == "bulk_set_attributes").count(), 1);

    // Stale versions, an unknown subject and a row twice: every bad row named, nothing written.
    let body = format!(
        "{{\"subject_id\":\"{}\",\"scheme_id\":\"{scheme}\",\"recalled\":true}}\n\
         {{\"subject_id\":\"{second}\",\"scheme_id\":\"{scheme}\",\"annual_target_met\":true,\"version\":1}}\n\
         {{\"subject_id\":\"{scheme}\",\"scheme_id\":\"{scheme}\"}}\n\
         {{\"subject_id\":\"{second}\",\"scheme_id\":\"{scheme}\",\"version\":2}}\n",
        w.department
    );
    let reply = app.upload("/api/v1/attributes:bulk", NDJSON, body, None).await;
    reply.assert_row_errors(&[
        (1, "version", "precondition_required"),
        (3, "subject_id", "attributes.subject_unknown"),
        (4, "subject_id", "attributes.duplicate_in_upload"),
    ]);
    assert_eq!(
        read(second.clone()).await["annual_target_met"],
        false,
        "nothing written"
    );

    // A township assessor may not set attributes (403); another town's village is unknown (422).
    let recalled = |village: &str| json!([{"subject_id": village, "scheme_id": scheme, "recalled": false}]).to_string();
    for (token, village, status, code) in [
        (&w.town_a_assessor, &w.village_a1, 403, "auth.forbidden"),
        (&w.town_a_admin, &w.village_b1, 422, "attributes.subject_unknown"),
    ] {
        app.upload_as(token, "/api/v1/attributes:bulk", JSON, recalled(village))
            .await
            .assert_problem(status, code, Some("subject_id"));
    }
}
