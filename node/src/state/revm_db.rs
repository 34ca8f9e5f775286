//! The head state as revm reads it: `DatabaseRef` over the store.

use super::{Store, StoreError};
use crate::primitives::{trie::KECCAK_EMPTY, Address, B256, U256};
use revm::{
    bytecode::Bytecode,
    database_interface::{DBErrorMarker, DatabaseRef},
    state::AccountInfo,
};

impl DBErrorMarker for StoreError {}

/// A read-only view of the head state for revm.
#[derive(Clone)]
pub struct StateView {
    store: Store,
}

impl StateView {
    /// A view of `store`'s head state.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl DatabaseRef for StateView {
    type Error = StoreError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, StoreError> {
        Ok(self.store.account(&address)?.map(|a| AccountInfo {
            balance: a.balance,
            nonce: a.nonce,
            code_hash: a.code_hash,
            code: None,
            ..Default::default()
        }))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, StoreError> {
        if code_hash == KECCAK_EMPTY || code_hash == B256::ZERO {
            return Ok(Bytecode::default());
        }
        let code = self
            .store
            .code(&code_hash)?
            .ok_or_else(|| StoreError::Corrupt(format!("code {code_hash} missing")))?;
        Ok(Bytecode::new_raw(code))
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, StoreError> {
        self.store.storage(&address, &index)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, StoreError> {
        Ok(self.store.canonical_hash(number)?.unwrap_or_default())
    }
}
