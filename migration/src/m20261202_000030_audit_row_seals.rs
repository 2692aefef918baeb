//! Row seals (issue 17 §4): every audit event commits to the digest of each data row it wrote,
//! so `audit verify` can check the current rows against the trail.
//!
//! `audit_events.rows_count` / `rows_digest` are the event's commitment (part of its hash);
//! `audit_rows` holds one line per row the event wrote: which row, and the digest of its content
//! after the event (none when the row was removed).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::alter::{add_column, column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            "audit_events",
            column("rows_count").big_integer().null().take(),
        )
        .await?;
        add_column(manager, "audit_events", column("rows_digest").text().null().take()).await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("audit_rows"))
                    .col(ColumnDef::new(Alias::new("county_id")).uuid().not_null())
                    .col(ColumnDef::new(Alias::new("seq")).big_integer().not_null())
                    .col(ColumnDef::new(Alias::new("ordinal")).integer().not_null())
                    .col(ColumnDef::new(Alias::new("entity")).text().not_null())
                    .col(ColumnDef::new(Alias::new("row_id")).uuid().not_null())
                    .col(ColumnDef::new(Alias::new("digest")).text().null())
                    .primary_key(
                        Index::create()
                            .col(Alias::new("county_id"))
                            .col(Alias::new("seq"))
                            .col(Alias::new("ordinal")),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_rows_by_row")
                    .table(Alias::new("audit_rows"))
                    .col(Alias::new("county_id"))
                    .col(Alias::new("entity"))
                    .col(Alias::new("row_id"))
                    .col(Alias::new("seq"))
                    .take(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            // Append-only like the events they belong to.
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE TRIGGER audit_rows_append_only BEFORE UPDATE OR DELETE ON audit_rows \
                     FOR EACH ROW EXECUTE FUNCTION kaohe_audit_append_only()",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("audit_rows")).take())
            .await?;
        for column in ["rows_digest", "rows_count"] {
            drop_column(manager, "audit_events", column).await?;
        }
        Ok(())
    }
}
