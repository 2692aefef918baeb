//! A rubric evaluation: one subject's total over one window (half-year, year-end or a monthly
//! standing), section by section, item by item, with every point explained (§5, §7).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::exact::{non_terminating, Exact, Fraction};
use crate::scoring::explain::{show, show_exact, Explanation, IgnoredFinding, IgnoredReason, Missing, Veto};
use crate::scoring::index::{RubricIndex, SubjectFindings};
use crate::scoring::inputs::{Finding, Scoresheet, SubjectAttributes, SubjectInfo, Window};
use crate::scoring::methods::score_item;
use crate::scoring::model::{Item, MethodKind, Node, Rubric, Section};
use crate::scoring::scheme::{SchemeOptions, ScoresheetMode};

/// How much of a result to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Detail {
    /// Totals with the full breakdown: sections, items, explanations, missing and ignored inputs.
    #[default]
    Full,
    /// Totals only (no `nodes`, `missing` or `ignored`): fast, for rankings of a whole county.
    Totals,
}

/// Settings of one computation (from the scheme's options plus the wanted detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScoringSettings {
    /// How much to build.
    pub detail: Detail,
    /// How several scoresheets combine.
    pub scoresheet_mode: ScoresheetMode,
    /// Decimals of published scores.
    pub published_digits: u32,
}

impl ScoringSettings {
    /// The scheme's settings at the given detail.
    pub fn new(options: &SchemeOptions, detail: Detail) -> Self {
        ScoringSettings {
            detail,
            scoresheet_mode: options.scoresheet_mode,
            published_digits: options.published_digits,
        }
    }

    /// The published score of an exact value (§5.9): rounded half-up once, from the exact value.
    pub fn publish(&self, value: &Exact) -> Decimal {
        value.publish(self.published_digits)
    }
}

impl Default for ScoringSettings {
    fn default() -> Self {
        ScoringSettings::new(&SchemeOptions::default(), Detail::Full)
    }
}

/// The inputs of one rubric evaluation of one subject.
#[derive(Debug, Clone, Copy)]
pub struct RubricInputs<'a> {
    /// Findings count when `occurred_on` falls inside.
    pub window: Window,
    /// What was known at this instant (`None` = everything recorded, revocations applied).
    pub as_of: Option<DateTime<Utc>>,
    /// The subject's findings (others are skipped), revoked ones included.
    pub findings: &'a [Finding],
    /// The evaluation's scoresheets for the subject (others are skipped).
    pub scoresheets: &'a [Scoresheet],
}

/// One subject's rubric total for one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RubricResult {
    /// Exact total: the sum of the sections, adjustments and uncapped negatives included; can
    /// exceed full marks and is not floored. Absent when an `assessed` item is unscored.
    #[schema(example = "56.65")]
    pub total: Option<Exact>,
    /// The exact total as a fraction in lowest terms, present only when it does not terminate
    /// as a decimal (a mean of three scoresheets): then `total` is rounded to 28 digits and this
    /// is the value itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "961/12")]
    pub exact: Option<Fraction>,
    /// The total rounded half-up to the scheme's digits: what grades, ranks and consequences use.
    #[schema(example = "56.65")]
    pub published_score: Option<Decimal>,
    /// The rubric's full marks (满分), e.g. 80 or 100.
    #[schema(example = "80")]
    pub full_marks: Decimal,
    /// The veto in the window, if any (earliest first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vetoed: Option<Veto>,
    /// Sections and items as in the rubric (empty with `detail: totals`).
    #[serde(default)]
    pub nodes: Vec<NodeResult>,
    /// Unscored items and unmeasured periods (empty with `detail: totals`).
    #[serde(default)]
    pub missing: Vec<Missing>,
    /// Findings in the window that did not count (empty with `detail: totals`).
    #[serde(default)]
    pub ignored: Vec<IgnoredFinding>,
}

/// A section or item of a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeResult {
    /// A section with its subtotal.
    Section(SectionScore),
    /// An item with its score and explanation.
    Item(ItemScore),
}

impl NodeResult {
    /// The node's score (section subtotal or item score).
    pub fn score(&self) -> Option<&Exact> {
        match self {
            NodeResult::Section(section) => section.subtotal.as_ref(),
            NodeResult::Item(item) => item.score.as_ref(),
        }
    }

    /// Finds the item with this code below this node.
    pub fn find_item(&self, code: &str) -> Option<&ItemScore> {
        match self {
            NodeResult::Item(item) if item.code == code => Some(item),
            NodeResult::Item(_) => None,
            NodeResult::Section(section) => section.children.iter().find_map(|child| child.find_item(code)),
        }
    }

