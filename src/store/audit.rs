//! The audit trail: an append-only, per-county hash chain of every change.
//!
//! Each event's hash is SHA-256 over the previous event's hash and a canonical encoding of the
//! event (keys sorted, timestamps to the microsecond), so editing or removing any stored event
//! breaks the chain at that event. Appends take a row lock on the county's chain head
//! (PostgreSQL) or run under the single-writer lock (SQLite), so the chain cannot fork.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::entities::{audit_event, audit_head, audit_row};
use super::seals::{self, RowSeal, Seal};
use crate::telemetry;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who is changing something, as the audit trail records it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub name: String,
    pub role: String,
    pub level: String,
    pub county_id: Uuid,
    pub org_unit_id: Option<Uuid>,
}

impl Actor {
    /// The service itself (bootstrap, command line, demo loader).
    pub fn system(county_id: Uuid, name: &str) -> Self {
        Self {
            id: None,
            name: name.to_owned(),
            role: "system".to_owned(),
            level: "system".to_owned(),
            county_id,
            org_unit_id: None,
        }
    }

    /// A signed-in user or service account, acting from its org unit.
    pub fn principal(
        id: Uuid,
        name: &str,
        role: crate::auth::Role,
        level: crate::auth::Level,
        county_id: Uuid,
        org_unit_id: Uuid,
    ) -> Self {
        Self {
            id: Some(id),
            name: name.to_owned(),
            role: role.as_str().to_owned(),
            level: level.as_str().to_owned(),
            county_id,
            org_unit_id: Some(org_unit_id),
        }
    }
}

/// One change: what was done to which entity, and its state before and after.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: String,
    pub entity: &'static str,
    pub entity_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// Rows the change wrote beyond the one it names (see [`seals::default_seal`]).
    pub seals: Vec<Seal>,
}

impl Change {
    pub fn new(action: impl Into<String>, entity: &'static str, entity_id: Option<Uuid>) -> Self {
        Self {
            action: action.into(),
            entity,
            entity_id,
            before: None,
            after: None,
            seals: Vec::new(),
        }
    }

    /// Seals more rows the change wrote (a superseded scoresheet, a whole county).
    pub fn seal(mut self, seal: Seal) -> Self {
        self.seals.push(seal);
        self
    }

    pub fn before(mut self, state: &impl Serialize) -> Self {
        self.before = serde_json::to_value(state).ok();
        self
    }

    pub fn after(mut self, state: &impl Serialize) -> Self {
        self.after = serde_json::to_value(state).ok();
        self
    }

    /// A created entity: no before.
    pub fn created(entity: &'static str, id: Uuid, state: &impl Serialize) -> Self {
        Self::new("create", entity, Some(id)).after(state)
    }

    /// An updated entity.
    pub fn updated(
        action: &str,
        entity: &'static str,
        id: Uuid,
        before: &impl Serialize,
        after: &impl Serialize,
    ) -> Self {
        Self::new(action, entity, Some(id)).before(before).after(after)
    }
}

