//! Issue 5: the data API — schemes and rubrics, subjects, incidents, appeals, evaluations,
//! scoresheets and ballots. Every validation rule answers its status, problem code and field, and
//! writes nothing; every write is in the audit trail with its before and after.
//!
//! The small builders at the top are shared with `results.rs` and `scope.rs`.

use serde_json::{json, Value};

use crate::helpers::{find_by, spawn_app, strings, Reply, TestApp, World};

/// The year of every scheme in these tests.
pub const YEAR: i32 = 2023;

/// Seed B township rubric: the assessed items and their points (100 in all).
pub const TOWNSHIP_ITEMS: &[(&str, i64)] = &[
    ("1.1", 3),
    ("1.2", 3),
    ("1.3", 4),
    ("2.1", 3),
    ("2.2", 11),
    ("2.3", 6),
    ("2.4", 6),
    ("2.5", 4),
    ("3.1", 10),
    ("3.2", 15),
    ("3.3", 5),
    ("4.1", 20),
    ("4.2", 10),
];

/// Seed B department rubric: the assessed items (common 50, special 50).
pub const DEPARTMENT_ITEMS: &[(&str, i64)] = &[
    ("1.1", 3),
    ("1.2", 3),
    ("1.3", 5),
    ("1.4", 4),
    ("1.5", 10),
    ("1.6", 25),
    ("2.1", 30),
    ("2.2", 10),
    ("2.3", 10),
];

/// Seed B first-secretary rubric: the assessed items.
pub const SECRETARY_ITEMS: &[(&str, i64)] = &[
    ("1", 15),
    ("2", 20),
    ("3", 15),
    ("4", 15),
    ("5", 5),
    ("6", 15),
    ("7", 15),
];

/// Seed B work-team rubric: the assessed items.
pub const WORK_TEAM_ITEMS: &[(&str, i64)] = &[
    ("1", 5),
    ("2", 10),
    ("3", 15),
    ("4", 5),
    ("5", 10),
    ("6.1", 33),
    ("6.2", 12),
    ("7", 10),
];

/// Item scores of a full scoresheet adding up to `total` hundredths (e.g. 8850 → 88.5).
pub fn scores(items: &[(&str, i64)], total: i64) -> Value {
    let full: i64 = items.iter().map(|(_, max)| max * 100).sum();
    let mut deficit = full - total;
    assert!((0..=full).contains(&deficit), "total {total} is out of range");
    let mut map = serde_json::Map::new();
    for (code, max) in items {
        let take = deficit.min(max * 100);
        deficit -= take;
        let score = max * 100 - take;
        map.insert((*code).to_owned(), json!(format!("{}.{:02}", score / 100, score % 100)));
    }
    Value::Object(map)
}

/// Instantiates a built-in scheme for 2023 as the county admin (in the county, or in a town).
pub async fn instantiate(app: &TestApp, built_in: &str, org_unit: Option<&str>) -> Value {
    let mut body = json!({"built_in": built_in, "year": YEAR});
    if let Some(unit) = org_unit {
        body["org_unit_id"] = json!(unit);
    }
    let reply = app.create("/api/v1/schemes", &body).await;
    reply.body
}

/// The id of a scheme body.
pub fn id_of(body: &Value) -> String {
    body["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {body}"))
        .to_owned()
}

/// The current rubric id of one subject type of a scheme body.
pub fn rubric_of(scheme: &Value, subject_type: &str) -> String {
    find_by(&scheme["rubrics"], "subject_type", subject_type)["rubric_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no {subject_type} rubric in {scheme}"))
        .to_owned()
}

/// The id of a scheme's evaluation by key.
pub async fn evaluation(app: &TestApp, scheme_id: &str, key: &str) -> String {
    let list = app
        .get_ok(&format!("/api/v1/evaluations?scheme_id={scheme_id}&limit=100"))
        .await;
    list.item_where("key", key)["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no evaluation {key} in {}", list.body))
        .to_owned()
}

/// County-poverty for the year; returns (scheme, its half-year evaluation, its year-end one).
pub async fn county_poverty_year(app: &TestApp) -> (String, String, String) {
    let scheme = id_of(&instantiate(app, "county-poverty", None).await);
    let half = evaluation(app, &scheme, "half_year").await;
    let year_end = evaluation(app, &scheme, "year_end").await;
    (scheme, half, year_end)
}

/// A new township `name` with a county admin's scoresheet of each total in each evaluation.
pub async fn scored_town(app: &TestApp, evaluations: [&str; 2], name: &str, totals: [i64; 2]) -> String {
    let town = app.org_unit("township", name, None).await;
    for (evaluation, total) in evaluations.into_iter().zip(totals) {
        sheet(app, &app.admin, evaluation, &town, scores(TOWNSHIP_ITEMS, total)).await;
    }
    town
}

/// Creates an individual subject as the county admin.
pub async fn individual(
    app: &TestApp,
    subject_type: &str,
    name: &str,
    dispatched_by: Option<&str>,
    stationed_in: Option<&str>,
) -> String {
    let mut body = json!({"subject_type": subject_type, "name": name});
    if let Some(d) = dispatched_by {
        body["dispatched_by"] = json!(d);
    }
    if let Some(s) = stationed_in {
        body["stationed_in"] = json!(s);
    }
    app.post_as_admin("/api/v1/subjects", &body).await.assert(201).id()
}

/// Creates a first secretary or work team sent by the department to a village.
pub async fn stationed(app: &TestApp, w: &World, subject_type: &str, name: &str, village: &str) -> String {
    individual(app, subject_type, name, Some(&w.department), Some(village)).await
}

/// Records a finding and expects it stored.
pub async fn record(app: &TestApp, token: &str, body: Value) -> Value {
    let reply = app.post("/api/v1/incidents", token, &body).await;
    reply.assert(201);
    reply.body
}

/// Files an appeal against a finding and expects it stored.
pub async fn file_appeal(app: &TestApp, token: &str, incident: &str, reason: &str) -> Reply {
    let path = format!("/api/v1/incidents/{incident}/appeals");
    let reply = app.post(&path, token, &json!({ "reason": reason })).await;
    reply.assert(201);
    reply
}

/// Enters a scoresheet and expects it stored.
pub async fn sheet(app: &TestApp, token: &str, evaluation_id: &str, subject_id: &str, scores: Value) -> Value {
    let reply = app
        .post(
            "/api/v1/scoresheets",
            token,
            &json!({"evaluation_id": evaluation_id, "subject_id": subject_id, "scores": scores}),
        )
        .await;
    reply.assert(201);
    reply.body
}

/// Casts a ballot and expects it stored.
pub async fn ballot(app: &TestApp, token: &str, evaluation_id: &str, subject_id: &str, score: &str) {
    app.post(
        "/api/v1/ballots",
        token,
        &json!({"evaluation_id": evaluation_id, "subject_id": subject_id, "score": score}),
    )
    .await
    .assert(201);
}

/// The audit events of one entity, oldest first.
pub async fn audit(app: &TestApp, entity: &str, id: &str) -> Vec<Value> {
    let reply = app
        .get_ok(&format!(
            "/api/v1/audit-events?entity={entity}&entity_id={id}&limit=1000"
        ))
        .await;
    reply.body["items"].as_array().unwrap().clone()
}