    /// Finds the section with this code at or below this node.
    pub fn find_section(&self, code: &str) -> Option<&SectionScore> {
        match self {
            NodeResult::Item(_) => None,
            NodeResult::Section(section) if section.code == code => Some(section),
            NodeResult::Section(section) => section.children.iter().find_map(|child| child.find_section(code)),
        }
    }
}

impl RubricResult {
    /// The scored item with this code (with `detail: full`).
    pub fn item(&self, code: &str) -> Option<&ItemScore> {
        self.nodes.iter().find_map(|node| node.find_item(code))
    }

    /// The scored section with this code (with `detail: full`).
    pub fn section(&self, code: &str) -> Option<&SectionScore> {
        self.nodes.iter().find_map(|node| node.find_section(code))
    }
}

/// A section's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SectionScore {
    /// The section's code.
    #[schema(example = "1")]
    pub code: String,
    /// The section's title.
    #[schema(example = "系统数据维护")]
    pub title: String,
    /// The section's share of full marks.
    #[schema(example = "35")]
    pub points: Decimal,
    /// Exact subtotal; absent when an item in it is unscored.
    #[schema(example = "24.65")]
    pub subtotal: Option<Exact>,
    /// The subtotal as a fraction in lowest terms, when it does not terminate as a decimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<Fraction>,
    /// Set when the subtotal was derived from another section (§5.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived: Option<DerivedScore>,
    /// The section's sections and items.
    #[schema(no_recursion)]
    pub children: Vec<NodeResult>,
}

/// How a derived section's subtotal was computed: `source_subtotal ÷ source_points × points`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DerivedScore {
    /// The section it was computed from.
    #[schema(example = "1")]
    pub from_section: String,
    /// That section's subtotal.
    pub source_subtotal: Option<Exact>,
    /// That section's points.
    pub source_points: Decimal,
}

/// An item's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ItemScore {
    /// The item's code.
    #[schema(example = "1.1")]
    pub code: String,
    /// The item's title.
    #[schema(example = "到户基本信息(含易地后扶)维护")]
    pub title: String,
    /// The item's scoring method.
    pub method: MethodKind,
    /// The item's points; absent for add-on items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "20")]
    pub max: Option<Decimal>,
    /// Exact score; absent when unscored.
    #[schema(example = "15.8")]
    pub score: Option<Exact>,
    /// The score as a fraction in lowest terms, when it does not terminate as a decimal (a mean
    /// of three scoresheets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "961/12")]
    pub exact: Option<Fraction>,
    /// Whether the item was scored, is unscored, or was derived.
    pub status: ItemStatus,
    /// How the score came about.
    pub explanation: Explanation,
}

/// The state of an item in a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Scored from scoresheets or findings (no findings = full marks for deductions, 0 for bonuses).
    Scored,
    /// An `assessed` item without a scoresheet.
    Unscored,
    /// Part of a derived section: its share of the section's derived subtotal.
    Derived,
}

/// The scoresheets that count (§5.1): each assessor's latest (mean mode) or the subject's latest
/// (single mode). Input sheets must already be the subject's, one evaluation's, and as-of filtered.
pub(crate) fn effective_sheets<'a>(
    sheets: impl IntoIterator<Item = &'a Scoresheet>,
    mode: ScoresheetMode,
) -> Vec<&'a Scoresheet> {
    let latest = |sheet: &&Scoresheet| (sheet.recorded_at, sheet.id);
    match mode {
        ScoresheetMode::Single => sheets.into_iter().max_by_key(latest).into_iter().collect(),
        ScoresheetMode::Mean => {
            // A subject has a few sheets per evaluation: sorting them by assessor, latest first,
            // beats a map. The sort is stable, so among equal sheets the first given counts.
            let mut effective: Vec<&Scoresheet> = sheets.into_iter().collect();
            effective.sort_by(|a, b| {
                a.assessor_id
                    .cmp(&b.assessor_id)
                    .then_with(|| latest(b).cmp(&latest(a)))
            });
            effective.dedup_by_key(|sheet| sheet.assessor_id);
            effective.sort_unstable_by_key(latest);
            effective
        }
    }
}

/// Whether a scoresheet was recorded by `as_of`.
pub(crate) fn recorded_by(recorded_at: DateTime<Utc>, as_of: Option<DateTime<Utc>>) -> bool {
    as_of.is_none_or(|as_of| recorded_at <= as_of)
}

