//! Users: people who log in with a password, each at one org unit with one role.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    TryIntoModel,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::entities::{org_unit, user};
use super::org_units::{self, OrgKind};
use super::{new_id, now, Change, WriteTx};
use crate::auth::policy::{Action, Scope};
use crate::auth::{passwords, Caller, Level, Role};
use crate::error::ApiError;

/// A user as the API shows it. The password hash is never shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b0d2-7a1e-7c3e-9d52-1f0c2b7d4e12", "county_id": "0193b0d2-0000-7000-8000-000000000001",
    "org_unit_id": "0193b0d2-0000-7000-8000-000000000002", "username": "tongshi-assessor",
    "display_name": "童市镇乡村振兴办", "level": "township", "role": "assessor", "active": true, "version": 1,
    "created_at": "2026-01-05T08:00:00Z", "updated_at": "2026-01-05T08:00:00Z"
}))]
pub struct User {
    pub id: Uuid,
    pub county_id: Uuid,
    pub org_unit_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub level: Level,
    pub role: Role,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<user::Model> for User {
    fn from(m: user::Model) -> Self {
        Self {
            id: m.id,
            county_id: m.county_id,
            org_unit_id: m.org_unit_id,
            username: m.username,
            display_name: m.display_name,
            level: m.level,
            role: m.role,
            active: m.active,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

pub fn scope_of(m: &user::Model) -> Scope {
    Scope::new(m.county_id, m.township_id, m.village_id)
}

/// Body of `POST /api/v1/users`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "username": "tongshi-assessor", "display_name": "童市镇乡村振兴办", "password": "a long secret phrase",
    "org_unit_id": "0193b0d2-0000-7000-8000-000000000002", "role": "assessor"
}))]
pub struct NewUser {
    /// 3–64 characters: letters, digits, `.`, `_`, `-`, `@`.
    #[schema(pattern = r"^[A-Za-z0-9._@-]{3,64}$")]
    pub username: String,
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: String,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
    /// The county, township or village the user works at; it sets the user's level.
    pub org_unit_id: Uuid,
    /// `admin`, `assessor` or `viewer`; village users are viewers.
    pub role: Role,
}

/// Body of `PATCH /api/v1/users/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false, "version": 1}))]
pub struct UserPatch {
    pub display_name: Option<String>,
    /// A new role ends the user's tokens issued before.
    pub role: Option<Role>,
    /// `false` deactivates the user: their tokens stop working at once, and stay dead should
    /// the user be reactivated.
    pub active: Option<bool>,
    /// Sets a new password (an admin resetting it); ends the user's tokens issued before.
    pub password: Option<String>,
    pub version: Option<i32>,
}

/// Body of `PUT /api/v1/users/me/password`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "the old secret phrase", "new_password": "a new long secret phrase"}))]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 256)]
    pub new_password: String,
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

pub async fn load_for<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    action: Action,
    id: Uuid,
) -> Result<user::Model, ApiError> {
    let row = find(conn, id).await?.ok_or_else(|| ApiError::not_found("user"))?;
    caller.authorize(action, &scope_of(&row), "user")?;
    Ok(row)
}

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
    let model = user::Model {
        id: new_id(),
        county_id,
        created_at: at,
        updated_at: at,
        version: 1,
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
    };
    // Two concurrent creations of one name: the unique index refuses the second, answered as
    // `user.username_taken` too (`error::UNIQUE_KEYS`).
    user::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(tx.conn())
        .await?;
    tx.audit(Change::created("user", model.id, &User::from(model.clone())))
        .await?;
    Ok(model)
}

#[tracing::instrument(skip_all, fields(county = %caller.county_id, user = %id))]
pub async fn update(
    tx: &WriteTx,
    caller: &Caller,
    id: Uuid,
    patch: UserPatch,
    if_match: Option<i32>,
) -> Result<user::Model, ApiError> {
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
    active.version = Set(current.version + 1);
    active.updated_at = Set(at);
    let updated = active.update(tx.conn()).await?;
    tx.audit(Change::updated(
        "update",
        "user",
        id,
        &User::from(current),
        &User::from(updated.clone()),
    ))
    .await?;
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
    active.version = Set(current.version + 1);
    active.updated_at = Set(at);
    let updated = active.update(tx.conn()).await?;
    tx.audit(Change::updated(
        "change_password",
        "user",
        caller.id,
        &User::from(current),
        &User::from(updated),
    ))
    .await?;
    Ok(())
}

/// Filters of `GET /api/v1/users`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    pub org_unit_id: Option<Uuid>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

pub async fn list<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    filter: &UserFilter,
    page: &super::page::PageRequest,
) -> Result<Vec<user::Model>, ApiError> {
    let mut select = user::Entity::find().filter(caller.visible(user::Entity));
    if let Some(unit) = filter.org_unit_id {
        select = select.filter(user::Column::OrgUnitId.eq(unit));
    }
    if let Some(role) = filter.role {
        select = select.filter(user::Column::Role.eq(role.as_str()));
    }
    if let Some(active) = filter.active {
        select = select.filter(user::Column::Active.eq(active));
    }
    Ok(super::page::paginate(select, page).all(conn).await?)
}

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
