//! Seed B's remaining attributes (DOMAIN.md §3, §8.5): `subject_attributes` gains
//! `reserve_cadre` (individuals: 后备干部, a recall revokes that status) and `vertically_managed`
//! (departments: 属上级垂管, their interview and dismissal are referred to the supervising
//! authority). Both default to false, so every existing row keeps its meaning — and its row
//! seal: the audit trail's digest leaves a later column out while it holds its default.
//!
//! The new finding kinds (`major_failure`, `dereliction`) and evaluation kind (`quarterly`) are
//! values of existing text columns and need no schema change.

use sea_orm_migration::prelude::*;

use crate::alter::{add_column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "subject_attributes";
const COLUMNS: [&str; 2] = ["reserve_cadre", "vertically_managed"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            let column = ColumnDef::new(Alias::new(column))
                .boolean()
                .not_null()
                .default(false)
                .take();
            add_column(manager, TABLE, column).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            drop_column(manager, TABLE, column).await?;
        }
        Ok(())
    }
}
