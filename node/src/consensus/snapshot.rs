//! The Clique signer snapshot: who may sign, who signed recently, and the running votes.
//! It is advanced one header at a time and persisted now and then (see `chain`), so that a
//! restart replays only the headers since the last persisted one.

use super::seal::{extra_signers, recover_signer, NONCE_AUTH, NONCE_DROP};
use super::ConsensusError;
use crate::primitives::{Address, Header, B256};
use std::collections::{BTreeMap, BTreeSet};

/// One signer's vote on one address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vote {
    /// Who voted.
    pub signer: Address,
    /// At which block.
    pub block: u64,
    /// On whom.
    pub address: Address,
    /// To add (true) or remove (false).
    pub authorize: bool,
}

/// The authorization state after a given block.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// Epoch length (checkpoint interval).
    pub epoch: u64,
    /// Number of the block this snapshot is at.
    pub number: u64,
    /// Hash of that block.
    pub hash: B256,
    /// Authorized signers, sorted.
    pub signers: BTreeSet<Address>,
    /// Recent signers by block number, to stop one signer from sealing too often.
    pub recents: BTreeMap<u64, Address>,
    /// Votes cast since the last checkpoint.
    pub votes: Vec<Vote>,
    /// Running tallies: (address, authorize) → votes.
    pub tally: BTreeMap<Address, (bool, usize)>,
}

impl Snapshot {
    /// The snapshot at a checkpoint header (genesis or an epoch block), read from its extra data.
    pub fn from_checkpoint(header: &Header, epoch: u64) -> Result<Self, ConsensusError> {
        let signers: BTreeSet<Address> = extra_signers(&header.extra_data)?.into_iter().collect();
        if signers.is_empty() {
            return Err(ConsensusError::InvalidCheckpointSigners);
        }
        Ok(Self {
            epoch,
            number: header.number,
            hash: header.hash(),
            signers,
            recents: BTreeMap::new(),
            votes: Vec::new(),
            tally: BTreeMap::new(),
        })
    }

    /// How many consecutive blocks a signer must leave to others: `len / 2 + 1`.
    pub fn signer_limit(&self) -> u64 {
        self.signers.len() as u64 / 2 + 1
    }

    /// Whether `signer` is the in-turn signer for block `number`.
    pub fn in_turn(&self, number: u64, signer: &Address) -> bool {
        let Some(index) = self.signers.iter().position(|s| s == signer) else { return false };
        (number % self.signers.len() as u64) as usize == index
    }

    /// Whether `signer` signed too recently to seal block `number`.
    pub fn recently_signed(&self, number: u64, signer: &Address) -> bool {
        let limit = self.signer_limit();
        self.recents.iter().any(|(seen, s)| s == signer && number < seen + limit)
    }

    /// Advances the snapshot by one child header, checking its signer.
    pub fn apply(&self, header: &Header) -> Result<Self, ConsensusError> {
        if header.number != self.number + 1 {
            return Err(ConsensusError::UnknownAncestor);
        }
        let mut snap = self.clone();
        let number = header.number;
        if number.is_multiple_of(self.epoch) {
            snap.votes.clear();
            snap.tally.clear();
        }
        let limit = snap.signer_limit();
        if number >= limit {
            snap.recents.remove(&(number - limit));
        }
        let signer = recover_signer(header)?;
        if !snap.signers.contains(&signer) {
            return Err(ConsensusError::UnauthorizedSigner(signer));
        }
        if snap.recently_signed(number, &signer) {
            return Err(ConsensusError::RecentlySigned(signer));
        }
        snap.recents.insert(number, signer);

        // A signer's new vote on an address replaces its previous one.
        let target = header.beneficiary;
        if let Some(pos) = snap.votes.iter().position(|v| v.signer == signer && v.address == target)
        {
            let old = snap.votes.remove(pos);
            snap.uncast(old.address, old.authorize);
        }
        let authorize = match header.nonce {
            NONCE_AUTH => true,
            NONCE_DROP => false,
            _ => return Err(ConsensusError::InvalidVote),
        };
        if target != Address::ZERO && snap.cast(target, authorize) {
            snap.votes.push(Vote { signer, block: number, address: target, authorize });
        }
        // A majority passes the vote.
        if let Some(&(auth, count)) = snap.tally.get(&target) {
            if count > snap.signers.len() / 2 {
                if auth {
                    snap.signers.insert(target);
                } else {
                    snap.signers.remove(&target);
                    // The signer list shrank: forget the recent signature that fell out.
                    let limit = snap.signer_limit();
                    if number >= limit {
                        snap.recents.remove(&(number - limit));
                    }
                    snap.votes.retain(|v| v.signer != target);
                    snap.retally();
                }
                snap.votes.retain(|v| v.address != target);
                snap.tally.remove(&target);
            }
        }
        snap.number = number;
        snap.hash = header.hash();
        Ok(snap)
    }

