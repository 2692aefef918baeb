//! Recording use cases: what a write of findings, scoresheets or ballots does, one function or
//! recorder per use case, called by the single and the bulk handlers alike. Each loads the
//! context the rows need (the store's validators: subjects, schemes, what is already stored),
//! admits every row by the domain's rules (`scoring::admission`), inserts what was admitted,
//! marks the rubric versions used and writes the audit event — all in the caller's
//! transaction, so a dry run is the same transaction rolled back. `simulation` answers
//! "what if" from the cached year without writing.

pub mod findings;
pub mod inputs;
pub mod simulation;

use std::collections::HashSet;

use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::store::WriteTx;

/// What an upload's rows came to.
#[derive(Debug, Default)]
pub struct Recorded {
    /// Data rows read.
    pub rows: usize,
    /// Scoresheets those rows made (scoresheet uploads only).
    pub sheets: Option<usize>,
    /// Ids written, in row order.
    pub ids: Vec<Uuid>,
    /// Every bad row's errors (then nothing may be committed).
    pub errors: Vec<FieldError>,
    /// Rubric versions the rows were admitted against (marked used on commit).
    pub rubrics: HashSet<Uuid>,
}

/// A bulk upload's use case: rows go in batch by batch (each a `(row number, row)` list),
/// admitted and, while the upload is clean, written in the transaction.
pub trait Recorder {
    /// One row of the upload.
    type Row;

    /// Admits and writes one batch.
    fn add(
        &mut self,
        tx: &WriteTx,
        caller: &Caller,
        batch: Vec<(usize, Self::Row)>,
    ) -> impl std::future::Future<Output = Result<(), ApiError>>;

    /// The problems found so far (a background job shows them while it runs).
    fn errors(&self) -> &[FieldError];

    /// What the upload came to.
    fn finish(self) -> Recorded;
}

/// Rows per batch: bounds memory on a 200 000-row upload.
pub const BATCH: usize = 1000;
