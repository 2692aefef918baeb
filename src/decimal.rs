//! Exact decimals at the edges: how points, rates and amounts look in JSON and in OpenAPI.
//!
//! Every `rust_decimal::Decimal` is serialised as a JSON string (`"87.04"`) and only accepted as a
//! string, so no client or JSON library ever turns a score into a float. `build.rs` aliases
//! `Decimal` to [`DecimalString`] for utoipa, so the OpenAPI document says the same everywhere.

use rust_decimal::Decimal;

/// An exact decimal number written as a JSON string, e.g. `"87.04"` or `"-3"`.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, pattern = r"^-?[0-9]+(\.[0-9]+)?$", example = "87.04")]
pub struct DecimalString(#[allow(dead_code)] String);

/// Words every grammar error of the edge's parsers holds, so a query parameter refused by them
/// answers 422 like a body field.
pub const GRAMMAR: &str = "published pattern";

/// The decimal grammar the OpenAPI document publishes ([`DecimalString`]'s pattern), the one
/// parser of decimals at the edge: an optional minus, digits, and optionally a point followed by
/// digits. `"85."`, `".5"`, `"+85"`, `"1e2"` and `" 85"` are refused.
pub const DECIMAL_PATTERN: &str = r"^-?[0-9]+(\.[0-9]+)?$";

/// Parses text in [`DECIMAL_PATTERN`] into an exact decimal.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return Err(format!(
            "{text:?} does not match the {GRAMMAR} {DECIMAL_PATTERN} of a decimal (e.g. \"87.04\" or \"-3\")"
        ));
    }
    Decimal::from_str_exact(text).map_err(|_| format!("{text:?} has more digits than an exact decimal holds"))
}

/// Serde field adapters that read decimals by [`parse_decimal`] (JSON strings, CSV cells):
/// `#[serde(deserialize_with = "crate::decimal::strict")]`.
pub fn strict<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    crate::strict::text(deserializer, parse_decimal)
}

/// [`strict`] for an optional field (use with `#[serde(default)]`).
pub fn strict_option<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Decimal>, D::Error> {
    crate::strict::optional_text(deserializer, parse_decimal)
}

/// [`strict`] for a map of item codes to decimals.
pub fn strict_map<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<std::collections::BTreeMap<String, Decimal>, D::Error> {
    let map = <std::collections::BTreeMap<String, String> as serde::Deserialize>::deserialize(deserializer)?;
    map.into_iter()
        .map(|(k, v)| {
            let value = parse_decimal(&v).map_err(|e| serde::de::Error::custom(format!("{k}: {e}")))?;
            Ok((k, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn parses_exactly_the_published_pattern() {
        for good in ["85", "-3", "0.5", "87.04", "-0.25", "200000"] {
            assert_eq!(parse_decimal(good).unwrap(), d(good), "{good}");
        }
        for bad in [
            "85.", ".5", "+85", "-.5", "1e2", " 85", "85 ", "", "-", "8,5", "０.5", "1.2.3",
        ] {
            assert!(parse_decimal(bad).is_err(), "{bad:?} is outside the pattern");
        }
        assert!(
            parse_decimal("1.00000000000000000000000000001").is_err(),
            "too many digits to be exact"
        );
    }
}
