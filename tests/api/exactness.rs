//! Issue 12 through the API: annual scores are exact when means do not terminate, and published
//! scores are the exact value rounded half-up once (§5.9, §8.1, §8.2) — never 0.01 low because a
//! mean of three was cut to 28 digits on the way.

use serde_json::{json, Value};

use crate::data::{evaluation, id_of, instantiate, scores, WORK_TEAM_ITEMS};
use crate::helpers::{find_by, spawn_app, TestApp};

/// One work team's inputs: three half-year sheets and one year-end sheet (totals in hundredths),
/// one ballot at the half-year meeting and two at the year-end one (in tenths).
#[derive(Debug, Clone, Copy)]
struct Case {
    half_year: [i64; 3],
    year_end: i64,
    half_year_ballot: i64,
    year_end_ballots: [i64; 2],
}

impl Case {
    /// The exact annual score × 1000, computed independently of the service from DOMAIN.md §8.1:
    /// `0.6 × mean(Σhalf/3, year_end) + 0.4 × mean(b1, (b2 + b3)/2)` over hundredths and tenths
    /// is `(Σhalf + 3·year_end + 10·(2·b1 + b2 + b3)) / 1000`, an integer numerator.
    fn annual_thousandths(&self) -> i64 {
        let half: i64 = self.half_year.iter().sum();
        let [b2, b3] = self.year_end_ballots;
        half + 3 * self.year_end + 10 * (2 * self.half_year_ballot + b2 + b3)
    }

    /// The exact annual score as the service writes it (a normalised decimal).
    fn exact(&self) -> String {
        let n = self.annual_thousandths();
        let text = format!("{}.{:03}", n / 1000, n % 1000);
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }

    /// Half-up (四舍五入) to two decimals.
    fn published(&self) -> String {
        let hundredths = (self.annual_thousandths() + 5) / 10;
        format!("{}.{:02}", hundredths / 100, hundredths % 100)
    }

    /// §8.2's grade of the published score.
    fn grade(&self) -> &'static str {
        let hundredths = (self.annual_thousandths() + 5) / 10;
        match hundredths {
            h if h >= 9000 => "excellent",
            h if h >= 7500 => "competent",
            h if h >= 6000 => "basic",
            _ => "incompetent",
        }
    }
}

/// The issue's work team: 0.6 × mean(240.25/3, 74.8) + 0.4 × mean(71.3, 71.35) = 74.995.
const ISSUE_CASE: Case = Case {
    half_year: [8000, 8000, 8025],
    year_end: 7480,
    half_year_ballot: 713,
    year_end_ballots: [713, 714],
};

struct Scheme {
    id: String,
    half_year: String,
    year_end: String,
    democratic_half_year: String,
    democratic_year_end: String,
}

async fn seed_b(app: &TestApp) -> Scheme {
    let id = id_of(&instantiate(app, "county-poverty", None).await);
    Scheme {
        half_year: evaluation(app, &id, "half_year").await,
        year_end: evaluation(app, &id, "year_end").await,
        democratic_half_year: evaluation(app, &id, "democratic_half_year").await,
        democratic_year_end: evaluation(app, &id, "democratic_year_end").await,
        id,
    }
}

async fn bulk(app: &TestApp, path: &str, rows: &[Value]) -> Value {
    let reply = app.upload_json(path, rows, None).await;
    reply.assert(201);
    reply.body
}

