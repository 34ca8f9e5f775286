//! The head state as revm reads it: `DatabaseRef` over the store.

use super::{Store, StoreError};
use crate::primitives::{trie::KECCAK_EMPTY, Address, B256, U256};
use revm::{
    bytecode::Bytecode,
    database_interface::{DBErrorMarker, DatabaseRef},
    state::AccountInfo,
};

impl DBErrorMarker for StoreError {}

/// A read-only view for revm of the state at the head, or after a recent block.
#[derive(Clone)]
pub struct StateView {
    store: Store,
    at: Option<u64>,
}

impl StateView {
    /// A view of `store`'s head state.
    pub fn new(store: Store) -> Self {
        Self { store, at: None }
    }

    /// A view of the state after block `number` (within the kept history).
    pub fn at(store: Store, number: u64) -> Self {
        Self { store, at: Some(number) }
    }

    fn account(
        &self,
        address: &Address,
    ) -> Result<Option<crate::state::AccountRecord>, StoreError> {
        match self.at {
            None => self.store.account(address),
            Some(n) => self.store.account_at(address, n)?.ok_or(StoreError::HistoryUnavailable(n)),
        }
    }
}

impl DatabaseRef for StateView {
    type Error = StoreError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, StoreError> {
        Ok(self.account(&address)?.map(|a| AccountInfo {
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
        if let Some(analysed) = self.store.analysed_code(&code_hash) {
            return Ok(analysed);
        }
        let code = self
            .store
            .code(&code_hash)?
            .ok_or_else(|| StoreError::Corrupt(format!("code {code_hash} missing")))?;
        let analysed = Bytecode::new_raw(code);
        self.store.remember_analysed_code(code_hash, analysed.clone());
        Ok(analysed)
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, StoreError> {
        match self.at {
            None => self.store.storage(&address, &index),
            Some(n) => {
                self.store.storage_at(&address, &index, n)?.ok_or(StoreError::HistoryUnavailable(n))
            }
        }
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, StoreError> {
        Ok(self.store.canonical_hash(number)?.unwrap_or_default())
    }
}
