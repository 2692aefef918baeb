//! Tokens die with their credentials, and usernames are unique regardless of case.
//!
//! - `users` and `service_accounts` gain `token_generation` (raised whenever a password or
//!   secret, the active flag, the role, level or org unit changes; tokens carry it as the `gen`
//!   claim) and `tokens_valid_after` (the instant of that change: tokens without `gen`, issued by
//!   an external identity provider, must have been issued after it).
//! - `users.username_key` is the username after NFKC and case folding, with a unique index, so
//!   `ADMIN` and `admin` cannot both exist. Usernames have always been ASCII, for which that key
//!   is the lower-cased name; two existing names that differ only in case stop the migration with
//!   a message naming them.
//! - `login_throttle` rows now count failures for exponential backoff: `window_started_at`
//!   holds the time of the last failure (same column, same type; see `auth::login`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::alter::{add_column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn name(n: &str) -> Alias {
    Alias::new(n)
}

fn generation() -> ColumnDef {
    ColumnDef::new(name("token_generation"))
        .integer()
        .not_null()
        .default(0)
        .take()
}

fn valid_after() -> ColumnDef {
    ColumnDef::new(name("tokens_valid_after"))
        .timestamp_with_time_zone()
        .null()
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = manager.get_database_backend();
        // Checked before anything changes: SQLite does not roll back a failed migration's DDL.
        let clashes = conn
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT LOWER(username) AS k FROM users GROUP BY LOWER(username) HAVING COUNT(*) > 1".to_owned(),
            ))
            .await?;
        if !clashes.is_empty() {
            let names: Vec<String> = clashes
                .iter()
                .filter_map(|row| row.try_get::<String>("", "k").ok())
                .collect();
            return Err(DbErr::Migration(format!(
                "usernames that differ only in case exist ({}): rename all but one of each, then migrate again",
                names.join(", ")
            )));
        }
        for table in ["users", "service_accounts"] {
            add_column(manager, table, generation()).await?;
            add_column(manager, table, valid_after()).await?;
        }
        add_column(
            manager,
            "users",
            ColumnDef::new(name("username_key"))
                .text()
                .not_null()
                .default("")
                .take(),
        )
        .await?;
        conn.execute_unprepared("UPDATE users SET username_key = LOWER(username)")
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_users_username_key")
                    .table(name("users"))
                    .col(name("username_key"))
                    .unique()
                    .take(),
            )
            .await?;
        if backend == DbBackend::Postgres {
            // The column default only served existing rows; new rows always name their key.
            conn.execute_unprepared("ALTER TABLE users ALTER COLUMN username_key DROP DEFAULT")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_users_username_key")
                    .table(name("users"))
                    .to_owned(),
            )
            .await?;
        for (table, column) in [
            ("users", "username_key"),
            ("users", "tokens_valid_after"),
            ("users", "token_generation"),
            ("service_accounts", "tokens_valid_after"),
            ("service_accounts", "token_generation"),
        ] {
            drop_column(manager, table, column).await?;
        }
        Ok(())
    }
}
