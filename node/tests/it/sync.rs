//! Catching up: a fresh node syncs 10,000 blocks from a peer over the sync protocol and ends on
//! the same head; the test prints blocks per second.

use crate::support::*;
use serde_json::json;
use std::time::{Duration, Instant};

const BLOCKS: u64 = 10_000;

#[test]
fn a_fresh_node_syncs_ten_thousand_blocks() {
    let (a, b) = (TempDir::new("sync-a"), TempDir::new("sync-b"));
    for dir in [&a, &b] {
        daisee_ok(&["init", "../genesis/dev.json", "--datadir", dir.str()]);
    }
    // The dev chain's signer (account 0 of the test mnemonic) seals empty blocks back to back.
    let pw = import_dev_signer(&a);
    let pw = pw.as_str();
    let signer = dev_key(0).address().to_string();
    let producer = NodeProcess::start(&[
        "run",
        "--datadir",
        a.str(),
        "--mine",
        "--unlock",
        &signer,
        "--password",
        pw,
        "--seal-empty",
        "--http",
        "--nonetwork",
    ]);
    let start = Instant::now();
    while quantity(&producer.ok("eth_blockNumber", json!([]))) < BLOCKS {
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "sealing {BLOCKS} blocks took too long"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(producer.terminate());

    // Serve them (no sealing) and let a fresh node catch up.
    let server = NodeProcess::peer(&a, None);
    let target = server.ok("eth_getBlockByNumber", json!(["latest", false]));
    let peer = server.line("p2p: ");
    let started = Instant::now();
    let fresh = NodeProcess::peer(&b, Some(&peer));
    let target_number = quantity(&target["number"]);
    loop {
        let head = fresh.ok("eth_getBlockByNumber", json!(["latest", false]));
        if quantity(&head["number"]) >= target_number {
            assert_eq!(head["hash"], target["hash"]);
            assert_eq!(head["stateRoot"], target["stateRoot"]);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(900), "sync stalled at {}", head["number"]);
        std::thread::sleep(Duration::from_millis(250));
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "synced {target_number} blocks in {secs:.1} s: {:.0} blocks/s (debug build)",
        target_number as f64 / secs
    );
}
