//! Consequences (结果运用, DOMAIN.md §8.4–8.5): what follows from a result besides its grade and
//! prize, each with the cause a front end shows. The score rules (interview; dismissal, which
//! needs the ranking group and lives with rankings) and the rules for individuals and their
//! units (recall, reserve cadres, a work team's major failure, dereliction, vertically managed
//! departments) are pure functions of one subject's result, attributes and findings.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::scoring::inputs::{Finding, FindingDetail, SubjectInfo, Window};
use crate::scoring::model::SubjectType;
use crate::scoring::scheme::ConsequenceRules;

/// A consequence code (结果运用). Codes are stable and language-neutral; `title` gives the
/// Chinese:
/// - `interview`: 约谈主要领导，诫勉分管领导 (township or department under 75);
/// - `dismissal`: 主要领导、分管领导予以免职 (under 75, target missed, among its group's last 3);
/// - `accountability`: 启动问责程序 / 依纪依法从严追究责任 (recalled first secretary or technician;
///   dereliction 失职渎职);
/// - `reserve_status_revoked`: 取消相应资格 (recalled reserve cadre 后备干部);
/// - `head_barred_from_honours`: 取消所在单位主要负责人当年评先评优资格 (the unit that sent a
///   recalled individual);
/// - `leader_removed`: 撤除工作队队长原单位职务 (work team's major failure 重大失误);
/// - `members_penalised`: 对队员进行相应处罚 (work team's major failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Consequence {
    /// 约谈主要领导，诫勉分管领导: a township's or department's published score below the
    /// interview threshold (§8.4).
    Interview,
    /// 主要领导、分管领导予以免职: below the threshold, annual target missed, among the group's
    /// last 3 (§8.4).
    Dismissal,
    /// 启动问责程序 / 依纪依法从严追究责任: a recalled first secretary or technician, or a
    /// dereliction finding (§8.5).
    Accountability,
    /// 取消相应资格: a recalled reserve cadre loses that status (§8.5).
    ReserveStatusRevoked,
    /// 取消所在单位主要负责人当年评先评优资格: on the unit that sent a recalled individual; bars the
    /// head personally, the unit keeps its prize (§8.5).
    HeadBarredFromHonours,
    /// 撤除工作队队长原单位职务: a work team's major failure (§8.5).
    LeaderRemoved,
    /// 对队员进行相应处罚: a work team's major failure (§8.5).
    MembersPenalised,
}

impl Consequence {
    /// Every code, in code order.
    pub const ALL: [Consequence; 7] = [
        Consequence::Interview,
        Consequence::Dismissal,
        Consequence::Accountability,
        Consequence::ReserveStatusRevoked,
        Consequence::HeadBarredFromHonours,
        Consequence::LeaderRemoved,
        Consequence::MembersPenalised,
    ];

    /// The code as the API writes it.
    pub fn code(self) -> &'static str {
        match self {
            Consequence::Interview => "interview",
            Consequence::Dismissal => "dismissal",
            Consequence::Accountability => "accountability",
            Consequence::ReserveStatusRevoked => "reserve_status_revoked",
            Consequence::HeadBarredFromHonours => "head_barred_from_honours",
            Consequence::LeaderRemoved => "leader_removed",
            Consequence::MembersPenalised => "members_penalised",
        }
    }

    /// The seeds' words for it.
    pub fn title(self) -> &'static str {
        match self {
            Consequence::Interview => "约谈主要领导，诫勉分管领导",
            Consequence::Dismissal => "主要领导、分管领导予以免职",
            Consequence::Accountability => "启动问责程序",
            Consequence::ReserveStatusRevoked => "取消相应资格",
            Consequence::HeadBarredFromHonours => "取消所在单位主要负责人当年评先评优资格",
            Consequence::LeaderRemoved => "撤除工作队队长原单位职务",
            Consequence::MembersPenalised => "对队员进行相应处罚",
        }
    }
}

/// One consequence with its cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "code": "interview", "title": "约谈主要领导，诫勉分管领导", "referred_to_supervisor": true,
    "cause": {"type": "score", "published_score": "72.50", "below": "75"}
}))]
pub struct ConsequenceDetail {
    /// The code.
    pub code: Consequence,
    /// Its Chinese wording.
    pub title: String,
    /// A vertically managed department (属上级垂管的单位): the county recommends the
    /// consequence to the supervising authority (向其主管部门建议给予相应处理) instead of acting.
    pub referred_to_supervisor: bool,
    /// Why.
    pub cause: ConsequenceCause,
}

