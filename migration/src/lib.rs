//! The database schema of kaohe, as sea-orm migrations that run on SQLite and PostgreSQL alike.

pub use sea_orm_migration::prelude::*;

mod alter;
mod m20260101_000001_initial;
mod m20261202_000002_token_generations;
mod m20261202_000020_publication_chain_head;
mod m20261202_000030_audit_row_seals;
mod m20261203_000040_seed_b_attributes;
mod m20261203_000050_evidence;
mod m20261204_000060_webhooks;
mod m20261204_000070_jobs;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_initial::Migration),
            Box::new(m20261202_000002_token_generations::Migration),
            Box::new(m20261202_000020_publication_chain_head::Migration),
            Box::new(m20261202_000030_audit_row_seals::Migration),
            Box::new(m20261203_000040_seed_b_attributes::Migration),
            Box::new(m20261203_000050_evidence::Migration),
            Box::new(m20261204_000060_webhooks::Migration),
            Box::new(m20261204_000070_jobs::Migration),
        ]
    }
}
