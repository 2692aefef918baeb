//! Exactness of annual scores (§5.9, §8.1): for any scoresheets and ballots the engine's annual
//! value equals a rational recomputation written here from DOMAIN.md alone, and the published
//! score is that rational rounded half-up once — also for values built to land on x.xx5.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use proptest::prelude::*;

use super::examples::SeedBYear;
use super::*;
use crate::scoring::YearResults;

/// Seed B's work-team items and maxima (all `assessed`), in rubric order.
fn work_team_items() -> Vec<(String, i64)> {
    rubric_of(&seed_b(), SubjectType::WorkTeam)
        .items()
        .into_iter()
        .map(|item| {
            let max = item.max.expect("work-team items have points");
            (item.code.clone(), max.mantissa() as i64 / 10i64.pow(max.scale()))
        })
        .collect()
}

/// Inputs of one work team: item scores per sheet in ten-thousandths, ballots in tenths.
#[derive(Debug, Clone)]
struct Inputs {
    half_year: Vec<Vec<i64>>,
    year_end: Vec<Vec<i64>>,
    ballots: [Vec<i64>; 2],
}

fn ratio(numerator: i64, denominator: i64) -> BigRational {
    BigRational::new(BigInt::from(numerator), BigInt::from(denominator))
}

fn mean(values: &[BigRational]) -> Option<BigRational> {
    if values.is_empty() {
        return None;
    }
    let sum = values.iter().fold(BigRational::zero(), |sum, value| sum + value);
    Some(sum / BigInt::from(values.len()))
}

/// A rubric total: per item the mean over the sheets, summed (§5.1).
fn rubric_total(sheets: &[Vec<i64>]) -> Option<BigRational> {
    let items: Option<Vec<BigRational>> = (0..work_team_items().len())
        .map(|item| {
            let scores: Vec<BigRational> = sheets.iter().map(|sheet| ratio(sheet[item], 10_000)).collect();
            mean(&scores)
        })
        .collect();
    Some(items?.iter().fold(BigRational::zero(), |sum, value| sum + value))
}

/// §8.1 for an individual, absent leaves renormalised away:
/// `0.6 × mean(half_year, year_end) + 0.4 × mean(democratic means)`.
fn annual(inputs: &Inputs) -> Option<BigRational> {
    let own: Vec<BigRational> = [rubric_total(&inputs.half_year), rubric_total(&inputs.year_end)]
        .into_iter()
        .flatten()
        .collect();
    let meetings: Vec<BigRational> = inputs
        .ballots
        .iter()
        .filter_map(|ballots| mean(&ballots.iter().map(|&b| ratio(b, 10)).collect::<Vec<_>>()))
        .collect();
    let leaves: Vec<(BigRational, BigRational)> = [(ratio(6, 10), mean(&own)), (ratio(4, 10), mean(&meetings))]
        .into_iter()
        .filter_map(|(weight, value)| Some((weight, value?)))
        .collect();
    if leaves.is_empty() {
        return None;
    }
    let weights = leaves.iter().fold(BigRational::zero(), |sum, (weight, _)| sum + weight);
    let weighted = leaves
        .iter()
        .fold(BigRational::zero(), |sum, (weight, value)| sum + weight * value);
    Some(weighted / weights)
}

/// 四舍五入 to two decimals, written with two decimals.
fn half_up(value: &BigRational) -> String {
    let scaled = value.numer().abs() * BigInt::from(200) + value.denom();
    let hundredths = scaled.div_floor(&(value.denom() * BigInt::from(2)));
    let sign = if value.is_negative() && !hundredths.is_zero() {
        "-"
    } else {
        ""
    };
    let (whole, cents) = hundredths.div_rem(&BigInt::from(100));
    format!("{sign}{whole}.{cents:0>2}")
}

fn decimal(ten_thousandths: i64) -> Decimal {
    Decimal::new(ten_thousandths, 4)
}

fn compute(inputs: &Inputs) -> (SubjectInfo, YearResults) {
    let team = subject(SubjectType::WorkTeam, "驻村工作队");
    let mut year = SeedBYear::new();
    year.data.subjects.push(team.clone());
    let items = work_team_items();
    for (evaluation, sheets) in [(&year.half_year, &inputs.half_year), (&year.year_end, &inputs.year_end)] {
        for scores in sheets {
            let scores = items
                .iter()
                .zip(scores)
                .map(|((code, _), &score)| (code.clone(), decimal(score)))
                .collect();
            year.data
                .scoresheets
                .push(sheet(evaluation, &team, new_id(), scores, at(2023, 12, 20)));
        }
    }
    for (evaluation, ballots) in year.democratic.iter().zip(&inputs.ballots) {
        for &score in ballots {
            year.data.ballots.push(Ballot {
                score: Decimal::new(score, 1),
                ..ballot(evaluation, &team, "0")
            });
        }
    }
    let results = year.compute();
    (team, results)
}

