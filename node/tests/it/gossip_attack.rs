//! One bad board cannot split the community: two honest signers of the seed community run as
//! processes on loopback; a third peer — this test, speaking libp2p gossipsub over a real
//! socket to one of them — publishes a block sealed by a key that is no signer. Gossip is
//! anonymous and validated before it is forwarded, so the block stops at the first board, which
//! bans the peer that sent it (its author: an honest board forwards only what it accepted); the
//! two honest boards stay connected and the chain goes on. In a network namespace, the ban also
//! keeps the author's address out under a new identity.

use crate::lab::Lab;
use crate::support::*;
use daisee_node::consensus::seal_header;
use daisee_node::primitives::{Block, Header, PrivateKey, B256, U256};
use futures::StreamExt;
use libp2p::{gossipsub, Multiaddr, PeerId};
use serde_json::json;
use std::time::{Duration, Instant};

const SIGNERS: [(&str, &str); 2] = [
    ("bf7-1", "0xAbE92107801E1aE2f830399e5c37761DB76e7C44"),
    ("bf7-2", "0x1ff7258643fb8Db2945cFE042552D4646CC37e23"),
];

/// `daisee run` for signer `i` of the seed community on `host`, HTTP with eth, net and debug.
fn signer_args(i: usize, dir: &TempDir, host: &str) -> Vec<String> {
    let (board, address) = SIGNERS[i];
    let (keystore, password) =
        (format!("../config/{board}/keystore"), format!("../config/{board}/password.txt"));
    let args = [
        "run",
        "--datadir",
        dir.str(),
        "--mine",
        "--unlock",
        address,
        "--password",
        &password,
        "--keystore",
        &keystore,
        "--seal-empty",
        "--http",
        "--http.addr",
        host,
        "--http.api",
        "eth,net,debug",
        "--port",
        "0",
        "--p2p.addr",
        host,
    ];
    args.iter().map(|a| a.to_string()).collect()
}

fn signer(i: usize, dir: &TempDir, bootnode: Option<&str>) -> NodeProcess {
    let mut args = signer_args(i, dir, "127.0.0.1");
    if let Some(b) = bootnode {
        args.extend(["--bootnodes".to_string(), b.to_string()]);
    }
    NodeProcess::start(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn peers(node: &NodeProcess) -> u64 {
    quantity(&node.ok("net_peerCount", json!([])))
}

fn head(node: &NodeProcess) -> u64 {
    quantity(&node.ok("eth_blockNumber", json!([])))
}

/// A child of `node`'s head sealed by a key that is no signer, too early: well formed, and
/// invalid.
fn forged_block(node: &NodeProcess) -> Vec<u8> {
    let raw = node.ok("debug_getRawHeader", json!(["latest"]));
    let bytes = hex::decode(raw.as_str().unwrap().trim_start_matches("0x")).unwrap();
    let parent = Header::decode(&bytes).unwrap();
    let mut header = parent.clone();
    header.parent_hash = parent.hash();
    header.number = parent.number + 1;
    header.timestamp = parent.timestamp;
    header.difficulty = U256::from(2);
    let stranger = PrivateKey::from_bytes(&B256::repeat_byte(0x66)).unwrap();
    seal_header(&mut header, &stranger).unwrap();
    Block::new(header, vec![]).encoded()
}

/// A libp2p peer of its own (TCP, noise, yamux) on a fresh identity running `behaviour` (call
/// from within a tokio runtime).
fn test_swarm<B: libp2p::swarm::NetworkBehaviour>(
    behaviour: impl FnOnce() -> B,
) -> libp2p::Swarm<B> {
    libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default(),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_key| behaviour())
        .unwrap()
        .build()
}

/// A gossipsub peer of its own, anonymous as the boards are, on a fresh identity (call from
/// within a tokio runtime).
pub fn rogue_swarm() -> libp2p::Swarm<gossipsub::Behaviour> {
    test_swarm(|| {
        // As the boards do: anonymous messages known by their content (gossipsub's default id,
        // from author and sequence number, would make every anonymous message the same one).
        let config = gossipsub::ConfigBuilder::default()
            .validation_mode(gossipsub::ValidationMode::Anonymous)
            .message_id_fn(|m| {
                gossipsub::MessageId::from(&daisee_node::primitives::keccak256(&m.data)[..])
            })
            .build()
            .unwrap();
        gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, config).unwrap()
    })
}

