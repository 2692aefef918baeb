//! Column changes shared by the migrations after the first, one column per statement: SQLite's
//! ALTER TABLE adds or drops one at a time.

use sea_orm_migration::prelude::*;

/// A column definition to complete: `column("rows_count").big_integer().null().take()`.
pub(crate) fn column(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
}

pub(crate) async fn add_column(manager: &SchemaManager<'_>, table: &str, column: ColumnDef) -> Result<(), DbErr> {
    let mut column = column;
    manager
        .alter_table(Table::alter().table(Alias::new(table)).add_column(&mut column).take())
        .await
}

pub(crate) async fn drop_column(manager: &SchemaManager<'_>, table: &str, column: &str) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .drop_column(Alias::new(column))
                .take(),
        )
        .await
}
