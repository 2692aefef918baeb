//! Incremental recomputation equals a full computation, exactly, after any sequence of writes,
//! revocations, attribute changes and link changes, on both seeds (proptest).

use proptest::prelude::*;

use super::*;
use crate::scoring::{compute_year, compute_year_state, recompute_year, ComputeOptions, Item, YearData, YearState};

/// One write to the county-year, by positions taken modulo what exists.
#[derive(Debug, Clone)]
enum Write {
    /// A finding for a subject, on one of its rubric's items (or a veto or mark).
    Finding {
        subject: usize,
        item: usize,
        pick: u16,
        day: u16,
    },
    Revoke {
        finding: usize,
    },
    Attribute {
        subject: usize,
        which: u8,
    },
    Rename {
        subject: usize,
    },
    Dispatch {
        person: usize,
        department: Option<usize>,
    },
    Station {
        person: usize,
        village: usize,
    },
    MoveVillage {
        village: usize,
        township: usize,
    },
    Scoresheet {
        subject: usize,
        evaluation: usize,
        assessor: u8,
        share: u16,
    },
    Ballot {
        subject: usize,
        evaluation: usize,
        score: u16,
    },
}

fn write() -> impl Strategy<Value = Write> {
    let ix = || 0usize..64;
    prop_oneof![
        8 => (ix(), ix(), any::<u16>(), 0u16..365)
            .prop_map(|(subject, item, pick, day)| Write::Finding { subject, item, pick, day }),
        2 => ix().prop_map(|finding| Write::Revoke { finding }),
        2 => (ix(), 0u8..6).prop_map(|(subject, which)| Write::Attribute { subject, which }),
        1 => ix().prop_map(|subject| Write::Rename { subject }),
        1 => (ix(), proptest::option::of(ix())).prop_map(|(person, department)| Write::Dispatch { person, department }),
        1 => (ix(), ix()).prop_map(|(person, village)| Write::Station { person, village }),
        1 => (ix(), ix()).prop_map(|(village, township)| Write::MoveVillage { village, township }),
        2 => (ix(), ix(), 0u8..3, 0u16..=1000)
            .prop_map(|(subject, evaluation, assessor, share)| Write::Scoresheet { subject, evaluation, assessor, share }),
        2 => (ix(), ix(), 0u16..=1000).prop_map(|(subject, evaluation, score)| Write::Ballot { subject, evaluation, score }),
    ]
}

/// A small county: 2 townships, 3 departments in two ranking groups, 4 villages, and a first
/// secretary, a work team and a technician in each village (most dispatched by a department);
/// the scheme's evaluations (quarterly ones included); no findings yet.
fn county(scheme: &SchemeDefinition) -> YearData {
    let townships: Vec<SubjectInfo> = (0..2)
        .map(|i| {
            let mut town = subject(SubjectType::Township, &format!("乡镇{i}"));
            town.township_id = Some(town.id);
            town
        })
        .collect();
    let departments: Vec<SubjectInfo> = (0..3)
        .map(|i| {
            let mut department = subject(SubjectType::Department, &format!("部门{i}"));
            department.attributes.ranking_group = Some(["党群", "政府"][i % 2].to_owned());
            department.attributes.has_special_indicators = i != 1;
            department
        })
        .collect();
    let villages: Vec<SubjectInfo> = (0..4)
        .map(|i| {
            let mut village = subject(SubjectType::Village, &format!("村{i}"));
            village.township_id = Some(townships[i % 2].id);
            village
        })
        .collect();
    let mut subjects = [townships, departments.clone(), villages.clone()].concat();
    for subject_type in [
        SubjectType::FirstSecretary,
        SubjectType::WorkTeam,
        SubjectType::AgriTech,
    ] {
        for (i, village) in villages.iter().enumerate() {
            let mut person = subject(subject_type, &format!("{subject_type:?}{i}"));
            person.stationed_in = Some(village.id);
            person.township_id = village.township_id;
            person.dispatched_by = (i != 3).then(|| departments[i % departments.len()].id);
            subjects.push(person);
        }
    }
    let evaluations = scheme
        .evaluations
        .iter()
        .filter(|template| template.kind != EvaluationKind::Monthly)
        .map(|template| {
            let window = template.window_period().window(2023).expect("2023");
            evaluation(template.kind, &template.key, window)
        })
        .collect();
    YearData {
        year: 2023,
        subjects,
        evaluations,
        ..YearData::default()
    }
}

