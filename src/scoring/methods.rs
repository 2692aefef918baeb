//! One item's score from its inputs, per scoring method (DOMAIN.md §5.1–§5.7).
//!
//! Every function here computes the score the same way whether or not an explanation is wanted;
//! `Trace` only decides whether the explanation is built, so totals and explanations never drift.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::exact::Exact;
use crate::scoring::explain::{
    show, show_exact, Contribution, ContributionNote, ContributionSource, IgnoredFinding, IgnoredReason, Missing,
};
use crate::scoring::index::{Entry, Fact, RuleMatch};
use crate::scoring::inputs::{Finding, FindingDetail, Quarter, Scoresheet, Window};
use crate::scoring::model::{
    AdjustmentMethod, AdjustmentRuleKind, BonusMethod, DeductionMethod, Item, Method, NonStacking, RateBand,
    SteppedAmount,
};

/// An item's score with, when asked for, how it came about.
#[derive(Debug, Default)]
pub(crate) struct ItemOutcome {
    /// `None` only for an unscored `assessed` item.
    pub score: Option<Exact>,
    pub calculation: String,
    pub contributions: Vec<Contribution>,
    pub missing: Vec<Missing>,
    pub ignored: Vec<IgnoredFinding>,
}

/// Collects the explanation only when it is wanted (`Detail::Full`).
struct Trace {
    full: bool,
    outcome: ItemOutcome,
}

impl Trace {
    fn new(full: bool) -> Self {
        Trace {
            full,
            outcome: ItemOutcome::default(),
        }
    }

    fn add(&mut self, contribution: impl FnOnce() -> Contribution) {
        if self.full {
            self.outcome.contributions.push(contribution());
        }
    }

    fn ignore(&mut self, item: &Item, finding: &Finding, reason: IgnoredReason, message: impl FnOnce() -> String) {
        if self.full {
            self.outcome.ignored.push(IgnoredFinding {
                finding_id: finding.id,
                item_code: Some(item.code.clone()),
                reason,
                message: message(),
            });
        }
    }

    fn missing(&mut self, missing: impl FnOnce() -> Missing) {
        if self.full {
            self.outcome.missing.push(missing());
        }
    }

    fn finish(mut self, score: Option<Exact>, calculation: impl FnOnce() -> String) -> ItemOutcome {
        self.outcome.score = score;
        if self.full {
            self.outcome.calculation = calculation();
        }
        self.outcome
    }
}

/// Scores one item. `entries` are the subject's active findings naming the item, in processing
/// order; only those inside `window` count. `sheets` are the evaluation's effective scoresheets.
pub(crate) fn score_item(
    item: &Item,
    entries: &[Entry<'_>],
    window: Window,
    sheets: &[&Scoresheet],
    full: bool,
) -> ItemOutcome {
    // Entries are sorted by date (their order key's first part): the window is one run of them,
    // found by binary search, so findings outside it are never touched.
    let from = entries.partition_point(|entry| entry.occurred_on() < window.from);
    let to = entries.partition_point(|entry| entry.occurred_on() <= window.to);
    let inside = entries.get(from..to.max(from)).unwrap_or_default();
    let in_window = || inside.iter();
    match &item.method {
        Method::Assessed => assessed(item, in_window(), sheets, full),
        Method::Deduction(method) => deduction(item, method, in_window(), full),
        Method::RateBand(band) => rate_band(item, band, in_window(), window, full),
        Method::Bonus(method) => bonus(item, method, in_window(), full),
        Method::SteppedAmount(steps) => stepped_amount(item, steps, in_window(), full),
        Method::Adjustment(method) => adjustment(item, method, in_window(), full),
    }
}

/// The rule a finding was resolved to, if the item has it.
fn rule_at<T>(rules: &[T], rule: RuleMatch) -> Option<&T> {
    match rule {
        RuleMatch::Rule(position) => rules.get(position),
        RuleMatch::Absent | RuleMatch::Unknown => None,
    }
}

fn mismatch(item: &Item) -> impl FnOnce() -> String + '_ {
    move || format!("item {} does not take findings of this kind", item.code)
}

