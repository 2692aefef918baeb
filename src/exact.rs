//! Exact rational numbers for scores (§5.9: all arithmetic is exact).
//!
//! A mean of three scoresheets, a mean of ballots, a rate from counts, a derived section or a
//! renormalised weight need not terminate as a decimal: `240.25 ÷ 3` is `961/12`. The engine
//! carries such values as fractions and rounds once, half-up, to the published score, so a grade
//! never hangs on a 28th digit. Values that fit are `i128` fractions; larger ones fall back to
//! big integers, so no input can overflow.
//!
//! In JSON an `Exact` is a decimal string: the exact decimal when the value terminates within 28
//! digits, otherwise the value rounded half-up to as many digits as `Decimal` holds. The fraction itself is
//! shown beside it where it matters (`Fraction`).
//!
//! Most values are sums and products of the inputs' decimals, which `Decimal` computes exactly
//! whenever the result keeps its full scale: those stay `Decimal` (no gcd per addition), and a
//! value becomes a fraction only once a division does not terminate or a decimal would round.

use std::cmp::Ordering;
use std::fmt;
use std::iter::Sum;
use std::str::FromStr;
use std::sync::Arc;

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::{BigRational, Ratio};
use num_traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, One, Signed, ToPrimitive, Zero};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An exact rational number.
#[derive(Clone)]
pub struct Exact(Repr);

#[derive(Clone)]
enum Repr {
    /// A value `Decimal` holds exactly.
    Decimal(Decimal),
    /// Reduced, positive denominator, numerator never `i128::MIN` (so negation cannot overflow).
    Small(Ratio<i128>),
    /// Only for values that do not fit `Small`.
    Big(Arc<BigRational>),
}

/// Most decimal digits a `Decimal` mantissa holds.
const DECIMAL_DIGITS: u32 = 28;

fn pow10(digits: u32) -> Option<i128> {
    10i128.checked_pow(digits)
}

fn big_pow10(digits: u32) -> BigInt {
    num_traits::pow(BigInt::from(10), digits as usize)
}

impl Exact {
    /// Zero.
    pub fn zero() -> Self {
        Exact(Repr::Decimal(Decimal::ZERO))
    }

    /// An integer.
    pub fn from_integer(value: i64) -> Self {
        Exact(Repr::Decimal(Decimal::from(value)))
    }

    /// `numerator ÷ denominator`; `None` when the denominator is zero.
    pub fn ratio(numerator: i128, denominator: i128) -> Option<Self> {
        if denominator == 0 {
            return None;
        }
        Some(Exact::from_big(BigRational::new(
            BigInt::from(numerator),
            BigInt::from(denominator),
        )))
    }

    fn small(value: Ratio<i128>) -> Self {
        if *value.numer() == i128::MIN {
            Exact(Repr::Big(Arc::new(to_big(&value))))
        } else {
            Exact(Repr::Small(value))
        }
    }

    fn from_big(value: BigRational) -> Self {
        match (value.numer().to_i128(), value.denom().to_i128()) {
            (Some(numer), Some(denom)) if numer != i128::MIN => Exact(Repr::Small(Ratio::new_raw(numer, denom))),
            _ => Exact(Repr::Big(Arc::new(value))),
        }
    }

    /// The value as an `i128` fraction, when it fits one.
    fn ratio_form(&self) -> Option<Ratio<i128>> {
        match &self.0 {
            Repr::Decimal(value) => Some(decimal_ratio(value)),
            Repr::Small(value) => Some(*value),
            Repr::Big(_) => None,
        }
    }

    fn big(&self) -> BigRational {
        match &self.0 {
            Repr::Decimal(value) => to_big(&decimal_ratio(value)),
            Repr::Small(value) => to_big(value),
            Repr::Big(value) => (**value).clone(),
        }
    }

