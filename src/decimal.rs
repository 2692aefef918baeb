//! Exact decimals at the edges: how points, rates and amounts look in JSON and in OpenAPI.
//!
//! Every `rust_decimal::Decimal` is serialised as a JSON string (`"87.04"`) and only accepted as a
//! string, so no client or JSON library ever turns a score into a float. `build.rs` aliases
//! `Decimal` to [`DecimalString`] for utoipa, so the OpenAPI document says the same everywhere.

use rust_decimal::{Decimal, RoundingStrategy};

/// An exact decimal number written as a JSON string, e.g. `"87.04"` or `"-3"`.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, pattern = r"^-?[0-9]+(\.[0-9]+)?$", example = "87.04")]
pub struct DecimalString(#[allow(dead_code)] String);

/// Rounds half away from zero (四舍五入) to `digits` decimals and always shows that many digits,
/// so `86` published to 2 digits reads `86.00`.
pub fn round_half_up(value: Decimal, digits: u32) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(digits);
    rounded
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn rounds_half_up_and_pads() {
        assert_eq!(round_half_up(d("87.045"), 2).to_string(), "87.05");
        assert_eq!(round_half_up(d("87.0449"), 2).to_string(), "87.04");
        assert_eq!(round_half_up(d("-3.005"), 2).to_string(), "-3.01");
        assert_eq!(round_half_up(d("86"), 2).to_string(), "86.00");
    }
}
