//! Each publication records the audit-chain head it was made at (issue 17 §4): the sequence
//! number and hash of the county's last audit event before the publication's own.

use sea_orm_migration::prelude::*;

use crate::alter::{add_column, column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, "publications", column("chain_seq").big_integer().null().take()).await?;
        add_column(manager, "publications", column("chain_hash").text().null().take()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["chain_hash", "chain_seq"] {
            drop_column(manager, "publications", column).await?;
        }
        Ok(())
    }
}
