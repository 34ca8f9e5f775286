//! A board joining a town that has run for a long while: a chain of `TOWN_SYNC_DAYS` days of
//! 15-minute readings from `TOWN_SYNC_HOUSEHOLDS` households at the community gas limit, sealed
//! with past timestamps by the bench fixture (`bench::history`), is served by one board; a fresh
//! board with the same genesis syncs it over the sync protocol on loopback. Measured: the time to
//! the head, blocks and readings per second, the disk of each, the fresh board's daybook catching
//! up; and the fresh board stays usable while it syncs — its dashboard page and
//! `daisee_community` answer at every look, and end on the same figures as the serving board's.
//! The short version (100 households, 2 days) runs in `bash tests/run`; `tests/town-sync` runs the
//! town's size in release and writes `target/town-sync-report.json`.

use crate::support::*;
use daisee_node::bench::history::{seal_history, HistorySpec};
use daisee_node::community::{community_genesis, dev_spec, COMMUNITY_GAS_LIMIT};
use daisee_node::disk_watch::dir_size;
use daisee_node::node::unix_now;
use daisee_node::primitives::{keccak256, PrivateKey};
use daisee_node::service::layout;
use daisee_node::state::Store;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn a_board_joins_a_small_town_with_two_days_of_history() {
    joins(2, 100);
}

#[test]
#[ignore = "the town's size: tests/town-sync runs it in release"]
fn a_board_joins_a_town_of_a_thousand_households() {
    joins(env_or("TOWN_SYNC_DAYS", 7), env_or("TOWN_SYNC_HOUSEHOLDS", 1000) as usize);
}

fn joins(days: u64, households: usize) {
    let (a, b) = (TempDir::new("town-sync-a"), TempDir::new("town-sync-b"));
    let keys: Vec<PrivateKey> = (0..=households)
        .map(|i| PrivateKey::from_bytes(&keccak256(format!("town household {i}"))).unwrap())
        .collect();
    let mut spec = dev_spec(&keys, 0);
    spec.gas_limit = COMMUNITY_GAS_LIMIT;
    let genesis = community_genesis(&spec).expect("genesis");
    let genesis_file = a.path().join("genesis.json");
    std::fs::write(&genesis_file, serde_json::to_string(&genesis.to_json()).unwrap()).unwrap();
    let store = Store::open(&layout::chaindata(a.path())).expect("store");
    store.init_genesis(&genesis).expect("init");
    let history = HistorySpec {
        end: unix_now() - 120,
        sparse_days: days,
        sparse_step: 60,
        dense_hours: 0,
        dense_step: 60,
        interval: 900,
        buy_every: 0,
        rate_changes: vec![],
        max_readings_per_block: 400,
    };
    let sealed = seal_history(store.clone(), &keys[0], &keys[1..], &history).expect("history");
    drop(store);
    let served_bytes = dir_size(&layout::chaindata(a.path()));
    eprintln!("sealed {sealed:?}, {served_bytes} bytes");

    daisee_ok(&["init", genesis_file.to_str().unwrap(), "--datadir", b.str()]);
    let server = NodeProcess::peer(&a, None);
    let target = server.ok("eth_getBlockByNumber", json!(["latest", false]));
    let head = quantity(&target["number"]);
    assert_eq!(head, sealed.blocks);
    let peer = server.line("p2p: ");
    let started = Instant::now();
    let fresh = NodeProcess::start(&[
        "run",
        "--datadir",
        b.str(),
        "--dashboard",
        "--port",
        "0",
        "--p2p.addr",
        "127.0.0.1",
        "--bootnodes",
        &peer,
    ]);
    // While it syncs: the page and the summary answer at every look.
    let mut looks = 0;
    let mut slowest = Duration::ZERO;
    let mut progress = Vec::new();
    loop {
        let asked = Instant::now();
        let summary = fresh.ok("daisee_community", json!([{ "limit": 5 }]));
        slowest = slowest.max(asked.elapsed());
        assert_eq!(http_get(&fresh.rpc, "/").0, 200, "the dashboard is served while syncing");
        looks += 1;
        let at = quantity(&summary["block"]);
        progress.push((started.elapsed().as_secs_f64(), at));
        if at >= head {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(3600), "stuck at {at} of {head}");
        std::thread::sleep(Duration::from_millis(1000));
    }
    let synced_s = started.elapsed().as_secs_f64();
    let ours = fresh.ok("eth_getBlockByNumber", json!([format!("{head:#x}"), false]));
    assert_eq!(ours["hash"], target["hash"], "the same chain");
    assert_eq!(ours["stateRoot"], target["stateRoot"], "the same state");
    let theirs = server.ok("daisee_community", json!([{ "limit": 1000 }]));
    let mine = fresh.ok("daisee_community", json!([{ "limit": 1000 }]));
    assert_eq!(mine["totals"], theirs["totals"], "the same figures");
    assert_eq!(mine["page"], theirs["page"]);
    assert_eq!(mine["households"], json!(households + 1), "the households and the owner's meter");
    // Its daybook catches up behind the chain.
    let indexed = |node: &NodeProcess| -> Option<u64> {
        let days = node.ok("daisee_days", json!([{ "from": "2026-01-01", "to": "2026-01-01" }]));
        days["indexedBlock"].as_str().map(|h| u64::from_str_radix(&h[2..], 16).unwrap())
    };
    wait_for("the daybook", Duration::from_secs(1800), || indexed(&fresh) >= Some(head));
    let indexed_s = started.elapsed().as_secs_f64();
    assert_eq!(mine_intervals(&fresh), mine_intervals(&server), "the same day per interval");
    let synced_bytes = dir_size(b.path());
    assert!(fresh.terminate());
    assert!(server.terminate());

    let year = 365.0 / days as f64;
    let report = json!({
        "households": households,
        "days": days,
        "blocks": sealed.blocks,
        "readings": sealed.readings,
        "sealSeconds": sealed.seconds,
        "servedBytes": served_bytes,
        "syncSeconds": synced_s,
        "blocksPerSecond": sealed.blocks as f64 / synced_s,
        "readingsPerSecond": sealed.readings as f64 / synced_s,
        "daybookCaughtUpSeconds": indexed_s,
        "syncedBytes": synced_bytes,
        "bytesPerReading": synced_bytes / sealed.readings.max(1),
        "looksWhileSyncing": looks,
        "slowestSummaryMs": slowest.as_secs_f64() * 1000.0,
        "progress": progress.iter().step_by((progress.len() / 20).max(1)).collect::<Vec<_>>(),
        "aYearAtThisRate": {
            "syncHours": synced_s * year / 3600.0,
            "daybookHours": indexed_s * year / 3600.0,
            "diskGiB": synced_bytes as f64 * year / (1u64 << 30) as f64,
        },
    });
    eprintln!("{}", serde_json::to_string_pretty(&report).unwrap());
    if let Ok(path) = std::env::var("TOWN_SYNC_REPORT") {
        std::fs::write(path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    }
}

fn mine_intervals(node: &NodeProcess) -> Value {
    node.ok("daisee_community", json!([{ "limit": 0 }]))["intervals"].clone()
}
