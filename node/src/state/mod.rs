//! The node's store, in sled: accounts, storage and code; headers, bodies, receipts, the
//! transaction index, the canonical chain and its head; per-block changesets that let a block be
//! reverted; and the read-only view revm executes against. Every block is written in one atomic
//! batch, so after a crash a block is wholly there or absent.

mod account;
mod diff;
mod history;
mod keys;
mod merkle;
mod revm_db;
mod store;
mod tries;
#[cfg(test)]
mod vector_tests;

pub use account::AccountRecord;
pub use diff::{AccountChange, PreparedState, StateDiff};
pub use history::HISTORY_BLOCKS;
pub use revm_db::StateView;
pub use store::{KindSize, Store, StoreError, DEFAULT_CACHE_BYTES};

/// Builds the head state's tries from every account, as a start-up does; the root they give.
pub fn rebuild_tries(store: &Store) -> Result<crate::primitives::B256, StoreError> {
    tries::StateTries::rebuild(store).map(|t| t.root)
}