fn unknown_rule<'i>(item: &'i Item, finding: &'i Finding) -> impl FnOnce() -> String + 'i {
    move || format!("item {} has no rule {:?}", item.code, finding.rule_code)
}

/// §5.1: the mean of the assessors' scores, each clamped to 0..=max; no sheet → unscored.
fn assessed<'e, 'a: 'e>(
    item: &Item,
    entries: impl Iterator<Item = &'e Entry<'a>>,
    sheets: &[&Scoresheet],
    full: bool,
) -> ItemOutcome {
    let mut trace = Trace::new(full);
    for entry in entries {
        trace.ignore(item, entry.finding, IgnoredReason::DetailMismatch, || {
            format!("item {} is scored on scoresheets, not findings", item.code)
        });
    }
    let mut sum = Exact::zero();
    let mut count = 0usize;
    let mut parts = Vec::new();
    for sheet in sheets {
        let Some(&submitted) = sheet.scores.get(item.code.as_str()) else {
            continue;
        };
        let mut score = submitted.max(Decimal::ZERO);
        if let Some(max) = item.max {
            score = score.min(max);
        }
        sum = sum.add(&Exact::from(score));
        count = count.saturating_add(1);
        if full {
            parts.push(show(score));
        }
        trace.add(|| {
            let mut contribution = Contribution::of_source(
                ContributionSource::Scoresheet {
                    scoresheet_id: sheet.id,
                    assessor_id: sheet.assessor_id,
                },
                Exact::from(score.normalize()),
            );
            if score != submitted {
                contribution.notes.push(ContributionNote::Clamped { submitted });
            }
            contribution
        });
    }
    let score = if count == 0 {
        trace.missing(|| Missing::UnscoredItem {
            item_code: item.code.clone(),
        });
        None
    } else {
        sum.div_count(count)
    };
    let calculation = |score: &Option<Exact>| match score {
        None => "unscored: no scoresheet scores this item".to_owned(),
        Some(score) if count == 1 => format!("scoresheet: {}", show_exact(score)),
        Some(score) => format!(
            "mean of {count} scoresheets: ({}) ÷ {count} = {}",
            parts.join(" + "),
            show_exact(score)
        ),
    };
    let shown = if full { calculation(&score) } else { String::new() };
    trace.finish(score, || shown)
}

/// §5.2: `max − min(max, Σ capped) − Σ uncapped`.
fn deduction<'e, 'a: 'e>(
    item: &Item,
    method: &DeductionMethod,
    entries: impl Iterator<Item = &'e Entry<'a>>,
    full: bool,
) -> ItemOutcome {
    let mut trace = Trace::new(full);
    let max = item.max.unwrap_or(Decimal::ZERO);
    let mut capped = Decimal::ZERO;
    let mut uncapped = Decimal::ZERO;
    for entry in entries {
        let finding = entry.finding;
        let Fact::Deduction { quantity } = entry.fact else {
            trace.ignore(item, finding, IgnoredReason::DetailMismatch, mismatch(item));
            continue;
        };
        let Some(rule) = rule_at(&method.rules, entry.rule) else {
            trace.ignore(item, finding, IgnoredReason::UnknownRule, unknown_rule(item, finding));
            continue;
        };
        let nominal = rule
            .points_per_unit
            .saturating_mul(Decimal::from(quantity))
            .max(Decimal::ZERO);
        let capped_before = capped;
        if rule.uncapped {
            uncapped = uncapped.saturating_add(nominal);
        } else {
            capped = capped.saturating_add(nominal);
        }
        trace.add(|| {
            // Earlier deductions may already have used up the item's points.
            let room = max.saturating_sub(capped_before).max(Decimal::ZERO);
            let (moved, notes) = if rule.uncapped {
                (nominal, vec![ContributionNote::Uncapped])
            } else if nominal > room {
                (room, vec![ContributionNote::CappedAtItemMax])
            } else {
                (nominal, Vec::new())
            };
            Contribution {
                rule_label: Some(rule.label.clone()),
                quantity: Some(quantity),
                nominal_points: Some(Exact::from(-nominal)),
                notes,
                ..Contribution::of_finding(finding)
            }
            .with_points(Exact::from(-moved))
        });
    }
    let score = max.saturating_sub(capped.min(max)).saturating_sub(uncapped);
    trace.finish(Some(Exact::from(score)), || {
        let mut calculation = format!("{} − min({}, {})", show(max), show(max), show(capped));
        if !uncapped.is_zero() {
            calculation.push_str(&format!(" − {} (uncapped)", show(uncapped)));
        }
        calculation.push_str(&format!(" = {}", show(score)));
        calculation
    })
}

