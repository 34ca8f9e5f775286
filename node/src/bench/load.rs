//! End to end through the node's own JSON-RPC: a node with its sealer and HTTP server runs in
//! this process; a built-in load client sends the pre-signed transactions over keep-alive
//! connections, in JSON-RPC batches or one per request (as wallets and scripts do), and watches
//! the new blocks to time each transaction from submission to its block (submit → receipt). The
//! node's CPU time is the process's less the client threads' own (CPU clocks), per transaction.

use super::client::{cpu_seconds, Rpc};
use super::{err, BenchError, Stage};
use crate::node::NodeConfig;
use crate::primitives::{PrivateKey, SignedTransaction, B256};
use crate::rpc::ServerOptions;
use crate::service::ServiceConfig;
use crate::state::Store;
use crate::txpool::PoolConfig;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Transactions per JSON-RPC batch of the batching client.
pub(super) const BATCH: usize = 100;
/// Concurrent keep-alive connections sending.
const CONNECTIONS: usize = 4;
/// Longest wait for the last receipt.
const DEADLINE: Duration = Duration::from_secs(300);

/// A pool that takes the whole workload, however its nonces arrive.
fn bench_pool(txs: usize) -> PoolConfig {
    let room = txs.max(1) * 2;
    PoolConfig {
        account_ready: room,
        account_waiting: room,
        max_waiting: room,
        max_total: room + PoolConfig::default().own_reserve,
        ..PoolConfig::default()
    }
}

/// What one run through JSON-RPC gave.
pub(super) struct RpcRun {
    /// Throughput and submit → block times.
    pub stage: Stage,
    /// The node's CPU time per transaction, µs (the client's own left out).
    pub node_cpu_us: f64,
    /// Blocks the node sealed to include them.
    pub blocks: u64,
}

/// Submits `txs` to a fresh node on `genesis`, `batch` per request, and times each to its
/// block.
pub(super) fn submit_to_receipt(
    store: Store,
    signer: PrivateKey,
    txs: &[SignedTransaction],
    batch: usize,
) -> Result<RpcRun, BenchError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(err)?;
    let config = ServiceConfig {
        // The bench measures throughput, not the pool's defences: its four connections send
        // batches whose calls run concurrently, so nonces arrive out of order and, with the
        // default limits (1,024 waiting in all), a workload of thousands would be refused.
        node: NodeConfig {
            signer: Some(signer),
            pool: bench_pool(txs.len()),
            ..Default::default()
        },
        servers: vec![ServerOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            apis: vec!["eth".into()],
            cors: vec![],
            dashboard: None,
            access: Default::default(),
            limits: Default::default(),
            meters: Default::default(),
            daybook: None,
        }],
        ..Default::default()
    };
    let handle = runtime.block_on(crate::service::spawn(store, config)).map_err(err)?;
    let rpc = Rpc::new(&format!("http://{}", handle.rpc_addrs()[0]), DEADLINE)?;
    let rpc = &rpc;

    let started = Instant::now();
    let process_before = cpu_seconds(true);
    let watcher_before = cpu_seconds(false);
    let mut client_cpu = 0.0;
    let submitted: Vec<(B256, Instant)> = std::thread::scope(|scope| {
        let chunk = txs.len().div_ceil(CONNECTIONS).max(1);
        let workers: Vec<_> = txs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || -> Result<(Vec<(B256, Instant)>, f64), BenchError> {
                    let cpu = cpu_seconds(false);
                    let mut sent = Vec::with_capacity(part.len());
                    let call = |i: usize, tx: &SignedTransaction| json!({"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [format!("0x{}", hex::encode(tx.encoded()))]});
                    for group in part.chunks(batch.max(1)) {
                        let body = match group {
                            [one] => call(0, one),
                            _ => Value::Array(group.iter().enumerate().map(|(i, tx)| call(i, tx)).collect()),
                        };
                        let at = Instant::now();
                        let answers = rpc.post(&body)?;
                        let answers = match answers {
                            Value::Array(all) => all,
                            one => vec![one],
                        };
                        if let Some(bad) = answers.iter().find(|r| r.get("error").is_some()) {
                            return Err(err(format!("a transaction was refused: {bad}")));
                        }
                        sent.extend(group.iter().map(|tx| (tx.hash(), at)));
                    }
                    Ok((sent, cpu_seconds(false) - cpu))
                })
            })
            .collect();
        let mut all = Vec::new();
        for w in workers {
            let (sent, cpu) = w.join().map_err(|_| err("load thread panicked"))??;
            all.extend(sent);
            client_cpu += cpu;
        }
        Ok::<_, BenchError>(all)
    })?;

    // Watch blocks until every transaction is in one.
    let mut waiting: HashMap<B256, Instant> = submitted.into_iter().collect();
    let mut latencies = Vec::with_capacity(waiting.len());
    let mut next = 1u64;
    while !waiting.is_empty() {
        if started.elapsed() > DEADLINE {
            return Err(err(format!("{} transactions never mined", waiting.len())));
        }
        let head = rpc.call("eth_blockNumber", json!([]))?;
        let head = u64::from_str_radix(head.as_str().unwrap_or("0x0").trim_start_matches("0x"), 16)
            .map_err(err)?;
        if head < next {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        let seen = Instant::now();
        for number in next..=head {
            let block = rpc.call("eth_getBlockByNumber", json!([format!("{number:#x}"), false]))?;
            for hash in block["transactions"].as_array().into_iter().flatten() {
                let hash: B256 = serde_json::from_value(hash.clone()).map_err(err)?;
                if let Some(at) = waiting.remove(&hash) {
                    latencies.push(seen - at);
                }
            }
        }
        next = head + 1;
    }
    let total = started.elapsed();
    client_cpu += cpu_seconds(false) - watcher_before;
    let node_cpu = (cpu_seconds(true) - process_before - client_cpu).max(0.0);
    runtime.block_on(handle.stop()).map_err(err)?;
    latencies.sort();
    let ms = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let stage = Stage {
        tx_per_s: txs.len() as f64 / total.as_secs_f64(),
        blocks_per_s: 0.0,
        mgas_per_s: 0.0,
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
    };
    Ok(RpcRun { stage, node_cpu_us: node_cpu * 1e6 / txs.len().max(1) as f64, blocks: next - 1 })
}
