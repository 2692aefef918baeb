//! Rankings (排名, §8.3): competition ranks by published score, prizes among eligible subjects,
//! and the group-dependent dismissal rule (§8.4). Works on any list of subjects and scores, so
//! the same code ranks annual results, half-year results and monthly standings.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::scoring::consequences::{
    codes, dismissal, refer_to_supervisor, score_consequences, Consequence, ConsequenceDetail,
};
use crate::scoring::scheme::{ConsequenceRules, PrizeBand};

/// A subject to rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RankingCandidate {
    /// The subject.
    pub subject_id: Uuid,
    /// Its name (breaks display order between equal scores).
    #[serde(default)]
    pub name: String,
    /// Its published score; absent = listed unranked at the end.
    pub published_score: Option<Decimal>,
    /// Vetoed subjects keep their rank but take no prize.
    #[serde(default)]
    pub vetoed: bool,
    /// For the dismissal rule.
    #[serde(default = "yes")]
    pub annual_target_met: bool,
    /// A vertically managed department (属上级垂管): its interview and dismissal are referred
    /// to its supervising authority.
    #[serde(default)]
    pub vertically_managed: bool,
}

fn yes() -> bool {
    true
}

/// What a ranking awards besides ranks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RankingRules {
    /// Prize bands (empty = no prizes).
    #[serde(default)]
    pub prizes: Vec<PrizeBand>,
    /// Consequences; the candidates are the dismissal group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consequences: Option<ConsequenceRules>,
}

/// One subject's place in a ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RankingEntry {
    /// The subject.
    pub subject_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its published score.
    #[schema(example = "87.04")]
    pub published_score: Option<Decimal>,
    /// Competition rank by published score, descending (1, 2, 2, 4); absent when unscored.
    #[schema(example = 2)]
    pub rank: Option<u32>,
    /// Rank among prize-eligible (scored, non-vetoed) subjects, which decides the prize.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prize_rank: Option<u32>,
    /// The prize won, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prize: Option<Prize>,
    /// Whether the subject is vetoed (no prize, rank kept).
    pub vetoed: bool,
    /// Consequence codes, once each, in code order (annual rankings: every consequence of the
    /// subject's annual result).
    #[serde(default)]
    pub consequences: Vec<Consequence>,
    /// Each consequence with its cause, in code order.
    #[serde(default)]
    pub consequence_details: Vec<ConsequenceDetail>,
}

/// A prize won.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Prize {
    /// The band's key.
    #[schema(example = "first")]
    pub key: String,
    /// Its Chinese name.
    #[schema(example = "一等奖")]
    pub title: String,
}

/// Ranks candidates: by published score descending with shared competition ranks (1, 2, 2, 4);
/// unscored subjects last, unranked. Prizes go to eligible (scored, non-vetoed) subjects by
/// their competition rank among themselves, so a tie straddling a band boundary gets the better
/// prize. With consequence rules the candidates form the dismissal group.
pub fn rank(candidates: &[RankingCandidate], rules: &RankingRules) -> Vec<RankingEntry> {
    let mut order: Vec<&RankingCandidate> = candidates.iter().collect();
    order.sort_by(|a, b| {
        // Scored before unscored, higher scores first; then name and id for a stable display.
        let score = |candidate: &RankingCandidate| candidate.published_score.map(std::cmp::Reverse);
        match (a.published_score, b.published_score) {
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            _ => score(a).cmp(&score(b)),
        }
        .then_with(|| a.name.cmp(&b.name))
        .then_with(|| a.subject_id.cmp(&b.subject_id))
    });

    let ranks = competition_ranks(order.iter().map(|candidate| candidate.published_score));
    let prize_ranks = competition_ranks(
        order
            .iter()
            .map(|candidate| candidate.published_score.filter(|_| !candidate.vetoed)),
    );
    let dismissal_line = rules
        .consequences
        .as_ref()
        .and_then(|consequences| consequences.dismissal.as_ref())
        .and_then(|dismissal| nth_lowest(candidates, dismissal.last_n));

    order
        .iter()
        .zip(ranks)
        .zip(prize_ranks)
        .map(|((candidate, rank), prize_rank)| {
            let prize = prize_rank.and_then(|prize_rank| {
                rules
                    .prizes
                    .iter()
                    .find(|band| (band.from_rank..=band.to_rank).contains(&prize_rank))
                    .map(|band| Prize {
                        key: band.key.clone(),
                        title: band.title.clone(),
                    })
            });
            let mut details = Vec::new();
            if let Some(rules) = &rules.consequences {
                details = score_consequences(rules, candidate.published_score);
                let dismissed = rules.dismissal.as_ref().and_then(|rule| {
                    let score = candidate.published_score?;
                    let line = dismissal_line?;
                    (score < rule.below
                        && (!rule.requires_target_missed || !candidate.annual_target_met)
                        && score <= line)
                        .then(|| dismissal(score, rule.below, rule.last_n, line, candidate.annual_target_met))
                });
                details.extend(dismissed);
                refer_to_supervisor(&mut details, candidate.vertically_managed);
            }
            let consequences = codes(&mut details);
            RankingEntry {
                subject_id: candidate.subject_id,
                name: candidate.name.clone(),
                published_score: candidate.published_score,
                rank,
                prize_rank,
                prize,
                vetoed: candidate.vetoed,
                consequences,
                consequence_details: details,
            }
        })
        .collect()
}

/// Competition ranks of scores already sorted descending (absent scores get no rank and do not
/// take a place).
fn competition_ranks(scores: impl Iterator<Item = Option<Decimal>>) -> Vec<Option<u32>> {
    let mut ranks = Vec::new();
    let mut placed = 0u32;
    let mut previous: Option<(Decimal, u32)> = None;
    for score in scores {
        let Some(score) = score else {
            ranks.push(None);
            continue;
        };
        placed = placed.saturating_add(1);
        let rank = match previous {
            Some((previous_score, previous_rank)) if previous_score == score => previous_rank,
            _ => placed,
        };
        previous = Some((score, rank));
        ranks.push(Some(rank));
    }
    ranks
}

/// The n-th lowest published score of the group (counting ties separately), or the highest when
/// the group has fewer than n scored subjects: "among the last n" means at or below it.
fn nth_lowest(candidates: &[RankingCandidate], n: u32) -> Option<Decimal> {
    if n == 0 {
        return None;
    }
    let mut scores: Vec<Decimal> = candidates
        .iter()
        .filter_map(|candidate| candidate.published_score)
        .collect();
    scores.sort_unstable();
    let index = usize::try_from(n - 1).unwrap_or(usize::MAX);
    scores.get(index).or(scores.last()).copied()
}
