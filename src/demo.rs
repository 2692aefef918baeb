//! The demo county: a town on the Seed A scheme with its villages and a year of monthly findings,
//! and the county on the Seed B scheme with townships, departments and individuals, their
//! scoresheets, ballots and findings. Deterministic (seeded), so every newcomer sees the same data;
//! `scale` multiplies the Seed B county and `load_province` repeats it over many counties (the
//! benchmarks' data generator).

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::auth::Role;
use crate::error::ApiError;
use crate::scoring::admission::IncidentKind;
use crate::scoring::EvaluationKind;
use crate::scoring::{AdjustmentRuleKind, Method, Node, Quarter, Rubric, SchemeDefinition, SubjectType};
use crate::store::entities::{
    ballot, evaluation, incident, org_unit, scheme, scoresheet, scoresheet_item, subject, subject_attribute,
};
use crate::store::incidents::{IncidentStatus, Source};
use crate::store::org_units::OrgKind;
use crate::store::{name_of, new_id, new_row, now, users, Actor, Change, Store, WriteTx};

/// The password of every demo user (printed by `kaohe demo`).
pub const DEMO_PASSWORD: &str = "demo-password-2023";
const YEAR: i32 = 2023;

const VILLAGES: [&str; 20] = [
    "童市村",
    "大路村",
    "新建村",
    "红花村",
    "马头村",
    "三联村",
    "永兴村",
    "金塘村",
    "白沙村",
    "青山村",
    "石门村",
    "东坪村",
    "西岭村",
    "南岳村",
    "北冲村",
    "长寿村",
    "龙泉村",
    "梅花村",
    "杨柳村",
    "双江村",
];
const TOWNS: [&str; 12] = [
    "城关镇",
    "安定镇",
    "三市镇",
    "加义镇",
    "长寿镇",
    "龙门镇",
    "南江镇",
    "梅仙镇",
    "浯口镇",
    "瓮江镇",
    "伍市镇",
    "余坪镇",
];
const DEPARTMENTS: [&str; 20] = [
    "县农业农村局",
    "县财政局",
    "县发改局",
    "县教育局",
    "县卫健局",
    "县人社局",
    "县住建局",
    "县交通局",
    "县水利局",
    "县民政局",
    "县医保局",
    "县林业局",
    "县自然资源局",
    "县商务局",
    "县文旅局",
    "县统计局",
    "县审计局",
    "县司法局",
    "县总工会",
    "团县委",
];
const GROUPS: [&str; 4] = ["经济类", "社会类", "党群类", "政法类"];
const SURNAMES: [&str; 12] = ["李", "王", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙"];
const GIVEN: [&str; 12] = ["明", "华", "强", "芳", "军", "丽", "伟", "静", "勇", "敏", "涛", "燕"];

/// What was loaded.
#[derive(Debug, Default)]
pub struct Summary {
    pub county_id: Uuid,
    pub subjects: usize,
    pub findings: usize,
    pub scoresheets: usize,
    pub ballots: usize,
    pub seed_a_scheme: Option<Uuid>,
    pub seed_b_scheme: Option<Uuid>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "demo county {} loaded:", self.county_id)?;
        writeln!(
            f,
            "  subjects {}, findings {}, scoresheets {}, ballots {}",
            self.subjects, self.findings, self.scoresheets, self.ballots
        )?;
        if let Some(id) = self.seed_a_scheme {
            writeln!(f, "  Seed A scheme (tongshi-2023-village, 童市镇): {id}")?;
        }
        if let Some(id) = self.seed_b_scheme {
            writeln!(f, "  Seed B scheme (county-poverty 2023): {id}")?;
        }
        write!(
            f,
            "  users (password {DEMO_PASSWORD}): demo-county-assessor, demo-county-viewer, demo-town-admin, demo-town-assessor, demo-village-viewer"
        )
    }
}

