//! What the engine scores: subjects, findings, scoresheets, ballots and evaluations of one
//! scheme-year, and the time rules that select them (windows by `occurred_on`, `as_of` by what
//! was recorded, DOMAIN.md §4).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::exact::Exact;
use crate::named::named_enum;
use crate::scoring::model::SubjectType;

/// A subject (考核对象) with the links and attributes the rules need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubjectInfo {
    /// The subject's id.
    pub id: Uuid,
    /// What kind of subject it is.
    pub subject_type: SubjectType,
    /// Display name, e.g. "童市村" or a person's name.
    pub name: String,
    /// The township it belongs to: a village's town; an individual's town (of the village it
    /// is stationed in); a township itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub township_id: Option<Uuid>,
    /// 派出单位: the department that sent this first secretary or work team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatched_by: Option<Uuid>,
    /// 派驻村: the village subject where this individual serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stationed_in: Option<Uuid>,
    /// Per-scheme attributes.
    #[serde(default)]
    pub attributes: SubjectAttributes,
}

/// Per-scheme attributes of a subject (§3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SubjectAttributes {
    /// 有专项指标: false means the department's derived sections are computed from the section
    /// they derive from (§5.6).
    pub has_special_indicators: bool,
    /// 分类: the category a department is ranked in for the dismissal rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranking_group: Option<String>,
    /// 完成年度减贫目标任务 (townships and departments).
    pub annual_target_met: bool,
    /// 召回: a recalled individual is graded with the scheme's recalled grade (不称职); a
    /// recalled first secretary or technician brings `accountability` on itself and
    /// `head_barred_from_honours` on the unit that sent it (§8.5).
    pub recalled: bool,
    /// 优秀年轻干部人才递进培养计划学员、后备干部 (individuals): recalled, it also loses that status
    /// (`reserve_status_revoked`, §8.5).
    pub reserve_cadre: bool,
    /// 属上级垂管的单位 (departments): its `interview` and `dismissal` are referred to its
    /// supervising authority (`referred_to_supervisor`, §8.5).
    pub vertically_managed: bool,
}

impl Default for SubjectAttributes {
    fn default() -> Self {
        SubjectAttributes {
            has_special_indicators: true,
            ranking_group: None,
            annual_target_met: true,
            recalled: false,
            reserve_cadre: false,
            vertically_managed: false,
        }
    }
}

/// One recorded finding (督查发现) against a subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    /// The finding's id.
    pub id: Uuid,
    /// The subject it is against.
    pub subject_id: Uuid,
    /// The rubric item it scores; absent for a veto.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "1.1")]
    pub item_code: Option<String>,
    /// The item's rule it applies; absent for vetoes, rate measurements, standalone amounts and
    /// rule-less adjustments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "L1")]
    pub rule_code: Option<String>,
    /// When it happened: selects the evaluations whose window it falls in.
    pub occurred_on: NaiveDate,
    /// When it was recorded: a result as of an earlier instant leaves it out.
    pub recorded_at: DateTime<Utc>,
    /// When it was revoked, if it was: from then on it no longer counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// What was found.
    pub detail: FindingDetail,
}

impl Finding {
    /// Whether the finding counts for a result as of `as_of`: recorded by then and not revoked by
    /// then. `None` means "everything recorded so far", with every revocation applied.
    pub fn is_active(&self, as_of: Option<DateTime<Utc>>) -> bool {
        match as_of {
            None => self.revoked_at.is_none(),
            Some(as_of) => self.recorded_at <= as_of && self.revoked_at.is_none_or(|revoked| revoked > as_of),
        }
    }

    /// Deterministic processing order: by date, then recording time, then id, so results never
    /// depend on the order findings arrive in.
    pub(crate) fn order_key(&self) -> OrderKey {
        (self.occurred_on, self.recorded_at, self.id.as_u128())
    }
}

/// Processing order of findings: date, recording time, id.
pub(crate) type OrderKey = (NaiveDate, DateTime<Utc>, u128);

