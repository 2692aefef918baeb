//! Loads one scheme-year's inputs for the engine in a fixed number of queries, whatever the
//! number of subjects: subjects, attributes, evaluations, findings, scoresheets and ballots.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::decimal::DbDecimal;
use super::entities::{ballot, evaluation, incident, scheme, scoresheet, scoresheet_item, subject, subject_attribute};
use super::schemes::LoadedScheme;
use crate::auth::parse_name;
use crate::error::ApiError;
use crate::scoring::admission::IncidentKind;
use crate::scoring::FastSet;
use crate::scoring::{
    Ballot, EvaluationInfo, EvaluationKind, Finding, FindingDetail, MeasuredRate, Quarter, Scoresheet,
    SubjectAttributes, SubjectInfo, SubjectType, Window, YearData,
};

/// A subject's place, kept beside the engine's data for scope checks on results.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    pub county_id: Uuid,
    pub township_id: Option<Uuid>,
    pub village_id: Option<Uuid>,
}

/// What a scheme-year's computation reads, plus where each subject sits.
#[derive(Clone)]
pub struct LoadedYear {
    pub data: YearData,
    pub placements: HashMap<Uuid, Placement>,
}

/// The columns of a finding the engine needs (not evidence or audit fields), read by position:
/// by far the most rows a computation reads.
#[derive(Debug)]
struct FindingRow {
    id: Uuid,
    subject_id: Uuid,
    kind: IncidentKind,
    item_code: Option<String>,
    rule_code: Option<String>,
    occurred_on: NaiveDate,
    quantity: i32,
    period: Option<String>,
    rate: Option<DbDecimal>,
    sampled: Option<i32>,
    correct: Option<i32>,
    amount: Option<DbDecimal>,
    points: Option<DbDecimal>,
    event_key: Option<String>,
    note: Option<String>,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

/// Loads the year of `scheme`, as recorded up to `as_of` (None: everything). The independent
/// queries run concurrently on separate pooled connections.
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    scheme: &LoadedScheme,
    as_of: Option<DateTime<Utc>>,
) -> Result<LoadedYear, ApiError> {
    let row = &scheme.row;
    let ((infos, placements, evaluations), findings, scoresheets, ballots) = tokio::try_join!(
        load_subjects(conn, scheme, as_of),
        load_findings(conn, row, as_of),
        load_scoresheets(conn, row, as_of),
        load_ballots(conn, row, as_of),
    )?;
    Ok(LoadedYear {
        data: YearData {
            year: row.year,
            subjects: infos,
            evaluations,
            findings,
            scoresheets,
            ballots,
        },
        placements,
    })
}

/// Rows written since a revision that results read and that can be patched into loaded inputs:
/// findings, scoresheets and ballots, each by id and by bulk upload.
#[derive(Debug, Default)]
pub struct InputChanges {
    pub findings: Written,
    pub scoresheets: Written,
    pub ballots: Written,
    /// Subjects or org units were written: their rows (links, names, attributes) are read again.
    pub subjects: bool,
}

/// Rows of one table written since a revision.
#[derive(Debug, Default)]
pub struct Written {
    pub ids: Vec<Uuid>,
    pub uploads: Vec<Uuid>,
    /// Some rows were changed (revoked, updated), not only created: they replace loaded ones.
    pub replaced: bool,
}

impl Written {
    fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.uploads.is_empty()
    }

    /// The rows' filter: by id or by upload (the two columns), of this scheme.
    fn condition<C: ColumnTrait>(&self, scheme: sea_orm::sea_query::SimpleExpr, (id, upload): (C, C)) -> Condition {
        Condition::all().add(scheme).add(
            Condition::any()
                .add(id.is_in(self.ids.iter().copied()))
                .add(upload.is_in(self.uploads.iter().copied())),
        )
    }
}

impl InputChanges {
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty() && self.scoresheets.is_empty() && self.ballots.is_empty() && !self.subjects
    }
}

