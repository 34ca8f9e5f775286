//! How fast blocks travel the town, read from the boards' own logs: each board logs every block
//! it seals or imports (`daisee::chain` at info, with the block's hash) stamped by the clock all
//! the boards share (one machine), so a block's time to reach 95 % and 100 % of the boards is
//! counted from the first board that had it (its sealer) to the board that took it last —
//! without polling 50 boards over HTTP, which on a loaded machine measured the pollers.

use std::collections::HashMap;

/// What the boards log at: warnings, and the blocks they seal or import.
pub const BOARD_LOG: &str = "warn,daisee::chain=info";

/// The blocks a board logged (hash → unix seconds of the first line that named it).
pub fn arrivals(lines: &[String]) -> HashMap<String, f64> {
    let mut seen = HashMap::new();
    for line in lines {
        if !(line.contains("imported block") || line.contains("sealed block")) {
            continue;
        }
        let Some(at) = line.split_whitespace().next().and_then(unix_seconds) else { continue };
        let Some(hash) = line.split_whitespace().find_map(|w| w.strip_prefix("hash=")) else {
            continue;
        };
        seen.entry(hash.to_string()).or_insert(at);
    }
    seen
}

/// For each block first had within `window` (unix s) by some board and taken by at least 95 %
/// of the boards: seconds from the first board to 95 % of them, and to all (`None` if some
/// board never logged it).
pub fn propagation(boards: &[HashMap<String, f64>], window: (f64, f64)) -> Vec<(f64, Option<f64>)> {
    let mut blocks: HashMap<&str, Vec<f64>> = HashMap::new();
    for board in boards {
        for (hash, at) in board {
            blocks.entry(hash).or_default().push(*at);
        }
    }
    let (all, need) = (boards.len(), (boards.len() * 95).div_ceil(100));
    let mut out: Vec<(f64, f64, Option<f64>)> = blocks
        .into_values()
        .filter(|times| times.len() >= need)
        .filter_map(|mut times| {
            times.sort_by(f64::total_cmp);
            let first = times[0];
            (window.0..=window.1).contains(&first).then(|| {
                let at = |k: usize| times[k - 1] - first;
                (first, at(need), (times.len() == all).then(|| at(all)))
            })
        })
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out.into_iter().map(|(_, p95, p100)| (p95, p100)).collect()
}

/// `2026-12-03T11:25:20.232274Z` (tracing's timestamps) in unix seconds.
fn unix_seconds(stamp: &str) -> Option<f64> {
    let at: jiff::Timestamp = stamp.parse().ok()?;
    Some(at.as_microsecond() as f64 / 1e6)
}

#[test]
fn block_arrivals_are_read_from_board_logs_and_timed_from_the_first_board() {
    assert_eq!(unix_seconds("1970-01-02T00:00:01.5Z"), Some(86_401.5));
    assert_eq!(unix_seconds("2026-12-03T00:00:00Z"), Some(1_796_256_000.0));
    assert_eq!(unix_seconds("garbage"), None);
    let line = |t: &str, what: &str, hash: &str| {
        format!("2026-12-03T10:00:{t}Z  INFO daisee::chain: {what} number=7 hash={hash} txs=1")
    };
    let boards: Vec<HashMap<String, f64>> = (0..20)
        .map(|b| {
            let mut lines =
                vec![line("00.0", if b == 0 { "sealed block" } else { "imported block" }, "0xaa")];
            lines[0] = lines[0].replace("00.0Z", &format!("{:04.1}Z", b as f64 * 0.1));
            // A side block only two boards saw is not timed; nor is a line of another kind.
            if b < 2 {
                lines.push(line("30.0", "imported block", "0xbb"));
            }
            lines.push("2026-12-03T10:00:40Z  WARN daisee::net: hash=0xcc".into());
            arrivals(&lines)
        })
        .collect();
    let start = unix_seconds("2026-12-03T10:00:00Z").unwrap();
    let timed = propagation(&boards, (start, start + 60.0));
    assert_eq!(timed.len(), 1, "{timed:?}");
    let (p95, p100) = timed[0];
    assert!((p95 - 1.8).abs() < 1e-6 && (p100.unwrap() - 1.9).abs() < 1e-6, "{timed:?}");
    assert!(propagation(&boards, (start + 1.0, start + 60.0)).is_empty(), "outside the window");
}
