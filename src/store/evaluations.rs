//! Evaluations (half-year, year-end, democratic) with their window and open/closed state, and
//! what they collect: scoresheets (an assessor's item scores) and ballots (民主测评). A closed
//! evaluation accepts neither (409).

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Select,
};
use uuid::Uuid;

use super::entities::{ballot, evaluation, scheme, scoresheet, scoresheet_item, subject, subject_attribute};
use super::load_for;
use super::new_row;
use super::page::list_rows;
use super::schemes::LoadedScheme;
use super::{name_of, new_id, now, Change, WriteTx};
use crate::api::evaluations::{Evaluation, EvaluationFilter, InputFilter, NewEvaluation, Scoresheet};
pub use crate::api::evaluations::{NewBallot, NewScoresheet};
use crate::auth::policy::{Action, Scope};
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::named::named_enum;
use crate::scoring::admission::{admit_ballot, admit_scoresheet};
use crate::scoring::{EvaluationKind, Period, SubjectType};

named_enum! {
    /// `open` (accepting scoresheets or ballots) or `closed`.
    pub enum EvaluationStatus {
        Open,
        Closed,
    }
}

pub fn scope_of(m: &evaluation::Model) -> Scope {
    Scope::new(m.county_id, m.township_id, None)
}

load_for!(evaluation, authorize_shared, "evaluation");

/// The window of a new evaluation: the one given, or the kind's default (§4); a quarterly one
/// must be a whole quarter (§8.6).
fn window_of(scheme: &scheme::Model, new: &NewEvaluation) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let year = scheme.year;
    let bad_year = || ApiError::internal("bad year");
    let quarter_window = |period: Period| period.window(year).map(|w| (w.from, w.to));
    let (default_from, default_to) = if new.kind == EvaluationKind::Quarterly {
        // The scheme's own template of that key, read without its rubrics.
        let template = serde_json::from_str::<serde_json::Value>(&scheme.definition)
            .ok()
            .and_then(|definition| {
                let templates = definition.get("evaluations")?.as_array()?.clone();
                let template = templates
                    .into_iter()
                    .find(|t| t.get("key").and_then(|k| k.as_str()) == Some(new.key.as_str()))?;
                serde_json::from_value::<Period>(template.get("window")?.clone()).ok()
            });
        let named = new.window_from.and_then(|from| {
            [Period::Q1, Period::Q2, Period::Q3, Period::Q4]
                .into_iter()
                .filter_map(quarter_window)
                .find(|(start, _)| *start == from)
        });
        match template.and_then(quarter_window).or(named) {
            Some(window) => window,
            None => {
                return Err(ApiError::invalid(
                    "window_from",
                    "evaluation.window_not_quarter",
                    "a quarterly evaluation needs window_from on the first day of its quarter (or a key of the scheme's quarterly templates)",
                ))
            }
        }
    } else {
        let to = if new.kind == EvaluationKind::HalfYear {
            (6, 30)
        } else {
            (12, 31)
        };
        (
            NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(bad_year)?,
            NaiveDate::from_ymd_opt(year, to.0, to.1).ok_or_else(bad_year)?,
        )
    };
    let from = new.window_from.unwrap_or(default_from);
    let to = new.window_to.unwrap_or(default_to);
    if from.year() != year || to.year() != year || from > to {
        return Err(ApiError::invalid(
            "window_to",
            "evaluation.window_invalid",
            format!("the window must lie in {year} with window_from ≤ window_to"),
        )
        .arg("year", year));
    }
    let whole_quarter = [Period::Q1, Period::Q2, Period::Q3, Period::Q4]
        .into_iter()
        .filter_map(quarter_window)
        .any(|window| window == (from, to));
    if new.kind == EvaluationKind::Quarterly && !whole_quarter {
        return Err(ApiError::invalid(
            "window_to",
            "evaluation.window_not_quarter",
            "a quarterly evaluation's window is one whole calendar quarter (Q1–Q4)",
        ));
    }
    Ok((from, to))
}

