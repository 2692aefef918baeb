//! `/api/v1/webhooks` and `/api/v1/webhook-deliveries`: a data platform's subscriptions to the
//! county's events (county admins), signed per Standard Webhooks, and the log of their deliveries.

use actix_web::{get, patch, post};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::{action_endpoint, create_endpoint, from_row, read_endpoint, update_endpoint};
use super::listing::{list_endpoint, Unfiltered};
use crate::api::listing::Page;
use crate::auth::policy::Action;
use crate::store::entities::{webhook_delivery, webhook_subscription};
use crate::store::webhooks::{self, DeliveryStatus};
use crate::store::Edit;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(read)
        .service(update)
        .service(deliveries)
        .service(retry);
}

create_endpoint! {
    /// Subscribe a receiver to the county's events. The answer holds the signing secret, shown
    /// this once: every delivery is signed with it (Standard Webhooks).
    create: POST "/webhooks", tag "webhooks", operation "createWebhook",
    body NewWebhook, answers CreatedWebhook, "Created, with its signing secret", located "URL of the subscription",
    |tx, caller, new| webhooks::create(tx, caller, new).await?
}

list_endpoint! {
    /// List the county's webhook subscriptions.
    list: GET "/webhooks", tag "webhooks", operation "listWebhooks",
    filter Unfiltered, items Webhook,
    |state, caller, _filter, page| {
        let rows = webhooks::list(state.store.db(), caller, page).await?;
        Ok(rows.into_iter().map(Webhook::from).collect())
    }
}

read_endpoint! {
    /// Read one webhook subscription (never its secret).
    read: GET "/webhooks/{id}", tag "webhooks", operation "getWebhook",
    id "Subscription id", answers Webhook, "The subscription",
    |state, caller, id| Webhook::from(webhooks::load_for(state.store.db(), caller, Action::Read, id).await?)
}

update_endpoint! {
    /// Change a subscription's URL or event types, or pause (`active: false`) and resume it.
    /// A paused subscription is sent no new events; those already enqueued wait until it is
    /// resumed.
    update: PATCH "/webhooks/{id}", tag "webhooks", operation "updateWebhook", id "Subscription id",
    body WebhookPatch, answers Webhook,
    |tx, caller, id, patch, if_match| Webhook::from(webhooks::update(tx, caller, Edit { id, patch, if_match }).await?)
}

list_endpoint! {
    /// The deliveries log: every event enqueued for the county's subscriptions, with its
    /// attempts and the last answer; `subscription_id` narrows it to one subscription.
    deliveries: GET "/webhook-deliveries", tag "webhooks", operation "listWebhookDeliveries",
    filter DeliveryFilter, items WebhookDelivery,
    |state, caller, filter, page| {
        let rows = webhooks::deliveries(state.store.db(), caller, filter, page).await?;
        Ok(rows.into_iter().map(WebhookDelivery::from).collect())
    }
}

action_endpoint! {
    /// Send a failed delivery again, with the same `webhook-id` (one more attempt).
    retry: POST "/webhook-deliveries/{id}/retry", tag "webhooks", operation "retryWebhookDelivery",
    id "Delivery id (its webhook-id)", answers WebhookDelivery, "Pending again",
    |tx, caller, id| WebhookDelivery::from(webhooks::retry(tx, caller, id).await?)
}

// ---- request and response types ----

/// An event a subscription can receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    /// A publication (逐月公开 / 公示) was made.
    #[serde(rename = "publication.created")]
    PublicationCreated,
    /// A scheme-year's inputs changed (findings, revocations, scoresheets, ballots, subjects,
    /// attributes, rules): its results may read differently. Debounced: one event per
    /// scheme-year and debounce window.
    #[serde(rename = "result.changed")]
    ResultChanged,
    /// An appeal was decided (accepted or upheld).
    #[serde(rename = "appeal.decided")]
    AppealDecided,
}

/// A webhook subscription as the API shows it (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub county_id: Uuid,
    /// Where deliveries are POSTed.
    #[schema(example = "https://data.example.gov.cn/hooks/kaohe")]
    pub url: String,
    pub events: Vec<EventType>,
    /// `false`: paused: no new events, and those enqueued wait.
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

from_row! { Webhook from webhook_subscription:
    id, county_id, url, active, version, created_at, updated_at;
    |m|
    events: webhooks::events_of(&m),
}

/// A new subscription with its signing secret, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret (`whsec_` and the base64 of the key): verify `webhook-signature` with
    /// it. Store it now: it is not shown again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// Body of `POST /api/v1/webhooks`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://data.example.gov.cn/hooks/kaohe", "events": ["publication.created", "result.changed", "appeal.decided"]}))]
pub struct NewWebhook {
    /// An absolute `http://` or `https://` URL.
    #[schema(max_length = 2000, pattern = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$")]
    pub url: String,
    /// At least one event type.
    #[schema(min_items = 1)]
    pub events: Vec<EventType>,
    /// Default `true`.
    pub active: Option<bool>,
}

/// Body of `PATCH /api/v1/webhooks/{id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false, "version": 1}))]
pub struct WebhookPatch {
    #[schema(max_length = 2000, pattern = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$")]
    pub url: Option<String>,
    #[schema(min_items = 1)]
    pub events: Option<Vec<EventType>>,
    pub active: Option<bool>,
    pub version: Option<i32>,
}

/// One event for one subscription: the message, and how its delivery went.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookDelivery {
    /// Also the message's `webhook-id`, the same on every attempt.
    pub id: Uuid,
    pub county_id: Uuid,
    pub subscription_id: Uuid,
    pub event_type: EventType,
    /// The JSON body sent: `type`, `timestamp`, `data`.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// When it is (or was last) due.
    pub next_attempt_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last attempt's answer.
    pub last_status: Option<i32>,
    /// Why the last attempt did not count (no answer, a non-2xx status).
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

from_row! { WebhookDelivery from webhook_delivery:
    id, county_id, subscription_id, status, attempts, next_attempt_at, last_attempt_at, last_status, last_error,
    delivered_at, created_at, updated_at;
    |m|
    event_type: serde_json::from_value(serde_json::Value::String(m.event_type.clone()))
        .unwrap_or(EventType::ResultChanged),
    payload: serde_json::from_str(&m.payload).unwrap_or(serde_json::Value::Null),
}

/// Filters of `GET /api/v1/webhook-deliveries`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    pub subscription_id: Option<Uuid>,
    pub status: Option<DeliveryStatus>,
}
