//! Democratic evaluation (民主测评, §7): a subject's score from participants' ballots — the mean,
//! or a trimmed mean when the scheme says so.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::exact::{non_terminating, Exact, Fraction};
use crate::scoring::inputs::Ballot;
use crate::scoring::rubric::{recorded_by, ScoringSettings};

/// One subject's result in one democratic evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DemocraticResult {
    /// Ballots counted (recorded by `as_of`).
    #[schema(example = 30)]
    pub ballots: u32,
    /// How many of the highest and, as many, of the lowest ballots were dropped (0 = plain mean).
    pub trimmed_each_side: u32,
    /// Exact score: the (trimmed) mean; absent when there are no ballots.
    #[schema(example = "94.1")]
    pub score: Option<Exact>,
    /// The score as a fraction in lowest terms, present only when it does not terminate as a
    /// decimal (a mean of three ballots): then `score` is rounded to 28 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "2141/30")]
    pub exact: Option<Fraction>,
    /// The score rounded half-up to the scheme's digits.
    #[schema(example = "94.10")]
    pub published_score: Option<Decimal>,
}

/// Scores a subject from one democratic evaluation's ballots (others' ballots are skipped).
/// Ballots are clamped to 0–100. With `trim = k` and more than 2k ballots the k highest and the
/// k lowest are dropped; otherwise it is the plain mean.
pub fn democratic_score(
    ballots: &[Ballot],
    subject_id: Uuid,
    as_of: Option<DateTime<Utc>>,
    trim: u32,
    settings: &ScoringSettings,
) -> DemocraticResult {
    let scores: Vec<Decimal> = ballots
        .iter()
        .filter(|ballot| ballot.subject_id == subject_id && recorded_by(ballot.recorded_at, as_of))
        .map(|ballot| ballot.score)
        .collect();
    score_ballots(scores, trim, settings)
}

/// The (trimmed) mean of ballot scores already selected for one subject and evaluation.
pub(crate) fn score_ballots(mut scores: Vec<Decimal>, trim: u32, settings: &ScoringSettings) -> DemocraticResult {
    let count = scores.len();
    for score in &mut scores {
        *score = clamp_ballot(*score);
    }
    let k = usize::try_from(trim).unwrap_or(usize::MAX);
    let trimmed = count > k.saturating_mul(2) && k > 0;
    let kept: &[Decimal] = if trimmed {
        scores.sort_unstable();
        scores.get(k..count - k).unwrap_or_default()
    } else {
        &scores
    };
    let score = if kept.is_empty() {
        None
    } else {
        let sum: Exact = kept.iter().map(Exact::from).sum();
        sum.div_count(kept.len())
    };
    DemocraticResult {
        ballots: u32::try_from(count).unwrap_or(u32::MAX),
        trimmed_each_side: if trimmed { trim } else { 0 },
        exact: score.as_ref().and_then(non_terminating),
        published_score: score.as_ref().map(|score| settings.publish(score)),
        score,
    }
}

/// `score.clamp(0, 100)` on the mantissa: a ballot is compared against 100 at its own scale
/// instead of through `Decimal`'s general comparison (a negative zero stays as it is, as with
/// `clamp`).
fn clamp_ballot(score: Decimal) -> Decimal {
    let mantissa = score.mantissa();
    if mantissa < 0 {
        return Decimal::ZERO;
    }
    match 10i128.checked_pow(score.scale()).and_then(|unit| unit.checked_mul(100)) {
        Some(hundred) if mantissa > hundred => Decimal::ONE_HUNDRED,
        Some(_) => score,
        None => score.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn ballots_clamp_like_decimal_clamp() {
        for text in [
            "-0",
            "0",
            "-0.0",
            "-0.001",
            "-150",
            "0.5",
            "99.99",
            "100",
            "100.00",
            "100.0000001",
            "250",
            "1e-28",
        ] {
            let score = Decimal::from_str(text)
                .or_else(|_| Decimal::from_scientific(text))
                .expect("a decimal");
            let expected = score.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED);
            let actual = clamp_ballot(score);
            assert_eq!(
                (actual, actual.scale(), actual.is_sign_negative()),
                (expected, expected.scale(), expected.is_sign_negative()),
                "{text}"
            );
        }
        let largest = Decimal::MAX;
        assert_eq!(clamp_ballot(largest), Decimal::ONE_HUNDRED);
        assert_eq!(clamp_ballot(Decimal::MIN), Decimal::ZERO);
    }
}
