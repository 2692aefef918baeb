//! kaohe (考核): county performance assessments of poverty-alleviation and rural-revitalisation work.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod date;
pub mod decimal;
pub mod demo;
pub mod error;
pub mod exact;
pub mod i18n;
pub mod named;
pub mod not_scored;
pub mod objects;
pub mod recording;
pub mod results;
pub mod schemes;
pub mod scoring;
pub mod startup;
pub mod state;
pub mod store;
pub mod strict;
pub mod telemetry;
pub mod webhooks;