/// Loads the demo into the first county unless it already has schemes.
pub async fn load_if_absent(store: &Store, scale: u32) -> Result<Option<Summary>, ApiError> {
    let county = first_county(store).await?;
    let schemes = scheme::Entity::find()
        .filter(scheme::Column::CountyId.eq(county.id))
        .count(store.db())
        .await?;
    if schemes > 0 {
        return Ok(None);
    }
    load(store, scale).await.map(Some)
}

async fn first_county(store: &Store) -> Result<org_unit::Model, ApiError> {
    org_unit::Entity::find()
        .filter(org_unit::Column::Kind.eq("county"))
        .one(store.db())
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "demo.no_county",
                "no county yet: start the service once to bootstrap it",
            )
        })
}

/// Loads the demo into the first county.
pub async fn load(store: &Store, scale: u32) -> Result<Summary, ApiError> {
    let county = first_county(store).await?;
    load_into(store, county, scale).await
}

/// A province: `counties - 1` more counties beside the first (`示范县-002`, …), each created and
/// loaded with the demo at `scale` in a transaction of its own. The demo users belong to the first
/// county; the others are reached by the bootstrap admin or users created for them.
pub async fn load_province(store: &Store, counties: u32, scale: u32) -> Result<Vec<Summary>, ApiError> {
    let mut summaries = vec![load(store, scale).await?];
    for number in 2..=counties {
        let mut tx = store.write(&Actor::system(Uuid::nil(), "demo")).await?;
        let county = crate::store::org_units::create_county(&tx, &format!("示范县-{number:03}")).await?;
        tx.set_actor(Actor::system(county.id, "demo"));
        tx.commit().await?;
        summaries.push(load_into(store, county, scale).await?);
    }
    Ok(summaries)
}