/// The audited entities results never read: accounts, appeals themselves (an accepted appeal
/// revokes its finding, a change of its own), publications, evidence files and webhooks.
pub const UNREAD_ENTITIES: [&str; 8] = [
    "user",
    "service_account",
    "appeal",
    "publication",
    "evidence",
    "evidence_link",
    "webhook_subscription",
    "webhook_delivery",
];

/// What changed in a county between two revisions, read from its audit trail: `Some` when only
/// findings, scoresheets, ballots and subjects changed (or nothing that results read: logins,
/// users, appeals, publications, evidence files), `None` when anything else did (a scheme, a
/// rubric, an evaluation) and the inputs must be loaded afresh.
pub async fn changes_since<C: ConnectionTrait>(
    conn: &C,
    county_id: Uuid,
    from: i64,
    to: i64,
) -> Result<Option<InputChanges>, ApiError> {
    use super::entities::audit_event;
    if to - from > 10_000 {
        return Ok(None);
    }
    let events: Vec<(String, String, Option<Uuid>)> = audit_event::Entity::find()
        .select_only()
        .columns([
            audit_event::Column::Entity,
            audit_event::Column::Action,
            audit_event::Column::EntityId,
        ])
        .filter(audit_event::Column::CountyId.eq(county_id))
        .filter(audit_event::Column::Seq.gt(from))
        .filter(audit_event::Column::Seq.lte(to))
        .into_tuple()
        .all(conn)
        .await?;
    let mut changes = InputChanges::default();
    for (entity, action, id) in events {
        let written = match entity.as_str() {
            "incident" => &mut changes.findings,
            "scoresheet" => &mut changes.scoresheets,
            "ballot" => &mut changes.ballots,
            "subject" | "org_unit" => {
                changes.subjects = true;
                continue;
            }
            unread if UNREAD_ENTITIES.contains(&unread) => continue,
            _ => return Ok(None),
        };
        match (action.as_str(), id) {
            ("bulk_create", Some(upload)) => written.uploads.push(upload),
            (action, Some(id)) => {
                written.replaced |= action != "create";
                written.ids.push(id);
            }
            (_, None) => return Ok(None),
        }
    }
    Ok(Some(changes))
}

/// Replaces the changed findings, scoresheets, ballots and subjects of `year`'s scheme by their
/// current rows; returns the subjects whose inputs changed, or None when the year's evaluations
/// changed too and the inputs must be loaded afresh.
pub async fn patch_inputs<C: ConnectionTrait>(
    conn: &C,
    scheme: &LoadedScheme,
    year: &mut LoadedYear,
    changes: &InputChanges,
) -> Result<Option<Vec<Uuid>>, ApiError> {
    let mut subjects = Vec::new();
    if changes.subjects {
        let (infos, placements, evaluations) = load_subjects(conn, scheme, None).await?;
        if evaluations != year.data.evaluations {
            return Ok(None);
        }
        let before: HashMap<Uuid, &SubjectInfo> = year.data.subjects.iter().map(|s| (s.id, s)).collect();
        let now: HashSet<Uuid> = infos.iter().map(|s| s.id).collect();
        subjects.extend(infos.iter().filter(|s| before.get(&s.id) != Some(s)).map(|s| s.id));
        subjects.extend(before.keys().filter(|id| !now.contains(id)));
        year.data.subjects = infos;
        year.placements = placements;
    }
    subjects.extend(patch_findings(conn, scheme, year, &changes.findings).await?);
    let row = &scheme.row;
    if !changes.scoresheets.is_empty() {
        let columns = (scoresheet::Column::Id, scoresheet::Column::UploadId);
        let condition = changes
            .scoresheets
            .condition(scoresheet::Column::SchemeId.eq(row.id), columns);
        let sheets = scoresheets_where(conn, condition).await?;
        let fetched: Vec<(Uuid, Uuid)> = sheets.iter().map(|sheet| (sheet.id, sheet.subject_id)).collect();
        let key = |sheet: &Scoresheet| (sheet.id, sheet.subject_id);
        replace_rows(
            &mut year.data.scoresheets,
            sheets,
            &fetched,
            &changes.scoresheets,
            key,
            &mut subjects,
        );
    }
    if !changes.ballots.is_empty() {
        let columns = (ballot::Column::Id, ballot::Column::UploadId);
        let condition = changes.ballots.condition(ballot::Column::SchemeId.eq(row.id), columns);
        let rows = ballot_rows_where(conn, condition).await?;
        // A revoked ballot is taken out and not put back.
        let fetched: Vec<(Uuid, Uuid)> = rows.iter().map(|(id, _, subject, ..)| (*id, *subject)).collect();
        let key = |ballot: &Ballot| (ballot.id, ballot.subject_id);
        replace_rows(
            &mut year.data.ballots,
            ballots_of(rows, None),
            &fetched,
            &changes.ballots,
            key,
            &mut subjects,
        );
    }
    subjects.sort_unstable();
    subjects.dedup();
    Ok(Some(subjects))
}

