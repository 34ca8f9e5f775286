//! Fork identifiers (EIP-2124, with EIP-6122's timestamp forks): a checksum of the genesis hash
//! and the forks a board has passed, plus the next fork it schedules. Boards exchange them in
//! their status so that one whose chain config lacks an upgrade the others scheduled learns it
//! before the upgrade, and stops at it instead of forking off.

use super::ChainConfig;
use crate::primitives::B256;
use serde::{Deserialize, Serialize};

/// A value above this is a timestamp, below it a block number (geth's threshold: mainnet's
/// genesis time), for a `next` this board does not know.
const TIMESTAMP_THRESHOLD: u64 = 1_438_269_973;

/// Whether a fork value a peer announced is a timestamp (else a block number).
pub fn fork_is_time(fork: u64) -> bool {
    fork > TIMESTAMP_THRESHOLD
}

/// What a board announces: where it stands and what it schedules next (0: nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkId {
    /// CRC-32 of the genesis hash and every fork passed, big-endian u64 each.
    pub hash: u32,
    /// The next scheduled fork (block or timestamp), 0 if none.
    pub next: u64,
}

/// Why a peer's fork id does not fit this board's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ForkMismatch {
    /// The peer passed a fork this board does not know of, or is on another schedule.
    #[error(
        "this board's chain config lacks a fork its peers have passed, or the schedules differ"
    )]
    LocalIncompatibleOrStale,
    /// The peer has not scheduled a fork this board already passed.
    #[error("the peer has not scheduled a fork this board has passed: it needs the upgrade")]
    RemoteStale,
}

/// How a compatible peer's schedule compares with this board's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkAgreement {
    /// Same next fork.
    Same,
    /// The peer schedules a next fork this board does not (block or timestamp).
    PeerSchedules(u64),
    /// The peer does not (yet) schedule this board's next fork.
    PeerLacks(u64),
}

/// Checks peers' fork ids against this board's schedule.
#[derive(Debug, Clone)]
pub struct ForkFilter {
    /// Fork blocks, then fork timestamps, each list sorted, then `u64::MAX`.
    forks: Vec<u64>,
    /// How many of `forks` are block numbers.
    by_block: usize,
    /// `sums[i]`: the checksum after the first `i` forks.
    sums: Vec<u32>,
}

impl ForkFilter {
    /// The filter of a chain with `genesis` hash and `genesis_time`.
    pub fn new(config: &ChainConfig, genesis: B256, genesis_time: u64) -> Self {
        let mut blocks: Vec<u64> = [
            config.homestead_block,
            config.dao_fork_block,
            config.eip150_block,
            config.eip155_block,
            config.eip158_block,
            config.byzantium_block,
            config.constantinople_block,
            config.petersburg_block,
            config.istanbul_block,
            config.berlin_block,
            config.london_block,
            config.merge_netsplit_block,
        ]
        .into_iter()
        .flatten()
        .chain(config.contract_upgrades.iter().map(|u| u.block))
        .filter(|b| *b > 0)
        .collect();
        blocks.sort_unstable();
        blocks.dedup();
        let mut times: Vec<u64> =
            [config.shanghai_time, config.cancun_time, config.prague_time, config.osaka_time]
                .into_iter()
                .flatten()
                .filter(|t| *t > genesis_time)
                .collect();
        times.sort_unstable();
        times.dedup();
        let by_block = blocks.len();
        let mut forks = blocks;
        forks.extend(times);
        let mut sums = vec![crc32fast::hash(genesis.as_slice())];
        for fork in &forks {
            let mut hasher = crc32fast::Hasher::new_with_initial(*sums.last().unwrap_or(&0));
            hasher.update(&fork.to_be_bytes());
            sums.push(hasher.finalize());
        }
        forks.push(u64::MAX);
        Self { forks, by_block, sums }
    }

    /// The first fork not passed at (`number`, `time`), its index.
    fn next_index(&self, number: u64, time: u64) -> usize {
        self.forks
            .iter()
            .enumerate()
            .position(|(i, fork)| (if i < self.by_block { number } else { time }) < *fork)
            .unwrap_or(self.forks.len() - 1)
    }

    /// This board's fork id with its head at (`number`, `time`).
    pub fn id(&self, number: u64, time: u64) -> ForkId {
        let i = self.next_index(number, time);
        let next = self.forks[i];
        ForkId { hash: self.sums[i], next: if next == u64::MAX { 0 } else { next } }
    }