/// §5.3: per period `min(points_per_period, max(0, (full_credit_at − rate) × points_per_percent))`.
fn rate_band<'e, 'a: 'e>(
    item: &Item,
    band: &RateBand,
    entries: impl Iterator<Item = &'e Entry<'a>>,
    window: Window,
    full: bool,
) -> ItemOutcome {
    let mut trace = Trace::new(full);
    let max = item.max.unwrap_or(Decimal::ZERO);
    // A later-recorded measurement of a period replaces an earlier one (only one may be active;
    // the service enforces that, the engine stays deterministic if it is not).
    let mut measured: [Vec<(&Entry, Exact)>; 4] = Default::default();
    for entry in entries {
        let Fact::Measurement { period, rate } = entry.fact else {
            trace.ignore(item, entry.finding, IgnoredReason::DetailMismatch, mismatch(item));
            continue;
        };
        let Some(rate) = rate.percent() else {
            trace.ignore(item, entry.finding, IgnoredReason::InvalidValue, || {
                "the rate must be 0–100 % (sampled > 0, correct ≤ sampled)".to_owned()
            });
            continue;
        };
        if let Some(slot) = measured.get_mut(period.index()) {
            slot.push((entry, rate));
        }
    }
    let mut total = Exact::zero();
    let mut parts = Vec::new();
    let full_credit_at = Exact::from(band.full_credit_at);
    let points_per_percent = Exact::from(band.points_per_percent);
    let points_per_period = Exact::from(band.points_per_period);
    for (quarter, measurements) in Quarter::ALL.into_iter().zip(&measured) {
        // Latest recorded (recording time, then id: the order key's tail).
        let counted = measurements.iter().max_by_key(|(entry, _)| (entry.key.1, entry.key.2));
        let Some((counted, rate)) = counted else {
            let starts_inside = quarter.start(window.year()).is_some_and(|start| window.contains(start));
            if starts_inside {
                trace.missing(|| Missing::UnmeasuredPeriod {
                    item_code: item.code.clone(),
                    period: quarter,
                });
            }
            continue;
        };
        let shortfall = full_credit_at.sub(rate).max(Exact::zero());
        let deduction = shortfall
            .mul(&points_per_percent)
            .min(points_per_period.clone())
            .max(Exact::zero());
        total = total.add(&deduction);
        if full {
            parts.push(format!("{:?} {}", quarter, show_exact(&deduction)));
        }
        for (entry, entry_rate) in measurements {
            let is_counted = std::ptr::eq(entry, counted);
            trace.add(|| {
                Contribution {
                    period: Some(quarter),
                    nominal_points: Some(deduction.neg()),
                    notes: if is_counted {
                        Vec::new()
                    } else {
                        vec![ContributionNote::Superseded {
                            counted_finding_id: counted.finding.id,
                        }]
                    },
                    ..Contribution::of_finding(entry.finding)
                }
                .with_rate(entry_rate.clone())
                .with_points(if is_counted { deduction.neg() } else { Exact::zero() })
            });
        }
    }
    let max = Exact::from(max);
    let score = max.sub(&total);
    let shown = if full {
        if parts.is_empty() {
            format!("{} − 0 (no measurement) = {}", show_exact(&max), show_exact(&score))
        } else {
            format!("{} − ({}) = {}", show_exact(&max), parts.join(", "), show_exact(&score))
        }
    } else {
        String::new()
    };
    trace.finish(Some(score), || shown)
}

