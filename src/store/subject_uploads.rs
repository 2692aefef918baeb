//! The rows of subject and attribute uploads (`subjects:bulk`, `attributes:bulk`): a subject row
//! may name another row of the same upload by its client key (`ref`), so a village and the first
//! secretary stationed in it go up together; rows are created in an order where every row comes
//! after the rows it names, and the answer keeps the upload's row order.

use std::collections::{BTreeSet, HashMap, HashSet};

use uuid::Uuid;

use super::subjects::{self};
use super::WriteTx;
use crate::api::subjects::{AttributesRow, AttributesUpdate, NewSubject, SubjectRow};
use crate::auth::policy::Action;
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};

/// The three links a row may give by id or by `ref`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Link {
    Parent,
    DispatchedBy,
    StationedIn,
}

impl Link {
    const ALL: [Link; 3] = [Link::Parent, Link::DispatchedBy, Link::StationedIn];

    fn id_field(self) -> &'static str {
        match self {
            Link::Parent => "parent_id",
            Link::DispatchedBy => "dispatched_by",
            Link::StationedIn => "stationed_in",
        }
    }

    fn ref_field(self) -> &'static str {
        match self {
            Link::Parent => "parent_ref",
            Link::DispatchedBy => "dispatched_by_ref",
            Link::StationedIn => "stationed_in_ref",
        }
    }
}

impl SubjectRow {
    fn id_of(&self, link: Link) -> Option<Uuid> {
        match link {
            Link::Parent => self.parent_id,
            Link::DispatchedBy => self.dispatched_by,
            Link::StationedIn => self.stationed_in,
        }
    }

    fn ref_of(&self, link: Link) -> Option<&str> {
        let value = match link {
            Link::Parent => &self.parent_ref,
            Link::DispatchedBy => &self.dispatched_by_ref,
            Link::StationedIn => &self.stationed_in_ref,
        };
        value.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }

    fn key(&self) -> Option<&str> {
        self.key.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }

    /// The subject to create, its refs replaced by the ids of the rows they name.
    fn resolved(self, ids: &HashMap<Link, Uuid>) -> NewSubject {
        NewSubject {
            subject_type: self.subject_type,
            name: self.name,
            parent_id: self.parent_id.or(ids.get(&Link::Parent).copied()),
            dispatched_by: self.dispatched_by.or(ids.get(&Link::DispatchedBy).copied()),
            stationed_in: self.stationed_in.or(ids.get(&Link::StationedIn).copied()),
            external_code: self.external_code,
        }
    }
}

/// A row's references to other rows: (link, index of the row named).
type Refs = Vec<(Link, usize)>;

/// Checks the rows' keys and refs, and orders them so every row comes after the rows it names
/// (among rows that are free to go, upload order). Errors name the row and field.
fn plan(rows: &[(usize, SubjectRow)]) -> (Vec<usize>, Vec<Refs>, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut keys: HashMap<&str, usize> = HashMap::new();
    for (i, (row, r)) in rows.iter().enumerate() {
        let Some(key) = r.key() else { continue };
        if key.chars().count() > 100 {
            errors.push(FieldError::new("ref", "bulk.ref_invalid", "ref must be at most 100 characters").at_row(*row));
        } else if let Some(&first) = keys.get(key) {
            errors.push(
                FieldError::new(
                    "ref",
                    "bulk.ref_duplicate",
                    format!("ref {key} is already the key of row {}", rows[first].0),
                )
                .arg("ref", key)
                .arg("first_row", rows[first].0)
                .at_row(*row),
            );
        } else {
            keys.insert(key, i);
        }
    }
    let mut refs: Vec<Refs> = vec![Vec::new(); rows.len()];
    for (i, (row, r)) in rows.iter().enumerate() {
        for link in Link::ALL {
            let Some(name) = r.ref_of(link) else { continue };
            if r.id_of(link).is_some() {
                errors.push(
                    FieldError::new(
                        link.ref_field(),
                        "bulk.ref_conflict",
                        format!("give {} or {}, not both", link.id_field(), link.ref_field()),
                    )
                    .arg("id_field", link.id_field())
                    .at_row(*row),
                );
            } else if let Some(&target) = keys.get(name) {
                refs[i].push((link, target));
            } else {
                errors.push(
                    FieldError::new(
                        link.ref_field(),
                        "bulk.ref_unknown",
                        format!("no valid row of this upload has ref {name}"),
                    )
                    .arg("ref", name)
                    .at_row(*row),
                );
            }
        }
    }
    // Kahn's algorithm; the ready rows are taken in upload order.
    let mut waiting: Vec<usize> = refs.iter().map(Vec::len).collect();
    let mut named_by: Vec<Vec<usize>> = vec![Vec::new(); rows.len()];
    for (i, its) in refs.iter().enumerate() {
        for &(_, target) in its {
            named_by[target].push(i);
        }
    }
    let mut ready: BTreeSet<usize> = (0..rows.len()).filter(|&i| waiting[i] == 0).collect();
    let mut order = Vec::with_capacity(rows.len());
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &next in &named_by[i] {
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.insert(next);
            }
        }
    }
    for (i, (row, _)) in rows.iter().enumerate() {
        if waiting[i] == 0 {
            continue;
        }
        if let Some(&(link, target)) = refs[i].iter().find(|(_, t)| waiting[*t] > 0) {
            errors.push(
                FieldError::new(
                    link.ref_field(),
                    "bulk.ref_cycle",
                    format!(
                        "{} names row {}, and the rows' refs lead round in a cycle: no order can create them",
                        link.ref_field(),
                        rows[target].0
                    ),
                )
                .at_row(*row),
            );
        }
    }
    (order, refs, errors)
}

