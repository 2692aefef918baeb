//! The built-in schemes load exactly as DOMAIN.md §10 tabulates them, and every validation rule
//! reports its code.

use std::collections::BTreeSet;
use std::str::FromStr;

use rust_decimal::Decimal;

use super::*;
use crate::scoring::{
    AdjustmentRuleKind, EvaluationKind, FormulaNode, Grade, Item, LinkRelation, Method, Node, NonStacking, Period,
    RankingGrouping, Rubric, Section, SubjectType,
};

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).expect("decimal")
}

fn scheme(key: &str) -> SchemeDefinition {
    built_in_by_key(key).expect("loads").expect("exists")
}

fn item_mut<'a>(rubric: &'a mut Rubric, code: &str) -> &'a mut Item {
    fn find<'a>(nodes: &'a mut [Node], code: &str) -> Option<&'a mut Item> {
        for node in nodes {
            match node {
                Node::Item(item) if item.code == code => return Some(item),
                Node::Item(_) => {}
                Node::Section(section) => {
                    if let Some(item) = find(&mut section.children, code) {
                        return Some(item);
                    }
                }
            }
        }
        None
    }
    find(&mut rubric.nodes, code).expect("item exists")
}

fn section_mut<'a>(rubric: &'a mut Rubric, code: &str) -> &'a mut Section {
    rubric
        .nodes
        .iter_mut()
        .find_map(|node| match node {
            Node::Section(section) if section.code == code => Some(section),
            _ => None,
        })
        .expect("top-level section exists")
}

fn rubric_mut(scheme: &mut SchemeDefinition, subject_type: SubjectType) -> &mut Rubric {
    &mut scheme
        .subject_types
        .get_mut(&subject_type)
        .expect("type configured")
        .rubric
}

#[test]
fn built_in_schemes_load_and_validate() {
    let schemes = built_in().expect("built-ins load");
    let keys: Vec<&str> = schemes.iter().map(|scheme| scheme.key.as_str()).collect();
    assert_eq!(keys, vec!["tongshi-2023-village", "county-poverty"]);
    assert_eq!(built_in_keys().count(), 2);
    for scheme in &schemes {
        assert!(validate_scheme(scheme).is_empty(), "{}", scheme.key);
    }
    assert!(built_in_by_key("nope").expect("no error").is_none());
}