/// The actions of the audit events of one entity.
pub async fn audit_actions(app: &TestApp, entity: &str, id: &str) -> Vec<String> {
    audit(app, entity, id)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids of a list page's items.
pub fn ids(reply: &Reply) -> Vec<String> {
    reply.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", reply.body))
        .iter()
        .map(|i| {
            i.get("id")
                .or_else(|| i.get("subject_id"))
                .and_then(Value::as_str)
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Rows of the tables a write touches, to check that a refused request wrote nothing.
async fn snapshot(app: &TestApp, tables: &[&str]) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in tables {
        counts.push(app.count(table).await);
    }
    counts
}

/// A county with two towns (world), Seed A for town A and Seed B for the county, and a first
/// secretary sent by the department to village A1.
struct Setup {
    app: TestApp,
    w: World,
    villages: Value,
    county: Value,
    secretary: String,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    let w = app.world().await;
    let villages = instantiate(&app, "tongshi-2023-village", Some(&w.town_a)).await;
    let county = instantiate(&app, "county-poverty", None).await;
    let secretary = stationed(&app, &w, "first_secretary", "李明", &w.village_a1).await;
    Setup {
        app,
        w,
        villages,
        county,
        secretary,
    }
}

// ------------------------------------------------------------------------------------------------
// Schemes and rubrics

#[actix_web::test]
async fn built_in_schemes_instantiate_with_their_rubrics_and_evaluations() {
    let app = spawn_app().await;
    let town = app.org_unit("township", "童市镇", None).await;
    let seed_a = app
        .create(
            "/api/v1/schemes",
            &json!({"built_in": "tongshi-2023-village", "year": 2023, "org_unit_id": town}),
        )
        .await;
    let a = &seed_a.body;
    assert!(seed_a.header("location").unwrap().ends_with(&id_of(a)));
    assert_eq!(a["key"], "tongshi-2023-village");
    assert_eq!(a["built_in"], "tongshi-2023-village");
    assert_eq!(a["year"], 2023);
    assert_eq!(a["township_id"], json!(town));
    assert_eq!(a["org_unit_id"], json!(town));
    let rubrics = a["rubrics"].as_array().unwrap();
    assert_eq!(rubrics.len(), 1);
    assert_eq!(rubrics[0]["subject_type"], "village");
    assert_eq!(rubrics[0]["version_no"], 1);
    let evaluations = app
        .get(&format!("/api/v1/evaluations?scheme_id={}", id_of(a)), &app.admin)
        .await;
    let keys: Vec<&str> = strings(&evaluations.body["items"], "key");
    assert_eq!(keys, vec!["year_end"], "monthly standings are computed, not stored");

    let b = instantiate(&app, "county-poverty", None).await;
    assert_eq!(b["township_id"], Value::Null);
    assert_eq!(b["org_unit_id"], json!(app.county_id));
    let mut types: Vec<&str> = strings(&b["rubrics"], "subject_type");
    types.sort_unstable();
    assert_eq!(
        types,
        vec!["agri_tech", "department", "first_secretary", "township", "work_team"]
    );
    let evaluations = app
        .get(&format!("/api/v1/evaluations?scheme_id={}", id_of(&b)), &app.admin)
        .await;
    let mut keys: Vec<(String, String, String)> = evaluations.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["key"].as_str().unwrap().to_owned(),
                e["window_from"].as_str().unwrap().to_owned(),
                e["window_to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    keys.sort();
    let span = |k: &str, to: &str| (k.to_owned(), "2023-01-01".to_owned(), to.to_owned());
    assert_eq!(
        keys,
        vec![
            // The half-year meeting's evaluation looks at the first half-year (issue 12).
            span("democratic_half_year", "2023-06-30"),
            span("democratic_year_end", "2023-12-31"),
            span("half_year", "2023-06-30"),
            // First secretaries' quarterly assessments (§8.6).
            span("quarterly_q1", "2023-03-31"),
            (
                "quarterly_q2".to_owned(),
                "2023-04-01".to_owned(),
                "2023-06-30".to_owned()
            ),
            (
                "quarterly_q3".to_owned(),
                "2023-07-01".to_owned(),
                "2023-09-30".to_owned()
            ),
            (
                "quarterly_q4".to_owned(),
                "2023-10-01".to_owned(),
                "2023-12-31".to_owned()
            ),
            span("year_end", "2023-12-31"),
        ]
    );
    // The creation is audited with the scheme as created.
    let events = audit(&app, "scheme", &id_of(&b)).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["action"], "create");
    assert_eq!(events[0]["before"], Value::Null);
    assert_eq!(events[0]["after"]["key"], "county-poverty");
    assert_eq!(events[0]["after"]["year"], 2023);
}

#[actix_web::test]
async fn invalid_schemes_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let county_assessor = app.user("county-assessor", &app.county_id.clone(), "assessor").await;
    instantiate(&app, "county-poverty", None).await;
    let tables = ["schemes", "rubrics", "evaluations", "audit_events"];
    let before = snapshot(&app, &tables).await;

    app.post_as_admin("/api/v1/schemes", &json!({"built_in": "no-such-scheme", "year": 2023}))
        .await
        .assert_problem(422, "scheme.built_in_unknown", Some("built_in"));
    app.post_as_admin("/api/v1/schemes", &json!({"year": 2023}))
        .await
        .assert_problem(422, "scheme.source_required", Some("built_in"));
    app.post_as_admin("/api/v1/schemes", &json!({"built_in": "county-poverty", "year": 1999}))
        .await
        .assert_problem(422, "scheme.year_out_of_range", Some("year"));
    app.post_as_admin("/api/v1/schemes", &json!({"built_in": "county-poverty", "year": 2023}))
        .await
        .assert_problem(409, "scheme.duplicate", None);
    app.post(
        "/api/v1/schemes",
        &county_assessor,
        &json!({"built_in": "county-poverty", "year": 2024}),
    )
    .await
    .assert_problem(403, "auth.forbidden", None);

    // A custom definition whose department section 1 states 45 points while its items add up to 50:
    // the error names the node's path.
    let mut definition = app
        .get("/api/v1/built-in-schemes/county-poverty", &app.admin)
        .await
        .assert(200)
        .body
        .clone();
    definition["key"] = json!("custom-county");
    let section = &mut definition["subject_types"]["department"]["rubric"]["nodes"][0];
    assert_eq!(section["code"], "1");
    section["points"] = json!("45");
    app.post_as_admin("/api/v1/schemes", &json!({"definition": definition, "year": 2023}))
        .await
        .assert_problem(
            422,
            "rubric.section_points_mismatch",
            Some("definition.subject_types.department.rubric/1.points"),
        );
    // Annual weights must add up to 1.
    let mut weights = definition.clone();
    weights["subject_types"]["department"]["rubric"]["nodes"][0]["points"] = json!("50");
    weights["subject_types"]["first_secretary"]["annual"]["children"][0]["weight"] = json!("0.7");
    let reply = app
        .post_as_admin("/api/v1/schemes", &json!({"definition": weights, "year": 2023}))
        .await;
    reply.assert(422);
    let fields: Vec<&str> = strings(&reply.body["errors"], "field");
    assert!(
        fields
            .iter()
            .any(|f| f.starts_with("definition.subject_types.first_secretary.annual")),
        "{}",
        reply.body
    );
    assert_eq!(snapshot(&app, &tables).await, before, "refused schemes wrote nothing");

    // Fixed, the same custom definition is accepted.
    definition["subject_types"]["department"]["rubric"]["nodes"][0]["points"] = json!("50");
    let custom = app
        .create(
            "/api/v1/schemes",
            &json!({"definition": definition, "year": 2023, "title": "本县2023年度脱贫攻坚考核（自定义）"}),
        )
        .await;
    assert_eq!(custom.body["key"], "custom-county");
    assert_eq!(custom.body["built_in"], Value::Null);
    assert_eq!(custom.body["title"], "本县2023年度脱贫攻坚考核（自定义）");
}

#[actix_web::test]
async fn rubrics_change_in_place_while_unused_and_get_a_new_version_once_used() {
    let app = spawn_app().await;
    let town = app.org_unit("township", "童市镇", None).await;
    let village = app.org_unit("village", "童市村", Some(&town)).await;
    let scheme = instantiate(&app, "tongshi-2023-village", Some(&town)).await;
    let first = rubric_of(&scheme, "village");
    let read = app.get_ok(&format!("/api/v1/rubrics/{first}")).await;
    assert_eq!(read.body["used"], false);
    assert_eq!(read.body["current"], true);
    let original_title = read.body["rubric"]["title"].as_str().unwrap().to_owned();
    let mut rubric = read.body["rubric"].clone();

    // Unused: the edit changes version 1 in place.
    rubric["title"] = json!("童市镇村级考核计分标准（修订）");
    let edited = app.put(&format!("/api/v1/rubrics/{first}"), &app.admin, &rubric).await;
    edited.assert(200);
    assert_eq!(edited.body["id"], json!(first));
    assert_eq!(edited.body["version_no"], 1);
    assert_eq!(edited.body["rubric"]["title"], "童市镇村级考核计分标准（修订）");

    // An invalid edit names the node and changes nothing.
    let mut bad = rubric.clone();
    bad["nodes"][0]["points"] = json!("36");
    let before = snapshot(&app, &["rubrics", "audit_events"]).await;
    app.put(&format!("/api/v1/rubrics/{first}"), &app.admin, &bad)
        .await
        .assert_problem(
            422,
            "rubric.section_points_mismatch",
            Some("subject_types.village.rubric/1.points"),
        );
    let mut other_type = rubric.clone();
    other_type["subject_type"] = json!("township");
    app.put(&format!("/api/v1/rubrics/{first}"), &app.admin, &other_type)
        .await
        .assert_problem(422, "rubric.subject_type_changed", Some("subject_type"));
    assert_eq!(snapshot(&app, &["rubrics", "audit_events"]).await, before);
    let unchanged = app.get(&format!("/api/v1/rubrics/{first}"), &app.admin).await;
    assert_eq!(unchanged.body["rubric"]["nodes"][0]["points"], "35");

    // A finding uses version 1: from now on it is immutable.
    let finding = record(
        &app,
        &app.admin,
        json!({"subject_id": village, "item_code": "1.1", "rule_code": "L1", "occurred_on": "2023-02-01"}),
    )
    .await;
    assert_eq!(finding["rubric_id"], json!(first));
    assert_eq!(
        app.get(&format!("/api/v1/rubrics/{first}"), &app.admin).await.body["used"],
        true
    );
    rubric["title"] = json!("童市镇村级考核计分标准（第二版）");
    let next = app.put(&format!("/api/v1/rubrics/{first}"), &app.admin, &rubric).await;
    next.assert(201);
    let second = next.id();
    assert_ne!(second, first);
    assert!(next.header("location").unwrap().ends_with(&second));
    assert_eq!(next.body["version_no"], 2);
    assert_eq!(next.body["current"], true);
    assert_eq!(next.body["used"], false);
    let old = app.get(&format!("/api/v1/rubrics/{first}"), &app.admin).await;
    assert_eq!(old.body["current"], false);
    assert_eq!(old.body["rubric"]["title"], "童市镇村级考核计分标准（修订）");
    app.put(&format!("/api/v1/rubrics/{first}"), &app.admin, &rubric)
        .await
        .assert_problem(409, "rubric.not_current", None);
    let scheme_now = app
        .get(&format!("/api/v1/schemes/{}", id_of(&scheme)), &app.admin)
        .await;
    assert_eq!(rubric_of(&scheme_now.body, "village"), second);
    let versions = app
        .get(&format!("/api/v1/rubrics?scheme_id={}", id_of(&scheme)), &app.admin)
        .await;
    assert_eq!(versions.body.as_array().unwrap().len(), 2);
    // New findings are validated against, and refer to, the new version.
    let later = record(
        &app,
        &app.admin,
        json!({"subject_id": village, "item_code": "1.1", "rule_code": "L2", "occurred_on": "2023-02-02"}),
    )
    .await;
    assert_eq!(later["rubric_id"], json!(second));

    // Both edits are audited with before and after.
    let events = audit(&app, "rubric", &first).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["action"], "update");
    assert_eq!(events[0]["before"]["rubric"]["title"], json!(original_title));
    assert_eq!(events[0]["after"]["rubric"]["title"], "童市镇村级考核计分标准（修订）");
    let events = audit(&app, "rubric", &second).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["action"], "create");
    assert_eq!(events[0]["before"]["version_no"], 1);
    assert_eq!(events[0]["after"]["version_no"], 2);
}

