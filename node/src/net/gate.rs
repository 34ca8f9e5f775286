//! Who may be connected: peers banned for misbehaviour, by peer id and, for the ban's
//! duration, by IP address too (a peer id costs nothing to change, an address does); and, when a
//! community knows its boards, only addresses inside `--netrestrict` networks and only the
//! static peers (`--p2p.static-only`). Loopback addresses are never banned by address: every
//! board of a test (or of one machine) shares them.

use ipnet::IpNet;
use libp2p::{Multiaddr, PeerId};
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::Instant;

/// The allow-lists and the bans.
#[derive(Debug, Default)]
pub(super) struct Gate {
    by_peer: HashMap<PeerId, Instant>,
    by_ip: HashMap<IpAddr, Instant>,
    /// Allowed networks (empty: any).
    restrict: Vec<IpNet>,
    /// The only peers allowed, when set.
    only: Option<HashSet<PeerId>>,
}

/// The IP address of a multiaddr, if it has one.
pub(super) fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    use libp2p::multiaddr::Protocol;
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(a) => Some(IpAddr::V4(a)),
        Protocol::Ip6(a) => Some(IpAddr::V6(a)),
        _ => None,
    })
}

impl Gate {
    /// A gate with these allow-lists and no bans.
    pub(super) fn new(restrict: Vec<IpNet>, only: Option<HashSet<PeerId>>) -> Self {
        Self { restrict, only, ..Default::default() }
    }

    /// Bans `peer` (and its address, unless loopback) until `until`.
    pub(super) fn ban(&mut self, peer: PeerId, ip: Option<IpAddr>, until: Instant) {
        self.by_peer.insert(peer, until);
        if let Some(ip) = ip.filter(|ip| !ip.is_loopback()) {
            self.by_ip.insert(ip, until);
        }
    }

    /// Why `peer` at `ip` may not be connected at `now`, if it may not.
    pub(super) fn refuses(
        &self,
        peer: &PeerId,
        ip: Option<IpAddr>,
        now: Instant,
    ) -> Option<String> {
        if self.by_peer.get(peer).is_some_and(|until| now < *until) {
            return Some("banned".into());
        }
        if let Some(ip) = ip {
            if self.by_ip.get(&ip).is_some_and(|until| now < *until) {
                return Some(format!("address {ip} banned"));
            }
            if !self.restrict.is_empty() && !self.restrict.iter().any(|net| net.contains(&ip)) {
                return Some(format!("address {ip} outside --netrestrict"));
            }
        }
        if self.only.as_ref().is_some_and(|only| !only.contains(peer)) {
            return Some("not a static peer (--p2p.static-only)".into());
        }
        None
    }

    /// Forgets bans that ended.
    pub(super) fn expire(&mut self, now: Instant) {
        self.by_peer.retain(|_, until| now < *until);
        self.by_ip.retain(|_, until| now < *until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_ban_holds_for_a_new_peer_id_at_the_same_address_but_not_for_loopback() {
        let (now, until) = (Instant::now(), Instant::now() + Duration::from_secs(600));
        let mut gate = Gate::default();
        let (rogue, reborn, honest) = (PeerId::random(), PeerId::random(), PeerId::random());
        let lan: IpAddr = "10.200.0.3".parse().unwrap();
        gate.ban(rogue, Some(lan), until);
        assert!(gate.refuses(&rogue, None, now).is_some());
        assert!(gate.refuses(&reborn, Some(lan), now).unwrap().contains("10.200.0.3"));
        assert!(gate.refuses(&honest, Some("10.200.0.4".parse().unwrap()), now).is_none());
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        gate.ban(PeerId::random(), Some(local), until);
        assert!(gate.refuses(&honest, Some(local), now).is_none(), "loopback is shared");
        gate.expire(until + Duration::from_secs(1));
        assert!(gate.refuses(&reborn, Some(lan), until + Duration::from_secs(1)).is_none());
    }

    #[test]
    fn allow_lists_keep_strangers_out() {
        let now = Instant::now();
        let known = PeerId::random();
        let gate =
            Gate::new(vec!["192.168.1.0/24".parse().unwrap()], Some([known].into_iter().collect()));
        assert!(gate.refuses(&known, Some("192.168.1.20".parse().unwrap()), now).is_none());
        let outside = gate.refuses(&known, Some("192.168.2.20".parse().unwrap()), now);
        assert!(outside.unwrap().contains("--netrestrict"));
        let stranger = gate.refuses(&PeerId::random(), Some("192.168.1.21".parse().unwrap()), now);
        assert!(stranger.unwrap().contains("static"));
    }
}