/// What a finding records; the item's method decides which kinds it accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FindingDetail {
    /// Against a `deduction` item: `quantity` units of the named rule (e.g. 7 level-1 errors).
    Deduction {
        /// Units found; default 1.
        #[serde(default = "one")]
        quantity: u32,
    },
    /// Against a `bonus` item: `quantity` units of the named rule.
    Bonus {
        /// Units; default 1.
        #[serde(default = "one")]
        quantity: u32,
        /// The achievement, for non-stacking items (e.g. "2023 县级脱贫攻坚先进集体").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        event_key: Option<String>,
    },
    /// Against a `rate_band` item: the rate measured for one period.
    Measurement {
        /// The quarter measured.
        period: Quarter,
        /// The measured rate.
        rate: MeasuredRate,
    },
    /// Against a `stepped_amount` item or an adjustment's stepped rule: an amount (e.g. yuan raised).
    Amount {
        /// The amount; the window's amounts are summed.
        #[schema(example = "250000")]
        amount: Decimal,
    },
    /// Against an `adjustment` item: signed points (positive = bonus, negative = penalty).
    Adjustment {
        /// Signed points.
        #[schema(example = "-2")]
        points: Decimal,
        /// Why.
        reason: String,
    },
    /// 一票否决: bars the subject from excellence and prizes.
    Veto {
        /// Why.
        reason: String,
    },
    /// 驻村帮扶工作出现重大失误，反响恶劣 (work teams): `leader_removed` and `members_penalised`
    /// (§8.5); moves no points.
    MajorFailure {
        /// Why.
        reason: String,
    },
    /// 失职渎职，严重影响工作进度与质效 (any subject): `accountability` (§8.5); moves no points.
    Dereliction {
        /// Why.
        reason: String,
    },
}

impl FindingDetail {
    /// The reason of a finding that names no item (veto, major failure, dereliction).
    pub fn reason(&self) -> Option<&str> {
        match self {
            FindingDetail::Veto { reason }
            | FindingDetail::MajorFailure { reason }
            | FindingDetail::Dereliction { reason } => Some(reason),
            FindingDetail::Adjustment { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

fn one() -> u32 {
    1
}

/// A measured rate: a percentage, or sample counts from which it is computed exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeasuredRate {
    /// A percentage, 0–100.
    Percent(Decimal),
    /// Sample counts: `rate = correct ÷ sampled × 100`.
    Counts {
        /// Records sampled; positive.
        sampled: u32,
        /// Records found correct; at most `sampled`.
        correct: u32,
    },
}

impl MeasuredRate {
    /// The rate in percent, exact (`2 of 3` is `200/3` %), or `None` when it is outside 0–100 or
    /// the counts are inconsistent.
    pub fn percent(&self) -> Option<Exact> {
        match *self {
            MeasuredRate::Percent(rate) => (Decimal::ZERO..=Decimal::ONE_HUNDRED)
                .contains(&rate)
                .then(|| Exact::from(rate)),
            MeasuredRate::Counts { sampled, correct } => {
                if sampled == 0 || correct > sampled {
                    return None;
                }
                Exact::ratio(i128::from(correct) * 100, i128::from(sampled))
            }
        }
    }
}

/// A calendar quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
pub enum Quarter {
    /// January–March.
    Q1,
    /// April–June.
    Q2,
    /// July–September.
    Q3,
    /// October–December.
    Q4,
}

impl Quarter {
    /// The four quarters in order.
    pub const ALL: [Quarter; 4] = [Quarter::Q1, Quarter::Q2, Quarter::Q3, Quarter::Q4];

    /// Zero-based index.
    pub fn index(self) -> usize {
        match self {
            Quarter::Q1 => 0,
            Quarter::Q2 => 1,
            Quarter::Q3 => 2,
            Quarter::Q4 => 3,
        }
    }

    /// The quarter's first day in `year`.
    pub fn start(self, year: i32) -> Option<NaiveDate> {
        let month = 1 + 3 * u32::try_from(self.index()).ok()?;
        NaiveDate::from_ymd_opt(year, month, 1)
    }
}

/// A named period of a year (§4), used as an evaluation window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Period {
    /// January.
    M01,
    /// February.
    M02,
    /// March.
    M03,
    /// April.
    M04,
    /// May.
    M05,
    /// June.
    M06,
    /// July.
    M07,
    /// August.
    M08,
    /// September.
    M09,
    /// October.
    M10,
    /// November.
    M11,
    /// December.
    M12,
    /// January–March.
    Q1,
    /// April–June.
    Q2,
    /// July–September.
    Q3,
    /// October–December.
    Q4,
    /// First half-year, 1 Jan–30 Jun.
    H1,
    /// The whole year.
    Y,
}

impl Period {
    /// The period's first and last month.
    fn months(self) -> (u32, u32) {
        use Period::*;
        match self {
            M01 => (1, 1),
            M02 => (2, 2),
            M03 => (3, 3),
            M04 => (4, 4),
            M05 => (5, 5),
            M06 => (6, 6),
            M07 => (7, 7),
            M08 => (8, 8),
            M09 => (9, 9),
            M10 => (10, 10),
            M11 => (11, 11),
            M12 => (12, 12),
            Q1 => (1, 3),
            Q2 => (4, 6),
            Q3 => (7, 9),
            Q4 => (10, 12),
            H1 => (1, 6),
            Y => (1, 12),
        }
    }

    /// The period as a window of `year`; `None` only for years outside the calendar's range.
    pub fn window(self, year: i32) -> Option<Window> {
        let (first, last) = self.months();
        Some(Window {
            from: NaiveDate::from_ymd_opt(year, first, 1)?,
            to: last_day_of_month(year, last)?,
        })
    }
}

/// The last day of a month.
pub fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let next_first = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month.checked_add(1)?, 1)?
    };
    next_first.pred_opt()
}

