//! Several boards, one chain: libp2p (TCP, noise, yamux) with gossip of new blocks and
//! transactions, a sync protocol to catch up, static peers, discovery from any one known board
//! (peer exchange and a remembered peer book, `discovery`), optional mDNS, and peer discipline
//! (a peer on another chain is dropped; a peer sending invalid blocks, malformed messages or
//! floods of them is banned for a while, see `discipline` and `gate`). Gossip is anonymous and
//! validated before gossipsub forwards it (`gossip`): the peer that sends an invalid message is
//! punished.
//! The network reaches the core only through the [`Node`] handle.

mod discipline;
mod discovery;
mod error;
mod gate;
mod gossip;
pub mod identity;
mod lan;
mod peer_book;
mod protocol;
mod sync;
mod sync_state;

pub use error::NetError;
pub use protocol::{SyncRequest, SyncResponse};

use crate::chain::{ImportError, Inserted};
use crate::node::{ChainEvent, Node};
use crate::primitives::{Address, Block, PrivateKey};
use discipline::{Discipline, Traffic, Verdict};
use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{gossipsub, identify, request_response, Multiaddr, PeerId, Swarm};
use protocol::{Behaviour, BehaviourEvent};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a misbehaving peer stays banned.
const BAN: Duration = Duration::from_secs(600);
/// How often peers are asked for their status (and static peers redialled).
const STATUS_EVERY: Duration = Duration::from_secs(2);
/// Status rounds between two rebroadcasts of the transactions still waiting (30 s).
const REBROADCAST_EVERY: u64 = 15;
/// A pending transaction older than this is gossiped again at the next rebroadcast: gossip
/// sends a transaction once, when it arrives, so one held by a board cut off from the signers
/// (a split network, a board that was alone) would otherwise wait until it expires.
const REBROADCAST_AFTER: Duration = Duration::from_secs(30);
/// The most transactions one rebroadcast sends (oldest first).
const REBROADCAST_MAX: usize = 512;
// Gossip must have forgotten a transaction before it is sent again, or gossipsub refuses (and
// logs) the publication as a duplicate.
const _: () = assert!(
    STATUS_EVERY.as_secs() * REBROADCAST_EVERY > protocol::GOSSIP_MEMORY.as_secs()
        && REBROADCAST_AFTER.as_secs() > protocol::GOSSIP_MEMORY.as_secs()
);

/// How the node networks.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// The node key (peer id and enode public key).
    pub key: PrivateKey,
    /// Listening address.
    pub listen: Multiaddr,
    /// Peers to keep connected (static peers, bootnodes).
    pub peers: Vec<(PeerId, Multiaddr)>,
    /// LAN discovery.
    pub mdns: bool,
    /// Most connected peers.
    pub max_peers: usize,
    /// Only addresses in these networks may be peers (`--netrestrict`; empty: any).
    pub restrict: Vec<ipnet::IpNet>,
    /// Only the peers of `peers` may connect (`--p2p.static-only`).
    pub static_only: bool,
    /// Learn boards from peers and dial them (off with `--nodiscover`).
    pub discover: bool,
    /// Where the peer book is remembered (`<datadir>/daisee/peers.json`), if anywhere.
    pub peers_file: Option<std::path::PathBuf>,
}

/// Where the node listens, once it does: its multiaddr (with `/p2p/<id>`) and enode URL.
pub type OnListen = Box<dyn Fn(&Multiaddr, &str) + Send>;

