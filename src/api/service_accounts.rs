//! `/api/v1/service-accounts`: machine clients of data platforms (county admins).

use actix_web::{get, post};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::{action_endpoint, create_endpoint, read_endpoint, Resource};
use super::listing::{list_endpoint, Unfiltered};
use crate::auth::policy::Action;
use crate::store::page::Page;
use crate::store::service_accounts::{self, CreatedServiceAccount, NewServiceAccount, ServiceAccount};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(list).service(read).service(revoke);
}

create_endpoint! {
    /// Create a service account; its secret is shown once.
    create: POST "/service-accounts", tag "service-accounts", operation "createServiceAccount",
    body NewServiceAccount, answers CreatedServiceAccount, "Created, with its secret", located "URL of the account",
    |tx, caller, new| service_accounts::create(tx, caller, new).await?
}

impl Resource for CreatedServiceAccount {
    fn id(&self) -> Uuid {
        self.account.id
    }
    fn version(&self) -> i32 {
        self.account.version
    }
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