/// A finding on the `item`-th item of the subject's rubric, shaped for its method.
fn finding_on(scheme: &SchemeDefinition, target: &SubjectInfo, item: usize, pick: u16, day: u16) -> Finding {
    let on = date(2023, 1, 1) + chrono::Days::new(u64::from(day));
    let pick = usize::from(pick);
    let items: Vec<&Item> = scheme
        .subject_types
        .get(&target.subject_type)
        .map(|config| config.rubric.items())
        .unwrap_or_default();
    // A veto, a major failure or a dereliction now and then; stray findings otherwise.
    let Some(item) = items.get(item % (items.len() + 3)) else {
        let detail = match item % 3 {
            0 => FindingDetail::Veto {
                reason: "一票否决".into(),
            },
            1 => FindingDetail::MajorFailure {
                reason: "重大失误".into(),
            },
            _ => FindingDetail::Dereliction {
                reason: "失职渎职".into(),
            },
        };
        return finding(target, None, None, on, detail);
    };
    let code = Some(item.code.as_str());
    let amount = Decimal::from(pick as u64 * 7);
    match &item.method {
        Method::Deduction(method) if !method.rules.is_empty() => {
            let rule = &method.rules[pick % method.rules.len()];
            let quantity = 1 + (pick % 4) as u32;
            finding(
                target,
                code,
                Some(&rule.code),
                on,
                FindingDetail::Deduction { quantity },
            )
        }
        Method::Bonus(method) if !method.rules.is_empty() => {
            let rule = &method.rules[pick % method.rules.len()];
            let event_key = Some(format!("event {}", pick % 3));
            finding(
                target,
                code,
                Some(&rule.code),
                on,
                FindingDetail::Bonus { quantity: 1, event_key },
            )
        }
        Method::RateBand(_) => {
            let period = Quarter::ALL[pick % 4];
            let rate = MeasuredRate::Percent(Decimal::new(5000 + (pick % 5001) as i64, 2));
            finding(target, code, None, on, FindingDetail::Measurement { period, rate })
        }
        Method::SteppedAmount(_) => finding(target, code, None, on, FindingDetail::Amount { amount }),
        Method::Adjustment(method) => match method.rules.get(pick % (method.rules.len() + 1)) {
            Some(rule) if matches!(rule.kind, crate::scoring::AdjustmentRuleKind::SteppedAmount(_)) => {
                finding(target, code, Some(&rule.code), on, FindingDetail::Amount { amount })
            }
            rule => {
                let points = Decimal::new((pick % 61) as i64 - 30, 1);
                let reason = "督查".to_owned();
                let rule = rule.map(|rule| rule.code.as_str());
                finding(target, code, rule, on, FindingDetail::Adjustment { points, reason })
            }
        },
        _ => finding(target, code, None, on, FindingDetail::Deduction { quantity: 1 }),
    }
}

/// Applies a write; returns the subject whose own inputs it changed.
fn apply(scheme: &SchemeDefinition, data: &mut YearData, write: &Write) -> Option<Uuid> {
    let of_type = |data: &YearData, types: &[SubjectType]| -> Vec<usize> {
        (0..data.subjects.len())
            .filter(|&i| types.contains(&data.subjects[i].subject_type))
            .collect()
    };
    let people = of_type(
        data,
        &[
            SubjectType::FirstSecretary,
            SubjectType::WorkTeam,
            SubjectType::AgriTech,
        ],
    );
    let villages = of_type(data, &[SubjectType::Village]);
    let departments = of_type(data, &[SubjectType::Department]);
    let townships = of_type(data, &[SubjectType::Township]);
    let count = data.subjects.len();
    match *write {
        Write::Finding {
            subject,
            item,
            pick,
            day,
        } => {
            let target = data.subjects[subject % count].clone();
            data.findings.push(finding_on(scheme, &target, item, pick, day));
            Some(target.id)
        }
        Write::Revoke { finding } => {
            let count = data.findings.len();
            let found = data.findings.get_mut(finding % count.max(1))?;
            found.revoked_at = Some(at(2023, 12, 31));
            Some(found.subject_id)
        }
        Write::Attribute { subject, which } => {
            let target = &mut data.subjects[subject % count];
            let attributes = &mut target.attributes;
            match which {
                0 => attributes.recalled = !attributes.recalled,
                1 => attributes.annual_target_met = !attributes.annual_target_met,
                2 => attributes.vertically_managed = !attributes.vertically_managed,
                3 => attributes.has_special_indicators = !attributes.has_special_indicators,
                4 => attributes.reserve_cadre = !attributes.reserve_cadre,
                _ => {
                    attributes.ranking_group = match attributes.ranking_group.as_deref() {
                        Some("党群") => Some("政府".into()),
                        _ => Some("党群".into()),
                    }
                }
            }
            Some(target.id)
        }
        Write::Rename { subject } => {
            let target = &mut data.subjects[subject % count];
            target.name.push('改');
            Some(target.id)
        }
        Write::Dispatch { person, department } => {
            let department = department.map(|d| data.subjects[departments[d % departments.len()]].id);
            let target = &mut data.subjects[people[person % people.len()]];
            target.dispatched_by = department;
            Some(target.id)
        }
        Write::Station { person, village } => {
            let village = data.subjects[villages[village % villages.len()]].clone();
            let target = &mut data.subjects[people[person % people.len()]];
            target.stationed_in = Some(village.id);
            target.township_id = village.township_id;
            Some(target.id)
        }
        Write::MoveVillage { village, township } => {
            let township = data.subjects[townships[township % townships.len()]].id;
            let target = &mut data.subjects[villages[village % villages.len()]];
            target.township_id = Some(township);
            Some(target.id)
        }
        Write::Scoresheet {
            subject,
            evaluation,
            assessor,
            share,
        } => {
            let target = data.subjects[subject % count].clone();
            let evaluation = data.evaluations[evaluation % data.evaluations.len()].clone();
            let config = scheme.subject_types.get(&target.subject_type)?;
            let share = Decimal::new(i64::from(share), 3);
            let scores = config
                .rubric
                .items()
                .into_iter()
                .filter(|item| item.method == Method::Assessed)
                .filter_map(|item| Some((item.code.clone(), (item.max? * share).round_dp(1))))
                .collect();
            let assessor = Uuid::from_u128(u128::from(assessor) + 1);
            let recorded = at(2023, 12, 1) + chrono::Duration::minutes(data.scoresheets.len() as i64);
            data.scoresheets
                .push(sheet(&evaluation, &target, assessor, scores, recorded));
            Some(target.id)
        }
        Write::Ballot {
            subject,
            evaluation,
            score,
        } => {
            let target = data.subjects[subject % count].clone();
            let evaluation = data.evaluations[evaluation % data.evaluations.len()].clone();
            let mut cast = ballot(&evaluation, &target, "0");
            cast.score = Decimal::new(i64::from(score), 1);
            data.ballots.push(cast);
            Some(target.id)
        }
    }
}

