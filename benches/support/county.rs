//! The benchmarks' county-years, generated deterministically: Seed B's county (`county-poverty`)
//! and Seed A's town (`tongshi-2023-village`) at any number of findings. Shared by
//! `benches/scoring.rs` and `tests/engine_results.rs`, so the results pinned by the test are
//! those of the very data the benchmarks time.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use kaohe::schemes::built_in_by_key;
use kaohe::scoring::{
    Ballot, EvaluationInfo, EvaluationKind, Finding, FindingDetail, MeasuredRate, Method, Period, Quarter,
    SchemeDefinition, Scoresheet, SubjectAttributes, SubjectInfo, SubjectType, YearData,
};
use rust_decimal::Decimal;
use uuid::Uuid;

/// A small deterministic generator (xorshift), so every run scores the same county.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

struct Ids(u128);

impl Ids {
    fn next(&mut self) -> Uuid {
        self.0 += 1;
        Uuid::from_u128(self.0)
    }
}

pub fn scheme(key: &str) -> SchemeDefinition {
    match built_in_by_key(key) {
        Ok(Some(scheme)) => scheme,
        other => panic!("built-in scheme {key} does not load: {other:?}"),
    }
}

fn day_of(dice: &mut Dice, year: i32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    first
        .checked_add_days(Days::new(dice.below(365) as u64))
        .unwrap_or(first)
}

fn noon(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc()
}

fn subject(ids: &mut Ids, subject_type: SubjectType, name: String) -> SubjectInfo {
    SubjectInfo {
        id: ids.next(),
        subject_type,
        name,
        township_id: None,
        dispatched_by: None,
        stationed_in: None,
        attributes: SubjectAttributes::default(),
    }
}

fn evaluation(ids: &mut Ids, kind: EvaluationKind, key: &str, period: Period) -> EvaluationInfo {
    EvaluationInfo {
        id: ids.next(),
        kind,
        key: key.to_owned(),
        title: key.to_owned(),
        window: period.window(2023).unwrap_or_else(|| panic!("2023 has {period:?}")),
    }
}

/// Seed B: 20 townships, 60 departments, 480 villages, 480 each of first secretaries, work teams
/// and agricultural technicians (2 000 subjects); adjustment, amount and veto findings; three
/// assessors' scoresheets per subject in the half-year and year-end evaluations; 30 ballots per
/// individual in each of the two democratic evaluations.
pub fn county_poverty_year(findings: usize) -> YearData {
    let scheme = scheme("county-poverty");
    let mut dice = Dice(0x5eed_b0b0_cafe_f00d);
    let mut ids = Ids(0);
    let (subjects, individuals) = county_poverty_subjects(&mut dice, &mut ids);

    let half_year = evaluation(&mut ids, EvaluationKind::HalfYear, "half_year", Period::H1);
    let year_end = evaluation(&mut ids, EvaluationKind::YearEnd, "year_end", Period::Y);
    let democratic = [
        evaluation(&mut ids, EvaluationKind::Democratic, "democratic_half_year", Period::Y),
        evaluation(&mut ids, EvaluationKind::Democratic, "democratic_year_end", Period::Y),
    ];

    // Findings go to subjects whose rubric takes them: the adjustment items (work teams have
    // none) and, for departments, social funds.
    let targets: Vec<&SubjectInfo> = subjects
        .iter()
        .filter(|s| !matches!(s.subject_type, SubjectType::Village | SubjectType::WorkTeam))
        .collect();
    let adjustment_item = |subject_type: SubjectType| -> Option<String> {
        let rubric = &scheme.subject_types.get(&subject_type)?.rubric;
        rubric
            .items()
            .into_iter()
            .find(|item| matches!(item.method, Method::Adjustment(_)))
            .map(|item| item.code.clone())
    };
    let item_codes: BTreeMap<SubjectType, Option<String>> =
        SubjectType::ALL.iter().map(|&t| (t, adjustment_item(t))).collect();
    let mut all_findings = Vec::with_capacity(findings);
    for _ in 0..findings {
        let target = targets[dice.below(targets.len())];
        let occurred_on = day_of(&mut dice, 2023);
        let item_code = item_codes.get(&target.subject_type).cloned().flatten();
        let roll = dice.below(1000);
        let (rule_code, detail) = if roll == 0 {
            (
                None,
                FindingDetail::Veto {
                    reason: "一票否决".to_owned(),
                },
            )
        } else if target.subject_type == SubjectType::Department && roll < 300 {
            let amount = Decimal::from(dice.below(80_000) as u64);
            (Some("social_funds".to_owned()), FindingDetail::Amount { amount })
        } else {
            let points = Decimal::new(dice.below(61) as i64 - 30, 1);
            let rule = if points.is_sign_negative() { "penalty" } else { "bonus" };
            (
                Some(rule.to_owned()),
                FindingDetail::Adjustment {
                    points,
                    reason: "督查".to_owned(),
                },
            )
        };
        let recorded_at = noon(occurred_on);
        all_findings.push(Finding {
            id: ids.next(),
            subject_id: target.id,
            item_code,
            rule_code,
            occurred_on,
            recorded_at,
            revoked_at: dice.chance(5).then(|| recorded_at + chrono::Duration::days(3)),
            detail,
        });
    }

    let scoresheets = county_poverty_scoresheets(&scheme, &subjects, [&half_year, &year_end], &mut dice, &mut ids);

    let mut ballots = Vec::new();
    for person in &individuals {
        for evaluation in &democratic {
            for _ in 0..30 {
                ballots.push(Ballot {
                    id: ids.next(),
                    evaluation_id: evaluation.id,
                    subject_id: person.id,
                    score: Decimal::new(600 + dice.below(401) as i64, 1),
                    recorded_at: noon(evaluation.window.to),
                });
            }
        }
    }

    YearData {
        year: 2023,
        subjects,
        evaluations: vec![half_year, year_end, democratic[0].clone(), democratic[1].clone()],
        findings: all_findings,
        scoresheets,
        ballots,
    }
}

