//! Building a block on the head: a header template with Clique's fields, the pool's ready
//! transactions executed in order (those that no longer fit or are invalid are left out), roots
//! and bloom, and the seal.

use crate::chain::{block_bloom, Chain, ImportError};
use crate::consensus::{
    next_base_fee, seal_header, ConsensusError, DIFF_IN_TURN, DIFF_NO_TURN, EXTRA_SEAL,
    EXTRA_VANITY, NONCE_AUTH, NONCE_DROP,
};
use crate::execution::{BlockContext, BlockExecutor, ExecError};
use crate::primitives::{
    trie, Address, Block, Header, PrivateKey, Receipt, B256, EMPTY_OMMERS_HASH,
    EMPTY_REQUESTS_HASH, U256,
};
use crate::state::{PreparedState, StoreError};
use crate::txpool::PoolTx;
use std::collections::HashSet;

/// Why no block could be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Execution failed for a reason other than a bad transaction.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The header could not be sealed.
    #[error(transparent)]
    Consensus(#[from] ConsensusError),
}

/// A sealed block with its execution outcome, ready to commit.
pub(crate) struct Built {
    pub(crate) block: Block,
    pub(crate) receipts: Vec<Receipt>,
    pub(crate) prepared: PreparedState,
    /// The included transactions' senders.
    pub(crate) senders: Vec<Address>,
    /// Transactions left out because they are invalid on this head, with the reason.
    pub(crate) invalid: Vec<(B256, String)>,
}

impl Built {
    /// Commits the block to `chain` (its prepared state is taken out of it).
    pub(crate) fn insert_into(
        &mut self,
        chain: &mut Chain,
        now: u64,
        started: std::time::Instant,
    ) -> Result<(), ImportError> {
        let prepared = std::mem::take(&mut self.prepared);
        chain.insert_sealed(&self.block, &self.receipts, &self.senders, prepared, now, started)
    }
}

/// Vanity bytes at the start of every block's extra data.
fn vanity() -> [u8; EXTRA_VANITY] {
    let mut v = [0u8; EXTRA_VANITY];
    let tag = concat!("daisee/v", env!("CARGO_PKG_VERSION"));
    let n = tag.len().min(EXTRA_VANITY);
    v[..n].copy_from_slice(&tag.as_bytes()[..n]);
    v
}

fn template(
    chain: &Chain,
    signer: Address,
    timestamp: u64,
    vote: Option<(Address, bool)>,
) -> Header {
    let parent = chain.head();
    let config = chain.config();
    let number = parent.number + 1;
    let snapshot = chain.snapshot();
    let mut extra = vanity().to_vec();
    if number.is_multiple_of(snapshot.epoch) {
        for s in &snapshot.signers {
            extra.extend_from_slice(s.as_slice());
        }
    }
    extra.extend_from_slice(&[0u8; EXTRA_SEAL]);
    let cancun = config.is_cancun(timestamp);
    let difficulty = if snapshot.in_turn(number, &signer) { DIFF_IN_TURN } else { DIFF_NO_TURN };
    let (beneficiary, nonce) = match vote {
        Some((address, true)) => (address, NONCE_AUTH),
        Some((address, false)) => (address, NONCE_DROP),
        None => (Address::ZERO, NONCE_DROP),
    };
    Header {
        beneficiary,
        nonce,
        parent_hash: parent.hash(),
        ommers_hash: EMPTY_OMMERS_HASH,
        number,
        gas_limit: chain.clique().gas_limit_at(parent.number + 1).unwrap_or(parent.gas_limit),
        timestamp,
        extra_data: extra.into(),
        difficulty: U256::from(difficulty),
        base_fee_per_gas: next_base_fee(config, parent),
        withdrawals_root: config.is_shanghai(timestamp).then_some(trie::EMPTY_ROOT_HASH),
        blob_gas_used: cancun.then_some(0),
        excess_blob_gas: cancun.then_some(0),
        parent_beacon_block_root: cancun.then_some(B256::ZERO),
        requests_hash: config.is_prague(timestamp).then_some(EMPTY_REQUESTS_HASH),
        ..Default::default()
    }
}

/// Builds and seals a block on `chain`'s head at `timestamp` from `candidates` (in order),
/// casting `vote` (Clique: authorize or drop an address) if given.
pub(crate) fn build_block(
    chain: &Chain,
    key: &PrivateKey,
    timestamp: u64,
    candidates: &[PoolTx],
    vote: Option<(Address, bool)>,
) -> Result<Built, BuildError> {
    let mut header = template(chain, key.address(), timestamp, vote);
    let ctx = BlockContext::from_header(&header, key.address());
    let mut executor = BlockExecutor::new(chain.store(), chain.config(), &ctx)?;
    let mut transactions = Vec::new();
    let mut senders = Vec::new();
    let mut invalid = Vec::new();
    let mut skipped_senders = HashSet::new();
    for candidate in candidates {
        if skipped_senders.contains(&candidate.sender) {
            continue;
        }
        if header.gas_limit - executor.gas_used() < 21_000 {
            break;
        }
        match executor.execute(&candidate.tx, candidate.sender) {
            Ok(_) => {
                transactions.push((*candidate.tx).clone());
                senders.push(candidate.sender);
            }
            Err(ExecError::BlockGasExhausted { .. }) => {
                skipped_senders.insert(candidate.sender);
            }
            Err(ExecError::InvalidTransaction(reason)) => {
                skipped_senders.insert(candidate.sender);
                invalid.push((candidate.tx.hash(), reason));
            }
            Err(other) => return Err(other.into()),
        }
    }
    let (receipts, diff, gas_used) = executor.finish();
    let prepared = chain.store().prepare(&diff)?;
    header.gas_used = gas_used;
    header.state_root = prepared.state_root;
    header.transactions_root = trie::transactions_root(&transactions);
    header.receipts_root = trie::receipts_root(&receipts);
    header.logs_bloom = block_bloom(&receipts);
    seal_header(&mut header, key)?;
    Ok(Built { block: Block::new(header, transactions), receipts, prepared, senders, invalid })
}
