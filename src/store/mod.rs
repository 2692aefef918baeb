//! Where data is stored: the connection pool, migrations, the one way to open a write
//! transaction (with its audit trail), and the queries of each resource.

pub mod appeals;
pub mod audit;
pub mod checkpoint;
pub mod decimal;
pub mod entities;
pub mod evaluations;
pub mod evidence;
pub mod idempotency;
pub mod incidents;
pub mod jobs;
pub mod org_units;
pub mod page;
pub mod publications;
pub mod revisions;
pub mod schemes;
pub mod seals;
pub mod service_accounts;
pub mod subject_uploads;
pub mod subjects;
pub mod users;
pub mod webhooks;
pub mod year_data;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};
use uuid::Uuid;

use crate::config::DatabaseSettings;
use crate::error::ApiError;

pub use audit::{Actor, Change};

/// The database, shared by every request. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    backend: DbBackend,
    /// SQLite allows one writer; queueing writers here avoids SQLITE_BUSY on lock upgrades.
    /// PostgreSQL serialises a county's writers with a row lock on its audit chain head (see
    /// `Store::write`).
    writer: Arc<Mutex<()>>,
    acquire_timeout: Duration,
    /// SQL statements run so far (tests check that a request's count does not grow with the data).
    statements: Arc<std::sync::atomic::AtomicU64>,
    /// How write transactions fill the webhook outbox.
    outbox: webhooks::Outbox,
}

