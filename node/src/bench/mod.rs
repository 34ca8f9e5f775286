//! `daisee bench`: block throughput measured the same way on a Raspberry Pi and on a laptop. In
//! temporary datadirs it signs N transactions of a workload, then measures sender recovery (one
//! core, then all), sealing (build → execute → state root → commit, the signer's path) and full
//! import by a second node (validate → recover → execute → roots → commit), with the machine,
//! peak memory and bytes written per block.

pub mod client;
mod daybook;
pub mod fixture;
pub mod history;
mod load;
pub mod state_root;
mod table;
pub mod workload;

use crate::chain::{recover_senders, Chain};
use crate::node::unix_now;
use crate::sealer::build_block;
use crate::state::Store;
use crate::txpool::PoolTx;
pub use daybook::DaybookCost;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
pub use workload::Workload;

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Transactions per workload.
    pub txs: usize,
    /// Sending accounts.
    pub accounts: usize,
    /// Transactions per block (at most; the gas limit may cut a block shorter).
    pub block_txs: usize,
    /// Threads for parallel recovery (default: the cores).
    pub threads: usize,
    /// Workloads to run.
    pub workloads: Vec<Workload>,
    /// State sizes (accounts) at which to measure a block's cost.
    pub state_sizes: Vec<usize>,
    /// Days of community history to measure the daybook on (0: skip).
    pub history_days: u64,
    /// Households in that history.
    pub history_households: usize,
}

/// The machine the figures come from.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPU architecture.
    pub arch: &'static str,
    /// Cores available.
    pub cores: usize,
    /// CPU or board model, from /proc/cpuinfo.
    pub model: String,
}

/// Throughput of one stage.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    /// Transactions per second.
    pub tx_per_s: f64,
    /// Blocks per second (block stages).
    pub blocks_per_s: f64,
    /// Million gas per second (block stages).
    pub mgas_per_s: f64,
    /// Median time per block, ms.
    pub p50_ms: f64,
    /// 99th percentile per block, ms.
    pub p99_ms: f64,
}

/// One workload's figures.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadReport {
    /// Which.
    pub workload: Workload,
    /// Transactions measured.
    pub txs: usize,
    /// Blocks they filled.
    pub blocks: usize,
    /// Sender recovery on one core.
    pub recovery_1: Stage,
    /// Sender recovery on `threads` cores.
    pub recovery_n: Stage,
    /// Sealing: build, execute, root, commit.
    pub seal: Stage,
    /// Import by another node: validate, recover, execute, roots, commit.
    pub import: Stage,
    /// End to end through the node's JSON-RPC in batches of 100: submit → block, per
    /// transaction.
    pub rpc: Stage,
    /// The node's CPU time per transaction in that run, µs.
    pub rpc_cpu_us: f64,
    /// The same one transaction per request, as wallets and scripts send them.
    pub rpc_single: Stage,
    /// Blocks sealed in the batched and the one-per-request runs.
    pub rpc_blocks: (u64, u64),
    /// The node's CPU time per transaction in that run, µs.
    pub rpc_single_cpu_us: f64,
    /// Database bytes written per imported block (growth of the database's files).
    pub bytes_per_block: u64,
    /// Bytes the process handed to `write` per imported block (`wchar` of `/proc/self/io`): what
    /// the database wrote, rewrites included (`None` where the kernel does not say).
    pub write_calls_bytes_per_block: Option<u64>,
    /// What those blocks added to the database, by kind: keys and values before sled's own
    /// overhead, per block (a kind that shrank counts as zero).
    pub logical_bytes_per_block: BTreeMap<&'static str, u64>,
}

/// Everything measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchReport {
    /// The machine.
    pub machine: Machine,
    /// Recovery threads.
    pub threads: usize,
    /// Per workload.
    pub workloads: Vec<WorkloadReport>,
    /// A block's cost by state size.
    pub state_root: Vec<state_root::RootCost>,
    /// The daybook on a long chain.
    pub daybook: Option<daybook::DaybookCost>,
    /// Peak resident memory of the process, MiB.
    pub peak_rss_mib: f64,
}