/// JSON with object keys sorted at every level: one text per value, whatever built it.
pub fn canonical_json(value: &Value) -> String {
    fn sort(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut sorted = serde_json::Map::new();
                for key in keys {
                    sorted.insert(key.clone(), sort(&map[key]));
                }
                Value::Object(sorted)
            }
            Value::Array(items) => Value::Array(items.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(value).to_string()
}

fn time_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The hash of an event given its predecessor's hash.
pub fn event_hash(event: &audit_event::Model) -> String {
    let mut body = serde_json::json!({
        "county_id": event.county_id,
        "seq": event.seq,
        "id": event.id,
        "occurred_at": time_text(&event.occurred_at),
        "actor_id": event.actor_id,
        "actor": event.actor,
        "role": event.role,
        "level": event.level,
        "scope_org_unit_id": event.scope_org_unit_id,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "request_id": event.request_id,
        "before": event.before,
        "after": event.after,
    });
    // Events before row seals existed hash as they always did.
    if let (Some(count), Some(digest), Some(map)) = (event.rows_count, &event.rows_digest, body.as_object_mut()) {
        map.insert(
            "rows".to_owned(),
            serde_json::json!({ "count": count, "digest": digest }),
        );
    }
    let mut hasher = Sha256::new();
    hasher.update(event.prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_json(&body).as_bytes());
    hex::encode(hasher.finalize())
}

/// Appends one event to `county_id`'s chain inside the caller's transaction.
pub async fn append<C: ConnectionTrait>(
    conn: &C,
    backend: DbBackend,
    county_id: Uuid,
    actor: &Actor,
    change: Change,
) -> Result<audit_event::Model, DbErr> {
    // Make sure the head row exists, then lock it: concurrent appenders queue here.
    let mut insert_head = Query::insert();
    insert_head
        .into_table(audit_head::Entity)
        .columns([
            audit_head::Column::CountyId,
            audit_head::Column::Seq,
            audit_head::Column::Hash,
        ])
        .values_panic([county_id.into(), 0i64.into(), GENESIS_HASH.into()])
        .on_conflict(OnConflict::column(audit_head::Column::CountyId).do_nothing().to_owned());
    conn.execute(&insert_head).await?;

    let mut select = audit_head::Entity::find_by_id(county_id);
    if backend == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    let head = select
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit head".to_owned()))?;

    let mut wanted = change.seals.clone();
    if let Some(seal) = seals::default_seal(&change.action, change.entity, change.entity_id) {
        wanted.insert(0, seal);
    }
    let rows = seals::resolve(conn, county_id, &wanted).await?;
    let request_id = telemetry::current_request().map(|c| c.request_id);
    let mut event = audit_event::Model {
        county_id,
        seq: head.seq + 1,
        id: super::new_id(),
        occurred_at: super::now(),
        actor_id: actor.id,
        actor: actor.name.clone(),
        role: actor.role.clone(),
        level: actor.level.clone(),
        scope_org_unit_id: actor.org_unit_id,
        action: change.action,
        entity: change.entity.to_owned(),
        entity_id: change.entity_id,
        request_id,
        before: change.before.as_ref().map(canonical_json),
        after: change.after.as_ref().map(canonical_json),
        prev_hash: head.hash.clone(),
        hash: String::new(),
        rows_count: (!rows.is_empty()).then_some(rows.len() as i64),
        rows_digest: (!rows.is_empty()).then(|| seals::rows_digest(&rows)),
    };
    event.hash = event_hash(&event);

    let active: audit_event::ActiveModel = event.clone().into();
    audit_event::Entity::insert(active).exec_without_returning(conn).await?;
    insert_row_seals(conn, county_id, event.seq, rows).await?;
    let mut update_head = Query::update();
    update_head
        .table(audit_head::Entity)
        .value(audit_head::Column::Seq, event.seq)
        .value(audit_head::Column::Hash, event.hash.clone())
        .and_where(Expr::col(audit_head::Column::CountyId).eq(county_id));
    conn.execute(&update_head).await?;
    Ok(event)
}

async fn insert_row_seals<C: ConnectionTrait>(
    conn: &C,
    county_id: Uuid,
    seq: i64,
    rows: Vec<RowSeal>,
) -> Result<(), DbErr> {
    let lines: Vec<audit_row::ActiveModel> = rows
        .into_iter()
        .enumerate()
        .map(|(ordinal, row)| {
            audit_row::Model {
                county_id,
                seq,
                ordinal: ordinal as i32,
                entity: row.entity,
                row_id: row.row_id,
                digest: row.digest,
            }
            .into()
        })
        .collect();
    let mut lines = lines.into_iter().peekable();
    while lines.peek().is_some() {
        let chunk: Vec<audit_row::ActiveModel> = lines.by_ref().take(1000).collect();
        audit_row::Entity::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// The head of `county_id`'s chain (sequence and hash of its last event; 0 and the genesis hash
/// before any), read inside a write transaction. On PostgreSQL the head row is locked as
/// [`append`] locks it, so no other writer moves the head before this transaction commits; on
/// SQLite the single writer holds the file.
pub async fn head_for_update<C: ConnectionTrait>(
    conn: &C,
    backend: DbBackend,
    county_id: Uuid,
) -> Result<(i64, String), DbErr> {
    let mut select = audit_head::Entity::find().filter(audit_head::Column::CountyId.eq(county_id));
    if backend == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    Ok(select
        .one(conn)
        .await?
        .map(|h| (h.seq, h.hash))
        .unwrap_or_else(|| (0, GENESIS_HASH.to_owned())))
}

/// Where a county's chain first fails to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub county_id: Uuid,
    pub seq: i64,
    pub reason: String,
}

/// Verification outcome of all chains.
#[derive(Debug, Default)]
pub struct Verification {
    pub counties: usize,
    pub events: u64,
    /// Current data rows checked against their seals.
    pub rows: u64,
    pub broken: Vec<Broken>,
}

/// Recomputes every county's chain from the first event and names the first broken event of each.
pub async fn verify<C: ConnectionTrait>(conn: &C) -> Result<Verification, DbErr> {
    let mut report = Verification::default();
    let heads = audit_head::Entity::find().all(conn).await?;
    for head in heads {
        report.counties += 1;
        let mut prev_hash = GENESIS_HASH.to_owned();
        let mut expected_seq = 1i64;
        let mut last_seq = 0i64;
        let mut broken: Option<Broken> = None;
        let mut commitments: HashMap<i64, (i64, String)> = HashMap::new();
        let page_size = 5000u64;
        'pages: loop {
            let events = audit_event::Entity::find()
                .filter(audit_event::Column::CountyId.eq(head.county_id))
                .filter(audit_event::Column::Seq.gte(expected_seq))
                .order_by_asc(audit_event::Column::Seq)
                .limit(page_size)
                .all(conn)
                .await?;
            let fetched = events.len() as u64;
            for event in events {
                report.events += 1;
                let fail = |reason: &str| Broken {
                    county_id: head.county_id,
                    seq: event.seq,
                    reason: reason.to_owned(),
                };
                if event.seq != expected_seq {
                    broken = Some(Broken {
                        county_id: head.county_id,
                        seq: expected_seq,
                        reason: format!("event {expected_seq} is missing"),
                    });
                    break 'pages;
                }
                if event.prev_hash != prev_hash {
                    broken = Some(fail("prev_hash does not match the previous event's hash"));
                    break 'pages;
                }
                if event_hash(&event) != event.hash {
                    broken = Some(fail("the event's content does not match its hash"));
                    break 'pages;
                }
                if let (Some(count), Some(digest)) = (event.rows_count, event.rows_digest.clone()) {
                    commitments.insert(event.seq, (count, digest));
                }
                prev_hash = event.hash.clone();
                last_seq = event.seq;
                expected_seq += 1;
            }
            if fetched < page_size {
                break;
            }
        }
        if broken.is_none() && (last_seq != head.seq || prev_hash != head.hash) {
            broken = Some(Broken {
                county_id: head.county_id,
                seq: last_seq + 1,
                reason: format!("the chain ends at event {last_seq} but its head says {}", head.seq),
            });
        }
        if broken.is_some() {
            // A broken chain is the first fault; its rows cannot be checked against it.
            report.broken.extend(broken);
            continue;
        }
        let (rows, differs) = verify_rows(conn, head.county_id, commitments).await?;
        report.rows += rows;
        report.broken.extend(differs);
    }
    Ok(report)
}

/// Checks a county's row seals against their events' commitments, then every current sealed row
/// against its last seal; names the first seal or row that differs.
async fn verify_rows<C: ConnectionTrait>(
    conn: &C,
    county_id: Uuid,
    commitments: HashMap<i64, (i64, String)>,
) -> Result<(u64, Option<Broken>), DbErr> {
    match last_seals(conn, county_id, commitments).await? {
        Ok(last) => current_rows_against(conn, county_id, last).await,
        Err(b) => Ok((0, Some(b))),
    }
}

/// Each row's last seal: the event's sequence number and the row's digest then (absent: removed).
type LastSeals = HashMap<(String, Uuid), (i64, Option<String>)>;

/// The last seal of every row of a county, once each event's seals match its commitment; or
/// the first event whose seals do not.
async fn last_seals<C: ConnectionTrait>(
    conn: &C,
    county_id: Uuid,
    mut commitments: HashMap<i64, (i64, String)>,
) -> Result<Result<LastSeals, Broken>, DbErr> {
    let broken = |seq: i64, reason: String| Broken { county_id, seq, reason };
    let mut last: LastSeals = HashMap::new();
    let mut group: Vec<RowSeal> = Vec::new();
    let mut group_seq: Option<i64> = None;
    let mut check_group = |seq: i64, group: &mut Vec<RowSeal>| -> Option<Broken> {
        let expected = commitments.remove(&seq);
        let found = (group.len() as i64, seals::rows_digest(group.iter()));
        group.clear();
        match expected {
            Some(expected) if expected == found => None,
            Some(_) => Some(broken(
                seq,
                format!("the row seals of event {seq} do not match what the event committed to"),
            )),
            None => Some(broken(
                seq,
                format!("row seals recorded for event {seq}, which committed to none"),
            )),
        }
    };
    let page_size = 5000u64;
    let mut after: Option<(i64, i32)> = None;
    loop {
        let mut select = audit_row::Entity::find().filter(audit_row::Column::CountyId.eq(county_id));
        if let Some((seq, ordinal)) = after {
            select = select.filter(
                sea_orm::Condition::any().add(audit_row::Column::Seq.gt(seq)).add(
                    audit_row::Column::Seq
                        .eq(seq)
                        .and(audit_row::Column::Ordinal.gt(ordinal)),
                ),
            );
        }
        let page = select
            .order_by_asc(audit_row::Column::Seq)
            .order_by_asc(audit_row::Column::Ordinal)
            .limit(page_size)
            .all(conn)
            .await?;
        let fetched = page.len() as u64;
        for line in page {
            after = Some((line.seq, line.ordinal));
            if group_seq != Some(line.seq) {
                if let Some(seq) = group_seq {
                    if let Some(b) = check_group(seq, &mut group) {
                        return Ok(Err(b));
                    }
                }
                group_seq = Some(line.seq);
            }
            last.insert((line.entity.clone(), line.row_id), (line.seq, line.digest.clone()));
            group.push(RowSeal {
                entity: line.entity,
                row_id: line.row_id,
                digest: line.digest,
            });
        }
        if fetched < page_size {
            break;
        }
    }
    if let Some(seq) = group_seq {
        if let Some(b) = check_group(seq, &mut group) {
            return Ok(Err(b));
        }
    }
    if let Some(seq) = commitments.keys().min().copied() {
        return Ok(Err(broken(seq, format!("the row seals of event {seq} are missing"))));
    }
    Ok(Ok(last))
}

/// Every current sealed row of a county against its last seal, and every row sealed as present
/// that is gone: how many rows were read and the first that differs (with how many more do).
async fn current_rows_against<C: ConnectionTrait>(
    conn: &C,
    county_id: Uuid,
    mut last: LastSeals,
) -> Result<(u64, Option<Broken>), DbErr> {
    let broken = |seq: i64, reason: String| Broken { county_id, seq, reason };
    let mut rows = 0u64;
    let mut first: Option<Broken> = None;
    let mut differing = 0u64;
    seals::county_rows(conn, county_id, |row| {
        rows += 1;
        let fault = match last.remove(&(row.entity.clone(), row.row_id)) {
            None => Some((0, format!("{} {} is not in the audit trail", row.entity, row.row_id))),
            Some((seq, sealed)) if sealed != row.digest => Some((
                seq,
                format!(
                    "{} {} differs from what the audit trail recorded at event {seq}",
                    row.entity, row.row_id
                ),
            )),
            Some(_) => None,
        };
        if let Some((seq, reason)) = fault {
            differing += 1;
            first.get_or_insert(broken(seq, reason));
        }
    })
    .await?;
    let mut removed: Vec<((String, Uuid), i64)> = last
        .into_iter()
        .filter(|(_, (_, digest))| digest.is_some())
        .map(|(key, (seq, _))| (key, seq))
        .collect();
    removed.sort_by_key(|(_, seq)| *seq);
    for ((entity, row_id), seq) in &removed {
        differing += 1;
        first.get_or_insert(broken(
            *seq,
            format!("{entity} {row_id} was removed outside the audit trail"),
        ));
    }
    Ok((
        rows,
        first.map(|mut b| {
            if differing > 1 {
                b.reason = format!("{} (and {} more rows)", b.reason, differing - 1);
            }
            b
        }),
    ))
}

/// Seals, once, the rows of every county written before row seals existed: one system event per
/// county that has sealed rows but no seal yet (a county whose seals were deleted still fails
/// verification, by the events whose seals are missing).
pub async fn seal_baseline(db: &sea_orm::DatabaseConnection) -> Result<usize, DbErr> {
    let mut sealed = 0;
    for head in audit_head::Entity::find().all(db).await? {
        let any = audit_row::Entity::find()
            .filter(audit_row::Column::CountyId.eq(head.county_id))
            .one(db)
            .await?;
        if any.is_some() {
            continue;
        }
        let mut has_rows = false;
        seals::county_rows(db, head.county_id, |_| has_rows = true).await?;
        if !has_rows {
            continue;
        }
        let tx = super::begin_write(db).await?;
        let actor = Actor::system(head.county_id, "seal baseline");
        append(
            &tx,
            db.get_database_backend(),
            head.county_id,
            &actor,
            Change::new("seal_baseline", "county", Some(head.county_id)).seal(Seal::County),
        )
        .await?;
        tx.commit().await?;
        sealed += 1;
    }
    Ok(sealed)
}

/// Which audit events a listing wants.
#[derive(Debug, Clone, Default)]
pub struct EventQuery<'a> {
    pub entity: Option<&'a str>,
    pub entity_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A county's events after sequence number `after`, oldest first, at most `limit`.
pub async fn events<C: ConnectionTrait>(
    conn: &C,
    county_id: Uuid,
    query: &EventQuery<'_>,
    after: i64,
    limit: u64,
) -> Result<Vec<audit_event::Model>, DbErr> {
    let mut select = audit_event::Entity::find()
        .filter(audit_event::Column::CountyId.eq(county_id))
        .filter(audit_event::Column::Seq.gt(after));
    if let Some(entity) = query.entity {
        select = select.filter(audit_event::Column::Entity.eq(entity));
    }
    if let Some(id) = query.entity_id {
        select = select.filter(audit_event::Column::EntityId.eq(id));
    }
    if let Some(actor) = query.actor_id {
        select = select.filter(audit_event::Column::ActorId.eq(actor));
    }
    if let Some(from) = query.from {
        select = select.filter(audit_event::Column::OccurredAt.gte(from));
    }
    if let Some(to) = query.to {
        select = select.filter(audit_event::Column::OccurredAt.lt(to));
    }
    select
        .order_by_asc(audit_event::Column::Seq)
        .limit(limit)
        .all(conn)
        .await
}
