//! Evidence files (佐证材料, DOMAIN.md §6): their metadata and their links to findings,
//! scoresheets and appeals. Never altered or deleted: a link is detached with a reason and stays
//! in the history; every attach and detach is in the audit trail. Who reads a file follows from
//! what it is attached to (`Caller::reads_evidence`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::entities::{appeal, evidence, evidence_link, incident, scoresheet};
use super::new_row;
use super::page::list_rows;
use super::{name_of, new_id, now, Change, WriteTx};
use crate::api::evidence::{Evidence, EvidenceLink, LinkFilter, NewLink, Target};
use crate::auth::policy::{Action, Scope};
use crate::auth::{parse_name, Caller};
use crate::error::{ApiError, FieldError};

fn scope_of(m: &evidence_link::Model) -> Scope {
    Scope::new(m.county_id, m.township_id, m.village_id)
}

/// A stored file's metadata, as the upload determined it.
#[derive(Debug, Clone)]
pub struct Upload {
    pub sha256: String,
    pub size_bytes: i64,
    pub media_type: String,
    pub file_name: String,
}

/// The caller's own earlier upload of the same bytes, if any: uploading them again answers it.
pub async fn find_own<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    sha256: &str,
) -> Result<Option<evidence::Model>, ApiError> {
    Ok(evidence::Entity::find()
        .filter(evidence::Column::CountyId.eq(caller.county_id))
        .filter(evidence::Column::UploadedBy.eq(caller.id))
        .filter(evidence::Column::Sha256.eq(sha256))
        .one(conn)
        .await?)
}

/// Records a stored file, audited.
pub async fn create(tx: &WriteTx, caller: &Caller, upload: Upload) -> Result<evidence::Model, ApiError> {
    let model = evidence::Model {
        id: new_id(),
        county_id: caller.county_id,
        created_at: now(),
        sha256: upload.sha256,
        size_bytes: upload.size_bytes,
        media_type: upload.media_type,
        file_name: upload.file_name,
        uploaded_by: caller.id,
    };
    tx.insert_created("evidence", model.id, &model, |m| Evidence::of(m, Vec::new()))
        .await?;
    Ok(model)
}

/// The links of a file, oldest first.
async fn links_of<C: ConnectionTrait>(conn: &C, evidence_id: Uuid) -> Result<Vec<evidence_link::Model>, ApiError> {
    Ok(evidence_link::Entity::find()
        .filter(evidence_link::Column::EvidenceId.eq(evidence_id))
        .order_by_asc(evidence_link::Column::Id)
        .all(conn)
        .await?)
}

/// A file the caller may read, with the links it may see; 404 otherwise.
pub async fn load_for<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    id: Uuid,
) -> Result<(evidence::Model, Vec<evidence_link::Model>), ApiError> {
    let row = evidence::Entity::find_by_id(id)
        .filter(evidence::Column::CountyId.eq(caller.county_id))
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("evidence"))?;
    let links = links_of(conn, id).await?;
    let attached: Vec<Scope> = links.iter().filter(|l| l.detached_at.is_none()).map(scope_of).collect();
    if !caller.reads_evidence(row.county_id, row.uploaded_by, &attached) {
        return Err(ApiError::not_found("evidence"));
    }
    let visible = links
        .into_iter()
        .filter(|l| caller.may(Action::Read, &scope_of(l)))
        .collect();
    Ok((row, visible))
}

/// What a link will point at: its subject and place.
struct Anchor {
    subject_id: Uuid,
    scope: Scope,
}

