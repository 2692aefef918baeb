//! Logging in: password and client-credentials grants, with failed attempts rate-limited per
//! account and per client address (kept in the database, so every instance sees them).

use chrono::{Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{parse_name, passwords, Level, PrincipalKind, Role};
use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::entities::{login_throttle, service_account, user};
use crate::store::{Actor, Change};

/// `POST /api/v1/auth/token` body (JSON or `application/x-www-form-urlencoded`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({"grant_type": "password", "username": "admin", "password": "correct horse battery staple"}))]
pub struct TokenRequest {
    /// `password` (default) or `client_credentials`.
    #[serde(default = "default_grant")]
    #[schema(example = "password")]
    pub grant_type: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

fn default_grant() -> String {
    "password".to_owned()
}

/// An issued access token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiJ9.e30.sig", "token_type": "Bearer", "expires_in": 900}))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// An authenticated account, before a token is issued for it.
struct Account {
    kind: PrincipalKind,
    id: uuid::Uuid,
    name: String,
    county_id: uuid::Uuid,
    level: Level,
    role: Role,
    org_unit_id: uuid::Uuid,
}

pub async fn token(
    state: &AppState,
    request: TokenRequest,
    address: Option<String>,
) -> Result<TokenResponse, ApiError> {
    let missing = |field: &str| ApiError::invalid(field, "auth.field_required", format!("{field} is required"));
    let (name, secret, kind) = match request.grant_type.as_str() {
        "password" => (
            request.username.ok_or_else(|| missing("username"))?,
            request.password.ok_or_else(|| missing("password"))?,
            PrincipalKind::User,
        ),
        "client_credentials" => (
            request.client_id.ok_or_else(|| missing("client_id"))?,
            request.client_secret.ok_or_else(|| missing("client_secret"))?,
            PrincipalKind::Service,
        ),
        _ => {
            return Err(ApiError::invalid(
                "grant_type",
                "auth.grant_type_unsupported",
                "grant_type must be password or client_credentials",
            ))
        }
    };
    let name = name.trim().to_owned();
    let mut keys = vec![format!("account:{name}")];
    if let Some(address) = &address {
        keys.push(format!("address:{address}"));
    }
    check_throttle(state, &keys).await?;

    let account = match kind {
        PrincipalKind::User => authenticate_user(state, &name, secret).await?,
        PrincipalKind::Service => authenticate_service(state, &name, secret).await?,
    };
    let Some(account) = account else {
        record_failure(state, &keys).await?;
        return Err(ApiError::unauthorized("the credentials are not valid"));
    };
    clear_failures(state, &keys[..1]).await?;

    let token = state.tokens.issue(
        account.kind,
        account.id,
        account.county_id,
        account.level,
        account.org_unit_id,
        account.role,
    )?;
    let actor = Actor {
        id: Some(account.id),
        name: account.name.clone(),
        role: account.role.as_str().to_owned(),
        level: account.level.as_str().to_owned(),
        county_id: account.county_id,
        org_unit_id: Some(account.org_unit_id),
    };
    let tx = state.store.write(&actor).await?;
    let entity = match account.kind {
        PrincipalKind::User => "user",
        PrincipalKind::Service => "service_account",
    };
    tx.audit(
        Change::new("login", entity, Some(account.id))
            .after(&serde_json::json!({"grant_type": request.grant_type, "address": address})),
    )
    .await?;
    tx.commit().await?;
    Ok(TokenResponse {
        access_token: token,
        token_type: "Bearer".to_owned(),
        expires_in: state.tokens.ttl_secs(),
    })
}

async fn authenticate_user(state: &AppState, username: &str, password: String) -> Result<Option<Account>, ApiError> {
    let row = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(state.store.db())
        .await?;
    let stored = row
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| passwords::DUMMY_HASH.to_owned());
    let matches = passwords::verify(password, stored).await?;
    Ok(match row {
        Some(r) if matches && r.active => {
            let (Some(level), Some(role)) = (parse_name(&r.level), parse_name(&r.role)) else {
                return Ok(None);
            };
            Some(Account {
                kind: PrincipalKind::User,
                id: r.id,
                name: r.username,
                county_id: r.county_id,
                level,
                role,
                org_unit_id: r.org_unit_id,
            })
        }
        _ => None,
    })
}

async fn authenticate_service(state: &AppState, client_id: &str, secret: String) -> Result<Option<Account>, ApiError> {
    let row = service_account::Entity::find()
        .filter(service_account::Column::ClientId.eq(client_id))
        .one(state.store.db())
        .await?;
    let stored = row
        .as_ref()
        .map(|r| r.secret_hash.clone())
        .unwrap_or_else(|| passwords::DUMMY_HASH.to_owned());
    let matches = passwords::verify(secret, stored).await?;
    Ok(match row {
        Some(r) if matches && r.active => Some(Account {
            kind: PrincipalKind::Service,
            id: r.id,
            name: r.client_id,
            county_id: r.county_id,
            level: Level::County,
            role: Role::Viewer,
            org_unit_id: r.county_id,
        }),
        _ => None,
    })
}

async fn check_throttle(state: &AppState, keys: &[String]) -> Result<(), ApiError> {
    let settings = &state.settings.auth;
    let window = Duration::seconds(settings.login_window_secs as i64);
    let rows = login_throttle::Entity::find()
        .filter(login_throttle::Column::Key.is_in(keys.iter().cloned()))
        .all(state.store.db())
        .await?;
    let now = Utc::now();
    for row in rows {
        let ends = row.window_started_at + window;
        if row.failures >= settings.login_max_failures as i32 && ends > now {
            return Err(ApiError::too_many_requests((ends - now).num_seconds().max(1) as u64));
        }
    }
    Ok(())
}

async fn record_failure(state: &AppState, keys: &[String]) -> Result<(), ApiError> {
    let window = Duration::seconds(state.settings.auth.login_window_secs as i64);
    let db = state.store.db();
    let now = crate::store::now();
    for key in keys {
        let existing = login_throttle::Entity::find_by_id(key.clone()).one(db).await?;
        let (failures, started) = match existing {
            Some(row) if row.window_started_at + window > now => (row.failures + 1, row.window_started_at),
            _ => (1, now),
        };
        let model = login_throttle::ActiveModel {
            key: Set(key.clone()),
            failures: Set(failures),
            window_started_at: Set(started),
        };
        login_throttle::Entity::insert(model)
            .on_conflict(
                OnConflict::column(login_throttle::Column::Key)
                    .update_columns([
                        login_throttle::Column::Failures,
                        login_throttle::Column::WindowStartedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

async fn clear_failures(state: &AppState, keys: &[String]) -> Result<(), ApiError> {
    login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::Key.is_in(keys.iter().cloned()))
        .exec(state.store.db())
        .await?;
    Ok(())
}
