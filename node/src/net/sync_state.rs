//! What sync asks next: one range of blocks at a time, from just after this board's head; when
//! a peer's blocks do not connect (a fork below the head) the next request starts further back
//! (16, 128, 1,024 … blocks); a range that connects is followed by the next one from the same
//! peer until it has nothing more (an answer is bounded in bytes, so a range of known blocks
//! may end before the fork it was asked to reach). A head one block ahead of this board's is
//! left to gossip for [`GOSSIP_GRACE`] before it is fetched. Pure bookkeeping, no I/O.

use crate::primitives::B256;
use libp2p::PeerId;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long a head one block ahead of this board's is left to gossip before sync fetches it.
pub(super) const GOSSIP_GRACE: Duration = Duration::from_millis(1_500);
/// How long an unknown head a peer told is remembered, and how many at most.
const UNKNOWN_HEAD_MEMORY: Duration = Duration::from_secs(60);
const MAX_UNKNOWN_HEADS: usize = 1_024;
/// The furthest back a request starts below the head (then sync starts again from the head).
const MAX_REWIND: u64 = 1 << 16;

/// A request in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Asked {
    /// Of whom.
    pub(super) peer: PeerId,
    /// Its first block number.
    pub(super) from: u64,
    /// Whether it follows a range that connected (an empty answer then means "nothing more").
    pub(super) walking: bool,
}

/// What came of one answer's blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// No blocks.
    Empty,
    /// The first block's parent is unknown here.
    NotConnected,
    /// Every block went in (imported or known); `last` is the last one's number.
    Through { last: u64 },
    /// Import stopped partway (a block from this board's future, an upgrade, a peer that
    /// reorganised meanwhile): the next status starts again.
    Stopped,
}

/// The state of catching up.
#[derive(Default)]
pub(super) struct SyncState {
    asked: Option<Asked>,
    /// How many blocks below the head the next fresh request starts (0: just after the head).
    rewind: u64,
    /// Heads peers told that this board lacks, and when each was first told.
    unknown_heads: HashMap<B256, Instant>,
}

impl SyncState {
    /// Whether a peer's head `ahead` blocks past ours, lacking here, is fetched now.
    pub(super) fn fetch_now(&mut self, hash: B256, ahead: u64, now: Instant) -> bool {
        if self.unknown_heads.len() >= MAX_UNKNOWN_HEADS {
            self.unknown_heads.clear();
        }
        let first = *self.unknown_heads.entry(hash).or_insert(now);
        self.asked.is_none() && (ahead > 1 || now.saturating_duration_since(first) >= GOSSIP_GRACE)
    }

    /// A fresh request to `peer` on a head at `head`, unless one is in flight.
    pub(super) fn start(&mut self, peer: PeerId, head: u64) -> Option<Asked> {
        if self.asked.is_some() {
            return None;
        }
        let from = (head + 1).saturating_sub(self.rewind).max(1);
        Some(*self.asked.insert(Asked { peer, from, walking: false }))
    }

    /// The request `peer` answered (or failed), taken out of flight.
    pub(super) fn take(&mut self, peer: &PeerId) -> Option<Asked> {
        self.asked.take_if(|a| a.peer == *peer)
    }

    /// The request to send after `asked` came back with `outcome`, the head now at `head`.
    pub(super) fn next(&mut self, asked: Asked, outcome: Outcome, head: u64) -> Option<Asked> {
        let from = match outcome {
            Outcome::Through { last } if last >= asked.from => {
                self.rewind = 0;
                return Some(*self.asked.insert(Asked { from: last + 1, walking: true, ..asked }));
            }
            Outcome::Empty if asked.walking => None,
            Outcome::Empty | Outcome::NotConnected => {
                self.deeper(head).map(|rewind| (head + 1).saturating_sub(rewind).max(1))
            }
            Outcome::Through { .. } | Outcome::Stopped => None,
        };
        match from {
            Some(from) => Some(*self.asked.insert(Asked { from, walking: false, ..asked })),
            None => {
                self.rewind = 0;
                None
            }
        }
    }

    /// The next rewind after a range that did not connect, or `None` once it reached genesis.
    fn deeper(&mut self, head: u64) -> Option<u64> {
        let next = match self.rewind {
            0 => 16,
            r => r.saturating_mul(8),
        };
        if self.rewind >= head || next > MAX_REWIND {
            return None;
        }
        self.rewind = next.min(head);
        Some(self.rewind)
    }

