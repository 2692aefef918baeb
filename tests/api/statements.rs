//! Issue 6: no N+1. A results request runs the same number of SQL statements whatever the number
//! of subjects, findings, scoresheets and ballots.

use crate::data::{id_of, instantiate};
use crate::helpers::{spawn_app, TestApp, CSV, NDJSON};

/// A Seed B county with `size` townships, each with a village, a first secretary dispatched by
/// one of `size` departments, and findings; returns the scheme id and a first secretary's id.
async fn county(app: &TestApp, size: usize) -> (String, String) {
    let scheme = id_of(&instantiate(app, "county-poverty", None).await);
    let mut towns = String::from("subject_type,name\n");
    for i in 0..size {
        towns.push_str(&format!("township,镇{i}\ndepartment,局{i}\n"));
    }
    let created = app.upload("/api/v1/subjects:bulk", CSV, towns, None).await;
    created.assert(201);
    let ids = created.created_ids();
    let mut villages = String::from("subject_type,name,parent_id\n");
    for i in 0..size {
        villages.push_str(&format!("village,村{i},{}\n", ids[2 * i]));
    }
    let created = app.upload("/api/v1/subjects:bulk", CSV, villages, None).await;
    let village_ids = created.created_ids();
    let mut people = String::from("subject_type,name,dispatched_by,stationed_in\n");
    for i in 0..size {
        people.push_str(&format!(
            "first_secretary,书记{i},{},{}\n",
            ids[2 * i + 1],
            village_ids[i]
        ));
    }
    let created = app.upload("/api/v1/subjects:bulk", CSV, people, None).await;
    let secretary = created.body["ids"][0].as_str().unwrap().to_owned();
    let mut findings = String::new();
    for id in ids.iter().step_by(2) {
        findings.push_str(&format!(
            "{{\"subject_id\":\"{id}\",\"item_code\":\"5\",\"rule_code\":\"bonus\",\"points\":\"1\",\"note\":\"信息采用\",\"occurred_on\":\"2023-05-01\"}}\n"
        ));
    }
    app.upload("/api/v1/incidents:bulk", NDJSON, findings, None)
        .await
        .assert(201);
    (scheme, secretary)
}

/// Statements run by one request, after a warm-up request has cached the caller's account.
async fn statements_of(app: &TestApp, path: &str) -> u64 {
    app.get("/api/v1/users/me", &app.admin).await.assert(200);
    let before = app.state.store.statements();
    app.get(path, &app.admin).await.assert(200);
    app.state.store.statements() - before
}

#[actix_web::test]
async fn results_requests_do_not_grow_with_the_county() {
    let mut counts = Vec::new();
    for size in [2, 12] {
        let app = spawn_app().await;
        let (scheme, secretary) = county(&app, size).await;
        counts.push((
            statements_of(&app, &format!("/api/v1/results?scheme_id={scheme}")).await,
            statements_of(
                &app,
                &format!("/api/v1/rankings?scheme_id={scheme}&as_of=2030-01-01T00:00:00Z"),
            )
            .await,
            statements_of(&app, &format!("/api/v1/subjects/{secretary}/result?scheme_id={scheme}")).await,
        ));
    }
    assert_eq!(
        counts[0], counts[1],
        "statements per request (small county, large county)"
    );
    assert!(
        counts[0].0 <= 15,
        "a cold results request runs {} statements",
        counts[0].0
    );
}
