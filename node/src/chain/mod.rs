//! The canonical chain: its head and Clique snapshot, block import (validate → execute → check
//! roots → one atomic commit), and reverting the head. The only writer of the store.

mod file;
mod fork;
mod import;

pub use file::{export, read_blocks, ChainFileError, ImportSummary};

pub use fork::{Inserted, MAX_REORG_DEPTH};
pub(crate) use import::block_bloom;
pub use import::{ImportError, Imported};

use crate::consensus::{ConsensusError, Snapshot};
use crate::genesis::{ChainConfig, CliqueConfig};
use crate::primitives::Header;
use crate::state::{Store, StoreError};

/// Why the chain cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The genesis configures no Clique.
    #[error("the chain config has no clique section: Daisee only runs proof-of-authority chains")]
    NotClique,
    /// The stored headers do not replay into a signer snapshot.
    #[error("cannot rebuild the signer snapshot: {0}")]
    Snapshot(#[from] ConsensusError),
}

/// The canonical chain over a store.
pub struct Chain {
    store: Store,
    config: ChainConfig,
    clique: CliqueConfig,
    head: Header,
    snapshot: Snapshot,
}

impl Chain {
    /// Opens the chain in an initialised store and rebuilds the signer snapshot at its head.
    pub fn open(store: Store) -> Result<Self, ChainError> {
        let config = store.chain_config()?;
        let clique = config.clique.ok_or(ChainError::NotClique)?;
        let head = store.head()?;
        let snapshot = rebuild_snapshot(&store, &head, clique.epoch.max(1))?;
        Ok(Self { store, config, clique, head, snapshot })
    }

    /// The store (reads are safe from any thread).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The chain configuration.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// Clique's period and epoch.
    pub fn clique(&self) -> CliqueConfig {
        self.clique
    }

    /// The head header.
    pub fn head(&self) -> &Header {
        &self.head
    }

    /// The signer snapshot at the head.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The signer snapshot after the canonical block `header`.
    pub fn snapshot_at(&self, header: &Header) -> Result<Snapshot, ChainError> {
        if header.hash() == self.head.hash() {
            return Ok(self.snapshot.clone());
        }
        rebuild_snapshot(&self.store, header, self.clique.epoch.max(1))
    }

    /// Reverts the head block (its parent becomes the head).
    pub fn revert_head(&mut self) -> Result<(), ChainError> {
        self.head = self.store.revert_head()?;
        self.snapshot = rebuild_snapshot(&self.store, &self.head, self.clique.epoch.max(1))?;
        Ok(())
    }
}

/// Replays headers from the last checkpoint at or before `head`.
fn rebuild_snapshot(store: &Store, head: &Header, epoch: u64) -> Result<Snapshot, ChainError> {
    let checkpoint = head.number - head.number % epoch;
    let missing = || StoreError::Corrupt(format!("canonical header missing after {checkpoint}"));
    let start = store.header_by_number(checkpoint)?.ok_or_else(missing)?;
    let mut snap = Snapshot::from_checkpoint(&start, epoch)?;
    for number in checkpoint + 1..=head.number {
        let header = store.header_by_number(number)?.ok_or_else(missing)?;
        snap = snap.apply(&header)?;
    }
    Ok(snap)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fork_tests;