/// Scores one subject against a rubric over one window. The service calls this for a single
/// subject (results, what-if simulations); `compute_year` uses the same code for a whole county.
pub fn score_rubric(
    rubric: &Rubric,
    subject: &SubjectInfo,
    inputs: &RubricInputs<'_>,
    settings: &ScoringSettings,
) -> RubricResult {
    let index = RubricIndex::new(rubric);
    let findings = SubjectFindings::build(
        &index,
        inputs
            .findings
            .iter()
            .filter(|finding| finding.subject_id == subject.id && finding.is_active(inputs.as_of)),
    );
    let sheets = effective_sheets(
        inputs
            .scoresheets
            .iter()
            .filter(|sheet| sheet.subject_id == subject.id && recorded_by(sheet.recorded_at, inputs.as_of)),
        settings.scoresheet_mode,
    );
    score_indexed(&index, &subject.attributes, &findings, inputs.window, &sheets, settings)
}

/// `score_rubric` over prepared inputs.
pub(crate) fn score_indexed(
    index: &RubricIndex<'_>,
    attributes: &SubjectAttributes,
    findings: &SubjectFindings<'_>,
    window: Window,
    sheets: &[&Scoresheet],
    settings: &ScoringSettings,
) -> RubricResult {
    let full = settings.detail == Detail::Full;
    let rubric = index.rubric;
    let mut scorer = Scorer {
        index,
        findings,
        window,
        sheets,
        full,
        derive: !attributes.has_special_indicators,
        missing: Vec::new(),
        ignored: Vec::new(),
    };
    let mut total = Some(Exact::zero());
    let mut nodes = Vec::new();
    for node in &rubric.nodes {
        let (value, result) = scorer.node(node);
        total = add(total, value);
        nodes.extend(result);
    }
    if full {
        scorer.ignore_strays();
    }
    RubricResult {
        exact: total.as_ref().and_then(non_terminating),
        published_score: total.as_ref().map(|total| settings.publish(total)),
        total,
        full_marks: index.full_marks,
        vetoed: findings.veto_in(window),
        nodes,
        missing: scorer.missing,
        ignored: scorer.ignored,
    }
}

fn add(sum: Option<Exact>, value: Option<Exact>) -> Option<Exact> {
    Some(sum?.add(&value?))
}

struct Scorer<'r, 'f> {
    index: &'r RubricIndex<'r>,
    findings: &'f SubjectFindings<'f>,
    window: Window,
    sheets: &'f [&'f Scoresheet],
    full: bool,
    /// Derived sections are computed from their source (the subject has no special indicators).
    derive: bool,
    missing: Vec<Missing>,
    ignored: Vec<IgnoredFinding>,
}

impl Scorer<'_, '_> {
    fn node(&mut self, node: &Node) -> (Option<Exact>, Option<NodeResult>) {
        match node {
            Node::Item(item) => {
                let (value, score) = self.item(item);
                (value, score.map(NodeResult::Item))
            }
            Node::Section(section) => match (&section.derived_from, self.derive) {
                (Some(source), true) => self.derived_section(section, source),
                _ => self.section(section),
            },
        }
    }

    fn item(&mut self, item: &Item) -> (Option<Exact>, Option<ItemScore>) {
        let outcome = score_item(
            item,
            self.findings.for_item(self.index.position(&item.code)),
            self.window,
            self.sheets,
            self.full,
        );
        if !self.full {
            return (outcome.score, None);
        }
        self.missing.extend(outcome.missing);
        self.ignored.extend(outcome.ignored);
        let score = ItemScore {
            code: item.code.clone(),
            title: item.title.clone(),
            method: item.method.kind(),
            max: item.max.map(|max| max.normalize()),
            exact: outcome.score.as_ref().and_then(non_terminating),
            score: outcome.score.clone(),
            status: if outcome.score.is_some() {
                ItemStatus::Scored
            } else {
                ItemStatus::Unscored
            },
            explanation: Explanation {
                calculation: outcome.calculation,
                contributions: outcome.contributions,
            },
        };
        (outcome.score, Some(score))
    }