/// Why the benchmark failed.
#[derive(Debug, thiserror::Error)]
#[error("bench: {0}")]
pub struct BenchError(String);

fn err(e: impl std::fmt::Display) -> BenchError {
    BenchError(e.to_string())
}

/// Runs the benchmark in temporary databases.
pub fn run(config: &BenchConfig) -> Result<BenchReport, BenchError> {
    let workloads =
        config.workloads.iter().map(|w| run_workload(*w, config)).collect::<Result<Vec<_>, _>>()?;
    let state_root =
        config.state_sizes.iter().map(|n| state_root::measure(*n)).collect::<Result<_, _>>()?;
    Ok(BenchReport {
        machine: machine(),
        threads: config.threads,
        workloads,
        state_root,
        daybook: (config.history_days > 0)
            .then(|| daybook::measure(config.history_days, config.history_households))
            .transpose()?,
        peak_rss_mib: peak_rss_mib(),
    })
}

fn run_workload(workload: Workload, config: &BenchConfig) -> Result<WorkloadReport, BenchError> {
    let keys = workload::accounts(config.accounts);
    let genesis = workload::genesis(&keys).map_err(err)?;
    let setup = workload::setup(workload, &keys);
    let txs = workload::transactions(workload, &keys, config.txs);

    let recovery = |threads: usize| -> Result<Stage, BenchError> {
        let started = Instant::now();
        recover_senders(&txs, threads).map_err(|(i, e)| err(format!("tx {i}: {e}")))?;
        Ok(Stage {
            tx_per_s: txs.len() as f64 / started.elapsed().as_secs_f64(),
            ..Default::default()
        })
    };
    let recovery_1 = recovery(1)?;
    let recovery_n = recovery(config.threads)?;

    // The signer's path.
    let sealer_dir = TempDir::new("seal")?;
    let store = Store::open(&sealer_dir.0).map_err(err)?;
    store.init_genesis(&genesis).map_err(err)?;
    let mut chain = Chain::open(store).map_err(err)?;
    let mut blocks = Vec::new();
    let mut seal_times = Vec::new();
    let mut measured = Vec::new();
    for (batch, is_setup) in [(setup, true), (txs, false)] {
        let mut pending: Vec<PoolTx> = batch
            .into_iter()
            .map(|tx| {
                let sender = tx.recover_sender().map_err(err)?;
                Ok(PoolTx::new(tx, sender, true))
            })
            .collect::<Result<_, BenchError>>()?;
        while !pending.is_empty() {
            let take = pending.len().min(config.block_txs.max(1));
            let started = Instant::now();
            let now = unix_now();
            let mut built =
                build_block(&chain, &keys[0], now, &pending[..take], None).map_err(err)?;
            let included = built.block.transactions.len();
            // A reverted transaction costs less and writes less: every figure would flatter.
            let reverted = built.receipts.iter().filter(|r| !r.success).count();
            if reverted > 0 {
                return Err(err(format!(
                    "{reverted} of {included} {workload:?} transactions reverted in block {}: \
                     the bench measures transactions that succeed",
                    built.block.header.number
                )));
            }
            if included == 0 {
                return Err(err(format!(
                    "no transaction fits block {} (base fee {:?}): {:?}",
                    built.block.header.number,
                    built.block.header.base_fee_per_gas,
                    built.invalid.first()
                )));
            }
            built.insert_into(&mut chain, now, started).map_err(err)?;
            if !is_setup {
                seal_times.push(started.elapsed());
                measured.push(blocks.len());
            }
            blocks.push(built.block);
            pending.drain(..included);
        }
    }

    // Another node imports them.
    let import_dir = TempDir::new("import")?;
    let store = Store::open(&import_dir.0).map_err(err)?;
    store.init_genesis(&genesis).map_err(err)?;
    let mut follower = Chain::open(store.clone()).map_err(err)?;
    let mut import_times = Vec::new();
    let mut size_before = 0;
    let mut wchar_before = None;
    let mut kinds_before = BTreeMap::new();
    for (i, block) in blocks.iter().enumerate() {
        if Some(&i) == measured.first() {
            store.flush().map_err(err)?;
            size_before = crate::disk_watch::dir_size(&import_dir.0);
            wchar_before = bytes_handed_to_write();
            kinds_before = store.stats().map_err(err)?;
        }
        let started = Instant::now();
        follower.import(block, unix_now()).map_err(err)?;
        if measured.contains(&i) {
            import_times.push(started.elapsed());
        }
    }
    store.flush().map_err(err)?;
    let written = crate::disk_watch::dir_size(&import_dir.0).saturating_sub(size_before);
    let write_calls = wchar_before.zip(bytes_handed_to_write()).map(|(a, b)| b.saturating_sub(a));
    let measured_blocks: Vec<_> = measured.iter().map(|i| &blocks[*i]).collect();
    let per_block = measured_blocks.len().max(1) as u64;
    let logical_bytes_per_block = store
        .stats()
        .map_err(err)?
        .into_iter()
        .map(|(kind, after)| {
            let before = kinds_before.get(kind).map_or(0, |b| b.bytes);
            (kind, after.bytes.saturating_sub(before) / per_block)
        })
        .filter(|(_, bytes)| *bytes > 0)
        .collect();
    let gas: u64 = measured_blocks.iter().map(|b| b.header.gas_used).sum();
    let count: usize = measured_blocks.iter().map(|b| b.transactions.len()).sum();
    let all: Vec<_> = blocks.iter().flat_map(|b| b.transactions.iter().cloned()).collect();
    let through_rpc = |batch: usize| -> Result<load::RpcRun, BenchError> {
        let rpc_dir = TempDir::new("rpc")?;
        let rpc_store = Store::open(&rpc_dir.0).map_err(err)?;
        rpc_store.init_genesis(&genesis).map_err(err)?;
        load::submit_to_receipt(rpc_store, keys[0].clone(), &all, batch)
    };
    let batched = through_rpc(load::BATCH)?;
    let single = through_rpc(1)?;
    Ok(WorkloadReport {
        workload,
        rpc: batched.stage,
        rpc_cpu_us: batched.node_cpu_us,
        rpc_single: single.stage,
        rpc_blocks: (batched.blocks, single.blocks),
        rpc_single_cpu_us: single.node_cpu_us,
        txs: count,
        blocks: measured_blocks.len(),
        recovery_1,
        recovery_n,
        seal: stage(&seal_times, count, gas),
        import: stage(&import_times, count, gas),
        bytes_per_block: written / per_block,
        write_calls_bytes_per_block: write_calls.map(|w| w / per_block),
        logical_bytes_per_block,
    })
}

