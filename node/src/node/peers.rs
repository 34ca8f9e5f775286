//! What the network tells the rest of the node about its peers (`admin_peers`, `admin_nodeInfo`,
//! the dashboard's Chain view), and the peers operators ask it to add (`admin_addPeer`): a table
//! the network writes and the servers read, so neither reaches into the other.

use crate::primitives::Address;
use serde::Serialize;
use std::sync::Mutex;

/// Most peers an operator may queue with `admin_addPeer` before the network takes them.
pub const MAX_QUEUED_PEERS: usize = 64;

/// One connected peer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    /// Its peer id.
    pub id: String,
    /// The address it is connected from.
    pub remote_address: String,
    /// It dialled us.
    pub inbound: bool,
    /// Its status matched this chain.
    pub verified: bool,
    /// The signer it proved it seals for.
    pub signer: Option<Address>,
    /// Its head, as it last said.
    pub head: Option<u64>,
}

/// This node on the network.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    /// Peer id.
    pub id: String,
    /// enode URL (the first listen address).
    pub enode: String,
    /// Listen multiaddrs.
    pub listen_addrs: Vec<String>,
    /// Boards remembered in the peers file.
    pub known_peers: usize,
}

/// The table.
#[derive(Default)]
pub struct PeerTable {
    peers: Mutex<Vec<PeerInfo>>,
    info: Mutex<Option<NodeInfo>>,
    queued: Mutex<Vec<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl PeerTable {
    /// The connected peers (the network writes them).
    pub fn set_peers(&self, peers: Vec<PeerInfo>) {
        *lock(&self.peers) = peers;
    }

    /// The connected peers.
    pub fn peers(&self) -> Vec<PeerInfo> {
        lock(&self.peers).clone()
    }

    /// This node on the network (the network writes it once it listens).
    pub fn set_info(&self, info: NodeInfo) {
        *lock(&self.info) = Some(info);
    }

    /// This node on the network; `None` when networking is off.
    pub fn info(&self) -> Option<NodeInfo> {
        lock(&self.info).clone()
    }

    /// Queues a peer (enode URL or multiaddr) for the network to dial; false when the queue is full.
    pub fn queue(&self, peer: String) -> bool {
        let mut queued = lock(&self.queued);
        if queued.len() >= MAX_QUEUED_PEERS {
            return false;
        }
        queued.push(peer);
        true
    }

    /// The peers queued since the last call.
    pub fn take_queued(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.queued))
    }
}
