//! `daisee backup` / `daisee restore`: a running node copied over IPC while it seals and its
//! meters report, then killed in the middle of a second backup; the finished backup comes back in
//! a new datadir with the same chain and the meters' outbox and daybook; a backup cut short is
//! refused. A stopped board's node key and keystore travel too, byte for byte.

use crate::support::*;
use serde_json::json;
use std::time::{Duration, Instant};

fn stats(datadir: &TempDir) -> serde_json::Value {
    serde_json::from_str(&daisee_ok(&["db", "stats", "--datadir", datadir.str(), "--json"]))
        .expect("JSON")
}

#[test]
fn a_running_node_is_backed_up_killed_mid_backup_and_restored() {
    let datadir = TempDir::new("backup-src");
    let mut node =
        NodeProcess::start(&["dev", "--datadir", datadir.str(), "--dev.meter-speed", "300"]);
    let start = Instant::now();
    while quantity(&node.ok("eth_blockNumber", json!([]))) < 15 {
        assert!(start.elapsed() < Duration::from_secs(60), "no blocks");
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = TempDir::new("backup-files");
    let first = out.path().join("board.backup");
    let said = daisee_ok(&["backup", "--datadir", datadir.str(), first.to_str().unwrap()]);
    assert!(said.contains("backup of block"), "{said}");
    let block: u64 = said.split_whitespace().nth(3).unwrap().parse().unwrap();
    let hash = said.split(['(', ')']).nth(1).unwrap().to_string();
    assert_eq!(
        node.ok("eth_getBlockByNumber", json!([format!("{block:#x}"), false]))["hash"],
        json!(hash)
    );

    // A second backup, the node killed while it runs: it fails, and leaves no finished file.
    let second = out.path().join("second.backup");
    let mut running = daisee()
        .args(["backup", "--datadir", datadir.str(), second.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("backup");
    node.kill();
    let _ = running.wait();
    if second.exists() {
        // It finished before the kill: then it is whole.
        let again = TempDir::new("backup-second");
        daisee_ok(&["restore", second.to_str().unwrap(), "--datadir", again.str()]);
    }

    // A backup cut short is refused before anything is written.
    let bytes = std::fs::read(&first).unwrap();
    let cut = out.path().join("cut.backup");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let refused_dir = TempDir::new("backup-refused");
    let refused = daisee()
        .args(["restore", cut.to_str().unwrap(), "--datadir", refused_dir.str()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("cut short"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!refused_dir.path().join("daisee/chaindata").exists(), "nothing written");

    // The finished one comes back whole in a new datadir.
    let restored = TempDir::new("backup-dst");
    let said = daisee_ok(&["restore", first.to_str().unwrap(), "--datadir", restored.str()]);
    assert!(said.contains(&hash), "{said}");
    let kinds = &stats(&restored)["kinds"];
    for kind in ["blocks: receipts", "state: storage", "daybook", "meters' outbox"] {
        assert!(kinds[kind]["entries"].as_u64().is_some_and(|n| n > 0), "{kind}: {kinds}");
    }
    let back = NodeProcess::start(&["dev", "--datadir", restored.str(), "--dev.no-meters"]);
    assert!(quantity(&back.ok("eth_blockNumber", json!([]))) >= block);
    assert_eq!(
        back.ok("eth_getBlockByNumber", json!([format!("{block:#x}"), false]))["hash"],
        json!(hash)
    );
    // Restoring over a datadir that holds a chain is refused.
    drop(back);
    let twice = daisee()
        .args(["restore", first.to_str().unwrap(), "--datadir", restored.str()])
        .output()
        .unwrap();
    assert!(!twice.status.success());
}

#[test]
fn a_stopped_board_travels_with_its_node_key_and_keystore() {
    let datadir = TempDir::new("backup-board");
    daisee_ok(&["init", "../genesis/bf7.json", "--datadir", datadir.str()]);
    let keystore = datadir.path().join("keystore");
    std::fs::create_dir_all(&keystore).unwrap();
    for entry in std::fs::read_dir("../config/bf7-1/keystore").unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), keystore.join(entry.file_name())).unwrap();
    }
    let node = NodeProcess::start(&[
        "run",
        "--datadir",
        datadir.str(),
        "--http",
        "--port",
        "0",
        "--p2p.addr",
        "127.0.0.1",
    ]);
    // Up and listening (the node key exists) before it is asked to stop.
    node.line("p2p: ");
    std::thread::sleep(Duration::from_millis(500));
    assert!(node.terminate());
    let file = datadir.path().join("../board-1.backup");
    daisee_ok(&["backup", "--datadir", datadir.str(), "--keystore", file.to_str().unwrap()]);
    let restored = TempDir::new("backup-board-dst");
    daisee_ok(&["restore", file.to_str().unwrap(), "--datadir", restored.str()]);
    let key = |d: &TempDir| std::fs::read(d.path().join("daisee/nodekey")).expect("nodekey");
    assert_eq!(key(&datadir), key(&restored));
    let names = |d: &TempDir| {
        let mut v: Vec<String> = std::fs::read_dir(d.path().join("keystore"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&datadir), names(&restored));
    assert!(!names(&restored).is_empty());
    let _ = std::fs::remove_file(file);
}
