//! Years on a board: what an operator reads and scrapes — logs without terminal colour codes in
//! files and the journal, JSON logs on request, Prometheus metrics scraped by a real Prometheus.

use crate::support::*;
use std::time::Duration;

#[test]
fn logs_carry_no_colour_codes_off_a_terminal_and_json_on_request() {
    let info = [("RUST_LOG", "info")];
    let node = NodeProcess::start_with_env(&["dev", "--dev.no-meters"], &info);
    node.logged("JSON-RPC on", Duration::from_secs(10));
    let lines = node.lines();
    assert!(lines.iter().any(|l| l.contains("INFO")), "{lines:?}");
    assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "no escape codes: {lines:?}");
    drop(node);

    let node =
        NodeProcess::start_with_env(&["dev", "--dev.no-meters", "--log.format", "json"], &info);
    node.logged("JSON-RPC on", Duration::from_secs(10));
    let logs: Vec<serde_json::Value> = node
        .lines()
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let rpc =
        logs.iter().find(|l| l["message"].as_str().is_some_and(|m| m.contains("JSON-RPC on")));
    let rpc = rpc.expect("the JSON-RPC line as JSON");
    assert_eq!(rpc["level"], "INFO");
    assert_eq!(rpc["target"], "daisee::rpc");
    assert!(rpc["timestamp"].is_string());
    let bad = daisee().args(["--log.format", "xml", "version"]).output().expect("run");
    assert!(!bad.status.success());
}

