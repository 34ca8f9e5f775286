//! Prometheus metrics (`--metrics`): the exporter on its own port (loopback by default, as geth's
//! `--metrics.addr`), and a collector that every few seconds reads what the node, the meters, the
//! store and the disk say. Timings and per-method counts are recorded where they happen (block
//! import and sealing, every JSON-RPC method) through the `metrics` facade, which costs nothing
//! when no exporter is installed. Names follow go-ethereum's where it has one (`chain_head_block`,
//! `p2p_peers`, `txpool_pending`, `txpool_queued`, `rpc_requests`…), `daisee_*` otherwise.

use crate::meter::StatusBoard;
use crate::node::Node;
use metrics::{counter, gauge};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

/// How often the collector reads the node.
const EVERY: Duration = Duration::from_secs(5);

/// Why metrics could not start.
#[derive(Debug, thiserror::Error)]
#[error("metrics on {addr}: {reason}")]
pub struct MetricsError {
    addr: SocketAddr,
    reason: String,
}

/// Starts the exporter on `addr` (inside a tokio runtime). Durations are histograms in seconds.
pub fn install(addr: SocketAddr) -> Result<(), MetricsError> {
    let error = |e: &dyn std::fmt::Display| MetricsError { addr, reason: e.to_string() };
    // Probe the port first: the exporter binds in a background task and would fail silently.
    drop(std::net::TcpListener::bind(addr).map_err(|e| error(&e))?);
    let buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets(&buckets)
        .map_err(|e| error(&e))?
        .install()
        .map_err(|e| error(&e))
}

/// Reads the node every few seconds until `stop`.
pub async fn collect(
    node: Node,
    board: StatusBoard,
    datadir: Option<PathBuf>,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
        let (node, board, datadir) = (node.clone(), board.clone(), datadir.clone());
        let _ =
            tokio::task::spawn_blocking(move || sample(&node, &board, datadir.as_deref())).await;
    }
}

/// One reading of everything that is a level rather than an event.
pub fn sample(node: &Node, board: &StatusBoard, datadir: Option<&Path>) {
    let head = node.head();
    gauge!("chain_head_block").set(head.number as f64);
    gauge!("chain_head_timestamp_seconds").set(head.timestamp as f64);
    // Positive: the head is that old. Negative: the head is in this board's future (its clock is
    // behind the chain's).
    gauge!("daisee_head_age_seconds").set(crate::node::unix_now() as f64 - head.timestamp as f64);
    gauge!("p2p_peers").set(node.peer_count().unwrap_or(0) as f64);
    let clock = node.clock();
    if let Some(offset) = clock.peers_offset {
        gauge!("daisee_peers_clock_offset_seconds").set(offset as f64);
    }
    gauge!("daisee_clock_problem").set(if clock.problem.is_some() { 1.0 } else { 0.0 });
    // 1: peers scheduled an upgrade this board lacks; 2: it stopped sealing for it.
    let upgrades = node.upgrades();
    let missing = match (&upgrades.stopped, upgrades.peers_schedule) {
        (Some(_), _) => 2.0,
        (None, Some(_)) => 1.0,
        _ => 0.0,
    };
    gauge!("daisee_upgrade_missing").set(missing);
    let (pending, queued) = node.pool_counts();
    gauge!("txpool_pending").set(pending as f64);
    gauge!("txpool_queued").set(queued as f64);
    counter!("chain_reorgs_total").absolute(node.reorg_count());
    for m in board.all() {
        let meter = m.name.clone();
        counter!("daisee_readings_confirmed_total", "meter" => meter.clone())
            .absolute(m.sender.confirmed);
        counter!("daisee_readings_reverted_total", "meter" => meter.clone())
            .absolute(m.sender.reverts);
        counter!("daisee_readings_resent_total", "meter" => meter.clone())
            .absolute(m.sender.resent);
        counter!("daisee_interval_gaps_total", "meter" => meter.clone()).absolute(m.gaps);
        gauge!("daisee_outbox_readings", "meter" => meter.clone()).set(m.outbox as f64);
        if let Some(market) = &m.market {
            counter!("daisee_settlements_total", "meter" => meter.clone()).absolute(market.settled);
        }
        for s in &m.sensors {
            let direction = format!("{:?}", s.direction).to_lowercase();
            let frames = [
                ("accepted", s.stats.accepted),
                ("corrupt", s.stats.corrupt),
                ("implausible", s.stats.implausible),
                ("duplicate", s.stats.duplicates),
                ("overrun", s.stats.overruns),
                ("timeout", s.stats.timeouts),
                ("refused", s.stats.refused),
            ];
            for (kind, n) in frames {
                let labels = [
                    ("meter", meter.clone()),
                    ("direction", direction.clone()),
                    ("kind", kind.to_string()),
                ];
                counter!("daisee_sensor_frames_total", &labels).absolute(n);
            }
            if let Some(mv) = s.battery_mv {
                gauge!("daisee_sensor_battery_volts", "meter" => meter.clone(), "direction" => direction.clone())
                    .set(f64::from(mv) / 1000.0);
            }
            if let Some(age) = s.last_sample_age_ms {
                gauge!("daisee_sensor_silence_seconds", "meter" => meter.clone(), "direction" => direction)
                    .set(age as f64 / 1000.0);
            }
        }
    }
    if let Some(dir) = datadir {
        gauge!("daisee_db_size_bytes")
            .set(crate::disk_watch::dir_size(&dir.join("daisee").join("chaindata")) as f64);
        if let Some((free, total)) = crate::disk_watch::space(dir) {
            gauge!("daisee_disk_free_bytes").set(free as f64);
            gauge!("daisee_disk_size_bytes").set(total as f64);
        }
    }
}