/// The rogue: a gossipsub peer of its own that dials `target` and, once the target has
/// subscribed to `topic`, publishes what `data` makes every second (a forged block loses its
/// point when an honest block took its height first) until the target hangs up. Returns its
/// peer id.
fn publish_as_rogue(target: &str, topic: &str, data: impl Fn() -> Vec<u8>) -> PeerId {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let mut swarm = rogue_swarm();
        let id = *swarm.local_peer_id();
        let topic = gossipsub::IdentTopic::new(topic);
        swarm.behaviour_mut().subscribe(&topic).unwrap();
        swarm.dial(target.parse::<Multiaddr>().unwrap()).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut subscribed = false;
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            let event = tokio::select! {
                _ = tokio::time::sleep_until(deadline) => panic!("the target never hung up"),
                _ = every.tick() => {
                    if subscribed {
                        let _ = swarm.behaviour_mut().publish(topic.clone(), data());
                    }
                    continue;
                }
                event = swarm.select_next_some() => event,
            };
            match event {
                libp2p::swarm::SwarmEvent::Behaviour(gossipsub::Event::Subscribed {
                    topic: t,
                    ..
                }) if t == topic.hash() => subscribed = true,
                libp2p::swarm::SwarmEvent::ConnectionClosed { .. } if subscribed => return id,
                _ => {}
            }
        }
    })
}

/// Whether a fresh libp2p identity that dials `target` is hung up on within `within`.
fn stranger_is_turned_away(target: &str, within: Duration) -> bool {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let mut swarm = test_swarm(libp2p::ping::Behaviour::default);
        swarm.dial(target.parse::<Multiaddr>().unwrap()).unwrap();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let event = tokio::select! {
                _ = tokio::time::sleep_until(deadline) => return false,
                event = swarm.select_next_some() => event,
            };
            match event {
                libp2p::swarm::SwarmEvent::ConnectionClosed { .. }
                | libp2p::swarm::SwarmEvent::OutgoingConnectionError { .. } => return true,
                _ => {}
            }
        }
    })
}

#[test]
fn a_banned_author_stays_out_under_a_new_identity_from_the_same_address() {
    // The board in a namespace of its own; the rogue dials from the bridge's address, which is
    // not loopback, so the ban covers the address too.
    let lab = Lab::new(10, 1);
    let (ns, host) = lab.host(0);
    let dir = TempDir::new("gossip-ipban");
    daisee_ok(&["init", "../genesis/bf7.json", "--datadir", dir.str()]);
    let args = signer_args(0, &dir, &host);
    let node = NodeProcess::start_in(ns, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let p2p = node.line("p2p: ");
    let start = Instant::now();
    while head(&node) < 1 {
        assert!(start.elapsed() < Duration::from_secs(30), "the board seals block 1");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Alone, one signer of three seals block 1 and waits: the head stays put for the forgery.
    assert!(!stranger_is_turned_away(&p2p, Duration::from_secs(3)), "strangers are welcome");
    let genesis = node.ok("eth_getBlockByNumber", json!(["0x0", false]))["hash"].clone();
    let topic = format!("/daisee/69/{}/blocks/2", genesis.as_str().unwrap());
    let rogue = publish_as_rogue(&p2p, &topic, || forged_block(&node));
    let line = node.logged("banning peer", Duration::from_secs(30));
    assert!(line.contains(&rogue.to_string()), "{line}");
    assert!(line.contains("at 10.231.10.1"), "the ban names the address: {line}");
    assert!(
        stranger_is_turned_away(&p2p, Duration::from_secs(10)),
        "a new peer id from the banned address is hung up on"
    );
}

#[test]
fn a_junk_block_stops_at_the_first_board_and_only_its_author_is_banned() {
    let dirs = [TempDir::new("gossip-a"), TempDir::new("gossip-b")];
    for dir in &dirs {
        daisee_ok(&["init", "../genesis/bf7.json", "--datadir", dir.str()]);
    }
    let a = signer(0, &dirs[0], None);
    let a_p2p = a.line("p2p: ");
    let b = signer(1, &dirs[1], Some(&a_p2p));
    let start = Instant::now();
    while peers(&a) < 1 || peers(&b) < 1 || head(&a) < 1 {
        assert!(start.elapsed() < Duration::from_secs(60), "the honest boards connect and seal");
        std::thread::sleep(Duration::from_millis(200));
    }
    let genesis = a.ok("eth_getBlockByNumber", json!(["0x0", false]))["hash"].clone();
    let topic = format!("/daisee/69/{}/blocks/2", genesis.as_str().unwrap());

    let rogue = publish_as_rogue(&a_p2p, &topic, || forged_block(&a));

    let line = a.logged("banning peer", Duration::from_secs(30));
    assert!(line.contains(&rogue.to_string()), "the author is banned: {line}");
    assert!(line.contains("invalid block"), "{line}");
    // The honest boards keep each other and the chain goes on.
    let (a_head, b_head) = (head(&a), head(&b));
    let start = Instant::now();
    while head(&a) < a_head + 2 || head(&b) < b_head + 2 {
        assert!(start.elapsed() < Duration::from_secs(60), "the chain goes on");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!((peers(&a), peers(&b)), (1, 1), "the honest boards are still connected");
    let n = head(&a).min(head(&b));
    let hash = |node: &NodeProcess| {
        node.ok("eth_getBlockByNumber", json!([format!("{n:#x}"), false]))["hash"].clone()
    };
    assert_eq!(hash(&a), hash(&b), "one chain");
    let banned_by_b = b.lines().iter().any(|l| l.contains("banning peer"));
    assert!(!banned_by_b, "the junk never reached the second board");
}
