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

/// What the cache may hold, in estimated bytes ([`weight`]): a bound on its memory whatever the
/// blocks' size. A count of blocks (32 before) let full blocks of calldata (30 M gas buys 1.9 MB
/// of it, 7.5 MB of zeros; kept decoded beside the encoding) take hundreds of MB of a 1 GB
/// board. 24 MiB holds the blocks of a 20,000-transaction burst (~17 MB of `setProduction`), so
/// a client polling their receipts sender by sender (a cyclic scan, which evicts every block of
/// a smaller cache before it is read again) decodes each block once, not once per sender:
/// against 8 MiB, JSON-RPC batches of 20,000 went from 17.5–20.0k to 18.9–23.7k tx/s and 69–79
/// to 62–75 µs of node CPU per transaction (four alternating pairs), peak RSS 3–8 MiB higher.
/// One cache per RPC module (the HTTP/WebSocket server's and the IPC socket's): twice this at most.
const BUDGET: usize = 24 << 20;
/// Blocks kept at most, however small (empty blocks of a quiet chain).
const MAX_BLOCKS: usize = 256;
/// Estimated bytes a cached transaction costs beside its encoding: its decoded fields, its
/// sender and its receipt once asked for.
const PER_TX: usize = 512;

/// A block's estimated cost in the cache: its transactions twice (decoded beside their
/// encoding; a receipt's logs are bounded by the same gas) and a fixed cost per transaction.
fn weight(block: &Block) -> usize {
    1024 + block.transactions.iter().map(|tx| 2 * tx.encoded().len() + PER_TX).sum::<usize>()
}

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

/// Entries by hash, hashes oldest first with their weight, and the weights' sum.
struct Entries<T> {
    map: HashMap<B256, T>,
    order: VecDeque<(B256, usize)>,
    weight: usize,
}

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Self { map: HashMap::new(), order: VecDeque::new(), weight: 0 }
    }
}

impl<T> Entries<T> {
    /// Keeps `entry`, then drops the oldest until within [`BUDGET`] and [`MAX_BLOCKS`] (the
    /// newest always stays, however heavy).
    fn insert(&mut self, hash: B256, entry: T, weight: usize) {
        if self.map.insert(hash, entry).is_none() {
            self.order.push_back((hash, weight));
            self.weight += weight;
        }
        while self.order.len() > 1 && (self.weight > BUDGET || self.order.len() > MAX_BLOCKS) {
            if let Some((old, w)) = self.order.pop_front() {
                self.map.remove(&old);
                self.weight -= w;
            }
        }
    }
}

/// The cache (shared by the `eth_` methods of one RPC module).
#[derive(Default)]
pub(super) struct BlockCache {
    entries: Mutex<Entries<Arc<CachedBlock>>>,
}

impl BlockCache {
    /// The block with hash `hash`, if stored.
    pub(super) fn get(
        &self,
        node: &Node,
        hash: &B256,
    ) -> Result<Option<Arc<CachedBlock>>, RpcError> {
        if let Some(hit) = self.lock().map.get(hash) {
            return Ok(Some(hit.clone()));
        }
        let Some(block) = node.store().block(hash)? else { return Ok(None) };
        // Senders stored with the block when it was committed; recovered on demand otherwise.
        let stored = node.store().senders(hash)?.filter(|s| s.len() == block.transactions.len());
        let senders = match stored {
            Some(known) => known.into_iter().map(OnceLock::from).collect(),
            None => (0..block.transactions.len()).map(|_| OnceLock::new()).collect(),
        };
        let weight = weight(&block);
        let entry =
            Arc::new(CachedBlock { block, hash: *hash, receipts: OnceLock::new(), senders });
        self.lock().insert(*hash, entry.clone(), weight);
        Ok(Some(entry))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<Arc<CachedBlock>>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_blocks_up_to_its_byte_budget_and_block_count() {
        let hash = |i: usize| B256::left_padding_from(&i.to_be_bytes());
        // Blocks of 150 meter readings: more than the 32 a count kept, no more than the budget.
        let mut entries = Entries::default();
        let readings = 1024 + 150 * (2 * 215 + PER_TX);
        for i in 0..300 {
            entries.insert(hash(i), i, readings);
        }
        assert!((150..200).contains(&entries.map.len()), "{}", entries.map.len());
        assert!(entries.weight <= BUDGET);
        assert!(entries.map.contains_key(&hash(299)) && !entries.map.contains_key(&hash(0)));
        // Heavy blocks: as many as the budget takes, the oldest dropped first.
        for i in 300..370 {
            entries.insert(hash(i), i, BUDGET / 4);
        }
        assert_eq!(entries.map.len(), 4);
        assert!(entries.weight <= BUDGET);
        assert!(entries.map.contains_key(&hash(369)) && !entries.map.contains_key(&hash(365)));
        // One heavier than the whole budget still stays (it is the one just asked for).
        entries.insert(hash(500), 500, BUDGET * 2);
        assert_eq!(entries.map.len(), 1);
        // Empty blocks: at most MAX_BLOCKS.
        for i in 1000..1000 + 2 * MAX_BLOCKS {
            entries.insert(hash(i), i, 1024);
        }
        assert_eq!(entries.map.len(), MAX_BLOCKS);
        assert_eq!(entries.order.len(), MAX_BLOCKS);
        assert_eq!(entries.weight, MAX_BLOCKS * 1024);
    }
}
