//! Issue 13 through the API: Seed B's consequences for individuals and their units (DOMAIN.md
//! §8.5) and quarterly assessments of first secretaries (§8.6).

use serde_json::{json, Value};

use crate::data::{
    ballot, evaluation, file_appeal, id_of, individual, instantiate, record, scores, sheet, stationed,
    DEPARTMENT_ITEMS, SECRETARY_ITEMS, WORK_TEAM_ITEMS,
};
use crate::helpers::{find_by, spawn_app, TestApp, CSV};

fn now() -> String {
    chrono::Utc::now().to_rfc3339().replace('+', "%2B")
}

/// The annual result of a subject (`result`), answered 200.
async fn result_of(app: &TestApp, subject: &str, scheme: &str, query: &str) -> Value {
    let reply = app
        .get_ok(&format!("/api/v1/subjects/{subject}/result?scheme_id={scheme}{query}"))
        .await;
    reply.body["result"].clone()
}

fn codes(result: &Value) -> Vec<String> {
    result["consequences"]
        .as_array()
        .unwrap_or_else(|| panic!("no consequences in {result}"))
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

/// The entry of `subject` in ranking `key` of a rankings answer.
fn entry<'a>(rankings: &'a Value, key: &str, subject: &str) -> &'a Value {
    rankings["rankings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["key"] == key)
        .flat_map(|r| r["entries"].as_array().unwrap())
        .find(|e| e["subject_id"] == json!(subject))
        .unwrap_or_else(|| panic!("{subject} not in {key}: {rankings}"))
}

async fn set_attributes(app: &TestApp, subject: &str, scheme: &str, body: Value) {
    app.put(
        &format!("/api/v1/subjects/{subject}/attributes/{scheme}"),
        &app.admin,
        &body,
    )
    .await
    .assert(200);
}

async fn both_sheets(app: &TestApp, scheme: &str, subject: &str, items: &[(&str, i64)], score: i64) {
    for key in ["half_year", "year_end"] {
        let id = evaluation(app, scheme, key).await;
        sheet(app, &app.admin, &id, subject, scores(items, score)).await;
    }
}

