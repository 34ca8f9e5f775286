//! The dashboard and the daybook after day one: a month-old chain (thousands of blocks in the
//! last 24 hours, rate changes before and inside that window) sealed in seconds with past
//! timestamps, then served by `daisee dev` in Paris time. Chromium checks every figure of Home,
//! Community and the week/month History views, and the page's CSV export, against JSON-RPC
//! (tests/browser/history.mjs); `daisee records` writes the same file from the command line.

use crate::support::*;
use daisee_node::bench::history::{seal_history, HistorySpec};
use daisee_node::community::{community_genesis, dev_spec};
use daisee_node::node::unix_now;
use daisee_node::primitives::{PrivateKey, U256};
use daisee_node::service::layout;
use daisee_node::state::Store;
use serde_json::json;
use std::path::Path;
use std::process::Command;

const ZONE: &str = "Europe/Paris";

/// A dev datadir holding ~5 weeks of history: 33 sparse days (a block an hour), then 30 dense
/// hours (a block every 20 s: ~5,400 blocks), households 7, 8 and 9 reporting every 15 min.
fn month_old_chain(datadir: &TempDir) -> u64 {
    let keys: Vec<PrivateKey> = (0..10).map(dev_key).collect();
    let store = Store::open(&layout::chaindata(datadir.path())).expect("store");
    store.init_genesis(&community_genesis(&dev_spec(&keys, 0)).expect("genesis")).expect("init");
    let szabo = |n: u64| U256::from(n) * U256::from(1_000_000_000_000u64);
    let spec = HistorySpec {
        end: unix_now() - 120,
        sparse_days: 33,
        sparse_step: 3600,
        dense_hours: 30,
        dense_step: 20,
        interval: 900,
        buy_every: 40,
        rate_changes: vec![(20 * 24, szabo(20)), (6, szabo(25))],
        max_readings_per_block: 0,
    };
    let summary = seal_history(store.clone(), &keys[0], &keys[7..10], &spec).expect("history");
    eprintln!("sealed {summary:?}");
    // Changesets beyond the reorg window are pruned as blocks are committed.
    let stats = store.stats().expect("stats");
    let changesets = stats["changesets (reorgs, history)"].entries;
    assert!(changesets <= 2 * 128 + 1, "{changesets} changesets kept of {} blocks", summary.blocks);
    summary.blocks
}

#[test]
fn a_month_old_chain_shows_its_history_and_exports_it() {
    let datadir = TempDir::new("history");
    let blocks = month_old_chain(&datadir);
    assert!(blocks > 5000, "{blocks}");
    let node = NodeProcess::start_with_env(
        &["dev", "--datadir", datadir.str(), "--dev.no-meters"],
        &[("TZ", ZONE)],
    );
    let head = quantity(&node.ok("eth_blockNumber", json!([])));
    assert_eq!(head, blocks);
    // The daybook catches up with the chain in the background.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let answer = node.ok("daisee_days", json!([{ "from": "2026-01-01", "to": "2026-01-01" }]));
        if answer["indexedBlock"].as_str().map(|h| u64::from_str_radix(&h[2..], 16).unwrap())
            == Some(head)
        {
            assert_eq!(answer["timeZone"], ZONE);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the daybook did not catch up: {answer}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/browser"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-history");
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new("node")
        .arg(dir.join("history.mjs"))
        .arg(format!("http://{}/", node.rpc))
        .arg(&out)
        .arg(env!("CARGO_BIN_EXE_daisee"))
        .env("CHROMIUM", &chromium)
        .env("TZ", ZONE)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the browser test failed:\n{stdout}\n{stderr}");
    eprintln!("{}\nscreenshots in {}", stdout.trim(), out.display());
    for view in ["home", "community", "history-week", "history-month", "history-community"] {
        assert!(out.join(format!("{view}.png")).exists(), "screenshot of {view}");
    }
}

#[test]
fn records_and_days_refuse_bad_questions_clearly() {
    let node = NodeProcess::start(&["dev", "--dev.no-meters"]);
    let meter = format!("{}", dev_key(7).address());
    for (params, says) in [
        (json!([{ "from": "2026-1-1", "to": "2026-01-02" }]), "invalid date"),
        (json!([{ "from": "2026-01-02", "to": "2026-01-01" }]), "ends"),
        (json!([{ "from": "2020-01-01", "to": "2026-01-01" }]), "at most 400 days"),
        (json!([{ "from": "2026-01-01", "to": "2026-01-01", "extra": 1 }]), "unknown field"),
        (json!([{ "meter": "0x12", "from": "2026-01-01", "to": "2026-01-01" }]), "invalid"),
    ] {
        let err = node.call("daisee_days", params.clone()).expect_err("refused");
        assert!(format!("{err:?}").contains(says), "{params}: {err:?}");
    }
    let err = node
        .call(
            "daisee_records",
            json!([{ "meter": meter, "from": "2026-01-01", "to": "2026-01-01", "after": "0xzz" }]),
        )
        .expect_err("refused");
    assert!(format!("{err:?}").contains("cursor"), "{err:?}");
    let out = daisee()
        .args([
            "records",
            &format!("http://{}", node.rpc),
            "--meter",
            &meter,
            "--from",
            "2026-01-02",
            "--to",
            "2026-01-01",
        ])
        .output()
        .expect("daisee records");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ends"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
