//! secp256k1 signatures as Ethereum uses them (k256): signing a 32-byte hash, recovering the
//! signer's address, the low-s rule, and private keys with their addresses.

use alloy_primitives::{keccak256, Address, B256, U256};
use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature, SigningKey, VerifyingKey};

/// Half the secp256k1 group order: signatures with a larger `s` are malleable (EIP-2).
const SECP256K1_HALF_N: U256 = U256::from_be_bytes([
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
]);

/// Why a signature is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// `s` is in the upper half of the curve order (EIP-2 forbids it in transactions).
    #[error("invalid signature: s value too high")]
    HighS,
    /// `r` or `s` is zero or not below the curve order, or no public key matches.
    #[error("invalid signature: cannot recover the signer")]
    Unrecoverable,
    /// A private key that is zero or not below the curve order.
    #[error("invalid private key")]
    InvalidKey,
}

/// An ECDSA signature `(r, s)` with the parity of the ephemeral point's `y` coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature {
    /// The `r` value.
    pub r: U256,
    /// The `s` value.
    pub s: U256,
    /// Whether `y` is odd (the recovery id).
    pub y_parity: bool,
}

impl Signature {
    /// The 65-byte `r ‖ s ‖ v` form with `v` = 0 or 1 (Clique seals, `eth_sign` use 27/28).
    pub fn to_bytes(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[..32].copy_from_slice(&self.r.to_be_bytes::<32>());
        out[32..64].copy_from_slice(&self.s.to_be_bytes::<32>());
        out[64] = u8::from(self.y_parity);
        out
    }

    /// Reads the 65-byte `r ‖ s ‖ v` form; `v` may be 0/1 or 27/28.
    pub fn from_bytes(bytes: &[u8; 65]) -> Result<Self, SignatureError> {
        let y_parity = match bytes[64] {
            0 | 27 => false,
            1 | 28 => true,
            _ => return Err(SignatureError::Unrecoverable),
        };
        Ok(Self {
            r: U256::from_be_slice(&bytes[..32]),
            s: U256::from_be_slice(&bytes[32..64]),
            y_parity,
        })
    }

    /// Whether `s` is in the lower half of the order, as transactions require (EIP-2).
    pub fn is_low_s(&self) -> bool {
        self.s <= SECP256K1_HALF_N
    }

    /// Recovers the address that signed `hash`, enforcing low `s`.
    pub fn recover(&self, hash: &B256) -> Result<Address, SignatureError> {
        if !self.is_low_s() {
            return Err(SignatureError::HighS);
        }
        self.recover_any_s(hash)
    }

    /// Recovers the address that signed `hash`, accepting any `s` (as geth does for seals).
    pub fn recover_any_s(&self, hash: &B256) -> Result<Address, SignatureError> {
        super::recover::recover_address(self, hash)
    }

    /// The same with k256 (the signing library), kept to check the fast path against.
    pub fn recover_k256(&self, hash: &B256) -> Result<Address, SignatureError> {
        let sig =
            EcdsaSignature::from_scalars(self.r.to_be_bytes::<32>(), self.s.to_be_bytes::<32>())
                .map_err(|_| SignatureError::Unrecoverable)?;
        // k256 recovers only normalised signatures; a high s flips the recovery id.
        let (sig, parity) = match sig.normalize_s() {
            normalized if normalized != sig => (normalized, !self.y_parity),
            _ => (sig, self.y_parity),
        };
        let id = RecoveryId::new(parity, false);
        let key = VerifyingKey::recover_from_prehash(hash.as_slice(), &sig, id)
            .map_err(|_| SignatureError::Unrecoverable)?;
        Ok(address_of(&key))
    }
}

/// The Ethereum address of a public key: the last 20 bytes of keccak256 of its 64-byte form.
fn address_of(key: &VerifyingKey) -> Address {
    let point = key.to_sec1_point(false);
    Address::from_slice(&keccak256(&point.as_bytes()[1..])[12..])
}

/// A secp256k1 private key.
#[derive(Clone)]
pub struct PrivateKey {
    key: SigningKey,
    address: Address,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.address)
    }
}

impl PrivateKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: &B256) -> Result<Self, SignatureError> {
        let key =
            SigningKey::from_slice(bytes.as_slice()).map_err(|_| SignatureError::InvalidKey)?;
        let address = address_of(key.verifying_key());
        Ok(Self { key, address })
    }

    /// The key's 32 bytes.
    pub fn to_bytes(&self) -> B256 {
        B256::from_slice(&self.key.to_bytes())
    }

    /// The address this key signs for.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Signs a 32-byte hash; the signature always has a low `s`.
    pub fn sign_hash(&self, hash: &B256) -> Signature {
        let (sig, id) = self.key.sign_prehash_recoverable(hash.as_slice());
        let normalized = sig.normalize_s();
        let flipped = normalized != sig;
        let (r, s) = normalized.split_bytes();
        Signature {
            r: U256::from_be_slice(&r),
            s: U256::from_be_slice(&s),
            y_parity: id.is_y_odd() ^ flipped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, b256};

    // The first account of the standard test mnemonic (anvil/Hardhat).
    const KEY: B256 = b256!("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");

    #[test]
    fn key_gives_the_well_known_address() {
        let key = PrivateKey::from_bytes(&KEY).unwrap();
        assert_eq!(key.address(), address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
    }

    #[test]
    fn sign_then_recover_round_trips_with_low_s() {
        let key = PrivateKey::from_bytes(&KEY).unwrap();
        for i in 0u8..32 {
            let hash = keccak256([i]);
            let sig = key.sign_hash(&hash);
            assert!(sig.is_low_s());
            assert_eq!(sig.recover(&hash).unwrap(), key.address());
            let bytes = sig.to_bytes();
            assert_eq!(Signature::from_bytes(&bytes).unwrap(), sig);
        }
    }

    #[test]
    fn high_s_is_refused_for_transactions_but_recovers_for_seals() {
        let key = PrivateKey::from_bytes(&KEY).unwrap();
        let hash = keccak256(b"daisee");
        let sig = key.sign_hash(&hash);
        let n = SECP256K1_HALF_N * U256::from(2) + U256::from(1);
        let high = Signature { r: sig.r, s: n - sig.s, y_parity: !sig.y_parity };
        assert_eq!(high.recover(&hash), Err(SignatureError::HighS));
        assert_eq!(high.recover_any_s(&hash).unwrap(), key.address());
    }

    #[test]
    fn zero_values_do_not_recover() {
        let sig = Signature { r: U256::ZERO, s: U256::from(1), y_parity: false };
        assert_eq!(sig.recover(&B256::ZERO), Err(SignatureError::Unrecoverable));
        assert!(PrivateKey::from_bytes(&B256::ZERO).is_err());
    }
}
