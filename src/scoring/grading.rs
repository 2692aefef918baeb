//! Grades of individuals (考核等次, §8.2) and the consequences that follow from a subject's own
//! score (约谈, §8.4); the group-dependent dismissal rule lives with rankings.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::scoring::scheme::{ConsequenceRules, Grade, GradeBand, Grading};

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

/// A consequence for a township's or department's leaders (§8.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Consequence {
    /// 约谈主要领导，诫勉分管领导: published score below the interview threshold.
    Interview,
    /// 主要领导、分管领导予以免职: below the threshold, target missed, among the group's last 3.
    Dismissal,
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

/// The consequences a published score brings on its own (the interview); dismissal also needs
/// the ranking group (see `ranking::rank`).
pub fn own_consequences(rules: &ConsequenceRules, published_score: Option<Decimal>) -> Vec<Consequence> {
    match published_score {
        Some(score) if score < rules.interview_below => vec![Consequence::Interview],
        _ => Vec::new(),
    }
}
