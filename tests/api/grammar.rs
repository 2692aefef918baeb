//! Issue 17 §3: the grammar the committed OpenAPI document publishes is the grammar the service
//! accepts. The decimal and date patterns are read from `openapi/openapi.json`; each candidate's
//! expected answer follows from whether the pattern matches it, in JSON bodies, NDJSON and CSV
//! bulk rows and query parameters alike; off the pattern is a 422 naming the field.

use regex::Regex;
use serde_json::{json, Value};

use crate::data::{evaluation, id_of, individual, instantiate};
use crate::helpers::{spawn_app, Reply, TestApp};

fn document() -> Value {
    serde_json::from_str(include_str!("../../openapi/openapi.json")).expect("the committed document")
}

/// The pattern of a component schema, compiled.
fn pattern(doc: &Value, schema: &str) -> Regex {
    let text = doc["components"]["schemas"][schema]["pattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{schema} publishes no pattern"));
    Regex::new(text).unwrap()
}

/// The schema reference of a property of a component (through `Option`'s `oneOf`, if any).
fn reference(doc: &Value, schema: &str, property: &str) -> String {
    let p = &doc["components"]["schemas"][schema]["properties"][property];
    let direct = p["$ref"].as_str();
    let nullable = p["oneOf"]
        .as_array()
        .and_then(|alts| alts.iter().find_map(|a| a["$ref"].as_str()));
    direct
        .or(nullable)
        .unwrap_or_else(|| panic!("{schema}.{property} names no schema: {p}"))
        .to_owned()
}

#[track_caller]
fn assert_grammar(reply: &Reply, accepted: bool, ok: u16, field: &str, what: &str) {
    if accepted {
        assert_eq!(reply.status.as_u16(), ok, "{what} is in the pattern: {}", reply.body);
    } else {
        assert_eq!(reply.status.as_u16(), 422, "{what} is off the pattern: {}", reply.body);
        let errors = reply.body["errors"].as_array().cloned().unwrap_or_default();
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && e["code"] == "request.field_invalid"),
            "{what}: expected request.field_invalid on {field}: {}",
            reply.body
        );
    }
}

async fn bulk(app: &TestApp, content_type: &str, body: String) -> Reply {
    app.upload("/api/v1/incidents:bulk?dry_run=true", content_type, body, None)
        .await
}

/// Sends a finding with `points` and `occurred_on` as given: as a JSON body (a real write),
/// as an NDJSON row and as a CSV row (dry runs).
async fn each_way(app: &TestApp, town: &str, points: &str, date: &str, accepted: bool, field: &str) {
    let finding = json!({"subject_id": town, "item_code": "5", "rule_code": "bonus", "points": points,
                         "note": "经验推广", "occurred_on": date});
    let what = format!("points {points:?}, occurred_on {date:?}");
    let reply = app.post_as_admin("/api/v1/incidents", &finding).await;
    assert_grammar(&reply, accepted, 201, field, &format!("JSON {what}"));
    let reply = bulk(app, "application/x-ndjson", format!("{finding}\n")).await;
    assert_grammar(&reply, accepted, 200, field, &format!("NDJSON {what}"));
    // CSV trims its cells and reads an empty one as absent: spaced or empty values are no CSV case.
    let plain = |v: &str| !v.is_empty() && v.trim() == v;
    if plain(points) && plain(date) {
        let csv = format!(
            "subject_id,item_code,rule_code,points,note,occurred_on\n{town},5,bonus,\"{points}\",经验推广,\"{date}\"\n"
        );
        let reply = bulk(app, "text/csv", csv).await;
        assert_grammar(&reply, accepted, 200, field, &format!("CSV {what}"));
    }
}

#[actix_web::test]
async fn decimals_and_dates_are_accepted_exactly_as_the_document_publishes_them() {
    let doc = document();
    let decimal = pattern(&doc, "DecimalString");
    let date = pattern(&doc, "DateString");
    // The fields sent below are the ones the patterns govern.
    assert_eq!(
        reference(&doc, "NewIncident", "points"),
        "#/components/schemas/DecimalString"
    );
    assert_eq!(
        reference(&doc, "NewIncident", "occurred_on"),
        "#/components/schemas/DateString"
    );
    assert_eq!(
        reference(&doc, "NewBallot", "score"),
        "#/components/schemas/DecimalString"
    );

    let app = spawn_app().await;
    let town = app.org_unit("township", "东坪乡", None).await;
    let department = app.org_unit("department", "县农业农村局", None).await;
    let scheme = id_of(&instantiate(&app, "county-poverty", None).await);

    // Decimals: every candidate in the pattern is a bonus the rubric takes.
    let decimals = [
        "5", "2.5", "0.25", "10", "85.", ".5", "+5", "-.5", "1e0", "5,5", "0x5", "", "-", "5.0.1", " 5", "5 ", "٥",
    ];
    let mut seen = [0, 0];
    for points in decimals {
        let accepted = decimal.is_match(points);
        seen[accepted as usize] += 1;
        each_way(&app, &town, points, "2023-05-01", accepted, "points").await;
    }
    assert!(
        seen[0] > 0 && seen[1] > 0,
        "cases on both sides of the pattern: {seen:?}"
    );

    // Dates: a candidate in the pattern is taken when it is a day of the scheme year.
    let dates = [
        "2023-03-15",
        "2023-12-31",
        "2023-2-3",
        "+002023-03-15",
        "2023-03-15T00:00:00Z",
        "20230315",
        "2023/03/15",
        "2023-03-1",
        " 2023-03-15",
        "2023-02-30",
    ];
    let mut seen = [0, 0];
    for day in dates {
        let real = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok();
        let accepted = date.is_match(day) && real;
        seen[accepted as usize] += 1;
        each_way(&app, &town, "1", day, accepted, "occurred_on").await;
        // The same grammar in a query parameter.
        let query = format!(
            "/api/v1/incidents?from={}",
            form_urlencoded::byte_serialize(day.as_bytes()).collect::<String>()
        );
        let reply = app.get(&query, &app.admin).await;
        assert_grammar(&reply, accepted, 200, "from", &format!("?from={day:?}"));
    }
    assert!(
        seen[0] > 0 && seen[1] > 0,
        "cases on both sides of the pattern: {seen:?}"
    );

    // Ballot and scoresheet scores follow the same decimal grammar.
    let secretary = individual(&app, "first_secretary", "李明", Some(&department), None).await;
    let democratic = evaluation(&app, &scheme, "democratic_half_year").await;
    let half = evaluation(&app, &scheme, "half_year").await;
    for score in ["90", "93.5", "90.", ".5", "+90"] {
        let accepted = decimal.is_match(score);
        let reply = app
            .post_as_admin(
                "/api/v1/ballots",
                &json!({"evaluation_id": democratic, "subject_id": secretary, "score": score}),
            )
            .await;
        assert_grammar(&reply, accepted, 201, "score", &format!("ballot score {score:?}"));
        let reply = app
            .post_as_admin(
                "/api/v1/scoresheets",
                &json!({"evaluation_id": half, "subject_id": secretary, "scores": {"1": score.replace('9', "1")}}),
            )
            .await;
        let sheet_score = score.replace('9', "1");
        assert_grammar(
            &reply,
            decimal.is_match(&sheet_score),
            201,
            "scores",
            &format!("scoresheet score {sheet_score:?}"),
        );
    }
}
