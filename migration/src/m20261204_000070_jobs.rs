//! Jobs: a bulk upload or an export answered `202 Accepted` (`Prefer: respond-async`) runs in the
//! background; `jobs` holds its progress as last saved (rows read, validated, written, problems so
//! far) and, once it ends, the answer the request would have given synchronously (status, media
//! type, body: JSON, CSV or an .xlsx file, so bytes).
//! A job is bookkeeping of a request, like an idempotency record: the upload it runs is audited,
//! the job row is not.

use sea_orm_migration::prelude::*;

use crate::alter::{column as col, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("jobs"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("county_id").uuid().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .col(col("created_by").uuid().not_null())
                    .col(col("operation").text().not_null())
                    .col(col("status").text().not_null())
                    .col(col("rows_read").big_integer().not_null())
                    .col(col("rows_validated").big_integer().not_null())
                    .col(col("rows_written").big_integer().not_null())
                    .col(col("error_count").big_integer().not_null())
                    .col(col("errors").text().not_null())
                    .col(col("result_status").integer().null())
                    .col(col("result_content_type").text().null())
                    .col(col("result_body").binary().null())
                    .col(col("finished_at").timestamp_with_time_zone().null())
                    .take(),
            )
            .await?;
        manager
            .create_index(index("jobs", "ix_jobs_county_id", &["county_id", "created_by", "id"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Alias::new("jobs")).take()).await
    }
}
