//! Issue 17 §0: simultaneous writes of one thing. Compare-and-set updates (`If-Match` /
//! `version`) and state transitions have exactly one winner; every other request of the round is
//! answered 412 or 409 (never 200, never 500), the version rises by one and the audit trail holds
//! exactly one event for the round. Runs on SQLite and on PostgreSQL.

use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::data::{audit, evaluation, file_appeal, id_of, instantiate, record, stationed};
use crate::helpers::{find_by, spawn_app, Reply, TestApp, JSON};

/// Requests fired at once per round.
const RACERS: usize = 8;
/// Rounds per resource.
const ROUNDS: usize = 3;

/// Sends `RACERS` copies of one JSON request at the same time.
async fn race(app: &TestApp, method: &str, path: &str, token: &str, body: &Value) -> Vec<Reply> {
    let bytes = serde_json::to_vec(body).unwrap();
    join_all((0..RACERS).map(|_| {
        app.send(
            method,
            path,
            Some(token),
            &[("content-type", "application/json")],
            Some(bytes.clone()),
        )
    }))
    .await
}

/// Exactly one reply has `winner`; all the others are one of `losers`. Returns the winner.
#[track_caller]
fn one_winner(replies: Vec<Reply>, winner: u16, losers: &[u16], what: &str) -> Reply {
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == winner).count(),
        1,
        "{what}: expected exactly one {winner}, got {statuses:?}: {:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    for reply in &replies {
        let status = reply.status.as_u16();
        if status != winner {
            assert!(losers.contains(&status), "{what}: unexpected {status}: {}", reply.body);
            assert!(
                reply.content_type().starts_with("application/problem+json"),
                "{what}: a loser answers a problem"
            );
        }
    }
    replies.into_iter().find(|r| r.status.as_u16() == winner).unwrap()
}

/// Rounds of simultaneous compare-and-set writes of one resource, each round sending the version
/// just read: one 200 per round, the version one higher, one more audit event with `action`.
async fn compare_and_set_rounds(
    app: &TestApp,
    (method, path): (&str, &str),
    (entity, entity_id, action): (&str, &str, &str),
    body_at: impl Fn(usize, i64) -> Value,
) {
    let events = |all: Vec<Value>| all.into_iter().filter(|e| e["action"] == action).count();
    for round in 0..ROUNDS {
        let current = app.get_ok(path).await;
        let version = current.body["version"].as_i64().unwrap();
        let before = events(audit(app, entity, entity_id).await);
        let replies = race(app, method, path, &app.admin, &body_at(round, version)).await;
        let won = one_winner(replies, 200, &[409, 412], &format!("{method} {path} round {round}"));
        assert_eq!(won.body["version"], json!(version + 1));
        let after = app.get(path, &app.admin).await;
        assert_eq!(
            after.body["version"],
            json!(version + 1),
            "the version rose by exactly one"
        );
        assert_eq!(
            events(audit(app, entity, entity_id).await),
            before + 1,
            "{method} {path} round {round}: one audit event"
        );
    }
}

#[actix_web::test]
async fn simultaneous_patches_with_one_version_have_one_winner() {
    let app = spawn_app().await;
    let w = app.world().await;

    let users = app.get("/api/v1/users?limit=100", &app.admin).await;
    let viewer = find_by(&users.body["items"], "username", "county-viewer")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let scheme = id_of(&instantiate(&app, "county-poverty", None).await);
    let subject = stationed(&app, &w, "first_secretary", "李明", &w.village_a1).await;
    // Each resource's PATCH: the field it renames, to `before{round}after`.
    for (collection, entity, id, field, before, after) in [
        ("subjects", "subject", &subject, "name", "李明", ""),
        ("org-units", "org_unit", &w.village_a2, "name", "大路村", ""),
        ("schemes", "scheme", &scheme, "title", "考核办法 第", "稿"),
        ("users", "user", &viewer, "display_name", "县级查看", ""),
    ] {
        compare_and_set_rounds(
            &app,
            ("PATCH", &format!("/api/v1/{collection}/{id}")),
            (entity, id, "update"),
            |round, version| {
                let mut body = json!({"version": version});
                body[field] = json!(format!("{before}{round}{after}"));
                body
            },
        )
        .await;
    }

    // Attributes: the first write takes the defaults without a version; later ones compare.
    let path = format!("/api/v1/subjects/{}/attributes/{scheme}", w.department);
    app.put(&path, &app.admin, &json!({"ranking_group": "经济类"}))
        .await
        .assert(200);
    compare_and_set_rounds(
        &app,
        ("PUT", &path),
        ("subject", &w.department, "set_attributes"),
        |round, version| json!({"ranking_group": format!("组{round}"), "version": version}),
    )
    .await;
}

