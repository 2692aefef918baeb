//! Row seals: the digest of each data row an audit event wrote, committed by the event's hash.
//!
//! A seal is SHA-256 over a canonical text of every column of the row as the database holds it
//! (a scoresheet with its items). Each audit event that writes findings, appeals, evaluations,
//! scoresheets, ballots, subjects, attributes, publications, evidence files or their links
//! records one seal per row it wrote
//! (`audit_rows`) and commits to them (`rows_count`, `rows_digest` in its hash), so
//! `kaohe audit verify` can replay the trail and name the first current row that is not what the
//! trail says: edited in place, inserted beside the trail, or deleted.

use std::collections::HashMap;
use std::str::FromStr;

use sea_orm::sea_query::Value;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IdenStatic, Iterable, ModelTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::audit::canonical_json;
use super::entities::scoresheet_item;

/// Which rows an audit event seals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seal {
    /// One row of a sealed table, by id (a row that no longer exists is sealed as removed).
    Row(&'static str, Uuid),
    /// The rows of one bulk upload (findings, scoresheets with the sheets they superseded, ballots).
    Upload(&'static str, Uuid),
    /// Every sealed row of the county (the demo loader, and the baseline of rows written before
    /// seals existed).
    County,
}

/// One sealed row: its table, id and digest (`None`: the row was removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowSeal {
    pub entity: String,
    pub row_id: Uuid,
    pub digest: Option<String>,
}

/// The tables whose rows are sealed, by the entity name the audit trail uses.
pub const SEALED: &[&str] = &[
    "subject",
    "subject_attribute",
    "incident",
    "appeal",
    "evaluation",
    "scoresheet",
    "ballot",
    "publication",
    "evidence",
    "evidence_link",
];

/// The tables whose rows carry the bulk upload they came from.
const UPLOADED: &[&str] = &["incident", "scoresheet", "ballot"];

/// The seal a change makes by default: the row it names, or the rows of the upload it names.
pub fn default_seal(action: &str, entity: &str, entity_id: Option<Uuid>) -> Option<Seal> {
    let name = SEALED.iter().copied().find(|name| *name == entity)?;
    let id = entity_id?;
    if action.starts_with("bulk_") {
        UPLOADED.contains(&name).then_some(Seal::Upload(name, id))
    } else {
        Some(Seal::Row(name, id))
    }
}

/// Rows to select from one sealed table.
#[derive(Debug, Clone)]
enum Filter {
    Id(Uuid),
    Ids(Vec<Uuid>),
    Upload(Uuid),
    /// A page of a county's rows in id order, after `after`.
    County {
        county: Uuid,
        after: Option<Uuid>,
        limit: u64,
    },
}