struct Net {
    node: Node,
    swarm: Swarm<Behaviour>,
    blocks_topic: gossipsub::IdentTopic,
    txs_topic: gossipsub::IdentTopic,
    config: NetConfig,
    gate: gate::Gate,
    /// The address each connected peer is at.
    addresses: HashMap<PeerId, std::net::IpAddr>,
    connected: HashSet<PeerId>,
    sync: sync_state::SyncState,
    discipline: Discipline,
    lan: lan::Lan,
    /// Boards known, remembered across restarts.
    book: peer_book::PeerBook,
    /// Connected peers whose status matched this chain.
    verified: HashSet<PeerId>,
    /// Connected peers that dialled us.
    inbound: HashSet<PeerId>,
    /// Heads peers last told.
    heads: HashMap<PeerId, u64>,
    /// Signers peers proved.
    signers: HashMap<PeerId, Address>,
    /// This board's proof of its signer.
    proof: Option<(Address, String)>,
    /// Status rounds so far.
    round: u64,
    /// Where this board listens.
    listen_addrs: Vec<Multiaddr>,
    /// Peers' clocks minus ours, s.
    clock_offsets: HashMap<PeerId, i64>,
    /// Listen addresses of connected peers not yet verified.
    listen_pending: HashMap<PeerId, Vec<Multiaddr>>,
    /// Status requests in flight, by request: whom and when (the round trip bounds the clock's
    /// reading; an answer is matched to its own request, never to a later one to the same peer).
    status_asked: HashMap<request_response::OutboundRequestId, (PeerId, Instant)>,
}

/// Runs the network until `shutdown` turns true.
pub async fn run(
    node: Node,
    config: NetConfig,
    on_listen: OnListen,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), NetError> {
    let keypair = identity::keypair(&config.key);
    let enode_id = identity::enode_id(&keypair);
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default(),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_behaviour(|key| {
            protocol::behaviour(key, config.mdns)
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })
        })
        .map_err(|e| NetError::Behaviour(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    let genesis = node.store().genesis_hash()?;
    let (blocks_topic, txs_topic) = protocol::topics(&genesis, node.chain_id());
    for topic in [&blocks_topic, &txs_topic] {
        let subscribed = swarm.behaviour_mut().gossipsub.subscribe(topic);
        subscribed.map_err(|e| NetError::Subscribe(e.to_string()))?;
    }
    swarm
        .listen_on(config.listen.clone())
        .map_err(|e| NetError::Listen { addr: config.listen.clone(), reason: e.to_string() })?;
    let only = config.static_only.then(|| config.peers.iter().map(|(p, _)| *p).collect());
    let gate = gate::Gate::new(config.restrict.clone(), only);
    let mut net = Net {
        node: node.clone(),
        swarm,
        blocks_topic,
        txs_topic,
        config,
        gate,
        addresses: HashMap::new(),
        connected: HashSet::new(),
        sync: sync_state::SyncState::default(),
        discipline: Discipline::default(),
        lan: lan::Lan::default(),
        book: peer_book::PeerBook::default(),
        verified: HashSet::new(),
        inbound: HashSet::new(),
        heads: HashMap::new(),
        signers: HashMap::new(),
        proof: None,
        round: 0,
        listen_addrs: Vec::new(),
        clock_offsets: HashMap::new(),
        listen_pending: HashMap::new(),
        status_asked: HashMap::new(),
    };
    net.book = peer_book::PeerBook::load(net.config.peers_file.clone());
    net.proof = net.signer_proof();
    net.dial_static();
    node.set_peer_count(0);
    let mut heads = node.subscribe_heads();
    let mut pending = node.subscribe_pending();
    let mut tick = tokio::time::interval(STATUS_EVERY);
    let local = *net.swarm.local_peer_id();
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                net.book.save();
                break;
            }
            _ = tick.tick() => net.on_tick(),
            head = heads.recv() => if let Ok(ChainEvent::Added(header)) = head {
                // A board announces the blocks it seals; gossipsub relays them further and
                // sync fills the rest, so blocks imported from peers are not sent back.
                let ours = node.signer().is_some()
                    && crate::consensus::recover_signer(&header).ok() == node.signer();
                if let (true, Ok(Some(block))) = (ours, node.store().block(&header.hash())) {
                    net.publish(true, block.encoded());
                }
            },
            tx = pending.recv() => if let Ok(hash) = tx {
                if let Some((tx, _)) = node.pooled(&hash) {
                    net.publish(false, tx.encoded().to_vec());
                }
            },
            event = net.swarm.select_next_some() => {
                if let SwarmEvent::NewListenAddr { address, .. } = &event {
                    let full = address.clone().with(libp2p::multiaddr::Protocol::P2p(local));
                    let (ip, port) = socket_of(address);
                    let enode = format!("enode://{enode_id}@{ip}:{port}");
                    on_listen(&full, &enode);
                    net.listen_addrs.push(address.clone());
                    node.peer_table().set_info(crate::node::NodeInfo {
                        id: local.to_string(),
                        enode,
                        listen_addrs: net.listen_addrs.iter().map(ToString::to_string).collect(),
                        known_peers: net.book.len(),
                    });
                }
                net.on_event(event).await;
            }
        }
    }
    Ok(())
}

