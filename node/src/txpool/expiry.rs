//! Expiry of waiting transactions: those held back by a nonce gap longer than
//! [`PoolConfig::waiting_lifetime`](super::PoolConfig) leave the pool.

use super::{AccountState, TxPool};
use crate::primitives::B256;
use std::time::{Duration, Instant};

/// How often, at most, [`TxPool::expire_due`] scans for expired transactions: the scan reads
/// every sender's state and walks its queue, too much for each of a dev chain's many blocks,
/// and lifetimes are hours.
pub const EXPIRY_SCAN_EVERY: Duration = Duration::from_secs(1);

impl TxPool {
    /// [`TxPool::expire`], when [`EXPIRY_SCAN_EVERY`] has passed since the last scan.
    pub fn expire_due(&mut self, state: &impl AccountState) -> Vec<B256> {
        let now = Instant::now();
        if self.expiry_scanned.is_some_and(|at| now.duration_since(at) < EXPIRY_SCAN_EVERY) {
            return Vec::new();
        }
        self.expiry_scanned = Some(now);
        self.expire(state)
    }

    /// Drops waiting transactions older than the lifetime; returns their hashes.
    pub fn expire(&mut self, state: &impl AccountState) -> Vec<B256> {
        let lifetime = self.config.waiting_lifetime;
        let now = Instant::now();
        let mut gone = Vec::new();
        for (sender, queue) in &self.senders {
            let (next, _) = state.nonce_and_balance(sender);
            let mut ready_until = next;
            while queue.contains_key(&ready_until) {
                ready_until += 1;
            }
            gone.extend(
                queue
                    .range(ready_until..)
                    .filter(|(_, p)| now.saturating_duration_since(p.added) >= lifetime)
                    .map(|(_, p)| p.tx.hash()),
            );
        }
        for hash in &gone {
            self.remove(hash);
        }
        gone
    }
}