fn value_text(value: &Value) -> String {
    match value {
        Value::Bool(v) => v.map(|v| v.to_string()),
        Value::SmallInt(v) => v.map(|v| v.to_string()),
        Value::Int(v) => v.map(|v| v.to_string()),
        Value::BigInt(v) => v.map(|v| v.to_string()),
        Value::String(v) => v.as_ref().map(|v| serde_json::Value::String(v.clone()).to_string()),
        Value::Uuid(v) => v.map(|v| v.to_string()),
        Value::Decimal(v) => v.map(|v| v.normalize().to_string()),
        Value::ChronoDate(v) => v.map(|v| v.to_string()),
        Value::ChronoDateTimeUtc(v) => v.map(|v| v.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        Value::Json(v) => v.as_ref().map(|v| canonical_json(v)),
        other => Some(format!("{other:?}")),
    }
    .unwrap_or_else(|| "null".to_owned())
}

/// Columns added after row seals existed, with their default: a row holding the default is
/// digested as before the column existed, so the rows sealed then keep their seals.
const LATER_COLUMNS: &[(&str, &str)] = &[("reserve_cadre", "false"), ("vertically_managed", "false")];

/// SHA-256 over `name=value` lines of every column of `model` (a later column at its default
/// left out).
fn model_digest<M: ModelTrait>(model: &M) -> String {
    let mut hasher = Sha256::new();
    for column in <<M::Entity as EntityTrait>::Column as Iterable>::iter() {
        let text = value_text(&model.get(column));
        if LATER_COLUMNS
            .iter()
            .any(|(name, default)| *name == column.as_str() && *default == text)
        {
            continue;
        }
        hasher.update(column.as_str().as_bytes());
        hasher.update(b"=");
        hasher.update(text.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

macro_rules! sealed_tables {
    ($( $name:literal => $module:ident ),* $(,)?) => {
        /// The id and digest of the rows of table `entity` that `filter` selects, in id order.
        async fn table_digests<C: ConnectionTrait>(
            conn: &C,
            entity: &str,
            filter: Filter,
        ) -> Result<Vec<(Uuid, String)>, DbErr> {
            match entity {
                $( $name => {
                    use super::entities::$module as table;
                    let mut select = table::Entity::find().order_by_asc(table::Column::Id);
                    select = match filter {
                        Filter::Id(id) => select.filter(table::Column::Id.eq(id)),
                        Filter::Ids(ids) => select.filter(table::Column::Id.is_in(ids)),
                        Filter::Upload(upload) => {
                            let column = table::Column::from_str("upload_id")
                                .map_err(|_| DbErr::Custom(format!("{entity} rows carry no upload")))?;
                            select.filter(column.eq(upload))
                        }
                        Filter::County { county, after, limit } => {
                            let mut condition = Condition::all().add(table::Column::CountyId.eq(county));
                            if let Some(after) = after {
                                condition = condition.add(table::Column::Id.gt(after));
                            }
                            select.filter(condition).limit(limit)
                        }
                    };
                    Ok(select
                        .all(conn)
                        .await?
                        .iter()
                        .map(|row| (row.id, model_digest(row)))
                        .collect())
                } )*
                other => Err(DbErr::Custom(format!("{other} rows are not sealed"))),
            }
        }
    };
}

sealed_tables! {
    "subject" => subject,
    "subject_attribute" => subject_attribute,
    "incident" => incident,
    "appeal" => appeal,
    "evaluation" => evaluation,
    "scoresheet" => scoresheet,
    "ballot" => ballot,
    "publication" => publication,
    "evidence" => evidence,
    "evidence_link" => evidence_link,
}

/// Digests of the rows `filter` selects; a scoresheet's digest covers its items.
async fn digests<C: ConnectionTrait>(conn: &C, entity: &str, filter: Filter) -> Result<Vec<(Uuid, String)>, DbErr> {
    let rows = table_digests(conn, entity, filter).await?;
    if entity != "scoresheet" || rows.is_empty() {
        return Ok(rows);
    }
    let mut items: HashMap<Uuid, Vec<(Uuid, String)>> = HashMap::new();
    for chunk in rows.chunks(500) {
        let ids: Vec<Uuid> = chunk.iter().map(|(id, _)| *id).collect();
        for item in scoresheet_item::Entity::find()
            .filter(scoresheet_item::Column::ScoresheetId.is_in(ids))
            .all(conn)
            .await?
        {
            items
                .entry(item.scoresheet_id)
                .or_default()
                .push((item.id, model_digest(&item)));
        }
    }
    Ok(rows
        .into_iter()
        .map(|(id, row)| {
            let mut hasher = Sha256::new();
            hasher.update(row.as_bytes());
            let mut sheet_items = items.remove(&id).unwrap_or_default();
            sheet_items.sort();
            for (_, item) in sheet_items {
                hasher.update(b"\nitem=");
                hasher.update(item.as_bytes());
            }
            (id, hex::encode(hasher.finalize()))
        })
        .collect())
}

/// Every sealed row of a county, table by table in id order, paged.
pub async fn county_rows<C: ConnectionTrait>(
    conn: &C,
    county: Uuid,
    mut each: impl FnMut(RowSeal),
) -> Result<(), DbErr> {
    const PAGE: u64 = 2000;
    for entity in SEALED {
        let mut after = None;
        loop {
            let page = digests(
                conn,
                entity,
                Filter::County {
                    county,
                    after,
                    limit: PAGE,
                },
            )
            .await?;
            let fetched = page.len() as u64;
            after = page.last().map(|(id, _)| *id);
            for (row_id, digest) in page {
                each(RowSeal {
                    entity: (*entity).to_owned(),
                    row_id,
                    digest: Some(digest),
                });
            }
            if fetched < PAGE {
                break;
            }
        }
    }
    Ok(())
}

/// The row seals of `seals`, read inside the writing transaction, each row once (its last).
pub async fn resolve<C: ConnectionTrait>(conn: &C, county: Uuid, seals: &[Seal]) -> Result<Vec<RowSeal>, DbErr> {
    let mut out: Vec<RowSeal> = Vec::new();
    for seal in seals {
        match seal {
            Seal::Row(entity, id) => {
                let digest = digests(conn, entity, Filter::Id(*id)).await?.pop().map(|(_, d)| d);
                out.push(RowSeal {
                    entity: (*entity).to_owned(),
                    row_id: *id,
                    digest,
                });
            }
            Seal::Upload(entity, upload) => {
                let rows = digests(conn, entity, Filter::Upload(*upload)).await?;
                let sheets: Vec<Uuid> = rows.iter().map(|(id, _)| *id).collect();
                push_all(&mut out, entity, rows);
                if *entity == "scoresheet" {
                    // The sheets an upload superseded changed with it.
                    for chunk in sheets.chunks(500) {
                        let old: Vec<Uuid> = super::entities::scoresheet::Entity::find()
                            .select_only()
                            .column(super::entities::scoresheet::Column::Id)
                            .filter(super::entities::scoresheet::Column::SupersededBy.is_in(chunk.to_vec()))
                            .into_tuple()
                            .all(conn)
                            .await?;
                        if !old.is_empty() {
                            let digests = digests(conn, entity, Filter::Ids(old)).await?;
                            push_all(&mut out, entity, digests);
                        }
                    }
                }
            }
            Seal::County => county_rows(conn, county, |row| out.push(row)).await?,
        }
    }
    // Each row once, at its last position.
    let mut last: HashMap<(String, Uuid), usize> = HashMap::new();
    for (i, row) in out.iter().enumerate() {
        last.insert((row.entity.clone(), row.row_id), i);
    }
    Ok(out
        .into_iter()
        .enumerate()
        .filter(|(i, row)| last.get(&(row.entity.clone(), row.row_id)) == Some(i))
        .map(|(_, row)| row)
        .collect())
}

fn push_all(out: &mut Vec<RowSeal>, entity: &str, rows: Vec<(Uuid, String)>) {
    out.extend(rows.into_iter().map(|(row_id, digest)| RowSeal {
        entity: entity.to_owned(),
        row_id,
        digest: Some(digest),
    }));
}

/// The commitment of an event to its row seals: SHA-256 over one line per seal, in order.
pub fn rows_digest<'a>(rows: impl IntoIterator<Item = &'a RowSeal>) -> String {
    let mut hasher = Sha256::new();
    for row in rows {
        hasher.update(row.entity.as_bytes());
        hasher.update(b":");
        hasher.update(row.row_id.to_string().as_bytes());
        hasher.update(b":");
        hasher.update(row.digest.as_deref().unwrap_or("removed").as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}
