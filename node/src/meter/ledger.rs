//! Where a meter's transactions go: the local chain (the default) or an external Ethereum
//! JSON-RPC endpoint (`--meter-target`), behind one trait so the sender is the same for both.

use crate::execution::{call, CallRequest};
use crate::node::Node;
use crate::primitives::{Address, Bytes, B256};
use crate::txpool::PoolError;

/// Why a transaction was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Its nonce is used already: sign again with a fresh one.
    NonceTooLow,
    /// It is known already (pooled or mined).
    Known,
    /// Anything else, with the node's message.
    Other(String),
}

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxStatus {
    /// In a canonical block `depth` blocks below the head (0: the head).
    Included {
        /// Block number.
        block: u64,
        /// EIP-658 status.
        success: bool,
        /// Blocks above it.
        depth: u64,
    },
    /// Waiting in the pool.
    Pending,
    /// Unknown (dropped by a reorg, or never arrived).
    Unknown,
}

/// Why a ledger could not answer.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] crate::state::StoreError),
    /// The local EVM could not run the call.
    #[error(transparent)]
    Exec(#[from] crate::execution::ExecError),
    /// The remote endpoint could not be reached or read.
    #[error("{endpoint}: {reason}")]
    Transport {
        /// `host:port`.
        endpoint: String,
        /// What went wrong.
        reason: String,
    },
    /// The remote node answered with a JSON-RPC error.
    #[error("{0}")]
    Rpc(String),
    /// The remote node answered something that is not what the method returns.
    #[error("unexpected answer: {0}")]
    BadAnswer(String),
}

/// A chain the meter reports to.
pub trait Ledger: Send {
    /// Chain id for EIP-155.
    fn chain_id(&self) -> Result<u64, LedgerError>;
    /// The next nonce of `who`, counting its pending transactions.
    fn pending_nonce(&self, who: &Address) -> Result<u64, LedgerError>;
    /// The base fee of the next block (`None` before London).
    fn base_fee(&self) -> Result<Option<u128>, LedgerError>;
    /// Sends a signed transaction (canonical encoding).
    fn send(&self, raw: &[u8]) -> Result<(), Refused>;
    /// Where a transaction is.
    fn status(&self, hash: &B256) -> Result<TxStatus, LedgerError>;
    /// Runs a call on the head state: (success, output or revert data).
    fn call(&self, from: Address, to: Address, input: Bytes) -> Result<(bool, Bytes), LedgerError>;
    /// The chain's clock: the head block's timestamp (unix s).
    fn head_time(&self) -> Result<u64, LedgerError>;
}

/// The node's own chain.
pub struct LocalLedger(pub Node);

impl Ledger for LocalLedger {
    fn chain_id(&self) -> Result<u64, LedgerError> {
        Ok(self.0.chain_id())
    }

    fn pending_nonce(&self, who: &Address) -> Result<u64, LedgerError> {
        Ok(self.0.pending_nonce(who)?)
    }

    fn base_fee(&self) -> Result<Option<u128>, LedgerError> {
        Ok(self.0.block_context(None).base_fee.map(u128::from))
    }

    fn send(&self, raw: &[u8]) -> Result<(), Refused> {
        match self.0.submit_raw(raw) {
            Ok(_) | Err(PoolError::AlreadyKnown) => Ok(()),
            Err(PoolError::NonceTooLow { .. }) => Err(Refused::NonceTooLow),
            Err(e) => Err(Refused::Other(e.to_string())),
        }
    }

    fn status(&self, hash: &B256) -> Result<TxStatus, LedgerError> {
        let store = self.0.store();
        if let Some((block_hash, index)) = store.tx_location(hash)? {
            if let Some(header) = store.header(&block_hash)? {
                if store.canonical_hash(header.number)? == Some(block_hash) {
                    let receipts = store.receipts(&block_hash)?.unwrap_or_default();
                    let success = receipts.get(index as usize).is_some_and(|r| r.success);
                    let depth = self.0.head().number.saturating_sub(header.number);
                    return Ok(TxStatus::Included { block: header.number, success, depth });
                }
            }
        }
        Ok(if self.0.pooled(hash).is_some() { TxStatus::Pending } else { TxStatus::Unknown })
    }

    fn head_time(&self) -> Result<u64, LedgerError> {
        Ok(self.0.head().timestamp)
    }

    fn call(&self, from: Address, to: Address, input: Bytes) -> Result<(bool, Bytes), LedgerError> {
        let req = CallRequest {
            from: Some(from),
            to: Some(to),
            input: Some(input),
            ..Default::default()
        };
        let ctx = self.0.block_context(None);
        // A settle of a whole interval may need far more than a view: up to a block's worth.
        let req = CallRequest { gas: Some(ctx.gas_limit), ..req };
        call(
            self.0.store(),
            &self.0.chain_config(),
            &ctx,
            None,
            &req,
            &Default::default(),
            &Default::default(),
        )
        .map(|o| (o.success, o.output))
        .map_err(LedgerError::from)
    }
}