/// §5.4: points per finding; per-event non-stacking keeps the highest per achievement; optional cap.
fn bonus<'e, 'a: 'e>(
    item: &Item,
    method: &BonusMethod,
    entries: impl Iterator<Item = &'e Entry<'a>>,
    full: bool,
) -> ItemOutcome {
    let mut trace = Trace::new(full);
    struct Award<'f> {
        finding: &'f Finding,
        label: &'f str,
        quantity: u32,
        event_key: Option<&'f str>,
        nominal: Decimal,
    }
    let mut awards = Vec::new();
    for entry in entries {
        let finding = entry.finding;
        let Fact::Bonus { quantity, event_key } = entry.fact else {
            trace.ignore(item, finding, IgnoredReason::DetailMismatch, mismatch(item));
            continue;
        };
        let Some(rule) = rule_at(&method.rules, entry.rule) else {
            trace.ignore(item, finding, IgnoredReason::UnknownRule, unknown_rule(item, finding));
            continue;
        };
        awards.push(Award {
            finding,
            label: &rule.label,
            quantity,
            event_key,
            nominal: rule
                .points_per_unit
                .saturating_mul(Decimal::from(quantity))
                .max(Decimal::ZERO),
        });
    }
    // The counting finding per achievement: the highest; the earliest among equals.
    let mut best: BTreeMap<&str, usize> = BTreeMap::new();
    if method.non_stacking == NonStacking::PerEvent {
        for (index, award) in awards.iter().enumerate() {
            if let Some(key) = award.event_key {
                let entry = best.entry(key).or_insert(index);
                if awards
                    .get(*entry)
                    .is_some_and(|counted| award.nominal > counted.nominal)
                {
                    *entry = index;
                }
            }
        }
    }
    let mut sum = Decimal::ZERO;
    for (index, award) in awards.iter().enumerate() {
        let counted_instead = award
            .event_key
            .and_then(|key| best.get(key))
            .filter(|&&counted| counted != index)
            .and_then(|&counted| awards.get(counted))
            .map(|counted| counted.finding.id);
        let sum_before = sum;
        if counted_instead.is_none() {
            sum = sum.saturating_add(award.nominal);
        }
        trace.add(|| {
            let mut notes = Vec::new();
            let moved = match counted_instead {
                Some(counted_finding_id) => {
                    notes.push(ContributionNote::NonStacking { counted_finding_id });
                    Decimal::ZERO
                }
                None => {
                    let room = method.cap.map(|cap| cap.saturating_sub(sum_before).max(Decimal::ZERO));
                    let moved = room.map_or(award.nominal, |room| award.nominal.min(room));
                    if moved < award.nominal {
                        notes.push(ContributionNote::ItemCap);
                    }
                    moved
                }
            };
            Contribution {
                rule_label: Some(award.label.to_owned()),
                quantity: Some(award.quantity),
                event_key: award.event_key.map(str::to_owned),
                nominal_points: Some(Exact::from(award.nominal)),
                notes,
                ..Contribution::of_finding(award.finding)
            }
            .with_points(Exact::from(moved))
        });
    }
    let score = method.cap.map_or(sum, |cap| sum.min(cap.max(Decimal::ZERO)));
    trace.finish(Some(Exact::from(score)), || match method.cap {
        Some(cap) => format!("min({}, {}) = {}", show(cap), show(sum), show(score)),
        None => format!("{} = {}", show(sum), show(score)),
    })
}

/// Sums a window's amount findings; other findings are ignored.
fn sum_amounts<'e, 'a: 'e>(
    item: &Item,
    entries: impl Iterator<Item = &'e Entry<'a>>,
    trace: &mut Trace,
) -> (Decimal, Vec<&'a Finding>) {
    let mut total = Decimal::ZERO;
    let mut counted = Vec::new();
    for entry in entries {
        let Fact::Amount(amount) = entry.fact else {
            trace.ignore(item, entry.finding, IgnoredReason::DetailMismatch, mismatch(item));
            continue;
        };
        total = total.saturating_add(amount);
        if trace.full {
            counted.push(entry.finding);
        }
        trace.add(|| Contribution {
            amount: Some(amount.normalize()),
            ..Contribution::of_finding(entry.finding)
        });
    }
    (total, counted)
}

