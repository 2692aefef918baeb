//! The rubric model: subject types, rubrics as trees of sections and items, and the scoring method
//! of every item (DOMAIN.md §5).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::named::named_enum;

named_enum! {
    /// What kind of subject (考核对象) gets a score.
    #[derive(PartialOrd, Ord)]
    pub enum SubjectType {
        /// 乡镇: a township.
        Township,
        /// 县级部门: a county department.
        Department,
        /// 村/社区: a village.
        Village,
        /// 第一书记: a first secretary stationed in a village.
        FirstSecretary,
        /// 驻村工作队: a village work team.
        WorkTeam,
        /// 农业科技人员: an agricultural technician stationed in a village.
        AgriTech,
    }
}

impl SubjectType {
    /// Every subject type, in a stable order.
    pub const ALL: [SubjectType; 6] = [
        SubjectType::Township,
        SubjectType::Department,
        SubjectType::Village,
        SubjectType::FirstSecretary,
        SubjectType::WorkTeam,
        SubjectType::AgriTech,
    ];

    /// The snake_case name used in JSON and in validation paths.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectType::Township => "township",
            SubjectType::Department => "department",
            SubjectType::Village => "village",
            SubjectType::FirstSecretary => "first_secretary",
            SubjectType::WorkTeam => "work_team",
            SubjectType::AgriTech => "agri_tech",
        }
    }

    /// Individuals and teams: subjects of their own, linked to a department and a village.
    pub fn is_individual(self) -> bool {
        matches!(
            self,
            SubjectType::FirstSecretary | SubjectType::WorkTeam | SubjectType::AgriTech
        )
    }
}

/// A rubric (考核细则/考核表): a tree of sections and items for one subject type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rubric {
    /// The rubric's Chinese title.
    #[schema(example = "xx县脱贫攻坚工作考核表（县级部门）")]
    pub title: String,
    /// The subject type this rubric scores.
    pub subject_type: SubjectType,
    /// The top-level sections and items, in the document's order.
    pub nodes: Vec<Node>,
}

impl Rubric {
    /// Full marks (满分): the sum of the items' `max`. Add-on items (bonus, stepped amount,
    /// adjustment) have no `max` and are not part of it, so Seed A reads 80 and Seed B 100.
    pub fn full_marks(&self) -> Decimal {
        sum_full_marks(&self.nodes)
    }

    /// Every item, depth first in document order.
    pub fn items(&self) -> Vec<&Item> {
        let mut items = Vec::new();
        collect_items(&self.nodes, &mut items);
        items
    }

    /// The item with this code, if any.
    pub fn find_item(&self, code: &str) -> Option<&Item> {
        self.items().into_iter().find(|item| item.code == code)
    }

    /// The section with this code, if any.
    pub fn find_section(&self, code: &str) -> Option<&Section> {
        find_section_in(&self.nodes, code)
    }
}

pub(crate) fn sum_full_marks(nodes: &[Node]) -> Decimal {
    nodes
        .iter()
        .fold(Decimal::ZERO, |sum, node| sum.saturating_add(node.full_marks()))
}

fn collect_items<'a>(nodes: &'a [Node], into: &mut Vec<&'a Item>) {
    for node in nodes {
        match node {
            Node::Section(section) => collect_items(&section.children, into),
            Node::Item(item) => into.push(item),
        }
    }
}

fn find_section_in<'a>(nodes: &'a [Node], code: &str) -> Option<&'a Section> {
    nodes.iter().find_map(|node| match node {
        Node::Section(section) if section.code == code => Some(section),
        Node::Section(section) => find_section_in(&section.children, code),
        Node::Item(_) => None,
    })
}

/// One node of a rubric: a section (with children) or a scored item (a leaf).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Node {
    /// A section: a heading whose points are the sum of its children's.
    Section(Section),
    /// An item: a scored leaf with one scoring method.
    Item(Item),
}

impl Node {
    /// The document's numbering of this node, e.g. `2` or `2.1`.
    pub fn code(&self) -> &str {
        match self {
            Node::Section(section) => &section.code,
            Node::Item(item) => &item.code,
        }
    }

    /// This node's share of the rubric's full marks.
    pub fn full_marks(&self) -> Decimal {
        match self {
            Node::Section(section) => section.full_marks(),
            Node::Item(item) => item.max.unwrap_or(Decimal::ZERO),
        }
    }
}

