//! Publications (逐月公开 / 公示): frozen, numbered snapshots of results with a SHA-256 content
//! hash. Later data never changes them; a correction is a new publication naming the one it
//! supersedes and why.

use std::collections::HashSet;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::entities::{publication, scheme};
use super::new_row;
use super::page::list_rows;
use super::{audit, find_or_404, new_id, now, Change, WriteTx};
use crate::api::publications::{NewPublication, PublicationContent, PublicationFilter};
use crate::auth::policy::{Action, Scope};
use crate::auth::{Caller, MaybeCaller};
use crate::error::ApiError;
use crate::results::ResultKind;
use crate::store::org_units::OrgKind;

/// What one reader is shown of a publication.
pub struct Shown {
    pub content: PublicationContent,
    /// For a filtered view: SHA-256 of the canonical JSON of the rows shown, naming the view.
    pub view_hash: Option<String>,
}

/// The part of a publication `caller` reads (DOMAIN.md §9): the frozen whole of a public one
/// (公示) and for the county's own users; below the county, of one that is not public, the rows
/// of subjects in the caller's scope, or 404 when it holds none of theirs.
pub fn shown_to(row: &publication::Model, caller: Option<&Caller>) -> Result<Shown, ApiError> {
    let mut content: PublicationContent = serde_json::from_str(&row.content)?;
    let reader = match caller {
        _ if row.public => None,
        Some(c) if c.reads_whole_publication(row.county_id) => None,
        Some(c) => Some(c),
        None => {
            return Err(ApiError::unauthorized(
                "this publication is not public: a Bearer token is required",
            ))
        }
    };
    let Some(reader) = reader else {
        return Ok(Shown {
            content,
            view_hash: None,
        });
    };
    let county_id = row.county_id;
    content
        .results
        .retain(|r| reader.reads_published_row(&Scope::new(county_id, r.township_id, r.village_id)));
    // Ranking entries name only their subject: an entry is shown with its subject's result row.
    let shown: HashSet<Uuid> = content.results.iter().map(|r| r.subject_id).collect();
    for ranking in &mut content.rankings {
        ranking.entries.retain(|e| shown.contains(&e.subject_id));
    }
    content.rankings.retain(|r| !r.entries.is_empty());
    if content.results.is_empty() {
        return Err(ApiError::not_found("publication"));
    }
    let (_, view_hash) = seal(&content)?;
    Ok(Shown {
        content,
        // A scope that holds every row reads the whole.
        view_hash: (view_hash != row.content_hash).then_some(view_hash),
    })
}

fn scope_of(m: &publication::Model) -> Scope {
    Scope::new(m.county_id, m.township_id, None)
}

/// The canonical JSON of the content and its hash.
fn seal(content: &PublicationContent) -> Result<(String, String), ApiError> {
    let value = serde_json::to_value(content)?;
    let text = audit::canonical_json(&value);
    let hash = hex::encode(Sha256::digest(text.as_bytes()));
    Ok((text, hash))
}

/// Freezes results into a new numbered publication.
#[tracing::instrument(skip_all, fields(county = %caller.county_id, scheme = %scheme_row.id))]
pub async fn publish(
    tx: &WriteTx,
    caller: &Caller,
    scheme_row: &scheme::Model,
    new: &NewPublication,
    evaluation_title: Option<&str>,
    content_of: impl FnOnce(Option<Uuid>) -> PublicationContent,
) -> Result<publication::Model, ApiError> {
    let township_id = published_to(tx, caller, scheme_row, new).await?;
    let supersedes = superseded(tx, caller, scheme_row, new).await?;
    let content = content_of(township_id);
    let (text, hash) = seal(&content)?;
    let last: Option<i32> = publication::Entity::find()
        .select_only()
        .column(publication::Column::Number)
        .filter(publication::Column::SchemeId.eq(scheme_row.id))
        .order_by_desc(publication::Column::Number)
        .into_tuple()
        .one(tx.conn())
        .await?;
    let period_end = new
        .month
        .and_then(|m| crate::scoring::inputs::last_day_of_month(scheme_row.year, m));
    let title = match &new.title {
        Some(t) => super::org_units::check_name("title", t)?,
        None => default_title(scheme_row, new, evaluation_title),
    };
    // The chain head the publication is made at: its own audit event follows it directly.
    let (chain_seq, chain_hash) = tx.chain_head().await?;
    let at = now();
    let model = new_row!(publication, new_id(), scheme_row.county_id, at, {
        scheme_id: scheme_row.id,
        org_unit_id: township_id.unwrap_or(scheme_row.county_id),
        township_id,
        number: last.unwrap_or(0) + 1,
        kind: new.kind,
        group_key: new
            .subject_type
            .map(|t| t.as_str().to_owned())
            .unwrap_or_else(|| "all".to_owned()),
        title,
        period_end,
        as_of: content.as_of,
        public: new.public,
        supersedes_id: supersedes.as_ref().map(|s| s.id),
        correction_reason: new.correction_reason.clone(),
        content: text,
        content_hash: hash,
        published_by: caller.id,
        chain_seq: Some(chain_seq),
        chain_hash: Some(chain_hash),
    });
    tx.insert(model.clone()).await?;
    let summary = serde_json::json!({
        "number": model.number, "title": model.title, "kind": model.kind, "as_of": model.as_of,
        "public": model.public, "township_id": model.township_id, "supersedes_id": model.supersedes_id,
        "correction_reason": model.correction_reason, "content_hash": model.content_hash,
        "chain_seq": model.chain_seq, "chain_hash": model.chain_hash,
    });
    tx.audit(Change::created("publication", model.id, &summary)).await?;
    Ok(model)
}

