//! Column and index builders shared by the migrations after the first; column changes one
//! column per statement: SQLite's ALTER TABLE adds or drops one at a time.

use sea_orm_migration::prelude::*;

/// A column definition to complete: `column("rows_count").big_integer().null().take()`.
pub(crate) fn column(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
}

/// The index `name` of `table` over `columns`, in their order.
pub(crate) fn index(table: &str, name: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(Alias::new(table));
    for c in columns {
        stmt.col(Alias::new(*c));
    }
    stmt.take()
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
