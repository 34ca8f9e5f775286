//! The boards this board knows of on its chain: where they listen, the signer they proved, when
//! they were last connected and how often dialling them failed. Learned from connections (their
//! listen addresses come with `identify`) and from other boards (peer exchange); only boards whose
//! status matched this chain are *verified*, and only verified boards are passed on. Remembered in
//! `<datadir>/daisee/peers.json`, so a board that restarts while its bootnode is down still finds
//! the rest. Bounded ([`MAX_KNOWN`]) and aged out ([`FORGET_AFTER`], [`MAX_FAILURES`]).

use super::protocol::{PeerRecord, MAX_ADDRS_PER_PEER, MAX_PEERS_PER_ANSWER};
use crate::node::unix_now;
use crate::primitives::Address;
use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Most boards remembered.
pub(crate) const MAX_KNOWN: usize = 512;
/// A board not connected for this long is forgotten (s).
pub(crate) const FORGET_AFTER: u64 = 30 * 86_400;
/// A board learned from others but never reached is forgotten after this long (s).
const UNVERIFIED_FOR: u64 = 86_400;
/// Failed dials in a row after which a board is forgotten.
pub(crate) const MAX_FAILURES: u32 = 8;
/// Largest peers file read at start.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// One remembered board.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Known {
    /// Where it listens.
    pub(crate) addrs: Vec<String>,
    /// The signer it proved it seals for.
    #[serde(default)]
    pub(crate) signer: Option<Address>,
    /// Its status matched this chain.
    #[serde(default)]
    pub(crate) verified: bool,
    /// Last connected (unix s; 0: never).
    #[serde(default)]
    pub(crate) last_seen: u64,
    /// When it was first heard of (unix s).
    #[serde(default)]
    pub(crate) learned: u64,
    /// Failed dials in a row.
    #[serde(default)]
    pub(crate) failures: u32,
}

/// The remembered boards.
#[derive(Default)]
pub(crate) struct PeerBook {
    entries: HashMap<PeerId, Known>,
    path: Option<PathBuf>,
    /// Something changed since the last write (a last-seen time at least).
    dirty: bool,
    /// A board or an address is new since the last write: worth writing soon.
    news: bool,
    dialled: HashMap<PeerId, Instant>,
}

fn parse_addrs(addrs: &[String]) -> Vec<Multiaddr> {
    addrs.iter().filter_map(|a| a.parse().ok()).collect()
}

/// An address worth dialling or passing on: not unspecified, loopback only when `loopback_ok`.
pub(crate) fn usable(addr: &Multiaddr, loopback_ok: bool) -> bool {
    match super::gate::ip_of(addr) {
        Some(ip) => {
            !ip.is_unspecified() && !ip.is_multicast() && (loopback_ok || !ip.is_loopback())
        }
        None => false,
    }
}

impl PeerBook {
    /// The book kept in `path` (none: in memory only); an unreadable file starts an empty book.
    pub(crate) fn load(path: Option<PathBuf>) -> Self {
        let mut book = Self { path, ..Default::default() };
        let Some(path) = &book.path else { return book };
        let read = std::fs::metadata(path)
            .ok()
            .filter(|m| m.len() <= MAX_FILE_BYTES)
            .and_then(|_| std::fs::read(path).ok());
        if let Some(bytes) = read {
            match serde_json::from_slice::<HashMap<String, Known>>(&bytes) {
                Ok(entries) => {
                    for (peer, mut known) in entries {
                        let Ok(peer) = peer.parse::<PeerId>() else { continue };
                        known.addrs.truncate(MAX_ADDRS_PER_PEER);
                        book.entries.insert(peer, known);
                    }
                }
                Err(e) => tracing::warn!(target: "daisee::net", "ignoring {}: {e}", path.display()),
            }
        }
        book.prune(unix_now());
        book
    }

    /// Whether there is news worth writing now (new boards or addresses); last-seen times
    /// alone wait for the periodic write, to spare a board's SD card.
    pub(crate) fn has_news(&self) -> bool {
        self.news
    }

