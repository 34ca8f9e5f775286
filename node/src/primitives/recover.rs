//! Public-key recovery on the hot path of import and of every submitted transaction, behind one
//! function. Measured on the CI machine (`cargo bench --bench hot_paths -- recovery`):
//! libsecp256k1 (the `secp256k1` crate, which revm already links for its ecrecover precompile)
//! recovers about twice as fast as k256 0.14, so recovery uses it; k256 stays the signing library
//! and the second path, and the tests below check that both agree, high `s` and bad input included.

use super::{Address, Signature, SignatureError, B256};
use alloy_primitives::keccak256;
use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use secp256k1::{Message, SECP256K1};

/// The address that signed `hash` with `signature` (any `s`; callers enforce EIP-2).
pub(super) fn recover_address(
    signature: &Signature,
    hash: &B256,
) -> Result<Address, SignatureError> {
    let id = RecoveryId::try_from(i32::from(signature.y_parity))
        .map_err(|_| SignatureError::Unrecoverable)?;
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(&signature.r.to_be_bytes::<32>());
    compact[32..].copy_from_slice(&signature.s.to_be_bytes::<32>());
    let sig = RecoverableSignature::from_compact(&compact, id)
        .map_err(|_| SignatureError::Unrecoverable)?;
    let key = SECP256K1
        .recover_ecdsa(Message::from_digest(hash.0), &sig)
        .map_err(|_| SignatureError::Unrecoverable)?;
    Ok(Address::from_slice(&keccak256(&key.serialize_uncompressed()[1..])[12..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{PrivateKey, U256};

    /// secp256k1's group order n.
    const N: U256 = U256::from_be_bytes([
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36,
        0x41, 0x41,
    ]);

    fn both(
        sig: &Signature,
        hash: &B256,
    ) -> (Result<Address, SignatureError>, Result<Address, SignatureError>) {
        (recover_address(sig, hash), sig.recover_k256(hash))
    }

    #[test]
    fn both_paths_agree_on_many_signatures() {
        for i in 1..=200u64 {
            let key = PrivateKey::from_bytes(&keccak256(i.to_be_bytes())).expect("key");
            let hash = keccak256((i * 31).to_be_bytes());
            let sig = key.sign_hash(&hash);
            let (fast, reference) = both(&sig, &hash);
            assert_eq!(fast, Ok(key.address()), "key {i}");
            assert_eq!(reference, Ok(key.address()), "key {i}");
        }
    }

    #[test]
    fn both_paths_agree_on_high_s() {
        // (r, n - s) with the parity flipped is the same signature, malleated.
        let key = PrivateKey::from_bytes(&keccak256(b"high s")).expect("key");
        let hash = keccak256(b"message");
        let low = key.sign_hash(&hash);
        let high = Signature { r: low.r, s: N - low.s, y_parity: !low.y_parity };
        let (fast, reference) = both(&high, &hash);
        assert_eq!(fast, Ok(key.address()));
        assert_eq!(reference, Ok(key.address()));
    }

    #[test]
    fn both_paths_refuse_the_same_bad_signatures() {
        let hash = keccak256(b"message");
        let good = PrivateKey::from_bytes(&keccak256(b"k")).expect("key").sign_hash(&hash);
        let bad = [
            Signature { r: U256::ZERO, ..good },
            Signature { s: U256::ZERO, ..good },
            Signature { r: N, ..good },
            Signature { s: N, ..good },
            Signature { r: U256::MAX, ..good },
        ];
        for sig in bad {
            let (fast, reference) = both(&sig, &hash);
            assert_eq!(fast, Err(SignatureError::Unrecoverable), "{sig:?}");
            assert_eq!(reference, Err(SignatureError::Unrecoverable), "{sig:?}");
        }
        // A valid-looking signature over another hash recovers someone else, on both paths.
        let other = keccak256(b"other");
        let (fast, reference) = both(&good, &other);
        assert_eq!(fast, reference);
    }
}
