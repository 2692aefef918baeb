//! Recording scoresheets (§5.1) and democratic ballots (§7): one at a time or a whole upload,
//! through the same admission and the same writes.

use std::collections::HashSet;

use uuid::Uuid;

use super::{Recorded, Recorder, BATCH};
use crate::api::evaluations::{Ballot, NewBallot, NewScoresheet, Scoresheet};
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::store::evaluations::{self, InputValidator};
use crate::store::incidents::RowError;
use crate::store::{Change, WriteTx};

/// Records one scoresheet: admitted, stored (superseding the assessor's earlier sheet for the
/// subject), its rubric version marked used, audited. Answers the sheet and the id it superseded.
#[tracing::instrument(skip_all, fields(county = %caller.county_id, evaluation = %new.evaluation_id, subject = %new.subject_id))]
pub async fn record_scoresheet(
    tx: &WriteTx,
    caller: &Caller,
    new: NewScoresheet,
) -> Result<(Scoresheet, Option<Uuid>), ApiError> {
    let validator = InputValidator::prepare(
        tx.conn(),
        caller,
        &HashSet::from([new.evaluation_id]),
        &HashSet::from([new.subject_id]),
        false,
    )
    .await?;
    let valid = validator.check_sheet(caller, &new).map_err(RowError::into_api)?;
    let items = valid.items.clone();
    let (sheet, superseded) = evaluations::store_sheet(tx, valid).await?;
    Ok((Scoresheet::from_rows(sheet, &items), superseded))
}

/// Records one ballot: admitted (one per participant and subject), stored, audited.
#[tracing::instrument(skip_all, fields(county = %caller.county_id, evaluation = %new.evaluation_id, subject = %new.subject_id))]
pub async fn record_ballot(tx: &WriteTx, caller: &Caller, new: NewBallot) -> Result<Ballot, ApiError> {
    let mut validator = InputValidator::prepare(
        tx.conn(),
        caller,
        &HashSet::from([new.evaluation_id]),
        &HashSet::from([new.subject_id]),
        new.participant.is_some(),
    )
    .await?;
    let model = validator.check_ballot(caller, &new).map_err(RowError::into_api)?;
    let evaluation = validator
        .evaluation(model.evaluation_id)
        .ok_or_else(|| ApiError::internal("validated ballot without its evaluation"))?;
    let ballot = Ballot::of(model.clone(), evaluation);
    evaluations::insert_ballots(tx.conn(), std::slice::from_ref(&model)).await?;
    tx.audit(Change::created("ballot", ballot.id, &ballot)).await?;
    Ok(ballot)
}

/// An input row: the evaluation and subject it names.
trait Names {
    fn names(&self) -> (Uuid, Uuid);
}

impl Names for NewScoresheet {
    fn names(&self) -> (Uuid, Uuid) {
        (self.evaluation_id, self.subject_id)
    }
}

impl Names for NewBallot {
    fn names(&self) -> (Uuid, Uuid) {
        (self.evaluation_id, self.subject_id)
    }
}

/// Loads the evaluations and subjects a batch names into an upload's validator.
async fn load_named<T: Names>(
    validator: &mut InputValidator,
    tx: &WriteTx,
    caller: &Caller,
    batch: &[(usize, T)],
    with_participants: bool,
) -> Result<(), ApiError> {
    let (evaluation_ids, subject_ids): (HashSet<Uuid>, HashSet<Uuid>) =
        batch.iter().map(|(_, row)| row.names()).unzip();
    validator
        .load(tx.conn(), caller, &evaluation_ids, &subject_ids, with_participants)
        .await
}

/// A scoresheet upload in progress: each sheet admitted, an assessor's sheet for a subject at
/// most once, stored while the upload is clean.
pub struct ScoresheetsUpload {
    upload_id: Uuid,
    validator: InputValidator,
    seen: HashSet<(Uuid, Uuid, String)>,
    recorded: Recorded,
}

impl ScoresheetsUpload {
    pub fn begin(upload_id: Uuid, sheets: usize) -> Self {
        ScoresheetsUpload {
            upload_id,
            validator: InputValidator::default(),
            seen: HashSet::new(),
            recorded: Recorded {
                sheets: Some(sheets),
                ..Recorded::default()
            },
        }
    }
}

impl Recorder for ScoresheetsUpload {
    type Row = NewScoresheet;

    async fn add(&mut self, tx: &WriteTx, caller: &Caller, batch: Vec<(usize, NewScoresheet)>) -> Result<(), ApiError> {
        load_named(&mut self.validator, tx, caller, &batch, false).await?;
        let mut valid = Vec::new();
        for (row, new) in batch {
            match self.validator.check_sheet(caller, &new) {
                Ok(mut sheet) => {
                    let key = (
                        sheet.sheet.evaluation_id,
                        sheet.sheet.subject_id,
                        sheet.sheet.assessor_name.clone(),
                    );
                    if !self.seen.insert(key) {
                        self.recorded.errors.push(
                            FieldError::new(
                                "assessor",
                                "scoresheet.duplicate_in_upload",
                                "this assessor's sheet for this subject appears twice in the upload",
                            )
                            .at_row(row),
                        );
                        continue;
                    }
                    sheet.sheet.upload_id = Some(self.upload_id);
                    valid.push(sheet);
                }
                Err(e) => self.recorded.errors.extend(e.into_fields(row)),
            }
        }
        if self.recorded.errors.is_empty() {
            for sheet in valid {
                self.recorded.rubrics.insert(sheet.rubric_id);
                let (stored, _) = evaluations::store_sheet_quietly(tx, sheet).await?;
                self.recorded.ids.push(stored.id);
            }
        }
        Ok(())
    }

    fn errors(&self) -> &[FieldError] {
        &self.recorded.errors
    }

    fn finish(self) -> Recorded {
        self.recorded
    }
}

/// A ballot upload in progress: each ballot admitted (a participant once per subject), stored
/// while the upload is clean.
pub struct BallotsUpload {
    upload_id: Uuid,
    validator: InputValidator,
    recorded: Recorded,
}

impl BallotsUpload {
    pub fn begin(upload_id: Uuid) -> Self {
        BallotsUpload {
            upload_id,
            validator: InputValidator::default(),
            recorded: Recorded::default(),
        }
    }
}

impl Recorder for BallotsUpload {
    type Row = NewBallot;

    async fn add(&mut self, tx: &WriteTx, caller: &Caller, batch: Vec<(usize, NewBallot)>) -> Result<(), ApiError> {
        load_named(&mut self.validator, tx, caller, &batch, true).await?;
        let mut models = Vec::with_capacity(batch.len());
        for (row, new) in batch {
            match self.validator.check_ballot(caller, &new) {
                Ok(mut model) => {
                    model.upload_id = Some(self.upload_id);
                    models.push(model);
                }
                Err(e) => self.recorded.errors.extend(e.into_fields(row)),
            }
        }
        if self.recorded.errors.is_empty() {
            for chunk in models.chunks(BATCH) {
                evaluations::insert_ballots(tx.conn(), chunk).await?;
                self.recorded.ids.extend(chunk.iter().map(|m| m.id));
            }
        }
        Ok(())
    }

    fn errors(&self) -> &[FieldError] {
        &self.recorded.errors
    }

    fn finish(self) -> Recorded {
        self.recorded
    }
}