    fn section(&mut self, section: &Section) -> (Option<Exact>, Option<NodeResult>) {
        let mut subtotal = Some(Exact::zero());
        let mut children = Vec::new();
        for child in &section.children {
            let (value, result) = self.node(child);
            subtotal = add(subtotal, value);
            children.extend(result);
        }
        let result = self.full.then(|| {
            NodeResult::Section(SectionScore {
                code: section.code.clone(),
                title: section.title.clone(),
                points: section.full_marks().normalize(),
                exact: subtotal.as_ref().and_then(non_terminating),
                subtotal: subtotal.clone(),
                derived: None,
                children,
            })
        });
        (subtotal, result)
    }

    /// §5.6: `source subtotal ÷ source points × this section's points`; its items show their
    /// share of it (`item max ÷ section points × subtotal`).
    fn derived_section(&mut self, section: &Section, source_code: &str) -> (Option<Exact>, Option<NodeResult>) {
        let source = self.index.rubric.find_section(source_code);
        let source_points = source.map_or(Decimal::ZERO, Section::full_marks);
        let source_subtotal = source.and_then(|source| {
            // The source scored on its own, without derivation, so a (rejected by validation)
            // chain or loop of derivations cannot recurse.
            let mut plain = Scorer {
                index: self.index,
                findings: self.findings,
                window: self.window,
                sheets: self.sheets,
                full: false,
                derive: false,
                missing: Vec::new(),
                ignored: Vec::new(),
            };
            plain.section(source).0
        });
        let points = section.full_marks();
        let share = Share::new(source_subtotal.clone(), source_points);
        let subtotal = share.of(points);
        let result = self.full.then(|| {
            NodeResult::Section(SectionScore {
                code: section.code.clone(),
                title: section.title.clone(),
                points: points.normalize(),
                exact: subtotal.as_ref().and_then(non_terminating),
                subtotal: subtotal.clone(),
                derived: Some(DerivedScore {
                    from_section: source_code.to_owned(),
                    source_subtotal,
                    source_points: source_points.normalize(),
                }),
                children: derived_children(&section.children, &share, source_code),
            })
        });
        (subtotal, result)
    }

    /// Findings in the window naming no item or an item the rubric lacks.
    fn ignore_strays(&mut self) {
        self.ignored
            .extend(self.findings.strays_in(self.window).map(|finding| IgnoredFinding {
                finding_id: finding.id,
                item_code: finding.item_code.clone(),
                reason: IgnoredReason::UnknownItem,
                message: match &finding.item_code {
                    Some(code) => format!("the rubric has no item {code}"),
                    None => "the finding names no item".to_owned(),
                },
            }));
    }
}

/// A derived section's proportion of its source: `source subtotal ÷ source points`, applied by
/// multiplying first so exact values stay exact (47 ÷ 50 × 30, not 0.94 rounded × 30).
struct Share(Option<(Exact, Decimal)>);

impl Share {
    fn new(source_subtotal: Option<Exact>, source_points: Decimal) -> Self {
        Share(
            source_subtotal
                .filter(|_| !source_points.is_zero())
                .map(|subtotal| (subtotal, source_points)),
        )
    }

    fn of(&self, points: Decimal) -> Option<Exact> {
        let (subtotal, source_points) = self.0.as_ref()?;
        subtotal.mul(&Exact::from(points)).div(&Exact::from(*source_points))
    }
}

fn derived_children(nodes: &[Node], share: &Share, source: &str) -> Vec<NodeResult> {
    nodes
        .iter()
        .map(|node| match node {
            Node::Section(section) => NodeResult::Section(SectionScore {
                code: section.code.clone(),
                title: section.title.clone(),
                points: section.full_marks().normalize(),
                exact: share.of(section.full_marks()).as_ref().and_then(non_terminating),
                subtotal: share.of(section.full_marks()),
                derived: None,
                children: derived_children(&section.children, share, source),
            }),
            Node::Item(item) => {
                let max = item.max.unwrap_or(Decimal::ZERO);
                let score = share.of(max);
                NodeResult::Item(ItemScore {
                    code: item.code.clone(),
                    title: item.title.clone(),
                    method: item.method.kind(),
                    max: item.max.map(|max| max.normalize()),
                    exact: score.as_ref().and_then(non_terminating),
                    score: score.clone(),
                    status: ItemStatus::Derived,
                    explanation: Explanation {
                        calculation: match (&share.0, &score) {
                            (Some((subtotal, points)), Some(score)) => format!(
                                "derived from section {source}: {} ÷ {} × {} = {}",
                                show_exact(subtotal),
                                show(*points),
                                show(max),
                                show_exact(score)
                            ),
                            _ => format!("derived from section {source}, which has no score"),
                        },
                        contributions: Vec::new(),
                    },
                })
            }
        })
        .collect()
}