/// Loads what `target` names and checks the caller may attach to it or detach from it: 404
/// (`in_body`: 422 naming `target_id`) when it cannot see it, 403 when it may not.
async fn anchor<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    target: Target,
    target_id: Uuid,
    in_body: bool,
) -> Result<Anchor, ApiError> {
    let found = match target {
        Target::Incident => incident::Entity::find_by_id(target_id)
            .one(conn)
            .await?
            .map(|m| (m.subject_id, Scope::new(m.county_id, m.township_id, m.village_id))),
        Target::Scoresheet => scoresheet::Entity::find_by_id(target_id)
            .one(conn)
            .await?
            .map(|m| (m.subject_id, Scope::new(m.county_id, m.township_id, m.village_id))),
        Target::Appeal => appeal::Entity::find_by_id(target_id)
            .one(conn)
            .await?
            .map(|m| (m.subject_id, Scope::new(m.county_id, m.township_id, m.village_id))),
    };
    let what = name_of(target);
    let hidden = || {
        if in_body {
            ApiError::invalid(
                "target_id",
                "evidence.target_unknown",
                format!("target_id is not a {what} in your scope"),
            )
        } else {
            ApiError::not_found(&what)
        }
    };
    let Some((subject_id, scope)) = found else {
        return Err(hidden());
    };
    if !caller.may(Action::Read, &scope) {
        return Err(hidden());
    }
    // Findings and scoresheets take evidence from who records them; an appeal also from its
    // appellant's side.
    let actions: &[Action] = match target {
        Target::Incident | Target::Scoresheet => &[Action::Record],
        Target::Appeal => &[Action::Record, Action::Appeal],
    };
    caller.authorize_any(actions, &scope, &what)?;
    Ok(Anchor { subject_id, scope })
}

/// Attaches a file the caller may read to a finding, scoresheet or appeal it may write;
/// attaching it again while attached answers 409.
pub async fn attach(
    tx: &WriteTx,
    caller: &Caller,
    evidence_id: Uuid,
    new: &NewLink,
) -> Result<evidence_link::Model, ApiError> {
    let (file, _) = load_for(tx.conn(), caller, evidence_id).await?;
    let anchor = anchor(tx.conn(), caller, new.target, new.target_id, true).await?;
    let attached = evidence_link::Entity::find()
        .filter(evidence_link::Column::EvidenceId.eq(file.id))
        .filter(evidence_link::Column::TargetId.eq(new.target_id))
        .filter(evidence_link::Column::DetachedAt.is_null())
        .one(tx.conn())
        .await?;
    if attached.is_some() {
        return Err(ApiError::conflict(
            "evidence.already_attached",
            format!("this file is already attached to this {}", name_of(new.target)),
        ));
    }
    insert_link(tx, caller, file.id, new.target, new.target_id, &anchor).await
}

async fn insert_link(
    tx: &WriteTx,
    caller: &Caller,
    evidence_id: Uuid,
    target: Target,
    target_id: Uuid,
    anchor: &Anchor,
) -> Result<evidence_link::Model, ApiError> {
    let at = now();
    let model = new_row!(evidence_link, new_id(), anchor.scope.county_id, at, {
        evidence_id,
        target: name_of(target),
        target_id,
        subject_id: anchor.subject_id,
        township_id: anchor.scope.township_id,
        village_id: anchor.scope.village_id,
        attached_by: caller.id,
        detached_at: None,
        detached_by: None,
        detach_reason: None,
    });
    tx.insert(model.clone()).await?;
    tx.audit(Change::new("attach", "evidence_link", Some(model.id)).after(&EvidenceLink::from(model.clone())))
        .await?;
    Ok(model)
}

/// Detaches a link with a reason; it stays in the history.
pub async fn detach(
    tx: &WriteTx,
    caller: &Caller,
    evidence_id: Uuid,
    link_id: Uuid,
    reason: &str,
) -> Result<evidence_link::Model, ApiError> {
    let (file, _) = load_for(tx.conn(), caller, evidence_id).await?;
    let link = evidence_link::Entity::find_by_id(link_id)
        .filter(evidence_link::Column::EvidenceId.eq(file.id))
        .one(tx.conn())
        .await?
        .filter(|l| caller.may(Action::Read, &scope_of(l)))
        .ok_or_else(|| ApiError::not_found("evidence link"))?;
    let target: Target = parse_name(&link.target).ok_or_else(|| ApiError::internal("unknown link target"))?;
    anchor(tx.conn(), caller, target, link.target_id, false).await?;
    let reason = super::check_reason(reason, "evidence.reason_required", "detach")?;
    if link.detached_at.is_some() {
        return Err(ApiError::conflict(
            "evidence.already_detached",
            "this link is already detached",
        ));
    }
    let at = now();
    let mut active = link.clone().into_active_model();
    active.detached_at = Set(Some(at));
    active.detached_by = Set(Some(caller.id));
    active.detach_reason = Set(Some(reason.to_owned()));
    let updated = tx
        .save("detach", "evidence_link", link.id, link, active, at, EvidenceLink::from)
        .await?;
    Ok(updated)
}

