//! JSON-RPC errors with go-ethereum's codes and messages.

use crate::primitives::Bytes;
use crate::state::StoreError;
use crate::txpool::PoolError;
use alloy_sol_types::{Revert, SolError};
use jsonrpsee::types::{error::INVALID_PARAMS_CODE, ErrorObjectOwned};

/// An error answer.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// Parameters of the wrong shape or type.
    #[error("invalid params: {0}")]
    InvalidParams(String),
    /// A transaction the pool refused (code -32000, geth's message).
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// State older than what the node keeps.
    #[error("historical state unavailable: this node keeps the state of the last 128 blocks")]
    HistoricalState,
    /// A block that does not exist.
    #[error("{0}")]
    UnknownBlock(String),
    /// The call reverted (code 3, revert data in `data`).
    #[error("execution reverted{}", reason_suffix(.0))]
    Reverted(Bytes),
    /// The call ran out of gas or hit an invalid instruction.
    #[error("{0}")]
    Halted(String),
    /// The account is not unlocked on this node.
    #[error("unknown account")]
    UnknownAccount,
    /// A filter id that does not exist (or expired).
    #[error("filter not found")]
    FilterNotFound,
    /// The caller may not do this (a foreign page or an exposed server asking to sign).
    #[error("{0}")]
    Forbidden(String),
    /// A call ran past its time limit.
    #[error("execution aborted (timeout)")]
    Timeout,
    /// A query too large to answer.
    #[error("{0}")]
    LimitExceeded(String),
    /// The store or execution failed.
    #[error("internal error: {0}")]
    Internal(String),
}

fn reason_suffix(data: &Bytes) -> String {
    Revert::abi_decode(data).map(|r| format!(": {}", r.reason)).unwrap_or_default()
}

impl From<StoreError> for RpcError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::HistoryUnavailable(_) => Self::HistoricalState,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<crate::execution::ExecError> for RpcError {
    fn from(e: crate::execution::ExecError) -> Self {
        match e {
            crate::execution::ExecError::Store(s) => s.into(),
            crate::execution::ExecError::InvalidTransaction(msg) => Self::Halted(msg),
            crate::execution::ExecError::Timeout => Self::Timeout,
            crate::execution::ExecError::TraceTooLarge(msg) => Self::LimitExceeded(msg),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<ErrorObjectOwned> for RpcError {
    fn from(e: ErrorObjectOwned) -> Self {
        // jsonrpsee puts what was wrong (serde's message) in `data`.
        match e.data().and_then(|d| serde_json::from_str::<String>(d.get()).ok()) {
            Some(detail) => Self::InvalidParams(detail),
            None => Self::InvalidParams(e.message().to_string()),
        }
    }
}

impl From<RpcError> for ErrorObjectOwned {
    fn from(e: RpcError) -> Self {
        match &e {
            RpcError::Reverted(data) => {
                ErrorObjectOwned::owned(3, e.to_string(), Some(data.to_string()))
            }
            RpcError::InvalidParams(_) => {
                ErrorObjectOwned::owned(INVALID_PARAMS_CODE, e.to_string(), None::<()>)
            }
            RpcError::Internal(_) => ErrorObjectOwned::owned(-32603, e.to_string(), None::<()>),
            RpcError::LimitExceeded(_) => {
                ErrorObjectOwned::owned(-32005, e.to_string(), None::<()>)
            }
            _ => ErrorObjectOwned::owned(-32000, e.to_string(), None::<()>),
        }
    }
}
