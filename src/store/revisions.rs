//! Each county's data revision: the head of its audit chain, which every write advances.
//!
//! Results, rendered answers and cached accounts are valid for a revision, so every request reads
//! the current one from the database (one primary-key lookup). An instance behind a load balancer
//! therefore sees a write another instance acknowledged in its very next read. (Learning of other
//! instances' writes by PostgreSQL `LISTEN/NOTIFY` instead, as an earlier version did, is not
//! enough: a notification can reach a listener after the writer has answered its client, and a
//! read on another instance in between misses the write.)

use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::entities::audit_head;
use crate::error::ApiError;

/// The county's current revision, as committed.
pub async fn current<C: ConnectionTrait>(conn: &C, county_id: Uuid) -> Result<i64, ApiError> {
    Ok(audit_head::Entity::find_by_id(county_id)
        .one(conn)
        .await?
        .map(|h| h.seq)
        .unwrap_or(0))
}
