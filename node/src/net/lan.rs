//! Boards found on the LAN by mDNS, kept until their record expires and redialled on every tick
//! while not connected. mDNS announces a peer once (again only when its record is renewed), so a
//! first dial that failed — the board was busy, or the loopback address it also advertises was
//! tried first — must not leave the two boards apart for the record's lifetime.

use libp2p::multiaddr::Protocol;
use libp2p::{mdns, Multiaddr, PeerId};
use std::collections::HashMap;

/// Peers discovered on the LAN, with the addresses worth dialling.
#[derive(Default)]
pub(super) struct Lan {
    peers: HashMap<PeerId, Vec<Multiaddr>>,
}

/// Whether an address can reach another host: loopback addresses advertised by a board lead
/// back to the dialler itself.
fn reachable(addr: &Multiaddr) -> bool {
    match addr.iter().next() {
        Some(Protocol::Ip4(ip)) => !ip.is_loopback(),
        Some(Protocol::Ip6(ip)) => !ip.is_loopback(),
        _ => true,
    }
}

impl Lan {
    /// Records what mDNS reported; returns the peers newly worth dialling.
    pub(super) fn on_event(&mut self, event: mdns::Event) -> Vec<PeerId> {
        match event {
            mdns::Event::Discovered(found) => {
                let mut fresh = Vec::new();
                for (peer, addr) in found {
                    if !reachable(&addr) {
                        continue;
                    }
                    let addrs = self.peers.entry(peer).or_default();
                    if !addrs.contains(&addr) {
                        addrs.push(addr);
                        if !fresh.contains(&peer) {
                            fresh.push(peer);
                        }
                    }
                }
                fresh
            }
            mdns::Event::Expired(gone) => {
                for (peer, addr) in gone {
                    if let Some(addrs) = self.peers.get_mut(&peer) {
                        addrs.retain(|a| a != &addr);
                        if addrs.is_empty() {
                            self.peers.remove(&peer);
                        }
                    }
                }
                Vec::new()
            }
        }
    }

    /// Every known LAN peer with its addresses.
    pub(super) fn peers(&self) -> impl Iterator<Item = (&PeerId, &Vec<Multiaddr>)> {
        self.peers.iter()
    }

    /// The addresses of `peer`.
    pub(super) fn addresses(&self, peer: &PeerId) -> Vec<Multiaddr> {
        self.peers.get(peer).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_are_dropped_and_expiry_forgets() {
        let mut lan = Lan::default();
        let peer = PeerId::random();
        let lo: Multiaddr = "/ip4/127.0.0.1/tcp/4000".parse().expect("addr");
        let lan_addr: Multiaddr = "/ip4/10.0.0.2/tcp/4000".parse().expect("addr");
        let fresh = lan
            .on_event(mdns::Event::Discovered(vec![(peer, lo.clone()), (peer, lan_addr.clone())]));
        assert_eq!(fresh, vec![peer]);
        assert_eq!(lan.addresses(&peer), vec![lan_addr.clone()]);
        // Announced again: nothing new to dial at once, still redialled on ticks.
        assert!(lan.on_event(mdns::Event::Discovered(vec![(peer, lan_addr.clone())])).is_empty());
        assert_eq!(lan.peers().count(), 1);
        lan.on_event(mdns::Event::Expired(vec![(peer, lan_addr)]));
        assert_eq!(lan.peers().count(), 0);
    }
}