fn stepped_calculation(steps: &SteppedAmount, total: Decimal, points: Decimal) -> String {
    if total < steps.threshold {
        format!("amount {} < threshold {} → 0", show(total), show(steps.threshold))
    } else {
        format!(
            "amount {}: min({}, {} + floor(({} − {}) ÷ {})) = {}",
            show(total),
            show(steps.cap),
            show(steps.base),
            show(total),
            show(steps.threshold),
            show(steps.step),
            show(points)
        )
    }
}

/// §5.5: points from the window's summed amounts.
fn stepped_amount<'e, 'a: 'e>(
    item: &Item,
    steps: &SteppedAmount,
    entries: impl Iterator<Item = &'e Entry<'a>>,
    full: bool,
) -> ItemOutcome {
    let mut trace = Trace::new(full);
    let (total, counted) = sum_amounts(item, entries, &mut trace);
    let points = steps.points(total);
    if !counted.is_empty() {
        trace.add(|| Contribution {
            amount: Some(total.normalize()),
            ..Contribution::of_source(
                ContributionSource::AmountTotal {
                    finding_ids: counted.iter().map(|finding| finding.id).collect(),
                },
                Exact::from(points),
            )
        });
    }
    trace.finish(Some(Exact::from(points)), || stepped_calculation(steps, total, points))
}

/// The running sums of the ±10 section against its caps (§5.7). The score needs only the two
/// sums; the sums before each contribution let its explanation show it cut short once its
/// side's cap is reached.
struct Caps {
    bonus_cap: Decimal,
    penalty_cap: Decimal,
    bonuses: Decimal,
    penalties: Decimal,
}

impl Caps {
    fn new(method: &AdjustmentMethod) -> Self {
        Caps {
            bonus_cap: method.bonus_cap.max(Decimal::ZERO),
            penalty_cap: method.penalty_cap.max(Decimal::ZERO),
            bonuses: Decimal::ZERO,
            penalties: Decimal::ZERO,
        }
    }

    /// Adds signed points to their side; answers the sums before.
    fn take(&mut self, points: Decimal) -> (Decimal, Decimal) {
        let before = (self.bonuses, self.penalties);
        // `points >= 0` by its sign bit (a zero may carry either), without a comparison.
        if points.is_sign_positive() || points.is_zero() {
            self.bonuses = self.bonuses.saturating_add(points);
        } else {
            self.penalties = self.penalties.saturating_add(-points);
        }
        before
    }

    /// What signed points moved, given the sums before them, noting a cap that cut them.
    fn moved(
        &self,
        points: Decimal,
        (bonuses, penalties): (Decimal, Decimal),
        notes: &mut Vec<ContributionNote>,
    ) -> Decimal {
        if points >= Decimal::ZERO {
            let room = self.bonus_cap.saturating_sub(bonuses).max(Decimal::ZERO);
            if points > room {
                notes.push(ContributionNote::BonusCap);
            }
            points.min(room)
        } else {
            let room = self.penalty_cap.saturating_sub(penalties).max(Decimal::ZERO);
            if -points > room {
                notes.push(ContributionNote::PenaltyCap);
            }
            -(-points).min(room)
        }
    }

    fn score(&self) -> Decimal {
        self.bonuses
            .min(self.bonus_cap)
            .saturating_sub(self.penalties.min(self.penalty_cap))
    }
}

/// A manual finding's points within its rule's bound, and the note when the bound cut them.
fn bounded(
    points: Decimal,
    rule: Option<&crate::scoring::model::AdjustmentRule>,
) -> (Decimal, Option<ContributionNote>) {
    if let Some(AdjustmentRuleKind::Manual {
        max_points: Some(bound),
        ..
    }) = rule.map(|rule| &rule.kind)
    {
        let bound = (*bound).max(Decimal::ZERO);
        if points.abs() > bound {
            let bounded = if points.is_sign_negative() { -bound } else { bound };
            return (bounded, Some(ContributionNote::RuleBound { max_points: bound }));
        }
    }
    (points, None)
}

