//! Evidence files (佐证材料, DOMAIN.md §6): `evidence` holds one row per county, uploader and
//! content (its SHA-256; the bytes live once per hash in the object store), `evidence_links`
//! attaches a row to a finding, a scoresheet or an appeal. A link is never deleted: a detach sets
//! `detached_at`, `detached_by` and `detach_reason`, and the link stays in the history. A link
//! carries the place of what it is attached to (township, village), so who may read the file is
//! decided from the link alone.

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
                    .table(Alias::new("evidence"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("county_id").uuid().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("sha256").text().not_null())
                    .col(col("size_bytes").big_integer().not_null())
                    .col(col("media_type").text().not_null())
                    .col(col("file_name").text().not_null())
                    .col(col("uploaded_by").uuid().not_null())
                    .take(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "evidence",
                    "ux_evidence_content",
                    &["county_id", "uploaded_by", "sha256"],
                )
                .unique()
                .take(),
            )
            .await?;
        manager
            .create_index(index("evidence", "ix_evidence_county_id", &["county_id", "id"]))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("evidence_links"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("county_id").uuid().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .col(col("version").integer().not_null())
                    .col(col("evidence_id").uuid().not_null())
                    .col(col("target").text().not_null())
                    .col(col("target_id").uuid().not_null())
                    .col(col("subject_id").uuid().not_null())
                    .col(col("township_id").uuid().null())
                    .col(col("village_id").uuid().null())
                    .col(col("attached_by").uuid().not_null())
                    .col(col("detached_at").timestamp_with_time_zone().null())
                    .col(col("detached_by").uuid().null())
                    .col(col("detach_reason").text().null())
                    .take(),
            )
            .await?;
        for (name, columns) in [
            ("ix_evidence_links_evidence", &["evidence_id", "id"][..]),
            ("ix_evidence_links_target", &["target_id", "id"][..]),
            ("ix_evidence_links_county_id", &["county_id", "id"][..]),
            ("ix_evidence_links_updated", &["county_id", "updated_at"][..]),
        ] {
            manager.create_index(index("evidence_links", name, columns)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("evidence_links")).take())
            .await?;
        manager
            .drop_table(Table::drop().table(Alias::new("evidence")).take())
            .await
    }
}
