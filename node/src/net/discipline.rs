//! Peer discipline: a token bucket per peer and kind of message against flooding, and a score
//! that misbehaviour lowers. Messages over a bucket are dropped and cost a point; an invalid
//! block or a malformed message costs the whole score at once. At the floor the peer is banned.
//! The other way round, a peer that does not take what this board sends it (gossip it could
//! not be given: its queue full, or messages that waited there too long) is dropped once that
//! adds up to a whole queue's worth within a minute *and* it sent no gossip itself meanwhile: a
//! stalled link or a connection whose gossip gossipsub disabled (which then neither sends nor
//! reads) — not a busy board whose messages are late in a town's burst but still flow.

use libp2p::PeerId;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Gossip messages a peer may fail to take within [`SLOW_WINDOW`] before it is dropped: a full
/// queue's worth (a peer that stopped reading, or a connection whose gossip gossipsub disabled,
/// fails everything sent to it; a busy one, a few messages now and then).
pub(super) const SLOW_LIMIT: usize = super::protocol::GOSSIP_QUEUE;
/// The window over which a peer's failed messages add up.
pub(super) const SLOW_WINDOW: Duration = Duration::from_secs(60);

/// Score at which a peer is banned.
pub(super) const BAN_SCORE: i32 = -100;

/// What a peer sent us.
#[derive(Debug, Clone, Copy)]
pub(super) enum Traffic {
    /// A gossiped transaction.
    Tx,
    /// A gossiped block.
    Block,
    /// A sync request (status or blocks).
    Request,
}

impl Traffic {
    /// (burst, refill per second). Generous enough for an honest peer relaying a benchmark.
    fn budget(self) -> (f64, f64) {
        match self {
            Traffic::Tx => (20_000.0, 5_000.0),
            Traffic::Block => (1_000.0, 200.0),
            Traffic::Request => (100.0, 20.0),
        }
    }
}

/// What to do with a message.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Handle it.
    Accept,
    /// Drop it (over budget), the peer stays.
    Drop,
    /// Ban the peer.
    Ban,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Default)]
struct Peer {
    score: i32,
    buckets: [Option<Bucket>; 3],
    /// Gossip it failed to take since the start of the current window.
    failed: Option<(Instant, usize)>,
    /// When it last sent gossip.
    heard: Option<Instant>,
}

/// Scores and budgets of connected peers.
#[derive(Default)]
pub(super) struct Discipline {
    peers: HashMap<PeerId, Peer>,
}

impl Discipline {
    /// Accounts for one message of `kind` from `peer` at `now`.
    pub(super) fn admit(&mut self, peer: PeerId, kind: Traffic, now: Instant) -> Verdict {
        let state = self.peers.entry(peer).or_default();
        if !matches!(kind, Traffic::Request) {
            state.heard = Some(now);
        }
        let (burst, rate) = kind.budget();
        let bucket = state.buckets[kind as usize].get_or_insert(Bucket { tokens: burst, at: now });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Verdict::Accept;
        }
        self.penalise(peer, 1)
    }

    /// Lowers `peer`'s score by `points`.
    pub(super) fn penalise(&mut self, peer: PeerId, points: i32) -> Verdict {
        let state = self.peers.entry(peer).or_default();
        state.score = state.score.saturating_sub(points);
        if state.score <= BAN_SCORE {
            self.peers.remove(&peer);
            Verdict::Ban
        } else {
            Verdict::Drop
        }
    }

    /// Accounts for `count` gossip messages `peer` failed to take (gossipsub's `SlowPeer`);
    /// returns whether it is now too slow to keep: a queue's worth failed within the window,
    /// and no gossip heard from it since the window began.
    pub(super) fn slow(&mut self, peer: PeerId, count: usize, now: Instant) -> bool {
        let state = self.peers.entry(peer).or_default();
        let (since, failed) = match state.failed {
            Some((since, failed)) if now.saturating_duration_since(since) < SLOW_WINDOW => {
                (since, failed + count)
            }
            _ => (now, count),
        };
        state.failed = Some((since, failed));
        failed >= SLOW_LIMIT && state.heard.is_none_or(|heard| heard < since)
    }

    /// Forgets a disconnected peer (a reconnecting flooder starts from a full bucket but keeps
    /// nothing else: bans are kept by the caller).
    pub(super) fn forget(&mut self, peer: &PeerId) {
        self.peers.remove(peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_steady_peer_is_never_dropped() {
        let (mut d, peer, start) = (Discipline::default(), PeerId::random(), Instant::now());
        // 100 blocks a second (a period-0 chain under load) for a minute: under the refill rate.
        for i in 0..6000u64 {
            let now = start + Duration::from_millis(i * 10);
            assert_eq!(d.admit(peer, Traffic::Block, now), Verdict::Accept);
        }
    }

    #[test]
    fn a_flood_is_dropped_then_banned_and_other_peers_are_untouched() {
        let (mut d, flooder, honest, now) =
            (Discipline::default(), PeerId::random(), PeerId::random(), Instant::now());
        let verdicts: Vec<_> = (0..400).map(|_| d.admit(flooder, Traffic::Request, now)).collect();
        assert!(verdicts[..100].iter().all(|v| *v == Verdict::Accept), "the burst is allowed");
        assert!(verdicts[100..199].iter().all(|v| *v == Verdict::Drop));
        assert_eq!(verdicts[199], Verdict::Ban, "100 messages over budget reach the ban score");
        assert_eq!(d.admit(honest, Traffic::Request, now), Verdict::Accept);
    }

    #[test]
    fn a_peer_that_fails_a_queue_of_gossip_in_a_minute_is_too_slow_a_busy_one_is_not() {
        let (mut d, busy, stalled, start) =
            (Discipline::default(), PeerId::random(), PeerId::random(), Instant::now());
        // A busy board: a dozen late messages every heartbeat (0.5 s) for ten minutes... but
        // only in bursts of 10 s a minute, as a town's interval bursts.
        for i in 0..1200u64 {
            let now = start + Duration::from_millis(i * 500);
            let late = if i % 120 < 20 { 12 } else { 0 };
            if late > 0 {
                assert!(!d.slow(busy, late, now), "busy at heartbeat {i}");
            }
        }
        // Another busy one: everything sent to it is late, but its own gossip still arrives.
        let late = PeerId::random();
        for i in 0..200u64 {
            let now = start + Duration::from_millis(i * 500);
            assert_eq!(d.admit(late, Traffic::Tx, now), Verdict::Accept);
            assert!(!d.slow(late, 30, now), "it still gossips, at heartbeat {i}");
        }
        // A stalled one: everything sent to it fails, 30 messages a heartbeat.
        let dropped_at = (0..200u64)
            .position(|i| d.slow(stalled, 30, start + Duration::from_millis(i * 500)))
            .expect("dropped");
        assert_eq!(dropped_at, SLOW_LIMIT.div_ceil(30) - 1);
        // Forgotten on disconnect: a reconnection starts afresh.
        d.forget(&stalled);
        assert!(!d.slow(stalled, 30, start));
    }

    #[test]
    fn one_invalid_block_bans_at_once_and_kinds_have_separate_budgets() {
        let (mut d, peer, now) = (Discipline::default(), PeerId::random(), Instant::now());
        for _ in 0..1000 {
            assert_eq!(d.admit(peer, Traffic::Block, now), Verdict::Accept);
        }
        assert_eq!(d.admit(peer, Traffic::Block, now), Verdict::Drop);
        assert_eq!(d.admit(peer, Traffic::Tx, now), Verdict::Accept);
        assert_eq!(d.penalise(peer, -BAN_SCORE), Verdict::Ban);
    }
}