/// Adds the `new` rows to `rows` and the subjects of the `fetched` (id, subject) rows to
/// `subjects`; when some were changed rather than created, first takes their loaded versions out
/// (noting those rows' subjects too). Rows only created are appended without a scan of the year.
fn replace_rows<T>(
    rows: &mut Vec<T>,
    new: Vec<T>,
    fetched: &[(Uuid, Uuid)],
    written: &Written,
    key: impl Fn(&T) -> (Uuid, Uuid),
    subjects: &mut Vec<Uuid>,
) {
    subjects.extend(fetched.iter().map(|(_, subject)| *subject));
    if written.replaced {
        let ids: FastSet<Uuid> = fetched.iter().map(|(id, _)| *id).collect();
        rows.retain(|row| {
            let (id, subject) = key(row);
            let kept = !ids.contains(&id);
            if !kept {
                subjects.push(subject);
            }
            kept
        });
    }
    rows.extend(new);
}

/// Replaces the changed findings of `year`'s scheme by their current rows; returns the
/// subjects whose findings changed.
async fn patch_findings<C: ConnectionTrait>(
    conn: &C,
    scheme: &LoadedScheme,
    year: &mut LoadedYear,
    changes: &Written,
) -> Result<Vec<Uuid>, ApiError> {
    let mut rows: Vec<FindingRow> = Vec::new();
    for chunk in changes.ids.chunks(500) {
        rows.extend(
            finding_columns()
                .filter(incident::Column::SchemeId.eq(scheme.row.id))
                .filter(incident::Column::Id.is_in(chunk.iter().copied()))
                .into_model()
                .all(conn)
                .await?,
        );
    }
    for chunk in changes.uploads.chunks(100) {
        rows.extend(
            finding_columns()
                .filter(incident::Column::SchemeId.eq(scheme.row.id))
                .filter(incident::Column::UploadId.is_in(chunk.iter().copied()))
                .into_model()
                .all(conn)
                .await?,
        );
    }
    let fetched: Vec<(Uuid, Uuid)> = rows.iter().map(|r| (r.id, r.subject_id)).collect();
    let findings = rows.into_iter().filter_map(finding_of).collect();
    let mut subjects = Vec::new();
    let key = |f: &Finding| (f.id, f.subject_id);
    replace_rows(&mut year.data.findings, findings, &fetched, changes, key, &mut subjects);
    Ok(subjects)
}

/// A ballot's columns: id, evaluation, subject, score, recorded, revoked.
type BallotRow = (Uuid, Uuid, Uuid, DbDecimal, DateTime<Utc>, Option<DateTime<Utc>>);

type SubjectsPart = (Vec<SubjectInfo>, HashMap<Uuid, Placement>, Vec<EvaluationInfo>);