// ------------------------------------------------------------------------------------------------
// Subjects

#[actix_web::test]
async fn subject_links_must_point_at_the_right_kind_of_subject() {
    let app = spawn_app().await;
    let w = app.world().await;
    let before = snapshot(&app, &["subjects", "audit_events"]).await;
    let cases = [
        (
            json!({"subject_type": "first_secretary", "name": "甲", "dispatched_by": w.village_a1, "stationed_in": w.village_a1}),
            "subject.link_wrong_kind",
            "dispatched_by",
        ),
        (
            json!({"subject_type": "work_team", "name": "乙", "dispatched_by": w.town_a}),
            "subject.link_wrong_kind",
            "dispatched_by",
        ),
        (
            json!({"subject_type": "first_secretary", "name": "丙", "dispatched_by": w.department, "stationed_in": w.department}),
            "subject.link_wrong_kind",
            "stationed_in",
        ),
        (
            json!({"subject_type": "work_team", "name": "丁", "stationed_in": w.town_b}),
            "subject.link_wrong_kind",
            "stationed_in",
        ),
        (
            json!({"subject_type": "agri_tech", "name": "戊", "dispatched_by": w.village_a1, "stationed_in": w.village_a1}),
            "subject.link_wrong_kind",
            "dispatched_by",
        ),
        (
            json!({"subject_type": "village", "name": "己", "parent_id": w.town_a, "stationed_in": w.village_a1}),
            "subject.link_not_allowed",
            "stationed_in",
        ),
    ];
    for (body, code, field) in cases {
        app.post_as_admin("/api/v1/subjects", &body)
            .await
            .assert_problem(422, code, Some(field));
    }
    assert_eq!(snapshot(&app, &["subjects", "audit_events"]).await, before);

    let secretary = app.create("/api/v1/subjects", &json!({"subject_type": "first_secretary", "name": "李明", "dispatched_by": w.department, "stationed_in": w.village_a1})).await;
    assert_eq!(secretary.body["dispatched_by"], json!(w.department));
    assert_eq!(secretary.body["stationed_in"], json!(w.village_a1));
    assert_eq!(secretary.body["village_id"], json!(w.village_a1));
    assert_eq!(
        secretary.body["township_id"],
        json!(w.town_a),
        "it counts in its village's town"
    );
    let technician = app
        .create(
            "/api/v1/subjects",
            &json!({"subject_type": "agri_tech", "name": "王农", "stationed_in": w.village_b1}),
        )
        .await;
    assert_eq!(technician.body["township_id"], json!(w.town_b));
    let events = audit(&app, "subject", &secretary.id()).await;
    assert_eq!(events[0]["action"], "create");
    assert_eq!(events[0]["after"]["name"], "李明");

    // Relinking is validated the same way.
    app.patch_as_admin(
        &format!("/api/v1/subjects/{}", secretary.id()),
        &json!({"dispatched_by": w.town_b, "version": 1}),
    )
    .await
    .assert_problem(422, "subject.link_wrong_kind", Some("dispatched_by"));
    let moved = app
        .patch_as_admin(
            &format!("/api/v1/subjects/{}", secretary.id()),
            &json!({"stationed_in": w.village_b1, "version": 1}),
        )
        .await;
    moved.assert(200);
    assert_eq!(moved.body["township_id"], json!(w.town_b));
    let events = audit(&app, "subject", &secretary.id()).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["before"]["stationed_in"], json!(w.village_a1));
    assert_eq!(events[1]["after"]["stationed_in"], json!(w.village_b1));
}

