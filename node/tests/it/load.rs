//! `daisee load`: pre-signed transactions sent to a real node over real HTTP, one per request
//! and in batches, timed to their receipts; and what it does with a bad lanes file, a
//! transaction the node refuses, a server that answers too much and one that never answers.

use crate::support::*;
use daisee_node::primitives::{Address, Bytes, U256};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// Writes `lanes` (each `0x…` raw transactions) as a lanes file in `dir`.
fn lanes_file(dir: &TempDir, name: &str, lanes: &[Vec<String>]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, serde_json::json!({ "lanes": lanes }).to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

/// `count` transfers from dev account `key`, nonces from `first`.
fn transfers(key: u32, first: u64, count: u64) -> Vec<String> {
    let to = Address::repeat_byte(0x42);
    (first..first + count)
        .map(|n| raw(&signed(&dev_key(key), 31337, n, to, U256::from(1), Bytes::new(), 21_000)))
        .collect()
}

fn load(url: &str, lanes: &str, extra: &[&str]) -> std::process::Output {
    daisee().args(["load", url, "--lanes", lanes, "--json"]).args(extra).output().unwrap()
}

#[test]
fn load_sends_every_lane_and_waits_for_every_receipt() {
    let dir = TempDir::new("load");
    let node = NodeProcess::start(&["dev", "--dev.no-meters", "--datadir", dir.str()]);
    let url = format!("http://{}", node.rpc);
    for (batch, first) in [("1", 0), ("7", 40)] {
        let lanes: Vec<_> = (1..=3).map(|k| transfers(k, first, 40)).collect();
        let file = lanes_file(&dir, &format!("lanes-{batch}.json"), &lanes);
        let out = load(&url, &file, &["--batch", batch]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["txs"], 120, "{report}");
        assert_eq!(report["lanes"], 3);
        assert_eq!(report["mined"], 120, "{report}");
        assert_eq!(report["refused"], 0, "{report}");
        assert_eq!(report["reverted"], 0);
        assert_eq!(report["stalled"], false);
        assert!(report["txPerS"].as_f64().unwrap() > 0.0);
    }
    for k in 1..=3 {
        let nonce =
            node.ok("eth_getTransactionCount", serde_json::json!([dev_key(k).address(), "latest"]));
        assert_eq!(quantity(&nonce), 80, "every transfer of account {k} is in a block");
    }

    // Sent again: every one refused (known or nonce too low), counted, the first reason kept.
    let again = lanes_file(&dir, "again.json", &[transfers(1, 0, 5)]);
    let out = load(&url, &again, &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["refused"], 5, "{report}");
    assert_eq!(report["mined"], 0);
    assert!(report["firstRefusal"].as_str().unwrap().contains("nonce"), "{report}");
    // The same as a line for people.
    let out = daisee().args(["load", &url, "--lanes", &again]).output().unwrap();
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(line.contains(" in 1 lanes, 1 per request, submitted in "), "{line}");
    assert!(line.contains("5 refused (first: nonce"), "{line}");
}

#[test]
fn load_refuses_bad_input_before_sending_and_bounds_what_it_reads() {
    let dir = TempDir::new("load-bad");
    let fails = |out: std::process::Output, says: &str| {
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "expected {says:?} in: {stderr}");
    };
    // Nothing listens on port 9 of loopback: a bad file is refused before any connection.
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{\"lanes\": [[\"0xzz\"]]}").unwrap();
    fails(load("http://127.0.0.1:9", garbage.to_str().unwrap(), &[]), "not a raw transaction");
    std::fs::write(&garbage, "not json").unwrap();
    fails(load("http://127.0.0.1:9", garbage.to_str().unwrap(), &[]), "not a lanes file");
    let empty = lanes_file(&dir, "empty.json", &[vec![]]);
    fails(load("http://127.0.0.1:9", &empty, &[]), "no transactions");
    let one = lanes_file(&dir, "one.json", &[transfers(1, 0, 1)]);
    fails(load("https://127.0.0.1:9", &one, &[]), "plain HTTP");
    fails(load("http://127.0.0.1:9", &one, &["--batch", "1001"]), "between 1 and 1000");

    // A server that answers with more than the client reads (64 MiB), and one that never does.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            if i == 0 {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n[");
                let chunk = vec![b' '; 1 << 20];
                for _ in 0..100 {
                    if stream.write_all(&chunk).is_err() {
                        break;
                    }
                }
            } else {
                std::thread::sleep(Duration::from_secs(30));
            }
        }
    });
    let url = format!("http://{addr}");
    fails(load(&url, &one, &[]), "larger than request limit");
    let start = Instant::now();
    fails(load(&url, &one, &["--stall-secs", "1"]), "timeout");
    assert!(start.elapsed() < Duration::from_secs(20), "a silent server fails the run in time");
}
