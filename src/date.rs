//! Calendar dates at the edge: the one parser of `YYYY-MM-DD` and how OpenAPI shows it.
//!
//! chrono's own parser also takes `2023-2-3` and `+002023-03-15`; the API takes exactly the
//! published pattern. `build.rs` aliases `NaiveDate` to [`DateString`] for utoipa.

use chrono::NaiveDate;

/// The date grammar the OpenAPI document publishes: four-digit year, two-digit month and day.
pub const DATE_PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

/// A calendar date written `YYYY-MM-DD`, e.g. `"2023-03-15"`.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", example = "2023-03-15")]
pub struct DateString(#[allow(dead_code)] String);

/// Parses text in [`DATE_PATTERN`] that names a real day.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(format!(
            "{text:?} does not match the {} {DATE_PATTERN} of a date (e.g. \"2023-03-15\")",
            crate::decimal::GRAMMAR
        ));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        format!(
            "{text:?} matches the {} of a date but is no day of the calendar",
            crate::decimal::GRAMMAR
        )
    })
}

/// A serde field adapter reading a date by [`parse_date`]:
/// `#[serde(deserialize_with = "crate::date::strict")]`.
pub fn strict<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    crate::strict::text(deserializer, parse_date)
}

/// [`strict`] for an optional field (use with `#[serde(default)]`).
pub fn strict_option<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
    crate::strict::optional_text(deserializer, parse_date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_exactly_the_published_pattern() {
        assert_eq!(parse_date("2023-03-15").unwrap().to_string(), "2023-03-15");
        for bad in [
            "2023-2-3",
            "+002023-03-15",
            "2023-03-15T00:00:00Z",
            " 2023-03-15",
            "2023-02-30",
            "２０２３-03-15",
            "",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }
}
