//! Users: people who log in with a password, each at one org unit with one role.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, TryIntoModel,
};
use uuid::Uuid;

use super::entities::{org_unit, user};
use super::load_for;
use super::new_row;
use super::org_units::{self, OrgKind};
use super::page::list_rows;
use super::{new_id, now, Edit, WriteTx};
use crate::api::users::{NewUser, PasswordChange, User, UserFilter, UserPatch};
use crate::auth::policy::{Action, Scope};
use crate::auth::{passwords, Caller, Level, Role};
use crate::error::ApiError;

pub fn scope_of(m: &user::Model) -> Scope {
    Scope::new(m.county_id, m.township_id, m.village_id)
}

fn check_username(username: &str) -> Result<String, ApiError> {
    let ok = (3..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if !ok {
        return Err(ApiError::invalid(
            "username",
            "user.username_invalid",
            "username must be 3–64 letters, digits, '.', '_', '-' or '@'",
        ));
    }
    Ok(username.to_owned())
}

/// The key usernames are compared by: NFKC, then case folding, then NFKC again (Unicode's
/// NFKC_Casefold, with the full lower-case mapping as the fold), so `ADMIN`, `admin` and
/// `ａｄｍｉｎ` are one name.
pub fn username_key(username: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = username.nfkc().collect::<String>().to_lowercase();
    folded.nfkc().collect()
}

/// 409 naming `username`: another user's name differs from it at most in case or width.
fn username_taken(username: &str) -> ApiError {
    ApiError::invalid(
        "username",
        "user.username_taken",
        format!("username {username} is taken (names differ in more than case)"),
    )
    .arg("value", username)
    .as_conflict()
}

/// Whether a change ends the user's tokens: a new password, the active flag, the role, level or
/// org unit.
fn ends_tokens(before: &user::Model, after: &user::Model) -> bool {
    before.password_hash != after.password_hash
        || before.active != after.active
        || before.role != after.role
        || before.level != after.level
        || before.org_unit_id != after.org_unit_id
}

fn check_password(field: &str, password: &str) -> Result<(), ApiError> {
    passwords::check_strength(password).map_err(|why| ApiError::invalid(field, "user.password_weak", why))
}

/// The level a user at this org unit has, and whether the role is allowed there.
fn level_for(unit: &org_unit::Model, role: Role) -> Result<Level, ApiError> {
    let level = match unit.kind {
        OrgKind::County => Level::County,
        OrgKind::Township => Level::Township,
        OrgKind::Village => Level::Village,
        OrgKind::Department => {
            return Err(ApiError::invalid(
                "org_unit_id",
                "user.org_unit_kind",
                "users work at a county, a township or a village",
            ))
        }
    };
    if level == Level::Village && role != Role::Viewer {
        return Err(ApiError::invalid(
            "role",
            "user.role_not_allowed",
            "village users are viewers",
        ));
    }
    Ok(level)
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<user::Model>, ApiError> {
    Ok(user::Entity::find_by_id(id).one(conn).await?)
}

load_for!(user, authorize, "user");

/// Creates a user at an org unit (the caller must manage that unit's scope).
#[tracing::instrument(skip_all, fields(county = %county_id))]
pub async fn create(
    tx: &WriteTx,
    caller: Option<&Caller>,
    county_id: Uuid,
    new: NewUser,
) -> Result<user::Model, ApiError> {
    let username = check_username(new.username.trim())?;
    let display_name = org_units::check_name("display_name", &new.display_name)?;
    check_password("password", &new.password)?;
    let unit = org_units::find(tx.conn(), new.org_unit_id)
        .await?
        .filter(|u| u.county_id == county_id && caller.is_none_or(|c| c.may(Action::Read, &org_units::scope_of(u))))
        .ok_or_else(|| {
            ApiError::invalid(
                "org_unit_id",
                "user.org_unit_unknown",
                "org_unit_id is not an org unit in your scope",
            )
        })?;
    if !unit.active {
        return Err(ApiError::invalid(
            "org_unit_id",
            "user.org_unit_inactive",
            "the org unit is deactivated",
        ));
    }
    let level = level_for(&unit, new.role)?;
    let scope = org_units::scope_of(&unit);
    if let Some(caller) = caller {
        caller.authorize(Action::Manage, &scope, "org unit")?;
    }
    let key = username_key(&username);
    let taken = user::Entity::find()
        .filter(user::Column::UsernameKey.eq(&key))
        .one(tx.conn())
        .await?
        .is_some();
    if taken {
        return Err(username_taken(&username));
    }
    let hash = passwords::hash(new.password).await?;
    let at = now();
    let model = new_row!(user, new_id(), county_id, at, {
        org_unit_id: unit.id,
        township_id: scope.township_id,
        village_id: scope.village_id,
        username,
        display_name,
        level,
        role: new.role,
        password_hash: hash,
        active: true,
        token_generation: 0,
        tokens_valid_after: None,
        username_key: key,
    });
    // Two concurrent creations of one name: the unique index refuses the second, answered as
    // `user.username_taken` too (`error::UNIQUE_KEYS`).
    tx.insert_created("user", model.id, &model, User::from).await?;
    Ok(model)
}

#[tracing::instrument(skip_all, fields(county = %caller.county_id, user = %edit.id))]
pub async fn update(tx: &WriteTx, caller: &Caller, edit: Edit<UserPatch>) -> Result<user::Model, ApiError> {
    let Edit { id, patch, if_match } = edit;
    let current = load_for(tx.conn(), caller, Action::Manage, id).await?;
    super::check_version(if_match.or(patch.version), current.version)?;
    if current.id == caller.id && (patch.active == Some(false) || patch.role.is_some_and(|r| r != caller.role)) {
        return Err(ApiError::invalid(
            "active",
            "user.self_lockout",
            "you cannot deactivate yourself or change your own role",
        ));
    }
    let mut active = current.clone().into_active_model();
    if let Some(name) = &patch.display_name {
        active.display_name = Set(org_units::check_name("display_name", name)?);
    }
    if let Some(role) = patch.role {
        if current.level == Level::Village && role != Role::Viewer {
            return Err(ApiError::invalid(
                "role",
                "user.role_not_allowed",
                "village users are viewers",
            ));
        }
        active.role = Set(role);
    }
    if let Some(flag) = patch.active {
        active.active = Set(flag);
    }
    if let Some(password) = patch.password {
        check_password("password", &password)?;
        active.password_hash = Set(passwords::hash(password).await?);
    }
    let at = now();
    let changed: user::Model = active.clone().try_into_model()?;
    if ends_tokens(&current, &changed) {
        active.token_generation = Set(current.token_generation + 1);
        active.tokens_valid_after = Set(Some(at));
    }
    let updated = tx.save("update", "user", id, current, active, at, User::from).await?;
    Ok(updated)
}

#[tracing::instrument(skip_all, fields(county = %caller.county_id, user = %caller.id))]
pub async fn change_own_password(tx: &WriteTx, caller: &Caller, change: PasswordChange) -> Result<(), ApiError> {
    let current = find(tx.conn(), caller.id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    if !passwords::verify(change.current_password, current.password_hash.clone()).await? {
        return Err(ApiError::invalid(
            "current_password",
            "user.password_wrong",
            "current_password is not your password",
        ));
    }
    check_password("new_password", &change.new_password)?;
    let mut active = current.clone().into_active_model();
    active.password_hash = Set(passwords::hash(change.new_password).await?);
    // Every token of the account ends, this request's too: log in again with the new password.
    let at = now();
    active.token_generation = Set(current.token_generation + 1);
    active.tokens_valid_after = Set(Some(at));
    tx.save("change_password", "user", caller.id, current, active, at, User::from)
        .await?;
    Ok(())
}

list_rows!(list(UserFilter) -> user, visible, equal { org_unit_id => OrgUnitId, role => Role, active => Active });

/// True when no user exists yet (first start).
pub async fn none_exist<C: ConnectionTrait>(conn: &C) -> Result<bool, ApiError> {
    use sea_orm::{PaginatorTrait, QuerySelect};
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .count(conn)
        .await?
        == 0)
}