    /// Writes the book if it changed (atomically: a temporary file renamed over the old one).
    pub(crate) fn save(&mut self) {
        let Some(path) = &self.path else { return };
        if !self.dirty {
            return;
        }
        let entries: HashMap<String, &Known> =
            self.entries.iter().map(|(p, k)| (p.to_string(), k)).collect();
        let tmp = path.with_extension("json.tmp");
        let written = serde_json::to_vec_pretty(&entries)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, path));
        match written {
            Ok(()) => (self.dirty, self.news) = (false, false),
            Err(e) => tracing::warn!(target: "daisee::net", "cannot write {}: {e}", path.display()),
        }
    }

    /// A board's listen addresses, as it told us (`identify`) — loopback kept only for a board
    /// connected over loopback.
    pub(crate) fn observed(&mut self, peer: PeerId, addrs: &[Multiaddr], loopback_ok: bool) {
        let addrs: Vec<String> = addrs
            .iter()
            .filter(|a| usable(a, loopback_ok))
            .take(MAX_ADDRS_PER_PEER)
            .map(ToString::to_string)
            .collect();
        if addrs.is_empty() {
            return;
        }
        let now = unix_now();
        let known = self.entries.entry(peer).or_insert_with(|| Known {
            addrs: vec![],
            signer: None,
            verified: false,
            last_seen: 0,
            learned: now,
            failures: 0,
        });
        if known.addrs != addrs {
            known.addrs = addrs;
            (self.dirty, self.news) = (true, true);
        }
        self.bound();
    }

    /// A board's status matched this chain: it is connected, verified, and `signer` if proved.
    pub(crate) fn verified(&mut self, peer: PeerId, signer: Option<Address>) {
        let now = unix_now();
        if let Some(known) = self.entries.get_mut(&peer) {
            self.news |= !known.verified || known.signer != signer;
            known.verified = true;
            known.signer = signer;
            known.failures = 0;
            known.last_seen = now;
            self.dirty = true;
        }
    }

    /// Boards another verified board passed on (unverified until we reach them ourselves).
    pub(crate) fn learn(&mut self, records: &[PeerRecord], loopback_ok: bool, local: &PeerId) {
        let now = unix_now();
        for record in records.iter().take(MAX_PEERS_PER_ANSWER) {
            let Ok(peer) = record.peer.parse::<PeerId>() else { continue };
            if &peer == local || self.entries.contains_key(&peer) {
                continue;
            }
            let addrs: Vec<String> = parse_addrs(&record.addrs)
                .into_iter()
                .filter(|a| usable(a, loopback_ok))
                .take(MAX_ADDRS_PER_PEER)
                .map(|a| a.to_string())
                .collect();
            if addrs.is_empty() {
                continue;
            }
            let known = Known {
                addrs,
                signer: record.signer,
                verified: false,
                last_seen: 0,
                learned: now,
                failures: 0,
            };
            self.entries.insert(peer, known);
            (self.dirty, self.news) = (true, true);
        }
        self.bound();
    }

    /// Dialling `peer` failed.
    pub(crate) fn failed(&mut self, peer: &PeerId) {
        if let Some(known) = self.entries.get_mut(peer) {
            known.failures += 1;
            self.dirty = true;
            if known.failures >= MAX_FAILURES {
                self.entries.remove(peer);
            }
        }
    }

    /// Forgets `peer` (another chain, banned).
    pub(crate) fn forget(&mut self, peer: &PeerId) {
        if self.entries.remove(peer).is_some() {
            self.dirty = true;
        }
    }

    /// What to tell a board that asks: verified boards, most recently seen first.
    pub(crate) fn shareable(&self, asker: &PeerId, connected: &HashSet<PeerId>) -> Vec<PeerRecord> {
        let now = unix_now();
        let mut list: Vec<(&PeerId, &Known)> = self
            .entries
            .iter()
            .filter(|(p, k)| {
                *p != asker
                    && k.verified
                    && (connected.contains(*p) || now.saturating_sub(k.last_seen) < FORGET_AFTER)
            })
            .collect();
        list.sort_by_key(|(p, k)| {
            (!connected.contains(*p), k.signer.is_none(), std::cmp::Reverse(k.last_seen))
        });
        list.into_iter()
            .take(MAX_PEERS_PER_ANSWER)
            .map(|(p, k)| PeerRecord {
                peer: p.to_string(),
                addrs: k.addrs.clone(),
                signer: k.signer,
            })
            .collect()
    }

    /// Boards to dial now, best first (signers, then verified, then the most recently seen),
    /// each at most once per back-off (30 s, doubled per failure, at most 10 min).
    pub(crate) fn candidates(
        &mut self,
        connected: &HashSet<PeerId>,
        now: Instant,
    ) -> Vec<(PeerId, Vec<Multiaddr>, bool)> {
        let mut list: Vec<(&PeerId, &Known)> = self
            .entries
            .iter()
            .filter(|(p, k)| {
                let backoff =
                    Duration::from_secs(30 << k.failures.min(5)).min(Duration::from_secs(600));
                !connected.contains(*p)
                    && self.dialled.get(*p).is_none_or(|at| now.duration_since(*at) >= backoff)
            })
            .collect();
        list.sort_by_key(|(_, k)| {
            (k.signer.is_none(), !k.verified, std::cmp::Reverse(k.last_seen))
        });
        list.into_iter().map(|(p, k)| (*p, parse_addrs(&k.addrs), k.signer.is_some())).collect()
    }

    /// Notes a dial of `peer` (for the back-off).
    pub(crate) fn dialling(&mut self, peer: PeerId, now: Instant) {
        self.dialled.insert(peer, now);
    }

    /// The remembered entry of `peer`.
    #[cfg(test)]
    pub(crate) fn get(&self, peer: &PeerId) -> Option<&Known> {
        self.entries.get(peer)
    }

    /// How many boards are remembered.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Forgets boards not seen for too long.
    pub(crate) fn prune(&mut self, now: u64) {
        let before = self.entries.len();
        self.entries.retain(|_, k| {
            if k.verified {
                now.saturating_sub(k.last_seen) < FORGET_AFTER
            } else {
                now.saturating_sub(k.learned) < UNVERIFIED_FOR
            }
        });
        self.dirty |= self.entries.len() != before;
    }

    /// Keeps at most [`MAX_KNOWN`]: the unverified and least recently seen go first.
    fn bound(&mut self) {
        if self.entries.len() <= MAX_KNOWN {
            return;
        }
        let mut ranked: Vec<(PeerId, (bool, bool, u64))> = self
            .entries
            .iter()
            .map(|(p, k)| (*p, (k.signer.is_some(), k.verified, k.last_seen.max(k.learned))))
            .collect();
        ranked.sort_by_key(|(_, rank)| *rank);
        for (peer, _) in ranked.into_iter().take(self.entries.len() - MAX_KNOWN) {
            self.entries.remove(&peer);
        }
        self.dirty = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Multiaddr {
        s.parse().expect("multiaddr")
    }

    #[test]
    fn only_verified_boards_are_passed_on_and_the_book_survives_a_restart() {
        let dir = std::env::temp_dir().join(format!("daisee-peer-book-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("peers.json");
        let mut book = PeerBook::load(Some(path.clone()));
        let (a, b, c) = (PeerId::random(), PeerId::random(), PeerId::random());
        book.observed(
            a,
            &[addr("/ip4/10.0.0.2/tcp/30303"), addr("/ip4/127.0.0.1/tcp/30303")],
            false,
        );
        book.observed(b, &[addr("/ip4/0.0.0.0/tcp/30303")], false);
        assert!(book.get(&b).is_none(), "no usable address");
        book.observed(c, &[addr("/ip4/10.0.0.3/tcp/30303")], false);
        book.verified(a, Some(Address::repeat_byte(1)));
        let shared = book.shareable(&PeerId::random(), &HashSet::new());
        assert_eq!(shared.len(), 1, "c never proved it is on this chain");
        assert_eq!(shared[0].addrs, ["/ip4/10.0.0.2/tcp/30303"], "loopback is not passed on");
        assert_eq!(shared[0].signer, Some(Address::repeat_byte(1)));
        assert!(book.shareable(&a, &HashSet::new()).is_empty(), "a board is not told about itself");
        book.save();
        let again = PeerBook::load(Some(path.clone()));
        assert_eq!(again.get(&a), book.get(&a));
        let now = Instant::now();
        let mut again = again;
        let first = again.candidates(&HashSet::new(), now);
        assert_eq!(first[0].0, a, "signers first");
        for (peer, _, _) in &first {
            again.dialling(*peer, now);
        }
        assert!(again.candidates(&HashSet::new(), now).is_empty(), "backed off");
        for _ in 0..MAX_FAILURES {
            again.failed(&c);
        }
        assert!(again.get(&c).is_none(), "forgotten after repeated failures");
        std::fs::write(&path, b"{ not json").expect("write");
        assert_eq!(PeerBook::load(Some(path)).len(), 0, "a broken file starts an empty book");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_book_is_bounded_and_learned_boards_age_out() {
        let mut book = PeerBook::default();
        let local = PeerId::random();
        let records: Vec<PeerRecord> = (0..MAX_PEERS_PER_ANSWER + 10)
            .map(|i| PeerRecord {
                peer: PeerId::random().to_string(),
                addrs: vec![format!("/ip4/10.1.{}.{}/tcp/30303", i / 200, i % 200 + 1); 9],
                signer: None,
            })
            .collect();
        for _ in 0..(MAX_KNOWN / MAX_PEERS_PER_ANSWER + 2) {
            let fresh: Vec<PeerRecord> = records
                .iter()
                .map(|r| PeerRecord { peer: PeerId::random().to_string(), ..r.clone() })
                .collect();
            book.learn(&fresh, false, &local);
        }
        assert_eq!(book.len(), MAX_KNOWN);
        assert!(book.entries.values().all(|k| k.addrs.len() <= MAX_ADDRS_PER_PEER));
        book.prune(unix_now() + UNVERIFIED_FOR + 1);
        assert_eq!(book.len(), 0);
    }
}
