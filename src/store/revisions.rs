//! Each county's data revision: the head of its audit chain, which every write advances.
//!
//! Results, rendered answers and cached accounts are valid for a revision, so every request needs
//! the current one. On PostgreSQL every write also sends `NOTIFY kaohe_revision 'county:seq'`
//! (delivered at commit), and a listener keeps the revisions of this process current; while the
//! listener is connected a request needs no query for it. Without a listener (SQLite, or the
//! listener reconnecting) the revision is read from the database each time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::entities::audit_head;
use crate::error::ApiError;

pub const CHANNEL: &str = "kaohe_revision";

/// The revisions this process knows to be current.
#[derive(Default)]
pub struct Revisions {
    known: Mutex<HashMap<Uuid, i64>>,
    /// True while a listener receives every write's notification.
    listening: AtomicBool,
}

impl Revisions {
    /// The county's current revision.
    pub async fn current<C: ConnectionTrait>(&self, conn: &C, county_id: Uuid) -> Result<i64, ApiError> {
        if self.listening.load(Ordering::Acquire) {
            if let Some(seq) = self.known.lock().ok().and_then(|k| k.get(&county_id).copied()) {
                return Ok(seq);
            }
        }
        let seq = audit_head::Entity::find_by_id(county_id)
            .one(conn)
            .await?
            .map(|h| h.seq)
            .unwrap_or(0);
        if self.listening.load(Ordering::Acquire) {
            self.advance(county_id, seq);
        }
        Ok(seq)
    }

    /// Records that the county has reached at least `seq` (a commit here, or a notification).
    pub fn advance(&self, county_id: Uuid, seq: i64) {
        if let Ok(mut known) = self.known.lock() {
            let entry = known.entry(county_id).or_insert(seq);
            *entry = (*entry).max(seq);
        }
    }

    fn set_listening(&self, listening: bool) {
        if let Ok(mut known) = self.known.lock() {
            // Whatever was known may have missed notifications while nobody listened.
            known.clear();
        }
        self.listening.store(listening, Ordering::Release);
    }
}

/// Parses a notification payload `county:seq`.
fn parse(payload: &str) -> Option<(Uuid, i64)> {
    let (county, seq) = payload.split_once(':')?;
    Some((county.parse().ok()?, seq.parse().ok()?))
}

/// Keeps `revisions` current from PostgreSQL notifications, reconnecting when the connection
/// drops; runs until the process ends.
pub async fn listen(url: String, revisions: Arc<Revisions>) {
    use sea_orm::sqlx::postgres::PgListener;
    loop {
        let connected = async {
            let mut listener = PgListener::connect(&url).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        }
        .await;
        match connected {
            Ok(listener) => {
                // sqlx's listener spawns a task when dropped, which panics if the runtime is
                // already going away (a process or test shutting down): drop it only here, while
                // the runtime runs, and leave it to the process's end otherwise.
                let mut listener = std::mem::ManuallyDrop::new(listener);
                revisions.set_listening(true);
                tracing::debug!("listening for revisions");
                // `Ok(None)` or an error means the connection dropped: stop trusting what we know
                // until listening again.
                while let Ok(Some(notification)) = listener.try_recv().await {
                    if let Some((county, seq)) = parse(notification.payload()) {
                        revisions.advance(county, seq);
                    }
                }
                revisions.set_listening(false);
                drop(std::mem::ManuallyDrop::into_inner(listener));
                tracing::warn!("revision listener lost its connection; reading revisions from the database");
            }
            Err(err) => {
                revisions.set_listening(false);
                tracing::debug!(cause = %err, "revision listener cannot connect yet");
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_parse_and_revisions_only_advance() {
        let county = Uuid::from_u128(7);
        assert_eq!(parse(&format!("{county}:42")), Some((county, 42)));
        assert_eq!(parse("garbage"), None);
        let revisions = Revisions::default();
        revisions.advance(county, 5);
        revisions.advance(county, 3);
        assert_eq!(revisions.known.lock().unwrap().get(&county), Some(&5));
        revisions.set_listening(false);
        assert!(revisions.known.lock().unwrap().is_empty());
    }
}
