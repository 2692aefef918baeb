//! Reading a field from text by a strict parser (JSON strings, CSV cells): the common part of the
//! serde field adapters `crate::date::strict` and `crate::decimal::strict`.

use serde::{Deserialize, Deserializer};

/// Reads a string and parses it by `parse`; its message is the error.
pub fn text<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// [`text`] for an optional field (use with `#[serde(default)]`).
pub fn optional_text<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    text.map(|t| parse(&t).map_err(serde::de::Error::custom)).transpose()
}
