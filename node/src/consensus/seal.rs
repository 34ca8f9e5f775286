//! The Clique seal: the hash a signer signs (the header without the seal), the 65-byte seal at
//! the end of `extraData`, recovering the signer, and the signer list of checkpoint blocks.

use super::ConsensusError;
use crate::primitives::{keccak256, Address, Bytes, Header, PrivateKey, Signature, B256};
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Bytes of signer vanity at the start of `extraData`.
pub const EXTRA_VANITY: usize = 32;
/// Bytes of the seal at the end of `extraData`.
pub const EXTRA_SEAL: usize = 65;
/// Header nonce of a vote to authorize the beneficiary.
pub const NONCE_AUTH: [u8; 8] = [0xff; 8];
/// Header nonce of a vote to drop the beneficiary (or of no vote).
pub const NONCE_DROP: [u8; 8] = [0; 8];

/// The hash a Clique signer signs: the header's hash with the seal cut from `extraData`.
pub fn seal_hash(header: &Header) -> B256 {
    let mut unsealed = header.clone();
    let keep = header.extra_data.len().saturating_sub(EXTRA_SEAL);
    unsealed.extra_data = Bytes::copy_from_slice(&header.extra_data[..keep]);
    keccak256(unsealed.encoded())
}

/// Seals `header` with `key`: writes the signature into the last 65 bytes of `extraData`
/// (which must already have room for it).
pub fn seal_header(header: &mut Header, key: &PrivateKey) -> Result<(), ConsensusError> {
    if header.extra_data.len() < EXTRA_VANITY + EXTRA_SEAL {
        return Err(ConsensusError::MissingSeal);
    }
    let signature = key.sign_hash(&seal_hash(header));
    let mut extra = header.extra_data.to_vec();
    let at = extra.len() - EXTRA_SEAL;
    extra[at..].copy_from_slice(&signature.to_bytes());
    header.extra_data = extra.into();
    Ok(())
}

/// Signers of recently seen headers, by header hash (seal included), as geth's `sigcache`: the
/// head's signer is asked for by every `eth_call` on `latest`, by snapshots and by the RPC.
const SIGNER_CACHE: usize = 4096;

type SignerCache = (HashMap<B256, Address>, VecDeque<B256>);

fn signer_cache() -> MutexGuard<'static, SignerCache> {
    static CACHE: OnceLock<Mutex<SignerCache>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The address that sealed `header` (remembered for the last few thousand headers).
pub fn recover_signer(header: &Header) -> Result<Address, ConsensusError> {
    let hash = header.hash();
    if let Some(signer) = signer_cache().0.get(&hash) {
        return Ok(*signer);
    }
    let signer = recover_signer_uncached(header)?;
    let mut guard = signer_cache();
    let (map, order) = &mut *guard;
    if map.insert(hash, signer).is_none() {
        order.push_back(hash);
        if order.len() > SIGNER_CACHE {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
    }
    Ok(signer)
}

fn recover_signer_uncached(header: &Header) -> Result<Address, ConsensusError> {
    let extra = &header.extra_data;
    if extra.len() < EXTRA_VANITY + EXTRA_SEAL {
        return Err(ConsensusError::MissingSeal);
    }
    let mut seal = [0u8; EXTRA_SEAL];
    seal.copy_from_slice(&extra[extra.len() - EXTRA_SEAL..]);
    let signature = Signature::from_bytes(&seal).map_err(|_| ConsensusError::BadSeal)?;
    signature.recover_any_s(&seal_hash(header)).map_err(|_| ConsensusError::BadSeal)
}

/// The signers listed in a checkpoint's `extraData` (between vanity and seal).
pub fn extra_signers(extra: &[u8]) -> Result<Vec<Address>, ConsensusError> {
    if extra.len() < EXTRA_VANITY + EXTRA_SEAL {
        return Err(ConsensusError::MissingSeal);
    }
    let list = &extra[EXTRA_VANITY..extra.len() - EXTRA_SEAL];
    if !list.len().is_multiple_of(20) {
        return Err(ConsensusError::InvalidCheckpointSigners);
    }
    Ok(list.chunks(20).map(Address::from_slice).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_header_recovers_its_signer_and_tampering_changes_it() {
        let key = PrivateKey::from_bytes(&keccak256(b"bf7-1")).unwrap();
        let mut header = Header {
            number: 1,
            extra_data: vec![0u8; EXTRA_VANITY + EXTRA_SEAL].into(),
            ..Default::default()
        };
        seal_header(&mut header, &key).unwrap();
        assert_eq!(recover_signer(&header).unwrap(), key.address());
        header.gas_used = 1;
        assert_ne!(recover_signer(&header).ok(), Some(key.address()));
    }

    #[test]
    fn short_extra_data_has_no_seal() {
        let header = Header { extra_data: vec![0u8; 40].into(), ..Default::default() };
        assert!(matches!(recover_signer(&header), Err(ConsensusError::MissingSeal)));
        assert!(extra_signers(&[0u8; 98]).is_err());
    }
}
