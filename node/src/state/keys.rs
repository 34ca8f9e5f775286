//! Key layout of the one sled tree that holds everything: a prefix byte per table, so that a
//! whole block can be written in one atomic batch.

use crate::primitives::{Address, B256, U256};

pub(crate) const ACCOUNT: u8 = b'a';
/// Storage by plain slot, as databases before format 2 kept it beside `HASHED_STORAGE`: read
/// only to build that index for an old database, then removed at opening.
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
/// The head state's storage by hashed slot (address ‖ keccak(slot) → the trie's value): the one
/// storage table, read by slot (hashed first) and by key prefix (a storage trie's subtree).
pub(crate) const HASHED_STORAGE: u8 = b'H';

pub(crate) fn account(a: &Address) -> Vec<u8> {
    [&[ACCOUNT][..], a.as_slice()].concat()
}

/// The key of a storage slot in an old database's plain table (tests of the migration).
#[cfg(test)]
pub(crate) fn storage(a: &Address, slot: &U256) -> Vec<u8> {
    [&[STORAGE][..], a.as_slice(), &slot.to_be_bytes::<32>()].concat()
}

pub(crate) fn hashed_storage_prefix(a: &Address) -> Vec<u8> {
    [&[HASHED_STORAGE][..], a.as_slice()].concat()
}

/// The trie key of a storage slot: keccak of its 32 big-endian bytes.
pub(crate) fn hashed_slot(slot: &U256) -> B256 {
    crate::primitives::keccak256(slot.to_be_bytes::<32>())
}

pub(crate) fn hashed_storage(a: &Address, slot: &U256) -> Vec<u8> {
    hashed_storage_at(a, &hashed_slot(slot))
}

pub(crate) fn hashed_storage_at(a: &Address, hashed: &B256) -> Vec<u8> {
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