/// Bytes this process has handed to `write` and its kin so far (Linux's `wchar`; nothing else
/// writes while the bench imports).
fn bytes_handed_to_write() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines().find_map(|l| l.strip_prefix("wchar:")).and_then(|v| v.trim().parse().ok())
}

fn stage(times: &[Duration], txs: usize, gas: u64) -> Stage {
    let total: f64 = times.iter().map(Duration::as_secs_f64).sum();
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let pick =
        |q: f64| ms.get(((ms.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0.0);
    Stage {
        tx_per_s: txs as f64 / total.max(f64::EPSILON),
        blocks_per_s: times.len() as f64 / total.max(f64::EPSILON),
        mgas_per_s: gas as f64 / 1e6 / total.max(f64::EPSILON),
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
    }
}

/// The machine: architecture, cores, and the CPU or board model.
pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
    };
    let model = field("model name").or_else(|| field("Model")).unwrap_or_else(|| "unknown".into());
    Machine { arch: std::env::consts::ARCH, cores: crate::chain::cores(), model }
}

/// Resident memory of this process now (VmRSS), MiB.
pub fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

/// Peak resident memory of this process (VmHWM), MiB.
pub fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

/// A memory field (kB) of /proc/self/status, in MiB (0 where there is none).
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A temporary datadir removed on drop.
pub(crate) struct TempDir(pub(crate) std::path::PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Result<Self, BenchError> {
        let path = std::env::temp_dir().join(format!(
            "daisee-bench-{name}-{}-{}",
            std::process::id(),
            unix_now()
        ));
        std::fs::create_dir_all(&path).map_err(err)?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
