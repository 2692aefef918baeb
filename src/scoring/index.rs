//! Findings resolved once against the subject's rubric. Each becomes an entry holding its order
//! key (date first), the position of the rule it names, the numbers its method needs (the fact)
//! and a reference to the finding for explanations. A subject's entries sit in one array sorted
//! by item then order, so evaluations compare dates and integers instead of chasing codes and
//! findings through memory — which is what makes a county of 200 000 findings fast.

use std::ops::Range;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::scoring::explain::Veto;
use crate::scoring::fast_hash::FastMap;
use crate::scoring::inputs::{Finding, FindingDetail, MeasuredRate, OrderKey, Quarter, Window};
use crate::scoring::model::{Item, Method, Rubric};

/// A rubric's items by code.
#[derive(Debug)]
pub(crate) struct RubricIndex<'r> {
    pub rubric: &'r Rubric,
    /// The rubric's full marks, normalised (every result shows them).
    pub full_marks: Decimal,
    items: Vec<&'r Item>,
    by_code: FastMap<&'r str, usize>,
}

impl<'r> RubricIndex<'r> {
    pub(crate) fn new(rubric: &'r Rubric) -> Self {
        let items = rubric.items();
        let mut by_code = FastMap::default();
        for (position, item) in items.iter().enumerate() {
            // With duplicate codes (rejected by validation) the first item takes the findings.
            by_code.entry(item.code.as_str()).or_insert(position);
        }
        RubricIndex {
            rubric,
            full_marks: rubric.full_marks().normalize(),
            items,
            by_code,
        }
    }

    /// The position of the item with this code.
    pub(crate) fn position(&self, code: &str) -> Option<usize> {
        self.by_code.get(code).copied()
    }

    /// The item a finding names and the rule within it; `None` when the rubric has no such item.
    fn resolve(&self, finding: &Finding) -> Option<(usize, RuleMatch)> {
        let position = self.position(finding.item_code.as_deref()?)?;
        let item = self.items.get(position)?;
        Some((position, rule_match(&item.method, finding.rule_code.as_deref())))
    }
}

/// Which of its item's rules a finding names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleMatch {
    /// No rule named, or the method has no rules.
    Absent,
    /// The rule at this position.
    Rule(usize),
    /// A rule code the item does not have.
    Unknown,
}

fn rule_match(method: &Method, code: Option<&str>) -> RuleMatch {
    let position = match method {
        Method::Deduction(method) => method.rules.iter().position(|rule| same_code(&rule.code, code)),
        Method::Bonus(method) => method.rules.iter().position(|rule| same_code(&rule.code, code)),
        Method::Adjustment(method) => method.rules.iter().position(|rule| same_code(&rule.code, code)),
        Method::Assessed | Method::RateBand(_) | Method::SteppedAmount(_) => return RuleMatch::Absent,
    };
    match (code, position) {
        (None, _) => RuleMatch::Absent,
        (Some(_), Some(position)) => RuleMatch::Rule(position),
        (Some(_), None) => RuleMatch::Unknown,
    }
}

/// Rule codes are a few bytes long: comparing them inline beats a `memcmp` call.
fn same_code(rule_code: &str, code: Option<&str>) -> bool {
    code.is_some_and(|code| code.len() == rule_code.len() && code.bytes().zip(rule_code.bytes()).all(|(a, b)| a == b))
}

/// The numbers of a finding its method works with (a finding's detail without its texts).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fact<'a> {
    Deduction {
        quantity: u32,
    },
    Bonus {
        quantity: u32,
        event_key: Option<&'a str>,
    },
    /// The rate as measured; `percent()` is `None` when out of range.
    Measurement {
        period: Quarter,
        rate: &'a MeasuredRate,
    },
    Amount(Decimal),
    Adjustment(Decimal),
    Veto,
    /// A major failure or a dereliction: moves no points, brings consequences (§8.5).
    Mark,
}

impl<'a> Fact<'a> {
    fn of(detail: &'a FindingDetail) -> Self {
        match detail {
            FindingDetail::Deduction { quantity } => Fact::Deduction { quantity: *quantity },
            FindingDetail::Bonus { quantity, event_key } => Fact::Bonus {
                quantity: *quantity,
                event_key: event_key.as_deref(),
            },
            FindingDetail::Measurement { period, rate } => Fact::Measurement { period: *period, rate },
            FindingDetail::Amount { amount } => Fact::Amount(*amount),
            FindingDetail::Adjustment { points, .. } => Fact::Adjustment(*points),
            FindingDetail::Veto { .. } => Fact::Veto,
            FindingDetail::MajorFailure { .. } | FindingDetail::Dereliction { .. } => Fact::Mark,
        }
    }
}

/// One finding resolved against the rubric.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub key: OrderKey,
    pub rule: RuleMatch,
    pub fact: Fact<'a>,
    /// Read only to explain (ids, reasons, labels), never to score.
    pub finding: &'a Finding,
}

impl Entry<'_> {
    pub(crate) fn occurred_on(&self) -> NaiveDate {
        self.key.0
    }
}