/// The town a new publication is published to (absent: the county), once the caller may
/// publish there and it is a township of the scheme's county inside the scheme.
async fn published_to(
    tx: &WriteTx,
    caller: &Caller,
    scheme_row: &scheme::Model,
    new: &NewPublication,
) -> Result<Option<Uuid>, ApiError> {
    let township_id = new.township_id.or(scheme_row.township_id);
    if scheme_row.township_id.is_some() && township_id != scheme_row.township_id {
        return Err(ApiError::invalid(
            "township_id",
            "publication.township_outside_scheme",
            "the scheme belongs to another town",
        ));
    }
    caller.require(
        Action::Publish,
        &Scope::new(scheme_row.county_id, township_id, None),
        "publication",
    )?;
    if let Some(town) = new.township_id {
        let unit = super::org_units::find(tx.conn(), town).await?;
        if !unit.is_some_and(|u| u.kind == OrgKind::Township && u.county_id == scheme_row.county_id) {
            return Err(ApiError::invalid(
                "township_id",
                "publication.township_unknown",
                "township_id is not a township of your county",
            ));
        }
    }
    Ok(township_id)
}

/// The publication a new one corrects, checked: of this scheme, readable, not corrected yet,
/// and with a reason given.
async fn superseded(
    tx: &WriteTx,
    caller: &Caller,
    scheme_row: &scheme::Model,
    new: &NewPublication,
) -> Result<Option<publication::Model>, ApiError> {
    match new.supersedes_id {
        None => {
            if new.correction_reason.is_some() {
                return Err(ApiError::invalid(
                    "correction_reason",
                    "publication.reason_without_correction",
                    "correction_reason goes with supersedes_id",
                ));
            }
            Ok(None)
        }
        Some(id) => {
            let old = publication::Entity::find_by_id(id).one(tx.conn()).await?;
            let old = old
                .filter(|o| o.scheme_id == scheme_row.id && caller.may(Action::ReadShared, &scope_of(o)))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "supersedes_id",
                        "publication.superseded_unknown",
                        "supersedes_id is not a publication of this scheme",
                    )
                })?;
            let reason = new
                .correction_reason
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty());
            if reason.is_none() {
                return Err(ApiError::invalid(
                    "correction_reason",
                    "publication.reason_required",
                    "a correction needs correction_reason",
                ));
            }
            let already = publication::Entity::find()
                .filter(publication::Column::SupersedesId.eq(id))
                .one(tx.conn())
                .await?;
            if already.is_some() {
                return Err(ApiError::conflict(
                    "publication.already_superseded",
                    "that publication is already corrected; correct the newest version",
                ));
            }
            Ok(Some(old))
        }
    }
}

/// The title a publication gets when none is given.
fn default_title(scheme_row: &scheme::Model, new: &NewPublication, evaluation_title: Option<&str>) -> String {
    match (new.kind, new.month, evaluation_title) {
        (ResultKind::Monthly, Some(m), _) => format!("{} {}年{}月考核情况公开", scheme_row.title, scheme_row.year, m),
        (ResultKind::Annual, _, _) | (_, _, None) => {
            format!("{} {}年度考核结果公示", scheme_row.title, scheme_row.year)
        }
        (_, _, Some(evaluation)) => format!("{} {}年{}结果公示", scheme_row.title, scheme_row.year, evaluation),
    }
}

/// A publication the caller may read; public ones need no caller.
pub async fn load_for<C: ConnectionTrait>(
    conn: &C,
    caller: &MaybeCaller,
    id: Uuid,
) -> Result<publication::Model, ApiError> {
    let row = find_or_404::<publication::Entity, _>(conn, id, "publication").await?;
    match &caller.0 {
        _ if row.public => Ok(row),
        Some(caller) => {
            caller.authorize_shared(Action::ReadShared, &scope_of(&row), "publication")?;
            Ok(row)
        }
        None => Err(ApiError::unauthorized(
            "this publication is not public: a Bearer token is required",
        )),
    }
}

list_rows!(list(PublicationFilter) -> publication, visible_shared, equal {
    scheme_id => SchemeId, kind => Kind, township_id => TownshipId,
});