pub async fn create(tx: &WriteTx, caller: &Caller, new: NewEvaluation) -> Result<evaluation::Model, ApiError> {
    let scheme = super::schemes::load_for(tx.conn(), caller, Action::ReadShared, new.scheme_id).await?;
    let scope = super::schemes::scope_of(&scheme);
    caller.authorize_shared(Action::Assess, &scope, "scheme")?;
    if new.kind == EvaluationKind::Monthly {
        return Err(ApiError::invalid(
            "kind",
            "evaluation.kind_virtual",
            "monthly standings are computed from findings; read them from /api/v1/results?kind=monthly",
        ));
    }
    let key = super::org_units::check_name("key", &new.key)?;
    let title = super::org_units::check_name("title", &new.title)?;
    let (from, to) = window_of(&scheme, &new)?;
    let taken = evaluation::Entity::find()
        .filter(evaluation::Column::SchemeId.eq(scheme.id))
        .filter(evaluation::Column::Key.eq(key.as_str()))
        .one(tx.conn())
        .await?;
    if taken.is_some() {
        return Err(ApiError::conflict(
            "evaluation.key_taken",
            format!("the scheme already has an evaluation {key}"),
        )
        .arg("key", key));
    }
    let at = now();
    let model = new_row!(evaluation, new_id(), scheme.county_id, at, {
        scheme_id: scheme.id,
        org_unit_id: scheme.org_unit_id,
        township_id: scheme.township_id,
        kind: new.kind,
        key,
        title,
        window_from: from,
        window_to: to,
        status: EvaluationStatus::Open,
        closed_at: None,
    });
    tx.insert_created("evaluation", model.id, &model, Evaluation::from)
        .await?;
    Ok(model)
}

/// Closes or reopens an evaluation.
pub async fn set_status(
    tx: &WriteTx,
    caller: &Caller,
    id: Uuid,
    status: EvaluationStatus,
) -> Result<evaluation::Model, ApiError> {
    let current = load_for(tx.conn(), caller, Action::Assess, id).await?;
    if current.status == status {
        return Err(ApiError::conflict(
            "evaluation.status_unchanged",
            format!("the evaluation is already {}", name_of(status)),
        )
        .arg("evaluation_status", name_of(status)));
    }
    let at = now();
    let mut active = current.clone().into_active_model();
    active.status = Set(status);
    active.closed_at = Set((status == EvaluationStatus::Closed).then_some(at));
    let action = if status == EvaluationStatus::Closed {
        "close"
    } else {
        "reopen"
    };
    tx.save(action, "evaluation", id, current, active, at, Evaluation::from)
        .await
}

list_rows!(list(EvaluationFilter) -> evaluation, visible_shared, equal {
    scheme_id => SchemeId, kind => Kind, status => Status,
});

// ---------------------------------------------------------------------------------------------
// Scoresheets and ballots

/// What validating scoresheets and ballots needs, loaded once per request.
#[derive(Default)]
pub struct InputValidator {
    evaluations: HashMap<Uuid, (evaluation::Model, LoadedScheme)>,
    subjects: HashMap<Uuid, subject::Model>,
    /// Departments of a scheme without special indicators.
    no_special: HashSet<(Uuid, Uuid)>,
    /// Active ballots per (evaluation, subject, participant).
    participants: HashSet<(Uuid, Uuid, String)>,
}

/// One validated scoresheet ready to store.
pub struct ValidSheet {
    pub sheet: scoresheet::Model,
    pub items: Vec<scoresheet_item::Model>,
    pub rubric_id: Uuid,
}

impl InputValidator {
    pub async fn prepare<C: ConnectionTrait>(
        conn: &C,
        caller: &Caller,
        evaluation_ids: &HashSet<Uuid>,
        subject_ids: &HashSet<Uuid>,
        with_participants: bool,
    ) -> Result<Self, ApiError> {
        let mut validator = Self::default();
        validator
            .load(conn, caller, evaluation_ids, subject_ids, with_participants)
            .await?;
        Ok(validator)
    }

