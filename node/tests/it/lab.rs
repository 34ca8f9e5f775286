//! Test hosts on one machine: a bridge and network namespaces joined to it by veth pairs,
//! created by the test and removed on drop (iproute2). Addresses 10.231.<net>.11, .12, …; only
//! multicast is routed (to the bridge), nothing leaves the machine.

use std::process::Command;

/// A bridge and namespaces made for this test, removed on drop.
pub struct Lab {
    bridge: String,
    namespaces: Vec<String>,
    net: u8,
    links: Vec<String>,
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("iproute2 is installed");
    assert!(status.success(), "ip {args:?} failed");
}

/// Lets the kernel's neighbour (ARP) table hold every pair of `hosts`: the table and its limits
/// are the machine's, shared by all namespaces, and the defaults (1,024 entries at most) overflow
/// with ~30 hosts that all talk to each other — the kernel then drops packets ("neighbor table
/// overflow"), connections hang in SYN-SENT and a 50-board town stalls. Only ever raised.
fn make_room_for_neighbours(hosts: usize) {
    let want = (2 * (hosts + 1) * (hosts + 1)).max(1024) as u64;
    for (name, value) in [("gc_thresh3", want), ("gc_thresh2", want / 2), ("gc_thresh1", want / 8)]
    {
        let path = format!("/proc/sys/net/ipv4/neigh/default/{name}");
        let now = std::fs::read_to_string(&path).ok().and_then(|v| v.trim().parse::<u64>().ok());
        if now.is_some_and(|now| now < value) {
            let _ = std::fs::write(&path, value.to_string());
        }
    }
}

impl Lab {
    pub fn new(net: u8, hosts: usize) -> Self {
        make_room_for_neighbours(hosts);
        let tag = std::process::id() % 100_000;
        let bridge = format!("dzb{net}x{tag}");
        let _ = Command::new("ip")
            .args(["link", "del", &bridge])
            .stderr(std::process::Stdio::null())
            .status();
        ip(&["link", "add", &bridge, "type", "bridge"]);
        let mut lab = Self { bridge: bridge.clone(), namespaces: vec![], net, links: vec![] };
        ip(&["addr", "add", &format!("10.231.{net}.1/24"), "dev", &bridge]);
        ip(&["link", "set", &bridge, "up"]);
        for i in 1..=hosts {
            let ns = format!("dzn{net}x{tag}-{i}");
            let (outer, inner) = (format!("dzv{net}x{tag}{i}"), format!("dzp{net}x{tag}{i}"));
            let _ = Command::new("ip")
                .args(["netns", "del", &ns])
                .stderr(std::process::Stdio::null())
                .status();
            ip(&["netns", "add", &ns]);
            lab.namespaces.push(ns.clone());
            ip(&["link", "add", &outer, "type", "veth", "peer", "name", &inner]);
            lab.links.push(outer.clone());
            ip(&["link", "set", &inner, "netns", &ns]);
            ip(&["link", "set", &outer, "master", &bridge]);
            ip(&["link", "set", &outer, "up"]);
            let addr = format!("10.231.{net}.{}/24", 10 + i);
            ip(&["netns", "exec", &ns, "ip", "addr", "add", &addr, "dev", &inner]);
            ip(&["netns", "exec", &ns, "ip", "link", "set", &inner, "up"]);
            ip(&["netns", "exec", &ns, "ip", "link", "set", "lo", "up"]);
            // Multicast (mDNS) goes to the bridge; there is no default route out.
            ip(&["netns", "exec", &ns, "ip", "route", "add", "224.0.0.0/4", "dev", &inner]);
        }
        lab
    }

    pub fn host(&self, i: usize) -> (&str, String) {
        (&self.namespaces[i], format!("10.231.{}.{}", self.net, 11 + i))
    }
}

impl Lab {
    /// Cuts host `i` off the bridge (a partition), or plugs it back.
    pub fn plug(&self, i: usize, up: bool) {
        ip(&["link", "set", &self.links[i], if up { "up" } else { "down" }]);
    }
}

impl Lab {
    /// Bytes through host `i`'s link so far, both ways (the bridge side's counters).
    pub fn link_bytes(&self, i: usize) -> u64 {
        let stat = |name: &str| {
            let path = format!("/sys/class/net/{}/statistics/{name}", self.links[i]);
            std::fs::read_to_string(path).ok().and_then(|v| v.trim().parse::<u64>().ok())
        };
        stat("rx_bytes").unwrap_or(0) + stat("tx_bytes").unwrap_or(0)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = Command::new("ip").args(["link", "del", &self.bridge]).status();
    }
}
