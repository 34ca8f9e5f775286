//! Merkle-Patricia trie roots (alloy-trie): transactions, receipts, storage and state.

use super::{Receipt, SignedTransaction};
use alloy_primitives::{Address, B256, U256};
pub use alloy_trie::{TrieAccount, EMPTY_ROOT_HASH, KECCAK_EMPTY};

/// Root of the transaction trie of a block.
pub fn transactions_root(txs: &[SignedTransaction]) -> B256 {
    let encoded: Vec<&[u8]> = txs.iter().map(SignedTransaction::encoded).collect();
    alloy_trie::root::ordered_trie_root_encoded(&encoded)
}

/// Root of the receipt trie of a block.
pub fn receipts_root(receipts: &[Receipt]) -> B256 {
    let encoded: Vec<Vec<u8>> = receipts.iter().map(Receipt::encoded).collect();
    alloy_trie::root::ordered_trie_root_encoded(&encoded)
}

/// Root of one account's storage trie; zero values are absent from the trie.
pub fn storage_root(slots: impl IntoIterator<Item = (U256, U256)>) -> B256 {
    alloy_trie::root::storage_root_unhashed(
        slots.into_iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (B256::from(k), v)),
    )
}

/// Root of the state trie over `accounts`.
pub fn state_root(accounts: impl IntoIterator<Item = (Address, TrieAccount)>) -> B256 {
    alloy_trie::root::state_root_unhashed(accounts)
}