    /// Loads the evaluations (with their schemes) and subjects not loaded yet; bulk uploads call
    /// this batch by batch.
    pub async fn load<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        caller: &Caller,
        evaluation_ids: &HashSet<Uuid>,
        subject_ids: &HashSet<Uuid>,
        with_participants: bool,
    ) -> Result<(), ApiError> {
        let new_evaluations: Vec<Uuid> = evaluation_ids
            .iter()
            .copied()
            .filter(|id| !self.evaluations.contains_key(id))
            .collect();
        if !new_evaluations.is_empty() {
            let mut schemes: HashMap<Uuid, LoadedScheme> =
                self.evaluations.values().map(|(_, s)| (s.row.id, s.clone())).collect();
            for row in evaluation::Entity::find()
                .filter(evaluation::Column::Id.is_in(new_evaluations.iter().copied()))
                .filter(evaluation::Column::CountyId.eq(caller.county_id))
                .all(conn)
                .await?
            {
                if !schemes.contains_key(&row.scheme_id) {
                    if let Some(s) = scheme::Entity::find_by_id(row.scheme_id).one(conn).await? {
                        for a in subject_attribute::Entity::find()
                            .filter(subject_attribute::Column::SchemeId.eq(s.id))
                            .filter(subject_attribute::Column::HasSpecialIndicators.eq(false))
                            .all(conn)
                            .await?
                        {
                            self.no_special.insert((a.scheme_id, a.subject_id));
                        }
                        schemes.insert(s.id, super::schemes::load_definition(conn, s).await?);
                    }
                }
                if let Some(s) = schemes.get(&row.scheme_id) {
                    self.evaluations.insert(row.id, (row, s.clone()));
                }
            }
            if with_participants {
                for b in ballot::Entity::find()
                    .filter(ballot::Column::EvaluationId.is_in(new_evaluations.iter().copied()))
                    .filter(ballot::Column::Participant.is_not_null())
                    .filter(ballot::Column::RevokedAt.is_null())
                    .all(conn)
                    .await?
                {
                    self.participants
                        .insert((b.evaluation_id, b.subject_id, b.participant.unwrap_or_default()));
                }
            }
        }
        super::subjects::load_missing(conn, caller.county_id, subject_ids, &mut self.subjects).await?;
        Ok(())
    }

    /// A loaded evaluation.
    pub fn evaluation(&self, id: Uuid) -> Option<&evaluation::Model> {
        self.evaluations.get(&id).map(|(evaluation, _)| evaluation)
    }

    /// The evaluation (open, of the right kind) and the subject (in scope, in the scheme).
    fn locate(
        &self,
        caller: &Caller,
        evaluation_id: Uuid,
        subject_id: Uuid,
        wants_ballots: bool,
    ) -> Result<(&evaluation::Model, &LoadedScheme, &subject::Model, SubjectType), super::incidents::RowError> {
        use super::incidents::RowError;
        let invalid =
            |field: &str, code: &str, message: &str| RowError::Invalid(vec![FieldError::new(field, code, message)]);
        let (evaluation, scheme) = self
            .evaluations
            .get(&evaluation_id)
            .filter(|(e, _)| caller.may(Action::ReadShared, &scope_of(e)))
            .ok_or_else(|| {
                invalid(
                    "evaluation_id",
                    "evaluation.unknown",
                    "evaluation_id is not an evaluation in your scope",
                )
            })?;
        let kind: EvaluationKind = evaluation.kind;
        if wants_ballots && kind != EvaluationKind::Democratic {
            return Err(invalid(
                "evaluation_id",
                "ballot.evaluation_not_democratic",
                "ballots belong to democratic evaluations",
            ));
        }
        if !wants_ballots && !kind.scores_rubric() {
            return Err(invalid(
                "evaluation_id",
                "scoresheet.evaluation_not_scored",
                "scoresheets belong to half-year, year-end and quarterly evaluations",
            ));
        }
        if evaluation.status != EvaluationStatus::Open {
            return Err(RowError::Conflict(FieldError::new(
                "evaluation_id",
                "evaluation.closed",
                "the evaluation is closed and accepts no more scoresheets or ballots",
            )));
        }
        let subject = self
            .subjects
            .get(&subject_id)
            .filter(|s| caller.may(Action::Read, &super::subjects::scope_of(s)))
            .ok_or_else(|| {
                invalid(
                    "subject_id",
                    "evaluation.subject_unknown",
                    "subject_id is not a subject in your scope",
                )
            })?;
        if !caller.may(Action::Record, &super::subjects::scope_of(subject)) {
            return Err(RowError::Forbidden);
        }
        let subject_type: SubjectType = subject.subject_type;
        let in_scheme = scheme.definition.subject_types.contains_key(&subject_type)
            && (scheme.row.township_id.is_none() || scheme.row.township_id == subject.township_id);
        if !in_scheme {
            return Err(invalid(
                "subject_id",
                "evaluation.subject_not_in_scheme",
                "the evaluation's scheme does not assess this subject",
            ));
        }
        // Seed B's democratic evaluations score individuals only: a township's ballot would be
        // stored and never count.
        let covered = scheme
            .definition
            .evaluations
            .iter()
            .find(|template| template.key == evaluation.key)
            .is_none_or(|template| template.applies_to(subject_type));
        if !covered {
            return Err(invalid(
                "subject_id",
                "evaluation.subject_type_not_covered",
                &format!(
                    "this evaluation does not assess subjects of type {}",
                    subject_type.as_str()
                ),
            ));
        }
        Ok((evaluation, scheme, subject, subject_type))
    }

    pub fn check_sheet(&self, caller: &Caller, new: &NewScoresheet) -> Result<ValidSheet, super::incidents::RowError> {
        use super::incidents::RowError;
        let (evaluation, scheme, subject, subject_type) =
            self.locate(caller, new.evaluation_id, new.subject_id, false)?;
        let config = scheme
            .definition
            .subject_types
            .get(&subject_type)
            .ok_or(RowError::Internal)?;
        let no_special = self.no_special.contains(&(scheme.row.id, subject.id));
        let assessor = new
            .assessor
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .unwrap_or(&caller.name)
            .to_owned();
        admit_scoresheet(&config.rubric, !no_special, &new.scores, &assessor)
            .map_err(|violations| RowError::Invalid(violations.into_iter().map(FieldError::from).collect()))?;
        let at = now();
        let id = new_id();
        let sheet = new_row!(scoresheet, id, subject.county_id, at, {
            scheme_id: scheme.row.id,
            evaluation_id: evaluation.id,
            subject_id: subject.id,
            township_id: subject.township_id,
            village_id: subject.village_id,
            assessor_id: caller.id,
            assessor_name: assessor,
            note: new
                .note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            upload_id: None,
            revoked_at: None,
            superseded_by: None,
        });
        let items = new
            .scores
            .iter()
            .map(|(code, score)| scoresheet_item::Model {
                id: new_id(),
                county_id: subject.county_id,
                scoresheet_id: id,
                item_code: code.clone(),
                score: (*score).into(),
            })
            .collect();
        let rubric_id = *scheme.rubric_ids.get(&subject_type).ok_or(RowError::Internal)?;
        Ok(ValidSheet {
            sheet,
            items,
            rubric_id,
        })
    }

    pub fn check_ballot(
        &mut self,
        caller: &Caller,
        new: &NewBallot,
    ) -> Result<ballot::Model, super::incidents::RowError> {
        use super::incidents::RowError;
        let (evaluation, scheme, subject, _) = self.locate(caller, new.evaluation_id, new.subject_id, true)?;
        admit_ballot(new.score).map_err(|violation| RowError::Invalid(vec![violation.into()]))?;
        let participant = new
            .participant
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        let at = now();
        let model = new_row!(ballot, new_id(), subject.county_id, at, {
            scheme_id: scheme.row.id,
            evaluation_id: evaluation.id,
            subject_id: subject.id,
            township_id: subject.township_id,
            village_id: subject.village_id,
            score: new.score.into(),
            participant: participant.clone(),
            recorded_by: caller.id,
            upload_id: None,
            revoked_at: None,
        });
        if let Some(p) = participant {
            if !self.participants.insert((evaluation.id, subject.id, p.clone())) {
                return Err(RowError::Conflict(
                    FieldError::new(
                        "participant",
                        "ballot.duplicate",
                        format!("participant {p} already scored this subject in this evaluation"),
                    )
                    .arg("participant", p),
                ));
            }
        }
        Ok(model)
    }
}

