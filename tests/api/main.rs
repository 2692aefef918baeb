//! The integration tests: one binary, the real service on a random port, a fresh database each.
//! Set KAOHE_TEST_DATABASE_URL=postgres://… to run them against PostgreSQL instead of SQLite.

mod agreement;
mod auth;
mod bulk;
mod concurrency;
mod consequences;
mod credentials;
mod data;
mod evidence;
mod exactness;
mod excel;
mod grammar;
mod helpers;
mod identity;
mod instances;
mod integrator;
mod jobs;
mod language;
mod listing;
mod matrix;
mod openapi;
mod operations;
mod publications;
mod results;
mod scope;
mod statements;
mod tamper;
mod traces;
mod webhooks;
