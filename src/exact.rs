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
        self.combine(other, exact_sum, small_add, |a, b| a + b)
    }

    /// `self − other`.
    pub fn sub(&self, other: &Exact) -> Exact {
        self.combine(other, |a, b| exact_sum(a, &-*b), small_sub, |a, b| a - b)
    }

    /// `self × other`.
    pub fn mul(&self, other: &Exact) -> Exact {
        self.combine(other, exact_product, small_mul, |a, b| a * b)
    }

    /// `self ÷ other`; `None` when `other` is zero.
    pub fn div(&self, other: &Exact) -> Option<Exact> {
        if other.is_zero() {
            return None;
        }
        Some(self.combine(other, |_, _| None, small_div, |a, b| a / b))
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
    reduced(value.mantissa(), denom)
}

// Fraction arithmetic on `Ratio<i128>`. Scores are small fractions (tenths, thirds, means of a
// few dozen ballots), so when both operands' numerators and denominators fit 64 bits every
// product below fits 128 bits and the gcds run on machine words; otherwise num-rational's
// checked operations decide. Either way the result is the same reduced fraction (a fraction
// has one reduced form with a positive denominator), so only the speed differs.

/// Numerator and denominator as 64-bit words, when they fit (the numerator never `i64::MIN`,
/// so its magnitude and negation fit too).
fn words(value: &Ratio<i128>) -> Option<(i64, i64)> {
    let numer = i64::try_from(*value.numer()).ok().filter(|&numer| numer != i64::MIN)?;
    let denom = i64::try_from(*value.denom()).ok()?;
    Some((numer, denom))
}

