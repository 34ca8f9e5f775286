//! What a block changes in the state, and how those changes become new trie roots, store writes
//! and a changeset (the previous values, so the block can be reverted).

use super::keys;
use super::merkle::MerkleTrie;
use super::tries::{slot_value, stored_slot_value, StateTries};
use super::{AccountRecord, Store, StoreError};
use crate::primitives::{
    rlp_ext::{address_at, append_u256, b256_at, list, u256_at},
    trie::EMPTY_ROOT_HASH,
    Address, Bytes, B256, U256,
};
use rlp::RlpStream;
use std::collections::{BTreeMap, BTreeSet};

/// The new state of one account after a block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountChange {
    /// `(nonce, balance, code_hash)`, or `None` when the account no longer exists.
    pub info: Option<(u64, U256, B256)>,
    /// Whether all storage the account had before the block is gone (re-created account).
    pub wipe_storage: bool,
    /// Storage slots written (a zero value deletes the slot).
    pub storage: BTreeMap<U256, U256>,
}

/// Every change a block makes to the state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateDiff {
    /// Changed accounts.
    pub accounts: BTreeMap<Address, AccountChange>,
    /// Code deployed by the block, by hash.
    pub codes: BTreeMap<B256, Bytes>,
}

/// A diff resolved against the store: the state root it leads to, the writes that apply it and
/// the changeset that undoes it.
#[derive(Debug, Default, Clone)]
pub struct PreparedState {
    /// Root of the state after the block.
    pub state_root: B256,
    pub(crate) writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    pub(crate) changeset: Vec<u8>,
    /// The tries of the new state, which become the head's when the block is committed.
    pub(crate) tries: Option<StateTries>,
}

/// Previous values of what a block changed.
#[derive(Debug, Default)]
pub(crate) struct Changeset {
    pub(crate) accounts: Vec<(Address, Option<AccountRecord>)>,
    pub(crate) storage: Vec<(Address, U256, U256)>,
    /// Slots of accounts whose storage the block wiped, known only by their trie key (the
    /// storage table is keyed by it): (address, hashed slot, previous value). A third list,
    /// absent from the changesets of earlier versions.
    pub(crate) wiped: Vec<(Address, B256, U256)>,
}

impl Changeset {
    pub(crate) fn encoded(&self) -> Vec<u8> {
        let mut s = RlpStream::new_list(3);
        s.begin_list(self.accounts.len());
        for (address, prior) in &self.accounts {
            s.begin_list(2);
            s.append(&address.as_slice());
            s.append(&prior.map(|p| p.encoded()).unwrap_or_default());
        }
        s.begin_list(self.storage.len());
        for (address, slot, prior) in &self.storage {
            s.begin_list(3);
            s.append(&address.as_slice());
            append_u256(&mut s, slot);
            append_u256(&mut s, prior);
        }
        s.begin_list(self.wiped.len());
        for (address, hashed, prior) in &self.wiped {
            s.begin_list(3);
            s.append(&address.as_slice());
            s.append(&hashed.as_slice());
            append_u256(&mut s, prior);
        }
        s.out().to_vec()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let corrupt = |e: rlp::DecoderError| StoreError::Corrupt(format!("changeset: {e}"));
        let r = list(bytes).map_err(|e| StoreError::Corrupt(format!("changeset: {e}")))?;
        let mut out = Self::default();
        for item in r.at(0).map_err(corrupt)?.iter() {
            let prior = item.at(1).and_then(|p| p.data().map(<[u8]>::to_vec)).map_err(corrupt)?;
            let prior = if prior.is_empty() {
                None
            } else {
                Some(
                    AccountRecord::decode(&prior)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                )
            };
            out.accounts.push((address_at(&item, 0).map_err(corrupt)?, prior));
        }
        for item in r.at(1).map_err(corrupt)?.iter() {
            let address = address_at(&item, 0).map_err(corrupt)?;
            out.storage.push((
                address,
                u256_at(&item, 1).map_err(corrupt)?,
                u256_at(&item, 2).map_err(corrupt)?,
            ));
        }
        if r.item_count().map_err(corrupt)? > 2 {
            for item in r.at(2).map_err(corrupt)?.iter() {
                out.wiped.push((
                    address_at(&item, 0).map_err(corrupt)?,
                    b256_at(&item, 1).map_err(corrupt)?,
                    u256_at(&item, 2).map_err(corrupt)?,
                ));
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Resolves `diff` against the current head state: only the changed accounts and slots are
    /// read, and only the trie paths they touch are re-hashed.
    pub fn prepare(&self, diff: &StateDiff) -> Result<PreparedState, StoreError> {
        let mut writes = Vec::new();
        let mut changeset = Changeset::default();
        let mut tries = self.head_tries()?;

        for (hash, code) in &diff.codes {
            writes.push((keys::code(hash), Some(code.to_vec())));
        }
        for (address, change) in &diff.accounts {
            let prior = self.account(address)?;
            changeset.accounts.push((*address, prior));
            let wiped = change.wipe_storage || change.info.is_none();
            let mut wiped_slots = BTreeSet::new();
            if wiped {
                // Every slot the account had goes, and is remembered for a revert.
                for entry in self.hashed_storage_iter(address) {
                    let (hashed, raw) = entry?;
                    let key = keys::hashed_storage_at(address, &hashed);
                    changeset.wiped.push((*address, hashed, stored_slot_value(&key, &raw)?));
                    writes.push((key, None));
                    wiped_slots.insert(hashed);
                }
            }
            let prior_root = prior.map_or(EMPTY_ROOT_HASH, |p| p.storage_root);
            let mut storage = None;
            if change.info.is_some() && (wiped || !change.storage.is_empty()) {
                let mut trie = if wiped {
                    MerkleTrie::default()
                } else {
                    tries.storage_of(self, address, prior_root)?
                };
                for (slot, value) in &change.storage {
                    let hashed = keys::hashed_slot(slot);
                    let before = match wiped {
                        true if wiped_slots.contains(&hashed) => None,
                        true => Some(U256::ZERO),
                        false => Some(self.storage_by_hashed(address, &hashed)?),
                    };
                    if let Some(before) = before {
                        changeset.storage.push((*address, *slot, before));
                    }
                    trie = StateTries::write_slot(self, address, trie, &hashed, value)?;
                    let key = keys::hashed_storage_at(address, &hashed);
                    writes.push((key, (!value.is_zero()).then(|| slot_value(value))));
                }
                storage = Some(trie);
            }
            let record = change.info.map(|(nonce, balance, code_hash)| AccountRecord {
                nonce,
                balance,
                code_hash,
                storage_root: storage.as_ref().map_or(prior_root, MerkleTrie::root_hash),
            });
            writes.push((keys::account(address), record.map(|r| r.encoded())));
            tries.set_account(address, record.as_ref(), storage)?;
        }
        let state_root = tries.finish();
        Ok(PreparedState { state_root, writes, changeset: changeset.encoded(), tries: Some(tries) })
    }
}
