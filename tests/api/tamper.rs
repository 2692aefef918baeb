//! Issue 17 §4: a signed checkpoint of the audit chain catches a trail that was truncated (its
//! last events deleted and the head rewound) or rewritten, which the chain alone cannot. The
//! tests edit the database directly, as an intruder with database access would.

use ed25519_dalek::SigningKey;
use kaohe::store::audit;
use kaohe::store::checkpoint::{self, Checkpoint};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};

/// Runs `text` with `?` placeholders bound to `values`, on either database.
async fn sql(app: &TestApp, text: &str, values: Vec<sea_orm::Value>) {
    let db = app.state.store.db();
    let backend = db.get_database_backend();
    let mut query = String::new();
    for (i, part) in text.split('?').enumerate() {
        if i > 0 {
            match backend {
                DbBackend::Postgres => query.push_str(&format!("${i}")),
                _ => query.push('?'),
            }
        }
        query.push_str(part);
    }
    db.execute_raw(Statement::from_sql_and_values(backend, &query, values))
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"));
}

/// Deletes the county's events from `seq` on and rewinds its head to the event before, as if
/// they had never been: the chain that is left verifies by itself.
async fn truncate(app: &TestApp, seq: i64) {
    let postgres = app.state.store.db().get_database_backend() == DbBackend::Postgres;
    if postgres {
        // The append-only trigger is the database's own guard; an intruder with the owner's
        // rights switches it off.
        sql(
            app,
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
            vec![],
        )
        .await;
    }
    let county = Uuid::parse_str(&app.county_id).unwrap();
    sql(
        app,
        "DELETE FROM audit_events WHERE county_id = ? AND seq >= ?",
        vec![county.into(), seq.into()],
    )
    .await;
    sql(
        app,
        "UPDATE audit_heads SET seq = ?, hash = (SELECT hash FROM audit_events WHERE county_id = ? AND seq = ?) WHERE county_id = ?",
        vec![(seq - 1).into(), county.into(), (seq - 1).into(), county.into()],
    )
    .await;
    if postgres {
        sql(
            app,
            "ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only",
            vec![],
        )
        .await;
    }
}

fn ours<'a>(app: &TestApp, checkpoints: &'a [Checkpoint]) -> &'a Checkpoint {
    checkpoints
        .iter()
        .find(|c| c.county_id.to_string() == app.county_id)
        .expect("a checkpoint of the county")
}

#[actix_web::test]
async fn a_signed_checkpoint_detects_a_truncated_or_rewritten_trail() {
    let app = spawn_app().await;
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let trusted = key.verifying_key();
    let db = app.state.store.db();
    app.org_unit("township", "东坪乡", None).await;
    let checkpoints = checkpoint::checkpoint(db, &key).await.unwrap();
    let cp = ours(&app, &checkpoints).clone();
    assert!(cp.seq > 1);

    // A clean database verifies; later writes do not disturb the checkpoint.
    app.org_unit("township", "西岭乡", None).await;
    assert!(audit::verify(db).await.unwrap().broken.is_empty());
    assert!(checkpoint::verify_against(db, &checkpoints, &trusted)
        .await
        .unwrap()
        .is_empty());

    // A checkpoint is only as good as its signature.
    let mut forged = cp.clone();
    forged.seq -= 1;
    let broken = checkpoint::verify_against(db, &[forged], &trusted).await.unwrap();
    assert!(broken[0].reason.contains("signature"), "{broken:?}");
    let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
    assert_eq!(
        checkpoint::verify_against(db, &checkpoints, &other)
            .await
            .unwrap()
            .len(),
        1
    );

    // Truncated: the checkpointed event and everything after deleted, the head rewound. The
    // chain that is left is whole; the township subjects those events wrote no longer match it.
    truncate(&app, cp.seq).await;
    let alone = audit::verify(db).await.unwrap().broken;
    assert!(
        alone.iter().all(|b| !b.reason.contains("hash")),
        "the chain itself verifies: {alone:?}"
    );
    assert!(!alone.is_empty(), "the rows written by the deleted events betray it");
    let broken = checkpoint::verify_against(db, &checkpoints, &trusted).await.unwrap();
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(broken[0].seq, cp.seq);
    assert!(broken[0].reason.contains("truncated"), "{broken:?}");

    // Rewritten: writes after the truncation fill the checkpointed position with other events.
    app.post_as_admin("/api/v1/org-units", &json!({"kind": "township", "name": "南山乡"}))
        .await
        .assert(201);
    app.org_unit("township", "北川乡", None).await;
    let broken = checkpoint::verify_against(db, &checkpoints, &trusted).await.unwrap();
    assert_eq!(broken[0].seq, cp.seq);
    assert!(broken[0].reason.contains("rewritten"), "{broken:?}");
}