/// Seed B's subjects (townships, departments, villages, then the individuals stationed in each
/// village), and the individuals alone.
fn county_poverty_subjects(dice: &mut Dice, ids: &mut Ids) -> (Vec<SubjectInfo>, Vec<SubjectInfo>) {
    let mut subjects = Vec::new();
    let townships: Vec<SubjectInfo> = (0..20)
        .map(|index| {
            let mut town = subject(ids, SubjectType::Township, format!("乡镇{index:02}"));
            town.township_id = Some(town.id);
            town.attributes.annual_target_met = !dice.chance(20);
            town
        })
        .collect();
    let departments: Vec<SubjectInfo> = (0..60)
        .map(|index| {
            let mut dept = subject(ids, SubjectType::Department, format!("部门{index:02}"));
            dept.attributes.has_special_indicators = dice.chance(60);
            dept.attributes.ranking_group = Some(["党群", "政府", "企事业"][index % 3].to_owned());
            dept.attributes.annual_target_met = !dice.chance(20);
            dept
        })
        .collect();
    let villages: Vec<SubjectInfo> = (0..480)
        .map(|index| {
            let mut village = subject(ids, SubjectType::Village, format!("村{index:03}"));
            village.township_id = Some(townships[index % townships.len()].id);
            village
        })
        .collect();
    let mut individuals = Vec::new();
    for subject_type in [
        SubjectType::FirstSecretary,
        SubjectType::WorkTeam,
        SubjectType::AgriTech,
    ] {
        for (index, village) in villages.iter().enumerate() {
            let mut person = subject(ids, subject_type, format!("{subject_type:?}{index:03}"));
            person.stationed_in = Some(village.id);
            person.township_id = village.township_id;
            if subject_type != SubjectType::AgriTech && index % 8 != 0 {
                person.dispatched_by = Some(departments[dice.below(departments.len())].id);
            }
            person.attributes.recalled = dice.chance(1);
            individuals.push(person);
        }
    }
    subjects.extend(townships.iter().cloned());
    subjects.extend(departments.iter().cloned());
    subjects.extend(villages.iter().cloned());
    subjects.extend(individuals.iter().cloned());
    (subjects, individuals)
}

