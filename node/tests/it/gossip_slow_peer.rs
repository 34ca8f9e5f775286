//! A peer that stops reading cannot make a board hold its gossip forever: the board's queue for
//! it is bounded (`GOSSIP_QUEUE` messages), and once a queue's worth more failed within a minute
//! (gossipsub's `SlowPeer`) the board drops the connection instead of queueing or logging every
//! message it cannot send. The
//! stalled peer is this test, speaking libp2p gossipsub over a real socket to a real signer and
//! then never polling its connection again, while transactions are sent to the signer over
//! JSON-RPC; the signer goes on sealing them.

use crate::gossip_attack::rogue_swarm;
use crate::support::*;
use daisee_node::primitives::{Address, Bytes, U256};
use futures::StreamExt;
use libp2p::{gossipsub, Multiaddr, PeerId};
use serde_json::json;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the stalled peer keeps its connection without reading.
const STALL: Duration = Duration::from_secs(120);

/// The dev chain's signer (account 0 of the test mnemonic) with p2p and HTTP on loopback.
fn dev_signer(dir: &TempDir) -> NodeProcess {
    daisee_ok(&["init", "../genesis/dev.json", "--datadir", dir.str()]);
    let pw = import_dev_signer(dir);
    let pw = pw.as_str();
    let signer = dev_key(0).address().to_string();
    NodeProcess::start(&[
        "run",
        "--datadir",
        dir.str(),
        "--mine",
        "--unlock",
        &signer,
        "--password",
        pw,
        "--http",
        "--port",
        "0",
        "--p2p.addr",
        "127.0.0.1",
    ])
}

/// Dials `target`, subscribes to `topic`, and once the target is subscribed too, stops polling
/// the connection for [`STALL`] (its socket stays open, unread). Sends its peer id when stalled.
fn stall_as_peer(target: String, topic: String, stalled: mpsc::Sender<PeerId>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let mut swarm = rogue_swarm();
        let topic = gossipsub::IdentTopic::new(topic);
        swarm.behaviour_mut().subscribe(&topic).unwrap();
        swarm.dial(target.parse::<Multiaddr>().unwrap()).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let event = tokio::select! {
                _ = tokio::time::sleep_until(deadline) => panic!("the board never subscribed"),
                event = swarm.select_next_some() => event,
            };
            if let libp2p::swarm::SwarmEvent::Behaviour(gossipsub::Event::Subscribed {
                topic: t,
                ..
            }) = event
            {
                if t == topic.hash() {
                    break;
                }
            }
        }
        // A moment more, so both sides have exchanged their subscriptions, then silence.
        let settle = tokio::time::Instant::now() + Duration::from_secs(1);
        while let Ok(_event) = tokio::time::timeout_at(settle, swarm.select_next_some()).await {}
        stalled.send(*swarm.local_peer_id()).unwrap();
        std::thread::sleep(STALL);
        drop(swarm);
    });
}

#[test]
fn a_peer_that_stops_reading_is_dropped_when_its_gossip_queue_is_full() {
    let dir = TempDir::new("slow-peer");
    let node = dev_signer(&dir);
    let p2p = node.line("p2p: ");
    let genesis = node.ok("eth_getBlockByNumber", json!(["0x0", false]))["hash"].clone();
    let network = node.ok("net_version", json!([]));
    let topic =
        format!("/daisee/{}/{}/txs/2", network.as_str().unwrap(), genesis.as_str().unwrap());
    let (tx, rx) = mpsc::channel();
    let rogue = std::thread::spawn(move || stall_as_peer(p2p, topic, tx));
    let stalled = rx.recv_timeout(Duration::from_secs(60)).expect("the peer connects and stalls");
    assert_eq!(node.ok("net_peerCount", json!([])), json!("0x1"));

    // Transactions of 4 KiB each: the board gossips each, and each block that holds them, to
    // the stalled peer. Its yamux window (256 KiB) and queue (1,024 messages) fill after about
    // 1,100 messages, and 1,024 more fail; sending stops as soon as the board says it dropped
    // the peer.
    let key = dev_key(0);
    let to = Address::repeat_byte(0x42);
    let started = Instant::now();
    let mut sent = 0u64;
    let dropped = loop {
        let t = signed(&key, 31337, sent, to, U256::ZERO, Bytes::from(vec![0xab; 4096]), 200_000);
        node.ok("eth_sendRawTransaction", json!([raw(&t)]));
        sent += 1;
        if sent.is_multiple_of(100) {
            if let Some(line) = node.lines().into_iter().find(|l| l.contains("slow peer")) {
                break line;
            }
        }
        assert!(sent < 10_000, "no slow peer dropped after {sent} transactions");
        assert!(started.elapsed() < Duration::from_secs(300), "sending took too long");
    };
    assert!(dropped.contains(&stalled.to_string()), "the stalled peer is named: {dropped}");
    wait_for("the stalled peer gone", Duration::from_secs(30), || {
        node.ok("net_peerCount", json!([])) == json!("0x0")
    });
    // The board goes on: the last transaction is mined.
    let last = signed(&key, 31337, sent, to, U256::ZERO, Bytes::new(), 21_000);
    let hash = node.ok("eth_sendRawTransaction", json!([raw(&last)]));
    let receipt =
        node.wait_receipt(&hash.as_str().unwrap().parse().unwrap(), Duration::from_secs(60));
    assert_eq!(receipt["status"], json!("0x1"));
    let queue_full = node.lines().iter().filter(|l| l.contains("Send Queue full")).count();
    eprintln!("dropped after {sent} transactions; {queue_full} 'Send Queue full' lines");
    // The stalled peer's thread sleeps on; the process ends without it.
    drop(rogue);
}
