//! `/api/v1/org-units`: the county's tree.

use actix_web::{get, patch, post};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::{create_endpoint, read_endpoint, update_endpoint};
use super::listing::list_endpoint;
use crate::auth::policy::Action;
use crate::store::org_units::{self, NewOrgUnit, OrgUnit, OrgUnitFilter, OrgUnitPatch};
use crate::store::page::Page;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(list).service(read).service(update);
}

create_endpoint! {
    /// Create a township, village or department (and its subject).
    create: POST "/org-units", tag "org-units", operation "createOrgUnit",
    body NewOrgUnit, answers OrgUnit, "Created", located "URL of the new org unit",
    |tx, caller, new| OrgUnit::from(org_units::create(tx, caller, new).await?)
}

list_endpoint! {
    /// List org units in your scope.
    list: GET "/org-units", tag "org-units", operation "listOrgUnits", filter OrgUnitFilter, items OrgUnit,
    |state, caller, filter, page| Ok(org_units::list(state.store.db(), caller, filter, page).await?.into_iter().map(OrgUnit::from).collect())
}

read_endpoint! {
    /// Read one org unit.
    read: GET "/org-units/{id}", tag "org-units", operation "getOrgUnit", id "Org unit id", answers OrgUnit, "The org unit",
    |state, caller, id| OrgUnit::from(org_units::load_for(state.store.db(), caller, Action::Read, id).await?)
}

update_endpoint! {
    /// Rename, recode, deactivate or reactivate an org unit.
    update: PATCH "/org-units/{id}", tag "org-units", operation "updateOrgUnit", id "Org unit id",
    body OrgUnitPatch, answers OrgUnit,
    |tx, caller, id, patch, version| OrgUnit::from(org_units::update(tx, caller, id, patch, version).await?)
}
