//! `/api/v1/service-accounts`: machine clients of data platforms (county admins).

use actix_web::{get, post};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::{action_endpoint, create_endpoint, from_row, read_endpoint};
use super::listing::{list_endpoint, Unfiltered};
use crate::api::listing::Page;
use crate::auth::policy::Action;
use crate::store::entities::service_account;
use crate::store::service_accounts::{self};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(list).service(read).service(revoke);
}

create_endpoint! {
    /// Create a service account; its secret is shown once.
    create: POST "/service-accounts", tag "service-accounts", operation "createServiceAccount",
    body NewServiceAccount, answers CreatedServiceAccount, "Created, with its secret", located "URL of the account",
    |tx, caller, new| service_accounts::create(tx, caller, new).await?
}

list_endpoint! {
    /// List the county's service accounts.
    list: GET "/service-accounts", tag "service-accounts", operation "listServiceAccounts",
    filter Unfiltered, items ServiceAccount,
    |state, caller, _filter, page| {
        let rows = service_accounts::list(state.store.db(), caller, page).await?;
        Ok(rows.into_iter().map(ServiceAccount::from).collect())
    }
}

read_endpoint! {
    /// Read one service account.
    read: GET "/service-accounts/{id}", tag "service-accounts", operation "getServiceAccount",
    id "Service account id", answers ServiceAccount, "The account",
    |state, caller, id| ServiceAccount::from(service_accounts::load_for(state.store.db(), caller, Action::Read, id).await?)
}

action_endpoint! {
    /// Revoke a service account: its tokens stop working at once.
    revoke: POST "/service-accounts/{id}/revoke", tag "service-accounts", operation "revokeServiceAccount",
    id "Service account id", answers ServiceAccount, "Revoked",
    |tx, caller, id| ServiceAccount::from(service_accounts::revoke(tx, caller, id).await?)
}

// ---- request and response types ----

/// A service account as the API shows it (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceAccount {
    pub id: Uuid,
    pub county_id: Uuid,
    /// Use as `client_id` with `grant_type=client_credentials`.
    #[schema(example = "svc-4f1c2a9e8b7d")]
    pub client_id: String,
    #[schema(example = "省数据平台")]
    pub name: String,
    /// `false` once revoked.
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

from_row! { ServiceAccount from service_account:
    id, county_id, client_id, name, active, version, created_at, updated_at
}

/// A newly created service account with its secret, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedServiceAccount {
    #[serde(flatten)]
    pub account: ServiceAccount,
    /// Store it now: only its hash is kept.
    #[schema(example = "k3J9x2mQ7cV8bN1zR4tY6uI0oP5aS2dF3gH8jK1lZ9x")]
    pub client_secret: String,
}

/// Body of `POST /api/v1/service-accounts`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "省数据平台"}))]
pub struct NewServiceAccount {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}
