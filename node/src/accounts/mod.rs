//! Accounts the node can sign for: keys derived from a BIP-39 mnemonic (the dev accounts) and
//! keystore v3 files (`--unlock`).

mod hd;
mod keystore;
mod scrypt_compat;
#[cfg(test)]
mod vector_tests;

pub use hd::{derive_key, mnemonic_seed, HdError, DEV_MNEMONIC};
pub use keystore::{
    decrypt_key, encrypt_key, list_keys, random_key, store_key, unlock, KeystoreError,
};