/// Runs the writes, recomputing incrementally after each, and compares with a full computation
/// every time.
fn check(scheme: &SchemeDefinition, writes: &[Write], detail: Detail) -> Result<(), TestCaseError> {
    let options = ComputeOptions {
        detail,
        ..ComputeOptions::default()
    };
    let mut data = county(scheme);
    let (first, mut state): (_, YearState) = compute_year_state(scheme, &data, &options).expect("computes");
    prop_assert_eq!(&first, &compute_year(scheme, &data, &options).expect("computes"));
    for (step, write) in writes.iter().enumerate() {
        let changed: Vec<Uuid> = apply(scheme, &mut data, write).into_iter().collect();
        let (incremental, next) = recompute_year(scheme, &data, &options, state, &changed).expect("recomputes");
        let full = compute_year(scheme, &data, &options).expect("computes");
        prop_assert!(
            incremental == full,
            "step {step} ({write:?}): incremental differs from full"
        );
        state = next;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn incremental_equals_full_on_seed_b(writes in proptest::collection::vec(write(), 1..40)) {
        check(&seed_b(), &writes, Detail::Totals)?;
    }

    #[test]
    fn incremental_equals_full_on_seed_a(writes in proptest::collection::vec(write(), 1..40)) {
        check(&seed_a(), &writes, Detail::Totals)?;
    }

    #[test]
    fn incremental_equals_full_with_explanations(writes in proptest::collection::vec(write(), 1..25)) {
        check(&seed_b(), &writes, Detail::Full)?;
    }
}

/// Subjects outside the changed ones are taken from the earlier computation, not scored again:
/// a finding whose subject the caller does not name leaves that subject's result as it was.
#[test]
fn subjects_not_named_keep_their_earlier_result() {
    let scheme = seed_a();
    let mut data = county(&scheme);
    let options = ComputeOptions::default();
    let (before, state) = compute_year_state(&scheme, &data, &options).expect("computes");
    let village = data
        .subjects
        .iter()
        .find(|s| s.subject_type == SubjectType::Village)
        .cloned()
        .expect("a village");
    data.findings.push(veto(&village, date(2023, 5, 1)));
    let (stale, state) = recompute_year(&scheme, &data, &options, state, &[]).expect("recomputes");
    assert_eq!(stale.subject(village.id), before.subject(village.id));
    let (fresh, _) = recompute_year(&scheme, &data, &options, state, &[village.id]).expect("recomputes");
    assert!(fresh.subject(village.id).and_then(|r| r.vetoed.as_ref()).is_some());
    assert_eq!(fresh, compute_year(&scheme, &data, &options).expect("computes"));
}
