//! The storage table: each contract's storage by `keccak(slot)`, the key its storage trie uses,
//! so that a slot is read by its hash and a subtree of the trie kept only by hash is loaded back
//! by key prefix. Databases of format 1 and older also kept storage by plain slot: at opening,
//! this table is built from that one if it is missing, and that one is then removed.

use super::{keys, Store, StoreError};
use crate::primitives::{Address, B256, U256};
use crate::state::tries::slot_value;

/// Set once the index covers the whole head state.
const BUILT: &str = "hashed-storage";

impl Store {
    /// The index entries of `address` under a nibble `prefix` of the hashed slot: (hashed slot,
    /// trie value), in key order.
    pub(crate) fn hashed_storage_under(
        &self,
        address: &Address,
        prefix: &[u8],
    ) -> Result<Vec<(B256, Vec<u8>)>, StoreError> {
        let whole: Vec<u8> = prefix.chunks_exact(2).map(|p| (p[0] << 4) | p[1]).collect();
        let odd = (prefix.len() % 2 == 1).then(|| prefix[prefix.len() - 1]);
        let scan = [keys::hashed_storage_prefix(address), whole.clone()].concat();
        let mut out = Vec::new();
        for item in self.tree.scan_prefix(scan) {
            let (key, value) = item?;
            let Some(hashed) = key.get(21..53).map(B256::from_slice) else {
                return Err(StoreError::Corrupt(format!("hashed storage key of {address}")));
            };
            if odd.is_some_and(|nibble| hashed[whole.len()] >> 4 != nibble) {
                continue;
            }
            out.push((hashed, value.to_vec()));
        }
        Ok(out)
    }

    /// Every index entry of `address`, in key order, without holding them all in memory.
    pub(crate) fn hashed_storage_iter(
        &self,
        address: &Address,
    ) -> impl Iterator<Item = Result<(B256, Vec<u8>), StoreError>> + '_ {
        let address = *address;
        self.tree.scan_prefix(keys::hashed_storage_prefix(&address)).map(move |item| {
            let (key, value) = item?;
            let hashed = key
                .get(21..53)
                .map(B256::from_slice)
                .ok_or_else(|| StoreError::Corrupt(format!("hashed storage key of {address}")))?;
            Ok((hashed, value.to_vec()))
        })
    }

    /// The index writes of one storage slot (`None`: the slot is now zero).
    pub(crate) fn hashed_storage_write(
        batch: &mut sled::Batch,
        address: &Address,
        slot: &U256,
        value: &U256,
    ) {
        let key = keys::hashed_storage(address, slot);
        if value.is_zero() {
            batch.remove(key);
        } else {
            batch.insert(key, slot_value(value));
        }
    }

    /// Applies a batch straight to the database (tests that set up the index by hand).
    #[cfg(test)]
    pub(crate) fn apply_for_tests(&self, batch: sled::Batch) {
        self.tree.apply_batch(batch).expect("apply");
    }

    /// Marks the index complete (a new database, filled with its genesis).
    pub(crate) fn hashed_storage_built(batch: &mut sled::Batch) {
        batch.insert(keys::meta(BUILT), &[1u8][..]);
    }

    /// Builds the index of a database that predates it (once; a crash midway starts over).
    pub(crate) fn ensure_hashed_storage(&self) -> Result<(), StoreError> {
        if self.tree.get(keys::meta("genesis"))?.is_none()
            || self.tree.get(keys::meta(BUILT))?.is_some()
        {
            return Ok(());
        }
        tracing::info!(target: "daisee::store", "building the hashed-storage index (once, for a database from before it)");
        let mut batch = sled::Batch::default();
        let mut n = 0u64;
        for item in self.tree.scan_prefix([keys::STORAGE]) {
            let (key, value) = item?;
            if key.len() != 53 || value.len() > 32 {
                return Err(StoreError::Corrupt("a storage entry has the wrong size".into()));
            }
            let address = Address::from_slice(&key[1..21]);
            let slot = U256::from_be_slice(&key[21..53]);
            Self::hashed_storage_write(&mut batch, &address, &slot, &U256::from_be_slice(&value));
            n += 1;
            if n.is_multiple_of(100_000) {
                self.tree.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        Self::hashed_storage_built(&mut batch);
        self.tree.apply_batch(batch)?;
        self.flush()?;
        tracing::info!(target: "daisee::store", slots = n, "built the hashed-storage index");
        Ok(())
    }

    /// Removes the plain-slot storage of a database of format 1 (once the hashed table covers
    /// it; in slices, each flushed; a crash midway goes on at the next opening).
    pub(crate) fn drop_plain_storage(&self) -> Result<(), StoreError> {
        if self.tree.scan_prefix([keys::STORAGE]).next().is_none() {
            return Ok(());
        }
        if self.tree.get(keys::meta(BUILT))?.is_none() {
            return Err(StoreError::Corrupt(
                "storage by plain slot in a database without the hashed table".into(),
            ));
        }
        let mut removed = 0u64;
        loop {
            let slice: Vec<sled::IVec> = self
                .tree
                .scan_prefix([keys::STORAGE])
                .keys()
                .take(100_000)
                .collect::<Result<_, _>>()?;
            if slice.is_empty() {
                break;
            }
            let mut batch = sled::Batch::default();
            for key in &slice {
                batch.remove(key.clone());
            }
            self.tree.apply_batch(batch)?;
            self.flush()?;
            removed += slice.len() as u64;
        }
        tracing::info!(target: "daisee::store", slots = removed, "removed the storage table of the older format (storage is kept by hashed slot)");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_under_odd_and_even_prefixes() {
        let store = Store::temporary().unwrap();
        let address = Address::repeat_byte(0xda);
        let mut batch = sled::Batch::default();
        let slots: Vec<U256> = (0..64u64).map(U256::from).collect();
        for slot in &slots {
            Store::hashed_storage_write(&mut batch, &address, slot, &U256::from(7));
        }
        Store::hashed_storage_write(&mut batch, &Address::ZERO, &U256::from(1), &U256::from(7));
        store.tree.apply_batch(batch).unwrap();
        let all = store.hashed_storage_under(&address, &[]).unwrap();
        assert_eq!(all.len(), 64);
        for prefix in [vec![3u8], vec![3, 0xa], vec![3, 0xa, 1]] {
            let under = store.hashed_storage_under(&address, &prefix).unwrap();
            let expected = all
                .iter()
                .filter(|(k, _)| {
                    let n: Vec<u8> = k.iter().flat_map(|b| [b >> 4, b & 15]).collect();
                    n.starts_with(&prefix)
                })
                .count();
            assert_eq!(under.len(), expected, "{prefix:?}");
        }
    }
}