#[actix_web::test]
async fn simultaneous_transitions_have_one_winner() {
    let app = spawn_app().await;
    let w = app.world().await;
    // Seed A for town A: its village findings are recorded below.
    instantiate(&app, "tongshi-2023-village", Some(&w.town_a)).await;

    // Revoking one finding: one revoke, one event.
    for round in 0..ROUNDS {
        let finding = record(
            &app,
            &w.town_a_assessor,
            json!({"subject_id": w.village_a1, "item_code": "2.1", "rule_code": "missing_doc", "occurred_on": format!("2023-04-0{}", round + 1)}),
        )
        .await;
        let id = id_of(&finding);
        let replies = race(
            &app,
            "POST",
            &format!("/api/v1/incidents/{id}/revoke"),
            &w.town_a_assessor,
            &json!({"reason": "重复录入"}),
        )
        .await;
        let won = one_winner(replies, 200, &[409], "revoke");
        assert_eq!(won.body["status"], "revoked");
        assert_eq!(won.body["version"], 2);
        let revokes = audit(&app, "incident", &id)
            .await
            .into_iter()
            .filter(|e| e["action"] == "revoke")
            .count();
        assert_eq!(revokes, 1, "one revoke event");
    }

    // Accepting and upholding one appeal at once: one decision, one event, no 500.
    for round in 0..ROUNDS {
        let finding = record(
            &app,
            &w.town_a_assessor,
            json!({"subject_id": w.village_a1, "item_code": "1.3", "rule_code": "error", "quantity": 2, "occurred_on": format!("2023-05-1{round}")}),
        )
        .await;
        let incident = id_of(&finding);
        let appeal = file_appeal(&app, &w.village_a1_viewer, &incident, "数据已更正").await;
        let path = format!("/api/v1/appeals/{}/decision", appeal.id());
        let bodies: Vec<Vec<u8>> = (0..RACERS)
            .map(|i| {
                let decision = if i % 2 == 0 { "accept" } else { "uphold" };
                serde_json::to_vec(&json!({"decision": decision, "note": "经核实"})).unwrap()
            })
            .collect();
        let replies = join_all(
            bodies
                .into_iter()
                .map(|body| app.upload_as(&w.town_a_assessor, &path, JSON, body)),
        )
        .await;
        let won = one_winner(replies, 200, &[409], "appeal decision");
        let decides = audit(&app, "appeal", &appeal.id())
            .await
            .into_iter()
            .filter(|e| e["action"] == "decide")
            .count();
        assert_eq!(decides, 1, "one decide event");
        let finding = app.get(&format!("/api/v1/incidents/{incident}"), &app.admin).await;
        let expected = if won.body["status"] == "accepted" {
            "revoked"
        } else {
            "active"
        };
        assert_eq!(finding.body["status"], expected, "the finding follows the one decision");
        let revocations = audit(&app, "incident", &incident)
            .await
            .into_iter()
            .filter(|e| e["action"] == "revoke_on_appeal")
            .count();
        assert_eq!(revocations, usize::from(expected == "revoked"));
    }
}

#[actix_web::test]
async fn simultaneous_closes_and_corrections_have_one_winner() {
    let app = spawn_app().await;
    let _w = app.world().await;
    let county = instantiate(&app, "county-poverty", None).await;
    let scheme = id_of(&county);

    // Closing, then reopening, one evaluation.
    let half = evaluation(&app, &scheme, "half_year").await;
    for (round, action) in ["close", "reopen", "close"].into_iter().enumerate() {
        let replies = race(
            &app,
            "POST",
            &format!("/api/v1/evaluations/{half}/{action}"),
            &app.admin,
            &json!({}),
        )
        .await;
        one_winner(replies, 200, &[409], action);
        let events = audit(&app, "evaluation", &half)
            .await
            .into_iter()
            .filter(|e| e["action"] == action)
            .count();
        assert_eq!(events, if round == 2 { 2 } else { 1 }, "one {action} event per round");
    }

    // Correcting one publication: one new version supersedes it.
    let first = app
        .create(
            "/api/v1/publications",
            &json!({"scheme_id": scheme, "subject_type": "township", "title": "2023年度乡镇考核结果"}),
        )
        .await;
    let before = app.count("publications").await;
    let replies = race(
        &app,
        "POST",
        "/api/v1/publications",
        &app.admin,
        &json!({"scheme_id": scheme, "subject_type": "township", "supersedes_id": first.id(), "correction_reason": "更正"}),
    )
    .await;
    let won = one_winner(replies, 201, &[409], "supersede");
    assert_eq!(won.body["supersedes_id"], json!(first.id()));
    assert_eq!(app.count("publications").await, before + 1, "one correction stored");
}
