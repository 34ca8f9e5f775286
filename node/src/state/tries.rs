//! The head state's tries, kept in memory between blocks: the account trie and the storage tries
//! of the contracts touched so far. A block's new roots re-hash only the paths it changed; the
//! tries are rebuilt from the store when the head moved another way (start-up, a reorg).
//!
//! A storage trie keeps only its top [`STORAGE_MEMORY_DEPTH`] nibbles in memory; deeper subtrees
//! are kept by hash and loaded back from the hashed-storage index when a block writes under
//! them. A contract whose storage grows for years (every reading of every household) costs the
//! node a bounded amount of memory, not one node per slot ever written.

use super::merkle::MerkleTrie;
use super::{AccountRecord, Store, StoreError};
use crate::primitives::{keccak256, Address, B256, U256};
use std::collections::HashMap;

/// Nibbles of each storage trie kept in memory: 16^4 subtrees at most below them, each loaded
/// (a few entries of the index) when a block writes into it.
pub(crate) const STORAGE_MEMORY_DEPTH: usize = 4;
/// While a storage trie is built from the index, it is collapsed every this many entries.
const BUILD_COLLAPSE_EVERY: usize = 4096;

/// The tries of one state, identified by its root.
#[derive(Clone, Default)]
pub(crate) struct StateTries {
    /// The state root these tries hash to.
    pub(crate) root: B256,
    accounts: MerkleTrie,
    storage: HashMap<Address, MerkleTrie>,
}

impl std::fmt::Debug for StateTries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateTries").field("root", &self.root).finish_non_exhaustive()
    }
}

/// The trie value of a storage slot: `rlp(value)`.
pub(crate) fn slot_value(value: &U256) -> Vec<u8> {
    rlp::encode(&value.to_be_bytes_trimmed_vec().as_slice()).to_vec()
}

/// The trie key of a storage slot.
fn slot_key(slot: &U256) -> B256 {
    keccak256(slot.to_be_bytes::<32>())
}

impl StateTries {
    /// Builds the tries of the store's head state from every account (storage tries on demand).
    pub(crate) fn rebuild(store: &Store) -> Result<Self, StoreError> {
        let accounts = MerkleTrie::from_entries(
            store.all_accounts()?.into_iter().map(|(a, r)| (keccak256(a), r.encoded())),
        );
        Ok(Self { root: accounts.root_hash(), accounts, storage: HashMap::new() })
    }

    /// The storage trie of `address`, whose root must be `root`: cached, or built from the
    /// hashed-storage index (its top in memory, the rest by hash).
    pub(crate) fn storage_of(
        &mut self,
        store: &Store,
        address: &Address,
        root: B256,
    ) -> Result<MerkleTrie, StoreError> {
        if let Some(trie) = self.storage.get(address).filter(|t| t.root_hash() == root) {
            return Ok(trie.clone());
        }
        let mut trie = MerkleTrie::default();
        for (n, item) in store.hashed_storage_iter(address).enumerate() {
            let (hashed, value) = item?;
            // In key order: a collapsed subtree is never entered again while building.
            trie = trie.insert(&hashed, value.to_vec())?;
            if n % BUILD_COLLAPSE_EVERY == BUILD_COLLAPSE_EVERY - 1 {
                trie = trie.collapse(STORAGE_MEMORY_DEPTH);
            }
        }
        let trie = trie.collapse(STORAGE_MEMORY_DEPTH);
        if trie.root_hash() != root {
            return Err(StoreError::Corrupt(format!(
                "the hashed storage of {address} gives root {}, its account says {root}",
                trie.root_hash()
            )));
        }
        Ok(trie)
    }

    /// Writes `value` to `slot` of `address`'s storage trie (zero removes it), loading the
    /// subtrees on the way from the head state's index.
    pub(crate) fn write_slot(
        store: &Store,
        address: &Address,
        trie: &MerkleTrie,
        slot: &U256,
        value: &U256,
    ) -> Result<MerkleTrie, StoreError> {
        let mut load = |prefix: &[u8]| store.hashed_storage_under(address, prefix);
        if value.is_zero() {
            trie.remove_loading(&slot_key(slot), &mut load)
        } else {
            trie.insert_loading(&slot_key(slot), slot_value(value), &mut load)
        }
    }

    /// Records the new state of `address`: its account (or its removal) and its storage trie.
    pub(crate) fn set_account(
        &mut self,
        address: &Address,
        record: Option<&AccountRecord>,
        storage: Option<MerkleTrie>,
    ) -> Result<(), StoreError> {
        let key = keccak256(address);
        match record {
            Some(r) => {
                self.accounts = self.accounts.insert(&key, r.encoded())?;
                if let Some(trie) = storage {
                    self.storage.insert(*address, trie.collapse(STORAGE_MEMORY_DEPTH));
                }
            }
            None => {
                self.accounts = self.accounts.remove(&key)?;
                self.storage.remove(address);
            }
        }
        Ok(())
    }

    /// Seals the changes: the new state root.
    pub(crate) fn finish(&mut self) -> B256 {
        self.root = self.accounts.root_hash();
        self.root
    }
}
