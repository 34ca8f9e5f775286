//! Boards find each other from any one they know: every board asks the boards of its chain it is
//! connected to which others they know (peer exchange over the sync protocol), remembers them in
//! its peer book, and dials enough of them — every signer it hears of, and others up to a bound.
//! A board only passes on boards whose status matched the chain, only to boards that did too, so
//! a board of another community neither learns ours nor gets itself passed on. Bans, allow-lists
//! and `--p2p.static-only` apply to every dial (`gate`). Also: the peer table the RPC reads.

use super::peer_book::usable;
use super::protocol::{signer_proof_hash, PeerRecord, SyncRequest, SyncResponse};
use super::{gate, Net};
use crate::node::PeerInfo;
use crate::primitives::{Address, Signature};
use libp2p::{Multiaddr, PeerId};
use std::time::Instant;

/// The slowest status answer whose time still reads a peer's clock.
const CLOCK_SAMPLE_RTT: std::time::Duration = std::time::Duration::from_secs(2);

/// This board's wall clock, ms since the epoch.
fn unix_now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A peer's clock minus ours, s: its time `peer_s` (whole seconds) against ours at the middle of
/// the round trip that ended at `now_ms`.
fn clock_offset(peer_s: u64, now_ms: i64, rtt: std::time::Duration) -> i64 {
    let peer_ms = i64::try_from(peer_s).unwrap_or(i64::MAX / 1000).saturating_mul(1000) + 500;
    let half = i64::try_from(rtt.as_millis() / 2).unwrap_or(0);
    let ms = peer_ms.saturating_sub(now_ms.saturating_sub(half));
    // Rounded to the nearest second.
    (ms + ms.signum() * 500) / 1000
}

/// Status rounds (2 s each) between two peer exchanges.
const EXCHANGE_EVERY: u64 = 5;
/// Status rounds between two writes of the peer book when only last-seen times changed (5 min;
/// new boards are written at the next round).
const SAVE_EVERY: u64 = 150;
/// Boards dialled at once, at most.
const DIALS_PER_ROUND: usize = 8;
/// Connections sought to boards that are not signers (signers: all of them).
const OTHERS: usize = 8;
/// Most static peers (flags, static-nodes.json and `admin_addPeer` together).
const MAX_STATIC: usize = 256;

impl Net {
    /// This board's proof of the signer it seals for, sent with its status.
    pub(super) fn signer_proof(&self) -> Option<(Address, String)> {
        let local = *self.swarm.local_peer_id();
        let (address, signature) = self.node.sign_as_signer(&signer_proof_hash(&local))?;
        Some((address, hex::encode(signature.to_bytes())))
    }

    /// The signer a peer proved, if it is one of the chain's signers now.
    pub(super) fn proven_signer(
        &self,
        peer: &PeerId,
        proof: Option<&(Address, String)>,
    ) -> Option<Address> {
        let (address, signature) = proof?;
        let bytes: [u8; 65] = hex::decode(signature).ok()?.try_into().ok()?;
        let recovered =
            Signature::from_bytes(&bytes).ok()?.recover(&signer_proof_hash(peer)).ok()?;
        let signers = self.node.snapshot(None).ok()?.signers;
        (recovered == *address && signers.contains(address)).then_some(*address)
    }

    /// A peer's listen addresses (from `identify`).
    /// Only a board whose status matched this chain enters the peer book: until then (or for
    /// good, for a board of another chain) its addresses wait beside its connection.
    pub(super) fn on_listen_addrs(&mut self, peer: PeerId, addrs: &[Multiaddr]) {
        if !self.verified.contains(&peer) {
            let addrs = addrs.iter().take(super::protocol::MAX_ADDRS_PER_PEER).cloned().collect();
            self.listen_pending.insert(peer, addrs);
            return;
        }
        // Identify may answer after the status: the board is verified already.
        let loopback = self.addresses.get(&peer).is_some_and(|ip| ip.is_loopback());
        self.book.observed(peer, addrs, loopback);
        let signer = self.signers.get(&peer).copied();
        self.book.verified(peer, signer);
    }

