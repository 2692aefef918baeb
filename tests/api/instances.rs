//! Several instances behind a load balancer agree: a write acknowledged by one is in the next
//! read of another, whatever the other has cached (the revision is checked in the database).

use serde_json::{json, Value};

use crate::data::{
    ballot, evaluation, id_of, instantiate, scores, sheet, stationed, DEPARTMENT_ITEMS, SECRETARY_ITEMS, TOWNSHIP_ITEMS,
};
use crate::helpers::{find_by, spawn_app, TestApp};

fn score_of(results: &Value, subject: &str) -> String {
    find_by(&results["items"], "subject_id", subject)["published_score"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn results(app: &TestApp, scheme: &str) -> (Value, String) {
    let reply = app
        .get(&format!("/api/v1/results?scheme_id={scheme}"), &app.admin)
        .await;
    reply.assert(200);
    let etag = reply.header("etag").expect("an ETag");
    (reply.body, etag)
}

#[actix_web::test]
async fn a_write_on_one_instance_is_in_the_next_read_on_another() {
    let a = spawn_app().await;
    let town = a.org_unit("township", "童市镇", None).await;
    let village = a.org_unit("village", "童市村", Some(&town)).await;
    let scheme = id_of(&instantiate(&a, "tongshi-2023-village", Some(&town)).await);
    let b = a.second_instance().await;

    // B computes and caches the year before any finding.
    let (before, etag) = results(&b, &scheme).await;
    assert_eq!(score_of(&before, &village), "80.00");

    // A records a finding; B's very next read has it, and B's old ETag no longer matches.
    let finding = json!({"subject_id": village, "item_code": "1.1", "rule_code": "L1", "quantity": 2,
        "occurred_on": "2023-03-10"});
    let recorded = a.post_as_admin("/api/v1/incidents", &finding).await.assert(201).id();
    let stale = b
        .send(
            "GET",
            &format!("/api/v1/results?scheme_id={scheme}"),
            Some(&b.admin),
            &[("if-none-match", etag.as_str())],
            None,
        )
        .await;
    stale.assert(200);
    assert_eq!(score_of(&stale.body, &village), "79.00");
    let listed = b
        .get(&format!("/api/v1/incidents?subject_id={village}"), &b.admin)
        .await;
    assert_eq!(listed.body["items"][0]["id"], recorded.as_str());

    // And the other way round: B revokes, A's next read is back where it was.
    let (_, a_etag) = results(&a, &scheme).await;
    b.post(
        &format!("/api/v1/incidents/{recorded}/revoke"),
        &b.admin,
        &json!({"reason": "重复录入"}),
    )
    .await
    .assert(200);
    let (after, a_etag_after) = results(&a, &scheme).await;
    assert_eq!(score_of(&after, &village), "80.00");
    assert_ne!(a_etag, a_etag_after);
    a.assert_trail_covers_data().await;
}

/// The results, rankings and one explained result of a scheme as one instance answers them.
async fn answers(app: &TestApp, scheme: &str, explained: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        format!("/api/v1/results?scheme_id={scheme}&limit=1000"),
        format!("/api/v1/rankings?scheme_id={scheme}"),
        format!("/api/v1/subjects/{explained}/result?scheme_id={scheme}"),
    ] {
        let reply = app.get(&path, &app.admin).await;
        reply.assert(200);
        out.push(reply.body);
    }
    out
}

/// The answers of `a` equal those of an instance started now, which computes from the database.
async fn agrees_with_a_fresh_instance(a: &TestApp, scheme: &str, explained: &str) {
    let fresh = a.second_instance().await;
    assert_eq!(
        answers(a, scheme, explained).await,
        answers(&fresh, scheme, explained).await
    );
}

/// An instance that has computed the year brings it forward write by write (only the changed
/// subjects and what they feed are scored again); each of its answers equals what a fresh
/// instance computes from the database alone.
#[actix_web::test]
async fn results_brought_forward_write_by_write_equal_a_fresh_computation() {
    let a = spawn_app().await;
    let w = a.world().await;
    let scheme = id_of(&instantiate(&a, "county-poverty", None).await);
    let secretary = stationed(&a, &w, "first_secretary", "李明", &w.village_a1).await;
    let team = stationed(&a, &w, "work_team", "驻村工作队", &w.village_a2).await;
    let half = evaluation(&a, &scheme, "half_year").await;
    sheet(&a, &a.admin, &half, &w.department, scores(DEPARTMENT_ITEMS, 8000)).await;
    sheet(&a, &a.admin, &half, &w.town_a, scores(TOWNSHIP_ITEMS, 9000)).await;
    sheet(&a, &a.admin, &half, &secretary, scores(SECRETARY_ITEMS, 8500)).await;
    answers(&a, &scheme, &w.department).await;

    let findings = [
        json!({"subject_id": w.department, "item_code": "3", "rule_code": "penalty", "points": "-2",
               "occurred_on": "2023-03-01", "note": "督查通报"}),
        json!({"subject_id": w.department, "item_code": "3", "rule_code": "social_funds", "amount": "250000",
               "occurred_on": "2023-04-01", "note": "社会扶贫资金"}),
        json!({"subject_id": secretary, "kind": "dereliction", "note": "失职渎职", "occurred_on": "2023-05-01"}),
        json!({"subject_id": team, "kind": "major_failure", "note": "重大失误", "occurred_on": "2023-06-01"}),
        json!({"subject_id": w.town_a, "kind": "veto", "note": "重点工作被一票否决", "occurred_on": "2023-09-01"}),
    ];
    let mut recorded = Vec::new();
    for finding in &findings {
        recorded.push(a.post_as_admin("/api/v1/incidents", finding).await.assert(201).id());
        agrees_with_a_fresh_instance(&a, &scheme, &w.department).await;
    }
    // A revocation, and a bulk upload of two findings.
    a.post(
        &format!("/api/v1/incidents/{}/revoke", recorded[0]),
        &a.admin,
        &json!({"reason": "重复录入"}),
    )
    .await
    .assert(200);
    let rows = [
        json!({"subject_id": w.department, "item_code": "3", "rule_code": "bonus", "points": "1.5",
               "occurred_on": "2023-07-01", "note": "表彰"}),
        json!({"subject_id": w.town_b, "kind": "veto", "note": "一票否决", "occurred_on": "2023-08-01"}),
    ];
    a.post_as_admin("/api/v1/incidents:bulk", &json!(rows))
        .await
        .assert(201);
    agrees_with_a_fresh_instance(&a, &scheme, &secretary).await;

    // Scoresheets and ballots are brought forward the same way: one of each, then a bulk upload.
    let year_end = evaluation(&a, &scheme, "year_end").await;
    let democratic = evaluation(&a, &scheme, "democratic_year_end").await;
    sheet(&a, &a.admin, &year_end, &secretary, scores(SECRETARY_ITEMS, 9000)).await;
    agrees_with_a_fresh_instance(&a, &scheme, &secretary).await;
    ballot(&a, &a.admin, &democratic, &secretary, "88.5").await;
    agrees_with_a_fresh_instance(&a, &scheme, &secretary).await;
    let ballots: Vec<Value> = (0..5)
        .map(|i| json!({"evaluation_id": democratic, "subject_id": secretary, "score": format!("9{i}"), "participant": format!("代表{i}")}))
        .collect();
    a.upload_json("/api/v1/ballots:bulk", &json!(ballots), None)
        .await
        .assert(201);
    agrees_with_a_fresh_instance(&a, &scheme, &secretary).await;

    // Subjects: an attribute (recalled), a new name, and a first secretary moved to another
    // village and department (old and new targets both change).
    a.put(
        &format!("/api/v1/subjects/{team}/attributes/{scheme}"),
        &a.admin,
        &json!({"recalled": true, "version": 0}),
    )
    .await
    .assert(200);
    agrees_with_a_fresh_instance(&a, &scheme, &w.department).await;
    let other = a.org_unit("department", "县财政局", None).await;
    a.patch(
        &format!("/api/v1/subjects/{secretary}"),
        &a.admin,
        &json!({"name": "李明（调整）", "stationed_in": w.village_b1, "dispatched_by": other, "version": 1}),
    )
    .await
    .assert(200);
    agrees_with_a_fresh_instance(&a, &scheme, &w.department).await;
    agrees_with_a_fresh_instance(&a, &scheme, &secretary).await;
    let brought_forward = answers(&a, &scheme, &secretary).await;
    // And the writes did move the results (the comparison is not between two empty years).
    let department = find_by(&brought_forward[0]["items"], "subject_id", &w.department);
    assert!(department["published_score"].is_string(), "{department}");
}