#[actix_web::test]
async fn a_recalled_reserve_cadre_faces_accountability_and_bars_the_head_of_the_unit_that_sent_it() {
    let app = spawn_app().await;
    let department = app.org_unit("department", "县农业农村局", None).await;
    let town = app.org_unit("township", "南江镇", None).await;
    let village = app.org_unit("village", "南江村", Some(&town)).await;
    let secretary = individual(&app, "first_secretary", "李明", Some(&department), Some(&village)).await;
    // Technicians may name the unit that sent them (§8.5).
    let technician = individual(&app, "agri_tech", "王农", Some(&department), Some(&village)).await;
    let scheme = id_of(&instantiate(&app, "county-poverty", None).await);
    both_sheets(&app, &scheme, &department, DEPARTMENT_ITEMS, 9000).await;
    both_sheets(&app, &scheme, &secretary, SECRETARY_ITEMS, 9500).await;
    for key in ["democratic_half_year", "democratic_year_end"] {
        let id = evaluation(&app, &scheme, key).await;
        ballot(&app, &app.admin, &id, &secretary, "95").await;
    }
    assert!(codes(&result_of(&app, &secretary, &scheme, "").await).is_empty());
    let before_recall = now();

    set_attributes(
        &app,
        &secretary,
        &scheme,
        json!({"recalled": true, "reserve_cadre": true, "version": 0}),
    )
    .await;
    let result = result_of(&app, &secretary, &scheme, "").await;
    assert_eq!(result["grade"]["grade"], "incompetent");
    assert_eq!(codes(&result), ["accountability", "reserve_status_revoked"]);
    assert_eq!(result["consequence_details"][0]["title"], "启动问责程序");
    assert_eq!(
        result["consequence_details"][1]["cause"],
        json!({"type": "attribute", "attributes": ["recalled", "reserve_cadre"]})
    );
    let unit = result_of(&app, &department, &scheme, "").await;
    assert_eq!(codes(&unit), ["head_barred_from_honours"]);
    assert_eq!(
        unit["consequence_details"][0]["cause"],
        json!({"type": "linked_subject", "subject_id": secretary, "name": "李明",
               "subject_type": "first_secretary", "attribute": "recalled"})
    );
    assert_eq!(unit["consequence_details"][0]["referred_to_supervisor"], false);
    // Rankings carry it; the unit keeps its prize (the head is barred, not the unit).
    let rankings = app.get_ok(&format!("/api/v1/rankings?scheme_id={scheme}")).await;
    let ranked = entry(&rankings.body, "departments", &department);
    assert_eq!(ranked["consequences"], json!(["head_barred_from_honours"]));
    assert_eq!(ranked["prize"]["key"], "first");
    assert_eq!(ranked["consequence_details"], unit["consequence_details"]);
    // Lists and exports show them too.
    let list = app
        .get(
            &format!("/api/v1/results?scheme_id={scheme}&subject_type=department"),
            &app.admin,
        )
        .await;
    assert_eq!(
        list.body["items"][0]["consequences"],
        json!(["head_barred_from_honours"])
    );
    let csv = app
        .get_ok(&format!(
            "/api/v1/rankings?scheme_id={scheme}&ranking=departments&format=csv"
        ))
        .await;
    let text = String::from_utf8_lossy(&csv.bytes).to_string();
    assert!(text.contains(",consequence_causes,referred_to_supervisor"), "{text}");
    assert!(text.contains("head_barred_from_honours: 派出的李明召回"), "{text}");

    // As of before the recall: nothing followed.
    let then = result_of(&app, &secretary, &scheme, &format!("&as_of={before_recall}")).await;
    assert!(codes(&then).is_empty(), "{then}");
    assert!(codes(&result_of(&app, &department, &scheme, &format!("&as_of={before_recall}")).await).is_empty());

    // The technician recalled too: a second cause for the same code.
    set_attributes(&app, &technician, &scheme, json!({"recalled": true, "version": 0})).await;
    let unit = result_of(&app, &department, &scheme, "").await;
    assert_eq!(codes(&unit), ["head_barred_from_honours"]);
    assert_eq!(unit["consequence_details"].as_array().unwrap().len(), 2);

    // The recall undone by a later attribute version: its consequences go.
    set_attributes(&app, &secretary, &scheme, json!({"recalled": false, "version": 1})).await;
    let result = result_of(&app, &secretary, &scheme, "").await;
    assert!(codes(&result).is_empty(), "{result}");
    let unit = result_of(&app, &department, &scheme, "").await;
    assert_eq!(unit["consequence_details"].as_array().unwrap().len(), 1);
    assert_eq!(unit["consequence_details"][0]["cause"]["subject_id"], json!(technician));

    // The attributes belong to their subject types; a refusal names the field, writes nothing.
    let events = app.count("audit_events").await;
    app.put(
        &format!("/api/v1/subjects/{town}/attributes/{scheme}"),
        &app.admin,
        &json!({"reserve_cadre": true, "version": 0}),
    )
    .await
    .assert_problem(422, "attributes.not_applicable", Some("reserve_cadre"));
    app.put(
        &format!("/api/v1/subjects/{secretary}/attributes/{scheme}"),
        &app.admin,
        &json!({"vertically_managed": true, "version": 2}),
    )
    .await
    .assert_problem(422, "attributes.not_applicable", Some("vertically_managed"));
    assert_eq!(app.count("audit_events").await, events);
    app.assert_trail_covers_data().await;
}