#[actix_web::test]
async fn subject_attributes_have_defaults_and_need_the_current_version() {
    let app = spawn_app().await;
    let w = app.world().await;
    let scheme = id_of(&instantiate(&app, "county-poverty", None).await);
    let path = format!("/api/v1/subjects/{}/attributes/{scheme}", w.department);
    let defaults = app.get_ok(&path).await;
    assert_eq!(defaults.header("etag").as_deref(), Some("\"0\""));
    assert_eq!(defaults.body["version"], 0);
    assert_eq!(defaults.body["has_special_indicators"], true);
    assert_eq!(defaults.body["annual_target_met"], true);
    assert_eq!(defaults.body["recalled"], false);
    assert_eq!(defaults.body["ranking_group"], Value::Null);

    let before = snapshot(&app, &["subject_attributes", "audit_events"]).await;
    app.put(
        &path,
        &app.admin,
        &json!({"has_special_indicators": false, "version": 3}),
    )
    .await
    .assert_problem(412, "precondition_failed", None);
    app.put(
        &path,
        &w.county_viewer,
        &json!({"has_special_indicators": false, "version": 0}),
    )
    .await
    .assert_problem(403, "auth.forbidden", None);
    assert_eq!(snapshot(&app, &["subject_attributes", "audit_events"]).await, before);

    let set = app
        .put(
            &path,
            &app.admin,
            &json!({"has_special_indicators": false, "ranking_group": "经济类", "version": 0}),
        )
        .await;
    set.assert(200);
    assert_eq!(set.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(set.body["version"], 1);
    assert_eq!(set.body["has_special_indicators"], false);
    assert_eq!(set.body["ranking_group"], "经济类");
    // Once set, every change names the version it read; a stale one loses nothing.
    app.put(&path, &app.admin, &json!({"annual_target_met": false}))
        .await
        .assert_problem(428, "precondition_required", None);
    app.put(&path, &app.admin, &json!({"annual_target_met": false, "version": 0}))
        .await
        .assert_problem(412, "precondition_failed", None);
    assert_eq!(app.get(&path, &app.admin).await.body["annual_target_met"], true);
    let again = app
        .send_if_match("PUT", &path, "\"1\"", br#"{"annual_target_met": false}"#)
        .await;
    again.assert(200);
    assert_eq!(again.body["version"], 2);
    assert_eq!(again.body["annual_target_met"], false);
    assert_eq!(again.body["ranking_group"], "经济类", "fields not sent are kept");
    // Attributes never set take their first values without a version.
    let first = app
        .put(
            &format!("/api/v1/subjects/{}/attributes/{scheme}", w.town_a),
            &app.admin,
            &json!({"annual_target_met": false}),
        )
        .await;
    first.assert(200);
    assert_eq!(first.body["version"], 1);
    let read = app.get(&path, &w.county_viewer).await;
    assert_eq!(read.body["annual_target_met"], false);
    assert_eq!(read.body["has_special_indicators"], false);

    let events: Vec<Value> = audit(&app, "subject", &w.department)
        .await
        .into_iter()
        .filter(|e| e["action"] == "set_attributes")
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["before"]["has_special_indicators"], true);
    assert_eq!(events[0]["after"]["has_special_indicators"], false);
    assert_eq!(events[1]["before"]["annual_target_met"], true);
    assert_eq!(events[1]["after"]["annual_target_met"], false);
    app.assert_trail_covers_data().await;
}

// ------------------------------------------------------------------------------------------------
// Incidents

#[actix_web::test]
async fn findings_of_every_method_are_recorded() {
    let Setup {
        app,
        w,
        villages,
        county,
        secretary,
    } = setup().await;
    let village_rubric = rubric_of(&villages, "village");
    let assessor = &w.town_a_assessor;

    // Deduction with a quantity.
    let deduction = app
        .post(
            "/api/v1/incidents",
            assessor,
            &json!({
                "subject_id": w.village_a1, "item_code": "1.1", "rule_code": "L1", "quantity": 4,
                "occurred_on": "2023-03-15", "source": "system_analysis", "note": "3月系统数据分析",
                "evidence": ["扫描件-2023-03-15.pdf"]
            }),
        )
        .await;
    deduction.assert(201);
    assert!(deduction.header("location").unwrap().ends_with(&deduction.id()));
    let d = &deduction.body;
    assert_eq!(d["kind"], "deduction");
    assert_eq!(d["quantity"], 4);
    assert_eq!(d["rule_code"], "L1");
    assert_eq!(d["scheme_id"], json!(id_of(&villages)));
    assert_eq!(d["rubric_id"], json!(village_rubric));
    assert_eq!(d["source"], "system_analysis");
    assert_eq!(d["evidence"], json!(["扫描件-2023-03-15.pdf"]));
    assert_eq!(d["status"], "active");
    let read = app
        .get(&format!("/api/v1/incidents/{}", deduction.id()), &w.village_a1_viewer)
        .await;
    read.assert(200);
    assert_eq!(read.body["note"], "3月系统数据分析");

    // Rate measurements: by rate, and by sampled/correct counts.
    let rate = record(
        &app,
        assessor,
        json!({"subject_id": w.village_a1, "item_code": "1.2", "period": "Q1", "rate": "92.5",
               "occurred_on": "2023-03-31", "source": "phone_sampling"}),
    )
    .await;
    assert_eq!(rate["kind"], "measurement");
    assert_eq!(rate["period"], "Q1");
    assert_eq!(rate["rate"], "92.5");
    let counts = record(
        &app,
        assessor,
        json!({"subject_id": w.village_a1, "item_code": "1.2", "period": "Q2", "sampled": 200, "correct": 141,
               "occurred_on": "2023-06-30", "kind": "measurement"}),
    )
    .await;
    assert_eq!(counts["kind"], "measurement");
    assert_eq!(counts["sampled"], 200);
    assert_eq!(counts["correct"], 141);
    assert_eq!(counts["rate"], Value::Null);

    // Bonus with its achievement.
    let bonus = record(
        &app,
        assessor,
        json!({"subject_id": w.village_a1, "item_code": "4.1", "rule_code": "city",
               "event_key": "2023年度脱贫攻坚先进集体", "occurred_on": "2023-05-01"}),
    )
    .await;
    assert_eq!(bonus["kind"], "bonus");
    assert_eq!(bonus["event_key"], "2023年度脱贫攻坚先进集体");

    // Stepped amount inside the department's adjustment section.
    let amount = record(
        &app,
        &w.county_assessor,
        json!({"subject_id": w.department, "item_code": "3", "rule_code": "social_funds", "amount": "350000",
               "occurred_on": "2023-06-01", "note": "募集社会扶贫资金"}),
    )
    .await;
    assert_eq!(amount["kind"], "amount");
    assert_eq!(amount["amount"], "350000");
    assert_eq!(amount["scheme_id"], json!(id_of(&county)));

    // Manual adjustment points, bounded by the rule (the county bounds one bonus at 3 points).
    let secretary_rubric = rubric_of(&county, "first_secretary");
    let mut rubric = app
        .get(&format!("/api/v1/rubrics/{secretary_rubric}"), &app.admin)
        .await
        .body["rubric"]
        .clone();
    let section = rubric["nodes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|n| n["code"] == "8")
        .unwrap();
    let rule = section["method"]["rules"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["code"] == "bonus")
        .unwrap();
    rule["kind"] = json!({"type": "manual", "max_points": "3"});
    app.put(&format!("/api/v1/rubrics/{secretary_rubric}"), &app.admin, &rubric)
        .await
        .assert(200);
    let adjustment = record(
        &app,
        &w.county_assessor,
        json!({"subject_id": secretary, "item_code": "8", "rule_code": "bonus", "points": "2.5",
               "note": "调研文章被县级以上采用", "occurred_on": "2023-07-01"}),
    )
    .await;
    assert_eq!(adjustment["kind"], "adjustment");
    assert_eq!(adjustment["points"], "2.5");
    let penalty = record(
        &app,
        &w.county_assessor,
        json!({"subject_id": secretary, "item_code": "8", "rule_code": "penalty", "points": "-3",
               "note": "未按要求驻村", "occurred_on": "2023-08-01"}),
    )
    .await;
    assert_eq!(penalty["points"], "-3");

    // Veto with its reason.
    let veto = record(
        &app,
        assessor,
        json!({"subject_id": w.village_a2, "kind": "veto", "note": "重点工作被一票否决", "occurred_on": "2023-08-01"}),
    )
    .await;
    assert_eq!(veto["kind"], "veto");
    assert_eq!(veto["item_code"], Value::Null);
    assert_eq!(veto["note"], "重点工作被一票否决");

    // Each is in the audit trail as created.
    for finding in [
        &deduction.body,
        &rate,
        &counts,
        &bonus,
        &amount,
        &adjustment,
        &penalty,
        &veto,
    ] {
        let events = audit(&app, "incident", &id_of(finding)).await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["action"], "create");
        assert_eq!(events[0]["before"], Value::Null);
        assert_eq!(events[0]["after"]["kind"], finding["kind"]);
        assert_eq!(events[0]["after"]["subject_id"], finding["subject_id"]);
    }
    // The list filters by item.
    let listed = app
        .get(
            &format!("/api/v1/incidents?subject_id={}&item=1.2", w.village_a1),
            &app.admin,
        )
        .await;
    let mut listed = ids(&listed);
    listed.sort();
    let mut expected = vec![id_of(&rate), id_of(&counts)];
    expected.sort();
    assert_eq!(listed, expected);
    app.assert_trail_covers_data().await;
}

#[actix_web::test]
async fn every_finding_rule_rejects_with_its_code_and_field_and_writes_nothing() {
    let Setup {
        app,
        w,
        villages,
        county,
        secretary,
    } = setup().await;
    // The county bounds one first-secretary bonus at 3 points.
    let secretary_rubric = rubric_of(&county, "first_secretary");
    let mut rubric = app
        .get(&format!("/api/v1/rubrics/{secretary_rubric}"), &app.admin)
        .await
        .body["rubric"]
        .clone();
    for node in rubric["nodes"].as_array_mut().unwrap() {
        if node["code"] == "8" {
            node["method"]["rules"][0]["kind"] = json!({"type": "manual", "max_points": "3"});
        }
    }
    app.put(&format!("/api/v1/rubrics/{secretary_rubric}"), &app.admin, &rubric)
        .await
        .assert(200);
    let v = &w.village_a1;
    let scheme_a = id_of(&villages);
    let cases: Vec<(&str, Value, u16, &str, &str)> = vec![
        (
            "unknown item",
            json!({"subject_id": v, "item_code": "1.9", "rule_code": "L1", "occurred_on": "2023-03-01"}),
            422,
            "incident.item_unknown",
            "item_code",
        ),
        (
            "unknown rule",
            json!({"subject_id": v, "item_code": "1.1", "rule_code": "L9", "occurred_on": "2023-03-01"}),
            422,
            "incident.rule_unknown",
            "rule_code",
        ),
        (
            "missing rule",
            json!({"subject_id": v, "item_code": "1.1", "occurred_on": "2023-03-01"}),
            422,
            "incident.rule_required",
            "rule_code",
        ),
        (
            "assessed item",
            json!({"subject_id": w.town_a, "item_code": "1.1", "occurred_on": "2023-03-01"}),
            422,
            "incident.item_assessed",
            "item_code",
        ),
        (
            "item required",
            json!({"subject_id": v, "rule_code": "L1", "occurred_on": "2023-03-01"}),
            422,
            "incident.item_required",
            "item_code",
        ),
        (
            "rate on a deduction",
            json!({"subject_id": v, "item_code": "1.1", "rule_code": "L1", "rate": "90", "occurred_on": "2023-03-01"}),
            422,
            "incident.field_not_applicable",
            "rate",
        ),
        (
            "event key on a deduction",
            json!({"subject_id": v, "item_code": "1.1", "rule_code": "L1", "event_key": "x", "occurred_on": "2023-03-01"}),
            422,
            "incident.field_not_applicable",
            "event_key",
        ),
        (
            "points on a measurement",
            json!({"subject_id": v, "item_code": "1.2", "period": "Q2", "rate": "90", "points": "1", "occurred_on": "2023-06-01"}),
            422,
            "incident.field_not_applicable",
            "points",
        ),
        (
            "quantity zero",
            json!({"subject_id": v, "item_code": "1.1", "rule_code": "L1", "quantity": 0, "occurred_on": "2023-03-01"}),
            422,
            "incident.quantity_invalid",
            "quantity",
        ),
        (
            "rate above 100",
            json!({"subject_id": v, "item_code": "1.2", "period": "Q2", "rate": "100.5", "occurred_on": "2023-06-01"}),
            422,
            "incident.rate_out_of_range",
            "rate",
        ),
        (
            "negative rate",
            json!({"subject_id": v, "item_code": "1.2", "period": "Q2", "rate": "-1", "occurred_on": "2023-06-01"}),
            422,
            "incident.rate_out_of_range",
            "rate",
        ),
        (
            "rate with 3 decimals",
            json!({"subject_id": v, "item_code": "1.2", "period": "Q2", "rate": "85.125", "occurred_on": "2023-06-01"}),
            422,
            "incident.rate_out_of_range",
            "rate",
        ),
        (
            "more correct than sampled",
            json!({"subject_id": v, "item_code": "1.2", "period": "Q2", "sampled": 10, "correct": 11, "occurred_on": "2023-06-01"}),
            422,
            "incident.counts_invalid",
            "correct",
        ),
        (
            "nobody sampled",
            json!({"subject_id": v, "item_code": "1.2", "period": "Q2", "sampled": 0, "correct": 0, "occurred_on": "2023-06-01"}),
            422,
            "incident.counts_invalid",
            "sampled",
        ),
        (
            "sampled without correct",
            json!({"subject_id": v, "item_code": "1.2", "period": "Q2", "sampled": 10, "occurred_on": "2023-06-01"}),
            422,
            "incident.rate_required",
            "correct",
        ),
        (
            "measurement without a rate",
            json!({"subject_id": v, "item_code": "1.2", "period": "Q2", "occurred_on": "2023-06-01"}),
            422,
            "incident.rate_required",
            "rate",
        ),
        (
            "measurement without a period",
            json!({"subject_id": v, "item_code": "1.2", "rate": "90", "occurred_on": "2023-06-01"}),
            422,
            "incident.period_required",
            "period",
        ),
        (
            "bonus without its achievement",
            json!({"subject_id": v, "item_code": "4.1", "rule_code": "county", "occurred_on": "2023-06-01"}),
            422,
            "incident.event_key_required",
            "event_key",
        ),
        (
            "date outside the scheme year",
            json!({"subject_id": v, "scheme_id": scheme_a, "item_code": "1.1", "rule_code": "L1", "occurred_on": "2024-01-02"}),
            422,
            "incident.date_outside_year",
            "occurred_on",
        ),
        (
            "date outside the years of the subject's schemes",
            json!({"subject_id": v, "item_code": "1.1", "rule_code": "L1", "occurred_on": "2022-12-31"}),
            422,
            "incident.date_outside_year",
            "occurred_on",
        ),
        (
            "no scheme covers the subject",
            json!({"subject_id": w.village_b1, "item_code": "1.1", "rule_code": "L1", "occurred_on": "2023-03-01"}),
            422,
            "incident.scheme_missing",
            "scheme_id",
        ),
        (
            "scheme that does not cover the subject",
            json!({"subject_id": v, "scheme_id": id_of(&county), "item_code": "1.1", "rule_code": "L1", "occurred_on": "2023-03-01"}),
            422,
            "incident.scheme_unknown",
            "scheme_id",
        ),
        (
            "adjustment above its rule's bound",
            json!({"subject_id": secretary, "item_code": "8", "rule_code": "bonus", "points": "3.5", "note": "推广经验", "occurred_on": "2023-07-01"}),
            422,
            "incident.points_above_bound",
            "points",
        ),
        (
            "penalty with positive points",
            json!({"subject_id": secretary, "item_code": "8", "rule_code": "penalty", "points": "2", "note": "违纪", "occurred_on": "2023-07-01"}),
            422,
            "incident.points_sign",
            "points",
        ),
        (
            "bonus with negative points",
            json!({"subject_id": w.town_a, "item_code": "5", "rule_code": "bonus", "points": "-1", "note": "经验推广", "occurred_on": "2023-07-01"}),
            422,
            "incident.points_sign",
            "points",
        ),
        (
            "adjustment without points",
            json!({"subject_id": secretary, "item_code": "8", "rule_code": "penalty", "note": "违纪", "occurred_on": "2023-07-01"}),
            422,
            "incident.points_required",
            "points",
        ),
        (
            "adjustment without a reason",
            json!({"subject_id": secretary, "item_code": "8", "rule_code": "penalty", "points": "-1", "occurred_on": "2023-07-01"}),
            422,
            "incident.reason_required",
            "note",
        ),
        (
            "amount without its rule",
            json!({"subject_id": w.department, "item_code": "3", "amount": "250000", "occurred_on": "2023-07-01"}),
            422,
            "incident.rule_required",
            "rule_code",
        ),
        (
            "amount rule without amount",
            json!({"subject_id": w.department, "item_code": "3", "rule_code": "social_funds", "occurred_on": "2023-07-01"}),
            422,
            "incident.amount_required",
            "amount",
        ),
        (
            "veto without a reason",
            json!({"subject_id": v, "kind": "veto", "occurred_on": "2023-07-01"}),
            422,
            "incident.reason_required",
            "note",
        ),
        (
            "veto with an item",
            json!({"subject_id": v, "kind": "veto", "item_code": "1.1", "note": "否决", "occurred_on": "2023-07-01"}),
            422,
            "incident.field_not_applicable",
            "item_code",
        ),
        (
            "kind mismatch",
            json!({"subject_id": v, "kind": "bonus", "item_code": "1.1", "rule_code": "L1", "occurred_on": "2023-03-01"}),
            422,
            "incident.kind_mismatch",
            "kind",
        ),
        (
            "subject outside the caller's scope",
            json!({"subject_id": w.village_b1, "item_code": "1.1", "rule_code": "L1", "occurred_on": "2023-03-01"}),
            422,
            "incident.subject_unknown",
            "subject_id",
        ),
        (
            "no such subject",
            json!({"subject_id": "0193b0d2-0000-7000-8000-00000000abcd", "item_code": "1.1", "rule_code": "L1", "occurred_on": "2023-03-01"}),
            422,
            "incident.subject_unknown",
            "subject_id",
        ),
    ];
    let tables = ["incidents", "audit_events"];
    let before = snapshot(&app, &tables).await;
    for (case, body, status, code, field) in &cases {
        // Town A's assessor records for town A's villages; the township itself, the department,
        // the first secretary and (to reach "no scheme covers it") town B's village need the
        // county's assessor.
        let county_case = body["subject_id"] == json!(w.department)
            || body["subject_id"] == json!(w.town_a)
            || body["subject_id"] == json!(secretary)
            || *case == "no scheme covers the subject";
        let token = if county_case {
            &w.county_assessor
        } else {
            &w.town_a_assessor
        };
        let reply = app.post("/api/v1/incidents", token, body).await;
        assert_eq!(reply.status.as_u16(), *status, "{case}: {}", reply.body);
        reply.assert_problem(*status, code, Some(field));
    }
    assert_eq!(snapshot(&app, &tables).await, before, "refused findings wrote nothing");

    // A period is measured once; after revoking the first measurement, a new one is accepted.
    let first = record(
        &app,
        &w.town_a_assessor,
        json!({"subject_id": v, "item_code": "1.2", "period": "Q1", "rate": "80", "occurred_on": "2023-03-31"}),
    )
    .await;
    let before = snapshot(&app, &tables).await;
    app.post(
        "/api/v1/incidents",
        &w.town_a_assessor,
        &json!({"subject_id": v, "item_code": "1.2", "period": "Q1", "sampled": 50, "correct": 48, "occurred_on": "2023-03-31"}),
    )
    .await
    .assert_problem(409, "incident.period_already_measured", None);
    assert_eq!(snapshot(&app, &tables).await, before);
    // Another period of the same item, or another village, is fine.
    record(
        &app,
        &w.town_a_assessor,
        json!({"subject_id": w.village_a2, "item_code": "1.2", "period": "Q1", "rate": "95", "occurred_on": "2023-03-31"}),
    )
    .await;
    app.post(
        &format!("/api/v1/incidents/{}/revoke", id_of(&first)),
        &w.town_a_assessor,
        &json!({"reason": "抽查样本有误，重新抽查"}),
    )
    .await
    .assert(200);
    let second = record(
        &app,
        &w.town_a_assessor,
        json!({"subject_id": v, "item_code": "1.2", "period": "Q1", "sampled": 50, "correct": 48, "occurred_on": "2023-03-31"}),
    )
    .await;
    assert_eq!(second["status"], "active");

    // Viewers read findings but may not record them.
    let before = snapshot(&app, &tables).await;
    let body = json!({"subject_id": v, "item_code": "1.1", "rule_code": "L1", "occurred_on": "2023-03-01"});
    for token in [&w.town_a_viewer, &w.county_viewer, &w.village_a1_viewer] {
        app.post("/api/v1/incidents", token, &body)
            .await
            .assert_problem(403, "auth.forbidden", None);
    }
    assert_eq!(snapshot(&app, &tables).await, before);
}

#[actix_web::test]
async fn revoking_needs_a_reason_and_happens_once() {
    let Setup { app, w, .. } = setup().await;
    let finding = record(
        &app,
        &w.town_a_assessor,
        json!({"subject_id": w.village_a1, "item_code": "2.1", "rule_code": "missing_doc", "occurred_on": "2023-04-01"}),
    )
    .await;
    let id = id_of(&finding);
    let path = format!("/api/v1/incidents/{id}/revoke");
    let before = app.count("audit_events").await;
    app.post(&path, &w.town_a_assessor, &json!({"reason": "   "}))
        .await
        .assert_problem(422, "incident.reason_required", Some("reason"));
    app.post(&path, &w.town_a_assessor, &json!({}))
        .await
        .assert_problem(422, "request.field_invalid", Some("reason"));
    app.post(&path, &w.town_a_viewer, &json!({"reason": "重复录入"}))
        .await
        .assert_problem(403, "auth.forbidden", None);
    app.post(&path, &w.town_b_assessor, &json!({"reason": "重复录入"}))
        .await
        .assert_problem(404, "not_found", None);
    assert_eq!(app.count("audit_events").await, before);
    let still = app.get(&format!("/api/v1/incidents/{id}"), &app.admin).await;
    assert_eq!(still.body["status"], "active");
    assert_eq!(still.body["version"], 1);

    let revoked = app
        .post(&path, &w.town_a_assessor, &json!({"reason": "重复录入"}))
        .await;
    revoked.assert(200);
    assert_eq!(revoked.body["status"], "revoked");
    assert_eq!(revoked.body["revoke_reason"], "重复录入");
    assert!(revoked.body["revoked_at"].is_string());
    assert!(revoked.body["revoked_by"].is_string());
    assert_eq!(revoked.body["version"], 2);
    app.post(&path, &w.town_a_assessor, &json!({"reason": "再次撤销"}))
        .await
        .assert_problem(409, "incident.already_revoked", None);
    // The finding stays in the history.
    let listed = app
        .get(
            &format!("/api/v1/incidents?subject_id={}&status=revoked", w.village_a1),
            &app.admin,
        )
        .await;
    assert_eq!(ids(&listed), vec![id.clone()]);
    let events = audit(&app, "incident", &id).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["action"], "revoke");
    assert_eq!(events[1]["before"]["status"], "active");
    assert_eq!(events[1]["after"]["status"], "revoked");
    assert_eq!(events[1]["after"]["revoke_reason"], "重复录入");
    app.assert_trail_covers_data().await;
}

