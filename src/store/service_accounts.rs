//! Service accounts: machine clients (data platforms) with a client id and a hashed secret,
//! reading the whole county. Revocable.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};
use uuid::Uuid;

use super::entities::service_account;
use super::load_for;
use super::new_row;
use super::{new_id, now, WriteTx};
use crate::api::service_accounts::{CreatedServiceAccount, NewServiceAccount, ServiceAccount};
use crate::auth::policy::{Action, Scope};
use crate::auth::{passwords, Caller};
use crate::error::ApiError;

fn scope_of(m: &service_account::Model) -> Scope {
    Scope::county(m.county_id)
}

#[tracing::instrument(skip_all, fields(county = %caller.county_id))]
pub async fn create(tx: &WriteTx, caller: &Caller, new: NewServiceAccount) -> Result<CreatedServiceAccount, ApiError> {
    caller.require(Action::Manage, &Scope::county(caller.county_id), "service account")?;
    let name = super::org_units::check_name("name", &new.name)?;
    let id = new_id();
    let client_id = format!("svc-{}", &id.simple().to_string()[20..]);
    let secret = passwords::generate_secret();
    let at = now();
    let model = new_row!(service_account, id, caller.county_id, at, {
        client_id,
        name,
        secret_hash: passwords::hash(secret.clone()).await?,
        active: true,
        token_generation: 0,
        tokens_valid_after: None,
    });
    tx.insert_created("service_account", id, &model, ServiceAccount::from)
        .await?;
    Ok(CreatedServiceAccount {
        account: model.into(),
        client_secret: secret,
    })
}

// Service accounts are county administration: only county admins see them (403 to the
// county's other users, as the list answers; 404 below the county).
load_for!(service_account, authorize and Manage, "service account");

#[tracing::instrument(skip_all, fields(county = %caller.county_id, service_account = %id))]
pub async fn revoke(tx: &WriteTx, caller: &Caller, id: Uuid) -> Result<service_account::Model, ApiError> {
    let current = load_for(tx.conn(), caller, Action::Manage, id).await?;
    if !current.active {
        return Ok(current);
    }
    let mut active = current.clone().into_active_model();
    // Revoking ends every token of the account (also were it ever reactivated).
    let at = now();
    active.active = Set(false);
    active.token_generation = Set(current.token_generation + 1);
    active.tokens_valid_after = Set(Some(at));
    let updated = tx
        .save(
            "revoke",
            "service_account",
            id,
            current,
            active,
            at,
            ServiceAccount::from,
        )
        .await?;
    Ok(updated)
}

pub async fn list<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    page: &super::page::PageRequest,
) -> Result<Vec<service_account::Model>, ApiError> {
    if !caller.may(Action::Manage, &Scope::county(caller.county_id)) {
        return Err(ApiError::forbidden("only county admins manage service accounts"));
    }
    use sea_orm::ColumnTrait;
    let select = service_account::Entity::find().filter(service_account::Column::CountyId.eq(caller.county_id));
    Ok(super::page::paginate(select, page).all(conn).await?)
}
