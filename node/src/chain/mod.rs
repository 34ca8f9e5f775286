//! The canonical chain: its head and Clique snapshot, block import (validate → execute → check
//! roots → one atomic commit), and reverting the head. The only writer of the store.

mod file;
mod fork;
mod import;
mod senders;

pub use file::{export, read_blocks, ChainFileError, ImportSummary};

pub use fork::{preferred, Inserted, MAX_REORG_DEPTH};
pub(crate) use import::block_bloom;
pub use import::{ImportError, Imported};
pub use senders::{cores, recover_senders};

use crate::consensus::{ConsensusError, Snapshot};
use crate::genesis::{ChainConfig, CliqueConfig};
use crate::primitives::{Header, B256};
use crate::state::{Store, StoreError};

/// Why the chain cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The pool journal's file could not be read or written.
    #[error(transparent)]
    Journal(#[from] crate::txpool::JournalError),
    /// The genesis configures no Clique.
    #[error("the chain config has no clique section: Daisee only runs proof-of-authority chains")]
    NotClique,
    /// The stored headers do not replay into a signer snapshot.
    #[error("cannot rebuild the signer snapshot: {0}")]
    Snapshot(#[from] ConsensusError),
}

/// The header rules a chain's blocks obey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rules {
    /// Clique proof-of-authority: every Daisee chain.
    Clique,
    /// Ethereum's proof-of-stake rules, with the beneficiary as fee recipient: only for
    /// Ethereum's block fixtures, run through the same import.
    #[cfg(test)]
    PostMerge,
}

/// The canonical chain over a store.
pub struct Chain {
    store: Store,
    config: ChainConfig,
    clique: CliqueConfig,
    head: Header,
    snapshot: Snapshot,
    rules: Rules,
}

impl Chain {
    /// Opens the chain in an initialised store and rebuilds the signer snapshot at its head.
    pub fn open(store: Store) -> Result<Self, ChainError> {
        let config = store.chain_config()?;
        let clique = config.clique.clone().ok_or(ChainError::NotClique)?;
        let head = store.head()?;
        let snapshot = rebuild_snapshot(&store, &head, clique.epoch.max(1))?;
        Ok(Self { store, config, clique, head, snapshot, rules: Rules::Clique })
    }

    /// Opens a chain whose blocks follow Ethereum's proof-of-stake header rules (no Clique, no
    /// signers): the fixture mode of Ethereum's `BlockchainTests`.
    #[cfg(test)]
    pub(crate) fn open_post_merge(store: Store) -> Result<Self, ChainError> {
        let config = store.chain_config()?;
        let head = store.head()?;
        let snapshot = no_signers(&head);
        let clique = CliqueConfig::new(0, 1);
        Ok(Self { store, config, clique, head, snapshot, rules: Rules::PostMerge })
    }

    /// The store (reads are safe from any thread).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The chain configuration.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// Clique's period, epoch and transitions.
    pub fn clique(&self) -> &CliqueConfig {
        &self.clique
    }

    /// The head header.
    pub fn head(&self) -> &Header {
        &self.head
    }

    /// The signer snapshot at the head.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The signer snapshot after block `header`, canonical or on a side branch.
    pub fn snapshot_at(&self, header: &Header) -> Result<Snapshot, ChainError> {
        if header.hash() == self.head.hash() {
            return Ok(self.snapshot.clone());
        }
        rebuild_snapshot(&self.store, header, self.clique.epoch.max(1))
    }

    /// Reverts the head block (its parent becomes the head).
    pub fn revert_head(&mut self) -> Result<(), ChainError> {
        self.head = self.store.revert_head()?;
        self.snapshot = match self.rules {
            Rules::Clique => rebuild_snapshot(&self.store, &self.head, self.clique.epoch.max(1))?,
            #[cfg(test)]
            Rules::PostMerge => no_signers(&self.head),
        };
        Ok(())
    }
}

/// The empty snapshot a proof-of-stake chain carries in place of Clique's.
#[cfg(test)]
fn no_signers(head: &Header) -> Snapshot {
    Snapshot {
        epoch: 1,
        number: head.number,
        hash: head.hash(),
        signers: Default::default(),
        recents: Default::default(),
        votes: Default::default(),
        tally: Default::default(),
    }
}

/// A snapshot is persisted every this many blocks (geth's `checkpointInterval`), so that finding
/// the snapshot of any block replays at most this many headers.
pub const SNAPSHOT_INTERVAL: u64 = 1024;

/// The snapshot after `head` (canonical or not): the nearest persisted snapshot among its
/// ancestors (or the genesis checkpoint), advanced header by header. Recent signers carry across
/// epoch boundaries, as in geth: only votes reset at a checkpoint.
fn rebuild_snapshot(store: &Store, head: &Header, epoch: u64) -> Result<Snapshot, ChainError> {
    let mut pending = Vec::new();
    let mut cursor = head.clone();
    let mut snap = loop {
        if cursor.number == 0 {
            break Snapshot::from_checkpoint(&cursor, epoch)?;
        }
        if let Some(snap) = persisted_snapshot(store, &cursor.hash())? {
            break snap;
        }
        let parent = store.header(&cursor.parent_hash)?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "header {} missing below {}",
                cursor.parent_hash, head.number
            ))
        })?;
        pending.push(std::mem::replace(&mut cursor, parent));
    };
    for header in pending.iter().rev() {
        snap = snap.apply(header)?;
    }
    Ok(snap)
}

fn persisted_snapshot(store: &Store, hash: &B256) -> Result<Option<Snapshot>, ChainError> {
    let Some(raw) = store.clique_snapshot(hash)? else { return Ok(None) };
    match serde_json::from_slice(&raw) {
        Ok(snap) => Ok(Some(snap)),
        Err(e) => {
            tracing::warn!(target: "daisee::chain", %hash, "ignoring an unreadable snapshot: {e}");
            Ok(None)
        }
    }
}

/// Persists `snap` when its block is on the persistence grid.
fn persist_snapshot(store: &Store, snap: &Snapshot) -> Result<(), StoreError> {
    if !snap.number.is_multiple_of(SNAPSHOT_INTERVAL) {
        return Ok(());
    }
    let json = serde_json::to_vec(snap).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    store.put_clique_snapshot(&snap.hash, &json)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fork_tests;

#[cfg(test)]
mod blockchain_tests;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod upgrade_tests;
