//! Whether the database still takes writes. On a full SD card (or a failing one) sled refuses
//! every write and keeps refusing until the database is reopened; the sealer then stops sealing
//! (a block it cannot store is a block it must not sign), the failure is logged once a minute with
//! what to do rather than on every attempt, and `daisee_status`, the metrics and the dashboard
//! say so. Reads and the meters' in-memory outbox carry on meanwhile.

use super::{lock, Node};
use crate::state::StoreError;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A write failure is logged at most this often.
const WARN_EVERY: Duration = Duration::from_secs(60);
/// After a write failure, the sealer tries again this much later.
pub const WRITE_RETRY: Duration = Duration::from_secs(60);

/// The last write failure and when it was logged.
#[derive(Default)]
pub(super) struct WriteHealth {
    problem: Mutex<Option<String>>,
    warned: Mutex<Option<Instant>>,
}

/// Whether `e` is the database failing to write (not a bad block or a bug).
pub fn is_write_failure(e: &StoreError) -> bool {
    matches!(e, StoreError::Sled(_) | StoreError::BlockFile { .. })
}

impl Node {
    /// The database refused a write: note it and log it (at most once a minute).
    pub fn note_write_failure(&self, what: &str, e: &dyn std::fmt::Display) {
        let problem = format!(
            "{what}: {e}; the node stops sealing and keeps readings in memory; free space on \
             the datadir's filesystem (or replace a failing SD card), then restart the node"
        );
        *lock(&self.inner.write_health.problem) = Some(problem.clone());
        metrics::gauge!("daisee_store_write_failed").set(1.0);
        let mut warned = lock(&self.inner.write_health.warned);
        if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            *warned = Some(Instant::now());
            tracing::error!(target: "daisee::store", "{problem}");
        }
    }

    /// A write went through again.
    pub fn clear_write_failure(&self) {
        if lock(&self.inner.write_health.problem).take().is_some() {
            metrics::gauge!("daisee_store_write_failed").set(0.0);
            tracing::info!(target: "daisee::store", "the database takes writes again");
        }
    }

    /// The last write failure, if writes still fail.
    pub fn write_failure(&self) -> Option<String> {
        lock(&self.inner.write_health.problem).clone()
    }
}
