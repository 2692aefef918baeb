//! Webhook subscriptions (county administration) and their outbox: the events a write
//! transaction announces are enqueued in that same transaction (`WriteTx::commit`), and the
//! delivery task (`crate::webhooks`) claims, sends and settles them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};
use serde_json::{json, Value};
use uuid::Uuid;

use super::entities::{
    appeal, ballot, incident, publication, scheme, scoresheet, webhook_delivery, webhook_subscription,
};
use super::new_row;
use super::page::PageRequest;
use super::year_data::UNREAD_ENTITIES;
use super::{audit::Change, find_or_404, load_for, new_id, now, Edit, WriteTx};
use crate::api::webhooks::{
    CreatedWebhook, DeliveryFilter, EventType, NewWebhook, Webhook, WebhookDelivery, WebhookPatch,
};
use crate::auth::policy::{Action, Scope};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::named::named_enum;

named_enum! {
    /// Where a delivery stands: `pending` (waiting for its next attempt), `delivered` (a 2xx
    /// answer), `failed` (every attempt refused; a manual retry sends it again).
    pub enum DeliveryStatus {
        Pending,
        Delivered,
        Failed,
    }
}

/// The longest URL a subscription takes (the document's `maxLength`).
pub const URL_MAX_CHARS: usize = 2000;

fn scope_of(m: &webhook_subscription::Model) -> Scope {
    Scope::county(m.county_id)
}

/// Subscriptions are county administration: only county admins see them (403 to the county's
/// other users, 404 below the county), like service accounts.
fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    if caller.may(Action::Manage, &Scope::county(caller.county_id)) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only county admins manage webhook subscriptions"))
    }
}

/// A receiver's URL: absolute `http` or `https`, a host of letters, digits, dots and hyphens, an
/// optional port and a path of printable ASCII — exactly the document's pattern — at most
/// [`URL_MAX_CHARS`] characters.
pub fn check_url(url: &str) -> Result<String, ApiError> {
    let invalid = || {
        ApiError::invalid(
            "url",
            "webhook.url_invalid",
            format!("url must be an absolute http:// or https:// URL of at most {URL_MAX_CHARS} characters"),
        )
    };
    if url.chars().count() > URL_MAX_CHARS {
        return Err(invalid());
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(invalid)?;
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    let port_ok = port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    let path_ok = path.bytes().all(|b| (b'!'..=b'~').contains(&b));
    if host_ok && port_ok && path_ok {
        Ok(url.to_owned())
    } else {
        Err(invalid())
    }
}

fn check_events(events: &[EventType]) -> Result<Vec<EventType>, ApiError> {
    let unique: BTreeSet<EventType> = events.iter().copied().collect();
    if unique.is_empty() {
        return Err(ApiError::invalid(
            "events",
            "webhook.events_empty",
            "name at least one event type",
        ));
    }
    Ok(unique.into_iter().collect())
}

pub fn events_of(m: &webhook_subscription::Model) -> Vec<EventType> {
    serde_json::from_str(&m.events).unwrap_or_default()
}

fn events_text(events: &[EventType]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".to_owned())
}

#[tracing::instrument(skip_all, fields(county = %caller.county_id))]
pub async fn create(tx: &WriteTx, caller: &Caller, new: NewWebhook) -> Result<CreatedWebhook, ApiError> {
    caller.require(Action::Manage, &Scope::county(caller.county_id), "webhook subscription")?;
    let url = check_url(&new.url)?;
    let events = check_events(&new.events)?;
    let at = now();
    let model = new_row!(webhook_subscription, new_id(), caller.county_id, at, {
        url,
        events: events_text(&events),
        secret: crate::webhooks::generate_secret(),
        active: new.active.unwrap_or(true),
        created_by: caller.id,
    });
    // The secret stays out of the trail.
    tx.insert_created("webhook_subscription", model.id, &model, Webhook::from)
        .await?;
    Ok(CreatedWebhook {
        secret: model.secret.clone(),
        webhook: model.into(),
    })
}

load_for!(webhook_subscription, authorize and Manage, "webhook subscription");

#[tracing::instrument(skip_all, fields(county = %caller.county_id, webhook = %edit.id))]
pub async fn update(
    tx: &WriteTx,
    caller: &Caller,
    edit: Edit<WebhookPatch>,
) -> Result<webhook_subscription::Model, ApiError> {
    let Edit { id, patch, if_match } = edit;
    let current = load_for(tx.conn(), caller, Action::Manage, id).await?;
    // An invalid field is the answer whatever the version (422 before 412).
    let url = patch.url.as_deref().map(check_url).transpose()?;
    let events = patch.events.as_deref().map(check_events).transpose()?;
    super::check_version(if_match.or(patch.version), current.version)?;
    let mut active = current.clone().into_active_model();
    if let Some(url) = url {
        active.url = Set(url);
    }
    if let Some(events) = events {
        active.events = Set(events_text(&events));
    }
    if let Some(flag) = patch.active {
        active.active = Set(flag);
    }
    tx.save(
        "update",
        "webhook_subscription",
        id,
        current,
        active,
        now(),
        Webhook::from,
    )
    .await
}

pub async fn list<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    page: &PageRequest,
) -> Result<Vec<webhook_subscription::Model>, ApiError> {
    require_admin(caller)?;
    let select =
        webhook_subscription::Entity::find().filter(webhook_subscription::Column::CountyId.eq(caller.county_id));
    Ok(super::page::paginate(select, page).all(conn).await?)
}

