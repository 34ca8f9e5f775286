//! What boards say to each other: gossip topics scoped to the chain (genesis hash and network
//! id), and the sync request-response protocol (status; blocks by number range), with limits.

use crate::primitives::B256;
use libp2p::swarm::{behaviour::toggle::Toggle, NetworkBehaviour};
use libp2p::{gossipsub, identify, mdns, ping, request_response, StreamProtocol};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Most blocks one sync answer carries.
pub(crate) const MAX_BLOCKS_PER_REQUEST: u64 = 128;
/// Most bytes of blocks one sync answer carries.
pub(crate) const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Largest gossip message (a block or a transaction).
pub(crate) const MAX_GOSSIP_BYTES: usize = 2 * 1024 * 1024;

/// A sync request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SyncRequest {
    /// Who are you, what is your head?
    Status,
    /// Canonical blocks `from..from + count`.
    Blocks {
        /// First block number.
        from: u64,
        /// How many (at most [`MAX_BLOCKS_PER_REQUEST`]).
        count: u64,
    },
}

/// A sync answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SyncResponse {
    /// A node's chain and head.
    Status {
        /// Genesis hash (a peer on another chain is dropped).
        genesis: B256,
        /// Network id.
        network_id: u64,
        /// Head number.
        head: u64,
        /// Head hash.
        hash: B256,
        /// Total difficulty of the head, as a decimal string.
        total_difficulty: String,
    },
    /// RLP-encoded blocks, hex.
    Blocks(Vec<String>),
}

/// The libp2p behaviours of a Daisee node.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    /// Gossip of new blocks and transactions.
    pub(crate) gossipsub: gossipsub::Behaviour,
    /// The sync protocol.
    pub(crate) sync: request_response::json::Behaviour<SyncRequest, SyncResponse>,
    /// Peer information exchange.
    pub(crate) identify: identify::Behaviour,
    /// Liveness.
    pub(crate) ping: ping::Behaviour,
    /// LAN discovery (only with `--mdns`).
    pub(crate) mdns: Toggle<mdns::tokio::Behaviour>,
}

/// The topics of a chain.
pub(crate) fn topics(
    genesis: &B256,
    network_id: u64,
) -> (gossipsub::IdentTopic, gossipsub::IdentTopic) {
    let scope = format!("/daisee/{network_id}/{genesis}");
    (
        gossipsub::IdentTopic::new(format!("{scope}/blocks")),
        gossipsub::IdentTopic::new(format!("{scope}/txs")),
    )
}

/// Builds the behaviours for `key`.
pub(crate) fn behaviour(
    key: &libp2p::identity::Keypair,
    mdns_on: bool,
) -> Result<Behaviour, super::NetError> {
    let gossip_config = gossipsub::ConfigBuilder::default()
        .heartbeat_interval(Duration::from_millis(500))
        .validation_mode(gossipsub::ValidationMode::Strict)
        // Nothing is forwarded before the node checked it (see `gossip`).
        .validate_messages()
        .max_transmit_size(MAX_GOSSIP_BYTES)
        .build()
        .map_err(|e| super::NetError::Behaviour(e.to_string()))?;
    let gossipsub = gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Signed(key.clone()),
        gossip_config,
    )
    .map_err(|e| super::NetError::Behaviour(e.to_string()))?;
    let sync = request_response::json::Behaviour::new(
        [(StreamProtocol::new("/daisee/sync/1"), request_response::ProtocolSupport::Full)],
        request_response::Config::default().with_request_timeout(Duration::from_secs(15)),
    );
    let identify =
        identify::Behaviour::new(identify::Config::new("/daisee/1.0.0".into(), key.public()));
    let mdns = if mdns_on {
        // Ask the LAN every 10 s (libp2p's default is 5 min): a board that missed the first
        // exchange, because it booted a moment later or the link was busy, still finds its
        // neighbours quickly. One small multicast packet per board per 10 s.
        let config = mdns::Config { query_interval: Duration::from_secs(10), ..Default::default() };
        Some(
            mdns::tokio::Behaviour::new(config, key.public().to_peer_id())
                .map_err(|e| super::NetError::Behaviour(e.to_string()))?,
        )
    } else {
        None
    };
    Ok(Behaviour {
        gossipsub,
        sync,
        identify,
        ping: ping::Behaviour::default(),
        mdns: Toggle::from(mdns),
    })
}