pub async fn store_sheet(tx: &WriteTx, valid: ValidSheet) -> Result<(scoresheet::Model, Option<Uuid>), ApiError> {
    store(tx, valid, true).await
}

/// Stores a validated sheet of a bulk upload (the upload has one audit event).
pub async fn store_sheet_quietly(
    tx: &WriteTx,
    valid: ValidSheet,
) -> Result<(scoresheet::Model, Option<Uuid>), ApiError> {
    store(tx, valid, false).await
}

async fn store(tx: &WriteTx, valid: ValidSheet, audited: bool) -> Result<(scoresheet::Model, Option<Uuid>), ApiError> {
    let previous = scoresheet::Entity::find()
        .filter(scoresheet::Column::EvaluationId.eq(valid.sheet.evaluation_id))
        .filter(scoresheet::Column::SubjectId.eq(valid.sheet.subject_id))
        .filter(scoresheet::Column::AssessorName.eq(valid.sheet.assessor_name.clone()))
        .filter(scoresheet::Column::RevokedAt.is_null())
        .one(tx.conn())
        .await?;
    tx.insert(valid.sheet.clone()).await?;
    scoresheet_item::Entity::insert_many(valid.items.iter().cloned().map(IntoActiveModel::into_active_model))
        .exec_without_returning(tx.conn())
        .await?;
    super::schemes::mark_used(tx.conn(), valid.rubric_id).await?;
    let after = Scoresheet::from_rows(valid.sheet.clone(), &valid.items);
    let mut change = Change::created("scoresheet", valid.sheet.id, &after);
    let superseded = match previous {
        Some(old) => {
            let old_items = scoresheet_item::Entity::find()
                .filter(scoresheet_item::Column::ScoresheetId.eq(old.id))
                .all(tx.conn())
                .await?;
            change = change.before(&Scoresheet::from_rows(old.clone(), &old_items));
            let mut active = old.clone().into_active_model();
            active.revoked_at = Set(Some(valid.sheet.created_at));
            active.superseded_by = Set(Some(valid.sheet.id));
            active.version = Set(old.version + 1);
            active.updated_at = Set(valid.sheet.created_at);
            active.update(tx.conn()).await?;
            change = change.seal(super::seals::Seal::Row("scoresheet", old.id));
            Some(old.id)
        }
        None => None,
    };
    if audited {
        tx.audit(change).await?;
    }
    Ok((valid.sheet, superseded))
}

