//! Issue 4's scope matrix for the data endpoints: findings, subjects, results and rankings. Town A's
//! users never see town B's rows, whatever they ask for; villages see themselves; viewers do not
//! write; the county sees everything.

use serde_json::{json, Value};

use crate::data::{id_of, ids, instantiate, record, stationed};
use crate::helpers::{spawn_app, Reply, TestApp, World};

/// A county-wide Seed A scheme (all villages of both towns), one finding in each of villages A1,
/// A2 and B1, and a first secretary in each town.
struct Fixture {
    app: TestApp,
    w: World,
    scheme: String,
    finding_a1: String,
    finding_a2: String,
    finding_b1: String,
    secretary_a: String,
    secretary_b: String,
}

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let w = app.world().await;
    let scheme = id_of(&instantiate(&app, "tongshi-2023-village", None).await);
    let deduction = |village: &str| json!({"subject_id": village, "item_code": "1.1", "rule_code": "L1", "quantity": 2, "occurred_on": "2023-03-01"});
    let finding_a1 = id_of(&record(&app, &w.town_a_assessor, deduction(&w.village_a1)).await);
    let finding_a2 = id_of(&record(&app, &w.town_a_assessor, deduction(&w.village_a2)).await);
    let finding_b1 = id_of(&record(&app, &w.town_b_assessor, deduction(&w.village_b1)).await);
    let secretary_a = stationed(&app, &w, "first_secretary", "李明", &w.village_a1).await;
    let secretary_b = stationed(&app, &w, "first_secretary", "王强", &w.village_b1).await;
    Fixture {
        app,
        w,
        scheme,
        finding_a1,
        finding_a2,
        finding_b1,
        secretary_a,
        secretary_b,
    }
}