    /// Forgets unknown heads told long ago.
    pub(super) fn expire(&mut self, now: Instant) {
        self.unknown_heads.retain(|_, at| now.saturating_duration_since(*at) < UNKNOWN_HEAD_MEMORY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer of `peer` to the request in flight came back with `outcome`.
    fn answer(s: &mut SyncState, peer: &PeerId, outcome: Outcome, head: u64) -> Option<Asked> {
        let asked = s.take(peer).expect("a request in flight");
        s.next(asked, outcome, head)
    }

    #[test]
    fn a_head_one_block_ahead_waits_for_gossip_and_a_farther_one_is_fetched_at_once() {
        let (mut s, now, hash) = (SyncState::default(), Instant::now(), B256::repeat_byte(1));
        assert!(!s.fetch_now(hash, 1, now), "gossip may still bring it");
        assert!(!s.fetch_now(hash, 1, now + GOSSIP_GRACE / 2));
        assert!(s.fetch_now(hash, 1, now + GOSSIP_GRACE), "gossip did not bring it");
        assert!(s.fetch_now(B256::repeat_byte(2), 2, now), "two blocks behind: fetched now");
        s.start(PeerId::random(), 10).unwrap();
        assert!(!s.fetch_now(B256::repeat_byte(2), 5, now), "one request at a time");
        assert_eq!(s.start(PeerId::random(), 10), None);
        s.expire(now + UNKNOWN_HEAD_MEMORY);
        assert!(s.unknown_heads.is_empty());
    }

    #[test]
    fn a_range_that_connects_is_followed_until_the_peer_has_nothing_more() {
        let (mut s, peer) = (SyncState::default(), PeerId::random());
        let asked = s.start(peer, 100).unwrap();
        assert_eq!(asked.from, 101);
        assert_eq!(s.take(&PeerId::random()), None, "another peer's answer is not this one");
        let asked = s.take(&peer).unwrap();
        let next = s.next(asked, Outcome::Through { last: 140 }, 140).unwrap();
        assert_eq!((next.from, next.walking), (141, true));
        let next = answer(&mut s, &peer, Outcome::Empty, 140);
        assert_eq!(next, None, "the peer's head reached");
        assert!(s.start(peer, 140).is_some(), "free for the next status");
    }

    #[test]
    fn a_fork_below_the_head_is_reached_through_known_blocks_however_big_they_are() {
        let (mut s, peer) = (SyncState::default(), PeerId::random());
        // Our head 112 on a fork from 109; the peer's blocks after 112 do not connect.
        s.start(peer, 112).unwrap();
        let asked = answer(&mut s, &peer, Outcome::NotConnected, 112).unwrap();
        assert_eq!((asked.from, asked.walking), (97, false));
        // The answer, bounded in bytes, held only known blocks 97..=105: the walk goes on from
        // 106 rather than asking 97 again (which stalled a board of the town bed for good).
        let asked = answer(&mut s, &peer, Outcome::Through { last: 105 }, 112).unwrap();
        assert_eq!((asked.from, asked.walking), (106, true));
        let asked = answer(&mut s, &peer, Outcome::Through { last: 130 }, 130).unwrap();
        assert_eq!(asked.from, 131);
        assert_eq!(answer(&mut s, &peer, Outcome::Empty, 130), None);
        assert_eq!(s.start(peer, 130).unwrap().from, 131, "the rewind is over");
    }

    #[test]
    fn a_peer_on_a_fork_from_genesis_is_asked_back_to_genesis_then_left() {
        let (mut s, peer) = (SyncState::default(), PeerId::random());
        let mut froms = vec![s.start(peer, 10_000).unwrap().from];
        while let Some(next) = answer(&mut s, &peer, Outcome::NotConnected, 10_000) {
            froms.push(next.from);
        }
        assert_eq!(froms, [10_001, 9_985, 9_873, 8_977, 1_809, 1]);
        assert_eq!(s.start(peer, 10_000).unwrap().from, 10_001, "the next status starts afresh");
    }

    #[test]
    fn an_answer_that_goes_backwards_ends_the_walk() {
        let (mut s, peer) = (SyncState::default(), PeerId::random());
        s.start(peer, 50).unwrap();
        let asked = s.take(&peer).unwrap();
        assert_eq!(s.next(asked, Outcome::Through { last: 3 }, 50), None);
        assert_eq!(s.next(asked, Outcome::Stopped, 50), None);
    }

    #[test]
    fn unknown_heads_stay_bounded() {
        let (mut s, now) = (SyncState::default(), Instant::now());
        for i in 0..(3 * MAX_UNKNOWN_HEADS as u64) {
            s.fetch_now(B256::left_padding_from(&i.to_be_bytes()), 1, now);
        }
        assert!(s.unknown_heads.len() <= MAX_UNKNOWN_HEADS);
    }
}
