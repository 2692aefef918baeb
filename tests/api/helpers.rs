//! The one way tests start the service: the real application on a random port, against a fresh
//! database — a SQLite file in a temporary directory, or, when `KAOHE_TEST_DATABASE_URL` names a
//! PostgreSQL server, a new database cloned from a migrated template.

use std::sync::OnceLock;

use awc::http::header::HeaderMap;
use awc::http::StatusCode;
use kaohe::config::{Secret, Settings};
use kaohe::startup::Application;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const PASSWORD: &str = "user-password-for-tests";
pub const HMAC_SECRET: &str = "a-test-signing-secret-of-at-least-32-bytes";

/// A running service and a client for it.
pub struct TestApp {
    pub address: String,
    pub client: awc::Client,
    pub state: actix_web::web::Data<kaohe::state::AppState>,
    pub admin: String,
    pub county_id: String,
    _dir: Option<tempfile::TempDir>,
    /// The PostgreSQL server and the test's database, dropped when the test ends.
    postgres: Option<(String, String)>,
}

impl Drop for TestApp {
    /// Drops the test's PostgreSQL database with `FORCE`, which also ends its connections: the
    /// server's worker threads outlive the test's runtime and would keep their pools open until
    /// the server runs out of connections. On a thread of its own, as the test's runtime is
    /// going away.
    fn drop(&mut self) {
        let Some((server, database)) = self.postgres.take() else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let admin = Database::connect(&server).await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
                admin
                    .execute_raw(Statement::from_string(sea_orm::DbBackend::Postgres, sql))
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        });
        dropped.join().ok();
    }
}

/// The first element of a JSON array whose `field` is `value`.
#[track_caller]
pub fn find_by<'a>(list: &'a Value, field: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .find(|e| e[field] == value)
        .unwrap_or_else(|| panic!("no {field} {value} in {list}"))
}

/// The string `field` of every element of a JSON array.
#[track_caller]
pub fn strings<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|e| e[field].as_str().unwrap())
        .collect()
}