/// Subject ids of a results page.
fn result_subjects(reply: &Reply) -> Vec<String> {
    reply.assert(200);
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subject_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Subject ids of every ranking entry.
fn ranked_subjects(reply: &Reply) -> Vec<String> {
    reply.assert(200);
    reply.body["rankings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["entries"].as_array().unwrap().iter())
        .map(|e| e["subject_id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn township_assessors_record_findings_only_in_their_town() {
    let Fixture { app, w, .. } = fixture().await;
    let body = |village: &str| json!({"subject_id": village, "item_code": "2.1", "rule_code": "missing_doc", "occurred_on": "2023-04-01"});
    record(&app, &w.town_a_assessor, body(&w.village_a2)).await;
    let before = app.count("incidents").await;
    // Town B's village does not exist for town A's assessor, and the other way round.
    for (assessor, village) in [(&w.town_a_assessor, &w.village_b1), (&w.town_b_assessor, &w.village_a1)] {
        app.post("/api/v1/incidents", assessor, &body(village))
            .await
            .assert_problem(422, "incident.subject_unknown", Some("subject_id"));
    }
    // Nor may town A's assessor score town B itself, or the county's department.
    app.post(
        "/api/v1/incidents",
        &w.town_a_assessor,
        &json!({"subject_id": w.town_b, "kind": "veto", "note": "否决", "occurred_on": "2023-04-01"}),
    )
    .await
    .assert_problem(422, "incident.subject_unknown", Some("subject_id"));
    app.post(
        "/api/v1/incidents",
        &w.town_a_assessor,
        &json!({"subject_id": w.department, "kind": "veto", "note": "否决", "occurred_on": "2023-04-01"}),
    )
    .await
    .assert_problem(422, "incident.subject_unknown", Some("subject_id"));
    assert_eq!(app.count("incidents").await, before);
    // The county's assessor records anywhere.
    record(&app, &w.county_assessor, body(&w.village_b1)).await;
    record(&app, &w.county_assessor, body(&w.village_a1)).await;
}

#[actix_web::test]
async fn town_b_objects_answer_404_to_town_a_users() {
    let Fixture {
        app,
        w,
        scheme,
        finding_a1,
        finding_a2,
        finding_b1,
        secretary_b,
        ..
    } = fixture().await;
    for (who, token) in [
        ("town A admin", &w.town_a_admin),
        ("town A assessor", &w.town_a_assessor),
        ("town A viewer", &w.town_a_viewer),
        ("village A1 viewer", &w.village_a1_viewer),
    ] {
        for path in [
            format!("/api/v1/incidents/{finding_b1}"),
            format!("/api/v1/subjects/{}", w.village_b1),
            format!("/api/v1/subjects/{}", w.town_b),
            format!("/api/v1/subjects/{secretary_b}"),
            format!("/api/v1/subjects/{}/result?scheme_id={scheme}", w.village_b1),
        ] {
            let reply = app.get(&path, token).await;
            assert_eq!(reply.status.as_u16(), 404, "{who} GET {path}: {}", reply.body);
            reply.assert_problem(404, "not_found", None);
        }
        // Writing to them is 404 too, not 403: existence does not leak.
        app.post(
            &format!("/api/v1/incidents/{finding_b1}/revoke"),
            token,
            &json!({"reason": "x"}),
        )
        .await
        .assert_problem(404, "not_found", None);
        app.post(
            &format!("/api/v1/incidents/{finding_b1}/appeals"),
            token,
            &json!({"reason": "x"}),
        )
        .await
        .assert_problem(404, "not_found", None);
    }
    // Town A's users read their own town.
    for token in [&w.town_a_admin, &w.town_a_assessor, &w.town_a_viewer] {
        app.get(&format!("/api/v1/incidents/{finding_a2}"), token)
            .await
            .assert(200);
        app.get(
            &format!("/api/v1/subjects/{}/result?scheme_id={scheme}", w.village_a2),
            token,
        )
        .await
        .assert(200);
    }
    // A village viewer sees its own village only.
    let v = &w.village_a1_viewer;
    app.get(&format!("/api/v1/incidents/{finding_a1}"), v).await.assert(200);
    app.get(
        &format!("/api/v1/subjects/{}/result?scheme_id={scheme}", w.village_a1),
        v,
    )
    .await
    .assert(200);
    for path in [
        format!("/api/v1/incidents/{finding_a2}"),
        format!("/api/v1/subjects/{}", w.village_a2),
        format!("/api/v1/subjects/{}", w.town_a),
        format!("/api/v1/subjects/{}/result?scheme_id={scheme}", w.village_a2),
    ] {
        app.get(&path, v).await.assert_problem(404, "not_found", None);
    }
    // Town B's assessor cannot see town A.
    app.get(&format!("/api/v1/incidents/{finding_a1}"), &w.town_b_assessor)
        .await
        .assert_problem(404, "not_found", None);
    // Nor simulate it.
    app.post(
        "/api/v1/results:simulate",
        &w.town_b_assessor,
        &json!({"scheme_id": scheme, "subject_id": w.village_a1}),
    )
    .await
    .assert_problem(404, "not_found", None);
    // A publication to town B is town B's: town A's users neither list nor read it.
    let published = app
        .create(
            "/api/v1/publications",
            &json!({"scheme_id": scheme, "kind": "monthly", "month": 3, "township_id": w.town_b}),
        )
        .await;
    let for_a = app
        .create(
            "/api/v1/publications",
            &json!({"scheme_id": scheme, "kind": "monthly", "month": 3, "township_id": w.town_a}),
        )
        .await;
    let content = serde_json::to_string(&for_a.body["content"]).unwrap();
    assert!(
        !content.contains(&w.village_b1),
        "town A's publication holds only town A"
    );
    for token in [&w.town_a_admin, &w.town_a_viewer, &w.village_a1_viewer] {
        app.get(&format!("/api/v1/publications/{}", published.id()), token)
            .await
            .assert_problem(404, "not_found", None);
        let listed = ids(&app.get("/api/v1/publications", token).await);
        assert_eq!(listed, vec![for_a.id()]);
    }
    app.get(&format!("/api/v1/publications/{}", published.id()), &w.town_b_assessor)
        .await
        .assert(200);
}

#[actix_web::test]
async fn lists_never_show_another_towns_rows_whatever_the_filter() {
    let Fixture {
        app,
        w,
        scheme,
        finding_a1,
        finding_a2,
        finding_b1,
        secretary_a,
        secretary_b,
    } = fixture().await;
    for (who, token) in [
        ("town A admin", &w.town_a_admin),
        ("town A assessor", &w.town_a_assessor),
        ("town A viewer", &w.town_a_viewer),
    ] {
        let incidents = ids(&app.get("/api/v1/incidents?limit=1000", token).await);
        assert!(
            incidents.contains(&finding_a1) && incidents.contains(&finding_a2),
            "{who}"
        );
        assert!(!incidents.contains(&finding_b1), "{who}: {incidents:?}");
        for filter in [
            format!("township_id={}", w.town_b),
            format!("village_id={}", w.village_b1),
            format!("subject_id={}", w.village_b1),
        ] {
            let listed = ids(&app.get(&format!("/api/v1/incidents?{filter}"), token).await);
            assert!(listed.is_empty(), "{who} /incidents?{filter}: {listed:?}");
        }

        let subjects = ids(&app.get("/api/v1/subjects?limit=1000", token).await);
        for own in [&w.town_a, &w.village_a1, &w.village_a2, &secretary_a] {
            assert!(subjects.contains(own), "{who}: {subjects:?}");
        }
        for other in [&w.town_b, &w.village_b1, &secretary_b, &w.department] {
            assert!(!subjects.contains(other), "{who} sees {other}");
        }
        for filter in [
            format!("township_id={}", w.town_b),
            format!("village_id={}", w.village_b1),
            format!("dispatched_by={}", w.department),
        ] {
            let listed = ids(&app.get(&format!("/api/v1/subjects?{filter}"), token).await);
            assert!(
                !listed.contains(&secretary_b) && !listed.contains(&w.village_b1),
                "{who} /subjects?{filter}: {listed:?}"
            );
        }

        let results = result_subjects(&app.get(&format!("/api/v1/results?scheme_id={scheme}"), token).await);
        assert!(
            results.contains(&w.village_a1) && results.contains(&w.village_a2),
            "{who}"
        );
        assert!(!results.contains(&w.village_b1), "{who}: {results:?}");
        let filtered = result_subjects(
            &app.get(
                &format!("/api/v1/results?scheme_id={scheme}&township_id={}", w.town_b),
                token,
            )
            .await,
        );
        assert!(filtered.is_empty(), "{who}: {filtered:?}");
        let monthly = result_subjects(
            &app.get(
                &format!("/api/v1/results?scheme_id={scheme}&kind=monthly&month=6"),
                token,
            )
            .await,
        );
        assert!(!monthly.contains(&w.village_b1), "{who}: {monthly:?}");

        let rankings = app.get(&format!("/api/v1/rankings?scheme_id={scheme}"), token).await;
        let ranked = ranked_subjects(&rankings);
        assert!(ranked.contains(&w.village_a1), "{who}");
        assert!(!ranked.contains(&w.village_b1), "{who}: {ranked:?}");
        for group in rankings.body["rankings"].as_array().unwrap() {
            assert_ne!(group["group"]["township_id"], json!(w.town_b), "{who}: {group}");
        }
        let csv = app
            .send(
                "GET",
                &format!("/api/v1/results?scheme_id={scheme}"),
                Some(token),
                &[("accept", "text/csv")],
                None,
            )
            .await;
        csv.assert(200);
        let text = String::from_utf8_lossy(&csv.bytes);
        assert!(
            text.contains(&w.village_a1) && !text.contains(&w.village_b1),
            "{who}: {text}"
        );
    }

    // A village viewer lists its own village and what is stationed there, nothing else.
    let v = &w.village_a1_viewer;
    assert_eq!(ids(&app.get("/api/v1/incidents", v).await), vec![finding_a1.clone()]);
    assert!(ids(&app
        .get(&format!("/api/v1/incidents?village_id={}", w.village_a2), v)
        .await)
    .is_empty());
    let mut subjects = ids(&app.get("/api/v1/subjects", v).await);
    subjects.sort();
    let mut expected = vec![w.village_a1.clone(), secretary_a.clone()];
    expected.sort();
    assert_eq!(subjects, expected);
    assert_eq!(
        result_subjects(&app.get(&format!("/api/v1/results?scheme_id={scheme}"), v).await),
        vec![w.village_a1.clone()]
    );
    assert_eq!(
        ranked_subjects(&app.get(&format!("/api/v1/rankings?scheme_id={scheme}"), v).await),
        vec![w.village_a1.clone()]
    );

    // The county viewer reads everything.
    let c = &w.county_viewer;
    let incidents = ids(&app.get("/api/v1/incidents?limit=1000", c).await);
    for f in [&finding_a1, &finding_a2, &finding_b1] {
        assert!(incidents.contains(f));
    }
    assert_eq!(
        ids(&app.get(&format!("/api/v1/incidents?township_id={}", w.town_b), c).await),
        vec![finding_b1.clone()]
    );
    let subjects = ids(&app.get("/api/v1/subjects?limit=1000", c).await);
    for s in [
        &w.town_a,
        &w.town_b,
        &w.village_b1,
        &w.department,
        &secretary_a,
        &secretary_b,
    ] {
        assert!(subjects.contains(s));
    }
    let results = result_subjects(&app.get(&format!("/api/v1/results?scheme_id={scheme}"), c).await);
    for village in [&w.village_a1, &w.village_a2, &w.village_b1] {
        assert!(results.contains(village));
    }
    let ranked = ranked_subjects(&app.get(&format!("/api/v1/rankings?scheme_id={scheme}"), c).await);
    assert!(ranked.contains(&w.village_a1) && ranked.contains(&w.village_b1));
    app.get(&format!("/api/v1/incidents/{finding_b1}"), c).await.assert(200);
    app.get(
        &format!("/api/v1/subjects/{}/result?scheme_id={scheme}", w.village_b1),
        c,
    )
    .await
    .assert(200);
}

#[actix_web::test]
async fn viewers_cannot_write() {
    let Fixture {
        app,
        w,
        scheme,
        finding_a1,
        secretary_a,
        ..
    } = fixture().await;
    let county = id_of(&instantiate(&app, "county-poverty", None).await);
    let half = crate::data::evaluation(&app, &county, "half_year").await;
    let democratic = crate::data::evaluation(&app, &county, "democratic_half_year").await;
    let tables = [
        "incidents",
        "scoresheets",
        "ballots",
        "evaluations",
        "publications",
        "audit_events",
    ];
    let mut before = Vec::new();
    for t in tables {
        before.push(app.count(t).await);
    }
    let finding =
        json!({"subject_id": w.village_a1, "item_code": "1.1", "rule_code": "L1", "occurred_on": "2023-03-01"});
    for (who, token) in [
        ("county viewer", &w.county_viewer),
        ("town A viewer", &w.town_a_viewer),
        ("village A1 viewer", &w.village_a1_viewer),
    ] {
        let reply = app.post("/api/v1/incidents", token, &finding).await;
        assert_eq!(reply.status.as_u16(), 403, "{who}: {}", reply.body);
        reply.assert_problem(403, "auth.forbidden", None);
        app.post(
            &format!("/api/v1/incidents/{finding_a1}/revoke"),
            token,
            &json!({"reason": "x"}),
        )
        .await
        .assert_problem(403, "auth.forbidden", None);
        app.post(
            "/api/v1/ballots",
            token,
            &json!({"evaluation_id": democratic, "subject_id": secretary_a, "score": "90"}),
        )
        .await
        .assert_problem(403, "auth.forbidden", None);
        app.post(
            "/api/v1/scoresheets",
            token,
            &json!({"evaluation_id": half, "subject_id": secretary_a, "scores": {"1": "10"}}),
        )
        .await
        .assert_problem(403, "auth.forbidden", None);
        app.post(&format!("/api/v1/evaluations/{half}/close"), token, &json!({}))
            .await
            .assert_problem(403, "auth.forbidden", None);
        app.post(
            "/api/v1/publications",
            token,
            &json!({"scheme_id": scheme, "kind": "monthly", "month": 3}),
        )
        .await
        .assert_problem(403, "auth.forbidden", None);
    }
    let mut after = Vec::new();
    for t in tables {
        after.push(app.count(t).await);
    }
    assert_eq!(after, before, "refused writes wrote nothing");
    // Reading stays open to them.
    let read: Value = app
        .get(&format!("/api/v1/incidents/{finding_a1}"), &w.village_a1_viewer)
        .await
        .body;
    assert_eq!(read["status"], "active");
}