// ------------------------------------------------------------------------------------------------
// Appeals

#[actix_web::test]
async fn villages_appeal_their_findings_and_assessors_decide() {
    let Setup { app, w, villages, .. } = setup().await;
    let a2_viewer = app.user("village-a2-viewer", &w.village_a2, "viewer").await;
    let score_path = format!(
        "/api/v1/subjects/{}/result?scheme_id={}",
        w.village_a1,
        id_of(&villages)
    );
    let score = |reply: Reply| reply.assert(200).body["result"]["annual"]["published_score"].clone();
    let finding = record(
        &app,
        &w.town_a_assessor,
        json!({"subject_id": w.village_a1, "item_code": "1.3", "rule_code": "error", "quantity": 12, "occurred_on": "2023-04-10"}),
    )
    .await;
    let id = id_of(&finding);
    let appeal_path = format!("/api/v1/incidents/{id}/appeals");
    let reason = json!({"reason": "该12条数据已于4月12日更正，系统同步延迟"});

    // Another village's viewer cannot even see the finding.
    let before = snapshot(&app, &["appeals", "audit_events"]).await;
    app.post(&appeal_path, &a2_viewer, &reason)
        .await
        .assert_problem(404, "not_found", None);
    app.get(&format!("/api/v1/incidents/{id}"), &a2_viewer)
        .await
        .assert_problem(404, "not_found", None);
    app.post(&appeal_path, &w.village_a1_viewer, &json!({"reason": "  "}))
        .await
        .assert_problem(422, "appeal.text_invalid", Some("reason"));
    assert_eq!(snapshot(&app, &["appeals", "audit_events"]).await, before);

    // The village's own viewer files it.
    assert_eq!(score(app.get(&score_path, &w.village_a1_viewer).await), "78.80");
    let filed = app.post(&appeal_path, &w.village_a1_viewer, &reason).await;
    filed.assert(201);
    let appeal = filed.id();
    assert_eq!(filed.body["status"], "pending");
    assert_eq!(
        score(app.get(&score_path, &w.village_a1_viewer).await),
        "78.80",
        "a pending appeal changes no score"
    );
    assert_eq!(filed.body["incident_id"], json!(id));
    assert_eq!(filed.body["subject_id"], json!(w.village_a1));
    let before = snapshot(&app, &["appeals", "audit_events"]).await;
    app.post(&appeal_path, &w.village_a1_viewer, &reason)
        .await
        .assert_problem(409, "appeal.already_pending", None);
    assert_eq!(snapshot(&app, &["appeals", "audit_events"]).await, before);
    app.get(&format!("/api/v1/appeals/{appeal}"), &a2_viewer)
        .await
        .assert_problem(404, "not_found", None);
    let own = app.get("/api/v1/appeals", &w.village_a1_viewer).await;
    assert_eq!(ids(&own), vec![appeal.clone()]);
    assert!(ids(&app.get("/api/v1/appeals", &a2_viewer).await).is_empty());

    // Only assessors decide; upholding keeps the finding.
    let decision = format!("/api/v1/appeals/{appeal}/decision");
    app.post(&decision, &w.village_a1_viewer, &json!({"decision": "accept"}))
        .await
        .assert_problem(403, "auth.forbidden", None);
    let upheld = app
        .post(
            &decision,
            &w.town_a_assessor,
            &json!({"decision": "uphold", "note": "经核实，扣分属实"}),
        )
        .await;
    upheld.assert(200);
    assert_eq!(upheld.body["status"], "upheld");
    assert_eq!(upheld.body["decision_note"], "经核实，扣分属实");
    assert!(upheld.body["decided_by"].is_string());
    app.post(&decision, &w.town_a_assessor, &json!({"decision": "accept"}))
        .await
        .assert_problem(409, "appeal.already_decided", None);
    let kept = app.get(&format!("/api/v1/incidents/{id}"), &app.admin).await;
    assert_eq!(kept.body["status"], "active");

    // A new appeal, accepted: the finding is revoked.
    let second = app.post(&appeal_path, &w.village_a1_viewer, &reason).await;
    second.assert(201);
    let accepted = app
        .post(
            &format!("/api/v1/appeals/{}/decision", second.id()),
            &w.county_assessor,
            &json!({"decision": "accept", "note": "经核实，数据已更正"}),
        )
        .await;
    accepted.assert(200);
    assert_eq!(accepted.body["status"], "accepted");
    let revoked = app.get(&format!("/api/v1/incidents/{id}"), &app.admin).await;
    assert_eq!(revoked.body["status"], "revoked");
    assert_eq!(score(app.get(&score_path, &w.village_a1_viewer).await), "80.00");
    assert!(revoked.body["revoke_reason"]
        .as_str()
        .unwrap()
        .contains("经核实，数据已更正"));
    app.post(&appeal_path, &w.village_a1_viewer, &reason)
        .await
        .assert_problem(409, "appeal.incident_revoked", None);

    // Audited: the appeals as filed and decided, the finding as revoked on appeal.
    let events = audit(&app, "appeal", &second.id()).await;
    assert_eq!(
        events.iter().map(|e| e["action"].as_str().unwrap()).collect::<Vec<_>>(),
        vec!["create", "decide"]
    );
    assert_eq!(events[1]["before"]["status"], "pending");
    assert_eq!(events[1]["after"]["status"], "accepted");
    let events = audit(&app, "incident", &id).await;
    assert_eq!(
        events.iter().map(|e| e["action"].as_str().unwrap()).collect::<Vec<_>>(),
        vec!["create", "revoke_on_appeal"]
    );
    assert_eq!(events[1]["before"]["status"], "active");
    assert_eq!(events[1]["after"]["status"], "revoked");
    app.assert_trail_covers_data().await;
}

