//! The explanation vocabulary of a rubric result: what each finding or scoresheet contributed to
//! an item, what is missing, and which findings did not count and why.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::exact::{non_terminating, Exact, Fraction};
use crate::scoring::inputs::{Finding, Quarter};

/// How an item's score came about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Explanation {
    /// The arithmetic, e.g. `20 − min(20, 4.2) = 15.8`.
    #[schema(example = "20 − min(20, 4.2) = 15.8")]
    pub calculation: String,
    /// Every finding or scoresheet that counted, in processing order (by date, recording time, id).
    pub contributions: Vec<Contribution>,
}

/// One input's effect on an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contribution {
    /// Where it comes from.
    pub source: ContributionSource,
    /// The rule it applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "L1")]
    pub rule_code: Option<String>,
    /// The rule's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "一级规则每条扣0.5分")]
    pub rule_label: Option<String>,
    /// Units (deductions, bonuses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// The measured period (rate bands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Quarter>,
    /// The measured rate in percent (rate bands); exact, so a rate from counts such as 2 of 3
    /// reads `66.666…` here and `200/3` in `rate_exact`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Exact>,
    /// The rate as a fraction in lowest terms, when it does not terminate as a decimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_exact: Option<Fraction>,
    /// The amount (stepped amounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    /// The achievement (non-stacking bonuses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_key: Option<String>,
    /// The adjustment's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What the input is worth on its own, before caps, bounds and non-stacking (signed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nominal_points: Option<Exact>,
    /// Points the input actually moved the item by, signed (deductions negative). For a
    /// scoresheet: the assessor's score for the item. Absent for amount findings, which only
    /// count summed (see the `amount_total` contribution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Exact>,
    /// `points` as a fraction in lowest terms, when it does not terminate as a decimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_exact: Option<Fraction>,
    /// Caps, bounds, non-stacking and the like that applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<ContributionNote>,
}

impl Contribution {
    /// A contribution of a finding, with its rule code and nothing else filled in yet.
    pub(crate) fn of_finding(finding: &Finding) -> Self {
        let source = ContributionSource::Finding {
            finding_id: finding.id,
            occurred_on: finding.occurred_on,
        };
        Contribution {
            rule_code: finding.rule_code.clone(),
            ..Self::bare(source)
        }
    }

    /// A contribution of `source` with nothing else filled in yet.
    fn bare(source: ContributionSource) -> Self {
        Contribution {
            source,
            rule_code: None,
            rule_label: None,
            quantity: None,
            period: None,
            rate: None,
            rate_exact: None,
            amount: None,
            event_key: None,
            reason: None,
            nominal_points: None,
            points: None,
            points_exact: None,
            notes: Vec::new(),
        }
    }

    /// A contribution with a source and points only.
    pub(crate) fn of_source(source: ContributionSource, points: Exact) -> Self {
        Contribution {
            points_exact: non_terminating(&points),
            points: Some(points),
            ..Self::bare(source)
        }
    }

    /// Sets the points moved, with their fraction when they do not terminate.
    pub(crate) fn with_points(mut self, points: Exact) -> Self {
        self.points_exact = non_terminating(&points);
        self.points = Some(points);
        self
    }

    /// Sets the measured rate, with its fraction when it does not terminate.
    pub(crate) fn with_rate(mut self, rate: Exact) -> Self {
        self.rate_exact = non_terminating(&rate);
        self.rate = Some(rate);
        self
    }
}

/// Where a contribution comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContributionSource {
    /// A finding.
    Finding {
        /// The finding's id.
        finding_id: Uuid,
        /// When it happened.
        occurred_on: NaiveDate,
    },
    /// An assessor's scoresheet.
    Scoresheet {
        /// The scoresheet's id.
        scoresheet_id: Uuid,
        /// The assessor.
        assessor_id: Uuid,
    },
    /// The points a stepped-amount rule gives for the sum of these amount findings.
    AmountTotal {
        /// The amount findings summed.
        finding_ids: Vec<Uuid>,
    },
}

/// A note on how a contribution was limited or treated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContributionNote {
    /// Deductions stop at the item's points (扣完为止): this one was cut short.
    CappedAtItemMax,
    /// The rule is uncapped (上不封顶): it may push the item below zero.
    Uncapped,
    /// Another finding for the same achievement counted instead (不重复计算).
    NonStacking {
        /// The finding that counted.
        counted_finding_id: Uuid,
    },
    /// The bonus item's cap was reached.
    ItemCap,
    /// The adjustment rule bounds one finding's points.
    RuleBound {
        /// The bound.
        max_points: Decimal,
    },
    /// The adjustment's bonus cap was reached.
    BonusCap,
    /// The adjustment's penalty cap was reached.
    PenaltyCap,
    /// A later measurement of the same period replaced this one.
    Superseded {
        /// The measurement that counted.
        counted_finding_id: Uuid,
    },
    /// The submitted score was outside 0–max and was clamped.
    Clamped {
        /// The score as submitted.
        submitted: Decimal,
    },
}

/// Something a result lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Missing {
    /// An `assessed` item no scoresheet scores: the total is absent.
    UnscoredItem {
        /// The item.
        item_code: String,
    },
    /// A period starting inside the window has no measurement: it deducts nothing.
    UnmeasuredPeriod {
        /// The item.
        item_code: String,
        /// The period.
        period: Quarter,
    },
}

/// A veto (一票否决) and the finding behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Veto {
    /// The veto finding.
    pub finding_id: Uuid,
    /// When it happened.
    pub occurred_on: NaiveDate,
    /// Its reason.
    pub reason: String,
}

/// A finding in the window that did not count, and why (the service rejects such findings on
/// entry; this shows up only for data that slipped past, e.g. after a rubric change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IgnoredFinding {
    /// The finding.
    pub finding_id: Uuid,
    /// The item it names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_code: Option<String>,
    /// Why it did not count.
    pub reason: IgnoredReason,
    /// Human-readable detail.
    pub message: String,
}

/// Why a finding did not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IgnoredReason {
    /// No item with this code in the rubric, or no item named.
    UnknownItem,
    /// No rule with this code in the item.
    UnknownRule,
    /// The finding's kind does not fit the item's method.
    DetailMismatch,
    /// A value is out of range (a rate outside 0–100, inconsistent counts).
    InvalidValue,
}

/// Shows a decimal the way people write it: `15.8`, not `15.80`.
pub(crate) fn show(value: Decimal) -> String {
    value.normalize().to_string()
}

/// Shows an exact value: its decimal when it terminates, else its fraction and a rounded
/// decimal (`961/12 ≈ 80.083333`).
pub(crate) fn show_exact(value: &Exact) -> String {
    if value.terminates() {
        value.to_string()
    } else {
        let approximate = value.round_half_up(6).map(|rounded| rounded.normalize().to_string());
        format!(
            "{} ≈ {}",
            value.fraction().0,
            approximate.unwrap_or_else(|| value.to_string())
        )
    }
}
