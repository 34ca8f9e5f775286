//! Recently asked-for blocks, decoded once for the RPC: a client polling the receipts of a block
//! of 250 transactions would otherwise decode that block, its receipts and recover a sender 250
//! times over. Keyed by block hash (a hash's block never changes, so a reorg needs no eviction);
//! senders come from the store (kept at commit) or are recovered on first use, receipts are
//! decoded on first use.

use super::RpcError;
use crate::node::Node;
use crate::primitives::{Address, Block, Receipt, B256};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

/// A transaction's sender, or an internal error (the transaction was checked when it entered).
pub(super) fn recover(tx: &crate::primitives::SignedTransaction) -> Result<Address, RpcError> {
    tx.recover_sender().map_err(|e| RpcError::Internal(e.to_string()))
}

/// Blocks kept (a few seconds of a busy dev chain; a few MB at most).
const CAPACITY: usize = 32;

/// A block with what the RPC derives from it.
pub(super) struct CachedBlock {
    pub(super) block: Block,
    pub(super) hash: B256,
    receipts: OnceLock<Vec<Receipt>>,
    senders: Vec<OnceLock<Address>>,
}

impl CachedBlock {
    /// The block's receipts.
    pub(super) fn receipts(&self, node: &Node) -> Result<&[Receipt], RpcError> {
        if let Some(r) = self.receipts.get() {
            return Ok(r);
        }
        let loaded = node
            .store()
            .receipts(&self.hash)?
            .ok_or_else(|| RpcError::Internal("receipts missing".into()))?;
        Ok(self.receipts.get_or_init(|| loaded))
    }

    /// The sender of transaction `index`.
    pub(super) fn sender(&self, index: usize) -> Result<Address, RpcError> {
        let slot = &self.senders[index];
        if let Some(a) = slot.get() {
            return Ok(*a);
        }
        let sender = recover(&self.block.transactions[index])?;
        Ok(*slot.get_or_init(|| sender))
    }

    /// Every sender, in order.
    pub(super) fn senders(&self) -> Result<Vec<Address>, RpcError> {
        (0..self.block.transactions.len()).map(|i| self.sender(i)).collect()
    }
}

/// Entries by hash, and hashes oldest first.
type Entries = (HashMap<B256, Arc<CachedBlock>>, VecDeque<B256>);

/// The cache (shared by the `eth_` methods of one RPC module).
#[derive(Default)]
pub(super) struct BlockCache {
    entries: Mutex<Entries>,
}

impl BlockCache {
    /// The block with hash `hash`, if stored.
    pub(super) fn get(
        &self,
        node: &Node,
        hash: &B256,
    ) -> Result<Option<Arc<CachedBlock>>, RpcError> {
        if let Some(hit) = self.lock().0.get(hash) {
            return Ok(Some(hit.clone()));
        }
        let Some(block) = node.store().block(hash)? else { return Ok(None) };
        // Senders stored with the block when it was committed; recovered on demand otherwise.
        let stored = node.store().senders(hash)?.filter(|s| s.len() == block.transactions.len());
        let senders = match stored {
            Some(known) => known.into_iter().map(OnceLock::from).collect(),
            None => (0..block.transactions.len()).map(|_| OnceLock::new()).collect(),
        };
        let entry =
            Arc::new(CachedBlock { block, hash: *hash, receipts: OnceLock::new(), senders });
        let mut guard = self.lock();
        let (map, order) = &mut *guard;
        if map.insert(*hash, entry.clone()).is_none() {
            order.push_back(*hash);
        }
        while order.len() > CAPACITY {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
        Ok(Some(entry))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