/// One page of deliveries, newest last (ids are time-ordered), of the subscriptions the caller
/// administers; narrowed to one subscription and one status when asked.
pub async fn deliveries<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    filter: &DeliveryFilter,
    page: &PageRequest,
) -> Result<Vec<webhook_delivery::Model>, ApiError> {
    require_admin(caller)?;
    let mut select = webhook_delivery::Entity::find().filter(webhook_delivery::Column::CountyId.eq(caller.county_id));
    if let Some(subscription) = filter.subscription_id {
        select = select.filter(webhook_delivery::Column::SubscriptionId.eq(subscription));
    }
    if let Some(status) = filter.status {
        select = select.filter(webhook_delivery::Column::Status.eq(status));
    }
    Ok(super::page::paginate(select, page).all(conn).await?)
}

pub async fn load_delivery<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    id: Uuid,
) -> Result<webhook_delivery::Model, ApiError> {
    let row = find_or_404::<webhook_delivery::Entity, _>(conn, id, "webhook delivery").await?;
    let scope = Scope::county(row.county_id);
    caller.authorize(Action::Read, &scope, "webhook delivery")?;
    caller.authorize(Action::Manage, &scope, "webhook delivery")?;
    Ok(row)
}

/// Sends a failed delivery once more, soon, under its own `webhook-id`.
#[tracing::instrument(skip_all, fields(county = %caller.county_id, delivery = %id))]
pub async fn retry(tx: &WriteTx, caller: &Caller, id: Uuid) -> Result<webhook_delivery::Model, ApiError> {
    let current = load_delivery(tx.conn(), caller, id).await?;
    if current.status != DeliveryStatus::Failed {
        return Err(ApiError::conflict(
            "webhook.delivery_not_failed",
            "only a failed delivery is retried by hand; a pending one is retried on its own",
        ));
    }
    let at = now();
    let mut active = current.clone().into_active_model();
    active.status = Set(DeliveryStatus::Pending);
    active.next_attempt_at = Set(at);
    active.updated_at = Set(at);
    let updated = active.update(tx.conn()).await?;
    tx.audit(Change::updated(
        "retry",
        "webhook_delivery",
        id,
        &WebhookDelivery::from(current),
        &WebhookDelivery::from(updated.clone()),
    ))
    .await?;
    Ok(updated)
}

// ---- the outbox: what a write announces ----

/// Which scheme-years a change to the inputs of results touched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Touched {
    Scheme(Uuid),
    /// Rows of `incidents`, `scoresheets` or `ballots` by id, or by upload (bulk).
    Rows {
        entity: &'static str,
        id: Uuid,
        upload: bool,
    },
    /// Every active scheme of the county (subjects, org units: every scheme reads them).
    Everything,
}

/// An event a change announces, kept by the write transaction until it commits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Trigger {
    Publication { county_id: Uuid, id: Uuid },
    Appeal { county_id: Uuid, id: Uuid },
    Results { county_id: Uuid, touched: Touched },
}

impl Trigger {
    fn county_id(&self) -> Uuid {
        match self {
            Self::Publication { county_id, .. } | Self::Appeal { county_id, .. } | Self::Results { county_id, .. } => {
                *county_id
            }
        }
    }