impl ConsequenceDetail {
    /// The cause in a clerk's words, e.g. `公布得分 72.50 低于 75` or `召回、后备干部`.
    pub fn cause_text(&self) -> String {
        let attribute = |a: &CauseAttribute| match a {
            CauseAttribute::Recalled => "召回",
            CauseAttribute::ReserveCadre => "后备干部",
        };
        let mut text = match &self.cause {
            ConsequenceCause::Score { published_score, below } => format!("公布得分 {published_score} 低于 {below}"),
            ConsequenceCause::Ranking {
                published_score,
                below,
                last_n,
                line,
                annual_target_met,
            } => format!(
                "公布得分 {published_score} 低于 {below}{}，居分类后{last_n}名（≤ {line}）",
                if *annual_target_met {
                    ""
                } else {
                    "、未完成年度目标任务"
                }
            ),
            ConsequenceCause::Attribute { attributes } => {
                attributes.iter().map(attribute).collect::<Vec<_>>().join("、")
            }
            ConsequenceCause::Finding {
                finding_id,
                kind,
                occurred_on,
                reason,
            } => format!(
                "{} {occurred_on} {reason}（{finding_id}）",
                match kind {
                    CauseFindingKind::MajorFailure => "重大失误",
                    CauseFindingKind::Dereliction => "失职渎职",
                }
            ),
            ConsequenceCause::LinkedSubject {
                subject_id,
                name,
                attribute: cause,
                ..
            } => format!("派出的{name}{}（{subject_id}）", attribute(cause)),
        };
        if self.referred_to_supervisor {
            text.push_str("；属上级垂管，建议主管部门处理");
        }
        text
    }

    fn new(code: Consequence, cause: ConsequenceCause) -> Self {
        ConsequenceDetail {
            code,
            title: code.title().to_owned(),
            referred_to_supervisor: false,
            cause,
        }
    }
}

/// What caused a consequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConsequenceCause {
    /// The published score is below the threshold (`interview`).
    Score {
        /// The published annual score.
        #[schema(example = "72.50")]
        published_score: Decimal,
        /// The threshold (exclusive).
        #[schema(example = "75")]
        below: Decimal,
    },
    /// Below the threshold, the annual target missed (when the rule needs it), and at or below
    /// the ranking group's `last_n`-th lowest published score (`dismissal`).
    Ranking {
        /// The published annual score.
        #[schema(example = "70.10")]
        published_score: Decimal,
        /// The threshold (exclusive).
        #[schema(example = "75")]
        below: Decimal,
        /// How many of the group's lowest scores are "the last".
        #[schema(example = 3)]
        last_n: u32,
        /// The group's `last_n`-th lowest published score.
        #[schema(example = "71.00")]
        line: Decimal,
        /// 完成年度减贫目标任务.
        annual_target_met: bool,
    },
    /// The subject's own attributes for the scheme (召回; 后备干部).
    Attribute {
        /// The attributes that together cause it.
        attributes: Vec<CauseAttribute>,
    },
    /// A finding against the subject; revoking it removes the consequence.
    Finding {
        /// The finding.
        finding_id: Uuid,
        /// Its kind.
        kind: CauseFindingKind,
        /// When it happened.
        occurred_on: NaiveDate,
        /// Its reason.
        reason: String,
    },
    /// A subject linked to this one: the individual this unit sent (派出), recalled.
    LinkedSubject {
        /// The linked subject.
        subject_id: Uuid,
        /// Its name.
        name: String,
        /// Its type.
        subject_type: SubjectType,
        /// The attribute of the linked subject that causes it.
        attribute: CauseAttribute,
    },
}

/// An attribute that causes a consequence: `recalled` (召回), `reserve_cadre` (后备干部).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CauseAttribute {
    /// 召回.
    Recalled,
    /// 优秀年轻干部人才递进培养计划学员、后备干部.
    ReserveCadre,
}

/// The finding kinds that cause consequences: `major_failure` (重大失误, work teams),
/// `dereliction` (失职渎职).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CauseFindingKind {
    /// 驻村帮扶工作出现重大失误，反响恶劣.
    MajorFailure,
    /// 失职渎职，严重影响工作进度与质效.
    Dereliction,
}

/// The consequences a published score brings on its own (the interview); dismissal also needs
/// the ranking group (see `ranking::rank`).
pub fn own_consequences(rules: &ConsequenceRules, published_score: Option<Decimal>) -> Vec<Consequence> {
    score_consequences(rules, published_score)
        .into_iter()
        .map(|detail| detail.code)
        .collect()
}