/// A subject's active findings, resolved and grouped by item, each group in processing order.
#[derive(Debug, Default)]
pub(crate) struct SubjectFindings<'a> {
    /// Sorted by item position, then processing order.
    entries: Vec<Entry<'a>>,
    /// Per item position, its entries' range.
    ranges: Vec<Range<usize>>,
    vetoes: Vec<(OrderKey, &'a Finding)>,
    /// Major failures and derelictions, in processing order.
    marks: Vec<(OrderKey, &'a Finding)>,
    /// Findings naming no item or an item the rubric lacks.
    strays: Vec<(OrderKey, &'a Finding)>,
}

impl<'a> SubjectFindings<'a> {
    /// Indexes findings already known to be the subject's and active.
    pub(crate) fn build(index: &RubricIndex<'_>, findings: impl IntoIterator<Item = &'a Finding>) -> Self {
        let mut builder = SubjectFindingsBuilder::default();
        for finding in findings {
            builder.add(index, finding);
        }
        builder.finish(index)
    }

    /// The findings naming the item at this position.
    pub(crate) fn for_item(&self, position: Option<usize>) -> &[Entry<'a>] {
        position
            .and_then(|position| self.ranges.get(position))
            .and_then(|range| self.entries.get(range.clone()))
            .unwrap_or(&[])
    }

    /// The earliest veto inside the window.
    pub(crate) fn veto_in(&self, window: Window) -> Option<Veto> {
        self.vetoes
            .iter()
            .find(|(key, _)| window.contains(key.0))
            .map(|(_, finding)| Veto {
                finding_id: finding.id,
                occurred_on: finding.occurred_on,
                reason: match &finding.detail {
                    FindingDetail::Veto { reason } => reason.clone(),
                    _ => String::new(),
                },
            })
    }

    /// The major failures and derelictions, in processing order.
    pub(crate) fn marks(&self) -> impl Iterator<Item = &'a Finding> + '_ {
        self.marks.iter().map(|(_, finding)| *finding)
    }

    /// Findings inside the window that name no item of the rubric.
    pub(crate) fn strays_in(&self, window: Window) -> impl Iterator<Item = &'a Finding> + '_ {
        self.strays
            .iter()
            .filter(move |(key, _)| window.contains(key.0))
            .map(|(_, finding)| *finding)
    }
}

/// Collects one subject's findings; `finish` sorts them into a `SubjectFindings`.
#[derive(Debug, Default)]
pub(crate) struct SubjectFindingsBuilder<'a> {
    items: Vec<(usize, Entry<'a>)>,
    vetoes: Vec<(OrderKey, &'a Finding)>,
    marks: Vec<(OrderKey, &'a Finding)>,
    strays: Vec<(OrderKey, &'a Finding)>,
}

impl<'a> SubjectFindingsBuilder<'a> {
    pub(crate) fn with_capacity(findings: usize) -> Self {
        SubjectFindingsBuilder {
            items: Vec::with_capacity(findings),
            ..SubjectFindingsBuilder::default()
        }
    }

    pub(crate) fn add(&mut self, index: &RubricIndex<'_>, finding: &'a Finding) {
        let key = finding.order_key();
        let fact = Fact::of(&finding.detail);
        match fact {
            Fact::Veto => return self.vetoes.push((key, finding)),
            Fact::Mark => return self.marks.push((key, finding)),
            _ => {}
        }
        match index.resolve(finding) {
            Some((position, rule)) => self.items.push((
                position,
                Entry {
                    key,
                    rule,
                    fact,
                    finding,
                },
            )),
            None => self.strays.push((key, finding)),
        }
    }

    /// Sorts by item and processing order, so results never depend on input order.
    pub(crate) fn finish(self, index: &RubricIndex<'_>) -> SubjectFindings<'a> {
        // Entries are large: sort small (item, date) keys with each entry's place, break their
        // ties on the whole order key, then move every entry once into its sorted place.
        let mut order: Vec<(u64, u32)> = self
            .items
            .iter()
            .enumerate()
            .map(|(place, (position, entry))| (item_and_date(*position, entry.key), place as u32))
            .collect();
        let key = |place: u32| {
            self.items
                .get(place as usize)
                .map(|(position, entry)| (*position, entry.key))
        };
        order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| key(a.1).cmp(&key(b.1))));
        let mut vetoes = self.vetoes;
        let mut marks = self.marks;
        let mut strays = self.strays;
        vetoes.sort_unstable_by_key(|(key, _)| *key);
        marks.sort_unstable_by_key(|(key, _)| *key);
        strays.sort_unstable_by_key(|(key, _)| *key);
        let mut ranges = vec![0..0; index.items.len()];
        let mut entries = Vec::with_capacity(order.len());
        for (place, &(_, from)) in order.iter().enumerate() {
            let Some(&(position, entry)) = self.items.get(from as usize) else {
                continue;
            };
            if let Some(range) = ranges.get_mut(position) {
                if range.start == range.end {
                    *range = place..place;
                }
                range.end = place + 1;
            }
            entries.push(entry);
        }
        SubjectFindings {
            entries,
            ranges,
            vetoes,
            marks,
            strays,
        }
    }
}

/// An item position and a date in one sortable word: the position above, the date's days
/// (offset to be non-negative) below. Ties are broken on the whole order key.
fn item_and_date(position: usize, key: OrderKey) -> u64 {
    let days = i64::from(key.0.num_days_from_ce()) - i64::from(i32::MIN);
    ((position as u64) << 32) | (days as u64 & 0xffff_ffff)
}
