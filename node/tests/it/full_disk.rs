//! A full disk, on a size-limited tmpfs the tests mount under a running node: the meters keep
//! their readings in memory and across the restart, transactions are refused, the sealer stops
//! and says so once a minute, and the node keeps answering.

use crate::support::*;
use daisee_node::primitives::{Bytes, U256};
use std::time::Duration;

struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn new(name: &str, megabytes: u32) -> Self {
        let path = std::env::temp_dir().join(format!("daisee-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&path).expect("mount point");
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&path)
            .status()
            .expect("mount");
        assert!(status.success(), "mounting a tmpfs needs root");
        Self(path)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Fills `disk` (a 64 MiB file on a smaller tmpfs).
fn fill(disk: &SmallDisk) -> std::path::PathBuf {
    let filler = disk.0.join("filler");
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", &format!("of={}", filler.display()), "bs=1M", "count=64"])
        .stderr(std::process::Stdio::null())
        .status();
    filler
}

#[test]
fn a_full_disk_keeps_readings_in_memory_says_so_once_a_minute_and_keeps_answering() {
    let disk = SmallDisk::new("full", 32);
    let datadir = disk.0.join("d");
    let datadir = datadir.to_str().expect("path");
    let node = NodeProcess::start(&["dev", "--datadir", datadir, "--dev.meter-speed", "300"]);
    let start = std::time::Instant::now();
    while quantity(&node.ok("eth_blockNumber", serde_json::json!([]))) < 5 {
        assert!(start.elapsed() < Duration::from_secs(60), "no blocks");
        std::thread::sleep(Duration::from_millis(200));
    }
    let filler = fill(&disk);
    let warned = node.logged("is almost full", Duration::from_secs(30));
    assert!(warned.contains("free space"), "{warned}");
    let said = node.logged("cannot store readings", Duration::from_secs(30));
    assert!(said.contains("full disk?"), "{said}");
    // Readings go on closing (one a second at 300x) and wait in memory, shown as the outbox.
    let outbox = || -> u64 {
        let meters = node.ok("daisee_meters", serde_json::json!([]));
        meters.as_array().expect("meters").iter().map(|m| m["outbox"].as_u64().unwrap_or(0)).sum()
    };
    let before = outbox();
    std::thread::sleep(Duration::from_secs(6));
    assert!(
        outbox() > before,
        "readings are kept while the store fails ({before} then {})",
        outbox()
    );
    // The node keeps answering (the meters' status; reads from the database may fail once sled
    // has hit the full disk: its error is sticky), and the log is not flooded.
    let _ = node.call("eth_getBlockByNumber", serde_json::json!(["latest", false]));
    assert!(node.call("daisee_meters", serde_json::json!([])).is_ok());
    // A transaction is refused with a clear error (it could not be kept across a restart), and
    // the board's status says what is wrong and what to do.
    let tx =
        signed(&dev_key(5), 31337, 0, dev_key(6).address(), U256::from(1), Bytes::new(), 21_000);
    let refused = node.call("eth_sendRawTransaction", serde_json::json!([raw(&tx)]));
    let said = format!("{refused:?}");
    assert!(said.contains("cannot journal the transaction"), "{said}");
    let status = node.ok("daisee_status", serde_json::json!([]));
    let problem = status["storage"]["problem"].as_str().unwrap_or_default().to_string();
    assert!(problem.contains("free space") && problem.contains("restart"), "{status}");
    let lines = node.lines().iter().filter(|l| l.contains("cannot store readings")).count();
    assert!(lines <= 3, "{lines} lines: once a minute, not on every tick");
    // As the message says: free space, then restart. The readings held in memory go to a file
    // at the stop (the database of that process still refuses) and come back at the start.
    let _ = std::fs::remove_file(&filler);
    let held = outbox();
    // It exits with an error status (its final flush fails too): systemd restarts it.
    let _ = node.terminate();
    let spilled: Vec<_> = std::fs::read_dir(std::path::Path::new(datadir).join("daisee"))
        .expect("datadir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("unsaved-readings-"))
        .collect();
    assert!(!spilled.is_empty(), "the unsaved readings were written at the stop");
    let spilled_ends: Vec<(String, Vec<u64>)> = spilled
        .iter()
        .map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let meter = name.trim_start_matches("unsaved-readings-").trim_end_matches(".json");
            let list: serde_json::Value =
                serde_json::from_slice(&std::fs::read(e.path()).expect("read")).expect("json");
            let ends = list.as_array().expect("list").iter();
            (meter.to_string(), ends.map(|r| r["interval_end"].as_u64().expect("end")).collect())
        })
        .collect();
    let spilled_readings: usize = spilled_ends.iter().map(|(_, e)| e.len()).sum();
    assert!(
        spilled_readings > 0 && spilled_readings as u64 <= held,
        "{spilled_readings} of {held}"
    );
    let node = NodeProcess::start(&["dev", "--datadir", datadir, "--dev.meter-speed", "300"]);
    node.logged("taking back the readings", Duration::from_secs(30));
    wait_for("the spill files taken back", Duration::from_secs(30), || {
        spilled.iter().all(|e| !e.path().exists())
    });
    // Every one of them is on chain now, each interval once: the daybook lists them.
    for (meter, ends) in &spilled_ends {
        let (first, last) = (ends.iter().min().unwrap(), ends.iter().max().unwrap());
        let day = |t: u64| {
            let d = jiff::Timestamp::from_second(t as i64 - 1)
                .unwrap()
                .to_zoned(jiff::tz::TimeZone::UTC);
            d.date().to_string()
        };
        wait_for("the taken-back readings on chain", Duration::from_secs(60), || {
            let page = node.ok(
                "daisee_records",
                serde_json::json!([{ "meter": meter, "from": day(*first), "to": day(*last) }]),
            );
            let on_chain: Vec<u64> = page["records"]
                .as_array()
                .expect("records")
                .iter()
                .filter(|r| r["type"] == "reading")
                .filter_map(|r| r["time"].as_u64())
                .collect();
            ends.iter().all(|end| on_chain.iter().filter(|t| *t == end).count() == 1)
        });
    }
    assert!(node.terminate());
}

#[test]
fn a_full_disk_stops_the_sealer_which_says_so_once_a_minute() {
    let disk = SmallDisk::new("seal", 32);
    let datadir = disk.0.join("d");
    let datadir = datadir.to_str().expect("path");
    let node = NodeProcess::start(&[
        "dev",
        "--datadir",
        datadir,
        "--dev.no-meters",
        "--dev.period",
        "4",
        "--seal-empty",
        "--http.api",
        "eth,daisee",
    ]);
    // A block every 4 s, so that a seal is tried soon after the disk fills (a write sled fits
    // in a segment it already holds may still succeed: the next one fails).
    let tx =
        signed(&dev_key(1), 31337, 0, dev_key(2).address(), U256::from(1), Bytes::new(), 21_000);
    node.ok("eth_sendRawTransaction", serde_json::json!([raw(&tx)]));
    node.wait_receipt(&tx.hash(), Duration::from_secs(30));
    let head = quantity(&node.ok("eth_blockNumber", serde_json::json!([])));
    let _filler = fill(&disk);
    let said = node.logged("sealing stopped", Duration::from_secs(30));
    assert!(said.contains("free space") && said.contains("restart"), "{said}");
    let status = node.ok("daisee_status", serde_json::json!([]));
    let problem = status["storage"]["problem"].as_str().unwrap_or_default().to_string();
    assert!(problem.contains("sealing stopped"), "{status}");
    // No more blocks (one sealed as the disk filled, and the one whose write failed, may show
    // until the restart drops it: sled took it in memory, the flush failed; it was never sent to
    // peers), no retry storm in the log, and reads still answer.
    let stopped = quantity(&node.ok("eth_blockNumber", serde_json::json!([])));
    assert!(stopped <= head + 3, "{stopped} after {head}");
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(quantity(&node.ok("eth_blockNumber", serde_json::json!([]))), stopped);
    let lines = node.lines().iter().filter(|l| l.contains("sealing stopped")).count();
    assert_eq!(lines, 1, "once a minute, not on every attempt");
}