/// A section of a rubric, e.g. "1 系统数据维护（35分）".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Section {
    /// The document's numbering, unique within the rubric.
    #[schema(example = "1")]
    pub code: String,
    /// The Chinese title.
    #[schema(example = "系统数据维护")]
    pub title: String,
    /// The section's points as the document states them; when given, must equal the sum of its
    /// children's `max`. Absent for sections made only of add-on items (Seed A "4 加分内容").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "35")]
    #[serde(deserialize_with = "crate::decimal::strict_option")]
    pub points: Option<Decimal>,
    /// Code of another section this one is computed from when the subject has no special
    /// indicators (§5.6: `this = that section's score ÷ its points × this section's points`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "1")]
    pub derived_from: Option<String>,
    /// Sub-sections and items, in the document's order.
    #[schema(no_recursion)]
    pub children: Vec<Node>,
}

impl Section {
    /// The section's share of full marks: the sum of its children's.
    pub fn full_marks(&self) -> Decimal {
        sum_full_marks(&self.children)
    }
}

/// A scored item, e.g. "1.1 到户基本信息(含易地后扶)维护（20分）".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Item {
    /// The document's numbering, unique within the rubric; findings and scoresheets name it.
    #[schema(example = "1.1")]
    pub code: String,
    /// The Chinese title.
    #[schema(example = "到户基本信息(含易地后扶)维护")]
    pub title: String,
    /// The item's points (满分), part of the rubric's full marks. Required for `assessed`,
    /// `deduction` and `rate_band`; absent for add-on items (`bonus`, `stepped_amount`,
    /// `adjustment`), which score on top of full marks and carry their bounds in the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "20")]
    #[serde(deserialize_with = "crate::decimal::strict_option")]
    pub max: Option<Decimal>,
    /// How the item turns scoresheets or findings into points.
    pub method: Method,
}

/// How an item is scored (§5.1–§5.7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Method {
    /// Scored by assessors on scoresheets in a half-year or year-end evaluation (§5.1).
    Assessed,
    /// Starts at `max`; each finding deducts per unit (§5.2).
    Deduction(DeductionMethod),
    /// A measured rate per period, e.g. quarterly phone sampling accuracy (§5.3).
    RateBand(RateBand),
    /// Points per finding, optionally not stacking for the same achievement (§5.4).
    Bonus(BonusMethod),
    /// Points from the sum of amount findings, e.g. social funds raised (§5.5).
    SteppedAmount(SteppedAmount),
    /// The ±cap reward/penalty section (奖惩得分): findings carry their own points (§5.7).
    Adjustment(AdjustmentMethod),
}

impl Method {
    /// The method's name, as in the `type` tag.
    pub fn kind(&self) -> MethodKind {
        match self {
            Method::Assessed => MethodKind::Assessed,
            Method::Deduction(_) => MethodKind::Deduction,
            Method::RateBand(_) => MethodKind::RateBand,
            Method::Bonus(_) => MethodKind::Bonus,
            Method::SteppedAmount(_) => MethodKind::SteppedAmount,
            Method::Adjustment(_) => MethodKind::Adjustment,
        }
    }
}

/// The name of a scoring method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MethodKind {
    /// Scored by assessors.
    Assessed,
    /// Deducted from the maximum per finding.
    Deduction,
    /// A measured rate per period.
    RateBand,
    /// Points per finding.
    Bonus,
    /// Points from an amount.
    SteppedAmount,
    /// Reward/penalty points with caps.
    Adjustment,
}

impl MethodKind {
    /// Add-on methods score on top of full marks and take no `max`.
    pub fn is_add_on(self) -> bool {
        matches!(
            self,
            MethodKind::Bonus | MethodKind::SteppedAmount | MethodKind::Adjustment
        )
    }
}

/// Parameters of a deduction item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeductionMethod {
    /// The deduction rules (扣分标准); each finding names one.
    pub rules: Vec<DeductionRule>,
}

/// One deduction rule, e.g. "一级规则每条扣0.5分".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeductionRule {
    /// Unique within the item; findings name it.
    #[schema(example = "L1")]
    pub code: String,
    /// The rule as the document words it.
    #[schema(example = "一级规则每条扣0.5分")]
    pub label: String,
    /// Points deducted per unit of a finding's quantity; positive.
    #[schema(example = "0.5")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub points_per_unit: Decimal,
    /// 上不封顶: this rule's deductions do not stop at the item's points and can push the item
    /// below zero. Otherwise deductions stop at the item's points (扣完为止).
    #[serde(default)]
    pub uncapped: bool,
}