/// An inclusive range of calendar dates that selects findings by `occurred_on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct Window {
    /// First day, inclusive.
    #[schema(example = "2023-01-01")]
    pub from: NaiveDate,
    /// Last day, inclusive.
    #[schema(example = "2023-12-31")]
    pub to: NaiveDate,
}

impl Window {
    /// Whether a date falls inside the window.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }

    /// The year the window's periods (quarters) are reckoned in.
    pub fn year(&self) -> i32 {
        self.from.year()
    }
}

named_enum! {
    /// The kind of an evaluation (§7): `half_year` (半年考核), `year_end` (年终考评), `democratic`
    /// (民主测评), `monthly` (月度公开, computed), `quarterly` (季度考核, first secretaries).
    #[derive(PartialOrd, Ord)]
    pub enum EvaluationKind {
        /// 半年考核: rubric total over the first half-year.
        HalfYear,
        /// 年终考评: rubric total over the whole year.
        YearEnd,
        /// 民主测评: mean of participants' ballots.
        Democratic,
        /// 月度公开: the year-end computation over 1 Jan–month end; virtual, never stored.
        Monthly,
        /// 季度考核 (first secretaries, §8.6): rubric total over one quarter, scored like a
        /// half-year assessment; listed beside the annual result, not part of its formula.
        Quarterly,
    }
}

impl EvaluationKind {
    /// Half-year, year-end and quarterly evaluations score the rubric.
    pub fn scores_rubric(self) -> bool {
        matches!(
            self,
            EvaluationKind::HalfYear | EvaluationKind::YearEnd | EvaluationKind::Quarterly
        )
    }
}

/// One evaluation (考核/测评) of the scheme-year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationInfo {
    /// The evaluation's id; scoresheets and ballots name it.
    pub id: Uuid,
    /// What kind of evaluation it is.
    pub kind: EvaluationKind,
    /// The scheme's evaluation template it instantiates (decides which subject types it covers).
    #[schema(example = "year_end")]
    pub key: String,
    /// Display title.
    #[schema(example = "年终考评")]
    pub title: String,
    /// Findings whose `occurred_on` falls inside count towards it.
    pub window: Window,
}

/// One assessor's item scores for one subject in a half-year or year-end evaluation (评分表).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Scoresheet {
    /// The scoresheet's id.
    pub id: Uuid,
    /// The evaluation it belongs to.
    pub evaluation_id: Uuid,
    /// The subject scored.
    pub subject_id: Uuid,
    /// Who scored; an assessor's latest sheet replaces their earlier ones.
    pub assessor_id: Uuid,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Item code → score, `0 ≤ score ≤ max` (values outside are clamped).
    pub scores: BTreeMap<String, Decimal>,
}

/// One participant's score for one subject in a democratic evaluation (测评票).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Ballot {
    /// The ballot's id.
    pub id: Uuid,
    /// The democratic evaluation it belongs to.
    pub evaluation_id: Uuid,
    /// The subject scored.
    pub subject_id: Uuid,
    /// The score, 0–100 (values outside are clamped).
    #[schema(example = "93.5")]
    pub score: Decimal,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// Everything one scheme-year of a county holds: the engine's whole input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct YearData {
    /// The scheme's calendar year.
    #[schema(example = 2023)]
    pub year: i32,
    /// Every subject, including those only linked to (villages that individuals serve in).
    #[serde(default)]
    pub subjects: Vec<SubjectInfo>,
    /// The year's evaluations.
    #[serde(default)]
    pub evaluations: Vec<EvaluationInfo>,
    /// All findings, revoked ones included (as-of decides).
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// All scoresheets.
    #[serde(default)]
    pub scoresheets: Vec<Scoresheet>,
    /// All ballots.
    #[serde(default)]
    pub ballots: Vec<Ballot>,
}