/// A free TCP port on loopback.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Percent-encodes a PromQL query for a URL.
fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of a PromQL query with one result, once Prometheus has one.
fn query(prometheus: &str, promql: &str) -> Option<f64> {
    use std::io::{Read, Write};
    // Prometheus takes a moment to listen: a refused connection is "not yet".
    let mut stream = std::net::TcpStream::connect(prometheus).ok()?;
    let path = format!("/api/v1/query?query={}", encode(promql));
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {prometheus}\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    if !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    let answer: serde_json::Value = serde_json::from_str(body).ok()?;
    answer["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

#[test]
fn a_real_prometheus_scrapes_the_node() {
    let binary = std::env::var("PROMETHEUS").unwrap_or_else(|_| "/usr/bin/prometheus".into());
    assert!(
        std::path::Path::new(&binary).exists(),
        "Prometheus is not installed: run `bash tests/run` (apt-get install prometheus)"
    );
    let datadir = TempDir::new("metrics");
    let port = free_port().to_string();
    let node = NodeProcess::start(&[
        "dev",
        "--datadir",
        datadir.str(),
        "--dev.meter-speed",
        "150",
        "--metrics",
        "--metrics.port",
        &port,
    ]);
    node.ok("eth_blockNumber", serde_json::json!([]));
    let dir = TempDir::new("prometheus");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: daisee\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .expect("config");
    let web = format!("127.0.0.1:{}", free_port());
    let mut prometheus = std::process::Command::new(&binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address={web}"))
        .arg("--log.level=warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start prometheus");
    let checks = [
        ("up{job=\"daisee\"}", 1.0),
        ("chain_head_block", 2.0),
        ("sum(daisee_readings_confirmed_total)", 1.0),
        ("rpc_requests_total{method=\"eth_blockNumber\"}", 1.0),
        ("daisee_seal_seconds_count", 1.0),
        ("daisee_db_size_bytes", 1.0),
        ("daisee_disk_free_bytes", 1.0),
        ("txpool_pending + txpool_queued + 1", 1.0),
        ("p2p_peers + 1", 1.0),
    ];
    let start = std::time::Instant::now();
    let mut missing = Vec::new();
    for (promql, at_least) in checks {
        loop {
            match query(&web, promql) {
                Some(v) if v >= at_least => break,
                other if start.elapsed() > Duration::from_secs(60) => {
                    missing.push(format!("{promql} = {other:?}"));
                    break;
                }
                _ => std::thread::sleep(Duration::from_millis(500)),
            }
        }
    }
    // Every series the Grafana dashboard in the repository draws is one the node exports.
    let (_, _, exported) = http_get(&format!("127.0.0.1:{port}"), "/metrics");
    let exported = String::from_utf8_lossy(&exported);
    let grafana: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("../docs/grafana/daisee-boards.json").expect("dashboard"),
    )
    .expect("JSON");
    let names = regex_free_names(&grafana.to_string());
    assert!(names.len() > 10, "{names:?}");
    // Series of events a lone dev chain never has: blocks imported from peers, failed calls.
    let after_events = ["chain_import_seconds", "rpc_failures_total"];
    for name in names.iter().filter(|n| !after_events.contains(&n.as_str())) {
        assert!(
            exported.contains(name.as_str()),
            "{name} is drawn by the Grafana dashboard but not exported"
        );
    }
    let head = quantity(&node.ok("eth_blockNumber", serde_json::json!([])));
    let scraped = query(&web, "chain_head_block").unwrap_or_default();
    let _ = prometheus.kill();
    let _ = prometheus.wait();
    assert!(missing.is_empty(), "Prometheus did not see: {missing:?}");
    assert!(scraped <= head as f64, "the scraped head {scraped} is a block the node has ({head})");
}

/// The metric names a dashboard's queries use (`chain_…`, `p2p_…`, `txpool_…`, `rpc_…`,
/// `daisee_…`), without the histogram suffixes the exporter adds itself.
fn regex_free_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for (i, _) in text.match_indices(['c', 'p', 't', 'r', 'd']) {
        let rest = &text[i..];
        let before = if i > 0 { text.as_bytes()[i - 1] } else { b' ' };
        if before.is_ascii_alphanumeric() || before == b'_' {
            continue;
        }
        if !["chain_", "p2p_", "txpool_", "rpc_", "daisee_"].iter().any(|p| rest.starts_with(p)) {
            continue;
        }
        let name: String =
            rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        names.insert(name.trim_end_matches("_bucket").to_string());
    }
    names.remove("daisee_boards");
    names
}

#[test]
fn db_stats_says_what_the_database_holds_and_refuses_a_running_node() {
    let datadir = TempDir::new("dbstats");
    let node = NodeProcess::start(&["dev", "--datadir", datadir.str(), "--dev.meter-speed", "300"]);
    let start = std::time::Instant::now();
    while quantity(&node.ok("eth_blockNumber", serde_json::json!([]))) < 10 {
        assert!(start.elapsed() < Duration::from_secs(60), "no blocks");
        std::thread::sleep(Duration::from_millis(200));
    }
    let running = daisee().args(["db", "stats", "--datadir", datadir.str()]).output().expect("run");
    assert!(!running.status.success());
    let said = String::from_utf8_lossy(&running.stderr);
    assert!(said.contains("is a node running on this datadir?"), "{said}");
    assert!(node.terminate());
    let out = daisee_ok(&["db", "stats", "--datadir", datadir.str(), "--json"]);
    let stats: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert!(stats["head"].as_u64().unwrap() >= 10);
    for kind in [
        "blocks: receipts",
        "blocks: bodies",
        "state: storage",
        "changesets (reorgs, history)",
        "daybook",
        "meters' outbox",
    ] {
        assert!(stats["kinds"][kind]["bytes"].as_u64().is_some_and(|b| b > 0), "{kind}: {stats}");
    }
    assert!(stats["onDisk"].as_u64().unwrap() > 0);
    let table = daisee_ok(&["db", "stats", "--datadir", datadir.str()]);
    assert!(table.contains("per block"), "{table}");
}

/// A size-limited tmpfs mounted for this test (as root), unmounted on drop.
#[test]
fn the_systemd_unit_verifies_and_is_hardened() {
    let analyze = "/usr/bin/systemd-analyze";
    assert!(
        std::path::Path::new(analyze).exists(),
        "systemd-analyze is missing (Debian's systemd package)"
    );
    let unit = std::fs::read_to_string("debian/daisee.service").expect("the unit");
    let dir = TempDir::new("unit");
    let path = dir.path().join("daisee.service");
    // verify checks that ExecStart's binary exists: point it at the one under test.
    std::fs::write(&path, unit.replace("/usr/bin/daisee", env!("CARGO_BIN_EXE_daisee")))
        .expect("write");
    let verify =
        std::process::Command::new(analyze).arg("verify").arg(&path).output().expect("verify");
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success() && said.trim().is_empty(), "systemd-analyze verify: {said}");
    let security = std::process::Command::new(analyze)
        .args(["security", "--offline=true"])
        .arg(&path)
        .output()
        .expect("security");
    let text = String::from_utf8_lossy(&security.stdout);
    let level: f64 = text
        .lines()
        .find_map(|l| l.split("Overall exposure level for daisee.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in {text}"));
    assert!(level <= 2.0, "exposure {level} (systemd's scale: 0 safe … 10 exposed)");
    assert!(
        unit.contains("ProtectSystem=strict") && unit.contains("ReadWritePaths=/var/lib/daisee")
    );
}