    /// A peer's status matched this chain.
    pub(super) fn on_verified(&mut self, peer: PeerId, head: u64, signer: Option<Address>) {
        self.verified.insert(peer);
        if let Some(addrs) = self.listen_pending.remove(&peer) {
            let loopback = self.addresses.get(&peer).is_some_and(|ip| ip.is_loopback());
            self.book.observed(peer, &addrs, loopback);
        }
        self.heads.insert(peer, head);
        match signer {
            Some(s) => self.signers.insert(peer, s),
            None => self.signers.remove(&peer),
        };
        self.book.verified(peer, signer);
        self.publish_peers();
    }

    /// What a peer asking for boards is told: nothing unless it is on this chain.
    pub(super) fn answer_peers(&self, asker: &PeerId) -> SyncResponse {
        if !self.verified.contains(asker) || !self.config.discover {
            return SyncResponse::Peers(vec![]);
        }
        SyncResponse::Peers(self.book.shareable(asker, &self.verified))
    }

    /// Boards a peer passed on (kept only from peers on this chain).
    pub(super) fn on_peers(&mut self, from: PeerId, records: &[PeerRecord]) {
        if !self.verified.contains(&from) || !self.config.discover {
            return;
        }
        let loopback = self.addresses.get(&from).is_some_and(|ip| ip.is_loopback());
        let local = *self.swarm.local_peer_id();
        self.book.learn(records, loopback, &local);
    }

    /// One status round of discovery: peers queued by operators, exchanges, dials, saving.
    pub(super) fn discovery_round(&mut self) {
        self.round += 1;
        for entry in self.node.peer_table().take_queued() {
            match super::identity::parse_peer(&entry) {
                Ok((peer, addr)) if self.config.peers.len() < MAX_STATIC => {
                    if !self.config.peers.iter().any(|(p, _)| *p == peer) {
                        self.config.peers.push((peer, addr));
                    }
                }
                Ok(_) => {
                    tracing::warn!(target: "daisee::net", "admin_addPeer {entry}: {MAX_STATIC} static peers already")
                }
                Err(e) => tracing::warn!(target: "daisee::net", "admin_addPeer {entry}: {e}"),
            }
        }
        if !self.config.discover {
            return;
        }
        if self.round.is_multiple_of(EXCHANGE_EVERY) {
            let verified: Vec<PeerId> = self.verified.iter().copied().collect();
            for peer in verified {
                self.swarm.behaviour_mut().sync.send_request(&peer, SyncRequest::Peers);
            }
        }
        self.dial_known();
        if self.book.has_news() || self.round.is_multiple_of(SAVE_EVERY) {
            self.book.prune(crate::node::unix_now());
            self.book.save();
        }
    }