/// The files among `ids` the caller may attach: those it reads (see [`load_for`]).
pub async fn readable<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    ids: &HashSet<Uuid>,
) -> Result<HashSet<Uuid>, ApiError> {
    let mut found = HashSet::new();
    let ids: Vec<Uuid> = ids.iter().copied().collect();
    for chunk in ids.chunks(500) {
        let rows = evidence::Entity::find()
            .filter(evidence::Column::Id.is_in(chunk.iter().copied()))
            .filter(evidence::Column::CountyId.eq(caller.county_id))
            .all(conn)
            .await?;
        let links = evidence_link::Entity::find()
            .filter(evidence_link::Column::EvidenceId.is_in(chunk.iter().copied()))
            .filter(evidence_link::Column::DetachedAt.is_null())
            .all(conn)
            .await?;
        let mut attached: HashMap<Uuid, Vec<Scope>> = HashMap::new();
        for link in &links {
            attached.entry(link.evidence_id).or_default().push(scope_of(link));
        }
        for row in rows {
            let scopes = attached.get(&row.id).map(Vec::as_slice).unwrap_or_default();
            if caller.reads_evidence(row.county_id, row.uploaded_by, scopes) {
                found.insert(row.id);
            }
        }
    }
    Ok(found)
}

/// The field errors of evidence ids a finding names that the caller cannot attach.
pub fn unknown_refs(ids: &[Uuid], readable: &HashSet<Uuid>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (i, id) in ids.iter().enumerate() {
        if !readable.contains(id) {
            errors.push(FieldError::new(
                format!("evidence_ids[{i}]"),
                "evidence.unknown",
                "not an evidence file you uploaded or may read",
            ));
        } else if !seen.insert(*id) {
            errors.push(FieldError::new(
                format!("evidence_ids[{i}]"),
                "evidence.duplicate_ref",
                "names the same evidence file twice",
            ));
        }
    }
    errors
}

/// Attaches files to a finding just recorded (its admission checked the caller may record it).
pub async fn attach_to_finding(
    tx: &WriteTx,
    caller: &Caller,
    finding: &incident::Model,
    ids: &[Uuid],
) -> Result<(), ApiError> {
    let anchor = Anchor {
        subject_id: finding.subject_id,
        scope: Scope::new(finding.county_id, finding.township_id, finding.village_id),
    };
    for id in ids {
        insert_link(tx, caller, *id, Target::Incident, finding.id, &anchor).await?;
    }
    Ok(())
}

list_rows!(
    /// Links in the caller's scope, history included.
    list_links(LinkFilter) -> evidence_link, visible, equal {
    evidence_id => EvidenceId, target_id => TargetId, subject_id => SubjectId,
}, also |f| [
    f.target.map(|target| evidence_link::Column::Target.eq(name_of(target))),
    f.active.map(|active| match active {
        true => evidence_link::Column::DetachedAt.is_null(),
        false => evidence_link::Column::DetachedAt.is_not_null(),
    }),
]);

/// The files attached to each of `findings` at `as_of` (now when None), in attachment order.
pub async fn of_findings<C: ConnectionTrait>(
    conn: &C,
    county_id: Uuid,
    findings: &[Uuid],
    as_of: Option<DateTime<Utc>>,
) -> Result<HashMap<Uuid, Vec<Uuid>>, ApiError> {
    let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for chunk in findings.chunks(500) {
        let mut select = evidence_link::Entity::find()
            .filter(evidence_link::Column::CountyId.eq(county_id))
            .filter(evidence_link::Column::Target.eq("incident"))
            .filter(evidence_link::Column::TargetId.is_in(chunk.iter().copied()));
        select = match as_of {
            None => select.filter(evidence_link::Column::DetachedAt.is_null()),
            Some(at) => select.filter(evidence_link::Column::CreatedAt.lte(at)).filter(
                Condition::any()
                    .add(evidence_link::Column::DetachedAt.is_null())
                    .add(evidence_link::Column::DetachedAt.gt(at)),
            ),
        };
        for link in select.order_by_asc(evidence_link::Column::Id).all(conn).await? {
            out.entry(link.target_id).or_default().push(link.evidence_id);
        }
    }
    Ok(out)
}