fn sheet_strategy() -> impl Strategy<Value = Vec<i64>> {
    work_team_items()
        .into_iter()
        .map(|(_, max)| 0..=max * 10_000)
        .collect::<Vec<_>>()
}

fn inputs_strategy() -> impl Strategy<Value = Inputs> {
    (
        prop::collection::vec(sheet_strategy(), 1..=5),
        prop::collection::vec(sheet_strategy(), 1..=3),
        prop::collection::vec(0i64..=1000, 0..=7),
        prop::collection::vec(0i64..=1000, 0..=7),
    )
        .prop_map(|(half_year, year_end, first, second)| Inputs {
            half_year,
            year_end,
            ballots: [first, second],
        })
}

fn check(inputs: &Inputs) -> Result<(), TestCaseError> {
    let expected = annual(inputs).expect("both rubric evaluations have sheets");
    let (team, results) = compute(inputs);
    let result = results.subject(team.id).unwrap();
    let value = result.annual.value.as_ref().expect("an annual value");
    let fraction = format!("{}/{}", expected.numer(), expected.denom());
    prop_assert_eq!(&value.fraction().0, &fraction);
    prop_assert_eq!(result.annual.published_score.unwrap().to_string(), half_up(&expected));
    // The fraction is shown exactly when the decimal cannot be.
    let terminates = {
        let mut denom = expected.denom().clone();
        for factor in [BigInt::from(2), BigInt::from(5)] {
            while (&denom % &factor).is_zero() {
                denom /= &factor;
            }
        }
        denom == BigInt::from(1)
    };
    prop_assert_eq!(result.annual.exact.is_none(), terminates);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn annual_scores_equal_an_exact_rational_recomputation(inputs in inputs_strategy()) {
        check(&inputs)?;
    }

    /// Three half-year sheets and one year-end sheet in hundredths, one and two ballots in tenths:
    /// the annual score is `n / 1000`; the year-end sheet is shifted so that `n` ends in 5.
    #[test]
    fn annual_scores_on_a_half_cent_round_up(
        half in prop::collection::vec(sheet_strategy(), 3),
        year_end in sheet_strategy(),
        first in 0i64..=1000,
        second in prop::collection::vec(0i64..=1000, 2),
    ) {
        let hundredths = |sheet: &Vec<i64>| sheet.iter().map(|score| score / 100 * 100).collect::<Vec<_>>();
        let half: Vec<Vec<i64>> = half.iter().map(hundredths).collect();
        let mut year_end = hundredths(&year_end);
        // n = Σhalf + 3·year_end + 10·(2·b1 + b2 + b3) in hundredths of points × 10.
        let n = |half: &[Vec<i64>], year_end: &[i64]| -> i64 {
            let sum: i64 = half.iter().flatten().sum::<i64>() / 100;
            sum + 3 * year_end.iter().sum::<i64>() / 100 + 10 * (2 * first + second[0] + second[1])
        };
        // Move the year-end sheet by whole hundredths (within its items' bounds) until n ends in 5:
        // each step moves n by 3, which reaches every last digit within ten steps.
        let items = work_team_items();
        let room = |sheet: &[i64]| sheet.iter().zip(&items).position(|(&s, (_, max))| s + 100 <= max * 10_000);
        let raise = room(&year_end).is_some();
        for _ in 0..10 {
            if n(&half, &year_end) % 10 == 5 {
                break;
            }
            if raise {
                if let Some(slot) = room(&year_end) { year_end[slot] += 100 }
            } else if let Some(slot) = year_end.iter().position(|&s| s >= 100) {
                year_end[slot] -= 100;
            }
        }
        prop_assume!(n(&half, &year_end) % 10 == 5);
        let inputs = Inputs { half_year: half, year_end: vec![year_end], ballots: [vec![first], second] };
        check(&inputs)?;
        let exact = annual(&inputs).unwrap();
        let thousandths = &exact * BigInt::from(1000);
        prop_assert!(thousandths.is_integer(), "built to be n/1000: {}", exact);
    }
}