/// `interview`, with its cause, when the published score is below the threshold.
pub fn score_consequences(rules: &ConsequenceRules, published_score: Option<Decimal>) -> Vec<ConsequenceDetail> {
    match published_score {
        Some(score) if score < rules.interview_below => vec![ConsequenceDetail::new(
            Consequence::Interview,
            ConsequenceCause::Score {
                published_score: score,
                below: rules.interview_below,
            },
        )],
        _ => Vec::new(),
    }
}

/// `dismissal`, with its cause.
pub(crate) fn dismissal(
    published_score: Decimal,
    below: Decimal,
    last_n: u32,
    line: Decimal,
    annual_target_met: bool,
) -> ConsequenceDetail {
    ConsequenceDetail::new(
        Consequence::Dismissal,
        ConsequenceCause::Ranking {
            published_score,
            below,
            last_n,
            line,
            annual_target_met,
        },
    )
}

/// The individual rules of §8.5 for one subject: its recall (first secretaries and
/// technicians: `accountability`, and `reserve_status_revoked` for a reserve cadre), the major
/// failures of a work team (`leader_removed`, `members_penalised`), its derelictions
/// (`accountability`), and the recalled individuals it sent (`head_barred_from_honours`).
/// `findings` are the subject's active findings; only those inside `window` count.
pub fn individual_consequences<'a>(
    subject: &SubjectInfo,
    findings: impl IntoIterator<Item = &'a Finding>,
    window: Window,
    sent: impl IntoIterator<Item = &'a SubjectInfo>,
) -> Vec<ConsequenceDetail> {
    let mut out = Vec::new();
    if is_recallable(subject.subject_type) && subject.attributes.recalled {
        out.push(ConsequenceDetail::new(
            Consequence::Accountability,
            ConsequenceCause::Attribute {
                attributes: vec![CauseAttribute::Recalled],
            },
        ));
        if subject.attributes.reserve_cadre {
            out.push(ConsequenceDetail::new(
                Consequence::ReserveStatusRevoked,
                ConsequenceCause::Attribute {
                    attributes: vec![CauseAttribute::Recalled, CauseAttribute::ReserveCadre],
                },
            ));
        }
    }
    for finding in findings {
        if !window.contains(finding.occurred_on) {
            continue;
        }
        let cause = |kind: CauseFindingKind, reason: &str| ConsequenceCause::Finding {
            finding_id: finding.id,
            kind,
            occurred_on: finding.occurred_on,
            reason: reason.to_owned(),
        };
        match &finding.detail {
            FindingDetail::MajorFailure { reason } if subject.subject_type == SubjectType::WorkTeam => {
                for code in [Consequence::LeaderRemoved, Consequence::MembersPenalised] {
                    out.push(ConsequenceDetail::new(
                        code,
                        cause(CauseFindingKind::MajorFailure, reason),
                    ));
                }
            }
            FindingDetail::Dereliction { reason } => out.push(ConsequenceDetail::new(
                Consequence::Accountability,
                cause(CauseFindingKind::Dereliction, reason),
            )),
            _ => {}
        }
    }
    for individual in sent {
        if is_recallable(individual.subject_type) && individual.attributes.recalled {
            out.push(ConsequenceDetail::new(
                Consequence::HeadBarredFromHonours,
                ConsequenceCause::LinkedSubject {
                    subject_id: individual.id,
                    name: individual.name.clone(),
                    subject_type: individual.subject_type,
                    attribute: CauseAttribute::Recalled,
                },
            ));
        }
    }
    out
}

/// Seed B recalls first secretaries and agricultural technicians (对履职不力的"第一书记"、农业科技
/// 人员及时召回).
fn is_recallable(subject_type: SubjectType) -> bool {
    matches!(subject_type, SubjectType::FirstSecretary | SubjectType::AgriTech)
}

/// Marks a vertically managed department's `interview` and `dismissal` as referred to its
/// supervising authority.
pub fn refer_to_supervisor(details: &mut [ConsequenceDetail], vertically_managed: bool) {
    if !vertically_managed {
        return;
    }
    for detail in details {
        if matches!(detail.code, Consequence::Interview | Consequence::Dismissal) {
            detail.referred_to_supervisor = true;
        }
    }
}

/// Sorts details into code order (then by cause, for a stable answer) and lists their codes
/// once each.
pub fn codes(details: &mut [ConsequenceDetail]) -> Vec<Consequence> {
    details.sort_by_key(|detail| detail.code);
    let mut codes: Vec<Consequence> = details.iter().map(|detail| detail.code).collect();
    codes.dedup();
    codes
}
