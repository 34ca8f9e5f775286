//! What the store keeps in memory beside sled: the head state's tries (see `state/tries.rs`) and
//! contract code analysed for revm, once per code hash.

use super::{Store, StoreError, ANALYSED_CODES};
use crate::primitives::B256;
use crate::state::tries::StateTries;
use revm::bytecode::Bytecode;
use std::sync::MutexGuard;

impl Store {
    pub(super) fn tries_cache(&self) -> MutexGuard<'_, Option<StateTries>> {
        self.tries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The tries of the head state: the cached ones, or rebuilt from the accounts when the head
    /// moved another way than through `commit_block` (start-up, revert).
    pub(crate) fn head_tries(&self) -> Result<StateTries, StoreError> {
        let head_root = self.head()?.state_root;
        let mut cache = self.tries_cache();
        if let Some(tries) = cache.as_ref().filter(|t| t.root == head_root) {
            return Ok(tries.clone());
        }
        let tries = StateTries::rebuild(self)?;
        *cache = Some(tries.clone());
        Ok(tries)
    }

    pub(crate) fn analysed_code(&self, hash: &B256) -> Option<Bytecode> {
        self.analysed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(hash).cloned()
    }

    pub(crate) fn remember_analysed_code(&self, hash: B256, code: Bytecode) {
        let mut cache = self.analysed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= ANALYSED_CODES {
            cache.clear();
        }
        cache.insert(hash, code);
    }
}