#[actix_web::test]
async fn a_work_teams_major_failure_removes_its_leader_until_the_finding_is_revoked_or_appealed() {
    let app = spawn_app().await;
    let w = app.world().await;
    let team = stationed(&app, &w, "work_team", "童市村驻村工作队", &w.village_a1).await;
    let scheme = id_of(&instantiate(&app, "county-poverty", None).await);
    both_sheets(&app, &scheme, &team, WORK_TEAM_ITEMS, 8800).await;
    let score_before = result_of(&app, &team, &scheme, "").await["annual"]["published_score"].clone();
    let before_finding = now();

    let failure = record(
        &app,
        &w.county_assessor,
        json!({"subject_id": team, "kind": "major_failure", "note": "驻村帮扶工作出现重大失误，群众反响恶劣",
               "occurred_on": "2023-09-08", "source": "higher_feedback"}),
    )
    .await;
    assert_eq!(failure["kind"], "major_failure");
    assert_eq!(failure["item_code"], Value::Null);
    let id = id_of(&failure);
    let result = result_of(&app, &team, &scheme, "").await;
    assert_eq!(codes(&result), ["leader_removed", "members_penalised"]);
    assert_eq!(
        result["consequence_details"][0]["cause"],
        json!({"type": "finding", "finding_id": id, "kind": "major_failure", "occurred_on": "2023-09-08",
               "reason": "驻村帮扶工作出现重大失误，群众反响恶劣"})
    );
    assert_eq!(result["consequence_details"][1]["title"], "对队员进行相应处罚");
    assert_eq!(result["annual"]["published_score"], score_before, "moves no points");
    let then = result_of(&app, &team, &scheme, &format!("&as_of={before_finding}")).await;
    assert!(codes(&then).is_empty(), "as of before the finding: {then}");
    let events = crate::data::audit(&app, "incident", &id).await;
    assert_eq!(events[0]["action"], "create");
    assert_eq!(events[0]["after"]["kind"], "major_failure");

    // Revoked: the consequence disappears.
    app.post(
        &format!("/api/v1/incidents/{id}/revoke"),
        &w.county_assessor,
        &json!({"reason": "经复核，不属重大失误"}),
    )
    .await
    .assert(200);
    assert!(codes(&result_of(&app, &team, &scheme, "").await).is_empty());

    // Appealed by the village where the team serves, and accepted: gone too.
    let second = id_of(
        &record(
            &app,
            &w.county_assessor,
            json!({"subject_id": team, "kind": "major_failure", "note": "重大失误", "occurred_on": "2023-10-08"}),
        )
        .await,
    );
    assert_eq!(
        codes(&result_of(&app, &team, &scheme, "").await),
        ["leader_removed", "members_penalised"]
    );
    let appeal = file_appeal(&app, &w.village_a1_viewer, &second, "失误系原单位造成，已整改").await;
    app.post(
        &format!("/api/v1/appeals/{}/decision", appeal.id()),
        &w.county_assessor,
        &json!({"decision": "accept", "note": "申诉成立"}),
    )
    .await
    .assert(200);
    assert!(codes(&result_of(&app, &team, &scheme, "").await).is_empty());

    // Bad input: a clear problem naming the field, nothing written.
    let findings = app.count("incidents").await;
    let events = app.count("audit_events").await;
    let cases = [
        (
            &app.admin,
            json!({"subject_id": w.town_a, "kind": "major_failure", "note": "重大失误", "occurred_on": "2023-09-08"}),
            422,
            "incident.kind_not_applicable",
            "kind",
        ),
        (
            &app.admin,
            json!({"subject_id": team, "kind": "major_failure", "occurred_on": "2023-09-08"}),
            422,
            "incident.reason_required",
            "note",
        ),
        (
            &app.admin,
            json!({"subject_id": team, "kind": "major_failure", "item_code": "1", "note": "重大失误", "occurred_on": "2023-09-08"}),
            422,
            "incident.field_not_applicable",
            "item_code",
        ),
        (
            // A team in another township's village is outside this assessor's scope.
            &w.town_b_assessor,
            json!({"subject_id": team, "kind": "major_failure", "note": "重大失误", "occurred_on": "2023-09-08"}),
            422,
            "incident.subject_unknown",
            "subject_id",
        ),
    ];
    for (token, body, status, code, field) in cases {
        app.post("/api/v1/incidents", token, &body)
            .await
            .assert_problem(status, code, Some(field));
    }
    assert_eq!(app.count("incidents").await, findings);
    assert_eq!(app.count("audit_events").await, events);
    app.assert_trail_covers_data().await;
}