async fn load_subjects<C: ConnectionTrait>(
    conn: &C,
    scheme: &LoadedScheme,
    as_of: Option<DateTime<Utc>>,
) -> Result<SubjectsPart, ApiError> {
    let row = &scheme.row;
    let scored_types: Vec<SubjectType> = scheme.definition.subject_types.keys().copied().collect();

    // Subjects: the scored types in the scheme's scope, plus villages (link targets) and
    // townships (they name the groups of village rankings).
    let mut names: Vec<String> = scored_types.iter().map(|t| t.as_str().to_owned()).collect();
    names.push(SubjectType::Village.as_str().to_owned());
    names.push(SubjectType::Township.as_str().to_owned());
    let mut select = subject::Entity::find()
        .filter(subject::Column::CountyId.eq(row.county_id))
        .filter(subject::Column::SubjectType.is_in(names));
    // As of an instant, a subject inactive or in another town now may have been neither then.
    // Subjects recorded after it stay in: with nothing recorded about them yet they score what
    // an empty year scores, as a county back-filling a past year expects.
    if as_of.is_none() {
        select = select.filter(subject::Column::Active.eq(true));
        if let Some(town) = row.township_id {
            select = select.filter(subject::Column::TownshipId.eq(town));
        }
    }
    let mut subjects = select.all(conn).await?;
    // By id, so the engine meets subjects (and lists linked ones) in one order on every database.
    subjects.sort_by_key(|s| s.id);
    let mut attributes: HashMap<Uuid, subject_attribute::Model> = subject_attribute::Entity::find()
        .filter(subject_attribute::Column::SchemeId.eq(row.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| (a.subject_id, a))
        .collect();
    if let Some(at) = as_of {
        revert_subjects(conn, row, at, &mut subjects, &mut attributes).await?;
        subjects.retain(|s| s.active && row.township_id.is_none_or(|town| s.township_id == Some(town)));
    }
    let mut placements = HashMap::with_capacity(subjects.len());
    let mut infos = Vec::with_capacity(subjects.len());
    for s in subjects {
        let subject_type = s.subject_type;
        placements.insert(
            s.id,
            Placement {
                county_id: s.county_id,
                township_id: s.township_id,
                village_id: s.village_id,
            },
        );
        infos.push(SubjectInfo {
            id: s.id,
            subject_type,
            name: s.name,
            township_id: s.township_id,
            dispatched_by: s.dispatched_by,
            stationed_in: s.stationed_in,
            attributes: attributes.get(&s.id).map(engine_attributes).unwrap_or_default(),
        });
    }

    let mut evaluations = evaluation::Entity::find()
        .filter(evaluation::Column::SchemeId.eq(row.id))
        .all(conn)
        .await?;
    // The engine keeps this order in every result's `evaluations` (and in the formula's
    // inputs), so it is fixed here, the same on every database: see [`evaluation_order`].
    evaluations.sort_by(|a, b| evaluation_order(a).cmp(&evaluation_order(b)));
    let evaluations = evaluations
        .into_iter()
        .map(|e| EvaluationInfo {
            id: e.id,
            kind: e.kind,
            key: e.key,
            title: e.title,
            window: Window {
                from: e.window_from,
                to: e.window_to,
            },
        })
        .collect();

    Ok((infos, placements, evaluations))
}

/// The documented order of a scheme's evaluations, wherever a list shows them: by window start,
/// then kind (half-year, year-end, democratic, quarterly), then key, then id.
pub fn evaluation_order(e: &evaluation::Model) -> (NaiveDate, u8, &str, Uuid) {
    let kind = match e.kind {
        EvaluationKind::HalfYear => 0,
        EvaluationKind::YearEnd => 1,
        EvaluationKind::Democratic => 2,
        EvaluationKind::Quarterly => 3,
        EvaluationKind::Monthly => 4,
    };
    (e.window_from, kind, e.key.as_str(), e.id)
}

/// What the engine reads of a subject's stored attributes for a scheme.
fn engine_attributes(a: &subject_attribute::Model) -> SubjectAttributes {
    SubjectAttributes {
        has_special_indicators: a.has_special_indicators,
        ranking_group: a.ranking_group.clone(),
        annual_target_met: a.annual_target_met,
        recalled: a.recalled,
        reserve_cadre: a.reserve_cadre,
        vertically_managed: a.vertically_managed,
    }
}

/// Puts subjects and their attributes back as they were recorded at `at` (§4: a result as of an
/// instant is reproducible): every change to them is in the audit trail with its `before`, so
/// the state at `at` is the `before` of the first change after it.
async fn revert_subjects<C: ConnectionTrait>(
    conn: &C,
    row: &scheme::Model,
    at: DateTime<Utc>,
    subjects: &mut [subject::Model],
    attributes: &mut HashMap<Uuid, subject_attribute::Model>,
) -> Result<(), ApiError> {
    use super::entities::audit_event;
    use super::subjects::{Subject, SubjectAttributes};
    use sea_orm::QueryOrder;
    let changes: Vec<(String, Option<Uuid>, Option<String>)> = audit_event::Entity::find()
        .select_only()
        .columns([
            audit_event::Column::Action,
            audit_event::Column::EntityId,
            audit_event::Column::Before,
        ])
        .filter(audit_event::Column::CountyId.eq(row.county_id))
        .filter(audit_event::Column::Entity.eq("subject"))
        .filter(audit_event::Column::Action.is_in(["update", "set_attributes"]))
        .filter(audit_event::Column::OccurredAt.gt(at))
        .order_by_asc(audit_event::Column::Seq)
        .into_tuple()
        .all(conn)
        .await?;
    let mut rows: HashMap<Uuid, Subject> = HashMap::new();
    let mut attrs: HashMap<Uuid, SubjectAttributes> = HashMap::new();
    for (action, id, before) in changes {
        let (Some(id), Some(before)) = (id, before) else {
            continue;
        };
        if action == "update" {
            if let (std::collections::hash_map::Entry::Vacant(slot), Ok(then)) =
                (rows.entry(id), serde_json::from_str::<Subject>(&before))
            {
                slot.insert(then);
            }
        } else if let Ok(then) = serde_json::from_str::<SubjectAttributes>(&before) {
            if then.scheme_id == row.id {
                attrs.entry(id).or_insert(then);
            }
        }
    }
    for s in subjects.iter_mut() {
        if let Some(then) = rows.remove(&s.id) {
            s.name = then.name;
            s.township_id = then.township_id;
            s.village_id = then.village_id;
            s.dispatched_by = then.dispatched_by;
            s.stationed_in = then.stationed_in;
            s.active = then.active;
        }
    }
    for (subject_id, then) in attrs {
        if then.version == 0 {
            // Never set before: the defaults applied.
            attributes.remove(&subject_id);
        } else if let Some(current) = attributes.get_mut(&subject_id) {
            current.has_special_indicators = then.has_special_indicators;
            current.ranking_group = then.ranking_group;
            current.annual_target_met = then.annual_target_met;
            current.recalled = then.recalled;
            current.reserve_cadre = then.reserve_cadre;
            current.vertically_managed = then.vertically_managed;
        }
    }
    Ok(())
}

async fn load_findings<C: ConnectionTrait>(
    conn: &C,
    row: &scheme::Model,
    as_of: Option<DateTime<Utc>>,
) -> Result<Vec<Finding>, ApiError> {
    let mut findings_query = finding_columns()
        .filter(incident::Column::CountyId.eq(row.county_id))
        .filter(incident::Column::SchemeId.eq(row.id));
    if let Some(at) = as_of {
        findings_query = findings_query.filter(incident::Column::CreatedAt.lte(at));
    }
    let finding_rows: Vec<FindingRow> = findings_query.into_model().all(conn).await?;
    Ok(finding_rows.into_iter().filter_map(finding_of).collect())
}

async fn load_scoresheets<C: ConnectionTrait>(
    conn: &C,
    row: &scheme::Model,
    as_of: Option<DateTime<Utc>>,
) -> Result<Vec<Scoresheet>, ApiError> {
    let mut condition = Condition::all()
        .add(scoresheet::Column::CountyId.eq(row.county_id))
        .add(scoresheet::Column::SchemeId.eq(row.id));
    if let Some(at) = as_of {
        condition = condition.add(scoresheet::Column::CreatedAt.lte(at));
    }
    scoresheets_where(conn, condition).await
}

/// The scoresheets matching `condition`, with their item scores (two queries).
async fn scoresheets_where<C: ConnectionTrait>(conn: &C, condition: Condition) -> Result<Vec<Scoresheet>, ApiError> {
    let sheets = scoresheet::Entity::find().filter(condition.clone()).all(conn).await?;
    let mut items: HashMap<Uuid, BTreeMap<String, Decimal>> = HashMap::with_capacity(sheets.len());
    if !sheets.is_empty() {
        let item_rows: Vec<(Uuid, String, DbDecimal)> = scoresheet_item::Entity::find()
            .select_only()
            .columns([
                scoresheet_item::Column::ScoresheetId,
                scoresheet_item::Column::ItemCode,
                scoresheet_item::Column::Score,
            ])
            .filter(scoresheet_item::Column::ScoresheetId.in_subquery(sheet_ids_where(condition)))
            .into_tuple()
            .all(conn)
            .await?;
        for (sheet, code, score) in item_rows {
            items.entry(sheet).or_default().insert(code, score.0);
        }
    }
    Ok(sheets
        .into_iter()
        .map(|s| Scoresheet {
            id: s.id,
            evaluation_id: s.evaluation_id,
            subject_id: s.subject_id,
            assessor_id: assessor_identity(&s.assessor_name),
            recorded_at: s.created_at,
            scores: items.remove(&s.id).unwrap_or_default(),
        })
        .collect())
}

async fn load_ballots<C: ConnectionTrait>(
    conn: &C,
    row: &scheme::Model,
    as_of: Option<DateTime<Utc>>,
) -> Result<Vec<Ballot>, ApiError> {
    let mut condition = Condition::all()
        .add(ballot::Column::CountyId.eq(row.county_id))
        .add(ballot::Column::SchemeId.eq(row.id));
    if let Some(at) = as_of {
        condition = condition.add(ballot::Column::CreatedAt.lte(at));
    }
    Ok(ballots_of(ballot_rows_where(conn, condition).await?, as_of))
}

async fn ballot_rows_where<C: ConnectionTrait>(conn: &C, condition: Condition) -> Result<Vec<BallotRow>, ApiError> {
    Ok(ballot::Entity::find()
        .select_only()
        .columns([
            ballot::Column::Id,
            ballot::Column::EvaluationId,
            ballot::Column::SubjectId,
            ballot::Column::Score,
            ballot::Column::CreatedAt,
            ballot::Column::RevokedAt,
        ])
        .filter(condition)
        .into_tuple()
        .all(conn)
        .await?)
}

/// The ballots in force at `as_of` (None: now): a revoked one counts until its revocation.
fn ballots_of(rows: Vec<BallotRow>, as_of: Option<DateTime<Utc>>) -> Vec<Ballot> {
    rows.into_iter()
        .filter(|(.., revoked)| revoked.is_none_or(|r| as_of.is_some_and(|at| r > at)))
        .map(|(id, evaluation_id, subject_id, score, recorded_at, _)| Ballot {
            id,
            evaluation_id,
            subject_id,
            score: score.0,
            recorded_at,
        })
        .collect()
}

impl FromQueryResult for FindingRow {
    fn from_query_result(res: &sea_orm::QueryResult, _pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            id: res.try_get_by_index(0)?,
            subject_id: res.try_get_by_index(1)?,
            kind: res.try_get_by_index(2)?,
            item_code: res.try_get_by_index(3)?,
            rule_code: res.try_get_by_index(4)?,
            occurred_on: res.try_get_by_index(5)?,
            quantity: res.try_get_by_index(6)?,
            period: res.try_get_by_index(7)?,
            rate: res.try_get_by_index(8)?,
            sampled: res.try_get_by_index(9)?,
            correct: res.try_get_by_index(10)?,
            amount: res.try_get_by_index(11)?,
            points: res.try_get_by_index(12)?,
            event_key: res.try_get_by_index(13)?,
            note: res.try_get_by_index(14)?,
            created_at: res.try_get_by_index(15)?,
            revoked_at: res.try_get_by_index(16)?,
        })
    }
}