    fn combine(
        &self,
        other: &Exact,
        decimal: impl FnOnce(&Decimal, &Decimal) -> Option<Decimal>,
        small: impl FnOnce(&Ratio<i128>, &Ratio<i128>) -> Option<Ratio<i128>>,
        big: impl FnOnce(BigRational, BigRational) -> BigRational,
    ) -> Exact {
        if let (Repr::Decimal(a), Repr::Decimal(b)) = (&self.0, &other.0) {
            if let Some(value) = decimal(a, b) {
                return Exact(Repr::Decimal(value));
            }
        }
        if let (Some(a), Some(b)) = (self.ratio_form(), other.ratio_form()) {
            if let Some(value) = small(&a, &b) {
                return Exact::small(value);
            }
        }
        Exact::from_big(big(self.big(), other.big()))
    }

    /// `self + other`.
    pub fn add(&self, other: &Exact) -> Exact {
        self.combine(other, exact_sum, |a, b| a.checked_add(b), |a, b| a + b)
    }

    /// `self − other`.
    pub fn sub(&self, other: &Exact) -> Exact {
        self.combine(other, |a, b| exact_sum(a, &-*b), |a, b| a.checked_sub(b), |a, b| a - b)
    }

    /// `self × other`.
    pub fn mul(&self, other: &Exact) -> Exact {
        self.combine(other, exact_product, |a, b| a.checked_mul(b), |a, b| a * b)
    }

    /// `self ÷ other`; `None` when `other` is zero.
    pub fn div(&self, other: &Exact) -> Option<Exact> {
        if other.is_zero() {
            return None;
        }
        Some(self.combine(other, |_, _| None, |a, b| a.checked_div(b), |a, b| a / b))
    }

    /// `self ÷ count`; `None` when `count` is zero.
    pub fn div_count(&self, count: usize) -> Option<Exact> {
        let count = i64::try_from(count).ok()?;
        self.div(&Exact::from_integer(count))
    }

    /// `−self`.
    pub fn neg(&self) -> Exact {
        match &self.0 {
            Repr::Decimal(value) => Exact(Repr::Decimal(-*value)),
            // The numerator is never `i128::MIN`, so this cannot overflow.
            Repr::Small(value) => Exact(Repr::Small(Ratio::new_raw(-*value.numer(), *value.denom()))),
            Repr::Big(value) => Exact::from_big(-(**value).clone()),
        }
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        match &self.0 {
            Repr::Decimal(value) => value.is_zero(),
            Repr::Small(value) => value.is_zero(),
            Repr::Big(value) => value.is_zero(),
        }
    }

    /// Whether the value is below zero.
    pub fn is_negative(&self) -> bool {
        match &self.0 {
            Repr::Decimal(value) => value.is_sign_negative() && !value.is_zero(),
            Repr::Small(value) => value.is_negative(),
            Repr::Big(value) => value.is_negative(),
        }
    }

    /// The smaller of the two.
    pub fn min(self, other: Exact) -> Exact {
        if other < self {
            other
        } else {
            self
        }
    }

    /// The larger of the two.
    pub fn max(self, other: Exact) -> Exact {
        if other > self {
            other
        } else {
            self
        }
    }

    /// Whether the value has a finite decimal expansion (its denominator has no prime factor
    /// other than 2 and 5).
    pub fn terminates(&self) -> bool {
        let mut denom = match &self.0 {
            Repr::Decimal(_) => return true,
            Repr::Small(value) => {
                // Results ask this of every total they show: no big integers for small ones.
                let mut denom = *value.denom() >> value.denom().trailing_zeros();
                while denom % 5 == 0 {
                    denom /= 5;
                }
                return denom == 1;
            }
            Repr::Big(value) => value.denom().clone(),
        };
        for factor in [2u32, 5] {
            let factor = BigInt::from(factor);
            while (&denom % &factor).is_zero() {
                denom /= &factor;
            }
        }
        denom.is_one()
    }