/// Creates the subjects of an upload in the transaction, each audited. Answers their ids in the
/// upload's row order, or every bad row (nothing must then be committed).
pub async fn create_rows(
    tx: &WriteTx,
    caller: &Caller,
    rows: Vec<(usize, SubjectRow)>,
) -> Result<Result<Vec<Uuid>, Vec<FieldError>>, ApiError> {
    // Rows are created even past a bad ref (in the transaction, which is then not committed),
    // so the answer lists every bad row, not only those with bad refs.
    let (order, refs, mut errors) = plan(&rows);
    let mut created: Vec<Option<Uuid>> = vec![None; rows.len()];
    let mut slots: Vec<Option<(usize, SubjectRow)>> = rows.into_iter().map(Some).collect();
    for i in order {
        let Some((row, subject_row)) = slots[i].take() else {
            continue;
        };
        let mut ids = HashMap::new();
        let mut broken = false;
        for &(link, target) in &refs[i] {
            match created[target] {
                Some(id) => {
                    ids.insert(link, id);
                }
                None => {
                    broken = true;
                    errors.push(
                        FieldError::new(
                            link.ref_field(),
                            "bulk.ref_invalid",
                            format!("{} names a row of this upload that is invalid", link.ref_field()),
                        )
                        .at_row(row),
                    );
                }
            }
        }
        if broken {
            continue;
        }
        let by_ref: Vec<Link> = refs[i].iter().map(|(link, _)| *link).collect();
        match subjects::create(tx, caller, subject_row.resolved(&ids)).await {
            Ok(model) => created[i] = Some(model.id),
            Err(e) if e.status_code_is_client_error() => {
                errors.extend(e.into_row_errors(row).into_iter().map(|mut f| {
                    // A link given by ref is reported under the field the row used.
                    if let Some(link) = by_ref.iter().find(|l| l.id_field() == f.field) {
                        f.field = link.ref_field().to_owned();
                    }
                    f
                }));
            }
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(created.into_iter().flatten().collect()))
}

/// Sets the attributes of an upload's rows in the transaction, each audited like the single
/// write. Answers the subject ids in row order, or every bad row.
pub async fn set_rows(
    tx: &WriteTx,
    caller: &Caller,
    rows: Vec<(usize, AttributesRow)>,
) -> Result<Result<Vec<Uuid>, Vec<FieldError>>, ApiError> {
    let mut errors = Vec::new();
    let mut ids = Vec::with_capacity(rows.len());
    let mut seen: HashSet<(Uuid, Uuid)> = HashSet::new();
    // Whether each scheme named is one the caller sees.
    let mut schemes: HashMap<Uuid, bool> = HashMap::new();
    for (row, r) in rows {
        if !seen.insert((r.subject_id, r.scheme_id)) {
            errors.push(
                FieldError::new(
                    "subject_id",
                    "attributes.duplicate_in_upload",
                    "this subject's attributes for this scheme appear twice in the upload",
                )
                .at_row(row),
            );
            continue;
        }
        // Outside the caller's scope a subject or scheme is an unknown reference (422), checked
        // before the right to manage (403), so nothing leaks.
        let subject = subjects::find(tx.conn(), r.subject_id)
            .await?
            .filter(|s| s.county_id == caller.county_id && caller.may(Action::Read, &subjects::scope_of(s)));
        let scheme_known = match schemes.get(&r.scheme_id) {
            Some(known) => *known,
            None => {
                let known = super::schemes::find(tx.conn(), r.scheme_id).await?.is_some_and(|s| {
                    s.county_id == caller.county_id && caller.may(Action::ReadShared, &super::schemes::scope_of(&s))
                });
                schemes.insert(r.scheme_id, known);
                known
            }
        };
        if !scheme_known {
            errors.push(
                FieldError::new(
                    "scheme_id",
                    "attributes.scheme_unknown",
                    "scheme_id is not a scheme in your scope",
                )
                .at_row(row),
            );
        }
        let Some(subject) = subject else {
            errors.push(
                FieldError::new(
                    "subject_id",
                    "attributes.subject_unknown",
                    "subject_id is not a subject in your scope",
                )
                .at_row(row),
            );
            continue;
        };
        if !scheme_known {
            continue;
        }
        let update = AttributesUpdate {
            has_special_indicators: r.has_special_indicators,
            ranking_group: r.ranking_group,
            annual_target_met: r.annual_target_met,
            recalled: r.recalled,
            reserve_cadre: r.reserve_cadre,
            vertically_managed: r.vertically_managed,
            version: r.version,
        };
        match subjects::set_attributes(tx, caller, &subject, r.scheme_id, update, None).await {
            Ok(after) => ids.push(after.subject_id),
            Err(e) if e.status_code_is_client_error() => {
                errors.extend(e.into_row_errors(row).into_iter().map(|mut f| {
                    // Optimistic-concurrency refusals (412, 428) concern the row's version.
                    if f.field.is_empty() && f.code.starts_with("precondition") {
                        f.field = "version".to_owned();
                    }
                    if f.field.is_empty() && f.code == "auth.forbidden" {
                        f.field = "subject_id".to_owned();
                    }
                    f
                }));
            }
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(ids))
}
