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
/// Storage tries kept between blocks; beyond, one is dropped and rebuilt from the index when a
/// block touches its contract again (a community chain runs a handful of contracts).
const CACHED_STORAGE_TRIES: usize = 64;
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

/// The value `slot_value` encoded (`None`: not the encoding of a non-zero value).
fn decode_slot_value(raw: &[u8]) -> Option<U256> {
    let r = rlp::Rlp::new(raw);
    let info = r.payload_info().ok()?;
    let data = r.data().ok()?;
    let whole = info.header_len + info.value_len == raw.len();
    (whole && !data.is_empty() && data.len() <= 32 && data[0] != 0)
        .then(|| U256::from_be_slice(data))
}

/// A value of the storage table stored under `key`, or corruption naming the key.
pub(crate) fn stored_slot_value(key: &[u8], raw: &[u8]) -> Result<U256, StoreError> {
    decode_slot_value(raw).ok_or_else(|| {
        StoreError::Corrupt(format!(
            "storage: {} bytes under key 0x{} are not a value",
            raw.len(),
            hex::encode(key)
        ))
    })
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
        let (mut since, mut group) = (0, None);
        for item in store.hashed_storage_iter(address) {
            let (hashed, value) = item?;
            // In key order, collapsing only between groups of the first two bytes (4 nibbles,
            // the memory depth): a collapsed subtree is then never entered again while building.
            let this = (hashed[0], hashed[1]);
            if since >= BUILD_COLLAPSE_EVERY && group != Some(this) {
                trie = trie.collapse(STORAGE_MEMORY_DEPTH);
                since = 0;
            }
            group = Some(this);
            trie = trie.insert(&hashed, value)?;
            since += 1;
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

    /// Writes `value` to the slot of `address`'s storage trie whose key is `hashed` (zero
    /// removes it), loading the subtrees on the way from the head state's storage table.
    pub(crate) fn write_slot(
        store: &Store,
        address: &Address,
        trie: MerkleTrie,
        hashed: &B256,
        value: &U256,
    ) -> Result<MerkleTrie, StoreError> {
        let mut load = |prefix: &[u8]| store.hashed_storage_under(address, prefix);
        if value.is_zero() {
            trie.remove_loading(hashed, &mut load)
        } else {
            trie.insert_loading(hashed, slot_value(value), &mut load)
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
                // Taken, not cloned, so that the branches this block already copied are
                // changed in place (on an error the tries are dropped with the block).
                self.accounts = std::mem::take(&mut self.accounts).insert(&key, r.encoded())?;
                if let Some(trie) = storage {
                    self.storage.insert(*address, trie.collapse(STORAGE_MEMORY_DEPTH));
                    if self.storage.len() > CACHED_STORAGE_TRIES {
                        let other = self.storage.keys().find(|a| *a != address).copied();
                        if let Some(other) = other {
                            self.storage.remove(&other);
                        }
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::keys::hashed_slot as slot_key;

    #[test]
    fn a_large_storage_trie_keeps_only_its_top_in_memory() {
        let store = Store::temporary().expect("store");
        let address = Address::repeat_byte(0xda);
        let slots = 150_000u64;
        let mut batch = sled::Batch::default();
        let mut entries = Vec::new();
        for i in 0..slots {
            let (slot, value) = (U256::from(i), U256::from(i + 1));
            Store::hashed_storage_write(&mut batch, &address, &slot, &value);
            entries.push((slot_key(&slot), slot_value(&value)));
        }
        store.apply_for_tests(batch);
        let full = MerkleTrie::from_entries(entries);
        let mut tries = StateTries::default();
        let trie = tries.storage_of(&store, &address, full.root_hash()).expect("built");
        assert_eq!(trie.root_hash(), full.root_hash());
        let (whole, kept) = (full.nodes_in_memory(), trie.nodes_in_memory());
        assert!(whole > slots as usize, "{whole}");
        // 1 + 16 + 256 + 4096 branches above at most 65,536 subtrees kept by hash.
        assert!(kept <= 69_905, "{kept} nodes in memory for {slots} slots");
        // A write loads one subtree, hashes the same as a trie held whole, and leaves the top.
        let (slot, value) = (U256::from(slots + 7), U256::from(3));
        let written =
            StateTries::write_slot(&store, &address, trie.clone(), &slot_key(&slot), &value)
                .expect("w");
        let expected = full.clone().insert(&slot_key(&slot), slot_value(&value)).expect("insert");
        assert_eq!(written.root_hash(), expected.root_hash());
        assert!(written.collapse(STORAGE_MEMORY_DEPTH).nodes_in_memory() <= kept + 1);
    }
}