/// The columns of [`FindingRow`], in its order.
fn finding_columns() -> sea_orm::Select<incident::Entity> {
    incident::Entity::find().select_only().columns([
        incident::Column::Id,
        incident::Column::SubjectId,
        incident::Column::Kind,
        incident::Column::ItemCode,
        incident::Column::RuleCode,
        incident::Column::OccurredOn,
        incident::Column::Quantity,
        incident::Column::Period,
        incident::Column::Rate,
        incident::Column::Sampled,
        incident::Column::Correct,
        incident::Column::Amount,
        incident::Column::Points,
        incident::Column::EventKey,
        incident::Column::Note,
        incident::Column::CreatedAt,
        incident::Column::RevokedAt,
    ])
}

/// An assessor is their name on the sheet, whoever entered it: one user may enter sheets for
/// several assessors, and a later sheet under the same name supersedes the earlier one
/// (`store::evaluations::store_sheet`), so the engine must group sheets the same way.
pub fn assessor_identity(name: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, name.as_bytes())
}

/// A finding about to be written, as the engine sees it (what-if simulations).
pub fn finding_of_model(m: incident::Model) -> Option<Finding> {
    finding_of(FindingRow {
        id: m.id,
        subject_id: m.subject_id,
        kind: m.kind,
        item_code: m.item_code,
        rule_code: m.rule_code,
        occurred_on: m.occurred_on,
        quantity: m.quantity,
        period: m.period,
        rate: m.rate,
        sampled: m.sampled,
        correct: m.correct,
        amount: m.amount,
        points: m.points,
        event_key: m.event_key,
        note: m.note,
        created_at: m.created_at,
        revoked_at: m.revoked_at,
    })
}

