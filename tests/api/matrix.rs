//! Issue 4's access matrix: every operation of the committed OpenAPI document × every (level,
//! role) × own / sibling / parent scope, each answer's exact status checked against API.md's
//! "Auth" table as written out below (`contains`, `sees`, `may`) — never against the service's own
//! policy code.
//!
//! Scopes are named from town A's side: *own* is town A, its villages and what is stationed in
//! them; *sibling* is town B and its village; *parent* is the county level (the county, its
//! department, county-wide schemes, evaluations and publications, service accounts, the audit
//! trail). Every operation of the document needs a row in [`ROWS`] — a later one without a row
//! fails this test — and every scope a row claims must have been sent by every caller.
//!
//! One fixture serves the whole matrix. Reads and lists run first, against the fixture as built
//! (so every id a list shows is known and placed); writes follow, each against an object made for
//! it, so a write that succeeds (rightly or wrongly) never spoils a later case. Mismatches are
//! collected and reported together at the end.

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::{json, Value};

use crate::data::{
    evaluation, file_appeal, id_of, individual, instantiate, record, rubric_of, scores, sheet, stationed,
    DEPARTMENT_ITEMS, SECRETARY_ITEMS, TOWNSHIP_ITEMS,
};
use crate::helpers::{spawn_app, Reply, TestApp, ADMIN_PASSWORD, PASSWORD};

// ------------------------------------------------------------------------------------------------
// The policy: API.md, "Auth", written out.
//
// | role \ level | county | township | village |
// |---|---|---|---|
// | admin | everything in the county: org units, users, schemes, rubrics, subjects, publications | its villages and their users; publications of its town | — |
// | assessor | findings, scoresheets, ballots, evaluations for any subject in the county | the same for subjects in its town (its villages, and individuals stationed in them) | — |
// | viewer | read everything in the county (data platforms) | read its town | read its own village; appeal its own findings |
//
// Read as:
// - Every role reads the data of its own scope (the viewer cells say so; admins and assessors
//   cannot work without it). The county's own records — the audit trail and service accounts — are
//   "everything in the county": the county admin and the county viewer read them.
// - Rules and publications apply downwards: a scope also reads the county's and its own town's
//   schemes, rubrics, evaluations and publications (DOMAIN.md: visible to the levels they are
//   published to).
// - Writes are what the cells name, and nothing else: a town admin manages its *villages*, the
//   individuals stationed in them and their users (issue 5: "a township admin manages only
//   subjects in their town"; not its town, not schemes); a town assessor assesses its villages
//   and the individuals stationed in them (not the town itself: the county assesses its towns)
//   and runs its town's evaluations; a finding is appealed from the subject's own level
//   (DOMAIN.md §6): a village's users their village's, a town's users their town's own.
// - Service accounts are the county's administration: the county admin alone reads them (403
//   to the county's other users, 404 below); the audit trail is read by the county admin and
//   viewer.
// - Objects outside the caller's scope do not exist for it: named in the path they answer 404;
//   named in the body they are an unknown reference — 422 naming the field, or 404 where the body
//   names the resource acted on (the scheme to evaluate, publish or simulate). That comes before
//   any role check, so the answer never depends on whether the object exists. A caller who sees
//   everything the request names but may not do it gets 403.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Level {
    County,
    Township,
    Village,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Admin,
    Assessor,
    Viewer,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Town {
    A,
    B,
}

/// Where an object sits in the county's tree. Individuals sit in the village they are
/// stationed in; county-wide things sit at the county.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
    County,
    Town(Town),
    Village(Town, &'static str),
}

const COUNTY: Place = Place::County;
const TOWN_A: Place = Place::Town(Town::A);
const TOWN_B: Place = Place::Town(Town::B);
const A1: Place = Place::Village(Town::A, "A1");
const A2: Place = Place::Village(Town::A, "A2");
const B1: Place = Place::Village(Town::B, "B1");
/// Where a village the matrix creates will sit.
const NEW_IN_A: Place = Place::Village(Town::A, "new");
const NEW_IN_B: Place = Place::Village(Town::B, "new");

impl Place {
    fn town(self) -> Option<Town> {
        match self {
            Place::County => None,
            Place::Town(t) | Place::Village(t, _) => Some(t),
        }
    }

