//! Fork choice and reorgs: a block that does not extend the head is kept as a side block once
//! its header is valid; when a side branch becomes preferred (heavier by total difficulty, as
//! geth's Clique; at equal weight shorter, then of lower hash: [`preferred`]),
//! the head is reverted to the common ancestor through the changesets and the branch is imported
//! block by block. A branch that fails halfway is undone and the old chain restored. (Under the
//! proof-of-stake rules of Ethereum's fixtures, the newest valid block is the head.)

use super::import::{ImportError, Imported};
use super::{Chain, ChainError, Rules};
use crate::consensus::{validate_header, Snapshot};
use crate::primitives::{Block, Header, SignedTransaction, B256, U256};
use crate::state::StoreError;

/// Deepest reorg accepted (the changesets' reach for recent state).
pub const MAX_REORG_DEPTH: u64 = crate::state::HISTORY_BLOCKS;

/// Whether a block (with its total difficulty) is preferred to the head: the heavier (total
/// difficulty, as geth's Clique); at equal weight the lower number (its branch has more in-turn
/// blocks), then the lower hash. A total order, so boards that have seen the same blocks have
/// the same head. geth breaks the last tie at random; under Clique that can leave the signers
/// split over branches of equal weight that none of them may extend — each branch's next block
/// needs a signer that did not sign recently on it, and those sit on the other branch. The town
/// test bed stalled that way: one board's in-turn block 38 against 38' and three 39s.
/// Each side is (total difficulty, number, hash).
pub fn preferred(block: (U256, u64, B256), head: (U256, u64, B256)) -> bool {
    use std::cmp::Reverse;
    let key = |(td, number, hash): (U256, u64, B256)| (td, Reverse(number), Reverse(hash));
    key(block) > key(head)
}

/// What inserting a block did.
#[derive(Debug)]
pub enum Inserted {
    /// The block extended the head.
    Extended(Imported),
    /// The block is valid but on a lighter branch; it is stored.
    Side(B256),
    /// The block's branch became the canonical chain.
    Reorged {
        /// Blocks that left the canonical chain, oldest first.
        orphaned: Vec<Block>,
        /// Blocks that joined it, oldest first.
        adopted: Vec<Header>,
        /// Transactions of orphaned blocks that the new branch does not include.
        dropped: Vec<SignedTransaction>,
    },
}

impl Chain {
    /// Inserts a block from anywhere (a peer, a file): extends the head, or is kept as a side
    /// block, or makes its branch canonical when it is heavier.
    pub fn insert_block(&mut self, block: &Block, now: u64) -> Result<Inserted, ImportError> {
        let hash = block.header.hash();
        if block.header.parent_hash == self.head.hash() {
            return self.import(block, now).map(Inserted::Extended);
        }
        if self.store.header(&hash)?.is_some() {
            return Err(ImportError::AlreadyKnown(hash));
        }
        let parent = self
            .store
            .header(&block.header.parent_hash)?
            .ok_or(ImportError::UnknownParent(block.header.parent_hash))?;
        let preferred = match self.rules {
            Rules::Clique => {
                let snapshot = self.snapshot_after(&parent)?;
                validate_header(
                    &self.config,
                    self.clique.period_at(block.header.number),
                    &block.header,
                    &parent,
                    &snapshot,
                    now,
                )?;
                self.store.put_side_block(block)?;
                let td = self.store.total_difficulty(&hash)?.unwrap_or_default();
                let head_td = self.store.total_difficulty(&self.head.hash())?.unwrap_or_default();
                preferred(
                    (td, block.header.number, hash),
                    (head_td, self.head.number, self.head.hash()),
                )
            }
            // After the Merge the consensus layer chooses the head: in Ethereum's fixtures,
            // the newest valid block.
            #[cfg(test)]
            Rules::PostMerge => {
                crate::consensus::validate_post_merge(&self.config, &block.header, &parent)?;
                self.store.put_side_block(block)?;
                true
            }
        };
        if !preferred {
            tracing::debug!(target: "daisee::chain", number = block.header.number, %hash, "stored side block");
            return Ok(Inserted::Side(hash));
        }
        self.reorg_to(block, now)
    }

    /// The snapshot after `header`, which may be off the canonical chain.
    fn snapshot_after(&self, header: &Header) -> Result<Snapshot, ImportError> {
        self.snapshot_at(header).map_err(|e| match e {
            ChainError::Store(e) => ImportError::Store(e),
            ChainError::Snapshot(e) => ImportError::Consensus(e),
            other => StoreError::Corrupt(other.to_string()).into(),
        })
    }

    fn reorg_to(&mut self, tip: &Block, now: u64) -> Result<Inserted, ImportError> {
        // The new branch back to the common ancestor.
        let mut branch = vec![tip.clone()];
        let mut cursor = tip.header.clone();
        loop {
            let parent_hash = cursor.parent_hash;
            let parent =
                self.store.header(&parent_hash)?.ok_or(ImportError::UnknownParent(parent_hash))?;
            if self.store.canonical_hash(parent.number)? == Some(parent_hash) {
                cursor = parent;
                break;
            }
            let block =
                self.store.block(&parent_hash)?.ok_or(ImportError::UnknownParent(parent_hash))?;
            branch.push(block);
            cursor = parent;
        }
        branch.reverse();
        let ancestor = cursor;
        let depth = self.head.number - ancestor.number;
        if depth > MAX_REORG_DEPTH {
            tracing::warn!(target: "daisee::chain", depth, "refusing a reorg deeper than {MAX_REORG_DEPTH} blocks");
            return Ok(Inserted::Side(tip.header.hash()));
        }
        let mut orphaned = Vec::new();
        while self.head.number > ancestor.number {
            let head = self
                .store
                .block(&self.head.hash())?
                .ok_or_else(|| StoreError::Corrupt("head block missing".into()))?;
            self.revert_head().map_err(|e| StoreError::Corrupt(e.to_string()))?;
            orphaned.push(head);
        }
        orphaned.reverse();
        for (i, block) in branch.iter().enumerate() {
            if let Err(e) = self.import(block, now) {
                tracing::warn!(target: "daisee::chain", number = block.header.number, "reorg branch invalid, restoring: {e}");
                for _ in 0..i {
                    self.revert_head().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                }
                for old in &orphaned {
                    self.import(old, now)?;
                }
                return Err(e);
            }
        }
        let included: std::collections::HashSet<B256> = branch
            .iter()
            .flat_map(|b| b.transactions.iter().map(SignedTransaction::hash))
            .collect();
        let dropped = orphaned
            .iter()
            .flat_map(|b| b.transactions.iter())
            .filter(|tx| !included.contains(&tx.hash()))
            .cloned()
            .collect();
        tracing::info!(
            target: "daisee::chain",
            depth,
            ancestor = ancestor.number,
            new_head = self.head.number,
            hash = %self.head.hash(),
            "chain reorganised"
        );
        Ok(Inserted::Reorged {
            orphaned,
            adopted: branch.into_iter().map(|b| b.header).collect(),
            dropped,
        })
    }
}