/// Creates one work team per case and records every case's sheets and ballots in three uploads.
async fn record_cases(app: &TestApp, scheme: &Scheme, cases: &[Case]) -> Vec<String> {
    let department = app.org_unit("department", "县农业农村局", None).await;
    let teams: Vec<Value> = (0..cases.len())
        .map(|i| json!({"subject_type": "work_team", "name": format!("驻村工作队{i:03}"), "dispatched_by": department}))
        .collect();
    let created = bulk(app, "/api/v1/subjects:bulk", &teams).await;
    let ids: Vec<String> = created["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), cases.len());
    let mut sheets = Vec::new();
    let mut ballots = Vec::new();
    for (case, team) in cases.iter().zip(&ids) {
        for (assessor, total) in ["一组", "二组", "三组"].into_iter().zip(case.half_year) {
            sheets.push(json!({"evaluation_id": scheme.half_year, "subject_id": team, "assessor": assessor, "scores": scores(WORK_TEAM_ITEMS, total)}));
        }
        sheets.push(json!({"evaluation_id": scheme.year_end, "subject_id": team, "assessor": "一组", "scores": scores(WORK_TEAM_ITEMS, case.year_end)}));
        let tenths = |score: i64| format!("{}.{}", score / 10, score % 10);
        ballots.push(json!({"evaluation_id": scheme.democratic_half_year, "subject_id": team, "score": tenths(case.half_year_ballot), "participant": "代表1"}));
        for (participant, score) in ["代表1", "代表2"].into_iter().zip(case.year_end_ballots) {
            ballots.push(json!({"evaluation_id": scheme.democratic_year_end, "subject_id": team, "score": tenths(score), "participant": participant}));
        }
    }
    bulk(app, "/api/v1/scoresheets:bulk", &sheets).await;
    bulk(app, "/api/v1/ballots:bulk", &ballots).await;
    ids
}

#[actix_web::test]
async fn a_work_team_at_74_995_is_published_75_00_and_competent() {
    let app = spawn_app().await;
    let scheme = seed_b(&app).await;
    let team = record_cases(&app, &scheme, &[ISSUE_CASE]).await.remove(0);
    let reply = app
        .get_ok(&format!("/api/v1/subjects/{team}/result?scheme_id={}", scheme.id))
        .await;
    let result = &reply.body["result"];
    let annual = &result["annual"];
    assert_eq!(annual["value"], "74.995", "{annual}");
    assert!(annual.get("exact").is_none(), "74.995 terminates: {annual}");
    assert_eq!(annual["published_score"], "75.00");
    assert_eq!(result["grade"]["grade"], "competent");
    assert_eq!(result["grade"]["title"], "称职");
    assert_eq!(result["grade"]["bonus_pay"], "1");

    // The half-year total is 961/12: its decimal is rounded, its fraction is the value.
    let half = find_by(&result["evaluations"], "key", "half_year");
    assert_eq!(half["outcome"]["total"], "80.08333333333333333333333333");
    assert_eq!(half["outcome"]["exact"], "961/12");
    assert_eq!(half["outcome"]["published_score"], "80.08");
    // So is the own-evaluations leaf of the formula: mean(961/12, 74.8) = 9293/120.
    let own = &annual["formula"]["node"]["children"][0];
    assert_eq!(own["exact"], "9293/120", "{own}");
    // The democratic year-end meeting: mean(71.3, 71.4) = 71.35, exact.
    let democratic = find_by(&result["evaluations"], "key", "democratic_year_end");
    assert_eq!(democratic["outcome"]["score"], "71.35");

    // The results list and the ranking agree with the subject's result.
    let list = app
        .get_ok(&format!(
            "/api/v1/results?scheme_id={}&subject_type=work_team",
            scheme.id
        ))
        .await;
    let row = &list.body["items"][0];
    assert_eq!(row["score"], "74.995");
    assert_eq!(row["published_score"], "75.00");
    assert_eq!(row["grade"]["grade"], "competent");
}

/// A small deterministic generator (no clock, no global state): the same cases on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: i64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % below as u64) as i64
    }
}

/// At least 100 cases whose exact annual score lands exactly on a half cent (x.xx5), most of them
/// with a half-year mean that does not terminate (Σ of the three sheets not divisible by 3).
fn half_cent_cases() -> Vec<Case> {
    let mut random = Lcg(20231231);
    let mut cases = vec![ISSUE_CASE];
    while cases.len() < 120 {
        let case = Case {
            half_year: [
                5000 + random.next(5000),
                5000 + random.next(5000),
                5000 + random.next(5000),
            ],
            year_end: 5000 + random.next(5000),
            half_year_ballot: 500 + random.next(500),
            year_end_ballots: [500 + random.next(500), 500 + random.next(500)],
        };
        if case.annual_thousandths() % 10 == 5 {
            cases.push(case);
        }
    }
    cases
}

#[actix_web::test]
async fn a_sweep_of_half_cent_annual_scores_is_published_exactly_half_up() {
    let cases = half_cent_cases();
    let non_terminating = cases
        .iter()
        .filter(|case| case.half_year.iter().sum::<i64>() % 3 != 0)
        .count();
    assert!(
        non_terminating >= 60,
        "the sweep must exercise means of three that do not terminate"
    );
    let app = spawn_app().await;
    let scheme = seed_b(&app).await;
    let teams = record_cases(&app, &scheme, &cases).await;
    let list = app
        .get_ok(&format!(
            "/api/v1/results?scheme_id={}&subject_type=work_team&limit=1000",
            scheme.id
        ))
        .await;
    let rows = list.body["items"].as_array().unwrap();
    assert_eq!(rows.len(), cases.len());
    let mut wrong = Vec::new();
    for (case, team) in cases.iter().zip(&teams) {
        let row = rows.iter().find(|row| row["subject_id"] == team.as_str()).unwrap();
        let (score, published, grade) = (&row["score"], &row["published_score"], &row["grade"]["grade"]);
        if *score != case.exact().as_str() || *published != case.published().as_str() || *grade != case.grade() {
            wrong.push(format!(
                "{case:?}: expected {} → {} {}, got {score} → {published} {grade}",
                case.exact(),
                case.published(),
                case.grade()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} published wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}