/// Loads the demo into `county`.
async fn load_into(store: &Store, county: org_unit::Model, scale: u32) -> Result<Summary, ApiError> {
    let scale = scale.max(1) as usize;
    let mut rng = StdRng::seed_from_u64(2023);
    let mut tx = store.write(&Actor::system(county.id, "demo")).await?;
    let mut summary = Summary {
        county_id: county.id,
        ..Summary::default()
    };

    // --- Seed A: 童市镇 and its villages, a year of monthly findings.
    let town = add_org(&tx, &county, OrgKind::Township, "童市镇", None).await?;
    let mut villages = Vec::new();
    for name in VILLAGES {
        villages.push(add_org(&tx, &county, OrgKind::Village, name, Some(&town)).await?);
    }
    summary.subjects += 1 + villages.len();
    let (seed_a, definition_a) = add_scheme(&tx, &county, "tongshi-2023-village", Some(&town)).await?;
    summary.seed_a_scheme = Some(seed_a.id);
    let rubric_a = rubric_of(&definition_a, SubjectType::Village)?;
    let rubric_a_id = rubric_id(&tx, seed_a.id, SubjectType::Village).await?;
    let mut findings = Vec::new();
    for (index, unit) in villages.iter().enumerate() {
        let village = subject_of(&tx, unit.id).await?;
        for month in 1..=12u32 {
            monthly_findings(&mut rng, &mut findings, rubric_a, &seed_a, rubric_a_id, &village, month);
        }
        if index == 7 {
            findings.push(veto(
                &seed_a,
                rubric_a_id,
                &village,
                date(10, 12),
                "重点工作被县级一票否决",
            ));
        }
    }

    // --- Seed B: the county's townships, departments and individuals.
    let (seed_b, definition_b) = add_scheme(&tx, &county, "county-poverty", None).await?;
    summary.seed_b_scheme = Some(seed_b.id);
    let mut subjects_b: Vec<subject::Model> = Vec::new();
    let mut village_subjects: Vec<subject::Model> = Vec::new();
    for t in 0..TOWNS.len() * scale {
        let name = if t < TOWNS.len() {
            TOWNS[t].to_owned()
        } else {
            format!("{}{}", TOWNS[t % TOWNS.len()], t / TOWNS.len() + 1)
        };
        let township = add_org(&tx, &county, OrgKind::Township, &name, None).await?;
        for v in 0..8 {
            let village = add_org(
                &tx,
                &county,
                OrgKind::Village,
                &format!("{name}{}村", v + 1),
                Some(&township),
            )
            .await?;
            village_subjects.push(subject_of(&tx, village.id).await?);
        }
        subjects_b.push(subject_of(&tx, township.id).await?);
    }
    let mut departments = Vec::new();
    for d in 0..DEPARTMENTS.len() * 2 * scale {
        let name = if d < DEPARTMENTS.len() {
            DEPARTMENTS[d].to_owned()
        } else {
            format!("{}{}", DEPARTMENTS[d % DEPARTMENTS.len()], d / DEPARTMENTS.len() + 1)
        };
        let department = add_org(&tx, &county, OrgKind::Department, &name, None).await?;
        departments.push(subject_of(&tx, department.id).await?);
    }
    let mut individuals = Vec::new();
    for (i, village) in village_subjects.iter().enumerate() {
        let department = &departments[rng.gen_range(0..departments.len())];
        individuals.push(person(
            &county,
            SubjectType::FirstSecretary,
            &person_name(&mut rng),
            Some(department),
            village,
        ));
        individuals.push(person(
            &county,
            SubjectType::WorkTeam,
            &format!("{}驻村工作队", village.name),
            Some(department),
            village,
        ));
        if i % 2 == 0 {
            // Every other technician names the unit that sent it (§8.5).
            individuals.push(person(
                &county,
                SubjectType::AgriTech,
                &person_name(&mut rng),
                (i % 4 == 0).then_some(department),
                village,
            ));
        }
    }
    subject::Entity::insert_many(individuals.iter().cloned().map(IntoActiveModel::into_active_model))
        .exec_without_returning(tx.conn())
        .await?;
    summary.subjects += subjects_b.len() + village_subjects.len() + departments.len() + individuals.len();

    // Attributes: department categories, a quarter without special indicators, missed targets;
    // one vertically managed department (属上级垂管) that does badly, so its interview is
    // referred to its supervising authority (§8.5).
    let mut attributes = Vec::new();
    let weak_department = departments.get(1).map(|d| d.id);
    for (i, d) in departments.iter().enumerate() {
        let mut a = attribute(
            &seed_b,
            d,
            i % 4 != 3,
            Some(GROUPS[i % GROUPS.len()]),
            i % 9 != 4,
            false,
        );
        a.vertically_managed = Some(d.id) == weak_department;
        attributes.push(a);
    }
    for (i, t) in subjects_b.iter().enumerate() {
        attributes.push(attribute(&seed_b, t, true, None, i % 5 != 2, false));
    }
    // A recalled first secretary who was a reserve cadre (后备干部): 不称职, accountability,
    // reserve status revoked, and its department's head barred from honours (§8.5).
    if let Some(recalled) = individuals
        .iter()
        .find(|s| s.subject_type == SubjectType::FirstSecretary)
    {
        let mut a = attribute(&seed_b, recalled, true, None, true, true);
        a.reserve_cadre = true;
        attributes.push(a);
    }
    for chunk in attributes.chunks(500) {
        subject_attribute::Entity::insert_many(chunk.iter().cloned().map(IntoActiveModel::into_active_model))
            .exec_without_returning(tx.conn())
            .await?;
    }
    let no_special: HashMap<Uuid, bool> = attributes
        .iter()
        .map(|a| (a.subject_id, !a.has_special_indicators))
        .collect();

    // Scoresheets of two assessors in both evaluations; ballots of 30 participants twice.
    let evaluations = evaluation::Entity::find()
        .filter(evaluation::Column::SchemeId.eq(seed_b.id))
        .all(tx.conn())
        .await?;
    let scored: Vec<&subject::Model> = subjects_b.iter().chain(&departments).chain(&individuals).collect();
    let mut sheets = Vec::new();
    let mut items = Vec::new();
    let mut ballots = Vec::new();
    for e in &evaluations {
        for s in &scored {
            let subject_type: SubjectType = s.subject_type;
            if definition_b
                .evaluation_template(&e.key)
                .is_some_and(|template| !template.applies_to(subject_type))
            {
                continue;
            }
            if e.kind == EvaluationKind::Democratic {
                if subject_type.is_individual() {
                    let centre: i64 = rng.gen_range(78..96);
                    for p in 0..30 {
                        let score = Decimal::new(rng.gen_range((centre - 8) * 10..=(centre + 4).min(100) * 10), 1);
                        ballots.push(ballot_of(&seed_b, e, s, score, p));
                    }
                }
                continue;
            }
            let rubric = rubric_of(&definition_b, subject_type)?;
            let skip_derived = no_special.get(&s.id).copied().unwrap_or(false);
            let quality: i64 = rng.gen_range(70..=98);
            let quality = if Some(s.id) == weak_department { 52 } else { quality };
            for assessor in ["县考核组一", "县考核组二"] {
                let sheet_id = new_id();
                for item in assessed_items(rubric, skip_derived) {
                    let max = item.1;
                    // Half points: max × quality% ± a little, never above max.
                    let wobble = rng.gen_range(-4i64..=4);
                    let raw = (max * Decimal::from(quality + wobble)) / Decimal::ONE_HUNDRED;
                    let score = ((raw * Decimal::TWO).round() / Decimal::TWO).clamp(Decimal::ZERO, max);
                    items.push(scoresheet_item::Model {
                        id: new_id(),
                        county_id: county.id,
                        scoresheet_id: sheet_id,
                        item_code: item.0.to_owned(),
                        score: score.into(),
                    });
                }
                sheets.push(sheet_of(&seed_b, e, s, sheet_id, assessor));
            }
        }
    }
    for chunk in sheets.chunks(500) {
        scoresheet::Entity::insert_many(chunk.iter().cloned().map(IntoActiveModel::into_active_model))
            .exec_without_returning(tx.conn())
            .await?;
    }
    for chunk in items.chunks(1000) {
        scoresheet_item::Entity::insert_many(chunk.iter().cloned().map(IntoActiveModel::into_active_model))
            .exec_without_returning(tx.conn())
            .await?;
    }
    for chunk in ballots.chunks(1000) {
        ballot::Entity::insert_many(chunk.iter().cloned().map(IntoActiveModel::into_active_model))
            .exec_without_returning(tx.conn())
            .await?;
    }
    summary.scoresheets = sheets.len();
    summary.ballots = ballots.len();

    // Seed B findings: rewards and penalties, social funds raised, one veto.
    let seed_b_rubrics = rubric_ids(&tx, seed_b.id).await?;
    for s in &scored {
        let subject_type: SubjectType = s.subject_type;
        let Ok(rubric) = rubric_of(&definition_b, subject_type) else {
            continue;
        };
        let Some(rubric_id) = seed_b_rubrics.get(&subject_type).copied() else {
            continue;
        };
        adjustment_findings(&mut rng, &mut findings, rubric, &seed_b, rubric_id, s);
    }
    if let Some(t) = subjects_b.get(3) {
        let rubric_id = rubric_id(&tx, seed_b.id, SubjectType::Township).await?;
        findings.push(veto(
            &seed_b,
            rubric_id,
            t,
            date(11, 20),
            "发生规模性返贫，脱贫攻坚工作被一票否决",
        ));
    }
    // A work team's major failure (重大失误: leader removed, members penalised) and a
    // technician's dereliction (失职渎职: accountability), §8.5.
    if let Some(team) = individuals.iter().find(|s| s.subject_type == SubjectType::WorkTeam) {
        let rubric_id = rubric_id(&tx, seed_b.id, SubjectType::WorkTeam).await?;
        findings.push(itemless(
            &seed_b,
            rubric_id,
            team,
            IncidentKind::MajorFailure,
            date(9, 8),
            "驻村帮扶工作出现重大失误，群众反响恶劣",
        ));
    }
    if let Some(technician) = individuals.iter().find(|s| s.subject_type == SubjectType::AgriTech) {
        let rubric_id = rubric_id(&tx, seed_b.id, SubjectType::AgriTech).await?;
        let mut f = itemless(
            &seed_b,
            rubric_id,
            technician,
            IncidentKind::Dereliction,
            date(7, 15),
            "技术服务失职，严重影响产业项目进度",
        );
        f.source = Source::SpecialInspection;
        findings.push(f);
    }
    for chunk in findings.chunks(1000) {
        incident::Entity::insert_many(chunk.iter().cloned().map(IntoActiveModel::into_active_model))
            .exec_without_returning(tx.conn())
            .await?;
    }
    summary.findings = findings.len();
    for id in std::iter::once(&rubric_a_id).chain(seed_b_rubrics.values()) {
        crate::store::schemes::mark_used(tx.conn(), *id).await?;
    }

    // Users a front-end developer can log in as.
    let demo_users = [
        ("demo-county-assessor", "县考核办", county.id, Role::Assessor),
        ("demo-county-viewer", "数据平台（演示）", county.id, Role::Viewer),
        ("demo-town-admin", "童市镇管理员", town.id, Role::Admin),
        ("demo-town-assessor", "童市镇乡村振兴办", town.id, Role::Assessor),
        ("demo-village-viewer", "童市村村委", villages[0].id, Role::Viewer),
    ];
    for (username, display, unit, role) in demo_users {
        let taken = crate::store::entities::user::Entity::find()
            .filter(crate::store::entities::user::Column::UsernameKey.eq(users::username_key(username)))
            .one(tx.conn())
            .await?
            .is_some();
        if !taken {
            users::create(
                &tx,
                None,
                county.id,
                crate::api::users::NewUser {
                    username: username.to_owned(),
                    display_name: display.to_owned(),
                    password: DEMO_PASSWORD.to_owned(),
                    org_unit_id: unit,
                    role,
                },
            )
            .await?;
        }
    }
    tx.set_actor(Actor::system(county.id, "demo"));
    tx.audit(
        Change::new("demo_load", "scheme", summary.seed_b_scheme)
            .after(&serde_json::json!({
                "subjects": summary.subjects, "findings": summary.findings,
                "scoresheets": summary.scoresheets, "ballots": summary.ballots, "scale": scale,
            }))
            .seal(crate::store::seals::Seal::County),
    )
    .await?;
    tx.commit().await?;
    Ok(summary)
}

