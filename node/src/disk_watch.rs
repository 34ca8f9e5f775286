//! Warns before the disk fills: every few seconds the free space of the datadir's filesystem is
//! compared with a threshold (a tenth of the filesystem, at most 1 GiB), and crossing it is said
//! in the log — once, then again every hour while it lasts — with what happens when it is full.

use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How often the free space is read.
const EVERY: Duration = Duration::from_secs(10);
/// How often a lasting shortage is said again.
const AGAIN: Duration = Duration::from_secs(3600);
/// The threshold never exceeds this, bytes.
const MAX_THRESHOLD: u64 = 1024 * 1024 * 1024;

/// Free and total bytes of the filesystem holding `path`.
pub fn space(path: &std::path::Path) -> Option<(u64, u64)> {
    let stat = rustix::fs::statvfs(path).ok()?;
    Some((stat.f_bavail * stat.f_frsize, stat.f_blocks * stat.f_frsize))
}

/// Bytes of the files under `path` (a datadir, a database).
pub fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Below this many free bytes a filesystem of `total` bytes is almost full.
pub fn threshold(total: u64) -> u64 {
    (total / 10).min(MAX_THRESHOLD)
}

/// Watches `datadir` until `stop`.
pub async fn watch(datadir: PathBuf, mut stop: watch::Receiver<bool>) {
    let mut said: Option<Instant> = None;
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
        let Some((free, total)) = space(&datadir) else { continue };
        if free >= threshold(total) {
            said = None;
            continue;
        }
        if said.is_none_or(|at| at.elapsed() >= AGAIN) {
            tracing::warn!(
                target: "daisee::disk",
                free_mib = free / (1024 * 1024),
                total_mib = total / (1024 * 1024),
                "the disk holding {} is almost full: when it is, the node stores no more blocks or \
                 readings (it keeps answering reads; the meters hold readings in memory): free space \
                 or move the datadir to a larger card",
                datadir.display()
            );
            said = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenth_of_the_disk_at_most_a_gibibyte() {
        assert_eq!(threshold(32 * 1024 * 1024), 32 * 1024 * 1024 / 10);
        assert_eq!(threshold(64 * 1024 * 1024 * 1024), MAX_THRESHOLD);
        let (free, total) = space(&std::env::temp_dir()).expect("statvfs");
        assert!(total > 0 && free <= total);
    }
}
