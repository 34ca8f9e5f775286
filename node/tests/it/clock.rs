//! Boards with wrong clocks (Debian's libfaketime under the node, its offset read from a file the
//! test rewrites): one boots in 1970 and one jumps an hour ahead. Each says what is wrong
//! (`daisee_status`, the log), nobody bans anybody for it, the board ahead seals nothing the
//! others would refuse, and both carry on by themselves once their clock is set right.

use crate::network::{agree, head, ADDRESSES, BOARDS};
use crate::support::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// A bf7 signer board on loopback whose clock is `offset` away (a file the test rewrites).
fn board(i: usize, dir: &TempDir, bootnodes: &[String], clock: Option<&Path>) -> NodeProcess {
    let keystore = format!("../config/{}/keystore", BOARDS[i]);
    let password = format!("../config/{}/password.txt", BOARDS[i]);
    let mut args = vec![
        "run",
        "--datadir",
        dir.str(),
        "--networkid",
        "69",
        "--mine",
        "--unlock",
        ADDRESSES[i],
        "--password",
        &password,
        "--keystore",
        &keystore,
        "--seal-empty",
        "--http",
        "--http.api",
        "eth,net,web3,clique,admin,daisee",
        "--port",
        "0",
        "--p2p.addr",
        "127.0.0.1",
    ];
    let joined = bootnodes.join(",");
    if !bootnodes.is_empty() {
        args.extend(["--bootnodes", &joined]);
    }
    let env: Vec<(&str, String)> = match clock {
        Some(file) => vec![
            ("LD_PRELOAD", LIBFAKETIME.into()),
            ("FAKETIME_TIMESTAMP_FILE", file.display().to_string()),
            ("FAKETIME_NO_CACHE", "1".into()),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1".into()),
            ("RUST_LOG", "warn".into()),
        ],
        None => vec![],
    };
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    NodeProcess::start_with_env(&args, &env)
}

fn set_clock(file: &PathBuf, offset_s: i64) {
    std::fs::write(file, format!("{offset_s:+}\n")).expect("write the clock file");
}

fn status(node: &NodeProcess) -> Value {
    node.ok("daisee_status", json!([]))
}

fn sealed_by(node: &NodeProcess, from: u64, signer: &str) -> bool {
    let (to, _) = head(node);
    (from..=to).any(|n| {
        node.ok("clique_getSigner", json!([format!("{n:#x}")])).as_str().map(str::to_lowercase)
            == Some(signer.to_lowercase())
    })
}

#[test]
fn a_board_booting_in_1970_and_one_jumping_ahead_say_so_ban_nobody_and_recover() {
    assert!(
        Path::new(LIBFAKETIME).exists(),
        "libfaketime is not installed: run `bash tests/run` (apt-get install libfaketime)"
    );
    let dirs: Vec<TempDir> = (0..2).map(|i| TempDir::new(&format!("clock-{i}"))).collect();
    for dir in &dirs {
        daisee_ok(&["init", "../genesis/bf7.json", "--datadir", dir.str()]);
    }
    let clock = dirs[1].path().join("clock");
    let a = board(0, &dirs[0], &[], None);
    let pa = a.line("p2p: ");
    agree(&[&a], 1, Duration::from_secs(30));

    // Board 2 boots in 1970 (a Pi without its real-time clock, before NTP answers).
    let now = daisee_node::node::unix_now() as i64;
    set_clock(&clock, -now + 1000);
    let b = board(1, &dirs[1], std::slice::from_ref(&pa), Some(&clock));
    wait_for("board 2 says its clock is wrong", Duration::from_secs(30), || {
        status(&b)["clock"]["problem"].as_str().is_some_and(|p| p.contains("it is wrong"))
            && status(&b)["clock"]["peersOffset"].as_i64().is_some()
    });
    let report = status(&b)["clock"].clone();
    assert!(report["now"].as_u64().unwrap() < 100_000, "{report}");
    assert!(report["peersOffset"].as_i64().unwrap() > 1_000_000_000, "{report}");
    b.logged("check NTP", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(a.ok("net_peerCount", json!([])), json!("0x1"), "nobody was banned for it");
    assert_eq!(b.ok("net_peerCount", json!([])), json!("0x1"));
    assert!(!a.lines().iter().any(|l| l.contains("banning")), "{:?}", a.lines());

    // NTP answers: board 2 catches up and seals again by itself.
    set_clock(&clock, 0);
    let (now_head, _) = head(&a);
    agree(&[&a, &b], now_head + 2, Duration::from_secs(60));
    wait_for("board 2 seals again", Duration::from_secs(60), || {
        sealed_by(&a, now_head + 1, ADDRESSES[1])
    });
    wait_for("board 2's clock is fine", Duration::from_secs(20), || {
        status(&b)["clock"]["problem"].is_null()
    });

    // Board 2's clock jumps an hour ahead: it seals nothing board 1 would refuse, and says so.
    set_clock(&clock, 3600);
    wait_for("board 2 says its clock is ahead", Duration::from_secs(30), || {
        status(&b)["clock"]["problem"].as_str().is_some_and(|p| p.contains("ahead"))
    });
    let (stalled, _) = head(&a);
    std::thread::sleep(Duration::from_secs(12));
    let (after, _) = head(&a);
    assert!(after <= stalled + 1, "board 1 alone seals at most one block in two");
    assert!(!sealed_by(&b, stalled + 1, ADDRESSES[1]), "board 2 sealed nothing while ahead");
    let a_now = daisee_node::node::unix_now();
    let newest = a.ok("eth_getBlockByNumber", json!(["latest", false]));
    assert!(quantity(&newest["timestamp"]) <= a_now, "board 1's head is not in its future");
    assert!(!a.lines().iter().any(|l| l.contains("banning")), "{:?}", a.lines());
    assert_eq!(a.ok("net_peerCount", json!([])), json!("0x1"));

    // Set right again: the chain goes on with both.
    set_clock(&clock, 0);
    let (now_head, _) = head(&a);
    agree(&[&a, &b], now_head + 2, Duration::from_secs(60));
}