/// Inserts a block on the blocking pool (the store does disk I/O).
async fn import(node: Node, block: Block) -> Result<Inserted, ImportError> {
    tokio::task::spawn_blocking(move || node.import_block(&block)).await.unwrap_or_else(|e| {
        Err(ImportError::Store(crate::state::StoreError::Corrupt(e.to_string())))
    })
}

fn socket_of(addr: &Multiaddr) -> (String, u16) {
    use libp2p::multiaddr::Protocol;
    let (mut ip, mut port) = (String::from("127.0.0.1"), 0);
    for p in addr.iter() {
        match p {
            Protocol::Ip4(a) => ip = a.to_string(),
            Protocol::Ip6(a) => ip = a.to_string(),
            Protocol::Tcp(p) => port = p,
            _ => {}
        }
    }
    (ip, port)
}

impl Net {
    fn dial_static(&mut self) {
        for (peer, addr) in self.config.peers.clone() {
            let refused = self.gate.refuses(&peer, gate::ip_of(&addr), Instant::now());
            if !self.connected.contains(&peer) && refused.is_none() {
                let addr = addr.with_p2p(peer).unwrap_or_else(|a| a);
                if let Err(e) = self.swarm.dial(addr.clone()) {
                    tracing::debug!(target: "daisee::net", %peer, "dial {addr}: {e}");
                }
            }
        }
    }