#[actix_web::test]
async fn derelictions_are_bulk_uploaded_and_bring_accountability() {
    let app = spawn_app().await;
    let w = app.world().await;
    let scheme = id_of(&instantiate(&app, "county-poverty", None).await);
    both_sheets(&app, &scheme, &w.town_a, crate::data::TOWNSHIP_ITEMS, 9000).await;
    let csv = format!(
        "subject_id,kind,occurred_on,note\n\
         {town},dereliction,2023-04-01,失职渎职，严重影响工作进度\n\
         {town},dereliction,2023-06-01,再次失职\n",
        town = w.town_a
    );
    let reply = app.upload("/api/v1/incidents:bulk", CSV, csv, None).await;
    reply.assert(201);
    assert_eq!(reply.body["created"], 2);
    let result = result_of(&app, &w.town_a, &scheme, "").await;
    assert_eq!(codes(&result), ["accountability"]);
    let causes: Vec<&str> = result["consequence_details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["cause"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(causes, ["dereliction", "dereliction"]);
    // A bulk row that breaks a rule names its row and field; nothing of the upload is written.
    let findings = app.count("incidents").await;
    let bad = format!(
        "subject_id,kind,occurred_on,note\n{town},dereliction,2023-04-01,\n",
        town = w.town_a
    );
    let reply = app.upload("/api/v1/incidents:bulk", CSV, bad, None).await;
    reply.assert(422);
    assert_eq!(reply.body["errors"][0]["field"], "note", "{}", reply.body);
    assert_eq!(app.count("incidents").await, findings);
    app.assert_trail_covers_data().await;
}

#[actix_web::test]
async fn a_vertically_managed_department_that_would_be_dismissed_is_referred_to_its_supervisor() {
    let app = spawn_app().await;
    let scheme = id_of(&instantiate(&app, "county-poverty", None).await);
    // One category: 70 (vertically managed), 72, 90, 91 — all missed the annual target.
    let mut departments = Vec::new();
    for (name, score, vertical) in [
        ("县气象局", 7000, true),
        ("县林业局", 7200, false),
        ("县教育局", 9000, false),
        ("县税务局", 9100, true),
    ] {
        let dept = app.org_unit("department", name, None).await;
        both_sheets(&app, &scheme, &dept, DEPARTMENT_ITEMS, score).await;
        set_attributes(
            &app,
            &dept,
            &scheme,
            json!({"ranking_group": "经济类", "annual_target_met": false, "vertically_managed": vertical, "version": 0}),
        )
        .await;
        departments.push(dept);
    }
    let referred = |result: &Value| -> Vec<(String, bool)> {
        result["consequence_details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_owned(),
                    d["referred_to_supervisor"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    let weather = result_of(&app, &departments[0], &scheme, "").await;
    assert_eq!(
        referred(&weather),
        [("interview".to_owned(), true), ("dismissal".to_owned(), true)]
    );
    assert_eq!(weather["consequence_details"][1]["cause"]["type"], "ranking");
    assert_eq!(weather["consequence_details"][1]["cause"]["line"], "90.00");
    let forestry = result_of(&app, &departments[1], &scheme, "").await;
    assert_eq!(
        referred(&forestry),
        [("interview".to_owned(), false), ("dismissal".to_owned(), false)]
    );
    assert!(referred(&result_of(&app, &departments[3], &scheme, "").await).is_empty());
    let rankings = app
        .get(&format!("/api/v1/rankings?scheme_id={scheme}"), &app.admin)
        .await;
    for key in ["departments", "departments_by_category"] {
        let e = entry(&rankings.body, key, &departments[0]);
        assert_eq!(e["consequences"], json!(["interview", "dismissal"]), "{key}");
        assert_eq!(e["consequence_details"], weather["consequence_details"], "{key}");
    }
    let csv = app
        .get(
            &format!("/api/v1/results?scheme_id={scheme}&subject_type=department&format=csv"),
            &app.admin,
        )
        .await;
    let text = String::from_utf8_lossy(&csv.bytes).to_string();
    assert!(
        text.contains(",consequence_causes,referred_to_supervisor,quarterly,"),
        "{text}"
    );
    assert!(text.contains("interview;dismissal,"), "{text}");

    // No longer vertically managed: the county acts itself.
    set_attributes(
        &app,
        &departments[0],
        &scheme,
        json!({"vertically_managed": false, "version": 1}),
    )
    .await;
    assert_eq!(
        referred(&result_of(&app, &departments[0], &scheme, "").await),
        [("interview".to_owned(), false), ("dismissal".to_owned(), false)]
    );
}

#[actix_web::test]
async fn first_secretaries_quarterly_assessments_are_scored_ranked_published_and_listed_beside_the_annual_score() {
    let app = spawn_app().await;
    let department = app.org_unit("department", "县农业农村局", None).await;
    let town = app.org_unit("township", "南江镇", None).await;
    let village = app.org_unit("village", "南江村", Some(&town)).await;
    let secretary = individual(&app, "first_secretary", "李明", Some(&department), Some(&village)).await;
    let other = individual(&app, "first_secretary", "张华", Some(&department), Some(&village)).await;
    let scheme = id_of(&instantiate(&app, "county-poverty", None).await);
    both_sheets(&app, &scheme, &secretary, SECRETARY_ITEMS, 9000).await;
    let annual_before = result_of(&app, &secretary, &scheme, "").await["annual"].clone();
    let quarters = [
        evaluation(&app, &scheme, "quarterly_q1").await,
        evaluation(&app, &scheme, "quarterly_q2").await,
        evaluation(&app, &scheme, "quarterly_q3").await,
    ];
    sheet(
        &app,
        &app.admin,
        &quarters[0],
        &secretary,
        scores(SECRETARY_ITEMS, 8850),
    )
    .await;
    sheet(&app, &app.admin, &quarters[0], &other, scores(SECRETARY_ITEMS, 9200)).await;
    sheet(
        &app,
        &app.admin,
        &quarters[2],
        &secretary,
        scores(SECRETARY_ITEMS, 7000),
    )
    .await;
    // Only first secretaries are assessed quarterly.
    app.post_as_admin(
        "/api/v1/scoresheets",
        &json!({"evaluation_id": quarters[0], "subject_id": department, "scores": scores(DEPARTMENT_ITEMS, 9000)}),
    )
    .await
    .assert(422);

    let result = result_of(&app, &secretary, &scheme, "").await;
    assert_eq!(result["annual"], annual_before, "the annual formula is unchanged");
    let listed: Vec<(Value, Value, Value)> = result["quarterly"]
        .as_array()
        .unwrap_or_else(|| panic!("no quarterly in {result}"))
        .iter()
        .map(|q| (q["quarter"].clone(), q["absent"].clone(), q["published_score"].clone()))
        .collect();
    assert_eq!(
        listed,
        [
            (json!("Q1"), json!(false), json!("88.50")),
            (json!("Q2"), json!(true), Value::Null),
            (json!("Q3"), json!(false), json!("70.00")),
            (json!("Q4"), json!(true), Value::Null),
        ]
    );
    assert_eq!(result["quarterly"][1]["evaluation_id"], json!(quarters[1]));
    assert!(
        result_of(&app, &department, &scheme, "")
            .await
            .get("quarterly")
            .is_none(),
        "departments are not assessed quarterly"
    );
    let annual_list = app
        .get(
            &format!("/api/v1/results?scheme_id={scheme}&subject_type=first_secretary"),
            &app.admin,
        )
        .await;
    let row = find_by(&annual_list.body["items"], "subject_id", &secretary);
    assert_eq!(row["quarterly"][0]["published_score"], "88.50");

    // Each quarter has its results, ranks and publications.
    let list = |query: String| format!("/api/v1/results?scheme_id={scheme}{query}");
    app.get(&list("&kind=quarterly".to_owned()), &app.admin)
        .await
        .assert_problem(422, "results.evaluation_required", Some("evaluation_id"));
    let q1 = app
        .get_ok(&list(format!("&kind=quarterly&evaluation_id={}", quarters[0])))
        .await;
    assert_eq!(q1.body["kind"], "quarterly");
    let ranks: Vec<(Value, Value)> = q1.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].clone(), r["standings"][0]["rank"].clone()))
        .collect();
    assert!(ranks.contains(&(json!("张华"), json!(1))), "{ranks:?}");
    assert!(ranks.contains(&(json!("李明"), json!(2))), "{ranks:?}");
    let ranked = app
        .get_ok(&format!(
            "/api/v1/rankings?scheme_id={scheme}&evaluation_id={}&ranking=first_secretaries",
            quarters[0]
        ))
        .await;
    assert_eq!(
        entry(&ranked.body, "first_secretaries", &other)["published_score"],
        "92.00"
    );
    let published = app.create("/api/v1/publications", &json!({"scheme_id": scheme, "kind": "quarterly", "evaluation_id": quarters[0], "subject_type": "first_secretary"})).await;
    assert!(
        published.body["title"].as_str().unwrap().contains("第一季度考核"),
        "{}",
        published.body
    );

    // An evaluation of kind quarterly covers one whole quarter.
    app.post_as_admin(
        "/api/v1/evaluations",
        &json!({"scheme_id": scheme, "kind": "quarterly", "key": "q_extra", "title": "补充季度考核",
                "window_from": "2023-01-01", "window_to": "2023-06-30"}),
    )
    .await
    .assert_problem(422, "evaluation.window_not_quarter", Some("window_to"));
    let extra = app
        .create(
            "/api/v1/evaluations",
            &json!({"scheme_id": scheme, "kind": "quarterly", "key": "q_extra", "title": "补充季度考核",
                    "window_from": "2023-04-01"}),
        )
        .await;
    assert_eq!(extra.body["window_to"], "2023-06-30");
}