    /// The event `change` (audited in `county_id`) announces, if any. What counts as a change of
    /// results is what `year_data::changes_since` reads as one: everything but accounts, logins,
    /// appeals themselves (an accepted appeal revokes its finding, a change of its own),
    /// publications, evidence files and webhooks.
    pub fn of(county_id: Uuid, change: &Change) -> Option<Self> {
        let id = change.entity_id;
        let scheme_in = |state: &Option<Value>| {
            state
                .as_ref()
                .and_then(|s| s.get("scheme_id"))
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<Uuid>().ok())
        };
        let touched = match (change.entity, change.action.as_str()) {
            ("publication", "create") => return id.map(|id| Self::Publication { county_id, id }),
            ("appeal", "decide") => return id.map(|id| Self::Appeal { county_id, id }),
            (unread, _) if UNREAD_ENTITIES.contains(&unread) => return None,
            ("scheme", _) => Touched::Scheme(id?),
            (entity @ ("incident" | "scoresheet" | "ballot"), action) => {
                match scheme_in(&change.after).or_else(|| scheme_in(&change.before)) {
                    Some(scheme) => Touched::Scheme(scheme),
                    None => match id {
                        Some(id) => Touched::Rows {
                            entity,
                            id,
                            upload: action.starts_with("bulk_"),
                        },
                        None => Touched::Everything,
                    },
                }
            }
            _ => match scheme_in(&change.after).or_else(|| scheme_in(&change.before)) {
                Some(scheme) => Touched::Scheme(scheme),
                None => Touched::Everything,
            },
        };
        Some(Self::Results { county_id, touched })
    }
}

/// How the outbox is filled: the debounce window of `result.changed`.
#[derive(Debug, Clone, Copy)]
pub struct Outbox {
    pub debounce: chrono::TimeDelta,
}

impl Outbox {
    pub fn of(settings: &crate::config::WebhookSettings) -> Self {
        Self {
            debounce: chrono::TimeDelta::milliseconds(settings.debounce_ms.min(i64::MAX as u64) as i64),
        }
    }
}

impl Default for Outbox {
    fn default() -> Self {
        Self::of(&crate::config::WebhookSettings::default())
    }
}

/// Enqueues the deliveries `triggers` announce, in the write transaction `conn`, for the active
/// subscriptions of their counties to those event types. A county without subscriptions costs
/// one query.
pub async fn enqueue<C: ConnectionTrait>(conn: &C, outbox: Outbox, triggers: Vec<Trigger>) -> Result<(), ApiError> {
    let mut by_county: BTreeMap<Uuid, BTreeSet<Trigger>> = BTreeMap::new();
    for trigger in triggers {
        by_county.entry(trigger.county_id()).or_default().insert(trigger);
    }
    for (county_id, triggers) in by_county {
        if county_id.is_nil() {
            continue;
        }
        let subscriptions = webhook_subscription::Entity::find()
            .filter(webhook_subscription::Column::CountyId.eq(county_id))
            .filter(webhook_subscription::Column::Active.eq(true))
            .all(conn)
            .await?;
        if subscriptions.is_empty() {
            continue;
        }
        let at = now();
        let mut touched = Vec::new();
        for trigger in triggers {
            match trigger {
                Trigger::Publication { id, .. } => {
                    let data = publication_created(conn, county_id, id);
                    announce(conn, &subscriptions, EventType::PublicationCreated, at, data).await?;
                }
                Trigger::Appeal { id, .. } => {
                    let data = appeal_decided(conn, county_id, id);
                    announce(conn, &subscriptions, EventType::AppealDecided, at, data).await?;
                }
                Trigger::Results { touched: t, .. } => touched.push(t),
            }
        }
        let subscribers = wanting(&subscriptions, EventType::ResultChanged);
        if touched.is_empty() || subscribers.is_empty() {
            continue;
        }
        let schemes = touched_schemes(conn, county_id, &touched).await?;
        if schemes.is_empty() {
            continue;
        }
        let revision = super::revisions::current(conn, county_id).await?;
        for row in schemes {
            let data = json!({
                "county_id": county_id, "scheme_id": row.id, "scheme_key": row.key, "year": row.year,
                "revision": revision, "changed_at": at,
                "results": format!("/api/v1/results?scheme_id={}", row.id),
                "rankings": format!("/api/v1/rankings?scheme_id={}", row.id),
            });
            for s in &subscribers {
                debounce(conn, s, row.id, at, data.clone(), at + outbox.debounce).await?;
            }
        }
    }
    Ok(())
}

/// Enqueues `event` for the subscriptions of `all` to it, with the data `data` loads once there
/// is one (none when its row is gone).
async fn announce<C: ConnectionTrait>(
    conn: &C,
    all: &[webhook_subscription::Model],
    event: EventType,
    at: DateTime<Utc>,
    data: impl std::future::Future<Output = Result<Option<Value>, ApiError>>,
) -> Result<(), ApiError> {
    let subscribers = wanting(all, event);
    if subscribers.is_empty() {
        return Ok(());
    }
    let Some(data) = data.await? else {
        return Ok(());
    };
    for s in subscribers {
        insert(conn, s, event, None, at, data.clone(), at).await?;
    }
    Ok(())
}