fn date(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(YEAR, month, day).unwrap_or_default()
}

fn person_name(rng: &mut StdRng) -> String {
    format!(
        "{}{}{}",
        SURNAMES[rng.gen_range(0..SURNAMES.len())],
        GIVEN[rng.gen_range(0..GIVEN.len())],
        GIVEN[rng.gen_range(0..GIVEN.len())]
    )
}

async fn add_org(
    tx: &WriteTx,
    county: &org_unit::Model,
    kind: OrgKind,
    name: &str,
    parent: Option<&org_unit::Model>,
) -> Result<org_unit::Model, ApiError> {
    let id = new_id();
    let at = now();
    let (township_id, village_id) = match kind {
        OrgKind::Township => (Some(id), None),
        OrgKind::Village => (parent.map(|p| p.id), Some(id)),
        _ => (None, None),
    };
    let unit = new_row!(org_unit, id, county.id, at, {
        parent_id: Some(parent.map(|p| p.id).unwrap_or(county.id)),
        kind,
        name: name.to_owned(),
        code: None,
        township_id,
        village_id,
        active: true,
    });
    org_unit::Entity::insert(unit.clone().into_active_model())
        .exec_without_returning(tx.conn())
        .await?;
    let subject = new_row!(subject, id, county.id, at, {
        subject_type: kind
            .subject_type()
            .ok_or_else(|| ApiError::internal("a county is not a subject"))?,
        name: name.to_owned(),
        org_unit_id: Some(id),
        township_id,
        village_id,
        dispatched_by: None,
        stationed_in: None,
        external_code: None,
        active: true,
    });
    subject::Entity::insert(subject.into_active_model())
        .exec_without_returning(tx.conn())
        .await?;
    Ok(unit)
}