/// Three assessors' scoresheets per scored subject in each of the given evaluations.
fn county_poverty_scoresheets(
    scheme: &SchemeDefinition,
    subjects: &[SubjectInfo],
    evaluations: [&EvaluationInfo; 2],
    dice: &mut Dice,
    ids: &mut Ids,
) -> Vec<Scoresheet> {
    let mut scoresheets = Vec::new();
    for scored in subjects.iter().filter(|s| s.subject_type != SubjectType::Village) {
        let Some(config) = scheme.subject_types.get(&scored.subject_type) else {
            continue;
        };
        let assessed: Vec<(String, Decimal)> = config
            .rubric
            .items()
            .into_iter()
            .filter(|item| item.method == Method::Assessed)
            .filter_map(|item| Some((item.code.clone(), item.max?)))
            .collect();
        for evaluation in evaluations {
            for _ in 0..3 {
                let scores = assessed
                    .iter()
                    .map(|(code, max)| {
                        // 60–100 % of the item's points, in tenths.
                        let share = Decimal::new(600 + dice.below(401) as i64, 3);
                        (code.clone(), (*max * share).round_dp(1))
                    })
                    .collect();
                scoresheets.push(Scoresheet {
                    id: ids.next(),
                    evaluation_id: evaluation.id,
                    subject_id: scored.id,
                    assessor_id: ids.next(),
                    recorded_at: noon(evaluation.window.to),
                    scores,
                });
            }
        }
    }
    scoresheets
}

/// Seed A: 2 000 villages in 20 towns with deduction, rate, bonus and veto findings.
pub fn tongshi_year(findings: usize) -> YearData {
    let scheme = scheme("tongshi-2023-village");
    let mut dice = Dice(0x00c0_ffee_1234_5678);
    let mut ids = Ids(0);
    let towns: Vec<Uuid> = (0..20).map(|_| ids.next()).collect();
    let subjects: Vec<SubjectInfo> = (0..2000)
        .map(|index| {
            let mut village = subject(&mut ids, SubjectType::Village, format!("村{index:04}"));
            village.township_id = Some(towns[index % towns.len()]);
            village
        })
        .collect();
    let rubric = &scheme.subject_types[&SubjectType::Village].rubric;
    let mut deductions = Vec::new();
    let mut bonuses = Vec::new();
    for item in rubric.items() {
        match &item.method {
            Method::Deduction(method) => {
                deductions.extend(method.rules.iter().map(|rule| (item.code.clone(), rule.code.clone())));
            }
            Method::Bonus(method) => {
                bonuses.extend(method.rules.iter().map(|rule| (item.code.clone(), rule.code.clone())));
            }
            _ => {}
        }
    }
    let mut all_findings = Vec::with_capacity(findings);
    for _ in 0..findings {
        let village = &subjects[dice.below(subjects.len())];
        let occurred_on = day_of(&mut dice, 2023);
        let roll = dice.below(1000);
        let (item_code, rule_code, detail) = if roll == 0 {
            (
                None,
                None,
                FindingDetail::Veto {
                    reason: "重点工作被一票否决".to_owned(),
                },
            )
        } else if roll < 100 {
            let quarter = Quarter::ALL[dice.below(4)];
            let rate = MeasuredRate::Percent(Decimal::new(5000 + dice.below(5001) as i64, 2));
            (
                Some("1.2".to_owned()),
                None,
                FindingDetail::Measurement { period: quarter, rate },
            )
        } else if roll < 200 {
            let (item, rule) = bonuses[dice.below(bonuses.len())].clone();
            let event_key = Some(format!("event {}", dice.below(5)));
            (Some(item), Some(rule), FindingDetail::Bonus { quantity: 1, event_key })
        } else {
            let (item, rule) = deductions[dice.below(deductions.len())].clone();
            let quantity = 1 + dice.below(5) as u32;
            (Some(item), Some(rule), FindingDetail::Deduction { quantity })
        };
        let recorded_at = noon(occurred_on);
        all_findings.push(Finding {
            id: ids.next(),
            subject_id: village.id,
            item_code,
            rule_code,
            occurred_on,
            recorded_at,
            revoked_at: dice.chance(5).then(|| recorded_at + chrono::Duration::days(3)),
            detail,
        });
    }
    YearData {
        year: 2023,
        subjects,
        evaluations: vec![evaluation(&mut ids, EvaluationKind::YearEnd, "year_end", Period::Y)],
        findings: all_findings,
        scoresheets: Vec::new(),
        ballots: Vec::new(),
    }
}