// ------------------------------------------------------------------------------------------------
// Evaluations, scoresheets and ballots

#[actix_web::test]
async fn evaluations_are_created_closed_and_reopened() {
    let Setup {
        app,
        w,
        county,
        secretary,
        ..
    } = setup().await;
    let scheme = id_of(&county);
    let created = app
        .post(
            "/api/v1/evaluations",
            &w.county_assessor,
            &json!({"scheme_id": scheme, "kind": "democratic", "key": "democratic_extra", "title": "民主测评（补充）"}),
        )
        .await;
    created.assert(201);
    let extra = created.id();
    assert_eq!(created.body["kind"], "democratic");
    assert_eq!(created.body["status"], "open");
    assert_eq!(created.body["window_from"], "2023-01-01");
    assert_eq!(created.body["window_to"], "2023-12-31");

    let tables = ["evaluations", "audit_events"];
    let before = snapshot(&app, &tables).await;
    app.post(
        "/api/v1/evaluations",
        &w.county_assessor,
        &json!({"scheme_id": scheme, "kind": "monthly", "key": "m6", "title": "6月"}),
    )
    .await
    .assert_problem(422, "evaluation.kind_virtual", Some("kind"));
    app.post(
        "/api/v1/evaluations",
        &w.county_assessor,
        &json!({"scheme_id": scheme, "kind": "democratic", "key": "democratic_extra", "title": "重复"}),
    )
    .await
    .assert_problem(409, "evaluation.key_taken", None);
    app.post(
        "/api/v1/evaluations",
        &w.county_assessor,
        &json!({"scheme_id": scheme, "kind": "half_year", "key": "h", "title": "半年", "window_to": "2024-06-30"}),
    )
    .await
    .assert_problem(422, "evaluation.window_invalid", Some("window_to"));
    app.post(
        "/api/v1/evaluations",
        &w.county_viewer,
        &json!({"scheme_id": scheme, "kind": "democratic", "key": "d9", "title": "测评"}),
    )
    .await
    .assert_problem(403, "auth.forbidden", None);
    assert_eq!(snapshot(&app, &tables).await, before);

    // Closed: no scoresheets, no ballots.
    let half = evaluation(&app, &scheme, "half_year").await;
    let closed = app
        .post(
            &format!("/api/v1/evaluations/{half}/close"),
            &w.county_assessor,
            &json!({}),
        )
        .await;
    closed.assert(200);
    assert_eq!(closed.body["status"], "closed");
    assert!(closed.body["closed_at"].is_string());
    app.post(
        &format!("/api/v1/evaluations/{half}/close"),
        &w.county_assessor,
        &json!({}),
    )
    .await
    .assert_problem(409, "evaluation.status_unchanged", None);
    app.post(
        &format!("/api/v1/evaluations/{extra}/close"),
        &w.county_assessor,
        &json!({}),
    )
    .await
    .assert(200);
    let tables = ["scoresheets", "scoresheet_items", "ballots", "audit_events"];
    let before = snapshot(&app, &tables).await;
    app.post(
        "/api/v1/scoresheets",
        &w.county_assessor,
        &json!({"evaluation_id": half, "subject_id": w.town_a, "scores": scores(TOWNSHIP_ITEMS, 9000)}),
    )
    .await
    .assert_problem(409, "evaluation.closed", None);
    app.post(
        "/api/v1/ballots",
        &w.county_assessor,
        &json!({"evaluation_id": extra, "subject_id": secretary, "score": "90"}),
    )
    .await
    .assert_problem(409, "evaluation.closed", None);
    assert_eq!(snapshot(&app, &tables).await, before);

    // Reopened: accepted again.
    let reopened = app
        .post(
            &format!("/api/v1/evaluations/{half}/reopen"),
            &w.county_assessor,
            &json!({}),
        )
        .await;
    reopened.assert(200);
    assert_eq!(reopened.body["status"], "open");
    assert_eq!(reopened.body["closed_at"], Value::Null);
    sheet(&app, &w.county_assessor, &half, &w.town_a, scores(TOWNSHIP_ITEMS, 9000)).await;
    app.post(
        &format!("/api/v1/evaluations/{extra}/reopen"),
        &w.county_assessor,
        &json!({}),
    )
    .await
    .assert(200);
    ballot(&app, &w.county_assessor, &extra, &secretary, "90").await;

    let events = audit(&app, "evaluation", &half).await;
    assert_eq!(
        events.iter().map(|e| e["action"].as_str().unwrap()).collect::<Vec<_>>(),
        vec!["close", "reopen"]
    );
    assert_eq!(events[0]["before"]["status"], "open");
    assert_eq!(events[0]["after"]["status"], "closed");
    assert_eq!(
        audit_actions(&app, "evaluation", &extra).await,
        vec!["create", "close", "reopen"]
    );
    app.assert_trail_covers_data().await;
}