/// Parameters of a rate-band item (§5.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RateBand {
    /// The measurement period.
    #[serde(default)]
    pub period: RatePeriod,
    /// Points at stake per period; the item's `max` must be this times the number of periods.
    #[schema(example = "2.5")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub points_per_period: Decimal,
    /// Rate (percent, 0–100) at or above which a period deducts nothing.
    #[schema(example = "90")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub full_credit_at: Decimal,
    /// Points deducted per percentage point below `full_credit_at`, up to the period's points.
    #[schema(example = "0.1")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub points_per_percent: Decimal,
}

/// The period a rate is measured over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RatePeriod {
    /// Calendar quarters Q1–Q4.
    #[default]
    Quarter,
}

impl RatePeriod {
    /// How many periods a year has.
    pub fn periods_per_year(self) -> u32 {
        match self {
            RatePeriod::Quarter => 4,
        }
    }
}

/// Parameters of a bonus item (§5.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BonusMethod {
    /// The bonus rules (加分标准); each finding names one.
    pub rules: Vec<BonusRule>,
    /// Whether findings for the same achievement stack (不重复计算).
    #[serde(default)]
    pub non_stacking: NonStacking,
    /// Most points the item can add; absent = no cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "crate::decimal::strict_option")]
    pub cap: Option<Decimal>,
}

/// One bonus rule, e.g. "市级加5分".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BonusRule {
    /// Unique within the item; findings name it.
    #[schema(example = "city")]
    pub code: String,
    /// The rule as the document words it.
    #[schema(example = "市级加5分")]
    pub label: String,
    /// Points added per unit of a finding's quantity; positive.
    #[schema(example = "5")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub points_per_unit: Decimal,
}

/// How bonus findings for the same achievement combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NonStacking {
    /// Every finding adds.
    #[default]
    None,
    /// Among findings with the same `event_key` on the item only the highest counts; distinct
    /// achievements add up (e.g. the same commendation at county and city level counts once).
    PerEvent,
}

/// A stepped amount formula (§5.5):
/// `points = 0 if amount < threshold else min(cap, base + floor((amount − threshold) / step))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SteppedAmount {
    /// The amount that earns `base` points.
    #[schema(example = "200000")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub threshold: Decimal,
    /// Points at the threshold.
    #[schema(example = "1")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub base: Decimal,
    /// Each further full step adds one point; positive.
    #[schema(example = "100000")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub step: Decimal,
    /// Most points.
    #[schema(example = "5")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub cap: Decimal,
}

impl SteppedAmount {
    /// Points for a total amount.
    pub fn points(&self, amount: Decimal) -> Decimal {
        if amount < self.threshold {
            return Decimal::ZERO;
        }
        let steps = amount
            .saturating_sub(self.threshold)
            .checked_div(self.step)
            .map(|steps| steps.floor())
            .unwrap_or(Decimal::ZERO);
        self.base.saturating_add(steps).min(self.cap)
    }
}

/// Parameters of an adjustment item (奖惩得分, §5.7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AdjustmentMethod {
    /// Bonuses together add at most this many points.
    #[schema(example = "10")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub bonus_cap: Decimal,
    /// Penalties together take at most this many points.
    #[schema(example = "10")]
    #[serde(deserialize_with = "crate::decimal::strict")]
    pub penalty_cap: Decimal,
    /// Optional rules; an adjustment finding without a rule code is unbounded except by the caps.
    #[serde(default)]
    pub rules: Vec<AdjustmentRule>,
}

/// One adjustment rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AdjustmentRule {
    /// Unique within the item; findings name it.
    #[schema(example = "social_funds")]
    pub code: String,
    /// The rule as the document words it.
    #[schema(example = "募集社会扶贫资金达到20万元加1分，每增加10万元递加1分，最高加5分")]
    pub label: String,
    /// How findings under this rule turn into points.
    pub kind: AdjustmentRuleKind,
}

/// The sign an adjustment rule's findings must have: 加分 or 扣分.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentDirection {
    /// Positive points (加分).
    Bonus,
    /// Negative points (扣分).
    Penalty,
}

/// How findings under an adjustment rule turn into points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AdjustmentRuleKind {
    /// Findings carry their own signed points.
    Manual {
        /// Bound on one finding's points (either sign); absent = unbounded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[serde(deserialize_with = "crate::decimal::strict_option")]
        max_points: Option<Decimal>,
        /// Whether the rule's findings reward (positive points) or penalise (negative points);
        /// absent = either sign.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        direction: Option<AdjustmentDirection>,
    },
    /// Amount findings are summed and scored by a stepped formula; counts towards the bonus cap.
    SteppedAmount(SteppedAmount),
}
