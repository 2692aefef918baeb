//! Schemes as data: the built-in schemes (Seed A `tongshi-2023-village`, Seed B
//! `county-poverty`) shipped as JSON inside the binary, parsing of user-posted schemes, and
//! validation of both.

mod validation;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::scoring::SchemeDefinition;

pub use validation::{validate_rubric, validate_scheme, ValidationProblem, PROBLEM_CODES};

/// The built-in schemes' JSON, by key.
const BUILT_IN: &[(&str, &str)] = &[
    ("tongshi-2023-village", include_str!("data/tongshi-2023-village.json")),
    ("county-poverty", include_str!("data/county-poverty.json")),
];

/// The keys of the built-in schemes.
pub fn built_in_keys() -> impl Iterator<Item = &'static str> {
    BUILT_IN.iter().map(|(key, _)| *key)
}

/// Why a scheme could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SchemeError {
    /// The JSON does not have the scheme's shape.
    #[error("malformed scheme at line {line}, column {column}: {message}")]
    Malformed {
        /// What is wrong.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The scheme has the right shape but breaks its rules.
    #[error("invalid scheme: {} problem(s)", problems.len())]
    Invalid {
        /// Every problem found.
        problems: Vec<ValidationProblem>,
    },
}

/// Parses and validates a scheme from JSON (as users post them).
pub fn parse_scheme(json: &str) -> Result<SchemeDefinition, SchemeError> {
    let scheme: SchemeDefinition = serde_json::from_str(json).map_err(|error| SchemeError::Malformed {
        message: error.to_string(),
        line: error.line(),
        column: error.column(),
    })?;
    let problems = validate_scheme(&scheme);
    if problems.is_empty() {
        Ok(scheme)
    } else {
        Err(SchemeError::Invalid { problems })
    }
}

/// The built-in schemes, parsed and validated. (They are tested to load; an error here means a
/// broken build, reported rather than panicking.)
pub fn built_in() -> Result<Vec<SchemeDefinition>, SchemeError> {
    BUILT_IN.iter().map(|(_, json)| parse_scheme(json)).collect()
}

/// One built-in scheme by key; `Ok(None)` when there is no such built-in scheme.
pub fn built_in_by_key(key: &str) -> Result<Option<SchemeDefinition>, SchemeError> {
    BUILT_IN
        .iter()
        .find(|(built_in_key, _)| *built_in_key == key)
        .map(|(_, json)| parse_scheme(json))
        .transpose()
}

#[cfg(test)]
mod tests;