fn finding_of(r: FindingRow) -> Option<Finding> {
    let quantity = u32::try_from(r.quantity).ok()?;
    let detail = match r.kind {
        IncidentKind::Deduction => FindingDetail::Deduction { quantity },
        IncidentKind::Bonus => FindingDetail::Bonus {
            quantity,
            event_key: r.event_key,
        },
        IncidentKind::Measurement => FindingDetail::Measurement {
            period: parse_name::<Quarter>(r.period.as_deref()?)?,
            rate: match (r.rate, r.sampled, r.correct) {
                (Some(r), _, _) => MeasuredRate::Percent(r.0),
                (None, Some(s), Some(c)) => MeasuredRate::Counts {
                    sampled: u32::try_from(s).ok()?,
                    correct: u32::try_from(c).ok()?,
                },
                _ => return None,
            },
        },
        IncidentKind::Amount => FindingDetail::Amount { amount: r.amount?.0 },
        IncidentKind::Adjustment => FindingDetail::Adjustment {
            points: r.points?.0,
            reason: r.note.unwrap_or_default(),
        },
        IncidentKind::Veto => FindingDetail::Veto {
            reason: r.note.unwrap_or_default(),
        },
        IncidentKind::MajorFailure => FindingDetail::MajorFailure {
            reason: r.note.unwrap_or_default(),
        },
        IncidentKind::Dereliction => FindingDetail::Dereliction {
            reason: r.note.unwrap_or_default(),
        },
    };
    Some(Finding {
        id: r.id,
        subject_id: r.subject_id,
        item_code: r.item_code,
        rule_code: r.rule_code,
        occurred_on: r.occurred_on,
        recorded_at: r.created_at,
        revoked_at: r.revoked_at,
        detail,
    })
}

/// The ids of the scoresheets matching `condition`, as a subquery.
fn sheet_ids_where(condition: Condition) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::Query;
    Query::select()
        .column(scoresheet::Column::Id)
        .from(scoresheet::Entity)
        .cond_where(condition)
        .to_owned()
}