/// The data of a `publication.created`, if the publication is there.
async fn publication_created<C: ConnectionTrait>(
    conn: &C,
    county_id: Uuid,
    id: Uuid,
) -> Result<Option<Value>, ApiError> {
    let Some(row) = publication::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    Ok(Some(json!({
        "county_id": county_id, "publication_id": row.id, "scheme_id": row.scheme_id,
        "number": row.number, "title": row.title, "kind": row.kind, "public": row.public,
        "township_id": row.township_id, "supersedes_id": row.supersedes_id,
        "as_of": row.as_of, "content_hash": row.content_hash,
        "url": format!("/api/v1/publications/{}", row.id),
    })))
}

/// The data of an `appeal.decided`, if the appeal is there.
async fn appeal_decided<C: ConnectionTrait>(conn: &C, county_id: Uuid, id: Uuid) -> Result<Option<Value>, ApiError> {
    let Some(row) = appeal::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    Ok(Some(json!({
        "county_id": county_id, "appeal_id": row.id, "incident_id": row.incident_id,
        "subject_id": row.subject_id, "status": row.status, "decided_at": row.decided_at,
        "decision_note": row.decision_note,
        "url": format!("/api/v1/appeals/{}", row.id),
    })))
}

/// The subscriptions of `all` to `event`.
fn wanting(all: &[webhook_subscription::Model], event: EventType) -> Vec<&webhook_subscription::Model> {
    all.iter().filter(|s| events_of(s).contains(&event)).collect()
}

/// The schemes (id, key, year) of `county_id` that `touched` names.
async fn touched_schemes<C: ConnectionTrait>(
    conn: &C,
    county_id: Uuid,
    touched: &[Touched],
) -> Result<Vec<scheme::Model>, ApiError> {
    let mut select = scheme::Entity::find().filter(scheme::Column::CountyId.eq(county_id));
    if !touched.contains(&Touched::Everything) {
        let mut ids = BTreeSet::new();
        for t in touched {
            match t {
                Touched::Scheme(id) => {
                    ids.insert(*id);
                }
                Touched::Rows { entity, id, upload } => {
                    ids.extend(schemes_of_rows(conn, entity, *id, *upload).await?);
                }
                Touched::Everything => {}
            }
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        select = select.filter(scheme::Column::Id.is_in(ids));
    } else {
        select = select.filter(scheme::Column::Active.eq(true));
    }
    Ok(select.order_by_asc(scheme::Column::Id).all(conn).await?)
}

/// The schemes of the findings, scoresheets or ballots written as row `id` or by upload `id`.
async fn schemes_of_rows<C: ConnectionTrait>(
    conn: &C,
    entity: &str,
    id: Uuid,
    upload: bool,
) -> Result<Vec<Uuid>, ApiError> {
    macro_rules! schemes_in {
        ($table:ident) => {{
            let column = if upload {
                $table::Column::UploadId
            } else {
                $table::Column::Id
            };
            $table::Entity::find()
                .select_only()
                .column($table::Column::SchemeId)
                .distinct()
                .filter(column.eq(id))
                .into_tuple::<Uuid>()
                .all(conn)
                .await?
        }};
    }
    Ok(match entity {
        "incident" => schemes_in!(incident),
        "scoresheet" => schemes_in!(scoresheet),
        "ballot" => schemes_in!(ballot),
        _ => Vec::new(),
    })
}

/// The Standard Webhooks body: `type`, `timestamp`, `data`.
fn body(event: EventType, at: DateTime<Utc>, data: Value) -> String {
    json!({"type": event, "timestamp": at, "data": data}).to_string()
}

async fn insert<C: ConnectionTrait>(
    conn: &C,
    subscription: &webhook_subscription::Model,
    event: EventType,
    scheme_id: Option<Uuid>,
    at: DateTime<Utc>,
    data: Value,
    due: DateTime<Utc>,
) -> Result<(), ApiError> {
    let row = webhook_delivery::Model {
        id: new_id(),
        county_id: subscription.county_id,
        created_at: at,
        updated_at: at,
        subscription_id: subscription.id,
        event_type: super::name_of(event),
        scheme_id,
        payload: body(event, at, data),
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: due,
        last_attempt_at: None,
        last_status: None,
        last_error: None,
        delivered_at: None,
    };
    webhook_delivery::Entity::insert(row.into_active_model())
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// A `result.changed` for a scheme-year: while one for this subscription and scheme-year has not
/// been tried yet, it is brought up to date (its due time stays, a debounce window after the first
/// change); otherwise a new one is due a window from now. A delivery once tried is never changed:
/// its `webhook-id` names what was sent.
async fn debounce<C: ConnectionTrait>(
    conn: &C,
    subscription: &webhook_subscription::Model,
    scheme_id: Uuid,
    at: DateTime<Utc>,
    data: Value,
    due: DateTime<Utc>,
) -> Result<(), ApiError> {
    let updated = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Payload,
            Expr::value(body(EventType::ResultChanged, at, data.clone())),
        )
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(at))
        .filter(webhook_delivery::Column::SubscriptionId.eq(subscription.id))
        .filter(webhook_delivery::Column::SchemeId.eq(scheme_id))
        .filter(webhook_delivery::Column::EventType.eq(super::name_of(EventType::ResultChanged)))
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(webhook_delivery::Column::Attempts.eq(0))
        .exec(conn)
        .await?;
    if updated.rows_affected == 0 {
        insert(
            conn,
            subscription,
            EventType::ResultChanged,
            Some(scheme_id),
            at,
            data,
            due,
        )
        .await?;
    }
    Ok(())
}