    /// Dials remembered boards: every signer, and others while fewer than [`OTHERS`] are connected.
    fn dial_known(&mut self) {
        let now = Instant::now();
        let connected = self.connected.len();
        if connected >= self.config.max_peers {
            return;
        }
        let others_wanted = connected < OTHERS.min(self.config.max_peers);
        let candidates = self.book.candidates(&self.connected, now);
        let mut dialled = 0;
        for (peer, addrs, signer) in candidates {
            if dialled == DIALS_PER_ROUND || (!signer && !others_wanted) {
                break;
            }
            let addrs: Vec<Multiaddr> = addrs
                .into_iter()
                .filter(|a| {
                    usable(a, true) && self.gate.refuses(&peer, gate::ip_of(a), now).is_none()
                })
                .collect();
            if addrs.is_empty() || peer == *self.swarm.local_peer_id() {
                continue;
            }
            self.book.dialling(peer, now);
            let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer).addresses(addrs).build();
            match self.swarm.dial(opts) {
                Ok(()) => dialled += 1,
                Err(e) => tracing::debug!(target: "daisee::net", %peer, "dial (discovered): {e}"),
            }
        }
    }

    /// Forgets what was known of a peer that left.
    pub(super) fn on_gone(&mut self, peer: &PeerId) {
        self.listen_pending.remove(peer);
        self.clock_offsets.remove(peer);
        self.status_asked.retain(|_, (asked, _)| asked != peer);
        self.publish_clock();
        self.verified.remove(peer);
        self.heads.remove(peer);
        self.signers.remove(peer);
        self.inbound.remove(peer);
        self.publish_peers();
    }

    /// A peer's clock, as its status said, minus ours at the middle of the round trip (NTP's
    /// estimate; the status carries whole seconds, so their time is taken at the middle of its
    /// second). An answer slower than [`CLOCK_SAMPLE_RTT`] says little of the clock — a loaded
    /// board or link delays it, and a board would read its own clock as ahead and stop sealing
    /// (seen with 50 boards on 2 cores): it is left out and the last good reading stays.
    /// `asked` is when this very request left (an answer to an earlier request, arriving after
    /// a later one was sent, used to be timed from the later one: a slow peer's old time then
    /// read as this board's clock being seconds ahead).
    pub(super) fn on_peer_time(&mut self, peer: PeerId, time: Option<u64>, asked: Option<Instant>) {
        let rtt = asked.map(|asked| asked.elapsed());
        match time {
            Some(t) => {
                let Some(rtt) = rtt.filter(|r| *r <= CLOCK_SAMPLE_RTT) else {
                    return;
                };
                self.clock_offsets.insert(peer, clock_offset(t, unix_now_ms(), rtt));
            }
            None => {
                self.clock_offsets.remove(&peer);
            }
        }
        self.publish_clock();
    }

    /// The median of the peers' clock offsets, for the node's clock report.
    fn publish_clock(&self) {
        let mut offsets: Vec<i64> = self.clock_offsets.values().copied().collect();
        offsets.sort_unstable();
        let median = (!offsets.is_empty()).then(|| offsets[offsets.len() / 2]);
        self.node.set_peers_clock_offset(median);
    }

    /// Writes the connected peers where the RPC reads them.
    pub(super) fn publish_peers(&self) {
        let peers = self
            .connected
            .iter()
            .map(|p| PeerInfo {
                id: p.to_string(),
                remote_address: self.addresses.get(p).map(ToString::to_string).unwrap_or_default(),
                inbound: self.inbound.contains(p),
                verified: self.verified.contains(p),
                signer: self.signers.get(p).copied(),
                head: self.heads.get(p).copied(),
            })
            .collect();
        self.node.peer_table().set_peers(peers);
    }

    /// The status this board gives.
    pub(super) fn status(&self) -> SyncResponse {
        let head = self.node.head();
        let hash = head.hash();
        let td = self.node.store().total_difficulty(&hash).ok().flatten().unwrap_or_default();
        SyncResponse::Status {
            genesis: self.node.store().genesis_hash().unwrap_or_default(),
            network_id: self.node.chain_id(),
            head: head.number,
            hash,
            total_difficulty: td.to_string(),
            signer: self.proof.clone(),
            time: Some(crate::node::unix_now()),
            fork_id: Some(self.node.fork_id()),
        }
    }
}

#[cfg(test)]
mod clock_tests {
    use super::clock_offset;
    use std::time::Duration;

    #[test]
    fn a_peers_clock_is_read_at_the_middle_of_the_round_trip() {
        let now_ms = 1_800_000_000_750;
        let fast = Duration::from_millis(100);
        assert_eq!(clock_offset(1_800_000_000, now_ms, fast), 0, "the same clock");
        assert_eq!(clock_offset(1_800_000_007, now_ms, fast), 7, "7 s ahead");
        assert_eq!(clock_offset(1_799_999_991, now_ms, fast), -9, "9 s behind");
        // An answer that took 1.9 s was made about 1 s before it arrived: the same clock.
        let slow = Duration::from_millis(1_900);
        assert_eq!(clock_offset(1_799_999_999, now_ms, slow), 0);
        // Read without the round trip, that answer would have said 1 s behind.
        assert_eq!(clock_offset(1_799_999_999, now_ms, Duration::ZERO), -1);
        // A forged time at either end of the range saturates; nothing overflows.
        assert!(clock_offset(u64::MAX, now_ms, fast) > 1_000_000_000_000);
        assert!(clock_offset(0, now_ms, Duration::MAX) < -1_000_000_000);
    }
}