#[actix_web::test]
async fn scoresheets_score_assessed_items_within_their_points_and_supersede() {
    let Setup { app, w, county, .. } = setup().await;
    let scheme = id_of(&county);
    let half = evaluation(&app, &scheme, "half_year").await;
    let democratic = evaluation(&app, &scheme, "democratic_half_year").await;
    let tables = ["scoresheets", "scoresheet_items", "audit_events"];
    let before = snapshot(&app, &tables).await;
    let post = |evaluation: &str, scores: Value| json!({"evaluation_id": evaluation, "subject_id": w.town_a, "scores": scores});
    let cases = [
        (
            post(&half, json!({"5": "1"})),
            "scoresheet.item_not_assessed",
            "scores.5",
        ),
        (
            post(&half, json!({"1.1": "3.5"})),
            "scoresheet.score_out_of_range",
            "scores.1.1",
        ),
        (
            post(&half, json!({"4.1": "-1"})),
            "scoresheet.score_out_of_range",
            "scores.4.1",
        ),
        (
            post(&half, json!({"4.1": "10.12345"})),
            "scoresheet.score_out_of_range",
            "scores.4.1",
        ),
        (
            post(&half, json!({"9.9": "1"})),
            "scoresheet.item_unknown",
            "scores.9.9",
        ),
        (post(&half, json!({})), "scoresheet.empty", "scores"),
        (
            post(&democratic, json!({"1.1": "3"})),
            "scoresheet.evaluation_not_scored",
            "evaluation_id",
        ),
    ];
    for (body, code, field) in &cases {
        app.post("/api/v1/scoresheets", &w.county_assessor, body)
            .await
            .assert_problem(422, code, Some(field));
    }
    // The whole sheet is refused when one score is wrong.
    let mut mixed = scores(TOWNSHIP_ITEMS, 9000);
    mixed["2.2"] = json!("12");
    app.post("/api/v1/scoresheets", &w.county_assessor, &post(&half, mixed))
        .await
        .assert_problem(422, "scoresheet.score_out_of_range", Some("scores.2.2"));
    assert_eq!(snapshot(&app, &tables).await, before);

    let first = sheet(&app, &w.county_assessor, &half, &w.town_a, scores(TOWNSHIP_ITEMS, 9000)).await;
    assert_eq!(first["supersedes"], Value::Null);
    assert_eq!(first["assessor"], "county-assessor");
    assert_eq!(first["scores"]["4.1"], "20.00");
    // The same assessor's second sheet supersedes the first.
    let second = sheet(&app, &w.county_assessor, &half, &w.town_a, scores(TOWNSHIP_ITEMS, 9200)).await;
    assert_eq!(second["supersedes"], first["id"]);
    let list = |include: bool| {
        format!(
            "/api/v1/scoresheets?evaluation_id={half}&subject_id={}&include_superseded={include}",
            w.town_a
        )
    };
    let active = app.get(&list(false), &app.admin).await;
    assert_eq!(ids(&active), vec![id_of(&second)]);
    let all = app.get(&list(true), &app.admin).await;
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let old = items.iter().find(|s| s["id"] == first["id"]).unwrap();
    assert_eq!(old["superseded_by"], second["id"]);
    assert!(old["superseded_at"].is_string());
    // Another assessor's sheet stands beside it.
    let other = app
        .post(
            "/api/v1/scoresheets",
            &w.county_assessor,
            &json!({"evaluation_id": half, "subject_id": w.town_a, "scores": scores(TOWNSHIP_ITEMS, 8600), "assessor": "县考核组-李四"}),
        )
        .await;
    other.assert(201);
    assert_eq!(other.body["supersedes"], Value::Null);
    assert_eq!(ids(&app.get(&list(false), &app.admin).await).len(), 2);
    // An assessor is the name on the sheet: the admin entering 李四's corrected sheet
    // supersedes the one the county assessor entered for them.
    let corrected = app.create("/api/v1/scoresheets", &json!({"evaluation_id": half, "subject_id": w.town_a, "scores": scores(TOWNSHIP_ITEMS, 8600), "assessor": "县考核组-李四"})).await;
    assert_eq!(corrected.body["supersedes"], other.body["id"]);
    assert_eq!(ids(&app.get(&list(false), &app.admin).await).len(), 2);
    // The half-year total is the mean of the assessors' current sheets: (92 + 86) / 2, the
    // superseded 90 left out — but as of before the supersession, the first sheet counted.
    let half_year = |result: &Value| {
        find_by(&result["result"]["evaluations"], "key", "half_year")["outcome"]["published_score"].clone()
    };
    let now = app
        .get_ok(&format!("/api/v1/subjects/{}/result?scheme_id={scheme}", w.town_a))
        .await;
    assert_eq!(half_year(&now.body), "89.00", "{}", now.body);
    let then = app
        .get_ok(&format!(
            "/api/v1/subjects/{}/result?scheme_id={scheme}&as_of={}",
            w.town_a,
            first["recorded_at"].as_str().unwrap()
        ))
        .await;
    assert_eq!(half_year(&then.body), "90.00", "{}", then.body);

    let events = audit(&app, "scoresheet", &id_of(&second)).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["action"], "create");
    assert_eq!(events[0]["before"]["id"], first["id"]);
    assert_eq!(events[0]["after"]["scores"]["1.1"], second["scores"]["1.1"]);
    app.assert_trail_covers_data().await;
}