#[test]
fn seed_a_is_tabulated_exactly() {
    let scheme = scheme("tongshi-2023-village");
    assert_eq!(
        scheme.title,
        "童市镇2023年度开展巩固拓展脱贫攻坚成果同乡村振兴有效衔接工作村级目标管理考核实施方案"
    );
    let config = &scheme.subject_types[&SubjectType::Village];
    let rubric = &config.rubric;
    assert_eq!(rubric.full_marks(), d("80"));
    // (code, title, max, [(rule, points per unit)])
    type Row = (
        &'static str,
        &'static str,
        Option<&'static str>,
        &'static [(&'static str, &'static str)],
    );
    let expected: &[Row] = &[
        (
            "1.1",
            "到户基本信息(含易地后扶)维护",
            Some("20"),
            &[("L1", "0.5"), ("L2", "0.3"), ("L3", "0.1")],
        ),
        ("1.2", "就业务工信息维护", Some("10"), &[]),
        ("1.3", "乡村建设平台数据维护", Some("5"), &[("error", "0.1")]),
        (
            "2.1",
            "常态化网格监测",
            Some("10"),
            &[
                ("missing_doc", "1"),
                ("member_unclear", "3"),
                ("missed_household", "10"),
            ],
        ),
        (
            "2.2",
            "季度监测对象帮扶效果评估",
            Some("10"),
            &[("missing_ledger", "3"), ("calc_error", "1"), ("dissatisfied", "5")],
        ),
        (
            "2.3",
            "扶贫项目资产管护",
            Some("10"),
            &[("missing_ledger", "3"), ("poor_upkeep", "5")],
        ),
        (
            "3.1",
            "常规工作落实",
            Some("5"),
            &[("criticized", "3"), ("missing_doc", "2")],
        ),
        ("3.2", "紧急工作任务落实", Some("5"), &[("criticized", "3")]),
        (
            "3.3",
            "全镇性会议",
            Some("5"),
            &[("late", "2"), ("early_leave", "1"), ("absent", "5")],
        ),
        (
            "4.1",
            "通报表彰",
            None,
            &[("county", "3"), ("city", "5"), ("province", "8")],
        ),
        (
            "4.2",
            "创先争优典型",
            None,
            &[("county", "5"), ("city", "10"), ("province", "15")],
        ),
        ("4.3", "重点乡村振兴项目", None, &[("key_project", "5")]),
    ];
    let items = rubric.items();
    assert_eq!(items.len(), expected.len());
    for (item, (code, title, max, rules)) in items.iter().zip(expected) {
        assert_eq!(item.code, *code);
        assert_eq!(item.title, *title);
        assert_eq!(item.max, max.map(d), "{code}");
        let actual: Vec<(String, Decimal)> = match &item.method {
            Method::Deduction(method) => method
                .rules
                .iter()
                .map(|r| (r.code.clone(), r.points_per_unit))
                .collect(),
            Method::Bonus(method) => method
                .rules
                .iter()
                .map(|r| (r.code.clone(), r.points_per_unit))
                .collect(),
            _ => Vec::new(),
        };
        let wanted: Vec<(String, Decimal)> = rules.iter().map(|(c, p)| ((*c).to_owned(), d(p))).collect();
        assert_eq!(actual, wanted, "{code}");
    }
    let Method::RateBand(band) = &rubric.find_item("1.2").expect("1.2").method else {
        panic!("1.2 is a rate band");
    };
    assert_eq!(
        (band.points_per_period, band.full_credit_at, band.points_per_percent),
        (d("2.5"), d("90"), d("0.1"))
    );
    let Method::Deduction(criticism) = &rubric.find_item("3.1").expect("3.1").method else {
        panic!("3.1 deducts");
    };
    assert!(criticism.rules[0].uncapped && !criticism.rules[1].uncapped);
    assert_eq!(
        criticism.rules[0].label,
        "常规工作被县级及以上通报批评一次扣3分（上不封顶）"
    );
    for code in ["4.1", "4.2"] {
        let Method::Bonus(method) = &rubric.find_item(code).expect("item").method else {
            panic!("bonus");
        };
        assert_eq!(method.non_stacking, NonStacking::PerEvent);
        assert_eq!(method.cap, None);
    }
    let sections: Vec<(&str, Option<Decimal>)> = rubric
        .nodes
        .iter()
        .filter_map(|node| match node {
            Node::Section(section) => Some((section.title.as_str(), section.points)),
            Node::Item(_) => None,
        })
        .collect();
    assert_eq!(
        sections,
        vec![
            ("系统数据维护", Some(d("35"))),
            ("严格制度执行", Some(d("30"))),
            ("政令畅通、会风考核", Some(d("15"))),
            ("加分内容", None)
        ]
    );
    assert_eq!(
        config.annual,
        FormulaNode::Own {
            evaluations: vec![EvaluationKind::YearEnd]
        }
    );
    assert_eq!(config.rankings[0].grouping, RankingGrouping::Township);
    let kinds: Vec<EvaluationKind> = scheme.evaluations.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, vec![EvaluationKind::YearEnd, EvaluationKind::Monthly]);
}

