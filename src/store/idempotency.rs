//! `Idempotency-Key` records: the first answer to a POST, kept for a while and replayed to retries.
//!
//! The HTTP side (`api::idempotency`) claims the key before the handler runs and hashes the body
//! as the handler reads it; the handler's write transaction stores the answer (`record`), so the
//! answer exists exactly when the write does. Answers are plain data here (status, headers, body);
//! turning them into and out of HTTP responses is `api::idempotency`'s business.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::entities::idempotency_key;
use crate::error::ApiError;

/// The idempotent request being served by this task.
#[derive(Clone)]
pub struct Context {
    pub principal: String,
    pub key: String,
    /// SHA-256 over method, path and query, then the body as the handler reads it.
    pub hasher: Arc<Mutex<Sha256>>,
    /// Set once the answer is stored.
    pub stored: Arc<Mutex<bool>>,
}

tokio::task_local! {
    static CONTEXT: Context;
}

pub async fn scope<F: std::future::Future>(context: Context, f: F) -> F::Output {
    CONTEXT.scope(context, f).await
}

/// The idempotent request this task serves, if any.
pub fn current() -> Option<Context> {
    CONTEXT.try_with(Clone::clone).ok()
}

impl Context {
    pub fn request_hash(&self) -> String {
        let hasher = self.hasher.lock().map(|h| h.clone()).unwrap_or_default();
        hex::encode(hasher.finalize())
    }

    pub fn is_stored(&self) -> bool {
        self.stored.lock().map(|s| *s).unwrap_or(false)
    }
}

/// A stored first answer: its status, the headers worth replaying (name, value) and its body.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What a key's record says when a request with it arrives.
pub enum Claim {
    /// The key is new (now claimed) or its old record expired: run the request.
    Proceed,
    /// A request with this key is still running.
    InProgress,
    /// The first request finished: compare hashes, then replay or refuse.
    Done {
        request_hash: String,
        response: StoredResponse,
    },
}

/// Claims `key` for `principal`, or reports what an earlier request with it did. A running claim
/// older than `stale_after_secs` is treated as abandoned (its process died).
pub async fn claim<C: ConnectionTrait>(
    conn: &C,
    county_id: Uuid,
    principal: &str,
    key: &str,
    method_path: &str,
    ttl_secs: u64,
    stale_after_secs: i64,
) -> Result<Claim, ApiError> {
    let now = super::now();
    for _ in 0..2 {
        let existing = idempotency_key::Entity::find()
            .filter(idempotency_key::Column::Principal.eq(principal))
            .filter(idempotency_key::Column::Key.eq(key))
            .one(conn)
            .await?;
        match existing {
            Some(row) if row.expires_at > now => {
                if row.status == "done" {
                    let headers: Vec<(String, String)> =
                        serde_json::from_str(row.response_headers.as_deref().unwrap_or("[]")).unwrap_or_default();
                    return Ok(Claim::Done {
                        request_hash: row.request_hash.unwrap_or_default(),
                        response: StoredResponse {
                            status: row.response_status.unwrap_or(200) as u16,
                            headers,
                            body: row.response_body.unwrap_or_default().into_bytes(),
                        },
                    });
                }
                if now - row.created_at < chrono::Duration::seconds(stale_after_secs) {
                    return Ok(Claim::InProgress);
                }
                release(conn, principal, key).await?;
            }
            Some(_) => release(conn, principal, key).await?,
            None => {}
        }
        let row = idempotency_key::ActiveModel {
            principal: Set(principal.to_owned()),
            key: Set(key.to_owned()),
            county_id: Set(county_id),
            method_path: Set(method_path.to_owned()),
            request_hash: Set(None),
            status: Set("running".to_owned()),
            response_status: Set(None),
            response_headers: Set(None),
            response_body: Set(None),
            created_at: Set(now),
            expires_at: Set(now + chrono::Duration::seconds(ttl_secs as i64)),
        };
        match idempotency_key::Entity::insert(row).exec_without_returning(conn).await {
            Ok(_) => return Ok(Claim::Proceed),
            // Another request claimed it between our read and insert: look again.
            Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Ok(Claim::InProgress)
}

/// Forgets a claim whose request wrote nothing (it failed), so the client may retry.
pub async fn release<C: ConnectionTrait>(conn: &C, principal: &str, key: &str) -> Result<(), DbErr> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Principal.eq(principal))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::Status.eq("running"))
        .exec(conn)
        .await?;
    Ok(())
}

/// Stores `response` as the answer of `context`'s request on `conn`.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    context: &Context,
    response: &StoredResponse,
) -> Result<(), ApiError> {
    let mut update = Query::update();
    update
        .table(idempotency_key::Entity)
        .value(idempotency_key::Column::Status, "done")
        .value(idempotency_key::Column::RequestHash, context.request_hash())
        .value(idempotency_key::Column::ResponseStatus, response.status as i32)
        .value(
            idempotency_key::Column::ResponseHeaders,
            serde_json::to_string(&response.headers)?,
        )
        .value(
            idempotency_key::Column::ResponseBody,
            String::from_utf8_lossy(&response.body).into_owned(),
        )
        .and_where(Expr::col(idempotency_key::Column::Principal).eq(context.principal.clone()))
        .and_where(Expr::col(idempotency_key::Column::Key).eq(context.key.clone()));
    conn.execute(&update).await?;
    if let Ok(mut stored) = context.stored.lock() {
        *stored = true;
    }
    Ok(())
}

/// Deletes expired records (called now and then).
pub async fn purge_expired<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ExpiresAt.lt(now))
        .exec(conn)
        .await?
        .rows_affected)
}