    /// Counts a vote if it makes sense (authorize an outsider, drop a signer).
    fn cast(&mut self, address: Address, authorize: bool) -> bool {
        if self.signers.contains(&address) == authorize {
            return false;
        }
        let entry = self.tally.entry(address).or_insert((authorize, 0));
        if entry.0 != authorize {
            return false;
        }
        entry.1 += 1;
        true
    }

    fn uncast(&mut self, address: Address, authorize: bool) {
        if let Some(entry) = self.tally.get_mut(&address) {
            if entry.0 == authorize {
                entry.1 -= 1;
                if entry.1 == 0 {
                    self.tally.remove(&address);
                }
            }
        }
    }

    fn retally(&mut self) {
        self.tally.clear();
        for vote in self.votes.clone() {
            let entry = self.tally.entry(vote.address).or_insert((vote.authorize, 0));
            entry.1 += 1;
        }
    }
}

#[cfg(test)]
mod eip225_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::seal::{seal_header, EXTRA_SEAL, EXTRA_VANITY};
    use crate::primitives::{keccak256, PrivateKey};

    fn keys(n: u8) -> Vec<PrivateKey> {
        let mut keys: Vec<_> =
            (0..n).map(|i| PrivateKey::from_bytes(&keccak256([i])).unwrap()).collect();
        keys.sort_by_key(PrivateKey::address);
        keys
    }

    fn genesis(signers: &[PrivateKey]) -> Header {
        let mut extra = vec![0u8; EXTRA_VANITY];
        for k in signers {
            extra.extend_from_slice(k.address().as_slice());
        }
        extra.extend_from_slice(&[0u8; EXTRA_SEAL]);
        Header { extra_data: extra.into(), ..Default::default() }
    }

    fn child(parent: &Snapshot, key: &PrivateKey, vote: Option<(Address, bool)>) -> Header {
        let mut h = Header {
            number: parent.number + 1,
            extra_data: vec![0u8; EXTRA_VANITY + EXTRA_SEAL].into(),
            ..Default::default()
        };
        if let Some((addr, auth)) = vote {
            h.beneficiary = addr;
            h.nonce = if auth { NONCE_AUTH } else { NONCE_DROP };
        }
        seal_header(&mut h, key).unwrap();
        h
    }

    #[test]
    fn turns_rotate_and_recent_signers_must_wait() {
        let k = keys(3);
        let snap = Snapshot::from_checkpoint(&genesis(&k), 30000).unwrap();
        assert_eq!(snap.signer_limit(), 2);
        assert!(snap.in_turn(1, &k[1].address()));
        let s1 = snap.apply(&child(&snap, &k[1], None)).unwrap();
        // k[1] signed block 1, so it may not sign block 2.
        let err = s1.apply(&child(&s1, &k[1], None)).unwrap_err();
        assert!(matches!(err, ConsensusError::RecentlySigned(_)));
        let s2 = s1.apply(&child(&s1, &k[2], None)).unwrap();
        s2.apply(&child(&s2, &k[1], None)).unwrap();
    }

    #[test]
    fn outsiders_cannot_sign() {
        let k = keys(2);
        let snap = Snapshot::from_checkpoint(&genesis(&k[..1]), 30000).unwrap();
        let err = snap.apply(&child(&snap, &k[1], None)).unwrap_err();
        assert!(matches!(err, ConsensusError::UnauthorizedSigner(a) if a == k[1].address()));
    }

    #[test]
    fn a_majority_vote_adds_then_removes_a_signer() {
        let k = keys(3);
        let snap = Snapshot::from_checkpoint(&genesis(&k[..2]), 30000).unwrap();
        let newcomer = k[2].address();
        let s = snap.apply(&child(&snap, &k[1], Some((newcomer, true)))).unwrap();
        assert!(!s.signers.contains(&newcomer), "one vote of two is no majority");
        let s = s.apply(&child(&s, &k[0], Some((newcomer, true)))).unwrap();
        assert!(s.signers.contains(&newcomer));
        assert!(s.votes.is_empty());
    }
}