#[test]
fn seed_b_is_tabulated_exactly() {
    let scheme = scheme("county-poverty");
    assert_eq!(scheme.title, "某县脱贫攻坚工作考核办法");
    // Per rubric: its assessed items (code, title, max).
    type Items = &'static [(&'static str, &'static str, &'static str)];
    let expected: &[(SubjectType, Items)] = &[
        (
            SubjectType::Township,
            &[
                ("1.1", "组织领导", "3"),
                ("1.2", "驻村帮扶", "3"),
                ("1.3", "信访维稳", "4"),
                ("2.1", "项目规划", "3"),
                ("2.2", "项目进度", "11"),
                ("2.3", "质量监管", "6"),
                ("2.4", "资金管理", "6"),
                ("2.5", "后续管理", "4"),
                ("3.1", "贫困村出列", "10"),
                ("3.2", "贫困户脱贫", "15"),
                ("3.3", "长效机制", "5"),
                ("4.1", "软件资料", "20"),
                ("4.2", "信息报送", "10"),
            ],
        ),
        (
            SubjectType::Department,
            &[
                ("1.1", "组织领导", "3"),
                ("1.2", "制度完善", "3"),
                ("1.3", "工作保障", "5"),
                ("1.4", "计划总结", "4"),
                ("1.5", "信息报送", "10"),
                ("1.6", "驻村帮扶", "25"),
                ("2.1", "资金整合", "30"),
                ("2.2", "项目建设", "10"),
                ("2.3", "项目管理", "10"),
            ],
        ),
        (
            SubjectType::FirstSecretary,
            &[
                ("1", "建强基层组织", "15"),
                ("2", "推动精准脱贫", "20"),
                ("3", "为民办事服务", "15"),
                ("4", "提升治理水平", "15"),
                ("5", "党员精准脱贫示范工程", "5"),
                ("6", "执行制度纪律", "15"),
                ("7", "信息报送", "15"),
            ],
        ),
        (
            SubjectType::WorkTeam,
            &[
                ("1", "建章立制", "5"),
                ("2", "政策宣传", "10"),
                ("3", "帮扶措施", "15"),
                ("4", "数据信息", "5"),
                ("5", "资金管理", "10"),
                ("6.1", "到村项目", "33"),
                ("6.2", "到户项目", "12"),
                ("7", "到岗到位", "10"),
            ],
        ),
        (
            SubjectType::AgriTech,
            &[
                ("1", "规划编制", "8"),
                ("2", "培育典型", "25"),
                ("3", "技术服务", "35"),
                ("4", "信息报送", "20"),
                ("5", "履职情况", "12"),
            ],
        ),
    ];
    for (subject_type, items) in expected {
        let config = &scheme.subject_types[subject_type];
        let rubric = &config.rubric;
        assert_eq!(rubric.full_marks(), d("100"), "{subject_type:?}");
        let assessed: Vec<(String, String, Decimal)> = rubric
            .items()
            .into_iter()
            .filter(|item| item.method == Method::Assessed)
            .map(|item| (item.code.clone(), item.title.clone(), item.max.unwrap_or_default()))
            .collect();
        let wanted: Vec<(String, String, Decimal)> = items
            .iter()
            .map(|(c, t, m)| ((*c).to_owned(), (*t).to_owned(), d(m)))
            .collect();
        assert_eq!(assessed, wanted, "{subject_type:?}");
        let adjustments: Vec<&Item> = rubric
            .items()
            .into_iter()
            .filter(|item| matches!(item.method, Method::Adjustment(_)))
            .collect();
        if *subject_type == SubjectType::WorkTeam {
            assert!(adjustments.is_empty(), "the work-team table has no 奖惩得分");
        } else {
            assert_eq!(adjustments.len(), 1);
            assert_eq!(adjustments[0].title, "奖惩得分");
            let Method::Adjustment(method) = &adjustments[0].method else {
                unreachable!()
            };
            assert_eq!((method.bonus_cap, method.penalty_cap), (d("10"), d("10")));
            let social = method.rules.iter().find(|rule| rule.code == "social_funds");
            assert_eq!(social.is_some(), *subject_type == SubjectType::Department);
            if let Some(AdjustmentRuleKind::SteppedAmount(steps)) = social.map(|rule| &rule.kind) {
                assert_eq!(
                    (steps.threshold, steps.base, steps.step, steps.cap),
                    (d("200000"), d("1"), d("100000"), d("5"))
                );
            }
        }
        assert_eq!(config.grading.is_some(), subject_type.is_individual());
        assert_eq!(config.consequences.is_some(), !subject_type.is_individual());
    }
    let department = &scheme.subject_types[&SubjectType::Department].rubric;
    assert_eq!(
        department.find_section("2").expect("special").derived_from.as_deref(),
        Some("1")
    );
    let grading = scheme.subject_types[&SubjectType::FirstSecretary]
        .grading
        .clone()
        .expect("grading");
    let bands: Vec<(Grade, &str, Option<Decimal>, Decimal, bool)> = grading
        .bands
        .iter()
        .map(|band| {
            (
                band.grade,
                band.title.as_str(),
                band.min_score,
                band.bonus_pay,
                band.accountability,
            )
        })
        .collect();
    assert_eq!(
        bands,
        vec![
            (Grade::Excellent, "优秀", Some(d("90")), d("1"), false),
            (Grade::Competent, "称职", Some(d("75")), d("1"), false),
            (Grade::Basic, "基本称职", Some(d("60")), d("0.8"), false),
            (Grade::Incompetent, "不称职", None, d("0"), true),
        ]
    );
    let prizes = scheme.subject_types[&SubjectType::Township]
        .prizes
        .clone()
        .expect("prizes");
    let ranges: Vec<(&str, u32, u32)> = prizes
        .iter()
        .map(|band| (band.title.as_str(), band.from_rank, band.to_rank))
        .collect();
    assert_eq!(ranges, vec![("一等奖", 1, 3), ("二等奖", 4, 8), ("三等奖", 9, 16)]);
    let township = &scheme.subject_types[&SubjectType::Township].annual;
    let FormulaNode::Weighted { children } = township else {
        panic!("weighted");
    };
    assert_eq!(children[1].weight, d("0.2"));
    assert_eq!(
        children[1].node,
        FormulaNode::Linked {
            subject_type: SubjectType::FirstSecretary,
            relation: LinkRelation::StationedIn
        }
    );
    let kinds: Vec<EvaluationKind> = scheme.evaluations.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EvaluationKind::HalfYear,
            EvaluationKind::YearEnd,
            EvaluationKind::Democratic,
            EvaluationKind::Democratic,
            EvaluationKind::Quarterly,
            EvaluationKind::Quarterly,
            EvaluationKind::Quarterly,
            EvaluationKind::Quarterly
        ]
    );
    // 第一书记每季度的考核结果与年终目标奖挂钩 (§8.6): Q1–Q4, first secretaries only.
    let quarters: Vec<_> = scheme
        .evaluations
        .iter()
        .filter(|t| t.kind == EvaluationKind::Quarterly)
        .map(|t| (t.window, t.subject_types.clone()))
        .collect();
    assert_eq!(
        quarters,
        [Period::Q1, Period::Q2, Period::Q3, Period::Q4]
            .map(|q| (Some(q), vec![SubjectType::FirstSecretary]))
            .to_vec()
    );
}