async fn subject_of(tx: &WriteTx, id: Uuid) -> Result<subject::Model, ApiError> {
    subject::Entity::find_by_id(id)
        .one(tx.conn())
        .await?
        .ok_or_else(|| ApiError::internal("demo subject missing"))
}

fn person(
    county: &org_unit::Model,
    t: SubjectType,
    name: &str,
    dispatched_by: Option<&subject::Model>,
    village: &subject::Model,
) -> subject::Model {
    let at = now();
    new_row!(subject, new_id(), county.id, at, {
        subject_type: t,
        name: name.to_owned(),
        org_unit_id: None,
        township_id: village.township_id,
        village_id: Some(village.id),
        dispatched_by: dispatched_by.map(|d| d.id),
        stationed_in: Some(village.id),
        external_code: None,
        active: true,
    })
}

async fn add_scheme(
    tx: &WriteTx,
    county: &org_unit::Model,
    key: &str,
    town: Option<&org_unit::Model>,
) -> Result<(scheme::Model, SchemeDefinition), ApiError> {
    let definition = crate::schemes::built_in_by_key(key)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal("built-in scheme missing"))?;
    let caller = crate::auth::Caller {
        id: Uuid::nil(),
        kind: crate::auth::PrincipalKind::User,
        name: "demo".to_owned(),
        county_id: county.id,
        level: crate::auth::Level::County,
        role: Role::Admin,
        org_unit_id: county.id,
        township_id: None,
        village_id: None,
        revision: 0,
        token_generation: 0,
        tokens_valid_after: None,
    };
    let row = crate::store::schemes::create(
        tx,
        &caller,
        crate::api::schemes::NewScheme {
            built_in: Some(key.to_owned()),
            definition: None,
            year: YEAR,
            org_unit_id: town.map(|t| t.id),
            title: None,
        },
    )
    .await?;
    Ok((row, definition))
}

