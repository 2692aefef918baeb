//! Grades of individuals (考核等次, §8.2); consequences live in `consequences`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::scoring::scheme::{Grade, GradeBand, Grading};

/// A subject's grade for the year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GradeResult {
    /// The grade.
    pub grade: Grade,
    /// Its Chinese name.
    #[schema(example = "优秀")]
    pub title: String,
    /// Share of the year-end bonus (年终目标奖) paid, 0–1.
    #[schema(example = "1")]
    pub bonus_pay: Decimal,
    /// Whether accountability starts (启动问责程序).
    pub accountability: bool,
    /// Why this grade.
    pub basis: GradeBasis,
}

/// Why a subject got its grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GradeBasis {
    /// The published score's band.
    Score,
    /// The individual was recalled (召回): graded 不称职 whatever the score.
    Recalled,
    /// A veto capped the grade (a vetoed 优秀 becomes 称职).
    Vetoed,
}

/// Grades a published annual score. A recalled individual gets the recalled grade even without a
/// score; otherwise no score means no grade. A vetoed subject is graded at best `vetoed_ceiling`.
pub fn grade(grading: &Grading, published_score: Option<Decimal>, vetoed: bool, recalled: bool) -> Option<GradeResult> {
    let band_of = |grade: Grade| grading.bands.iter().find(|band| band.grade == grade);
    let result = |band: &GradeBand, basis: GradeBasis| GradeResult {
        grade: band.grade,
        title: band.title.clone(),
        bonus_pay: band.bonus_pay.normalize(),
        accountability: band.accountability,
        basis,
    };
    if recalled {
        return band_of(grading.recalled).map(|band| result(band, GradeBasis::Recalled));
    }
    let score = published_score?;
    let position = grading
        .bands
        .iter()
        .position(|band| band.min_score.is_none_or(|min| score >= min))?;
    let ceiling = grading
        .vetoed_ceiling
        .filter(|_| vetoed)
        .and_then(|ceiling| grading.bands.iter().position(|band| band.grade == ceiling));
    match ceiling {
        Some(ceiling) if ceiling > position => grading.bands.get(ceiling).map(|band| result(band, GradeBasis::Vetoed)),
        _ => grading.bands.get(position).map(|band| result(band, GradeBasis::Score)),
    }
}
