//! Several instances behind a load balancer agree: a write acknowledged by one is in the next
//! read of another, whatever the other has cached (the revision is checked in the database).

use serde_json::{json, Value};

use crate::data::{id_of, instantiate};
use crate::helpers::{spawn_app, TestApp};

fn score_of(results: &Value, subject: &str) -> String {
    results["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subject_id"] == subject)
        .map(|r| r["published_score"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_else(|| panic!("no result of {subject} in {results}"))
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
