//! BIP-39 seeds and BIP-32 derivation along Ethereum's path `m/44'/60'/0'/0/i`, as anvil,
//! Hardhat and MetaMask derive accounts from a mnemonic.

use crate::primitives::{PrivateKey, B256};
use hmac::{Hmac, Mac};
use k256::{elliptic_curve::PrimeField, NonZeroScalar, Scalar};
use sha2::Sha512;

/// The standard test mnemonic of anvil and Hardhat.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

const HARDENED: u32 = 0x8000_0000;

/// Why a key cannot be derived.
#[derive(Debug, thiserror::Error)]
pub enum HdError {
    /// A derived value is not a valid secp256k1 key (probability ~2^-127).
    #[error("derivation produced an invalid key at index {0}")]
    InvalidKey(u32),
}

/// The 64-byte BIP-39 seed of a mnemonic (no passphrase): PBKDF2-HMAC-SHA512, 2048 rounds.
pub fn mnemonic_seed(mnemonic: &str) -> [u8; 64] {
    let normalized = mnemonic.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut seed = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<Sha512>(normalized.as_bytes(), b"mnemonic", 2048, &mut seed);
    seed
}

fn hmac512(key: &[u8], parts: &[&[u8]]) -> [u8; 64] {
    let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

fn scalar(bytes: &[u8]) -> Option<Scalar> {
    let mut repr = [0u8; 32];
    repr.copy_from_slice(bytes);
    Option::from(Scalar::from_repr(repr.into()))
}

/// The key at `m/44'/60'/0'/0/index` of `seed`.
pub fn derive_key(seed: &[u8; 64], index: u32) -> Result<PrivateKey, HdError> {
    let master = hmac512(b"Bitcoin seed", &[seed]);
    let mut key = scalar(&master[..32]).ok_or(HdError::InvalidKey(index))?;
    let mut chain = [0u8; 32];
    chain.copy_from_slice(&master[32..]);
    for step in [44 | HARDENED, 60 | HARDENED, HARDENED, 0, index] {
        let i = step.to_be_bytes();
        let mac = if step & HARDENED != 0 {
            hmac512(&chain, &[&[0u8], &key.to_repr(), &i])
        } else {
            let nz: NonZeroScalar =
                Option::from(NonZeroScalar::new(key)).ok_or(HdError::InvalidKey(index))?;
            let public = k256::PublicKey::from_secret_scalar(&nz);
            let point = k256::elliptic_curve::sec1::ToSec1Point::to_sec1_point(&public, true);
            hmac512(&chain, &[point.as_bytes(), &i])
        };
        let tweak = scalar(&mac[..32]).ok_or(HdError::InvalidKey(index))?;
        key += tweak;
        chain.copy_from_slice(&mac[32..]);
    }
    PrivateKey::from_bytes(&B256::from_slice(&key.to_repr()))
        .map_err(|_| HdError::InvalidKey(index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn dev_mnemonic_gives_anvils_accounts() {
        let seed = mnemonic_seed(DEV_MNEMONIC);
        let expected = [
            address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
            address!("70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            address!("3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
        ];
        for (i, want) in expected.iter().enumerate() {
            assert_eq!(derive_key(&seed, i as u32).unwrap().address(), *want);
        }
    }
}