/// `select` narrowed by the filters scoresheets and ballots share, on `columns`: evaluation,
/// subject and upload.
fn by_input<E: EntityTrait>(mut select: Select<E>, filter: &InputFilter, columns: [E::Column; 3]) -> Select<E> {
    let [evaluation, subject, upload] = columns;
    if let Some(v) = filter.evaluation_id {
        select = select.filter(evaluation.eq(v));
    }
    if let Some(v) = filter.subject_id {
        select = select.filter(subject.eq(v));
    }
    if let Some(v) = filter.upload_id {
        select = select.filter(upload.eq(v));
    }
    select
}

pub async fn list_sheets<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    filter: &InputFilter,
    page: &super::page::PageRequest,
) -> Result<(Vec<scoresheet::Model>, HashMap<Uuid, Vec<scoresheet_item::Model>>), ApiError> {
    use scoresheet::Column;
    let mut select = by_input(
        scoresheet::Entity::find().filter(caller.visible(scoresheet::Entity)),
        filter,
        [Column::EvaluationId, Column::SubjectId, Column::UploadId],
    );
    if !filter.include_superseded.unwrap_or(false) {
        select = select.filter(scoresheet::Column::RevokedAt.is_null());
    }
    let sheets = super::page::paginate(select, page).all(conn).await?;
    let mut items: HashMap<Uuid, Vec<scoresheet_item::Model>> = HashMap::new();
    if !sheets.is_empty() {
        for item in scoresheet_item::Entity::find()
            .filter(scoresheet_item::Column::ScoresheetId.is_in(sheets.iter().map(|s| s.id)))
            .order_by_asc(scoresheet_item::Column::ItemCode)
            .all(conn)
            .await?
        {
            items.entry(item.scoresheet_id).or_default().push(item);
        }
    }
    Ok((sheets, items))
}

pub async fn list_ballots<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    filter: &InputFilter,
    page: &super::page::PageRequest,
) -> Result<(Vec<ballot::Model>, HashMap<Uuid, evaluation::Model>), ApiError> {
    use ballot::Column;
    let mut select = by_input(
        ballot::Entity::find().filter(caller.visible(ballot::Entity)),
        filter,
        [Column::EvaluationId, Column::SubjectId, Column::UploadId],
    );
    select = select.filter(ballot::Column::RevokedAt.is_null());
    let rows = super::page::paginate(select, page).all(conn).await?;
    let ids: HashSet<Uuid> = rows.iter().map(|b| b.evaluation_id).collect();
    let evaluations = if ids.is_empty() {
        HashMap::new()
    } else {
        evaluation::Entity::find()
            .filter(evaluation::Column::Id.is_in(ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect()
    };
    Ok((rows, evaluations))
}

/// Inserts admitted ballots.
pub async fn insert_ballots<C: ConnectionTrait>(conn: &C, models: &[ballot::Model]) -> Result<(), ApiError> {
    if models.is_empty() {
        return Ok(());
    }
    ballot::Entity::insert_many(models.iter().cloned().map(IntoActiveModel::into_active_model))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}
