//! Logging in: password and client-credentials grants, with failed attempts throttled per client
//! address and per account from that address, by exponential backoff (kept in the database, so
//! every instance sees them). Nobody can lock an account's owner out from elsewhere.

use chrono::{Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::tokens::Subject;
use super::{passwords, Level, PrincipalKind, Role};
use crate::error::ApiError;
use crate::state::AppState;
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
    generation: i32,
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
    let account_key = match kind {
        PrincipalKind::User => crate::store::users::username_key(&name),
        PrincipalKind::Service => name.clone(),
    };
    let keys = throttle_keys(kind, &account_key, address.as_deref());
    check_throttle(state, &keys).await?;

    let account = match kind {
        PrincipalKind::User => authenticate_user(state, &account_key, secret).await?,
        PrincipalKind::Service => authenticate_service(state, &name, secret).await?,
    };
    let Some(account) = account else {
        record_failure(state, &keys).await?;
        return Err(ApiError::unauthorized("the credentials are not valid"));
    };
    // Success forgives this account's failures from this address, not the address's.
    clear_failures(state, &keys[1]).await?;

    let token = state.tokens.issue(&Subject {
        kind: account.kind,
        id: account.id,
        county_id: account.county_id,
        level: account.level,
        org_unit_id: account.org_unit_id,
        role: account.role,
        generation: account.generation,
    })?;
    let actor = Actor::principal(
        account.id,
        &account.name,
        account.role,
        account.level,
        account.county_id,
        account.org_unit_id,
    );
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

/// Whether `secret` matches the stored hash; without an account it is checked against a dummy
/// hash, so that an unknown name takes as long to refuse as a wrong password.
async fn matches_stored(stored: Option<&str>, secret: String) -> Result<bool, ApiError> {
    let stored = stored.unwrap_or(passwords::DUMMY_HASH).to_owned();
    passwords::verify(secret, stored).await
}

/// The row of `E` whose `column` is `key`, if `secret` matches its stored hash (`hash`). Without
/// such a row a dummy hash is verified, so that both answers take as long.
async fn row_matching<E: EntityTrait>(
    state: &AppState,
    column: E::Column,
    key: &str,
    secret: String,
    hash: impl Fn(&E::Model) -> &String,
) -> Result<Option<E::Model>, ApiError> {
    let row = E::find().filter(column.eq(key)).one(state.store.db()).await?;
    let matches = matches_stored(row.as_ref().map(|r| hash(r).as_str()), secret).await?;
    Ok(row.filter(|_| matches))
}

/// The user whose normalised username is `key`, if the password is theirs.
async fn authenticate_user(state: &AppState, key: &str, password: String) -> Result<Option<Account>, ApiError> {
    let row =
        row_matching::<user::Entity>(state, user::Column::UsernameKey, key, password, |r| &r.password_hash).await?;
    Ok(match row {
        Some(r) if r.active => {
            let (level, role) = (r.level, r.role);
            Some(Account {
                kind: PrincipalKind::User,
                id: r.id,
                name: r.username,
                county_id: r.county_id,
                level,
                role,
                org_unit_id: r.org_unit_id,
                generation: r.token_generation,
            })
        }
        _ => None,
    })
}

async fn authenticate_service(state: &AppState, client_id: &str, secret: String) -> Result<Option<Account>, ApiError> {
    let column = service_account::Column::ClientId;
    let row = row_matching::<service_account::Entity>(state, column, client_id, secret, |r| &r.secret_hash).await?;
    Ok(match row {
        Some(r) if r.active => Some(Account {
            kind: PrincipalKind::Service,
            id: r.id,
            name: r.client_id,
            county_id: r.county_id,
            level: Level::County,
            role: Role::Viewer,
            org_unit_id: r.county_id,
            generation: r.token_generation,
        }),
        _ => None,
    })
}

/// The throttle keys of an attempt: the client address, and the account from that address.
/// Failures from one address never throttle the same account from another, so an attacker
/// cannot lock the owner out.
fn throttle_keys(kind: PrincipalKind, account_key: &str, address: Option<&str>) -> [String; 2] {
    let address = address.unwrap_or("unknown");
    let kind = match kind {
        PrincipalKind::User => "user",
        PrincipalKind::Service => "service",
    };
    [
        format!("address:{address}"),
        format!("account:{kind}:{account_key}@{address}"),
    ]
}

/// How long a key with `failures` consecutive failures waits after its last one: nothing up to
/// `free` failures, then 1 s doubling with each further failure, at most `cap` seconds.
pub fn backoff_secs(failures: i32, free: u32, cap: u64) -> u64 {
    let beyond = i64::from(failures) - i64::from(free);
    if beyond < 0 {
        return 0;
    }
    let doubled = 1u64.checked_shl(beyond.min(62) as u32).unwrap_or(u64::MAX);
    doubled.min(cap)
}

/// The instant a row's failures are forgotten: the cap after its last failure.
fn forgotten(row: &login_throttle::Model, cap: u64) -> chrono::DateTime<Utc> {
    row.last_failure_at + Duration::seconds(cap.min(i64::MAX as u64) as i64)
}

async fn check_throttle(state: &AppState, keys: &[String]) -> Result<(), ApiError> {
    let settings = &state.settings.auth;
    let rows = login_throttle::Entity::find()
        .filter(login_throttle::Column::Key.is_in(keys.iter().cloned()))
        .all(state.store.db())
        .await?;
    let now = Utc::now();
    let mut wait = 0i64;
    for row in rows {
        let backoff = backoff_secs(row.failures, settings.login_max_failures, settings.login_window_secs);
        let until = row.last_failure_at + Duration::seconds(backoff as i64);
        if until > now {
            wait = wait.max((until - now).num_milliseconds());
        }
    }
    if wait > 0 {
        // Whole seconds, rounded up: a client that waits `Retry-After` is let in.
        return Err(ApiError::too_many_requests(((wait + 999) / 1000) as u64));
    }
    Ok(())
}

async fn record_failure(state: &AppState, keys: &[String]) -> Result<(), ApiError> {
    let cap = state.settings.auth.login_window_secs;
    let db = state.store.db();
    let now = crate::store::now();
    for key in keys {
        let existing = login_throttle::Entity::find_by_id(key.clone()).one(db).await?;
        let failures = match existing {
            Some(row) if forgotten(&row, cap) > now => row.failures.saturating_add(1),
            _ => 1,
        };
        let model = login_throttle::ActiveModel {
            key: Set(key.clone()),
            failures: Set(failures),
            last_failure_at: Set(now),
        };
        login_throttle::Entity::insert(model)
            .on_conflict(
                OnConflict::column(login_throttle::Column::Key)
                    .update_columns([login_throttle::Column::Failures, login_throttle::Column::LastFailureAt])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

async fn clear_failures(state: &AppState, key: &str) -> Result<(), ApiError> {
    login_throttle::Entity::delete_by_id(key.to_owned())
        .exec(state.store.db())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::backoff_secs;

    #[test]
    fn backoff_doubles_after_the_free_failures_up_to_the_cap() {
        assert_eq!(backoff_secs(4, 5, 900), 0);
        assert_eq!(backoff_secs(5, 5, 900), 1);
        assert_eq!(backoff_secs(6, 5, 900), 2);
        assert_eq!(backoff_secs(10, 5, 900), 32);
        assert_eq!(backoff_secs(15, 5, 900), 900);
        assert_eq!(backoff_secs(i32::MAX, 5, 900), 900);
    }
}