/// The content types of bulk uploads.
pub const NDJSON: &str = "application/x-ndjson";
pub const CSV: &str = "text/csv";
pub const JSON: &str = "application/json";

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
    pub fn content_type(&self) -> String {
        self.header("content-type").unwrap_or_default()
    }
    /// The problem `code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.body))
            .to_owned()
    }
    /// The `ids` of a bulk upload's answer, in the order of its rows.
    pub fn created_ids(&self) -> Vec<String> {
        self.body["ids"]
            .as_array()
            .unwrap_or_else(|| panic!("no ids in {}", self.body))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }
    /// The rows of an NDJSON answer, one JSON value a line.
    pub fn ndjson_rows(&self) -> Vec<Value> {
        std::str::from_utf8(&self.bytes)
            .expect("NDJSON is UTF-8")
            .lines()
            .map(|line| serde_json::from_str(line).expect("each NDJSON line is JSON"))
            .collect()
    }
    /// The first item of a list page whose `field` is `value`.
    #[track_caller]
    pub fn item_where(&self, field: &str, value: &str) -> &Value {
        find_by(&self.body["items"], field, value)
    }

    /// Asserts a refused bulk upload (422) with exactly these errors: row, field and code of each.
    #[track_caller]
    pub fn assert_row_errors(&self, expected: &[(u64, &str, &str)]) {
        assert_eq!(self.status.as_u16(), 422, "{}", self.body);
        let expected: Vec<(u64, String, String)> = expected
            .iter()
            .map(|(row, field, code)| (*row, (*field).to_owned(), (*code).to_owned()))
            .collect();
        assert_eq!(self.row_errors(), expected);
    }

    /// The `errors` of a refused bulk upload: row, field and code of each.
    pub fn row_errors(&self) -> Vec<(u64, String, String)> {
        self.body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors in {}", self.body))
            .iter()
            .map(|e| {
                (
                    e["row"].as_u64().unwrap(),
                    e["field"].as_str().unwrap().to_owned(),
                    e["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
    #[track_caller]
    pub fn assert(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "unexpected answer: {}", self.body);
        self
    }
    /// Asserts a problem answer: its status, `code` and, if given, the field of its first error.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "unexpected answer: {}", self.body);
        assert!(
            self.content_type().starts_with("application/problem+json"),
            "not a problem: {}",
            self.content_type()
        );
        assert_eq!(self.code(), code, "unexpected problem: {}", self.body);
        if let Some(field) = field {
            let fields: Vec<&str> = self.body["errors"]
                .as_array()
                .map(|e| e.iter().filter_map(|x| x["field"].as_str()).collect())
                .unwrap_or_default();
            assert!(fields.contains(&field), "expected an error on {field}: {}", self.body);
        }
    }
}

/// The PostgreSQL server tests run against, if configured.
pub fn postgres_url() -> Option<String> {
    std::env::var("KAOHE_TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

fn with_database(server_url: &str, database: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server_url, String::new()),
    };
    let (prefix, _) = base.rsplit_once('/').unwrap_or((base, ""));
    format!("{prefix}/{database}{query}")
}

/// The template database of this schema version: every migration is in the fingerprint, so a new
/// one makes a new template.
fn template_name() -> String {
    let migrations = [
        include_str!("../../migration/src/lib.rs"),
        include_str!("../../migration/src/alter.rs"),
        include_str!("../../migration/src/m20260101_000001_initial.rs"),
        include_str!("../../migration/src/m20261202_000002_token_generations.rs"),
        include_str!("../../migration/src/m20261202_000020_publication_chain_head.rs"),
        include_str!("../../migration/src/m20261202_000030_audit_row_seals.rs"),
        include_str!("../../migration/src/m20261203_000040_seed_b_attributes.rs"),
        include_str!("../../migration/src/m20261203_000050_evidence.rs"),
        include_str!("../../migration/src/m20261204_000060_webhooks.rs"),
        include_str!("../../migration/src/m20261204_000070_jobs.rs"),
    ];
    format!("kaohe_tpl_{}", hex::encode(&Sha256::digest(migrations.concat())[..6]))
}

/// Creates and migrates the template unless it exists. Test runs of other branches share the
/// server (and may drop templates they do not know), so a clone that finds it gone calls this
/// again.
async fn ensure_template(server_url: &str, name: &str) {
    let admin = Database::connect(server_url)
        .await
        .expect("connect to the PostgreSQL test server");
    let exec = |sql: String| Statement::from_string(sea_orm::DbBackend::Postgres, sql);
    admin
        .execute_raw(exec("SELECT pg_advisory_lock(72731)".into()))
        .await
        .expect("lock");
    let exists = admin
        .query_one_raw(exec(format!("SELECT 1 FROM pg_database WHERE datname = '{name}'")))
        .await
        .expect("query")
        .is_some();
    if !exists {
        // Test databases left by earlier runs go first; one still in use stays. Templates stay:
        // another branch's run may be cloning its own.
        let old = admin
            .query_all_raw(exec(
                "SELECT datname FROM pg_database WHERE datname LIKE 'kaohe_t\\_%'".into(),
            ))
            .await
            .unwrap_or_default();
        for row in old {
            if let Ok(db) = row.try_get::<String>("", "datname") {
                let _ = admin
                    .execute_raw(exec(format!("DROP DATABASE IF EXISTS \"{db}\"")))
                    .await;
            }
        }
        admin
            .execute_raw(exec(format!("CREATE DATABASE \"{name}\"")))
            .await
            .expect("create template");
        let mut settings = Settings::defaults().unwrap();
        settings.database.url = Secret::new(with_database(server_url, name));
        settings.database.min_connections = 0;
        let store = kaohe::store::Store::connect(&settings.database)
            .await
            .expect("connect template");
        store.migrate().await.expect("migrate template");
        store.db().clone().close().await.ok();
    }
    admin
        .execute_raw(exec("SELECT pg_advisory_unlock(72731)".into()))
        .await
        .expect("unlock");
    admin.close().await.ok();
}

/// Migrates the template database once per run; tests clone it (fast, isolated).
async fn template(server_url: &str) -> String {
    TEMPLATE
        .get_or_init(|| async {
            let name = template_name();
            ensure_template(server_url, &name).await;
            name
        })
        .await
        .clone()
}

/// A fresh PostgreSQL database cloned from the template (made again should it have gone): its
/// URL and name.
async fn fresh_postgres(server_url: &str) -> (String, String) {
    let template = template(server_url).await;
    let name = format!("kaohe_t_{}", uuid::Uuid::now_v7().simple());
    let admin = Database::connect(server_url)
        .await
        .expect("connect to the PostgreSQL test server");
    let clone = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
    for attempt in 1.. {
        let result = admin
            .execute_raw(Statement::from_string(sea_orm::DbBackend::Postgres, clone.clone()))
            .await;
        match result {
            Ok(_) => break,
            Err(err) if attempt < 5 && err.to_string().contains("does not exist") => {
                ensure_template(server_url, &template).await;
            }
            Err(err) if attempt < 5 && err.to_string().contains("is being accessed by other users") => {
                // Another test is cloning the template this instant.
                tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
            }
            Err(err) => panic!("clone the template database: {err}"),
        }
    }
    admin.close().await.ok();
    (with_database(server_url, &name), name)
}

pub fn test_settings() -> Settings {
    let mut settings = Settings::defaults().unwrap();
    settings.server.port = 0;
    settings.server.workers = 2;
    settings.server.shutdown_timeout_secs = 1;
    settings.database.max_connections = 8;
    settings.database.min_connections = 0;
    settings.auth.hmac_secret = Some(Secret::new(HMAC_SECRET));
    settings.bootstrap.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    settings.bootstrap.county = "测试县".to_owned();
    // The webhook delivery task reads the outbox on its own schedule, which would blur the
    // statement counts of other tests; the webhook tests turn it on.
    settings.webhooks.deliver = false;
    settings
}

static LOGGING: OnceLock<()> = OnceLock::new();

/// Starts the service with test settings.
pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// Starts the service with test settings changed by `adjust`.
pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    LOGGING.get_or_init(|| {
        if std::env::var("TEST_LOG").is_ok() {
            let settings = test_settings();
            kaohe::telemetry::init(&settings.log, &settings.telemetry).expect("tracing set up");
        }
    });
    let mut settings = test_settings();
    let mut postgres = None;
    // The test's own directory: its SQLite file and its evidence store.
    let dir = tempfile::tempdir().expect("temp dir");
    settings.evidence.local_dir = dir.path().join("evidence").display().to_string();
    match postgres_url() {
        Some(server) => {
            let (url, database) = fresh_postgres(&server).await;
            settings.database.url = Secret::new(url);
            postgres = Some((server, database));
        }
        None => {
            settings.database.url = Secret::new(format!("sqlite://{}/kaohe.db?mode=rwc", dir.path().display()));
        }
    }
    let dir = Some(dir);
    adjust(&mut settings);
    settings.validate().expect("valid test settings");
    let app = Application::build(settings).await.expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    actix_web::rt::spawn(app.run_until_stopped());
    let client = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .finish();
    let mut test = TestApp {
        address,
        client,
        state,
        admin: String::new(),
        county_id: String::new(),
        _dir: dir,
        postgres,
    };
    test.admin = test.login("admin", ADMIN_PASSWORD).await;
    let me = test.get("/api/v1/users/me", &test.admin.clone()).await;
    test.county_id = me.body["county_id"].as_str().unwrap().to_owned();
    test
}

impl TestApp {
    /// Another instance of the service on this test's database, as behind a load balancer: its
    /// own pools, caches and revision cache, the same data and token key.
    pub async fn second_instance(&self) -> TestApp {
        let settings = Settings::clone(&self.state.settings);
        let app = Application::build(settings).await.expect("the second instance starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state();
        actix_web::rt::spawn(app.run_until_stopped());
        let mut second = self.at(address);
        second.state = state;
        second
    }

    /// This test's service as answered at `address` (another instance on its database): the same
    /// callers and county; the first instance owns (and drops) the database.
    pub fn at(&self, address: String) -> TestApp {
        TestApp {
            address,
            client: awc::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .finish(),
            state: self.state.clone(),
            admin: self.admin.clone(),
            county_id: self.county_id.clone(),
            _dir: None,
            postgres: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn read(
        mut response: awc::ClientResponse<
            impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
        >,
    ) -> Reply {
        let bytes = response
            .body()
            .limit(512 * 1024 * 1024)
            .await
            .expect("read body")
            .to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body,
            bytes,
        }
    }

    /// Sends any request with an optional token and body. It asks for English texts
    /// (`Accept-Language: en`, which the tests' message assertions are written in) unless
    /// `headers` names an `accept-language` itself; an empty one sends none (the default, 中文).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.insert_header(("authorization", format!("Bearer {token}")));
        }
        let language = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("accept-language"));
        match language {
            None => request = request.insert_header(("accept-language", "en")),
            Some((_, "")) => {}
            Some((name, value)) => request = request.insert_header((*name, *value)),
        }
        for (name, value) in headers {
            if !name.eq_ignore_ascii_case("accept-language") {
                request = request.insert_header((*name, *value));
            }
        }
        let response = match body {
            Some(body) => request.send_body(body).await,
            None => request.send().await,
        }
        .expect("the request is answered");
        Self::read(response).await
    }

    /// A body of `content_type` POSTed as the county admin (a bulk upload, or a body `post` does
    /// not send as written), with an `Idempotency-Key` when one is given.
    pub async fn upload(&self, path: &str, content_type: &str, body: impl Into<Vec<u8>>, key: Option<&str>) -> Reply {
        let mut headers = vec![("content-type", content_type)];
        if let Some(key) = key {
            headers.push(("idempotency-key", key));
        }
        self.send("POST", path, Some(&self.admin), &headers, Some(body.into()))
            .await
    }

    /// A body of `content_type` POSTed with `token`.
    pub async fn upload_as(&self, token: &str, path: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        let headers = [("content-type", content_type)];
        self.send("POST", path, Some(token), &headers, Some(body.into())).await
    }

    /// A bulk upload of a JSON array as the county admin.
    pub async fn upload_json(&self, path: &str, rows: &(impl serde::Serialize + ?Sized), key: Option<&str>) -> Reply {
        self.upload(path, JSON, serde_json::to_vec(rows).unwrap(), key).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send("GET", path, Some(token), &[], None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send_json("POST", path, token, body).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send_json("PATCH", path, token, body).await
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send_json("PUT", path, token, body).await
    }

    /// `get` as the county admin, expecting 200.
    pub async fn get_ok(&self, path: &str) -> Reply {
        let reply = self.get(path, &self.admin).await;
        reply.assert(200);
        reply
    }

    /// `post` as the county admin.
    pub async fn post_as_admin(&self, path: &str, body: &Value) -> Reply {
        self.post(path, &self.admin, body).await
    }

    /// `post` as the county admin, expecting 201.
    pub async fn create(&self, path: &str, body: &Value) -> Reply {
        let reply = self.post_as_admin(path, body).await;
        reply.assert(201);
        reply
    }

    /// `patch` as the county admin.
    pub async fn patch_as_admin(&self, path: &str, body: &Value) -> Reply {
        self.patch(path, &self.admin, body).await
    }

    async fn send_json(&self, method: &str, path: &str, token: &str, body: &Value) -> Reply {
        let body = serde_json::to_vec(body).unwrap();
        self.send(method, path, Some(token), &[("content-type", JSON)], Some(body))
            .await
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let reply = self.password_grant(username, password).await;
        reply.assert(200);
        reply.body["access_token"].as_str().unwrap().to_owned()
    }

    /// `POST /api/v1/auth/token` with a JSON password grant.
    pub async fn password_grant(&self, username: &str, password: &str) -> Reply {
        let body = serde_json::to_vec(&json!({"username": username, "password": password})).unwrap();
        self.send(
            "POST",
            "/api/v1/auth/token",
            None,
            &[("content-type", JSON)],
            Some(body),
        )
        .await
    }

    /// `POST /api/v1/auth/token` with a form body.
    pub async fn form_grant(&self, form: impl Into<Vec<u8>>) -> Reply {
        let headers = [("content-type", "application/x-www-form-urlencoded")];
        self.send("POST", "/api/v1/auth/token", None, &headers, Some(form.into()))
            .await
    }

    /// Creates a service account as the county admin: its answer, with the secret.
    pub async fn service_account(&self, name: &str) -> Reply {
        self.create("/api/v1/service-accounts", &json!({ "name": name })).await
    }

    /// Revokes a service account as the county admin.
    pub async fn revoke_service_account(&self, id: &str) {
        let path = format!("/api/v1/service-accounts/{id}/revoke");
        self.post(&path, &self.admin, &json!({})).await.assert(200);
    }

    /// Creates an org unit as the county admin and returns its id.
    pub async fn org_unit(&self, kind: &str, name: &str, parent: Option<&str>) -> String {
        let mut body = json!({"kind": kind, "name": name});
        if let Some(parent) = parent {
            body["parent_id"] = json!(parent);
        }
        self.post("/api/v1/org-units", &self.admin, &body)
            .await
            .assert(201)
            .id()
    }

    /// Creates a user as the county admin and returns a token for them.
    pub async fn user(&self, username: &str, org_unit: &str, role: &str) -> String {
        self.post(
            "/api/v1/users",
            &self.admin,
            &json!({"username": username, "display_name": username, "password": PASSWORD, "org_unit_id": org_unit, "role": role}),
        )
        .await
        .assert(201);
        self.login(username, PASSWORD).await
    }

    /// Asserts that `kaohe audit verify` finds the chain whole and every data row as the trail
    /// recorded it: every write this test made sealed its rows.
    pub async fn assert_trail_covers_data(&self) {
        let report = kaohe::store::audit::verify(self.state.store.db()).await.unwrap();
        assert!(report.broken.is_empty(), "{:?}", report.broken);
        assert!(report.rows > 0, "no data rows checked");
    }

    /// Counts rows of a table directly in the database.
    pub async fn count(&self, table: &str) -> i64 {
        let db = self.state.store.db();
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

/// A county with two towns, their villages and a department, and a user of every (level, role).
pub struct World {
    pub town_a: String,
    pub town_b: String,
    pub village_a1: String,
    pub village_a2: String,
    pub village_b1: String,
    pub department: String,
    pub county_assessor: String,
    pub county_viewer: String,
    pub town_a_admin: String,
    pub town_a_assessor: String,
    pub town_a_viewer: String,
    pub town_b_assessor: String,
    pub village_a1_viewer: String,
}

impl TestApp {
    pub async fn world(&self) -> World {
        let town_a = self.org_unit("township", "童市镇", None).await;
        let town_b = self.org_unit("township", "南江镇", None).await;
        let village_a1 = self.org_unit("village", "童市村", Some(&town_a)).await;
        let village_a2 = self.org_unit("village", "大路村", Some(&town_a)).await;
        let village_b1 = self.org_unit("village", "南江村", Some(&town_b)).await;
        let department = self.org_unit("department", "县农业农村局", None).await;
        let county = self.county_id.clone();
        World {
            county_assessor: self.user("county-assessor", &county, "assessor").await,
            county_viewer: self.user("county-viewer", &county, "viewer").await,
            town_a_admin: self.user("town-a-admin", &town_a, "admin").await,
            town_a_assessor: self.user("town-a-assessor", &town_a, "assessor").await,
            town_a_viewer: self.user("town-a-viewer", &town_a, "viewer").await,
            town_b_assessor: self.user("town-b-assessor", &town_b, "assessor").await,
            village_a1_viewer: self.user("village-a1-viewer", &village_a1, "viewer").await,
            town_a,
            town_b,
            village_a1,
            village_a2,
            village_b1,
            department,
        }
    }
}

/// Seed A for `town`, as the county admin; returns the scheme.
pub async fn seed_a_scheme(app: &TestApp, town: &str) -> String {
    app.post_as_admin(
        "/api/v1/schemes",
        &json!({"built_in": "tongshi-2023-village", "year": 2023, "org_unit_id": town}),
    )
    .await
    .assert(201)
    .id()
}

/// A town on Seed A with two villages; returns (town, scheme, village 1, village 2).
pub async fn seed_a_town(app: &TestApp) -> (String, String, String, String) {
    let town = app.org_unit("township", "童市镇", None).await;
    let v1 = app.org_unit("village", "童市村", Some(&town)).await;
    let v2 = app.org_unit("village", "大路村", Some(&town)).await;
    let scheme = seed_a_scheme(app, &town).await;
    (town, scheme, v1, v2)
}

/// A department and a village of a town, for the subjects it stations there; returns
/// (department, village).
pub async fn department_and_village(app: &TestApp) -> (String, String) {
    let department = app
        .post_as_admin(
            "/api/v1/subjects",
            &json!({"subject_type": "department", "name": "县农业农村局"}),
        )
        .await
        .assert(201)
        .id();
    let town = app.org_unit("township", "童市镇", None).await;
    let village = app.org_unit("village", "童市村", Some(&town)).await;
    (department, village)
}

impl TestApp {
    /// A GET as the county admin with `headers` (`accept`, `accept-language`, …).
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send("GET", path, Some(&self.admin), headers, None).await
    }
}

impl TestApp {
    /// A POST of `body` as the county admin with `headers` (`content-type`, `prefer`, …).
    pub async fn post_with(&self, path: &str, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Reply {
        self.send("POST", path, Some(&self.admin), headers, Some(body.into()))
            .await
    }
}

impl TestApp {
    /// `method` with a JSON `body`, sent as written, and `If-Match: etag`, as the county admin.
    pub async fn send_if_match(&self, method: &str, path: &str, etag: &str, body: &[u8]) -> Reply {
        let headers = [("content-type", JSON), ("if-match", etag)];
        self.send(method, path, Some(&self.admin), &headers, Some(body.to_vec()))
            .await
    }
}
