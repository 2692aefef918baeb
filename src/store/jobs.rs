//! Jobs' rows (see `crate::jobs`): started, progress saved while running (PostgreSQL), ended
//! with the answer, read. Written directly, not through `WriteTx`: a job records a request, like
//! an idempotency key, and the upload it runs is audited in its own transaction.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entities::job;
use super::now;
use crate::error::ApiError;
use crate::named::named_enum;

named_enum! {
    /// Where a job is.
    pub enum JobStatus {
        /// Reading, validating or writing rows.
        Running,
        /// Ended with a 2xx answer: every row written (or, on a dry run, every row valid).
        Succeeded,
        /// Ended with a problem (`result` holds it): nothing was written.
        Failed,
    }
}

/// A job's counters as saved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub rows_read: i64,
    pub rows_validated: i64,
    pub rows_written: i64,
    pub error_count: i64,
    /// JSON array of the first problems found.
    pub errors: String,
}

/// The answer a job ended with.
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

pub async fn start<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    county_id: Uuid,
    created_by: Uuid,
    operation: &str,
) -> Result<job::Model, ApiError> {
    let at = now();
    let row = job::Model {
        id,
        county_id,
        created_at: at,
        updated_at: at,
        created_by,
        operation: operation.to_owned(),
        status: JobStatus::Running,
        rows_read: 0,
        rows_validated: 0,
        rows_written: 0,
        error_count: 0,
        errors: "[]".to_owned(),
        result_status: None,
        result_content_type: None,
        result_body: None,
        finished_at: None,
    };
    job::Entity::insert(job::ActiveModel::from(row.clone()))
        .exec_without_returning(conn)
        .await?;
    Ok(row)
}

/// Saves a running job's counters (and so its heartbeat, `updated_at`).
pub async fn save_progress<C: ConnectionTrait>(conn: &C, id: Uuid, counts: &Counts) -> Result<(), ApiError> {
    job::Entity::update_many()
        .col_expr(job::Column::RowsRead, Expr::value(counts.rows_read))
        .col_expr(job::Column::RowsValidated, Expr::value(counts.rows_validated))
        .col_expr(job::Column::RowsWritten, Expr::value(counts.rows_written))
        .col_expr(job::Column::ErrorCount, Expr::value(counts.error_count))
        .col_expr(job::Column::Errors, Expr::value(counts.errors.clone()))
        .col_expr(job::Column::UpdatedAt, Expr::value(now()))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Status.eq(JobStatus::Running))
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends a job with its counters and answer.
pub async fn finish<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    status: JobStatus,
    counts: &Counts,
    answer: Answer,
) -> Result<(), ApiError> {
    let at = now();
    let row = job::ActiveModel {
        id: Set(id),
        status: Set(status),
        rows_read: Set(counts.rows_read),
        rows_validated: Set(counts.rows_validated),
        rows_written: Set(counts.rows_written),
        error_count: Set(counts.error_count),
        errors: Set(counts.errors.clone()),
        result_status: Set(Some(i32::from(answer.status))),
        result_content_type: Set(answer.content_type),
        result_body: Set(Some(answer.body)),
        updated_at: Set(at),
        finished_at: Set(Some(at)),
        ..Default::default()
    };
    job::Entity::update(row).exec(conn).await?;
    Ok(())
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<job::Model>, ApiError> {
    Ok(job::Entity::find_by_id(id).one(conn).await?)
}

/// Whether a running job's row has not been saved since `before`.
pub fn silent_since(row: &job::Model, before: DateTime<Utc>) -> bool {
    row.status == JobStatus::Running && row.updated_at < before
}