fn rubric_of(definition: &SchemeDefinition, t: SubjectType) -> Result<&Rubric, ApiError> {
    definition
        .subject_types
        .get(&t)
        .map(|c| &c.rubric)
        .ok_or_else(|| ApiError::internal("demo rubric missing"))
}

async fn rubric_ids(tx: &WriteTx, scheme_id: Uuid) -> Result<HashMap<SubjectType, Uuid>, ApiError> {
    Ok(crate::store::schemes::current_rubrics(tx.conn(), scheme_id)
        .await?
        .into_iter()
        .map(|r| (r.subject_type, r.id))
        .collect())
}

async fn rubric_id(tx: &WriteTx, scheme_id: Uuid, t: SubjectType) -> Result<Uuid, ApiError> {
    rubric_ids(tx, scheme_id)
        .await?
        .get(&t)
        .copied()
        .ok_or_else(|| ApiError::internal("demo rubric missing"))
}

/// The rubric's items (code, max) of a method, depth first.
fn items_of(rubric: &Rubric, wanted: fn(&Method) -> bool, skip_derived: bool) -> Vec<(&str, Decimal, &Method)> {
    fn walk<'a>(
        nodes: &'a [Node],
        wanted: fn(&Method) -> bool,
        skip: bool,
        out: &mut Vec<(&'a str, Decimal, &'a Method)>,
    ) {
        for node in nodes {
            match node {
                Node::Section(s) => {
                    if !(skip && s.derived_from.is_some()) {
                        walk(&s.children, wanted, skip, out);
                    }
                }
                Node::Item(i) if wanted(&i.method) => out.push((i.code.as_str(), i.max.unwrap_or_default(), &i.method)),
                Node::Item(_) => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&rubric.nodes, wanted, skip_derived, &mut out);
    out
}

fn assessed_items(rubric: &Rubric, skip_derived: bool) -> Vec<(&str, Decimal)> {
    items_of(rubric, |m| matches!(m, Method::Assessed), skip_derived)
        .into_iter()
        .map(|(c, m, _)| (c, m))
        .collect()
}

fn finding(
    scheme: &scheme::Model,
    rubric_id: Uuid,
    s: &subject::Model,
    kind: IncidentKind,
    item: &str,
    rule: Option<&str>,
    on: NaiveDate,
) -> incident::Model {
    let at = now();
    new_row!(incident, new_id(), s.county_id, at, {
        scheme_id: scheme.id,
        rubric_id,
        subject_id: s.id,
        township_id: s.township_id,
        village_id: s.village_id,
        kind,
        item_code: Some(item.to_owned()),
        rule_code: rule.map(str::to_owned),
        occurred_on: on,
        quantity: 1,
        period: None,
        rate: None,
        sampled: None,
        correct: None,
        amount: None,
        points: None,
        event_key: None,
        source: Source::DailyInspection,
        note: None,
        evidence: "[]".to_owned(),
        recorded_by: Uuid::nil(),
        upload_id: None,
        status: IncidentStatus::Active,
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
    })
}

fn veto(scheme: &scheme::Model, rubric_id: Uuid, s: &subject::Model, on: NaiveDate, reason: &str) -> incident::Model {
    itemless(scheme, rubric_id, s, IncidentKind::Veto, on, reason)
}

/// A finding of a kind that names no item (veto, major failure, dereliction), with its reason.
fn itemless(
    scheme: &scheme::Model,
    rubric_id: Uuid,
    s: &subject::Model,
    kind: IncidentKind,
    on: NaiveDate,
    reason: &str,
) -> incident::Model {
    let mut f = finding(scheme, rubric_id, s, kind, "", None, on);
    f.item_code = None;
    f.note = Some(reason.to_owned());
    f.source = Source::HigherFeedback;
    f
}

/// One month of a Seed A village: data errors most months, occasional lapses and commendations,
/// the quarter's phone-sampling accuracy at its end.
fn monthly_findings(
    rng: &mut StdRng,
    out: &mut Vec<incident::Model>,
    rubric: &Rubric,
    scheme: &scheme::Model,
    rubric_id: Uuid,
    village: &subject::Model,
    month: u32,
) {
    let s = village;
    let day = rng.gen_range(1..=28);
    let on = date(month, day);
    for (code, _, method) in items_of(rubric, |m| matches!(m, Method::Deduction(_)), false) {
        let Method::Deduction(d) = method else { continue };
        // Data items (1.x) get findings most months; rules and meetings (2.x, 3.x) rarely.
        let chance = if code.starts_with('1') { 70 } else { 6 };
        if rng.gen_range(0..100) < chance && !d.rules.is_empty() {
            let rule = &d.rules[rng.gen_range(0..d.rules.len())];
            let mut f = finding(
                scheme,
                rubric_id,
                s,
                IncidentKind::Deduction,
                code,
                Some(&rule.code),
                on,
            );
            f.quantity = if code.starts_with('1') { rng.gen_range(1..6) } else { 1 };
            f.source = if code.starts_with('1') {
                Source::SystemAnalysis
            } else {
                Source::DailyInspection
            };
            out.push(f);
        }
    }
    if month.is_multiple_of(3) {
        for (code, _, _) in items_of(rubric, |m| matches!(m, Method::RateBand(_)), false) {
            let mut f = finding(
                scheme,
                rubric_id,
                s,
                IncidentKind::Measurement,
                code,
                None,
                date(month, 28),
            );
            f.period = Some(name_of(Quarter::ALL[(month / 3 - 1) as usize]));
            let sampled = rng.gen_range(20..40);
            f.sampled = Some(sampled);
            f.correct = Some((sampled * rng.gen_range(60..101) / 100).min(sampled));
            f.source = Source::PhoneSampling;
            out.push(f);
        }
    }
    for (code, _, method) in items_of(rubric, |m| matches!(m, Method::Bonus(_)), false) {
        let Method::Bonus(b) = method else { continue };
        if rng.gen_range(0..100) < 3 && !b.rules.is_empty() {
            let rule = &b.rules[rng.gen_range(0..b.rules.len().min(2))];
            let mut f = finding(scheme, rubric_id, s, IncidentKind::Bonus, code, Some(&rule.code), on);
            f.event_key = Some(format!("{YEAR}-{}-{}", village.name, on.month()));
            f.source = Source::HigherFeedback;
            out.push(f);
        }
    }
}

/// Rewards and penalties of a Seed B subject, and social funds for departments.
fn adjustment_findings(
    rng: &mut StdRng,
    out: &mut Vec<incident::Model>,
    rubric: &Rubric,
    scheme: &scheme::Model,
    rubric_id: Uuid,
    s: &subject::Model,
) {
    for (code, _, method) in items_of(rubric, |m| matches!(m, Method::Adjustment(_)), false) {
        let Method::Adjustment(a) = method else { continue };
        for rule in &a.rules {
            let on = date(rng.gen_range(1..=12), rng.gen_range(1..=28));
            match &rule.kind {
                AdjustmentRuleKind::Manual { .. } => {
                    let roll = rng.gen_range(0..100);
                    let points = if roll < 20 && rule.code.contains("bonus") {
                        Decimal::from(rng.gen_range(1..4))
                    } else if roll < 10 && rule.code.contains("penalty") {
                        -Decimal::from(rng.gen_range(1..4))
                    } else {
                        continue;
                    };
                    let mut f = finding(
                        scheme,
                        rubric_id,
                        s,
                        IncidentKind::Adjustment,
                        code,
                        Some(&rule.code),
                        on,
                    );
                    f.points = Some(points.into());
                    f.note = Some(
                        if points > Decimal::ZERO {
                            "信息被县级以上采用"
                        } else {
                            "资料报送不及时，被督查通报"
                        }
                        .to_owned(),
                    );
                    out.push(f);
                }
                AdjustmentRuleKind::SteppedAmount(_) => {
                    if rng.gen_range(0..100) < 35 {
                        let mut f = finding(scheme, rubric_id, s, IncidentKind::Amount, code, Some(&rule.code), on);
                        f.amount = Some(Decimal::from(rng.gen_range(5..60) * 10_000).into());
                        f.note = Some("募集社会扶贫资金".to_owned());
                        out.push(f);
                    }
                }
            }
        }
    }
}

fn attribute(
    scheme: &scheme::Model,
    s: &subject::Model,
    special: bool,
    group: Option<&str>,
    target_met: bool,
    recalled: bool,
) -> subject_attribute::Model {
    let at = now();
    new_row!(subject_attribute, new_id(), s.county_id, at, {
        scheme_id: scheme.id,
        subject_id: s.id,
        has_special_indicators: special,
        ranking_group: group.map(str::to_owned),
        annual_target_met: target_met,
        recalled,
        reserve_cadre: false,
        vertically_managed: false,
    })
}

fn sheet_of(
    scheme: &scheme::Model,
    e: &evaluation::Model,
    s: &subject::Model,
    id: Uuid,
    assessor: &str,
) -> scoresheet::Model {
    let at = now();
    new_row!(scoresheet, id, s.county_id, at, {
        scheme_id: scheme.id,
        evaluation_id: e.id,
        subject_id: s.id,
        township_id: s.township_id,
        village_id: s.village_id,
        assessor_id: Uuid::nil(),
        assessor_name: assessor.to_owned(),
        note: None,
        upload_id: None,
        revoked_at: None,
        superseded_by: None,
    })
}

fn ballot_of(
    scheme: &scheme::Model,
    e: &evaluation::Model,
    s: &subject::Model,
    score: Decimal,
    participant: usize,
) -> ballot::Model {
    let at = now();
    new_row!(ballot, new_id(), s.county_id, at, {
        scheme_id: scheme.id,
        evaluation_id: e.id,
        subject_id: s.id,
        township_id: s.township_id,
        village_id: s.village_id,
        score: score.into(),
        participant: Some(format!("参会代表{:02}", participant + 1)),
        recorded_by: Uuid::nil(),
        upload_id: None,
        revoked_at: None,
    })
}