    /// The value rounded half away from zero (四舍五入) to `digits` decimals, with exactly that
    /// many digits shown; `None` when it does not fit a `Decimal`.
    pub fn round_half_up(&self, digits: u32) -> Option<Decimal> {
        if digits > DECIMAL_DIGITS {
            return None;
        }
        let mantissa = match &self.0 {
            Repr::Decimal(value) => {
                let mut rounded = value.round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero);
                rounded.rescale(digits);
                return Some(rounded);
            }
            Repr::Small(value) => small_rounded(value, digits).or_else(|| big_rounded(&to_big(value), digits)),
            Repr::Big(value) => big_rounded(value, digits),
        }?;
        Decimal::try_from_i128_with_scale(mantissa, digits).ok()
    }

    /// The published score: rounded half-up to `digits` (§5.9), saturating at `Decimal`'s range.
    pub fn publish(&self, digits: u32) -> Decimal {
        self.round_half_up(digits).unwrap_or_else(|| {
            let fallback = if self.is_negative() { Decimal::MIN } else { Decimal::MAX };
            (0..=digits)
                .rev()
                .find_map(|digits| self.round_half_up(digits))
                .unwrap_or(fallback)
        })
    }

    /// The exact decimal when the value terminates within `Decimal`'s 28 digits, otherwise the
    /// value rounded half-up to as many digits as fit; normalised (`15.8`, not `15.80`).
    pub fn to_decimal(&self) -> Decimal {
        if let Repr::Decimal(value) = &self.0 {
            return value.normalize();
        }
        let whole_digits = self.whole_digits();
        let start = DECIMAL_DIGITS.saturating_sub(whole_digits.saturating_sub(1));
        (0..=start)
            .rev()
            .find_map(|digits| self.round_half_up(digits))
            .map(|value| value.normalize())
            .unwrap_or(if self.is_negative() { Decimal::MIN } else { Decimal::MAX })
    }

    /// Decimal digits of the integer part's magnitude (1 for values below 1).
    fn whole_digits(&self) -> u32 {
        let whole = match &self.0 {
            Repr::Decimal(value) => BigInt::from(value.trunc().abs().mantissa()),
            Repr::Small(value) => BigInt::from(value.numer().abs() / value.denom()),
            Repr::Big(value) => value.numer().abs() / value.denom(),
        };
        let digits = whole.to_string().len();
        u32::try_from(digits).unwrap_or(u32::MAX)
    }

    /// The value in lowest terms as `numerator/denominator` (`14999/200`, `86/1`).
    pub fn fraction(&self) -> Fraction {
        Fraction(match &self.0 {
            Repr::Decimal(value) => {
                let value = decimal_ratio(value);
                format!("{}/{}", value.numer(), value.denom())
            }
            Repr::Small(value) => format!("{}/{}", value.numer(), value.denom()),
            Repr::Big(value) => format!("{}/{}", value.numer(), value.denom()),
        })
    }
}

/// A `Decimal` is `mantissa ÷ 10^scale` with a 96-bit mantissa and a scale ≤ 28.
fn decimal_ratio(value: &Decimal) -> Ratio<i128> {
    let denom = pow10(value.scale()).unwrap_or(1);
    Ratio::new(value.mantissa(), denom)
}

/// `a + b` when `Decimal` holds it exactly: it keeps the larger scale (a sum that would overflow
/// the mantissa is rounded to a smaller scale, which this refuses).
fn exact_sum(a: &Decimal, b: &Decimal) -> Option<Decimal> {
    let sum = CheckedAdd::checked_add(a, b)?;
    (sum.scale() == a.scale().max(b.scale())).then_some(sum)
}

/// `a × b` when `Decimal` holds it exactly: it keeps the sum of the scales.
fn exact_product(a: &Decimal, b: &Decimal) -> Option<Decimal> {
    let product = CheckedMul::checked_mul(a, b)?;
    (product.scale() == a.scale() + b.scale()).then_some(product)
}

fn to_big(value: &Ratio<i128>) -> BigRational {
    Ratio::new_raw(BigInt::from(*value.numer()), BigInt::from(*value.denom()))
}

/// `round_half_away(numer × 10^digits ÷ denom)` in `i128`, `None` on overflow.
fn small_rounded(value: &Ratio<i128>, digits: u32) -> Option<i128> {
    let scaled = value.numer().checked_abs()?.checked_mul(pow10(digits)?)?;
    let denom = *value.denom();
    let (quotient, remainder) = scaled.div_rem(&denom);
    // Half-up: round away from zero when the remainder is at least half the denominator.
    let up = remainder.checked_mul(2)? >= denom;
    let magnitude = if up { quotient.checked_add(1)? } else { quotient };
    Some(if value.is_negative() { -magnitude } else { magnitude })
}