    /// Checks a peer's id against this board's head at (`number`, `time`) (EIP-2124's rules).
    pub fn check(&self, number: u64, time: u64, id: ForkId) -> Result<ForkAgreement, ForkMismatch> {
        let i = self.next_index(number, time);
        let head = if i < self.by_block { number } else { time };
        let ours = self.id(number, time).next;
        if self.sums[i] == id.hash {
            // Same forks passed: a fork the peer schedules that this board already passed
            // without knowing of it means this board is on the wrong side of it.
            if id.next > 0 && (head >= id.next || (fork_is_time(id.next) && time >= id.next)) {
                return Err(ForkMismatch::LocalIncompatibleOrStale);
            }
            return Ok(match (id.next, ours) {
                (theirs, ours) if theirs == ours => ForkAgreement::Same,
                (0, ours) => ForkAgreement::PeerLacks(ours),
                (theirs, _) => ForkAgreement::PeerSchedules(theirs),
            });
        }
        // The peer is behind: it must schedule the fork this board passed after its state.
        if let Some(j) = self.sums[..i].iter().position(|s| *s == id.hash) {
            return if self.forks[j] == id.next {
                Ok(ForkAgreement::Same)
            } else {
                Err(ForkMismatch::RemoteStale)
            };
        }
        // The peer is ahead on the same schedule: this board is still syncing.
        if self.sums[i + 1..].contains(&id.hash) {
            return Ok(ForkAgreement::Same);
        }
        Err(ForkMismatch::LocalIncompatibleOrStale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mainnet's fork ids from EIP-2124's test vectors (blocks up to Petersburg).
    #[test]
    fn mainnet_ids_match_eip_2124() {
        let config = ChainConfig {
            chain_id: 1,
            homestead_block: Some(1_150_000),
            dao_fork_block: Some(1_920_000),
            eip150_block: Some(2_463_000),
            eip155_block: Some(2_675_000),
            eip158_block: Some(2_675_000),
            byzantium_block: Some(4_370_000),
            constantinople_block: Some(7_280_000),
            petersburg_block: Some(7_280_000),
            ..Default::default()
        };
        let genesis: B256 =
            "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3".parse().unwrap();
        let filter = ForkFilter::new(&config, genesis, 0);
        let at = |n| filter.id(n, 0);
        assert_eq!(at(0), ForkId { hash: 0xfc64ec04, next: 1_150_000 });
        assert_eq!(at(1_149_999), ForkId { hash: 0xfc64ec04, next: 1_150_000 });
        assert_eq!(at(1_150_000), ForkId { hash: 0x97c2c34c, next: 1_920_000 });
        assert_eq!(at(1_920_000), ForkId { hash: 0x91d1f948, next: 2_463_000 });
        assert_eq!(at(2_463_000), ForkId { hash: 0x7a64da13, next: 2_675_000 });
        assert_eq!(at(2_675_000), ForkId { hash: 0x3edd5b10, next: 4_370_000 });
        assert_eq!(at(4_370_000), ForkId { hash: 0xa00bc324, next: 7_280_000 });
        assert_eq!(at(7_280_000), ForkId { hash: 0x668db0af, next: 0 });
    }

    fn london_chain(prague: Option<u64>) -> ForkFilter {
        let config = ChainConfig {
            chain_id: 69,
            london_block: Some(0),
            shanghai_time: prague,
            cancun_time: prague,
            prague_time: prague,
            ..Default::default()
        };
        ForkFilter::new(&config, B256::repeat_byte(7), 1_700_000_000)
    }

    #[test]
    fn a_board_without_the_upgrade_learns_of_it_then_refuses_peers_past_it() {
        let t = 1_800_000_000;
        let (old, new) = (london_chain(None), london_chain(Some(t)));
        // Before the upgrade both have passed the same forks.
        let new_id = new.id(10, t - 100);
        assert_eq!(old.check(10, t - 100, new_id), Ok(ForkAgreement::PeerSchedules(t)));
        assert_eq!(new.check(10, t - 100, old.id(10, t - 100)), Ok(ForkAgreement::PeerLacks(t)));
        // Once past it, the upgraded board's id says a fork the old one lacks has passed.
        let new_after = new.id(20, t + 5);
        assert_ne!(new_after.hash, old.id(20, t + 5).hash);
        assert_eq!(old.check(20, t + 5, new_after), Err(ForkMismatch::LocalIncompatibleOrStale));
        assert_eq!(new.check(20, t + 5, old.id(20, t + 5)), Err(ForkMismatch::RemoteStale));
        // A board still before the fork, on the same schedule, is fine either way.
        assert_eq!(new.check(20, t + 5, new.id(10, t - 100)), Ok(ForkAgreement::Same));
        assert_eq!(new.check(10, t - 100, new_after), Ok(ForkAgreement::Same));
    }
}
