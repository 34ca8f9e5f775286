//! Key layout of the one sled tree that holds everything: a prefix byte per table, so that a
//! whole block can be written in one atomic batch.

use crate::primitives::{Address, B256, U256};

pub(crate) const ACCOUNT: u8 = b'a';
pub(crate) const STORAGE: u8 = b's';
pub(crate) const CODE: u8 = b'c';
pub(crate) const HEADER: u8 = b'h';
pub(crate) const BODY: u8 = b'b';
pub(crate) const RECEIPTS: u8 = b'r';
pub(crate) const CANONICAL: u8 = b'n';
pub(crate) const TX_LOOKUP: u8 = b't';
pub(crate) const CHANGESET: u8 = b'd';
pub(crate) const META: u8 = b'm';
pub(crate) const POOL_JOURNAL: u8 = b'p';
pub(crate) const TOTAL_DIFFICULTY: u8 = b'T';
pub(crate) const CLIQUE_SNAPSHOT: u8 = b'S';
pub(crate) const SENDERS: u8 = b'f';
/// The head state's storage by hashed slot (address ‖ keccak(slot) → the trie's value), kept
/// beside `STORAGE` so that a storage trie's subtree can be loaded by its key prefix.
pub(crate) const HASHED_STORAGE: u8 = b'H';

pub(crate) fn account(a: &Address) -> Vec<u8> {
    [&[ACCOUNT][..], a.as_slice()].concat()
}

pub(crate) fn storage_prefix(a: &Address) -> Vec<u8> {
    [&[STORAGE][..], a.as_slice()].concat()
}

pub(crate) fn storage(a: &Address, slot: &U256) -> Vec<u8> {
    [&[STORAGE][..], a.as_slice(), &slot.to_be_bytes::<32>()].concat()
}

pub(crate) fn hashed_storage_prefix(a: &Address) -> Vec<u8> {
    [&[HASHED_STORAGE][..], a.as_slice()].concat()
}

pub(crate) fn hashed_storage(a: &Address, slot: &U256) -> Vec<u8> {
    let hashed = crate::primitives::keccak256(slot.to_be_bytes::<32>());
    [&[HASHED_STORAGE][..], a.as_slice(), hashed.as_slice()].concat()
}

pub(crate) fn code(hash: &B256) -> Vec<u8> {
    [&[CODE][..], hash.as_slice()].concat()
}

pub(crate) fn hashed(prefix: u8, hash: &B256) -> Vec<u8> {
    [&[prefix][..], hash.as_slice()].concat()
}

pub(crate) fn numbered(prefix: u8, number: u64) -> Vec<u8> {
    [&[prefix][..], &number.to_be_bytes()].concat()
}

pub(crate) fn meta(name: &str) -> Vec<u8> {
    [&[META][..], name.as_bytes()].concat()
}
