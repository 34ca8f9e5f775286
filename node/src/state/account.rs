//! An account as the state trie holds it, with its RLP encoding for the store.

use crate::primitives::{
    rlp_ext::{append_u256, b256_at, list, u256_at},
    trie::{TrieAccount, EMPTY_ROOT_HASH, KECCAK_EMPTY},
    DecodeError, B256, U256,
};
use rlp::RlpStream;

/// Nonce, balance, storage root and code hash of one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountRecord {
    /// Nonce.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Root of the account's storage trie.
    pub storage_root: B256,
    /// keccak256 of the account's code.
    pub code_hash: B256,
}

impl Default for AccountRecord {
    fn default() -> Self {
        Self {
            nonce: 0,
            balance: U256::ZERO,
            storage_root: EMPTY_ROOT_HASH,
            code_hash: KECCAK_EMPTY,
        }
    }
}

impl AccountRecord {
    /// `rlp([nonce, balance, storageRoot, codeHash])`, as in the state trie.
    pub fn encoded(&self) -> Vec<u8> {
        let mut s = RlpStream::new_list(4);
        s.append(&self.nonce);
        append_u256(&mut s, &self.balance);
        s.append(&self.storage_root.as_slice());
        s.append(&self.code_hash.as_slice());
        s.out().to_vec()
    }

    /// Decodes [`AccountRecord::encoded`].
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let r = list(bytes)?;
        Ok(Self {
            nonce: r.val_at(0)?,
            balance: u256_at(&r, 1)?,
            storage_root: b256_at(&r, 2)?,
            code_hash: b256_at(&r, 3)?,
        })
    }

    /// The account as alloy-trie takes it.
    pub fn trie_account(&self) -> TrieAccount {
        TrieAccount {
            nonce: self.nonce,
            balance: self.balance,
            storage_root: self.storage_root,
            code_hash: self.code_hash,
        }
    }
}