    /// The scope this place is, seen from town A.
    fn scope(self) -> Scope {
        match self.town() {
            None => Scope::Parent,
            Some(Town::A) => Scope::Own,
            Some(Town::B) => Scope::Sibling,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Scope {
    Own,
    Sibling,
    Parent,
    /// Operations on no scope (the caller's own account, the built-in catalogue).
    Everyone,
}

/// Who may see an object at all.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Data of its place: org units, users, subjects, findings, appeals, scoresheets, ballots,
    /// results, service accounts.
    Data,
    /// Rules and publications: schemes, rubrics, evaluations, publications.
    Rules,
}

/// What an operation needs, in the words of the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Need {
    /// Read (viewer cells; every role reads its scope).
    Read,
    /// Read the county's record of changes, the audit trail: county admin and viewer.
    ReadRecords,
    /// Villages, the individuals stationed in them and their users: county admin; town admin
    /// for its villages (issue 5: "a township admin manages only subjects in their town").
    ManageVillage,
    /// Townships, departments, county-level individuals, their users, schemes, rubrics,
    /// service accounts (reading them too): county admin.
    ManageCounty,
    /// Findings, scoresheets, ballots, appeal decisions about a subject: county admin and
    /// assessor; town assessor for its villages and the individuals stationed in them.
    Assess,
    /// Evaluations: county admin and assessor; town assessor for its town's.
    Evaluate,
    /// Publications: county admin; town admin for its town.
    Publish,
    /// Appeal: the subject's own level (DOMAIN.md §6; issue 5: "the subject's village/township
    /// viewer"): a village's users its village's findings, a town's users the town's own.
    Appeal,
}

struct Caller {
    name: &'static str,
    level: Level,
    role: Role,
    /// The org unit the caller works at.
    home: Place,
    token: String,
}

/// Is `place` inside the caller's own scope?
fn contains(c: &Caller, place: Place) -> bool {
    match c.level {
        Level::County => true,
        Level::Township => place.town() == c.home.town(),
        Level::Village => place == c.home,
    }
}

/// May the caller see an object of this kind at this place at all?
fn sees(c: &Caller, kind: Kind, place: Place) -> bool {
    contains(c, place)
        || kind == Kind::Rules
            && match place {
                Place::County => true,
                Place::Town(t) => c.home.town() == Some(t),
                Place::Village(..) => false,
            }
}

/// May the caller do what `need` says to something at `place` (that it sees)?
fn may(c: &Caller, need: Need, place: Place) -> bool {
    use Level::*;
    use Role::*;
    let county = |roles: &[Role]| c.level == County && roles.contains(&c.role);
    let in_its_town = c.level == Township && place.town() == c.home.town();
    let village = matches!(place, Place::Village(..));
    let town = matches!(place, Place::Town(_));
    match need {
        Need::Read => true,
        Need::ReadRecords => county(&[Admin, Viewer]),
        Need::ManageVillage => county(&[Admin]) || c.role == Admin && in_its_town && village,
        Need::ManageCounty => county(&[Admin]),
        Need::Assess => county(&[Admin, Assessor]) || c.role == Assessor && in_its_town && village,
        Need::Evaluate => county(&[Admin, Assessor]) || c.role == Assessor && in_its_town && town,
        Need::Publish => county(&[Admin]) || c.role == Admin && in_its_town && town,
        Need::Appeal => match c.level {
            Village => place == c.home,
            Township => town && place.town() == c.home.town(),
            County => false,
        },
    }
}

// ------------------------------------------------------------------------------------------------
// The rows: every operation of the document, and what the matrix covers of it.

enum Cover {
    /// Not scoped: asserted nowhere here, for the reason given.
    Exempt(&'static str),
    /// Not scoped, but authenticated: every caller is sent it.
    Everyone,
    /// Every caller is sent it against objects in each of these scopes.
    Scopes(&'static [Scope]),
}

use Cover::{Everyone, Exempt, Scopes};

const OSP: &[Scope] = &[Scope::Own, Scope::Sibling, Scope::Parent];
/// Appeals are filed from a village or a town, so none sits at the county.
const OS: &[Scope] = &[Scope::Own, Scope::Sibling];
const P: &[Scope] = &[Scope::Parent];

const ROWS: &[(&str, &str, Cover)] = &[
    ("GET", "/api/v1/appeals", Scopes(OS)),
    ("GET", "/api/v1/appeals/{id}", Scopes(OS)),
    ("POST", "/api/v1/appeals/{id}/decision", Scopes(OS)),
    ("POST", "/api/v1/attributes:bulk", Scopes(OSP)),
    ("GET", "/api/v1/audit-events", Scopes(P)),
    (
        "POST",
        "/api/v1/auth/token",
        Exempt("issues the token every other operation needs: there is no caller yet"),
    ),
    ("GET", "/api/v1/ballots", Scopes(OSP)),
    ("POST", "/api/v1/ballots", Scopes(OSP)),
    ("POST", "/api/v1/ballots:bulk", Scopes(OSP)),
    // Templates list only what the caller sees; with a scheme, that scheme is read as a rule.
    ("GET", "/api/v1/ballots:template", Everyone),
    ("GET", "/api/v1/built-in-schemes", Everyone),
    ("GET", "/api/v1/built-in-schemes/{key}", Everyone),
    ("GET", "/api/v1/evaluations", Scopes(OSP)),
    ("POST", "/api/v1/evaluations", Scopes(OSP)),
    ("GET", "/api/v1/evaluations/{id}", Scopes(OSP)),
    ("POST", "/api/v1/evidence", Everyone),
    ("GET", "/api/v1/evidence-links", Scopes(OSP)),
    ("GET", "/api/v1/evidence/{id}", Scopes(OSP)),
    ("GET", "/api/v1/evidence/{id}/content", Scopes(OSP)),
    ("POST", "/api/v1/evidence/{id}/links", Scopes(OSP)),
    ("POST", "/api/v1/evidence/{id}/links/{link_id}/detach", Scopes(OSP)),
    ("POST", "/api/v1/evaluations/{id}/close", Scopes(OSP)),
    ("POST", "/api/v1/evaluations/{id}/reopen", Scopes(OSP)),
    ("GET", "/api/v1/incidents", Scopes(OSP)),
    ("POST", "/api/v1/incidents", Scopes(OSP)),
    ("GET", "/api/v1/incidents/{id}", Scopes(OSP)),
    ("POST", "/api/v1/incidents/{id}/appeals", Scopes(OSP)),
    ("POST", "/api/v1/incidents/{id}/revoke", Scopes(OSP)),
    ("POST", "/api/v1/incidents:bulk", Scopes(OSP)),
    ("GET", "/api/v1/incidents:template", Scopes(OSP)),
    ("GET", "/api/v1/jobs/{id}", Everyone),
    ("GET", "/api/v1/jobs/{id}/events", Everyone),
    ("GET", "/api/v1/jobs/{id}/result", Everyone),
    ("GET", "/api/v1/org-units", Scopes(OSP)),
    ("POST", "/api/v1/org-units", Scopes(OSP)),
    ("GET", "/api/v1/org-units/{id}", Scopes(OSP)),
    ("PATCH", "/api/v1/org-units/{id}", Scopes(OSP)),
    ("GET", "/api/v1/publications", Scopes(OSP)),
    ("POST", "/api/v1/publications", Scopes(OSP)),
    // Non-public publications are scoped; public ones are public by design (also checked below).
    ("GET", "/api/v1/publications/{id}", Scopes(OSP)),
    ("GET", "/api/v1/rankings", Scopes(OSP)),
    ("GET", "/api/v1/results", Scopes(OSP)),
    ("POST", "/api/v1/results:simulate", Scopes(OSP)),
    ("GET", "/api/v1/rubrics", Scopes(OSP)),
    ("GET", "/api/v1/rubrics/{id}", Scopes(OSP)),
    ("PUT", "/api/v1/rubrics/{id}", Scopes(OSP)),
    ("GET", "/api/v1/schemes", Scopes(OSP)),
    ("POST", "/api/v1/schemes", Scopes(OSP)),
    ("GET", "/api/v1/schemes/{id}", Scopes(OSP)),
    ("PATCH", "/api/v1/schemes/{id}", Scopes(OSP)),
    ("GET", "/api/v1/scoresheets", Scopes(OSP)),
    ("POST", "/api/v1/scoresheets", Scopes(OSP)),
    ("POST", "/api/v1/scoresheets:bulk", Scopes(OSP)),
    ("GET", "/api/v1/scoresheets:template", Scopes(OSP)),
    ("GET", "/api/v1/service-accounts", Scopes(P)),
    ("POST", "/api/v1/service-accounts", Scopes(P)),
    ("GET", "/api/v1/service-accounts/{id}", Scopes(P)),
    ("POST", "/api/v1/service-accounts/{id}/revoke", Scopes(P)),
    ("GET", "/api/v1/subjects", Scopes(OSP)),
    ("POST", "/api/v1/subjects", Scopes(OSP)),
    ("GET", "/api/v1/subjects/{id}", Scopes(OSP)),
    ("PATCH", "/api/v1/subjects/{id}", Scopes(OSP)),
    ("GET", "/api/v1/subjects/{id}/attributes/{scheme_id}", Scopes(OSP)),
    ("PUT", "/api/v1/subjects/{id}/attributes/{scheme_id}", Scopes(OSP)),
    ("GET", "/api/v1/subjects/{id}/result", Scopes(OSP)),
    ("POST", "/api/v1/subjects:bulk", Scopes(OSP)),
    ("GET", "/api/v1/subjects:template", Everyone),
    ("GET", "/api/v1/users", Scopes(OSP)),
    ("POST", "/api/v1/users", Scopes(OSP)),
    ("GET", "/api/v1/users/me", Everyone),
    ("PUT", "/api/v1/users/me/password", Everyone),
    ("GET", "/api/v1/users/{id}", Scopes(OSP)),
    ("PATCH", "/api/v1/users/{id}", Scopes(OSP)),
    ("GET", "/api/v1/vocabulary", Everyone),
    ("GET", "/healthz", Exempt("liveness probe: no token, no data")),
    (
        "GET",
        "/metrics",
        Exempt("operations metrics: counts per route, no county's data"),
    ),
    ("GET", "/readyz", Exempt("readiness probe: no token, no data")),
    ("GET", "/api/v1/webhooks", Scopes(P)),
    ("POST", "/api/v1/webhooks", Scopes(P)),
    ("GET", "/api/v1/webhooks/{id}", Scopes(P)),
    ("PATCH", "/api/v1/webhooks/{id}", Scopes(P)),
    ("GET", "/api/v1/webhook-deliveries", Scopes(P)),
    ("POST", "/api/v1/webhook-deliveries/{id}/retry", Scopes(P)),
];

/// The operations (`METHOD /path`) of the committed OpenAPI document.
fn documented_operations() -> BTreeSet<String> {
    let doc: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).expect("the committed document");
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "options", "head", "patch", "trace"] {
            if item.get(method).is_some() {
                operations.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    operations
}

// ------------------------------------------------------------------------------------------------
// The runner.

struct Matrix {
    app: TestApp,
    callers: Vec<Caller>,
    /// (operation, scope, caller) triples asserted.
    covered: BTreeSet<(String, Scope, &'static str)>,
    mismatches: Vec<String>,
    cases: usize,
    /// Ids checked for presence or absence in list answers.
    listed: usize,
    /// For unique names of what the matrix creates.
    serial: usize,
}

/// A named object of the fixture with its place.
type Known = Vec<(String, Place)>;

impl Matrix {
    fn next(&mut self) -> usize {
        self.serial += 1;
        self.serial
    }

    /// The status API.md's table gives: 404/422 (`hidden`) when a named object is outside what
    /// the caller sees, 403 when it sees them all but may not do this at `at`, else `ok`.
    fn expect(&self, c: usize, need: Need, at: Place, refs: &[(Kind, Place)], hidden: u16, ok: u16) -> u16 {
        let caller = &self.callers[c];
        if refs.iter().any(|&(kind, place)| !sees(caller, kind, place)) {
            hidden
        } else if !may(caller, need, at) {
            403
        } else {
            ok
        }
    }

    async fn request(&self, token: Option<&str>, method: &str, path: &str, body: Option<&Value>) -> Reply {
        match body {
            Some(body) => {
                self.app
                    .send(
                        method,
                        path,
                        token,
                        &[("content-type", "application/json")],
                        Some(serde_json::to_vec(body).unwrap()),
                    )
                    .await
            }
            None => self.app.send(method, path, token, &[], None).await,
        }
    }

    async fn call(&self, c: usize, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let token = self.callers[c].token.clone();
        self.request(Some(&token), method, path, body).await
    }

    /// A set-up request as the county admin, which must answer `status`.
    async fn admin(&self, method: &str, path: &str, body: Option<&Value>, status: u16) -> Value {
        let token = self.app.admin.clone();
        let reply = self.request(Some(&token), method, path, body).await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "set-up {method} {path} {body:?}: {}",
            reply.body
        );
        reply.body
    }

    /// The current `version` of a resource, read as the county admin.
    async fn version(&self, path: &str) -> Value {
        let body = self.admin("GET", path, None, 200).await;
        body["version"].clone()
    }

    fn record(&mut self, op: &str, c: usize, scope: Scope) -> &'static str {
        let name = self.callers[c].name;
        self.covered.insert((op.to_owned(), scope, name));
        name
    }

    fn check(&mut self, op: &str, c: usize, scope: Scope, what: &str, expected: u16, reply: &Reply) {
        self.cases += 1;
        let name = self.record(op, c, scope);
        let got = reply.status.as_u16();
        if got != expected {
            self.mismatches.push(format!(
                "{op} [{what}] as {name}: expected {expected}, got {got} {}",
                reply.code()
            ));
        }
    }

    /// A list answer: its status, and — when 200 — every id it shows is known and visible to
    /// the caller, and (when `complete`) every known id the caller sees is there.
    #[allow(clippy::too_many_arguments)]
    fn check_list(
        &mut self,
        op: &str,
        c: usize,
        what: &str,
        expected: u16,
        reply: &Reply,
        found: Vec<String>,
        kind: Kind,
        universe: &Known,
        complete: bool,
    ) {
        for (_, place) in universe {
            self.record(op, c, place.scope());
        }
        let scope = universe.first().map(|(_, p)| p.scope()).unwrap_or(Scope::Parent);
        self.check(op, c, scope, what, expected, reply);
        if reply.status.as_u16() != 200 || expected != 200 {
            return;
        }
        let name = self.callers[c].name;
        for id in &found {
            self.listed += 1;
            match universe.iter().find(|(known, _)| known == id) {
                None => self.mismatches.push(format!(
                    "{op} [{what}] as {name}: lists {id}, which the fixture does not hold"
                )),
                Some((_, place)) if !sees(&self.callers[c], kind, *place) => self.mismatches.push(format!(
                    "{op} [{what}] as {name}: lists {id} at {place:?}, outside its scope"
                )),
                Some(_) => {}
            }
        }
        if complete {
            for (id, place) in universe {
                if sees(&self.callers[c], kind, *place) && !found.contains(id) {
                    self.listed += 1;
                    self.mismatches.push(format!(
                        "{op} [{what}] as {name}: misses {id} at {place:?}, inside its scope"
                    ));
                }
            }
        }
    }

    /// GETs `path(id)` of each target as every caller: the target's own visibility decides.
    async fn reads(&mut self, op: &str, kind: Kind, targets: &[(&str, String, Place)], path: impl Fn(&str) -> String) {
        for c in 0..self.callers.len() {
            for (what, id, place) in targets {
                let expected = self.expect(c, Need::Read, *place, &[(kind, *place)], 404, 200);
                let reply = self.call(c, "GET", &path(id), None).await;
                self.check(op, c, place.scope(), what, expected, &reply);
            }
        }
    }
}

/// The ids (`key` of each item) of a page answer.
fn items(reply: &Reply, key: &str) -> Vec<String> {
    let list = if reply.body.is_array() {
        &reply.body
    } else {
        &reply.body["items"]
    };
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i[key].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The subject ids of every ranking entry.
fn ranked(reply: &Reply) -> Vec<String> {
    reply.body["rankings"]
        .as_array()
        .map(|groups| {
            groups
                .iter()
                .flat_map(|g| g["entries"].as_array().cloned().unwrap_or_default())
                .filter_map(|e| e["subject_id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A finding the built-in rubrics accept: a deduction for a village (Seed A), a veto for anything
/// the county scheme assesses (Seed B).
fn finding(subject: &str, village: bool) -> Value {
    if village {
        json!({"subject_id": subject, "item_code": "1.1", "rule_code": "L1", "quantity": 1, "occurred_on": "2023-03-01"})
    } else {
        json!({"subject_id": subject, "kind": "veto", "note": "否决", "occurred_on": "2023-04-01"})
    }
}

// ------------------------------------------------------------------------------------------------
// The fixture.

struct Fixture {
    county: String,
    town_a: String,
    town_b: String,
    a1: String,
    a2: String,
    b1: String,
    department: String,
    /// First secretaries stationed in A1 and B1; an agricultural technician of the county.
    sec_a: String,
    sec_b: String,
    tech_c: String,
    /// Seed A for town A and for town B, Seed B for the county.
    scheme_a: String,
    scheme_b: String,
    scheme_c: String,
    /// The year-end evaluations of the town schemes; the county's half-year and democratic ones.
    ev_a: String,
    ev_b: String,
    ev_half: String,
    ev_democratic: String,
    village_b1_viewer: String,
    /// user name → (id, place)
    users: Vec<(String, String, Place)>,
    org_units: Known,
    subjects: Known,
    incidents: Known,
    appeals: Known,
    scoresheets: Known,
    ballots: Known,
    evaluations: Known,
    schemes: Known,
    publications: Known,
    /// The scheme of each publication, in the same order, and whether it is public.
    published_schemes: Vec<(String, bool)>,
    public_b: String,
    service_accounts: Known,
}

impl Fixture {
    fn user(&self, name: &str) -> String {
        self.users
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, id, _)| id.clone())
            .unwrap_or_else(|| panic!("no user {name}"))
    }

    /// The subjects a scheme scores.
    fn covered(&self, scheme: &str) -> Known {
        let ids: Vec<&String> = if scheme == self.scheme_a {
            vec![&self.a1, &self.a2]
        } else if scheme == self.scheme_b {
            vec![&self.b1]
        } else {
            vec![
                &self.town_a,
                &self.town_b,
                &self.department,
                &self.sec_a,
                &self.sec_b,
                &self.tech_c,
            ]
        };
        self.subjects
            .iter()
            .filter(|(id, _)| ids.contains(&id))
            .cloned()
            .collect()
    }

    fn first(list: &Known, place: Place) -> String {
        list.iter()
            .find(|(_, p)| *p == place)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("nothing at {place:?}"))
    }
}

async fn fixture() -> (Matrix, Fixture) {
    let app = spawn_app().await;
    let w = app.world().await;
    let village_b1_viewer = app.user("village-b1-viewer", &w.village_b1, "viewer").await;
    let county = app.county_id.clone();

    let scheme_a = id_of(&instantiate(&app, "tongshi-2023-village", Some(&w.town_a)).await);
    let scheme_b = id_of(&instantiate(&app, "tongshi-2023-village", Some(&w.town_b)).await);
    let scheme_c = id_of(&instantiate(&app, "county-poverty", None).await);
    let sec_a = stationed(&app, &w, "first_secretary", "李明", &w.village_a1).await;
    let sec_b = stationed(&app, &w, "first_secretary", "王强", &w.village_b1).await;
    let tech_c = individual(&app, "agri_tech", "赵农", None, None).await;

    let mut incidents = Vec::new();
    for (token, subject, village, place) in [
        (&w.town_a_assessor, &w.village_a1, true, A1),
        (&w.town_a_assessor, &w.village_a2, true, A2),
        (&w.town_b_assessor, &w.village_b1, true, B1),
        (&w.county_assessor, &w.town_a, false, TOWN_A),
        (&w.county_assessor, &w.town_b, false, TOWN_B),
        (&w.county_assessor, &w.department, false, COUNTY),
    ] {
        incidents.push((id_of(&record(&app, token, finding(subject, village)).await), place));
    }
    let ev_a = evaluation(&app, &scheme_a, "year_end").await;
    let ev_b = evaluation(&app, &scheme_b, "year_end").await;
    let ev_half = evaluation(&app, &scheme_c, "half_year").await;
    let ev_democratic = evaluation(&app, &scheme_c, "democratic_half_year").await;

    let mut scoresheets = Vec::new();
    for (subject, items, place) in [
        (&w.town_a, TOWNSHIP_ITEMS, TOWN_A),
        (&sec_a, SECRETARY_ITEMS, A1),
        (&w.town_b, TOWNSHIP_ITEMS, TOWN_B),
        (&sec_b, SECRETARY_ITEMS, B1),
        (&w.department, DEPARTMENT_ITEMS, COUNTY),
    ] {
        let stored = sheet(&app, &w.county_assessor, &ev_half, subject, scores(items, 9000)).await;
        scoresheets.push((id_of(&stored), place));
    }
    let mut ballots = Vec::new();
    for (subject, place) in [(&sec_a, A1), (&sec_b, B1), (&tech_c, COUNTY)] {
        let cast = app
            .post(
                "/api/v1/ballots",
                &w.county_assessor,
                &json!({"evaluation_id": ev_democratic, "subject_id": subject, "score": "90"}),
            )
            .await;
        ballots.push((cast.assert(201).id(), place));
    }
    let mut appeals = Vec::new();
    for (token, finding_id, place) in [
        (&w.village_a1_viewer, &incidents[0].0, A1),
        (&village_b1_viewer, &incidents[2].0, B1),
    ] {
        let filed = file_appeal(&app, token, finding_id, "数据已更正").await;
        appeals.push((filed.id(), place));
    }
    let mut publications = Vec::new();
    let mut published_schemes = Vec::new();
    for (scheme, public, place) in [
        (&scheme_a, false, TOWN_A),
        (&scheme_b, false, TOWN_B),
        (&scheme_c, false, COUNTY),
        (&scheme_b, true, TOWN_B),
    ] {
        let published = app
            .post_as_admin("/api/v1/publications", &json!({"scheme_id": scheme, "public": public}))
            .await;
        publications.push((published.assert(201).id(), place));
        published_schemes.push((scheme.clone(), public));
    }
    let public_b = publications[3].0.clone();
    let account = app
        .post_as_admin("/api/v1/service-accounts", &json!({"name": "省数据平台"}))
        .await
        .assert(201)
        .id();

    let listed = app.get("/api/v1/users?limit=1000", &app.admin).await;
    let place_of_user = |name: &str| match name {
        "admin" | "county-assessor" | "county-viewer" => COUNTY,
        "town-a-admin" | "town-a-assessor" | "town-a-viewer" => TOWN_A,
        "town-b-assessor" => TOWN_B,
        "village-a1-viewer" => A1,
        "village-b1-viewer" => B1,
        other => panic!("unexpected user {other}"),
    };
    let users = listed.assert(200).body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let name = u["username"].as_str().unwrap().to_owned();
            let place = place_of_user(&name);
            (name, u["id"].as_str().unwrap().to_owned(), place)
        })
        .collect();

    let org_units = vec![
        (county.clone(), COUNTY),
        (w.town_a.clone(), TOWN_A),
        (w.village_a1.clone(), A1),
        (w.village_a2.clone(), A2),
        (w.town_b.clone(), TOWN_B),
        (w.village_b1.clone(), B1),
        (w.department.clone(), COUNTY),
    ];
    let subjects = vec![
        (w.town_a.clone(), TOWN_A),
        (w.village_a1.clone(), A1),
        (w.village_a2.clone(), A2),
        (sec_a.clone(), A1),
        (w.town_b.clone(), TOWN_B),
        (w.village_b1.clone(), B1),
        (sec_b.clone(), B1),
        (w.department.clone(), COUNTY),
        (tech_c.clone(), COUNTY),
    ];
    let schemes = vec![
        (scheme_a.clone(), TOWN_A),
        (scheme_b.clone(), TOWN_B),
        (scheme_c.clone(), COUNTY),
    ];
    // Every evaluation, placed by its scheme.
    let all = app.get("/api/v1/evaluations?limit=1000", &app.admin).await;
    let evaluations = all.assert(200).body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let place = schemes
                .iter()
                .find(|(s, _)| e["scheme_id"].as_str() == Some(s.as_str()))
                .map(|(_, p)| *p)
                .unwrap_or_else(|| panic!("evaluation of an unknown scheme: {e}"));
            (e["id"].as_str().unwrap().to_owned(), place)
        })
        .collect();

