//! Importing a block: header rules, transaction signatures, execution, roots; then one atomic
//! commit. A rejected block leaves the store exactly as it was.

use super::{Chain, Rules};
use crate::consensus::{validate_header, ConsensusError};
use crate::execution::{BlockContext, BlockExecutor, ExecError};
use crate::primitives::{trie, withdrawals_root, Address, Block, Bloom, Receipt, B256};
use crate::state::{PreparedState, StateDiff, StoreError};
use std::time::Instant;

/// Why a block was not imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The block is already in the chain.
    #[error("block {0} already known")]
    AlreadyKnown(B256),
    /// The block does not extend the current head.
    #[error("block's parent {0} is not the head")]
    NotOnHead(B256),
    /// The block's parent is not known here.
    #[error("unknown parent {0}")]
    UnknownParent(B256),
    /// A header rule is broken.
    #[error("invalid header: {0}")]
    Consensus(#[from] ConsensusError),
    /// A transaction's signature does not recover.
    #[error("transaction {index}: invalid signature: {reason}")]
    BadSignature {
        /// Position in the block.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A transaction cannot be executed in this block.
    #[error("transaction {index}: {source}")]
    Transaction {
        /// Position in the block.
        index: usize,
        /// Why.
        source: ExecError,
    },
    /// The withdrawals cannot be applied.
    #[error("withdrawals: {0}")]
    Withdrawals(ExecError),
    /// A root, the bloom or gas used differs from what execution gives.
    #[error("{what} mismatch: header {header}, computed {computed}")]
    Mismatch {
        /// Which field.
        what: &'static str,
        /// In the header.
        header: String,
        /// From execution.
        computed: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn mismatch(what: &'static str, header: impl ToString, computed: impl ToString) -> ImportError {
    ImportError::Mismatch { what, header: header.to_string(), computed: computed.to_string() }
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The block's hash.
    pub hash: B256,
    /// Who sealed it.
    pub signer: Address,
    /// Its receipts.
    pub receipts: Vec<Receipt>,
}

/// The bloom of a whole block.
pub(crate) fn block_bloom(receipts: &[Receipt]) -> Bloom {
    let mut bloom = Bloom::ZERO;
    for r in receipts {
        bloom.accrue_bloom(&r.bloom());
    }
    bloom
}

impl Chain {
    /// Validates, executes and commits `block` on top of the head; `now` is the local clock
    /// (unix seconds) for the future-block rule.
    pub fn import(&mut self, block: &Block, now: u64) -> Result<Imported, ImportError> {
        let started = Instant::now();
        let header = &block.header;
        let hash = header.hash();
        if self.store.canonical_hash(header.number)? == Some(hash) {
            return Err(ImportError::AlreadyKnown(hash));
        }
        if header.parent_hash != self.head.hash() {
            return Err(ImportError::NotOnHead(header.parent_hash));
        }
        let signer = match self.rules {
            Rules::Clique => validate_header(
                &self.config,
                self.clique.period_at(header.number),
                header,
                &self.head,
                &self.snapshot,
                now,
            )?,
            #[cfg(test)]
            Rules::PostMerge => {
                crate::consensus::validate_post_merge(&self.config, header, &self.head)?;
                header.beneficiary
            }
        };
        let tx_root = trie::transactions_root(&block.transactions);
        if tx_root != header.transactions_root {
            return Err(mismatch("transactions root", header.transactions_root, tx_root));
        }
        if let Some(root) = header.withdrawals_root {
            let computed = withdrawals_root(&block.withdrawals);
            if computed != root {
                return Err(mismatch("withdrawals root", root, computed));
            }
        }
        // Daisee carries no blob transactions: a block's blob gas is zero.
        if header.blob_gas_used.is_some_and(|used| used != 0) {
            return Err(mismatch("blob gas used", header.blob_gas_used.unwrap_or(0), 0));
        }
        let (receipts, diff, senders) =
            super::senders::with_senders(&block.transactions, super::senders::cores(), |sender| {
                self.execute(block, signer, sender)
            })?;
        let gas_used = receipts.last().map_or(0, |r| r.cumulative_gas_used);
        if gas_used != header.gas_used {
            return Err(mismatch("gas used", header.gas_used, gas_used));
        }
        let receipts_root = trie::receipts_root(&receipts);
        if receipts_root != header.receipts_root {
            return Err(mismatch("receipts root", header.receipts_root, receipts_root));
        }
        let bloom = block_bloom(&receipts);
        if bloom != header.logs_bloom {
            return Err(mismatch("logs bloom", header.logs_bloom, bloom));
        }
        let prepared = self.store.prepare(&diff)?;
        if prepared.state_root != header.state_root {
            return Err(mismatch("state root", header.state_root, prepared.state_root));
        }
        self.commit(block, &receipts, &senders, prepared)?;
        log_block("imported block", block, started);
        Ok(Imported { hash, signer, receipts })
    }

    /// Commits a block this node built and sealed itself: its header is checked again, its
    /// execution outcome is trusted (the block builder computed it on this head).
    pub(crate) fn insert_sealed(
        &mut self,
        block: &Block,
        receipts: &[Receipt],
        senders: &[Address],
        prepared: PreparedState,
        now: u64,
        started: Instant,
    ) -> Result<(), ImportError> {
        if block.header.parent_hash != self.head.hash() {
            return Err(ImportError::NotOnHead(block.header.parent_hash));
        }
        validate_header(
            &self.config,
            self.clique.period_at(block.header.number),
            &block.header,
            &self.head,
            &self.snapshot,
            now,
        )?;
        self.commit(block, receipts, senders, prepared)?;
        log_block("sealed block", block, started);
        Ok(())
    }

    fn commit(
        &mut self,
        block: &Block,
        receipts: &[Receipt],
        senders: &[Address],
        prepared: PreparedState,
    ) -> Result<(), ImportError> {
        let snapshot = match self.rules {
            Rules::Clique => self.snapshot.apply(&block.header)?,
            #[cfg(test)]
            Rules::PostMerge => self.snapshot.clone(),
        };
        self.store.commit_block(block, receipts, senders, prepared)?;
        if self.rules == Rules::Clique {
            super::persist_snapshot(&self.store, &snapshot)?;
        }
        self.head = block.header.clone();
        self.snapshot = snapshot;
        Ok(())
    }

    fn execute(
        &self,
        block: &Block,
        signer: Address,
        sender: &dyn Fn(usize) -> Result<Address, (usize, String)>,
    ) -> Result<(Vec<Receipt>, StateDiff, Vec<Address>), ImportError> {
        let ctx = BlockContext::from_header(&block.header, signer);
        let mut executor = BlockExecutor::new(&self.store, &self.config, &ctx)
            .map_err(|source| ImportError::Transaction { index: 0, source })?;
        let mut senders = Vec::with_capacity(block.transactions.len());
        for (index, tx) in block.transactions.iter().enumerate() {
            let from = sender(index)
                .map_err(|(index, reason)| ImportError::BadSignature { index, reason })?;
            senders.push(from);
            executor
                .execute(tx, from)
                .map_err(|source| ImportError::Transaction { index, source })?;
        }
        executor.apply_withdrawals(&block.withdrawals).map_err(ImportError::Withdrawals)?;
        let (receipts, diff, _) = executor.finish();
        Ok((receipts, diff, senders))
    }
}

fn log_block(what: &str, block: &Block, started: Instant) {
    let h = &block.header;
    tracing::info!(
        target: "daisee::chain",
        number = h.number,
        hash = %h.hash(),
        txs = block.transactions.len(),
        gas = h.gas_used,
        ms = started.elapsed().as_millis() as u64,
        "{what}"
    );
}
