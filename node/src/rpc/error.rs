//! JSON-RPC errors with go-ethereum's codes and messages.

use crate::state::StoreError;
use crate::txpool::PoolError;
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
    #[error("historical state unavailable: this node serves state at the latest block only")]
    HistoricalState,
    /// The store failed.
    #[error("internal error: {0}")]
    Store(#[from] StoreError),
}

impl From<jsonrpsee::types::ErrorObjectOwned> for RpcError {
    fn from(e: ErrorObjectOwned) -> Self {
        Self::InvalidParams(e.message().to_string())
    }
}

impl From<RpcError> for ErrorObjectOwned {
    fn from(e: RpcError) -> Self {
        let code = match &e {
            RpcError::InvalidParams(_) => INVALID_PARAMS_CODE,
            RpcError::Pool(_) | RpcError::HistoricalState => -32000,
            RpcError::Store(_) => -32603,
        };
        ErrorObjectOwned::owned(code, e.to_string(), None::<()>)
    }
}
