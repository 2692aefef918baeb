//! Bulk work as jobs: a bulk upload sent with `Prefer: respond-async` answers `202 Accepted` at
//! once and runs in the background on the instance that took it. Its progress lives here while
//! it runs (rows read, validated, written, the problems so far), is saved to its `jobs` row
//! (every second on PostgreSQL, so other instances see it; at the end on SQLite, whose one
//! writer is the upload itself) and the row keeps the answer once it ends. `api::jobs` serves
//! them: poll `GET /api/v1/jobs/{id}`, or follow `GET /api/v1/jobs/{id}/events`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::error::FieldError;
use crate::store::jobs::Counts;

/// Problems a job keeps to show while it runs (the final answer has the whole list, up to the
/// upload's own limit).
pub const ERRORS_KEPT: usize = 100;

/// A running job's counters.
#[derive(Debug, Default)]
pub struct Progress {
    read: AtomicU64,
    validated: AtomicU64,
    written: AtomicU64,
    errors: Mutex<(u64, Vec<FieldError>)>,
    /// Raised on every change, so a follower knows when there is something new to send.
    changes: AtomicU64,
    ended: AtomicBool,
}

impl Progress {
    fn changed(&self) {
        self.changes.fetch_add(1, Ordering::Relaxed);
    }

    /// How many changes so far.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Relaxed)
    }

    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }

    pub fn end(&self) {
        self.ended.store(true, Ordering::Relaxed);
        self.changed();
    }

    /// The counters as a job row holds them.
    pub fn counts(&self) -> Counts {
        let load = |n: &AtomicU64| i64::try_from(n.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        let (count, errors) = match self.errors.lock() {
            Ok(e) => (e.0, serde_json::to_string(&e.1).unwrap_or_else(|_| "[]".to_owned())),
            Err(_) => (0, "[]".to_owned()),
        };
        Counts {
            rows_read: load(&self.read),
            rows_validated: load(&self.validated),
            rows_written: load(&self.written),
            error_count: i64::try_from(count).unwrap_or(i64::MAX),
            errors,
        }
    }
}

/// What an upload reports its progress to: nothing for a synchronous request, a job's
/// [`Progress`] for a background one. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Tracker(Option<Arc<Progress>>);

impl Tracker {
    pub fn of(progress: Arc<Progress>) -> Self {
        Self(Some(progress))
    }

    fn add(&self, counter: impl Fn(&Progress) -> &AtomicU64, n: usize) {
        if let (Some(p), Ok(n)) = (&self.0, u64::try_from(n)) {
            counter(p).fetch_add(n, Ordering::Relaxed);
            p.changed();
        }
    }

    /// `n` more rows read from the body.
    pub fn read(&self, n: usize) {
        self.add(|p| &p.read, n);
    }

    /// `n` more rows through admission (good or bad).
    pub fn validated(&self, n: usize) {
        self.add(|p| &p.validated, n);
    }

    /// `n` rows committed.
    pub fn written(&self, n: usize) {
        self.add(|p| &p.written, n);
    }

    /// Problems found (the first [`ERRORS_KEPT`] are kept, all are counted).
    pub fn problems(&self, found: &[FieldError]) {
        let Some(p) = &self.0 else { return };
        if found.is_empty() {
            return;
        }
        if let Ok(mut errors) = p.errors.lock() {
            errors.0 += u64::try_from(found.len()).unwrap_or(u64::MAX);
            let room = ERRORS_KEPT.saturating_sub(errors.1.len());
            errors.1.extend(found.iter().take(room).cloned());
        }
        p.changed();
    }
}

/// The jobs running on this instance.
#[derive(Debug, Default)]
pub struct Jobs {
    live: Mutex<HashMap<Uuid, Arc<Progress>>>,
}

impl Jobs {
    /// A new job's progress, followed until [`Jobs::remove`].
    pub fn register(&self, id: Uuid) -> Arc<Progress> {
        let progress = Arc::new(Progress::default());
        if let Ok(mut live) = self.live.lock() {
            live.insert(id, progress.clone());
        }
        progress
    }

    /// A job running on this instance.
    pub fn live(&self, id: Uuid) -> Option<Arc<Progress>> {
        self.live.lock().ok()?.get(&id).cloned()
    }

    pub fn remove(&self, id: Uuid) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tracker_counts_and_keeps_the_first_problems() {
        let progress = Arc::new(Progress::default());
        let tracker = Tracker::of(progress.clone());
        tracker.read(1000);
        tracker.validated(400);
        let problem = FieldError::new("occurred_on", "incident.date_outside_year", "outside").at_row(7);
        tracker.problems(&vec![problem; ERRORS_KEPT + 5]);
        let counts = progress.counts();
        assert_eq!(
            (counts.rows_read, counts.rows_validated, counts.rows_written),
            (1000, 400, 0)
        );
        assert_eq!(counts.error_count, (ERRORS_KEPT + 5) as i64);
        let kept: Vec<FieldError> = serde_json::from_str(&counts.errors).unwrap();
        assert_eq!(kept.len(), ERRORS_KEPT);
        assert_eq!(kept[0].row, Some(7));
        // A synchronous request's tracker reports to nothing.
        Tracker::default().read(5);
        assert!(progress.changes() >= 3);
    }
}