impl Store {
    /// Connects with a bounded pool; creates the SQLite file's directory when needed.
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self, DbErr> {
        let url = settings.url.expose().to_owned();
        if let Some(path) = sqlite_file(&url) {
            if let Some(dir) = Path::new(&path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| DbErr::Custom(format!("cannot create directory {}: {e}", dir.display())))?;
                }
            }
        }
        let acquire_timeout = Duration::from_millis(settings.acquire_timeout_ms);
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(settings.max_connections)
            .min_connections(settings.min_connections)
            .acquire_timeout(acquire_timeout)
            .connect_timeout(acquire_timeout)
            .idle_timeout(Duration::from_secs(300))
            .test_before_acquire(true)
            .sqlx_logging(false);
        let busy = Duration::from_millis(settings.sqlite_busy_timeout_ms);
        options.map_sqlx_sqlite_opts(move |o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(busy)
                .foreign_keys(false)
        });
        let mut db = Database::connect(options).await?;
        let backend = db.get_database_backend();
        let statements = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        Ok(Self {
            db,
            backend,
            writer: Arc::new(Mutex::new(())),
            acquire_timeout,
            statements,
            outbox: webhooks::Outbox::default(),
        })
    }

    /// Sets how write transactions fill the webhook outbox (`webhooks.debounce_ms`).
    pub fn with_outbox(mut self, outbox: webhooks::Outbox) -> Self {
        self.outbox = outbox;
        self
    }

    /// Applies pending migrations, then seals the rows written before row seals existed.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.db, None).await?;
        audit::seal_baseline(&self.db).await.map(|_| ())
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    /// The county's current data revision (see `store::revisions`).
    pub async fn revision(&self, county_id: Uuid) -> Result<i64, ApiError> {
        revisions::current(&self.db, county_id).await
    }

    /// SQL statements run through this store so far.
    pub fn statements(&self) -> u64 {
        self.statements.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Answers within the pool's acquire timeout whether the database responds.
    pub async fn ping(&self) -> Result<(), ApiError> {
        let query = self
            .db
            .execute_raw(Statement::from_string(self.backend, "SELECT 1".to_owned()));
        match tokio::time::timeout(self.acquire_timeout, query).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => {
                tracing::warn!(cause = %err, "readiness check failed");
                Err(ApiError::unavailable("the database is unavailable"))
            }
            Err(_) => Err(ApiError::unavailable("the database did not answer in time")),
        }
    }

    /// Opens the transaction every write goes through: changes and their audit events commit
    /// together or not at all.
    ///
    /// Writers of one county run one after the other: SQLite has a single writer (queued here),
    /// and on PostgreSQL the transaction first locks the county's audit chain head, which every
    /// write of the county appends to anyway. Everything a write then reads (the version it
    /// compares, the state it moves from) is the last committed one and cannot change before it
    /// commits, so a compare-and-set or a state transition has exactly one winner, and two
    /// writers never lock rows in opposite orders (no deadlock).
    pub async fn write(&self, actor: &Actor) -> Result<WriteTx, ApiError> {
        let guard = match self.backend {
            DbBackend::Sqlite => Some(
                tokio::time::timeout(Duration::from_secs(30), self.writer.clone().lock_owned())
                    .await
                    .map_err(|_| ApiError::unavailable("the database is busy; retry shortly"))?,
            ),
            _ => None,
        };
        let tx = begin_write(&self.db).await?;
        if self.backend == DbBackend::Postgres && !actor.county_id.is_nil() {
            lock_county(&tx, actor.county_id).await?;
        }
        Ok(WriteTx {
            tx,
            backend: self.backend,
            actor: actor.clone(),
            outbox: self.outbox,
            announced: Default::default(),
            _guard: guard,
        })
    }
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`, waiting up to the busy timeout): a transaction that read first and only then
/// wrote would fail at once with "database is locked" (SQLITE_BUSY_SNAPSHOT, no waiting) whenever
/// another connection (a job's progress, the webhook task, an idempotency key) wrote in between.
pub(crate) async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, sea_orm::DbErr> {
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// A write transaction. Every change recorded through [`WriteTx::audit`] lands in the county's
/// hash-chained audit trail in the same transaction, and the webhook events the changes announce
/// land in the outbox when it commits: a rolled-back transaction (a dry run) announces nothing.
pub struct WriteTx {
    tx: DatabaseTransaction,
    backend: DbBackend,
    actor: Actor,
    outbox: webhooks::Outbox,
    /// The webhook events of the changes audited so far.
    announced: std::sync::Mutex<Vec<webhooks::Trigger>>,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.tx
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Changes who the following audit events are attributed to (bootstrapping a county).
    pub fn set_actor(&mut self, actor: Actor) {
        self.actor = actor;
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    /// Appends one audit event for `change`, in the county of the actor.
    pub async fn audit(&self, change: Change) -> Result<(), ApiError> {
        self.audit_in(self.actor.county_id, change).await
    }

    /// Appends one audit event to another county's chain (creating a county).
    pub async fn audit_in(&self, county_id: Uuid, change: Change) -> Result<(), ApiError> {
        if let Some(trigger) = webhooks::Trigger::of(county_id, &change) {
            if let Ok(mut announced) = self.announced.lock() {
                announced.push(trigger);
            }
        }
        audit::append(&self.tx, self.backend, county_id, &self.actor, change).await?;
        Ok(())
    }

    /// Inserts a new row.
    pub async fn insert<A>(&self, row: impl sea_orm::IntoActiveModel<A>) -> Result<(), ApiError>
    where
        A: sea_orm::ActiveModelTrait + Send,
    {
        <A::Entity as sea_orm::EntityTrait>::insert(row.into_active_model())
            .exec_without_returning(&self.tx)
            .await?;
        Ok(())
    }

    /// Inserts a new row and audits its creation as `entity` `id`, the row as `shown` shows it.
    pub async fn insert_created<A, M, S>(
        &self,
        entity: &'static str,
        id: Uuid,
        row: &M,
        shown: impl FnOnce(M) -> S,
    ) -> Result<(), ApiError>
    where
        M: sea_orm::IntoActiveModel<A> + Clone,
        A: sea_orm::ActiveModelTrait + Send,
        S: serde::Serialize,
    {
        self.insert(row.clone()).await?;
        self.audit(Change::created(entity, id, &shown(row.clone()))).await
    }

    /// Writes an edited row one version on (`updated_at` = `at`) and audits the change as `action`,
    /// the row before and after as `record` shows them.
    #[allow(clippy::too_many_arguments)]
    pub async fn save<A, R>(
        &self,
        action: &str,
        entity: &'static str,
        id: Uuid,
        current: <A::Entity as sea_orm::EntityTrait>::Model,
        mut edited: A,
        at: chrono::DateTime<chrono::Utc>,
        record: impl Fn(<A::Entity as sea_orm::EntityTrait>::Model) -> R,
    ) -> Result<<A::Entity as sea_orm::EntityTrait>::Model, ApiError>
    where
        A: sea_orm::ActiveModelTrait + sea_orm::ActiveModelBehavior + Versioned + Send,
        <A::Entity as sea_orm::EntityTrait>::Model: sea_orm::IntoActiveModel<A> + Clone,
        R: serde::Serialize,
    {
        edited.next_version(at);
        let updated = edited.update(&self.tx).await?;
        self.audit(Change::updated(
            action,
            entity,
            id,
            &record(current),
            &record(updated.clone()),
        ))
        .await?;
        Ok(updated)
    }

    /// The head of the actor's county chain as this transaction sees it, held until it ends.
    pub async fn chain_head(&self) -> Result<(i64, String), ApiError> {
        Ok(audit::head_for_update(&self.tx, self.backend, self.actor.county_id).await?)
    }

    /// Enqueues the webhook events of the changes, then commits: the change and its events
    /// together or not at all.
    pub async fn commit(self) -> Result<(), ApiError> {
        let announced = self
            .announced
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default();
        if !announced.is_empty() {
            webhooks::enqueue(&self.tx, self.outbox, announced).await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}

/// Takes the row lock on a county's audit chain head (creating the head when the county has
/// none yet), held until the transaction ends.
async fn lock_county(tx: &DatabaseTransaction, county_id: Uuid) -> Result<(), ApiError> {
    use sea_orm::sea_query::{OnConflict, Query};
    use sea_orm::{EntityTrait, QuerySelect};
    let mut insert_head = Query::insert();
    insert_head
        .into_table(entities::audit_head::Entity)
        .columns([
            entities::audit_head::Column::CountyId,
            entities::audit_head::Column::Seq,
            entities::audit_head::Column::Hash,
        ])
        .values_panic([county_id.into(), 0i64.into(), audit::GENESIS_HASH.into()])
        .on_conflict(
            OnConflict::column(entities::audit_head::Column::CountyId)
                .do_nothing()
                .to_owned(),
        );
    tx.execute(&insert_head).await?;
    entities::audit_head::Entity::find_by_id(county_id)
        .lock_exclusive()
        .one(tx)
        .await?;
    Ok(())
}

/// The file path of a `sqlite:` URL, or None for in-memory and other databases.
fn sqlite_file(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(path.to_owned())
    }
}

/// The `E` row `id`, or 404 naming it `what`.
pub async fn find_or_404<E, C>(conn: &C, id: Uuid, what: &str) -> Result<E::Model, ApiError>
where
    E: sea_orm::EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<Uuid>,
    C: ConnectionTrait,
{
    E::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found(what))
}

/// Declares `pub async fn load_for(conn, caller, action, id)`: the `$entity` row `id` when the
/// caller may act on it as `action` (`$authorize`: `authorize`, or `authorize_shared` for the
/// rules a county shares with its towns) and, with `and $also`, as `$also` too; 404 (or 403)
/// naming it `$what` otherwise.
macro_rules! load_for {
    ($(#[doc = $doc:expr])* $entity:ident, $authorize:ident $(and $also:ident)?, $what:literal) => {
        $(#[doc = $doc])*
        pub async fn load_for<C: sea_orm::ConnectionTrait>(
            conn: &C,
            caller: &$crate::auth::Caller,
            action: $crate::auth::policy::Action,
            id: uuid::Uuid,
        ) -> Result<$entity::Model, $crate::error::ApiError> {
            let row = $crate::store::find_or_404::<$entity::Entity, C>(conn, id, $what).await?;
            caller.$authorize(action, &scope_of(&row), $what)?;
            $(caller.$authorize($crate::auth::policy::Action::$also, &scope_of(&row), $what)?;)?
            Ok(row)
        }
    };
}
pub(crate) use load_for;

/// A new row of a versioned entity (`entity!(…, versioned {…})`): `$id` in county `$county`,
/// created (and so last updated) at `$at`, at version 1, with its own fields after.
macro_rules! new_row {
    ($entity:ident, $id:expr, $county:expr, $at:expr, { $($field:tt)* }) => {
        $entity::Model {
            id: $id,
            county_id: $county,
            created_at: $at,
            updated_at: $at,
            version: 1,
            $($field)*
        }
    };
}
pub(crate) use new_row;

/// A change to one versioned row: its id, the fields to change, and the version the client read
/// from `If-Match` (else the patch's own `version` counts).
pub struct Edit<P> {
    pub id: Uuid,
    pub patch: P,
    pub if_match: Option<i32>,
}

/// A versioned row being edited (`store::entities`): its version moves on by one, its
/// `updated_at` to the instant of the change.
pub trait Versioned {
    fn next_version(&mut self, at: chrono::DateTime<chrono::Utc>);
}

/// Now, truncated to microseconds: what both databases store exactly, so hashes and ETags over
/// timestamps survive a round trip.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
}

/// The snake_case name an enumeration is stored and shown as.
pub fn name_of<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A new time-ordered id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// The reason given for a change, trimmed: 1–2000 characters, else 422 `code` on `reason`, saying
/// that a `what` needs one.
pub fn check_reason<'a>(reason: &'a str, code: &str, what: &str) -> Result<&'a str, ApiError> {
    let too_long = reason.chars().count() > 2000;
    let reason = reason.trim();
    if reason.is_empty() || too_long {
        return Err(ApiError::invalid(
            "reason",
            code,
            format!("a {what} needs a reason (at most 2000 characters)"),
        ));
    }
    Ok(reason)
}

/// Optimistic concurrency: the version the client read must still be current.
pub fn check_version(given: Option<i32>, current: i32) -> Result<(), ApiError> {
    match given {
        None => Err(ApiError::precondition_required(
            "send the version you read, as If-Match or as the version field",
        )),
        Some(v) if v != current => Err(ApiError::precondition_failed(format!(
            "the resource changed: you sent version {v}, it is now at version {current}"
        ))),
        Some(_) => Ok(()),
    }
}
