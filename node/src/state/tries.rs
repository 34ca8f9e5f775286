//! The head state's tries, kept in memory between blocks: the account trie and the storage tries
//! of the contracts touched so far. A block's new roots re-hash only the paths it changed; the
//! tries are rebuilt from the store when the head moved another way (start-up, a reorg).

use super::merkle::MerkleTrie;
use super::{AccountRecord, Store, StoreError};
use crate::primitives::{keccak256, Address, B256, U256};
use std::collections::HashMap;

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
fn slot_value(value: &U256) -> Vec<u8> {
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

    /// The storage trie of `address`, whose root must be `root`: cached, or built from the store.
    pub(crate) fn storage_of(
        &mut self,
        store: &Store,
        address: &Address,
        root: B256,
    ) -> Result<MerkleTrie, StoreError> {
        if let Some(trie) = self.storage.get(address).filter(|t| t.root_hash() == root) {
            return Ok(trie.clone());
        }
        let slots = store.storage_slots(address)?;
        let trie = MerkleTrie::from_entries(
            slots.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (slot_key(k), slot_value(v))),
        );
        Ok(trie)
    }

    /// Writes `value` to `slot` of a storage trie (zero removes it).
    pub(crate) fn write_slot(trie: &MerkleTrie, slot: &U256, value: &U256) -> MerkleTrie {
        if value.is_zero() {
            trie.remove(&slot_key(slot))
        } else {
            trie.insert(&slot_key(slot), slot_value(value))
        }
    }

    /// Records the new state of `address`: its account (or its removal) and its storage trie.
    pub(crate) fn set_account(
        &mut self,
        address: &Address,
        record: Option<&AccountRecord>,
        storage: Option<MerkleTrie>,
    ) {
        let key = keccak256(address);
        match record {
            Some(r) => {
                self.accounts = self.accounts.insert(&key, r.encoded());
                if let Some(trie) = storage {
                    self.storage.insert(*address, trie);
                }
            }
            None => {
                self.accounts = self.accounts.remove(&key);
                self.storage.remove(address);
            }
        }
    }

    /// Seals the changes: the new state root.
    pub(crate) fn finish(&mut self) -> B256 {
        self.root = self.accounts.root_hash();
        self.root
    }
}