    /// Dials a board found by mDNS on all its LAN addresses at once (one dial, so that a
    /// failing address cannot block the others).
    fn dial_lan(&mut self, peer: PeerId) {
        if self.connected.contains(&peer)
            || self.gate.refuses(&peer, None, Instant::now()).is_some()
        {
            return;
        }
        let now = Instant::now();
        let addresses: Vec<Multiaddr> = self
            .lan
            .addresses(&peer)
            .into_iter()
            .filter(|a| self.gate.refuses(&peer, gate::ip_of(a), now).is_none())
            .collect();
        if addresses.is_empty() {
            return;
        }
        let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer).addresses(addresses).build();
        if let Err(e) = self.swarm.dial(opts) {
            tracing::debug!(target: "daisee::net", %peer, "dial (mDNS): {e}");
        }
    }

    /// Counts one message of `kind` from `peer`; false when it must be dropped.
    fn admit(&mut self, peer: PeerId, kind: Traffic) -> bool {
        match self.discipline.admit(peer, kind, Instant::now()) {
            Verdict::Accept => true,
            Verdict::Drop => {
                tracing::debug!(target: "daisee::net", %peer, ?kind, "over budget, message dropped");
                false
            }
            Verdict::Ban => {
                self.ban(peer, &format!("flooding ({kind:?} messages over budget)"));
                false
            }
        }
    }

    /// Bans `peer` (and the address it is connected from) for [`BAN`].
    fn ban(&mut self, peer: PeerId, why: &str) {
        self.discipline.forget(&peer);
        let ip = self.addresses.get(&peer).copied();
        let at = ip.map(|ip| format!(" at {ip}")).unwrap_or_default();
        tracing::warn!(target: "daisee::net", %peer, "banning peer{at} for {} s: {why}", BAN.as_secs());
        self.gate.ban(peer, ip, Instant::now() + BAN);
        self.book.forget(&peer);
        self.listen_pending.remove(&peer);
        let _ = self.swarm.disconnect_peer_id(peer);
    }

    fn publish(&mut self, block: bool, data: Vec<u8>) {
        let topic = if block { self.blocks_topic.clone() } else { self.txs_topic.clone() };
        match self.swarm.behaviour_mut().gossipsub.publish(topic, data) {
            Ok(_)
            | Err(gossipsub::PublishError::Duplicate)
            | Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => {}
            Err(e) => tracing::debug!(target: "daisee::net", "gossip publish: {e}"),
        }
    }

    /// Asks `peer` its status, noting when.
    fn ask_status(&mut self, peer: PeerId) {
        let id = self.swarm.behaviour_mut().sync.send_request(&peer, SyncRequest::Status);
        self.status_asked.insert(id, (peer, Instant::now()));
    }

    fn on_tick(&mut self) {
        self.gate.expire(Instant::now());
        self.sync.expire(Instant::now());
        self.dial_static();
        let lan: Vec<PeerId> = self.lan.peers().map(|(peer, _)| *peer).collect();
        for peer in lan {
            self.dial_lan(peer);
        }
        let peers: Vec<PeerId> = self.connected.iter().copied().collect();
        for peer in peers {
            self.ask_status(peer);
        }
        self.discovery_round();
        if self.round.is_multiple_of(REBROADCAST_EVERY) && !self.verified.is_empty() {
            let waiting = self.node.waiting_pending(REBROADCAST_AFTER, REBROADCAST_MAX);
            if !waiting.is_empty() {
                tracing::debug!(target: "daisee::net", txs = waiting.len(), "rebroadcast of waiting transactions");
            }
            for tx in waiting {
                self.publish(false, tx.encoded().to_vec());
            }
        }
    }

    async fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, endpoint, .. } => {
                let ip = gate::ip_of(endpoint.get_remote_address());
                if let Some(why) = self.gate.refuses(&peer_id, ip, Instant::now()) {
                    tracing::debug!(target: "daisee::net", peer = %peer_id, "connection refused: {why}");
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                if self.connected.len() >= self.config.max_peers
                    && !self.connected.contains(&peer_id)
                {
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                if let Some(ip) = ip {
                    self.addresses.insert(peer_id, ip);
                }
                if !endpoint.is_dialer() {
                    self.inbound.insert(peer_id);
                }
                if self.connected.insert(peer_id) {
                    self.node.set_peer_count(self.connected.len());
                    tracing::info!(target: "daisee::net", peer = %peer_id, peers = self.connected.len(), "peer connected");
                }
                self.ask_status(peer_id);
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                if self.connected.remove(&peer_id) {
                    self.node.set_peer_count(self.connected.len());
                    tracing::info!(target: "daisee::net", peer = %peer_id, peers = self.connected.len(), "peer disconnected");
                }
                self.sync.take(&peer_id);
                self.addresses.remove(&peer_id);
                self.discipline.forget(&peer_id);
                self.on_gone(&peer_id);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Mdns(event)) => {
                for peer in self.lan.on_event(event) {
                    self.dial_lan(peer);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => self.on_listen_addrs(peer_id, &info.listen_addrs),
            SwarmEvent::OutgoingConnectionError { peer_id: Some(peer), error, .. } => {
                tracing::debug!(target: "daisee::net", %peer, "dial failed: {error}");
                self.book.failed(&peer);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) => {
                self.on_gossip(propagation_source, message_id, message).await;
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::SlowPeer {
                peer_id,
                failed_messages,
            })) => self.on_slow_peer(peer_id, failed_messages),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                peer,
                message,
                ..
            })) => match message {
                request_response::Message::Request { request, channel, .. } => {
                    if !self.admit(peer, Traffic::Request) {
                        return;
                    }
                    let answer = match request {
                        SyncRequest::Status => self.status(),
                        SyncRequest::Blocks { from, count } => {
                            SyncResponse::Blocks(self.blocks(from, count))
                        }
                        SyncRequest::Peers => self.answer_peers(&peer),
                    };
                    let _ = self.swarm.behaviour_mut().sync.send_response(channel, answer);
                }
                request_response::Message::Response { response, request_id } => {
                    let asked = self.status_asked.remove(&request_id).map(|(_, at)| at);
                    self.on_response(peer, response, asked).await
                }
            },
            SwarmEvent::Behaviour(BehaviourEvent::Sync(
                request_response::Event::OutboundFailure { peer, error, request_id, .. },
            )) => {
                self.status_asked.remove(&request_id);
                // A silent or slow peer never holds sync: the next status round asks again.
                tracing::debug!(target: "daisee::net", %peer, "sync request failed: {error}");
                self.sync.take(&peer);
            }
            _ => {}
        }
    }
}