#[actix_web::test]
async fn ballots_score_0_to_100_with_one_decimal_once_per_participant() {
    let Setup {
        app,
        w,
        county,
        secretary,
        ..
    } = setup().await;
    let scheme = id_of(&county);
    let democratic = evaluation(&app, &scheme, "democratic_half_year").await;
    let half = evaluation(&app, &scheme, "half_year").await;
    let cast = |score: &str, participant: Option<&str>| {
        let mut body = json!({"evaluation_id": democratic, "subject_id": secretary, "score": score});
        if let Some(p) = participant {
            body["participant"] = json!(p);
        }
        body
    };
    let stored = app
        .post("/api/v1/ballots", &w.county_assessor, &cast("93.5", Some("代表01")))
        .await;
    stored.assert(201);
    assert_eq!(stored.body["score"], "93.5");
    assert_eq!(stored.body["participant"], "代表01");
    for edge in ["100", "0", "60.0"] {
        app.post("/api/v1/ballots", &w.county_assessor, &cast(edge, None))
            .await
            .assert(201);
    }
    let tables = ["ballots", "audit_events"];
    let before = snapshot(&app, &tables).await;
    for bad in ["100.5", "101", "93.25", "-0.5"] {
        app.post("/api/v1/ballots", &w.county_assessor, &cast(bad, None))
            .await
            .assert_problem(422, "ballot.score_out_of_range", Some("score"));
    }
    app.post("/api/v1/ballots", &w.county_assessor, &cast("88", Some("代表01")))
        .await
        .assert_problem(409, "ballot.duplicate", None);
    app.post(
        "/api/v1/ballots",
        &w.county_assessor,
        &json!({"evaluation_id": half, "subject_id": secretary, "score": "90"}),
    )
    .await
    .assert_problem(422, "ballot.evaluation_not_democratic", Some("evaluation_id"));
    // Seed B's democratic evaluations score individuals, not townships.
    app.post(
        "/api/v1/ballots",
        &w.county_assessor,
        &json!({"evaluation_id": democratic, "subject_id": w.town_a, "score": "90"}),
    )
    .await
    .assert_problem(422, "evaluation.subject_type_not_covered", Some("subject_id"));
    app.post("/api/v1/ballots", &w.county_viewer, &cast("90", Some("代表02")))
        .await
        .assert_problem(403, "auth.forbidden", None);
    assert_eq!(snapshot(&app, &tables).await, before);
    // The same participant may score another subject.
    let other = stationed(&app, &w, "first_secretary", "张华", &w.village_a2).await;
    app.post(
        "/api/v1/ballots",
        &w.county_assessor,
        &json!({"evaluation_id": democratic, "subject_id": other, "score": "88", "participant": "代表01"}),
    )
    .await
    .assert(201);

    let events = audit(&app, "ballot", &stored.id()).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["action"], "create");
    assert_eq!(events[0]["after"]["score"], "93.5");
    assert_eq!(events[0]["after"]["participant"], "代表01");
    app.assert_trail_covers_data().await;
}
