//! Ethereum data types and their consensus encodings: transactions, headers, blocks, receipts,
//! signatures, withdrawals and trie roots. Pure functions only; nothing here does I/O.

mod block;
mod header;
mod receipt;
mod recover;
pub(crate) mod rlp_ext;
mod signature;
mod transaction;
pub mod trie;
mod withdrawal;

pub use alloy_primitives::{
    address, keccak256, Address, Bloom, BloomInput, Bytes, Log, LogData, TxKind, B256, U256,
};
pub use block::{Block, MAX_WITHDRAWALS};
pub use header::{Header, EMPTY_OMMERS_HASH, EMPTY_REQUESTS_HASH};
pub use receipt::Receipt;
pub use signature::{PrivateKey, Signature, SignatureError};
pub use transaction::{AccessListItem, SignedTransaction, Transaction, TxError, TxType};
pub use withdrawal::{withdrawals_root, Withdrawal};

/// The error of decoding malformed consensus bytes.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not valid RLP, or not of the expected shape.
    #[error("malformed RLP: {0}")]
    Rlp(#[from] rlp::DecoderError),
    /// The bytes are valid RLP but describe an invalid value.
    #[error("invalid encoding: {0}")]
    Invalid(&'static str),
}

#[cfg(test)]
pub(crate) mod vector_tests;