    let callers = vec![
        ("county admin", Level::County, Role::Admin, COUNTY, app.admin.clone()),
        (
            "county assessor",
            Level::County,
            Role::Assessor,
            COUNTY,
            w.county_assessor.clone(),
        ),
        (
            "county viewer",
            Level::County,
            Role::Viewer,
            COUNTY,
            w.county_viewer.clone(),
        ),
        (
            "town A admin",
            Level::Township,
            Role::Admin,
            TOWN_A,
            w.town_a_admin.clone(),
        ),
        (
            "town A assessor",
            Level::Township,
            Role::Assessor,
            TOWN_A,
            w.town_a_assessor.clone(),
        ),
        (
            "town A viewer",
            Level::Township,
            Role::Viewer,
            TOWN_A,
            w.town_a_viewer.clone(),
        ),
        (
            "town B assessor",
            Level::Township,
            Role::Assessor,
            TOWN_B,
            w.town_b_assessor.clone(),
        ),
        (
            "village A1 viewer",
            Level::Village,
            Role::Viewer,
            A1,
            w.village_a1_viewer.clone(),
        ),
    ]
    .into_iter()
    .map(|(name, level, role, home, token)| Caller {
        name,
        level,
        role,
        home,
        token,
    })
    .collect();

    let fx = Fixture {
        county,
        town_a: w.town_a.clone(),
        town_b: w.town_b.clone(),
        a1: w.village_a1.clone(),
        a2: w.village_a2.clone(),
        b1: w.village_b1.clone(),
        department: w.department.clone(),
        sec_a,
        sec_b,
        tech_c,
        scheme_a,
        scheme_b,
        scheme_c,
        ev_a,
        ev_b,
        ev_half,
        ev_democratic,
        village_b1_viewer,
        users,
        org_units,
        subjects,
        incidents,
        appeals,
        scoresheets,
        ballots,
        evaluations,
        schemes,
        publications,
        published_schemes,
        public_b,
        service_accounts: vec![(account, COUNTY)],
    };
    let matrix = Matrix {
        app,
        callers,
        covered: BTreeSet::new(),
        mismatches: Vec::new(),
        cases: 0,
        listed: 0,
        serial: 0,
    };
    (matrix, fx)
}

// ------------------------------------------------------------------------------------------------
// The matrix.

#[actix_web::test]
async fn every_operation_answers_every_role_level_and_scope_as_the_policy_says() {
    let started = Instant::now();

    // Every operation of the document has a row, and every row is an operation of the document.
    let documented = documented_operations();
    let rows: BTreeSet<String> = ROWS.iter().map(|(m, p, _)| format!("{m} {p}")).collect();
    assert_eq!(rows.len(), ROWS.len(), "an operation has two rows");
    let missing: Vec<&String> = documented.difference(&rows).collect();
    assert!(
        missing.is_empty(),
        "operations with no row in the access matrix (add one to ROWS, with its cases): {missing:?}"
    );
    let stale: Vec<&String> = rows.difference(&documented).collect();
    assert!(
        stale.is_empty(),
        "rows of operations the document no longer has: {stale:?}"
    );
    for (method, path, cover) in ROWS {
        if let Exempt(reason) = cover {
            assert!(!reason.trim().is_empty(), "{method} {path} is exempt without a reason");
        }
    }

    let (mut m, fx) = fixture().await;
    let fixture_took = started.elapsed();

    lists(&mut m, &fx).await;
    single_reads(&mut m, &fx).await;
    publication_views(&mut m, &fx).await;
    unscoped(&mut m).await;
    jobs(&mut m).await;
    records(&mut m, &fx).await;
    webhook_records(&mut m).await;
    identity_writes(&mut m, &fx).await;
    subject_writes(&mut m, &fx).await;
    finding_writes(&mut m, &fx).await;
    evidence_files(&mut m, &fx).await;
    input_writes(&mut m, &fx).await;
    evaluation_writes(&mut m, &fx).await;
    publication_writes(&mut m, &fx).await;
    rule_writes(&mut m, &fx).await;

    // Every row's scopes were sent by every caller.
    let mut unexercised = Vec::new();
    for (method, path, cover) in ROWS {
        let op = format!("{method} {path}");
        let scopes: &[Scope] = match cover {
            Exempt(_) => continue,
            Everyone => &[Scope::Everyone],
            Scopes(scopes) => scopes,
        };
        for scope in scopes {
            for caller in &m.callers {
                if !m.covered.contains(&(op.clone(), *scope, caller.name)) {
                    unexercised.push(format!("{op} / {scope:?} / {}", caller.name));
                }
            }
        }
    }
    let unknown: Vec<&String> = m
        .covered
        .iter()
        .map(|(op, _, _)| op)
        .filter(|op| !rows.contains(*op))
        .collect();
    eprintln!(
        "access matrix: {} statuses and {} listed ids asserted over {} operations ({} exempt) in {:.1?} (fixture {:.1?})",
        m.cases,
        m.listed,
        ROWS.len(),
        ROWS.iter().filter(|(_, _, c)| matches!(c, Exempt(_))).count(),
        started.elapsed(),
        fixture_took,
    );
    assert!(unknown.is_empty(), "cases of operations with no row: {unknown:?}");
    assert!(
        unexercised.is_empty(),
        "rows claim scopes no case sent:\n{}",
        unexercised.join("\n")
    );
    assert!(
        m.mismatches.is_empty(),
        "{} of {} answers contradict API.md's access policy:\n{}",
        m.mismatches.len(),
        m.cases,
        m.mismatches.join("\n")
    );
}

/// Lists show exactly the caller's part of the fixture.
async fn lists(m: &mut Matrix, fx: &Fixture) {
    let users: Known = fx.users.iter().map(|(_, id, p)| (id.clone(), *p)).collect();
    let plain: [(&str, &str, Kind, &Known); 10] = [
        (
            "GET /api/v1/org-units",
            "/api/v1/org-units?limit=1000",
            Kind::Data,
            &fx.org_units,
        ),
        ("GET /api/v1/users", "/api/v1/users?limit=1000", Kind::Data, &users),
        (
            "GET /api/v1/subjects",
            "/api/v1/subjects?limit=1000",
            Kind::Data,
            &fx.subjects,
        ),
        (
            "GET /api/v1/incidents",
            "/api/v1/incidents?limit=1000",
            Kind::Data,
            &fx.incidents,
        ),
        (
            "GET /api/v1/appeals",
            "/api/v1/appeals?limit=1000",
            Kind::Data,
            &fx.appeals,
        ),
        (
            "GET /api/v1/scoresheets",
            "/api/v1/scoresheets?limit=1000",
            Kind::Data,
            &fx.scoresheets,
        ),
        (
            "GET /api/v1/ballots",
            "/api/v1/ballots?limit=1000",
            Kind::Data,
            &fx.ballots,
        ),
        (
            "GET /api/v1/schemes",
            "/api/v1/schemes?limit=1000",
            Kind::Rules,
            &fx.schemes,
        ),
        (
            "GET /api/v1/evaluations",
            "/api/v1/evaluations?limit=1000",
            Kind::Rules,
            &fx.evaluations,
        ),
        (
            "GET /api/v1/publications",
            "/api/v1/publications?limit=1000",
            Kind::Rules,
            &fx.publications,
        ),
    ];
    for c in 0..m.callers.len() {
        for (op, path, kind, universe) in plain {
            let reply = m.call(c, "GET", path, None).await;
            let found = items(&reply, "id");
            m.check_list(op, c, path, 200, &reply, found, kind, universe, true);
        }
        // A filter cannot widen the scope.
        for (op, path, kind, universe) in [
            (
                "GET /api/v1/incidents",
                format!("/api/v1/incidents?township_id={}&limit=1000", fx.town_b),
                Kind::Data,
                &fx.incidents,
            ),
            (
                "GET /api/v1/subjects",
                format!("/api/v1/subjects?village_id={}&limit=1000", fx.b1),
                Kind::Data,
                &fx.subjects,
            ),
            (
                "GET /api/v1/org-units",
                format!("/api/v1/org-units?parent_id={}&limit=1000", fx.town_b),
                Kind::Data,
                &fx.org_units,
            ),
        ] {
            let reply = m.call(c, "GET", &path, None).await;
            let found = items(&reply, "id");
            m.check_list(op, c, &path, 200, &reply, found, kind, universe, false);
        }
        // The county's records: service accounts are its administration, the audit trail its
        // record of changes.
        let need_records = m.expect(c, Need::ReadRecords, COUNTY, &[], 404, 200);
        let need_accounts = m.expect(c, Need::ManageCounty, COUNTY, &[], 404, 200);
        let reply = m.call(c, "GET", "/api/v1/service-accounts?limit=1000", None).await;
        let found = items(&reply, "id");
        m.check_list(
            "GET /api/v1/service-accounts",
            c,
            "the county's service accounts",
            need_accounts,
            &reply,
            found,
            Kind::Data,
            &fx.service_accounts,
            true,
        );
        let reply = m.call(c, "GET", "/api/v1/audit-events?limit=10", None).await;
        m.check(
            "GET /api/v1/audit-events",
            c,
            Scope::Parent,
            "the county's audit trail",
            need_records,
            &reply,
        );
        // Results and rankings of each scheme: the scheme must be visible, the rows filtered.
        for (scheme, place) in fx.schemes.clone() {
            let universe = fx.covered(&scheme);
            let expected = m.expect(c, Need::Read, place, &[(Kind::Rules, place)], 404, 200);
            let path = format!("/api/v1/results?scheme_id={scheme}");
            let reply = m.call(c, "GET", &path, None).await;
            let found = items(&reply, "subject_id");
            let what = format!("results of the {place:?} scheme");
            m.record("GET /api/v1/results", c, place.scope());
            m.check_list(
                "GET /api/v1/results",
                c,
                &what,
                expected,
                &reply,
                found,
                Kind::Data,
                &universe,
                true,
            );
            let path = format!("/api/v1/rankings?scheme_id={scheme}");
            let reply = m.call(c, "GET", &path, None).await;
            let found = ranked(&reply);
            let what = format!("rankings of the {place:?} scheme");
            m.record("GET /api/v1/rankings", c, place.scope());
            m.check_list(
                "GET /api/v1/rankings",
                c,
                &what,
                expected,
                &reply,
                found,
                Kind::Data,
                &universe,
                false,
            );
            let path = format!("/api/v1/rubrics?scheme_id={scheme}");
            let reply = m.call(c, "GET", &path, None).await;
            let what = format!("rubrics of the {place:?} scheme");
            m.check("GET /api/v1/rubrics", c, place.scope(), &what, expected, &reply);
        }
    }
}

/// What each caller reads of each publication, in every format (issue 17 §1, DOMAIN.md §9): a
/// public one every row; one that is not public the rows of subjects the caller's scope contains
/// (the whole for the county), or 404 when there are none — and 404 where the publication itself
/// is out of sight.
async fn publication_views(m: &mut Matrix, fx: &Fixture) {
    use crate::publications::{ranked_ids, result_ids, FORMATS};
    for (n, (id, place)) in fx.publications.clone().into_iter().enumerate() {
        let (scheme, public) = fx.published_schemes[n].clone();
        let universe = fx.covered(&scheme);
        let candidates: Vec<String> = universe.iter().map(|(s, _)| s.clone()).collect();
        let token = m.app.admin.clone();
        let whole = m
            .request(Some(&token), "GET", &format!("/api/v1/publications/{id}"), None)
            .await;
        whole.assert(200);
        let ranked_whole = ranked_ids(&whole, "json", &candidates);
        let what = format!("{} publication at {place:?}", if public { "a public" } else { "a" });
        for c in 0..m.callers.len() {
            let caller = &m.callers[c];
            let rows: BTreeSet<String> = universe
                .iter()
                .filter(|(_, p)| public || contains(caller, *p))
                .map(|(s, _)| s.clone())
                .collect();
            let visible = public || sees(caller, Kind::Rules, place);
            let expected = if visible && !rows.is_empty() { 200 } else { 404 };
            let ranked: BTreeSet<String> = ranked_whole.intersection(&rows).cloned().collect();
            for format in FORMATS {
                let path = format!("/api/v1/publications/{id}?format={format}");
                let reply = m.call(c, "GET", &path, None).await;
                let op = "GET /api/v1/publications/{id}";
                m.check(op, c, place.scope(), &format!("{what} as {format}"), expected, &reply);
                if expected != 200 || reply.status.as_u16() != 200 {
                    continue;
                }
                let name = m.callers[c].name;
                m.listed += rows.len();
                if format == "json" && result_ids(&reply) != rows {
                    m.mismatches.push(format!(
                        "{op} [{what}] as {name}: shows results of {:?}, its scope holds {rows:?}",
                        result_ids(&reply)
                    ));
                }
                let shown = ranked_ids(&reply, format, &candidates);
                if shown != ranked {
                    m.mismatches.push(format!(
                        "{op} [{what} as {format}] as {name}: ranks {shown:?}, its scope holds {ranked:?}"
                    ));
                }
            }
        }
    }
}

/// Single objects by id.
async fn single_reads(m: &mut Matrix, fx: &Fixture) {
    let at = |list: &Known, place| Fixture::first(list, place);
    let org_units = [
        ("village A1", fx.a1.clone(), A1),
        ("town A", fx.town_a.clone(), TOWN_A),
        ("village B1", fx.b1.clone(), B1),
        ("town B", fx.town_b.clone(), TOWN_B),
        ("the department", fx.department.clone(), COUNTY),
        ("the county", fx.county.clone(), COUNTY),
    ];
    m.reads("GET /api/v1/org-units/{id}", Kind::Data, &org_units, |id| {
        format!("/api/v1/org-units/{id}")
    })
    .await;
    let subjects = [
        ("village A1", fx.a1.clone(), A1),
        ("town A", fx.town_a.clone(), TOWN_A),
        ("A1's first secretary", fx.sec_a.clone(), A1),
        ("village B1", fx.b1.clone(), B1),
        ("town B", fx.town_b.clone(), TOWN_B),
        ("B1's first secretary", fx.sec_b.clone(), B1),
        ("the department", fx.department.clone(), COUNTY),
        ("the county's technician", fx.tech_c.clone(), COUNTY),
    ];
    m.reads("GET /api/v1/subjects/{id}", Kind::Data, &subjects, |id| {
        format!("/api/v1/subjects/{id}")
    })
    .await;
    let users = [
        ("town A's assessor", fx.user("town-a-assessor"), TOWN_A),
        ("village A1's viewer", fx.user("village-a1-viewer"), A1),
        ("town B's assessor", fx.user("town-b-assessor"), TOWN_B),
        ("village B1's viewer", fx.user("village-b1-viewer"), B1),
        ("the county's assessor", fx.user("county-assessor"), COUNTY),
    ];
    m.reads("GET /api/v1/users/{id}", Kind::Data, &users, |id| {
        format!("/api/v1/users/{id}")
    })
    .await;
    let incidents = [
        ("a finding in A1", at(&fx.incidents, A1), A1),
        ("a finding against town A", at(&fx.incidents, TOWN_A), TOWN_A),
        ("a finding in B1", at(&fx.incidents, B1), B1),
        ("a finding against town B", at(&fx.incidents, TOWN_B), TOWN_B),
        ("a finding against the department", at(&fx.incidents, COUNTY), COUNTY),
    ];
    m.reads("GET /api/v1/incidents/{id}", Kind::Data, &incidents, |id| {
        format!("/api/v1/incidents/{id}")
    })
    .await;
    let appeals = [
        ("an appeal in A1", at(&fx.appeals, A1), A1),
        ("an appeal in B1", at(&fx.appeals, B1), B1),
    ];
    m.reads("GET /api/v1/appeals/{id}", Kind::Data, &appeals, |id| {
        format!("/api/v1/appeals/{id}")
    })
    .await;
    let schemes = [
        ("town A's scheme", fx.scheme_a.clone(), TOWN_A),
        ("town B's scheme", fx.scheme_b.clone(), TOWN_B),
        ("the county's scheme", fx.scheme_c.clone(), COUNTY),
    ];
    m.reads("GET /api/v1/schemes/{id}", Kind::Rules, &schemes, |id| {
        format!("/api/v1/schemes/{id}")
    })
    .await;
    // An upload template of a scheme is read like the scheme.
    m.reads("GET /api/v1/incidents:template", Kind::Rules, &schemes, |id| {
        format!("/api/v1/incidents:template?scheme_id={id}")
    })
    .await;
    m.reads("GET /api/v1/scoresheets:template", Kind::Rules, &schemes, |id| {
        format!("/api/v1/scoresheets:template?scheme_id={id}")
    })
    .await;
    let evaluations = [
        ("town A's year-end evaluation", fx.ev_a.clone(), TOWN_A),
        ("town B's year-end evaluation", fx.ev_b.clone(), TOWN_B),
        ("the county's half-year evaluation", fx.ev_half.clone(), COUNTY),
    ];
    m.reads("GET /api/v1/evaluations/{id}", Kind::Rules, &evaluations, |id| {
        format!("/api/v1/evaluations/{id}")
    })
    .await;
    let publications = [
        ("town A's publication", at(&fx.publications, TOWN_A), TOWN_A),
        ("town B's publication", at(&fx.publications, TOWN_B), TOWN_B),
        ("the county's publication", at(&fx.publications, COUNTY), COUNTY),
    ];
    m.reads("GET /api/v1/publications/{id}", Kind::Rules, &publications, |id| {
        format!("/api/v1/publications/{id}")
    })
    .await;
    // A public publication is public: every caller, and no caller at all, reads it.
    let path = format!("/api/v1/publications/{}", fx.public_b);
    for c in 0..m.callers.len() {
        let reply = m.call(c, "GET", &path, None).await;
        m.check(
            "GET /api/v1/publications/{id}",
            c,
            Scope::Sibling,
            "town B's public publication",
            200,
            &reply,
        );
    }
    let anonymous = m.request(None, "GET", &path, None).await;
    assert_eq!(anonymous.status.as_u16(), 200, "a public publication without a token");
    let private = format!("/api/v1/publications/{}", Fixture::first(&fx.publications, TOWN_B));
    let anonymous = m.request(None, "GET", &private, None).await;
    assert_eq!(
        anonymous.status.as_u16(),
        401,
        "a non-public publication without a token"
    );

    let mut rubrics = Vec::new();
    for (scheme, subject_type, place) in [
        (&fx.scheme_a, "village", TOWN_A),
        (&fx.scheme_b, "village", TOWN_B),
        (&fx.scheme_c, "township", COUNTY),
    ] {
        let body = m.admin("GET", &format!("/api/v1/schemes/{scheme}"), None, 200).await;
        rubrics.push(("a rubric of the scheme", rubric_of(&body, subject_type), place));
    }
    m.reads("GET /api/v1/rubrics/{id}", Kind::Rules, &rubrics, |id| {
        format!("/api/v1/rubrics/{id}")
    })
    .await;

    // A subject's attributes and result name a subject and a scheme; both must be visible.
    let pairs = [
        ("village A1 under town A's scheme", &fx.a1, A1, &fx.scheme_a, TOWN_A),
        (
            "town A under the county's scheme",
            &fx.town_a,
            TOWN_A,
            &fx.scheme_c,
            COUNTY,
        ),
        (
            "A1's first secretary under the county's scheme",
            &fx.sec_a,
            A1,
            &fx.scheme_c,
            COUNTY,
        ),
        ("village B1 under town B's scheme", &fx.b1, B1, &fx.scheme_b, TOWN_B),
        (
            "town B under the county's scheme",
            &fx.town_b,
            TOWN_B,
            &fx.scheme_c,
            COUNTY,
        ),
        (
            "the department under the county's scheme",
            &fx.department,
            COUNTY,
            &fx.scheme_c,
            COUNTY,
        ),
    ];
    for c in 0..m.callers.len() {
        for (what, subject, place, scheme, scheme_place) in pairs {
            let refs = [(Kind::Data, place), (Kind::Rules, scheme_place)];
            let expected = m.expect(c, Need::Read, place, &refs, 404, 200);
            let reply = m
                .call(
                    c,
                    "GET",
                    &format!("/api/v1/subjects/{subject}/attributes/{scheme}"),
                    None,
                )
                .await;
            m.check(
                "GET /api/v1/subjects/{id}/attributes/{scheme_id}",
                c,
                place.scope(),
                what,
                expected,
                &reply,
            );
            let reply = m
                .call(
                    c,
                    "GET",
                    &format!("/api/v1/subjects/{subject}/result?scheme_id={scheme}"),
                    None,
                )
                .await;
            m.check(
                "GET /api/v1/subjects/{id}/result",
                c,
                place.scope(),
                what,
                expected,
                &reply,
            );
            // A what-if computation reads like the result it changes; it writes nothing.
            let body = json!({"scheme_id": scheme, "subject_id": subject});
            let reply = m.call(c, "POST", "/api/v1/results:simulate", Some(&body)).await;
            m.check(
                "POST /api/v1/results:simulate",
                c,
                place.scope(),
                what,
                expected,
                &reply,
            );
        }
    }
}

/// Background jobs belong to whoever started them: the county admin's job is read by the county
/// admin alone, and exists for nobody else (404), whatever their scope.
async fn jobs(m: &mut Matrix) {
    let admin = m.callers[0].token.clone();
    let started = m
        .app
        .send(
            "POST",
            "/api/v1/ballots:bulk",
            Some(&admin),
            &[("content-type", "application/x-ndjson"), ("prefer", "respond-async")],
            // A ballot of an evaluation that does not exist: it reads, and is refused in the job.
            Some(
                format!(
                    "{{\"evaluation_id\":\"{}\",\"subject_id\":\"{}\",\"score\":\"90\"}}\n",
                    uuid::Uuid::now_v7(),
                    uuid::Uuid::now_v7()
                )
                .into_bytes(),
            ),
        )
        .await;
    assert_eq!(started.status.as_u16(), 202, "{:?}", started.body);
    let job = started.body["id"].as_str().unwrap().to_owned();
    // Ended before it is read (a one-row upload ends at once).
    for _ in 0..100 {
        let polled = m.app.get(&format!("/api/v1/jobs/{job}"), &admin).await;
        if polled.body["status"] != "running" {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for c in 0..m.callers.len() {
        let caller = &m.callers[c];
        let expected = if (caller.level, caller.role) == (Level::County, Role::Admin) {
            200
        } else {
            404
        };
        let reply = m.call(c, "GET", &format!("/api/v1/jobs/{job}"), None).await;
        m.check(
            "GET /api/v1/jobs/{id}",
            c,
            Scope::Everyone,
            "the county admin's job",
            expected,
            &reply,
        );
        let reply = m.call(c, "GET", &format!("/api/v1/jobs/{job}/events"), None).await;
        m.check(
            "GET /api/v1/jobs/{id}/events",
            c,
            Scope::Everyone,
            "the county admin's job",
            expected,
            &reply,
        );
        // The upload's answer: 422 (the unknown evaluation), as the synchronous request's.
        let reply = m.call(c, "GET", &format!("/api/v1/jobs/{job}/result"), None).await;
        let expected = if expected == 200 { 422 } else { 404 };
        m.check(
            "GET /api/v1/jobs/{id}/result",
            c,
            Scope::Everyone,
            "the county admin's job",
            expected,
            &reply,
        );
    }
}

/// The caller's own account and the built-in catalogue: every caller.
async fn unscoped(m: &mut Matrix) {
    for c in 0..m.callers.len() {
        let reply = m.call(c, "GET", "/api/v1/built-in-schemes", None).await;
        m.check(
            "GET /api/v1/built-in-schemes",
            c,
            Scope::Everyone,
            "the catalogue",
            200,
            &reply,
        );
        let reply = m.call(c, "GET", "/api/v1/built-in-schemes/county-poverty", None).await;
        m.check(
            "GET /api/v1/built-in-schemes/{key}",
            c,
            Scope::Everyone,
            "Seed B",
            200,
            &reply,
        );
        for op in ["GET /api/v1/ballots:template", "GET /api/v1/subjects:template"] {
            let reply = m.call(c, "GET", &op[4..], None).await;
            m.check(
                op,
                c,
                Scope::Everyone,
                "a template of the caller's subjects",
                200,
                &reply,
            );
        }
        let reply = m.call(c, "GET", "/api/v1/vocabulary", None).await;
        m.check("GET /api/v1/vocabulary", c, Scope::Everyone, "the labels", 200, &reply);
        let reply = m.call(c, "GET", "/api/v1/users/me", None).await;
        m.check(
            "GET /api/v1/users/me",
            c,
            Scope::Everyone,
            "its own account",
            200,
            &reply,
        );
        let username = reply.body["username"].as_str().unwrap_or_default().to_owned();
        let password = if c == 0 { ADMIN_PASSWORD } else { PASSWORD };
        let body = json!({"current_password": password, "new_password": password});
        let reply = m.call(c, "PUT", "/api/v1/users/me/password", Some(&body)).await;
        m.check(
            "PUT /api/v1/users/me/password",
            c,
            Scope::Everyone,
            "its own password",
            204,
            &reply,
        );
        // A password change ends the caller's tokens, this one too (issue 17 §2): log in again.
        if reply.status.as_u16() == 204 {
            let token = m.app.login(&username, password).await;
            if m.callers[c].token == m.app.admin {
                m.app.admin = token.clone();
            }
            m.callers[c].token = token;
        }
    }
}

/// Service accounts: the county's records.
async fn records(m: &mut Matrix, fx: &Fixture) {
    let account = Fixture::first(&fx.service_accounts, COUNTY);
    for c in 0..m.callers.len() {
        let refs = [(Kind::Data, COUNTY)];
        let expected = m.expect(c, Need::ManageCounty, COUNTY, &refs, 404, 200);
        let reply = m
            .call(c, "GET", &format!("/api/v1/service-accounts/{account}"), None)
            .await;
        m.check(
            "GET /api/v1/service-accounts/{id}",
            c,
            Scope::Parent,
            "a service account",
            expected,
            &reply,
        );
        let n = m.next();
        let body = json!({"name": format!("平台{n}")});
        let expected = m.expect(c, Need::ManageCounty, COUNTY, &[], 404, 201);
        let reply = m.call(c, "POST", "/api/v1/service-accounts", Some(&body)).await;
        m.check(
            "POST /api/v1/service-accounts",
            c,
            Scope::Parent,
            "a new service account",
            expected,
            &reply,
        );
        let fresh = m
            .admin(
                "POST",
                "/api/v1/service-accounts",
                Some(&json!({"name": format!("平台{n}-r")})),
                201,
            )
            .await;
        let expected = m.expect(c, Need::ManageCounty, COUNTY, &refs, 404, 200);
        let reply = m
            .call(
                c,
                "POST",
                &format!("/api/v1/service-accounts/{}/revoke", id_of(&fresh)),
                None,
            )
            .await;
        m.check(
            "POST /api/v1/service-accounts/{id}/revoke",
            c,
            Scope::Parent,
            "a service account",
            expected,
            &reply,
        );
    }
}

/// Webhook subscriptions and their deliveries: county administration, like service accounts
/// (the county admin alone; 403 to the county's other users, 404 below for what is named).
async fn webhook_records(m: &mut Matrix) {
    let url = "https://data.example.gov.cn/hooks/kaohe";
    let subscribe = |events: &str| json!({"url": url, "events": [events]});
    let subscription = id_of(
        &m.admin("POST", "/api/v1/webhooks", Some(&subscribe("appeal.decided")), 201)
            .await,
    );
    for c in 0..m.callers.len() {
        let refs = [(Kind::Data, COUNTY)];
        let listed = m.expect(c, Need::ManageCounty, COUNTY, &[], 404, 200);
        for path in ["/api/v1/webhooks", "/api/v1/webhook-deliveries"] {
            let reply = m.call(c, "GET", path, None).await;
            m.check(
                &format!("GET {path}"),
                c,
                Scope::Parent,
                "the county's webhooks",
                listed,
                &reply,
            );
        }
        let expected = m.expect(c, Need::ManageCounty, COUNTY, &refs, 404, 200);
        let reply = m
            .call(c, "GET", &format!("/api/v1/webhooks/{subscription}"), None)
            .await;
        m.check(
            "GET /api/v1/webhooks/{id}",
            c,
            Scope::Parent,
            "a webhook subscription",
            expected,
            &reply,
        );
        let created = m.expect(c, Need::ManageCounty, COUNTY, &[], 404, 201);
        let reply = m
            .call(c, "POST", "/api/v1/webhooks", Some(&subscribe("result.changed")))
            .await;
        m.check(
            "POST /api/v1/webhooks",
            c,
            Scope::Parent,
            "a new webhook subscription",
            created,
            &reply,
        );
        let fresh = id_of(
            &m.admin("POST", "/api/v1/webhooks", Some(&subscribe("publication.created")), 201)
                .await,
        );
        let reply = m
            .call(
                c,
                "PATCH",
                &format!("/api/v1/webhooks/{fresh}"),
                Some(&json!({"active": false, "version": 1})),
            )
            .await;
        m.check(
            "PATCH /api/v1/webhooks/{id}",
            c,
            Scope::Parent,
            "a webhook subscription",
            expected,
            &reply,
        );
        let delivery = failed_delivery(m, &fresh).await;
        let reply = m
            .call(c, "POST", &format!("/api/v1/webhook-deliveries/{delivery}/retry"), None)
            .await;
        m.check(
            "POST /api/v1/webhook-deliveries/{id}/retry",
            c,
            Scope::Parent,
            "a failed webhook delivery",
            expected,
            &reply,
        );
    }
}

/// A delivery of `subscription` that has failed (written as the delivery task would leave it).
async fn failed_delivery(m: &Matrix, subscription: &str) -> String {
    use kaohe::store::entities::webhook_delivery;
    use sea_orm::{EntityTrait, IntoActiveModel};
    let at = kaohe::store::now();
    let id = uuid::Uuid::now_v7();
    let row = webhook_delivery::Model {
        id,
        county_id: m.app.county_id.parse().unwrap(),
        created_at: at,
        updated_at: at,
        subscription_id: subscription.parse().unwrap(),
        event_type: "publication.created".to_owned(),
        scheme_id: None,
        payload: "{}".to_owned(),
        status: kaohe::store::webhooks::DeliveryStatus::Failed,
        attempts: 12,
        next_attempt_at: at,
        last_attempt_at: Some(at),
        last_status: Some(503),
        last_error: Some("the receiver answered 503".to_owned()),
        delivered_at: None,
    };
    webhook_delivery::Entity::insert(row.into_active_model())
        .exec_without_returning(m.app.state.store.db())
        .await
        .unwrap();
    id.to_string()
}

/// Org units and users: created, renamed.
async fn identity_writes(m: &mut Matrix, fx: &Fixture) {
    for c in 0..m.callers.len() {
        // Creating org units: villages under a town (the town is named), or a department.
        let n = m.next();
        let cases = [
            (
                "a village under town A",
                json!({"kind": "village", "name": format!("新村{n}a"), "parent_id": fx.town_a}),
                NEW_IN_A,
                vec![(Kind::Data, TOWN_A)],
                Need::ManageVillage,
            ),
            (
                "a village under town B",
                json!({"kind": "village", "name": format!("新村{n}b"), "parent_id": fx.town_b}),
                NEW_IN_B,
                vec![(Kind::Data, TOWN_B)],
                Need::ManageVillage,
            ),
            (
                "a county department",
                json!({"kind": "department", "name": format!("县局{n}")}),
                COUNTY,
                vec![],
                Need::ManageCounty,
            ),
        ];
        for (what, body, at, refs, need) in cases {
            let expected = m.expect(c, need, at, &refs, 422, 201);
            let reply = m.call(c, "POST", "/api/v1/org-units", Some(&body)).await;
            m.check("POST /api/v1/org-units", c, at.scope(), what, expected, &reply);
        }

        // Renaming org units (to the name they have: only the version moves).
        for (what, id, place, need) in [
            ("village A1", &fx.a1, A1, Need::ManageVillage),
            ("town A", &fx.town_a, TOWN_A, Need::ManageCounty),
            ("village B1", &fx.b1, B1, Need::ManageVillage),
            ("town B", &fx.town_b, TOWN_B, Need::ManageCounty),
            ("the department", &fx.department, COUNTY, Need::ManageCounty),
        ] {
            let path = format!("/api/v1/org-units/{id}");
            let current = m.admin("GET", &path, None, 200).await;
            let body = json!({"name": current["name"], "version": current["version"]});
            let expected = m.expect(c, need, place, &[(Kind::Data, place)], 404, 200);
            let reply = m.call(c, "PATCH", &path, Some(&body)).await;
            m.check("PATCH /api/v1/org-units/{id}", c, place.scope(), what, expected, &reply);
        }

        // Creating users: village users are their town's; town and county users the county's.
        let user = |unit: &str, role: &str, suffix: &str| json!({"username": format!("m{n}-{suffix}"), "display_name": "矩阵", "password": PASSWORD, "org_unit_id": unit, "role": role});
        for (what, body, place, need) in [
            (
                "a viewer of village A1",
                user(&fx.a1, "viewer", "a1"),
                A1,
                Need::ManageVillage,
            ),
            (
                "an assessor of town A",
                user(&fx.town_a, "assessor", "a"),
                TOWN_A,
                Need::ManageCounty,
            ),
            (
                "a viewer of village B1",
                user(&fx.b1, "viewer", "b1"),
                B1,
                Need::ManageVillage,
            ),
            (
                "a viewer of the county",
                user(&fx.county, "viewer", "c"),
                COUNTY,
                Need::ManageCounty,
            ),
        ] {
            let expected = m.expect(c, need, place, &[(Kind::Data, place)], 422, 201);
            let reply = m.call(c, "POST", "/api/v1/users", Some(&body)).await;
            m.check("POST /api/v1/users", c, place.scope(), what, expected, &reply);
        }

        // Changing users (their display name, to what it is).
        for (what, name, place, need) in [
            ("village A1's viewer", "village-a1-viewer", A1, Need::ManageVillage),
            ("town A's viewer", "town-a-viewer", TOWN_A, Need::ManageCounty),
            ("village B1's viewer", "village-b1-viewer", B1, Need::ManageVillage),
            ("town B's assessor", "town-b-assessor", TOWN_B, Need::ManageCounty),
            ("the county's viewer", "county-viewer", COUNTY, Need::ManageCounty),
        ] {
            let path = format!("/api/v1/users/{}", fx.user(name));
            let current = m.admin("GET", &path, None, 200).await;
            let body = json!({"display_name": current["display_name"], "version": current["version"]});
            let expected = m.expect(c, need, place, &[(Kind::Data, place)], 404, 200);
            let reply = m.call(c, "PATCH", &path, Some(&body)).await;
            m.check("PATCH /api/v1/users/{id}", c, place.scope(), what, expected, &reply);
        }
    }
}

/// Subjects: created one by one and in bulk, changed, their attributes set.
async fn subject_writes(m: &mut Matrix, fx: &Fixture) {
    for c in 0..m.callers.len() {
        let n = m.next();
        let cases = [
            (
                "a first secretary stationed in A1",
                json!({"subject_type": "first_secretary", "name": format!("书记{n}a"), "stationed_in": fx.a1}),
                A1,
                vec![(Kind::Data, A1)],
                Need::ManageVillage,
            ),
            (
                "a village of town A",
                json!({"subject_type": "village", "name": format!("新村{n}s"), "parent_id": fx.town_a}),
                NEW_IN_A,
                vec![(Kind::Data, TOWN_A)],
                Need::ManageVillage,
            ),
            (
                "a first secretary stationed in B1",
                json!({"subject_type": "first_secretary", "name": format!("书记{n}b"), "stationed_in": fx.b1}),
                B1,
                vec![(Kind::Data, B1)],
                Need::ManageVillage,
            ),
            (
                "a technician of the county",
                json!({"subject_type": "agri_tech", "name": format!("农技{n}")}),
                COUNTY,
                vec![],
                Need::ManageCounty,
            ),
        ];
        for (what, body, at, refs, need) in &cases {
            let expected = m.expect(c, *need, *at, refs, 422, 201);
            let reply = m.call(c, "POST", "/api/v1/subjects", Some(body)).await;
            m.check("POST /api/v1/subjects", c, at.scope(), what, expected, &reply);
            // The same subject again, as a one-row upload (names differ from the single write).
            let mut row = body.clone();
            row["name"] = json!(format!("{}-bulk", body["name"].as_str().unwrap()));
            let reply = m.call(c, "POST", "/api/v1/subjects:bulk", Some(&json!([row]))).await;
            m.check("POST /api/v1/subjects:bulk", c, at.scope(), what, expected, &reply);
        }

        // Changing subjects (their name, to what it is).
        for (what, id, place, need) in [
            ("village A1", &fx.a1, A1, Need::ManageVillage),
            ("town A", &fx.town_a, TOWN_A, Need::ManageCounty),
            ("A1's first secretary", &fx.sec_a, A1, Need::ManageVillage),
            ("village B1", &fx.b1, B1, Need::ManageVillage),
            ("B1's first secretary", &fx.sec_b, B1, Need::ManageVillage),
            ("the department", &fx.department, COUNTY, Need::ManageCounty),
            ("the county's technician", &fx.tech_c, COUNTY, Need::ManageCounty),
        ] {
            let path = format!("/api/v1/subjects/{id}");
            let current = m.admin("GET", &path, None, 200).await;
            let body = json!({"name": current["name"], "version": current["version"]});
            let expected = m.expect(c, need, place, &[(Kind::Data, place)], 404, 200);
            let reply = m.call(c, "PATCH", &path, Some(&body)).await;
            m.check("PATCH /api/v1/subjects/{id}", c, place.scope(), what, expected, &reply);
        }

        // Setting attributes (to what they are: only the version moves).
        for (what, subject, place, scheme, scheme_place, need) in [
            (
                "village A1 under town A's scheme",
                &fx.a1,
                A1,
                &fx.scheme_a,
                TOWN_A,
                Need::ManageVillage,
            ),
            (
                "A1's first secretary under the county's scheme",
                &fx.sec_a,
                A1,
                &fx.scheme_c,
                COUNTY,
                Need::ManageVillage,
            ),
            (
                "village B1 under town B's scheme",
                &fx.b1,
                B1,
                &fx.scheme_b,
                TOWN_B,
                Need::ManageVillage,
            ),
            (
                "B1's first secretary under the county's scheme",
                &fx.sec_b,
                B1,
                &fx.scheme_c,
                COUNTY,
                Need::ManageVillage,
            ),
            (
                "the department under the county's scheme",
                &fx.department,
                COUNTY,
                &fx.scheme_c,
                COUNTY,
                Need::ManageCounty,
            ),
        ] {
            let path = format!("/api/v1/subjects/{subject}/attributes/{scheme}");
            let body = json!({"version": m.version(&path).await});
            let refs = [(Kind::Data, place), (Kind::Rules, scheme_place)];
            let expected = m.expect(c, need, place, &refs, 404, 200);
            let reply = m.call(c, "PUT", &path, Some(&body)).await;
            m.check(
                "PUT /api/v1/subjects/{id}/attributes/{scheme_id}",
                c,
                place.scope(),
                what,
                expected,
                &reply,
            );
            // The same as a one-row upload: an unseen subject or scheme is an unknown reference.
            let row = json!([{"subject_id": subject, "scheme_id": scheme, "version": m.version(&path).await}]);
            let expected = m.expect(c, need, place, &refs, 422, 201);
            let reply = m.call(c, "POST", "/api/v1/attributes:bulk", Some(&row)).await;
            m.check("POST /api/v1/attributes:bulk", c, place.scope(), what, expected, &reply);
        }
    }
}

/// Findings: recorded one by one and in bulk, revoked, appealed; appeals decided.
async fn finding_writes(m: &mut Matrix, fx: &Fixture) {
    let subjects = [
        ("village A1", &fx.a1, true, A1),
        ("town A itself", &fx.town_a, false, TOWN_A),
        ("A1's first secretary", &fx.sec_a, false, A1),
        ("village B1", &fx.b1, true, B1),
        ("the department", &fx.department, false, COUNTY),
    ];
    for c in 0..m.callers.len() {
        for (what, subject, village, place) in subjects {
            let body = finding(subject, village);
            let refs = [(Kind::Data, place)];
            let expected = m.expect(c, Need::Assess, place, &refs, 422, 201);
            let reply = m.call(c, "POST", "/api/v1/incidents", Some(&body)).await;
            m.check("POST /api/v1/incidents", c, place.scope(), what, expected, &reply);
            let reply = m.call(c, "POST", "/api/v1/incidents:bulk", Some(&json!([body]))).await;
            m.check("POST /api/v1/incidents:bulk", c, place.scope(), what, expected, &reply);

            // Revoking a finding made for this case.
            let fresh = id_of(&m.admin("POST", "/api/v1/incidents", Some(&body), 201).await);
            let expected = m.expect(c, Need::Assess, place, &refs, 404, 200);
            let reply = m
                .call(
                    c,
                    "POST",
                    &format!("/api/v1/incidents/{fresh}/revoke"),
                    Some(&json!({"reason": "重复录入"})),
                )
                .await;
            m.check(
                "POST /api/v1/incidents/{id}/revoke",
                c,
                place.scope(),
                what,
                expected,
                &reply,
            );

            // Appealing a finding made for this case.
            let fresh = id_of(&m.admin("POST", "/api/v1/incidents", Some(&body), 201).await);
            let expected = m.expect(c, Need::Appeal, place, &refs, 404, 201);
            let reply = m
                .call(
                    c,
                    "POST",
                    &format!("/api/v1/incidents/{fresh}/appeals"),
                    Some(&json!({"reason": "数据已更正"})),
                )
                .await;
            m.check(
                "POST /api/v1/incidents/{id}/appeals",
                c,
                place.scope(),
                what,
                expected,
                &reply,
            );
        }

        // Deciding an appeal filed for this case by the village it is about.
        for (what, village, viewer, place) in [
            ("an appeal of village A1", &fx.a1, m.callers[7].token.clone(), A1),
            ("an appeal of village B1", &fx.b1, fx.village_b1_viewer.clone(), B1),
        ] {
            let fresh = id_of(
                &m.admin("POST", "/api/v1/incidents", Some(&finding(village, true)), 201)
                    .await,
            );
            let filed = m
                .request(
                    Some(&viewer),
                    "POST",
                    &format!("/api/v1/incidents/{fresh}/appeals"),
                    Some(&json!({"reason": "数据已更正"})),
                )
                .await;
            let appeal = filed.assert(201).id();
            let expected = m.expect(c, Need::Assess, place, &[(Kind::Data, place)], 404, 200);
            let reply = m
                .call(
                    c,
                    "POST",
                    &format!("/api/v1/appeals/{appeal}/decision"),
                    Some(&json!({"decision": "uphold", "note": "经核实，扣分属实"})),
                )
                .await;
            m.check(
                "POST /api/v1/appeals/{id}/decision",
                c,
                place.scope(),
                what,
                expected,
                &reply,
            );
        }
    }
}

/// A place's name in a case.
fn place_name(place: Place) -> &'static str {
    match place {
        Place::County => "the county",
        Place::Town(Town::A) => "town A",
        Place::Town(Town::B) => "town B",
        Place::Village(Town::A, "A1") => "village A1",
        Place::Village(Town::A, "A2") => "village A2",
        Place::Village(Town::B, "B1") => "village B1",
        Place::Village(..) => "a new village",
    }
}

impl Matrix {
    /// Uploads a new evidence file (a PNG, unique by the serial) as `token`.
    async fn upload_evidence(&mut self, token: Option<&str>) -> Reply {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend_from_slice(format!("matrix file {}", self.next()).as_bytes());
        let token = token.map(str::to_owned).unwrap_or_else(|| self.app.admin.clone());
        self.app
            .send(
                "POST",
                "/api/v1/evidence",
                Some(&token),
                &[("content-type", "image/png")],
                Some(bytes),
            )
            .await
    }

    /// A new file attached (by the county admin) to `incident`: visible where the finding is.
    async fn evidence_on(&mut self, incident: &str) -> (String, String) {
        let file = self.upload_evidence(None).await.assert(201).id();
        let body = json!({"target": "incident", "target_id": incident});
        let link = self
            .admin("POST", &format!("/api/v1/evidence/{file}/links"), Some(&body), 201)
            .await;
        (file, id_of(&link))
    }
}

/// Evidence files: uploaded by everyone who may attach one; read, listed, attached and detached
/// by the place of what they are attached to (DOMAIN.md §6).
async fn evidence_files(m: &mut Matrix, fx: &Fixture) {
    // Uploads: everyone but the county's viewers, who record and appeal nothing.
    for c in 0..m.callers.len() {
        let token = m.callers[c].token.clone();
        let reply = m.upload_evidence(Some(&token)).await;
        let caller = &m.callers[c];
        let expected = if caller.level == Level::County && caller.role == Role::Viewer {
            403
        } else {
            201
        };
        m.check("POST /api/v1/evidence", c, Scope::Everyone, "a photo", expected, &reply);
    }

    // A file on each finding of the fixture: read where the finding is read.
    let mut files: Vec<(&str, String, Place)> = Vec::new();
    let mut links: Known = Vec::new();
    for (incident, place) in &fx.incidents {
        let (file, link) = m.evidence_on(incident).await;
        files.push((place_name(*place), file, *place));
        links.push((link, *place));
    }
    m.reads("GET /api/v1/evidence/{id}", Kind::Data, &files, |id| {
        format!("/api/v1/evidence/{id}")
    })
    .await;
    m.reads("GET /api/v1/evidence/{id}/content", Kind::Data, &files, |id| {
        format!("/api/v1/evidence/{id}/content")
    })
    .await;
    for c in 0..m.callers.len() {
        let reply = m.call(c, "GET", "/api/v1/evidence-links?limit=1000", None).await;
        let found = items(&reply, "id");
        m.check_list(
            "GET /api/v1/evidence-links",
            c,
            "every link",
            200,
            &reply,
            found,
            Kind::Data,
            &links,
            true,
        );
    }

    let incident_at = |place: Place| Fixture::first(&fx.incidents, place);
    for c in 0..m.callers.len() {
        // Attaching a file of a place to a new finding there.
        for (subject, village, place) in [
            (&fx.a1, true, A1),
            (&fx.town_a, false, TOWN_A),
            (&fx.b1, true, B1),
            (&fx.department, false, COUNTY),
        ] {
            let file = files
                .iter()
                .find(|(_, _, p)| *p == place)
                .map(|(_, f, _)| f.clone())
                .unwrap();
            let fresh = id_of(
                &m.admin("POST", "/api/v1/incidents", Some(&finding(subject, village)), 201)
                    .await,
            );
            let expected = m.expect(c, Need::Assess, place, &[(Kind::Data, place)], 404, 201);
            let body = json!({"target": "incident", "target_id": fresh});
            let reply = m
                .call(c, "POST", &format!("/api/v1/evidence/{file}/links"), Some(&body))
                .await;
            let what = format!("a file of {0} on a finding of {0}", place_name(place));
            m.check(
                "POST /api/v1/evidence/{id}/links",
                c,
                place.scope(),
                &what,
                expected,
                &reply,
            );
        }
        // …to a scoresheet there.
        for (sheet, place) in fx.scoresheets.clone() {
            let (file, _) = m.evidence_on(&incident_at(place)).await;
            let expected = m.expect(c, Need::Assess, place, &[(Kind::Data, place)], 404, 201);
            let body = json!({"target": "scoresheet", "target_id": sheet});
            let reply = m
                .call(c, "POST", &format!("/api/v1/evidence/{file}/links"), Some(&body))
                .await;
            let what = format!("a file of {0} on a scoresheet of {0}", place_name(place));
            m.check(
                "POST /api/v1/evidence/{id}/links",
                c,
                place.scope(),
                &what,
                expected,
                &reply,
            );
        }
        // …to an appeal there: its appellant's side, or an assessor deciding it.
        for (appeal, place) in fx.appeals.clone() {
            let (file, _) = m.evidence_on(&incident_at(place)).await;
            let caller = &m.callers[c];
            let expected = if !sees(caller, Kind::Data, place) {
                404
            } else if may(caller, Need::Assess, place) || may(caller, Need::Appeal, place) {
                201
            } else {
                403
            };
            let body = json!({"target": "appeal", "target_id": appeal});
            let reply = m
                .call(c, "POST", &format!("/api/v1/evidence/{file}/links"), Some(&body))
                .await;
            let what = format!("a file of {0} on an appeal of {0}", place_name(place));
            m.check(
                "POST /api/v1/evidence/{id}/links",
                c,
                place.scope(),
                &what,
                expected,
                &reply,
            );
        }
        // Detaching a file from a finding.
        for (incident, place) in fx.incidents.clone() {
            let (file, link) = m.evidence_on(&incident).await;
            let expected = m.expect(c, Need::Assess, place, &[(Kind::Data, place)], 404, 200);
            let reply = m
                .call(
                    c,
                    "POST",
                    &format!("/api/v1/evidence/{file}/links/{link}/detach"),
                    Some(&json!({"reason": "上传错了文件"})),
                )
                .await;
            let what = format!("a file on a finding of {}", place_name(place));
            m.check(
                "POST /api/v1/evidence/{id}/links/{link_id}/detach",
                c,
                place.scope(),
                &what,
                expected,
                &reply,
            );
        }
    }
}

/// Scoresheets and ballots, one by one and in bulk, into the county's evaluations.
async fn input_writes(m: &mut Matrix, fx: &Fixture) {
    for c in 0..m.callers.len() {
        for (what, subject, items, place) in [
            ("town A itself", &fx.town_a, TOWNSHIP_ITEMS, TOWN_A),
            ("A1's first secretary", &fx.sec_a, SECRETARY_ITEMS, A1),
            ("town B", &fx.town_b, TOWNSHIP_ITEMS, TOWN_B),
            ("B1's first secretary", &fx.sec_b, SECRETARY_ITEMS, B1),
            ("the department", &fx.department, DEPARTMENT_ITEMS, COUNTY),
        ] {
            let body = json!({"evaluation_id": fx.ev_half, "subject_id": subject, "scores": scores(items, 9000)});
            let refs = [(Kind::Data, place), (Kind::Rules, COUNTY)];
            let expected = m.expect(c, Need::Assess, place, &refs, 422, 201);
            let reply = m.call(c, "POST", "/api/v1/scoresheets", Some(&body)).await;
            m.check("POST /api/v1/scoresheets", c, place.scope(), what, expected, &reply);
            let reply = m
                .call(c, "POST", "/api/v1/scoresheets:bulk", Some(&json!([body])))
                .await;
            m.check(
                "POST /api/v1/scoresheets:bulk",
                c,
                place.scope(),
                what,
                expected,
                &reply,
            );
        }
        for (what, subject, place) in [
            ("A1's first secretary", &fx.sec_a, A1),
            ("B1's first secretary", &fx.sec_b, B1),
            ("the county's technician", &fx.tech_c, COUNTY),
        ] {
            let body = json!({"evaluation_id": fx.ev_democratic, "subject_id": subject, "score": "90"});
            let refs = [(Kind::Data, place), (Kind::Rules, COUNTY)];
            let expected = m.expect(c, Need::Assess, place, &refs, 422, 201);
            let reply = m.call(c, "POST", "/api/v1/ballots", Some(&body)).await;
            m.check("POST /api/v1/ballots", c, place.scope(), what, expected, &reply);
            let reply = m.call(c, "POST", "/api/v1/ballots:bulk", Some(&json!([body]))).await;
            m.check("POST /api/v1/ballots:bulk", c, place.scope(), what, expected, &reply);
        }
    }
}

/// Evaluations: created, closed and reopened, each case on one made for it.
async fn evaluation_writes(m: &mut Matrix, fx: &Fixture) {
    for c in 0..m.callers.len() {
        for (what, scheme, place) in [
            ("town A's scheme", &fx.scheme_a, TOWN_A),
            ("town B's scheme", &fx.scheme_b, TOWN_B),
            ("the county's scheme", &fx.scheme_c, COUNTY),
        ] {
            let refs = [(Kind::Rules, place)];
            let n = m.next();
            let new = |key: String| json!({"scheme_id": scheme, "kind": "democratic", "key": key, "title": "矩阵测评"});
            let expected = m.expect(c, Need::Evaluate, place, &refs, 404, 201);
            let reply = m
                .call(c, "POST", "/api/v1/evaluations", Some(&new(format!("matrix-{n}"))))
                .await;
            m.check("POST /api/v1/evaluations", c, place.scope(), what, expected, &reply);

            let fresh = id_of(
                &m.admin(
                    "POST",
                    "/api/v1/evaluations",
                    Some(&new(format!("matrix-{n}-close"))),
                    201,
                )
                .await,
            );
            let expected = m.expect(c, Need::Evaluate, place, &refs, 404, 200);
            let reply = m
                .call(c, "POST", &format!("/api/v1/evaluations/{fresh}/close"), None)
                .await;
            m.check(
                "POST /api/v1/evaluations/{id}/close",
                c,
                place.scope(),
                what,
                expected,
                &reply,
            );

            let fresh = id_of(
                &m.admin(
                    "POST",
                    "/api/v1/evaluations",
                    Some(&new(format!("matrix-{n}-reopen"))),
                    201,
                )
                .await,
            );
            m.admin("POST", &format!("/api/v1/evaluations/{fresh}/close"), None, 200)
                .await;
            let reply = m
                .call(c, "POST", &format!("/api/v1/evaluations/{fresh}/reopen"), None)
                .await;
            m.check(
                "POST /api/v1/evaluations/{id}/reopen",
                c,
                place.scope(),
                what,
                expected,
                &reply,
            );
        }
    }
}

/// Publishing: a town's scheme to its town, the county's scheme to the whole county.
async fn publication_writes(m: &mut Matrix, fx: &Fixture) {
    for c in 0..m.callers.len() {
        for (what, scheme, place) in [
            ("town A's scheme, to town A", &fx.scheme_a, TOWN_A),
            ("town B's scheme, to town B", &fx.scheme_b, TOWN_B),
            ("the county's scheme, to the county", &fx.scheme_c, COUNTY),
        ] {
            let expected = m.expect(c, Need::Publish, place, &[(Kind::Rules, place)], 404, 201);
            let reply = m
                .call(c, "POST", "/api/v1/publications", Some(&json!({"scheme_id": scheme})))
                .await;
            m.check("POST /api/v1/publications", c, place.scope(), what, expected, &reply);
        }
    }
}

/// Rubrics and schemes: edited, renamed, created. Creating schemes comes last: a second scheme for
/// a town would change which scheme the findings above belong to.
async fn rule_writes(m: &mut Matrix, fx: &Fixture) {
    for c in 0..m.callers.len() {
        for (what, scheme, subject_type, place) in [
            ("town A's village rubric", &fx.scheme_a, "village", TOWN_A),
            ("town B's village rubric", &fx.scheme_b, "village", TOWN_B),
            ("the county's township rubric", &fx.scheme_c, "township", COUNTY),
        ] {
            let body = m.admin("GET", &format!("/api/v1/schemes/{scheme}"), None, 200).await;
            let rubric = rubric_of(&body, subject_type);
            let current = m.admin("GET", &format!("/api/v1/rubrics/{rubric}"), None, 200).await;
            // A used rubric is saved as its next version (201), an unused one in place (200).
            let ok = if current["used"] == json!(true) { 201 } else { 200 };
            let expected = m.expect(c, Need::ManageCounty, place, &[(Kind::Rules, place)], 404, ok);
            let reply = m
                .call(c, "PUT", &format!("/api/v1/rubrics/{rubric}"), Some(&current["rubric"]))
                .await;
            m.check("PUT /api/v1/rubrics/{id}", c, place.scope(), what, expected, &reply);

            let path = format!("/api/v1/schemes/{scheme}");
            let current = m.admin("GET", &path, None, 200).await;
            let body = json!({"title": current["title"], "version": current["version"]});
            let expected = m.expect(c, Need::ManageCounty, place, &[(Kind::Rules, place)], 404, 200);
            let reply = m.call(c, "PATCH", &path, Some(&body)).await;
            m.check("PATCH /api/v1/schemes/{id}", c, place.scope(), what, expected, &reply);
        }
    }
    for c in 0..m.callers.len() {
        for (i, (what, built_in, unit, place)) in [
            ("Seed A for town A", "tongshi-2023-village", Some(&fx.town_a), TOWN_A),
            ("Seed A for town B", "tongshi-2023-village", Some(&fx.town_b), TOWN_B),
            ("Seed B for the county", "county-poverty", None, COUNTY),
        ]
        .into_iter()
        .enumerate()
        {
            // Each case its own year, so that no success makes a later case a duplicate.
            let year = 2030 + 3 * c + i;
            let mut body = json!({"built_in": built_in, "year": year});
            let mut refs = vec![];
            if let Some(unit) = unit {
                body["org_unit_id"] = json!(unit);
                refs.push((Kind::Data, place));
            }
            let expected = m.expect(c, Need::ManageCounty, place, &refs, 422, 201);
            let reply = m.call(c, "POST", "/api/v1/schemes", Some(&body)).await;
            m.check("POST /api/v1/schemes", c, place.scope(), what, expected, &reply);
        }
    }
}