/// Binary gcd of 64-bit words.
fn gcd64(mut a: u64, mut b: u64) -> u64 {
    if a == 0 {
        return b;
    }
    if b == 0 {
        return a;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

/// gcd of two magnitudes, on words when both fit.
fn gcd128(a: u128, b: u128) -> u128 {
    match (u64::try_from(a), u64::try_from(b)) {
        (Ok(a), Ok(b)) => u128::from(gcd64(a, b)),
        _ => a.gcd(&b),
    }
}

/// `value ÷ divisor` for a divisor known to divide it, on words when both fit.
fn exact_quotient(value: i128, divisor: u128) -> i128 {
    if divisor == 1 {
        return value;
    }
    match (i64::try_from(value), u64::try_from(divisor)) {
        (Ok(value), Ok(divisor)) if value >= 0 => i128::from(value.unsigned_abs() / divisor),
        (Ok(value), Ok(divisor)) => -i128::from(value.unsigned_abs() / divisor),
        // The divisor divides the value, so it is at most its magnitude and fits `i128`.
        _ => value / divisor as i128,
    }
}

/// `numer ÷ denom` in lowest terms, for a positive denominator.
fn reduced(numer: i128, denom: i128) -> Ratio<i128> {
    if numer == 0 {
        return Ratio::new_raw(0, 1);
    }
    if denom <= 0 || numer == i128::MIN {
        return Ratio::new(numer, denom);
    }
    let gcd = gcd128(numer.unsigned_abs(), denom.unsigned_abs());
    Ratio::new_raw(exact_quotient(numer, gcd), exact_quotient(denom, gcd))
}

/// `a/b ± c/d` over the least common denominator, then reduced.
fn small_sum(a: &Ratio<i128>, c: &Ratio<i128>, negate: bool) -> Option<Ratio<i128>> {
    let (Some((a_numer, b)), Some((c_numer, d))) = (words(a), words(c)) else {
        return if negate { a.checked_sub(c) } else { a.checked_add(c) };
    };
    let c_numer = if negate { -c_numer } else { c_numer };
    if b == d {
        return Some(reduced(i128::from(a_numer) + i128::from(c_numer), i128::from(b)));
    }
    let gcd = i128::from(gcd64(b.unsigned_abs(), d.unsigned_abs()));
    let (b, d) = (i128::from(b), i128::from(d));
    let (b_part, d_part) = (b / gcd, d / gcd);
    // |a × d/g| and |c × b/g| are each below 2^126: their sum fits.
    let numer = i128::from(a_numer) * d_part + i128::from(c_numer) * b_part;
    Some(reduced(numer, b_part * d))
}

fn small_add(a: &Ratio<i128>, b: &Ratio<i128>) -> Option<Ratio<i128>> {
    small_sum(a, b, false)
}

fn small_sub(a: &Ratio<i128>, b: &Ratio<i128>) -> Option<Ratio<i128>> {
    small_sum(a, b, true)
}

/// `a/b × c/d` of reduced fractions: cross-cancelled first, so the product is reduced.
fn small_mul(x: &Ratio<i128>, y: &Ratio<i128>) -> Option<Ratio<i128>> {
    let (Some((a, b)), Some((c, d))) = (words(x), words(y)) else {
        return x.checked_mul(y);
    };
    Some(cross_product(a, b, c, d))
}

/// `a/b × c/d` for reduced fractions of words with positive denominators.
fn cross_product(a: i64, b: i64, c: i64, d: i64) -> Ratio<i128> {
    if a == 0 || c == 0 {
        return Ratio::new_raw(0, 1);
    }
    let ad = gcd64(a.unsigned_abs(), d.unsigned_abs());
    let cb = gcd64(c.unsigned_abs(), b.unsigned_abs());
    let numer = exact_quotient(i128::from(a), u128::from(ad)) * exact_quotient(i128::from(c), u128::from(cb));
    let denom = exact_quotient(i128::from(b), u128::from(cb)) * exact_quotient(i128::from(d), u128::from(ad));
    Ratio::new_raw(numer, denom)
}

/// `a/b ÷ c/d`; `None` when `c/d` is zero.
fn small_div(x: &Ratio<i128>, y: &Ratio<i128>) -> Option<Ratio<i128>> {
    let (Some((a, b)), Some((c, d))) = (words(x), words(y)) else {
        return x.checked_div(y);
    };
    if c == 0 {
        return None;
    }
    // a/b × d/c with the sign moved to the numerator (|c| and d fit: c is never i64::MIN).
    let (d, c) = if c < 0 { (-d, -c) } else { (d, c) };
    Some(cross_product(a, b, d, c))
}

/// Compares two fractions with positive denominators: `a/b` against `c/d` as `a×d` against
/// `c×b`, exact in 128 bits for words.
fn small_cmp(x: &Ratio<i128>, y: &Ratio<i128>) -> Ordering {
    match (words(x), words(y)) {
        (Some((a, b)), Some((c, d))) => (i128::from(a) * i128::from(d)).cmp(&(i128::from(c) * i128::from(b))),
        _ => x.cmp(y),
    }
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
                (Some(a), Some(b)) => small_cmp(&a, &b),
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

    mod words {
        use num_traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub};
        use proptest::prelude::*;

        use super::super::*;

        fn ratio(numer: i64, denom: i64) -> Ratio<i128> {
            Ratio::new(i128::from(numer), i128::from(denom))
        }

        /// The fraction's parts: `Ratio`'s `==` compares values, these must be the same terms.
        fn parts(value: Option<Ratio<i128>>) -> Option<(i128, i128)> {
            value.map(|value| (*value.numer(), *value.denom()))
        }

        fn numerator() -> impl Strategy<Value = i64> {
            prop_oneof![-1000i64..1000, any::<i64>(), Just(i64::MIN), Just(i64::MAX), Just(0)]
        }

        fn denominator() -> impl Strategy<Value = i64> {
            prop_oneof![1i64..1000, 1..=i64::MAX, Just(i64::MAX), Just(1)]
        }

        proptest! {
            /// The word arithmetic gives num-rational's reduced fractions exactly.
            #[test]
            fn word_arithmetic_agrees_with_num_rational(
                a in numerator(), b in denominator(), c in numerator(), d in denominator(),
            ) {
                let (x, y) = (ratio(a, b), ratio(c, d));
                prop_assert_eq!(parts(small_add(&x, &y)), parts(x.checked_add(&y)));
                prop_assert_eq!(parts(small_sub(&x, &y)), parts(x.checked_sub(&y)));
                prop_assert_eq!(parts(small_mul(&x, &y)), parts(x.checked_mul(&y)));
                prop_assert_eq!(parts(small_div(&x, &y)), parts(x.checked_div(&y)));
                prop_assert_eq!(small_cmp(&x, &y), x.cmp(&y));
                let (n, m) = (i128::from(a) * i128::from(c), i128::from(b) * i128::from(d));
                prop_assert_eq!(parts(Some(reduced(n, m))), parts(Some(Ratio::new(n, m))));
            }
        }
    }
}