/// §5.7: `min(bonus_cap, Σ bonuses) − min(penalty_cap, Σ penalties)`; rules may bound one
/// finding; stepped-amount rules count as bonuses.
fn adjustment<'e, 'a: 'e>(
    item: &Item,
    method: &AdjustmentMethod,
    entries: impl Iterator<Item = &'e Entry<'a>>,
    full: bool,
) -> ItemOutcome {
    let mut trace = Trace::new(full);
    let mut caps = Caps::new(method);
    // Amount findings per stepped rule (by rule position), scored after the manual ones.
    let mut amounts: BTreeMap<usize, Vec<&Entry>> = BTreeMap::new();
    for entry in entries {
        let finding = entry.finding;
        let rule = match entry.rule {
            RuleMatch::Absent => None,
            RuleMatch::Rule(position) => method.rules.get(position).map(|rule| (position, rule)),
            RuleMatch::Unknown => {
                trace.ignore(item, finding, IgnoredReason::UnknownRule, unknown_rule(item, finding));
                continue;
            }
        };
        match (entry.fact, rule.map(|(_, rule)| &rule.kind)) {
            (Fact::Adjustment(points), None | Some(AdjustmentRuleKind::Manual { .. })) => {
                let (bounded, bound_note) = bounded(points, rule.map(|(_, rule)| rule));
                let before = caps.take(bounded);
                trace.add(|| {
                    let mut notes: Vec<ContributionNote> = bound_note.into_iter().collect();
                    let moved = caps.moved(bounded, before, &mut notes);
                    Contribution {
                        rule_label: rule.map(|(_, rule)| rule.label.clone()),
                        reason: match &finding.detail {
                            FindingDetail::Adjustment { reason, .. } => Some(reason.clone()),
                            _ => None,
                        },
                        nominal_points: Some(Exact::from(points)),
                        notes,
                        ..Contribution::of_finding(finding)
                    }
                    .with_points(Exact::from(moved))
                });
            }
            (Fact::Amount(_), Some(AdjustmentRuleKind::SteppedAmount(_))) => {
                if let Some((position, _)) = rule {
                    amounts.entry(position).or_default().push(entry);
                }
            }
            _ => trace.ignore(item, finding, IgnoredReason::DetailMismatch, mismatch(item)),
        }
    }
    let mut stepped_parts = Vec::new();
    for (position, rule_entries) in &amounts {
        let Some(rule) = method.rules.get(*position) else {
            continue;
        };
        let AdjustmentRuleKind::SteppedAmount(steps) = &rule.kind else {
            continue;
        };
        let (total, counted) = sum_amounts(item, rule_entries.iter().copied(), &mut trace);
        let points = steps.points(total);
        let before = caps.take(points);
        if full {
            stepped_parts.push(format!("{}: {}", rule.code, stepped_calculation(steps, total, points)));
        }
        trace.add(|| {
            let mut notes = Vec::new();
            let moved = caps.moved(points, before, &mut notes);
            Contribution {
                rule_code: Some(rule.code.clone()),
                rule_label: Some(rule.label.clone()),
                amount: Some(total.normalize()),
                nominal_points: Some(Exact::from(points)),
                notes,
                ..Contribution::of_source(
                    ContributionSource::AmountTotal {
                        finding_ids: counted.iter().map(|finding| finding.id).collect(),
                    },
                    Exact::from(moved),
                )
            }
        });
    }
    let score = caps.score();
    trace.finish(Some(Exact::from(score)), || {
        let mut calculation = format!(
            "min({}, {}) − min({}, {}) = {}",
            show(caps.bonus_cap),
            show(caps.bonuses),
            show(caps.penalty_cap),
            show(caps.penalties),
            show(score)
        );
        if !stepped_parts.is_empty() {
            calculation.push_str(&format!(" [{}]", stepped_parts.join("; ")));
        }
        calculation
    })
}