fn big_rounded(value: &BigRational, digits: u32) -> Option<i128> {
    let scaled = value.numer().abs() * big_pow10(digits);
    let (quotient, remainder) = scaled.div_rem(value.denom());
    let up = remainder * 2 >= *value.denom();
    let magnitude = if up { quotient + 1 } else { quotient };
    let signed = if value.is_negative() { -magnitude } else { magnitude };
    signed.to_i128()
}

impl From<Decimal> for Exact {
    fn from(value: Decimal) -> Self {
        Exact(Repr::Decimal(value))
    }
}

impl From<&Decimal> for Exact {
    fn from(value: &Decimal) -> Self {
        Exact::from(*value)
    }
}

impl Default for Exact {
    fn default() -> Self {
        Exact::zero()
    }
}

impl PartialEq for Exact {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Exact {}

impl PartialOrd for Exact {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Exact {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.0, &other.0) {
            (Repr::Decimal(a), Repr::Decimal(b)) => a.cmp(b),
            _ => match (self.ratio_form(), other.ratio_form()) {
                (Some(a), Some(b)) => a.cmp(&b),
                _ => self.big().cmp(&other.big()),
            },
        }
    }
}

impl PartialEq<Decimal> for Exact {
    fn eq(&self, other: &Decimal) -> bool {
        self.cmp(&Exact::from(*other)) == Ordering::Equal
    }
}

impl PartialOrd<Decimal> for Exact {
    fn partial_cmp(&self, other: &Decimal) -> Option<Ordering> {
        Some(self.cmp(&Exact::from(*other)))
    }
}

impl<'a> Sum<&'a Exact> for Exact {
    fn sum<I: Iterator<Item = &'a Exact>>(iter: I) -> Self {
        iter.fold(Exact::zero(), |sum, value| sum.add(value))
    }
}

impl Sum<Exact> for Exact {
    fn sum<I: Iterator<Item = Exact>>(iter: I) -> Self {
        iter.fold(Exact::zero(), |sum, value| sum.add(&value))
    }
}

impl fmt::Display for Exact {
    /// The decimal form (see `to_decimal`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_decimal(), f)
    }
}

impl fmt::Debug for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Exact({})", self.fraction().0)
    }
}

/// Why a string is not an exact number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an exact number: {0:?} (a decimal such as \"87.04\" or a fraction such as \"961/12\")")]
pub struct ParseExactError(String);

impl FromStr for Exact {
    type Err = ParseExactError;

    /// A decimal (`87.04`) or a fraction (`961/12`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParseExactError(text.to_owned());
        match text.split_once('/') {
            Some((numer, denom)) => {
                let numer = BigInt::from_str(numer).map_err(|_| error())?;
                let denom = BigInt::from_str(denom).map_err(|_| error())?;
                if denom.is_zero() {
                    return Err(error());
                }
                Ok(Exact::from_big(BigRational::new(numer, denom)))
            }
            None => Decimal::from_str(text).map(Exact::from).map_err(|_| error()),
        }
    }
}

impl Serialize for Exact {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.to_decimal())
    }
}

impl<'de> Deserialize<'de> for Exact {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Exact::from_str(&text).map_err(serde::de::Error::custom)
    }
}

/// An exact value as a fraction in lowest terms, `numerator/denominator` (`"961/12"`,
/// `"14999/200"`, `"86/1"`): what a decimal that does not terminate stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, pattern = r"^-?[0-9]+/[1-9][0-9]*$", example = "961/12")]
pub struct Fraction(pub String);

