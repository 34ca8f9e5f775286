//! The seed's three-board community: `daisee init` then `daisee run` with bf7-1's config seals
//! as bf7-1.

use crate::support::*;
use daisee_node::consensus::recover_signer;
use daisee_node::primitives::Header;
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn init_then_run_seals_as_bf7_1() {
    let dir = TempDir::new("bf7");
    let out = daisee_ok(&["init", "../genesis/bf7.json", "--datadir", dir.str()]);
    assert!(out.contains("initialised"), "{out}");
    // Re-running init with the same genesis is harmless.
    daisee_ok(&["init", "../genesis/bf7.json", "--datadir", dir.str()]);
    // Flags win over the board's TOML file (datadir, seal-empty, a free port).
    let node = NodeProcess::start(&[
        "run",
        "--config",
        "../config/bf7-1.toml",
        "--datadir",
        dir.str(),
        "--seal-empty",
        "--http.api",
        "eth,net,web3,clique,debug",
    ]);
    assert_eq!(node.ok("net_version", json!([])), json!("69"));
    let start = Instant::now();
    let raw = loop {
        let raw = node.ok("debug_getRawHeader", json!(["0x1"]));
        if !raw.is_null() {
            break raw;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "bf7-1 sealed no block");
        std::thread::sleep(Duration::from_millis(200));
    };
    let header =
        Header::decode(&hex::decode(raw.as_str().unwrap().trim_start_matches("0x")).unwrap())
            .unwrap();
    let bf7_1: daisee_node::primitives::Address =
        "0xAbE92107801E1aE2f830399e5c37761DB76e7C44".parse().unwrap();
    assert_eq!(recover_signer(&header).unwrap(), bf7_1);
    assert_eq!(node.ok("clique_getSigner", json!(["0x1"])), json!(bf7_1));
    assert_eq!(node.ok("clique_getSigners", json!([])).as_array().unwrap().len(), 3);
    assert_eq!(node.ok("clique_getSigner", json!(["0x1"])), json!(bf7_1));
    assert_eq!(node.ok("clique_getSigners", json!([])).as_array().unwrap().len(), 3);
    assert!(node.terminate());
}

#[test]
fn a_datadir_refuses_another_chains_genesis() {
    let dir = TempDir::new("mismatch");
    daisee_ok(&["init", "../genesis/bf7.json", "--datadir", dir.str()]);
    let out =
        daisee().args(["init", "../genesis/dev.json", "--datadir", dir.str()]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("datadir holds a chain with genesis"));
}
