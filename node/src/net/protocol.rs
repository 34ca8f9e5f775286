//! What boards say to each other: gossip topics scoped to the chain (genesis hash and network
//! id), and the sync request-response protocol (status, with a signer's proof of who runs the
//! board; blocks by number range; the peers a board knows on this chain), with limits.

use crate::primitives::{keccak256, B256};
use libp2p::swarm::{behaviour::toggle::Toggle, NetworkBehaviour};
use libp2p::{gossipsub, identify, mdns, ping, request_response, StreamProtocol};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Most blocks one sync answer carries.
pub(crate) const MAX_BLOCKS_PER_REQUEST: u64 = 128;
/// Most bytes of blocks one sync answer carries.
pub(crate) const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Most peers one answer carries.
pub(crate) const MAX_PEERS_PER_ANSWER: usize = 64;
/// Most addresses given for one peer.
pub(crate) const MAX_ADDRS_PER_PEER: usize = 4;
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
    /// Which boards of this chain do you know?
    Peers,
}

/// A board of the chain, as another board knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerRecord {
    /// Its peer id.
    pub peer: String,
    /// Where it listens (multiaddrs, at most [`MAX_ADDRS_PER_PEER`]).
    pub addrs: Vec<String>,
    /// The signer it seals for, if it proved one.
    #[serde(default)]
    pub signer: Option<crate::primitives::Address>,
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
        /// The board's signer and its signature over the board's peer id (see
        /// [`signer_proof_hash`]), so that peers keep it connected.
        #[serde(default)]
        signer: Option<(crate::primitives::Address, String)>,
        /// The board's clock (unix s) when it answered, so peers can tell whose clock is off.
        #[serde(default)]
        time: Option<u64>,
        /// The board's fork id (EIP-2124): the forks it passed and the next it schedules, so
        /// a board that lacks an upgrade learns it before the upgrade.
        #[serde(default)]
        fork_id: Option<crate::genesis::ForkId>,
    },
    /// RLP-encoded blocks, hex.
    Blocks(Vec<String>),
    /// Boards of this chain the answering board has verified (at most [`MAX_PEERS_PER_ANSWER`]).
    Peers(Vec<PeerRecord>),
}

/// What a signer signs to say it runs the board with `peer` id.
pub(crate) fn signer_proof_hash(peer: &libp2p::PeerId) -> B256 {
    crate::primitives::keccak256([b"daisee signer of peer ".as_slice(), &peer.to_bytes()].concat())
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

/// How long gossip remembers a message it has seen (and drops it again unchecked). Gossip goes
/// round a town in well under a second; what comes again later costs a pool lookup.
pub(crate) const GOSSIP_MEMORY: Duration = Duration::from_secs(20);

/// Gossip messages queued for one peer at most (gossipsub's default is 5,000): a peer that
/// does not take them is dropped when the queue is full (see `gossip`), so what a stalled peer
/// holds in memory is bounded by this many messages, not by how long it stalls. A town's
/// interval bursts ~1,000 readings across the community in a few seconds.
pub(crate) const GOSSIP_QUEUE: usize = 1024;

/// The topics of a chain. Version 2: messages carry no author, signature or sequence number
/// (what they carry is signed already: a block by its Clique signer, a transaction by its
/// sender); version 1 signed every message with the board's key, and every board checked the
/// signature of every copy it received — a tenth of a town board's CPU. Boards of the two
/// versions share no gossip; they still sync from each other.
pub(crate) fn topics(
    genesis: &B256,
    network_id: u64,
) -> (gossipsub::IdentTopic, gossipsub::IdentTopic) {
    let scope = format!("/daisee/{network_id}/{genesis}");
    (
        gossipsub::IdentTopic::new(format!("{scope}/blocks/2")),
        gossipsub::IdentTopic::new(format!("{scope}/txs/2")),
    )
}

/// Builds the behaviours for `key`.
pub(crate) fn behaviour(
    key: &libp2p::identity::Keypair,
    mdns_on: bool,
) -> Result<Behaviour, super::NetError> {
    let gossip_config = gossipsub::ConfigBuilder::default()
        .heartbeat_interval(Duration::from_millis(500))
        // Anonymous: a message with an author, signature or sequence number is refused.
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        // Nothing is forwarded before the node checked it (see `gossip`).
        .validate_messages()
        .max_transmit_size(MAX_GOSSIP_BYTES)
        // A message is known by its content (a block or transaction by its bytes), not by who
        // sent it: the same transaction sent to two boards, or gossiped again by the board it
        // entered by while peers still remember it, is one message and travels once.
        .message_id_fn(|message| gossipsub::MessageId::from(&keccak256(&message.data)[..]))
        // How long a message is remembered as seen: shorter than the rebroadcast period, so a
        // board gossiping again its own waiting transactions is not refused as a duplicate.
        .duplicate_cache_time(GOSSIP_MEMORY)
        .connection_handler_queue_len(GOSSIP_QUEUE)
        .build()
        .map_err(|e| super::NetError::Behaviour(e.to_string()))?;
    let gossipsub =
        gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, gossip_config)
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
