//! Recording findings (§6): one at a time (`POST /api/v1/incidents`) or a whole upload
//! (`POST /api/v1/incidents:bulk`), through the same admission and the same writes.

use std::collections::HashSet;

use uuid::Uuid;

use super::{Recorded, Recorder};
use crate::api::incidents::{Incident, NewIncident};
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::store::entities::incident;
use crate::store::incidents::{self, RowError, Validator};
use crate::store::{evidence, schemes, Change, WriteTx};

/// Records one finding: admitted against its subject's scheme, inserted, its rubric version
/// marked used, audited.
#[tracing::instrument(skip_all, fields(county = %caller.county_id, subject = %new.subject_id))]
pub async fn record_finding(tx: &WriteTx, caller: &Caller, new: NewIncident) -> Result<incident::Model, ApiError> {
    let mut validator = Validator::prepare(tx.conn(), caller, std::slice::from_ref(&new)).await?;
    let model = validator.check(caller, &new).map_err(RowError::into_api)?;
    let wanted = new.evidence_ids.iter().copied().collect();
    let readable = evidence::readable(tx.conn(), caller, &wanted).await?;
    let unknown = evidence::unknown_refs(&new.evidence_ids, &readable);
    if !unknown.is_empty() {
        return Err(ApiError::validation(unknown));
    }
    incidents::insert_many(tx.conn(), vec![model.clone()]).await?;
    schemes::mark_used(tx.conn(), model.rubric_id).await?;
    tx.audit(Change::created("incident", model.id, &Incident::from(model.clone())))
        .await?;
    evidence::attach_to_finding(tx, caller, &model, &new.evidence_ids).await?;
    Ok(model)
}

/// A findings upload in progress: each batch's subjects loaded, its rows admitted and, while
/// the upload is clean, inserted with the upload's id.
pub struct FindingsUpload {
    upload_id: Uuid,
    validator: Validator,
    recorded: Recorded,
}

impl FindingsUpload {
    /// Starts an upload: the county's active schemes.
    #[tracing::instrument(skip_all, fields(county = %caller.county_id, upload = %upload_id))]
    pub async fn begin(tx: &WriteTx, caller: &Caller, upload_id: Uuid) -> Result<Self, ApiError> {
        Ok(FindingsUpload {
            upload_id,
            validator: Validator::new(tx.conn(), caller).await?,
            recorded: Recorded::default(),
        })
    }
}

impl Recorder for FindingsUpload {
    type Row = NewIncident;

    async fn add(&mut self, tx: &WriteTx, caller: &Caller, batch: Vec<(usize, NewIncident)>) -> Result<(), ApiError> {
        let subjects = batch.iter().map(|(_, new)| new.subject_id).collect();
        self.validator.load_subjects(tx.conn(), caller, &subjects).await?;
        let wanted: HashSet<Uuid> = batch
            .iter()
            .flat_map(|(_, new)| new.evidence_ids.iter().copied())
            .collect();
        let readable = evidence::readable(tx.conn(), caller, &wanted).await?;
        let mut models = Vec::with_capacity(batch.len());
        let mut attachments = Vec::new();
        for (row, new) in batch {
            match self.validator.check(caller, &new) {
                Ok(mut model) => {
                    let unknown = evidence::unknown_refs(&new.evidence_ids, &readable);
                    if !unknown.is_empty() {
                        self.recorded.errors.extend(unknown.into_iter().map(|e| e.at_row(row)));
                        continue;
                    }
                    model.upload_id = Some(self.upload_id);
                    self.recorded.rubrics.insert(model.rubric_id);
                    if !new.evidence_ids.is_empty() {
                        attachments.push((model.clone(), new.evidence_ids));
                    }
                    models.push(model);
                }
                Err(e) => self.recorded.errors.extend(e.into_fields(row)),
            }
        }
        if self.recorded.errors.is_empty() && !models.is_empty() {
            self.recorded.ids.extend(models.iter().map(|m| m.id));
            incidents::insert_many(tx.conn(), models).await?;
            for (model, ids) in attachments {
                evidence::attach_to_finding(tx, caller, &model, &ids).await?;
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
