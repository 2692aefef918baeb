//! Each publication records the audit-chain head it was made at (issue 17 §4): the sequence
//! number and hash of the county's last audit event before the publication's own.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("publications"))
                    .add_column(ColumnDef::new(Alias::new("chain_seq")).big_integer().null())
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("publications"))
                    .add_column(ColumnDef::new(Alias::new("chain_hash")).text().null())
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["chain_hash", "chain_seq"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("publications"))
                        .drop_column(Alias::new(column))
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