// ---- the delivery task's side ----

/// A delivery claimed for one attempt, with where and how to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: webhook_delivery::Model,
    pub url: String,
    pub secret: String,
}

/// Up to `limit` deliveries due now, of active subscriptions: (id, attempts so far).
pub async fn due<C: ConnectionTrait>(conn: &C, limit: u64) -> Result<Vec<(Uuid, i32)>, ApiError> {
    let active = webhook_subscription::Entity::find()
        .select_only()
        .column(webhook_subscription::Column::Id)
        .filter(webhook_subscription::Column::Active.eq(true))
        .into_query();
    Ok(webhook_delivery::Entity::find()
        .select_only()
        .columns([webhook_delivery::Column::Id, webhook_delivery::Column::Attempts])
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now()))
        .filter(webhook_delivery::Column::SubscriptionId.in_subquery(active))
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?)
}

/// Claims delivery `id` for one attempt, if it is still due with `attempts` tries behind it: one
/// conditional UPDATE, so of several instances exactly one wins, and a write can no longer
/// debounce into it. The claim moves its next attempt `lease` ahead, so a claimer that dies
/// mid-attempt leaves it to be tried again then.
pub async fn claim<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    attempts: i32,
    lease: chrono::TimeDelta,
) -> Result<Option<Claimed>, ApiError> {
    let at = now();
    let claimed = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempts + 1))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(at + lease))
        .col_expr(webhook_delivery::Column::LastAttemptAt, Expr::value(Some(at)))
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(at))
        .filter(webhook_delivery::Column::Id.eq(id))
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(webhook_delivery::Column::Attempts.eq(attempts))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(at))
        .exec(conn)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(None);
    }
    let Some(delivery) = webhook_delivery::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    let Some(subscription) = webhook_subscription::Entity::find_by_id(delivery.subscription_id)
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Claimed {
        delivery,
        url: subscription.url,
        secret: subscription.secret,
    }))
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The HTTP status answered, if any.
    pub status: Option<u16>,
    /// Why it did not count as delivered (no answer, a non-2xx status).
    pub error: Option<String>,
}

/// Records attempt number `attempts` of delivery `id`: delivered on a 2xx answer; otherwise
/// pending again `retry_in` from now, or failed when it was the last attempt allowed.
pub async fn settle<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    attempts: i32,
    outcome: &Outcome,
    retry_in: Option<chrono::TimeDelta>,
) -> Result<(), ApiError> {
    let at = now();
    let delivered = outcome.error.is_none();
    let (status, next) = match (delivered, retry_in) {
        (true, _) => (DeliveryStatus::Delivered, at),
        (false, Some(wait)) => (DeliveryStatus::Pending, at + wait),
        (false, None) => (DeliveryStatus::Failed, at),
    };
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(status))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            webhook_delivery::Column::LastStatus,
            Expr::value(outcome.status.map(i32::from)),
        )
        .col_expr(webhook_delivery::Column::LastError, Expr::value(outcome.error.clone()))
        .col_expr(
            webhook_delivery::Column::DeliveredAt,
            Expr::value(delivered.then_some(at)),
        )
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(at))
        .filter(webhook_delivery::Column::Id.eq(id))
        .filter(webhook_delivery::Column::Attempts.eq(attempts))
        .exec(conn)
        .await?;
    Ok(())
}