/// The first failure `audit verify` reports for the test's county.
async fn first_break(app: &TestApp) -> Option<audit::Broken> {
    let report = audit::verify(app.state.store.db()).await.unwrap();
    report
        .broken
        .into_iter()
        .find(|b| b.county_id.to_string() == app.county_id)
}

#[actix_web::test]
async fn verify_names_a_data_row_edited_deleted_or_added_beside_the_trail() {
    let app = spawn_app().await;
    let w = app.world().await;
    crate::data::instantiate(&app, "tongshi-2023-village", Some(&w.town_a)).await;
    let late = |village: &str, quantity: i32, occurred_on: &str| {
        json!({"subject_id": village, "item_code": "1.1", "rule_code": "L1", "quantity": quantity,
               "occurred_on": occurred_on, "source": "system_analysis"})
    };
    let finding = crate::data::record(&app, &w.town_a_assessor, late(&w.village_a1, 4, "2023-03-15")).await;
    let finding_id = Uuid::parse_str(finding["id"].as_str().unwrap()).unwrap();
    let other = crate::data::record(&app, &w.town_a_assessor, late(&w.village_a2, 1, "2023-04-15")).await;
    let other_id = Uuid::parse_str(other["id"].as_str().unwrap()).unwrap();
    assert_eq!(first_break(&app).await, None);

    // Edited in place: one finding's quantity, nothing else.
    sql(
        &app,
        "UPDATE incidents SET quantity = 1 WHERE id = ?",
        vec![finding_id.into()],
    )
    .await;
    let broken = first_break(&app).await.expect("an edited finding is found");
    assert!(
        broken.reason.contains(&format!("incident {finding_id} differs")),
        "{broken:?}"
    );
    sql(
        &app,
        "UPDATE incidents SET quantity = 4 WHERE id = ?",
        vec![finding_id.into()],
    )
    .await;
    assert_eq!(
        first_break(&app).await,
        None,
        "restored, the row matches its seal again"
    );

    // Deleted: the other finding vanishes.
    sql(&app, "DELETE FROM incidents WHERE id = ?", vec![other_id.into()]).await;
    let broken = first_break(&app).await.expect("a deleted finding is found");
    assert!(
        broken.reason.contains(&format!("incident {other_id} was removed")),
        "{broken:?}"
    );

    // Added beside the trail: a copy of the first finding under a new id.
    let stray = Uuid::new_v5(&Uuid::NAMESPACE_OID, b"stray finding");
    sql(
        &app,
        "INSERT INTO incidents SELECT ? AS id, county_id, created_at, updated_at, version, scheme_id, rubric_id, subject_id, township_id, village_id, kind, item_code, rule_code, occurred_on, quantity, period, rate, sampled, correct, amount, points, event_key, source, note, evidence, recorded_by, upload_id, status, revoked_at, revoked_by, revoke_reason FROM incidents WHERE id = ?",
        vec![stray.into(), finding_id.into()],
    )
    .await;
    let report = audit::verify(app.state.store.db()).await.unwrap();
    assert!(
        report.broken.iter().any(|b| b.reason.contains("more rows")),
        "two rows differ now: {:?}",
        report.broken
    );
}