#[test]
fn schemes_round_trip_through_json() {
    for scheme in built_in().expect("built-ins") {
        let json = serde_json::to_string(&scheme).expect("serialises");
        assert_eq!(parse_scheme(&json).expect("parses"), scheme);
    }
}

#[test]
fn malformed_json_is_an_error_not_a_panic() {
    assert!(matches!(parse_scheme("{"), Err(SchemeError::Malformed { .. })));
    assert!(matches!(
        parse_scheme(r#"{"key": 3}"#),
        Err(SchemeError::Malformed { .. })
    ));
    let bad_decimal = include_str!("data/tongshi-2023-village.json").replace("\"0.5\"", "0.5");
    assert!(matches!(parse_scheme(&bad_decimal), Err(SchemeError::Malformed { .. })));
}

type Mutation = fn(&mut SchemeDefinition);

/// One mutation of a valid built-in scheme per problem code.
fn cases() -> Vec<(&'static str, &'static str, Mutation)> {
    use SubjectType::*;
    vec![
        ("scheme.key_invalid", "county-poverty", |s| {
            s.key = "County Poverty".to_owned()
        }),
        ("scheme.title_missing", "county-poverty", |s| s.title = " ".to_owned()),
        ("scheme.subject_types_empty", "county-poverty", |s| {
            s.subject_types.clear()
        }),
        ("options.published_digits_out_of_range", "county-poverty", |s| {
            s.options.published_digits = 11
        }),
        ("options.timezone_missing", "county-poverty", |s| {
            s.options.timezone = String::new()
        }),
        ("evaluation.key_duplicate", "county-poverty", |s| {
            let copy = s.evaluations[0].clone();
            s.evaluations.push(copy);
        }),
        ("evaluation.subject_type_unknown", "tongshi-2023-village", |s| {
            s.evaluations[0].subject_types = vec![Township]
        }),
        ("evaluation.window_not_quarter", "county-poverty", |s| {
            if let Some(quarterly) = s.evaluations.iter_mut().find(|t| t.kind == EvaluationKind::Quarterly) {
                quarterly.window = Some(crate::scoring::Period::H1);
            }
        }),
        ("rubric.subject_type_mismatch", "county-poverty", |s| {
            rubric_mut(s, Township).subject_type = Village
        }),
        ("rubric.title_missing", "county-poverty", |s| {
            rubric_mut(s, AgriTech).title = String::new()
        }),
        ("rubric.empty", "county-poverty", |s| {
            rubric_mut(s, AgriTech).nodes.clear()
        }),
        ("rubric.code_empty", "county-poverty", |s| {
            item_mut(rubric_mut(s, AgriTech), "1").code = String::new()
        }),
        ("rubric.code_duplicate", "tongshi-2023-village", |s| {
            item_mut(rubric_mut(s, Village), "1.2").code = "1.1".to_owned()
        }),
        ("rubric.section_empty", "tongshi-2023-village", |s| {
            section_mut(rubric_mut(s, Village), "4").children.clear()
        }),
        ("rubric.section_points_mismatch", "tongshi-2023-village", |s| {
            section_mut(rubric_mut(s, Village), "1").points = Some(d("36"))
        }),
        ("rubric.points_invalid", "county-poverty", |s| {
            item_mut(rubric_mut(s, AgriTech), "1").max = Some(d("-8"))
        }),
        ("rubric.item_max_required", "tongshi-2023-village", |s| {
            item_mut(rubric_mut(s, Village), "1.1").max = None
        }),
        ("rubric.item_max_not_allowed", "tongshi-2023-village", |s| {
            item_mut(rubric_mut(s, Village), "4.1").max = Some(d("8"))
        }),
        ("rubric.rules_empty", "tongshi-2023-village", |s| {
            if let Method::Deduction(method) = &mut item_mut(rubric_mut(s, Village), "1.3").method {
                method.rules.clear();
            }
        }),
        ("rubric.rule_code_empty", "tongshi-2023-village", |s| {
            if let Method::Deduction(method) = &mut item_mut(rubric_mut(s, Village), "1.1").method {
                method.rules[0].code = String::new();
            }
        }),
        ("rubric.rule_duplicate", "tongshi-2023-village", |s| {
            if let Method::Deduction(method) = &mut item_mut(rubric_mut(s, Village), "1.1").method {
                method.rules[1].code = "L1".to_owned();
            }
        }),
        ("rubric.param_out_of_range", "tongshi-2023-village", |s| {
            if let Method::RateBand(band) = &mut item_mut(rubric_mut(s, Village), "1.2").method {
                band.full_credit_at = d("101");
            }
        }),
        ("rubric.rate_band_points_mismatch", "tongshi-2023-village", |s| {
            if let Method::RateBand(band) = &mut item_mut(rubric_mut(s, Village), "1.2").method {
                band.points_per_period = d("3");
            }
        }),
        ("rubric.derived_from_unknown", "county-poverty", |s| {
            section_mut(rubric_mut(s, Department), "2").derived_from = Some("9".to_owned())
        }),
        ("rubric.derived_from_invalid", "county-poverty", |s| {
            section_mut(rubric_mut(s, Department), "2").derived_from = Some("2".to_owned())
        }),
        ("rubric.derived_section_invalid", "county-poverty", |s| {
            let adjustment = item_mut(rubric_mut(s, Department), "3").clone();
            let special = section_mut(rubric_mut(s, Department), "2");
            special.children.push(Node::Item(Item {
                code: "2.4".to_owned(),
                ..adjustment
            }));
        }),
        ("formula.empty", "county-poverty", |s| {
            s.subject_types.get_mut(&AgriTech).expect("agri").annual = FormulaNode::Weighted { children: Vec::new() };
        }),
        ("formula.weight_out_of_range", "county-poverty", |s| {
            if let FormulaNode::Weighted { children } = &mut s.subject_types.get_mut(&WorkTeam).expect("team").annual {
                children[0].weight = d("1.2");
            }
        }),
        ("formula.weights_sum", "county-poverty", |s| {
            if let FormulaNode::Weighted { children } = &mut s.subject_types.get_mut(&WorkTeam).expect("team").annual {
                children[0].weight = d("0.5");
            }
        }),
        ("formula.evaluation_kind_invalid", "tongshi-2023-village", |s| {
            s.subject_types.get_mut(&Village).expect("village").annual = FormulaNode::Own {
                evaluations: vec![EvaluationKind::Monthly],
            };
        }),
        ("formula.evaluation_unavailable", "county-poverty", |s| {
            s.subject_types.get_mut(&Township).expect("township").annual = FormulaNode::Own {
                evaluations: vec![EvaluationKind::Democratic],
            };
        }),
        ("formula.link_unknown_type", "county-poverty", |s| {
            s.subject_types.remove(&WorkTeam);
            for template in &mut s.evaluations {
                template.subject_types.retain(|t| *t != WorkTeam);
            }
        }),
        ("formula.relation_invalid", "county-poverty", |s| {
            s.subject_types.get_mut(&Township).expect("township").annual = FormulaNode::Linked {
                subject_type: FirstSecretary,
                relation: LinkRelation::DispatchedBy,
            };
        }),
        ("formula.link_cycle", "county-poverty", |s| {
            s.subject_types.get_mut(&FirstSecretary).expect("fs").annual = FormulaNode::Linked {
                subject_type: Department,
                relation: LinkRelation::DispatchedBy,
            };
        }),
        ("grading.bands_empty", "county-poverty", |s| {
            grading_mut(s).bands.clear()
        }),
        ("grading.grade_duplicate", "county-poverty", |s| {
            grading_mut(s).bands[1].grade = Grade::Excellent
        }),
        ("grading.bands_incomplete", "county-poverty", |s| {
            grading_mut(s).bands[3].min_score = Some(d("0"))
        }),
        ("grading.bands_unordered", "county-poverty", |s| {
            grading_mut(s).bands[1].min_score = Some(d("95"))
        }),
        ("grading.bonus_pay_out_of_range", "county-poverty", |s| {
            grading_mut(s).bands[2].bonus_pay = d("1.5")
        }),
        ("grading.grade_unknown", "county-poverty", |s| {
            let grading = grading_mut(s);
            grading.bands.remove(2);
            grading.recalled = Grade::Basic;
        }),
        ("prizes.key_duplicate", "county-poverty", |s| {
            prizes_mut(s)[1].key = "first".to_owned()
        }),
        ("prizes.band_invalid", "county-poverty", |s| {
            prizes_mut(s)[0].from_rank = 0
        }),
        ("prizes.bands_overlap", "county-poverty", |s| {
            prizes_mut(s)[1].from_rank = 3
        }),
        ("ranking.key_duplicate", "county-poverty", |s| {
            s.subject_types.get_mut(&Department).expect("dept").rankings[1].key = "townships".to_owned();
        }),
        ("ranking.prizes_missing", "county-poverty", |s| {
            s.subject_types.get_mut(&Township).expect("township").prizes = None
        }),
        ("ranking.grouping_invalid", "county-poverty", |s| {
            s.subject_types.get_mut(&Department).expect("dept").rankings[0].grouping = RankingGrouping::Township;
        }),
        ("ranking.dismissal_group_duplicate", "county-poverty", |s| {
            s.subject_types.get_mut(&Department).expect("dept").rankings[0].dismissal_group = true;
        }),
        ("consequences.threshold_out_of_range", "county-poverty", |s| {
            if let Some(rules) = &mut s.subject_types.get_mut(&Township).expect("township").consequences {
                rules.interview_below = d("-1");
            }
        }),
        ("consequences.last_n_zero", "county-poverty", |s| {
            if let Some(rules) = &mut s.subject_types.get_mut(&Township).expect("township").consequences {
                if let Some(dismissal) = &mut rules.dismissal {
                    dismissal.last_n = 0;
                }
            }
        }),
        ("consequences.dismissal_group_missing", "county-poverty", |s| {
            s.subject_types.get_mut(&Township).expect("township").rankings[0].dismissal_group = false;
        }),
    ]
}

fn grading_mut(scheme: &mut SchemeDefinition) -> &mut crate::scoring::Grading {
    scheme
        .subject_types
        .get_mut(&SubjectType::FirstSecretary)
        .and_then(|config| config.grading.as_mut())
        .expect("grading")
}

fn prizes_mut(scheme: &mut SchemeDefinition) -> &mut Vec<crate::scoring::PrizeBand> {
    scheme
        .subject_types
        .get_mut(&SubjectType::Township)
        .and_then(|config| config.prizes.as_mut())
        .expect("prizes")
}

#[test]
fn every_validation_rule_reports_its_code() {
    let mut covered = BTreeSet::new();
    for (code, key, mutate) in cases() {
        let mut broken = scheme(key);
        mutate(&mut broken);
        let problems = validate_scheme(&broken);
        assert!(
            problems.iter().any(|problem| problem.code == code),
            "{code}: got {problems:#?}"
        );
        assert!(problems
            .iter()
            .all(|problem| PROBLEM_CODES.contains(&problem.code.as_str())));
        covered.insert(code);
        // Posted as JSON it is refused with the same problems.
        let json = serde_json::to_string(&broken).expect("serialises");
        assert!(
            matches!(parse_scheme(&json), Err(SchemeError::Invalid { .. })),
            "{code}"
        );
    }
    let all: BTreeSet<&str> = PROBLEM_CODES.iter().copied().collect();
    assert_eq!(all.len(), PROBLEM_CODES.len(), "codes are unique");
    assert_eq!(covered, all, "every code has a case");
}

#[test]
fn problems_name_the_path_of_the_offending_part() {
    let mut broken = scheme("county-poverty");
    if let Method::Adjustment(method) = &mut item_mut(rubric_mut(&mut broken, SubjectType::Department), "3").method {
        method.rules[1].code = "bonus".to_owned();
    }
    section_mut(rubric_mut(&mut broken, SubjectType::Department), "2").points = Some(d("45"));
    let problems = validate_scheme(&broken);
    let paths: Vec<(&str, &str)> = problems.iter().map(|p| (p.path.as_str(), p.code.as_str())).collect();
    assert!(
        paths.contains(&("subject_types.department.rubric/3/rules/bonus", "rubric.rule_duplicate")),
        "{paths:?}"
    );
    assert!(
        paths.contains(&(
            "subject_types.department.rubric/2.points",
            "rubric.section_points_mismatch"
        )),
        "{paths:?}"
    );
    let rubric = broken.subject_types[&SubjectType::Department].rubric.clone();
    let alone = validate_rubric(&rubric);
    assert!(alone.iter().any(|p| p.path == "rubric/2.points"));
}

#[test]
fn all_problems_are_reported_at_once() {
    let mut broken = scheme("county-poverty");
    broken.key = String::new();
    broken.options.published_digits = 99;
    grading_mut(&mut broken).bands[2].bonus_pay = d("2");
    assert!(validate_scheme(&broken).len() >= 3);
}