/// The fraction of a value whose decimal form is rounded (it does not terminate); `None` when
/// the decimal is exact.
pub fn non_terminating(value: &Exact) -> Option<Fraction> {
    (!value.terminates()).then(|| value.fraction())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(text: &str) -> Exact {
        Exact::from_str(text).unwrap()
    }

    #[test]
    fn means_that_do_not_terminate_stay_exact() {
        let half_year = e("240.25").div_count(3).unwrap();
        assert_eq!(half_year.fraction().0, "961/12");
        assert!(!half_year.terminates());
        // The issue's work team: 0.6 × mean(240.25/3, 74.8) + 0.4 × mean(71.3, 71.35) = 74.995.
        let own = half_year.add(&e("74.8")).div_count(2).unwrap();
        let democratic = e("71.3").add(&e("71.35")).div_count(2).unwrap();
        let annual = e("0.6").mul(&own).add(&e("0.4").mul(&democratic));
        assert_eq!(annual.fraction().0, "14999/200");
        assert_eq!(annual.to_decimal().to_string(), "74.995");
        assert_eq!(annual.publish(2).to_string(), "75.00");
    }

    #[test]
    fn rounds_half_away_from_zero_and_pads() {
        assert_eq!(e("87.045").publish(2).to_string(), "87.05");
        assert_eq!(e("87.0449").publish(2).to_string(), "87.04");
        assert_eq!(e("-3.005").publish(2).to_string(), "-3.01");
        assert_eq!(e("86").publish(2).to_string(), "86.00");
        assert_eq!(e("1/3").publish(2).to_string(), "0.33");
        assert_eq!(e("2/3").publish(2).to_string(), "0.67");
        assert_eq!(e("-2/3").publish(0).to_string(), "-1");
    }

    #[test]
    fn decimal_form_is_exact_when_it_terminates() {
        assert_eq!(e("961/12").to_decimal().to_string(), "80.08333333333333333333333333");
        assert_eq!(e("15.80").to_decimal().to_string(), "15.8");
        assert_eq!(e("-3").to_string(), "-3");
        assert_eq!(e("1/3").to_string(), "0.3333333333333333333333333333");
    }

    #[test]
    fn overflowing_fractions_fall_back_to_big_integers() {
        let tiny = e("0.0000000000000000000000000001");
        let product = tiny.mul(&tiny).mul(&tiny);
        assert!(matches!(product.0, Repr::Big(_)));
        assert!(product > Exact::zero());
        assert_eq!(product.publish(2).to_string(), "0.00");
        // Coprime denominators multiply up past i128 and come back when they cancel.
        let primes = [1_000_003i128, 1_000_033, 1_000_037, 1_000_039, 1_000_081, 1_000_099];
        let sum: Exact = primes.iter().map(|&p| Exact::ratio(1, p).unwrap()).sum();
        let back = primes
            .iter()
            .fold(sum, |value, &p| value.sub(&Exact::ratio(1, p).unwrap()));
        assert!(back.is_zero());
        assert!(matches!(back.0, Repr::Small(_)));
    }

    #[test]
    fn decimal_arithmetic_stays_decimal_only_while_exact() {
        let sum = e("15.8").add(&e("5.05")).sub(&e("0.85"));
        assert!(matches!(sum.0, Repr::Decimal(_)));
        assert_eq!(sum, e("20"));
        // A sum past the mantissa would be rounded by `Decimal`: it becomes a fraction instead.
        let big = e("79228162514264337593543950335");
        let over = big.add(&e("0.5"));
        assert!(!matches!(over.0, Repr::Decimal(_)));
        assert_eq!(over.sub(&big), e("1/2"));
        // Mixed forms compare and add exactly.
        assert_eq!(e("1/3").add(&e("0.5")), e("5/6"));
        assert!(e("1/3") < e("0.3334"));
    }

    #[test]
    fn parses_and_serialises() {
        assert_eq!(serde_json::to_string(&e("14999/200")).unwrap(), "\"74.995\"");
        let back: Exact = serde_json::from_str("\"961/12\"").unwrap();
        assert_eq!(back, e("240.25").div_count(3).unwrap());
        assert!(Exact::from_str("1/0").is_err());
        assert!(Exact::from_str("abc").is_err());
        assert_eq!(e("1/2"), Decimal::new(5, 1));
    }
}
