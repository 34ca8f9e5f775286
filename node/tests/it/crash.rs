//! Crash safety: 2,000 signed transactions (transfers and Daisee calls) streamed into a dev node
//! over HTTP while it is killed with SIGKILL at random moments and restarted. Afterwards: every
//! accepted transaction was kept (pending or included) across every crash and is finally
//! included; the chain re-executes from genesis into the same head hash and state root.

use crate::support::*;
use alloy_sol_types::SolCall;
use daisee_contracts::Daisee;
use daisee_node::community::DAISEE_ADDRESS;
use daisee_node::primitives::{Address, Bytes, SignedTransaction, B256, U256};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const TOTAL: usize = 2000;
const SENDERS: u32 = 10;

/// A small deterministic generator (xorshift64*), so a failing run can be replayed by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Sender `i % SENDERS` sends its `n`-th transaction: a transfer or one of the Daisee calls.
fn workload() -> Vec<SignedTransaction> {
    let keys: Vec<_> = (0..SENDERS).map(dev_key).collect();
    let mut nonces = vec![0u64; SENDERS as usize];
    (0..TOTAL)
        .map(|i| {
            let s = i % SENDERS as usize;
            let n = nonces[s];
            nonces[s] += 1;
            // A meter reports with the 2016 calls or with readings, never both: even senders
            // use the former, odd ones the latter (intervals on the dev chain's 300 s grid).
            let legacy = s.is_multiple_of(2);
            let (to, value, input, gas): (Address, U256, Vec<u8>, u64) = match (n % 4, legacy) {
                (0, _) | (2, false) => {
                    (Address::repeat_byte(0x50 + s as u8), U256::from(1000 + n), vec![], 21_000)
                }
                (1, true) => (
                    DAISEE_ADDRESS,
                    U256::ZERO,
                    Daisee::setProductionCall { kwh: U256::from(n % 7 + 1) }.abi_encode(),
                    200_000,
                ),
                (_, true) => (
                    DAISEE_ADDRESS,
                    U256::ZERO,
                    Daisee::consumeEnergyCall { energy: U256::from(n % 5) }.abi_encode(),
                    200_000,
                ),
                _ => {
                    let call = Daisee::reportReadingCall {
                        intervalEnd: 1_700_000_100 + n * 300,
                        producedWh: U256::from(n % 7),
                        consumedWh: U256::from(n % 5),
                    };
                    (DAISEE_ADDRESS, U256::ZERO, call.abi_encode(), 300_000)
                }
            };
            signed(&keys[s], 31337, n, to, value, Bytes::from(input), gas)
        })
        .collect()
}

/// Every accepted transaction must be known to the node: pooled or included.
fn assert_all_kept(node: &NodeProcess, accepted: &[B256]) {
    for hash in accepted {
        let tx = node.ok("eth_getTransactionByHash", json!([hash]));
        assert!(!tx.is_null(), "accepted transaction {hash} was lost in a crash");
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_and_the_chain_reexecutes() {
    let seed = std::env::var("DAISEE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_da15_ee00_0001u64);
    eprintln!("crash test seed {seed:#x} (set DAISEE_CRASH_SEED to replay)");
    let mut rng = Rng(seed);
    let txs = workload();
    let dir = TempDir::new("crash");
    let mut accepted: Vec<B256> = Vec::new();
    let mut next = 0;
    let mut kills = 0;
    while next < TOTAL {
        let node = NodeProcess::start(&["dev", "--dev.no-meters", "--datadir", dir.str()]);
        assert_all_kept(&node, &accepted);
        // A killer thread kills the node once a random number of transactions more were sent
        // (at any speed of the node), a random fraction of a request later: mid-request.
        let pid = node.child.id();
        let done = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicUsize::new(next));
        let (at, delay) =
            (next + 20 + rng.below(380) as usize, Duration::from_micros(rng.below(400)));
        let killer = {
            let (done, sent) = (done.clone(), sent.clone());
            std::thread::spawn(move || {
                while sent.load(Ordering::SeqCst) < at && !done.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_micros(100));
                }
                std::thread::sleep(delay);
                if !done.load(Ordering::SeqCst) {
                    let _ = std::process::Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                    return true;
                }
                false
            })
        };
        while next < TOTAL {
            let tx = &txs[next];
            match node.call("eth_sendRawTransaction", json!([raw(tx)])) {
                Ok(hash) => assert_eq!(hash, json!(tx.hash())),
                // Sent before the crash but the answer was lost: the node kept it, or included it.
                Err(RpcFailure::Error { message, .. })
                    if message == "already known" || message.starts_with("nonce too low") => {}
                Err(RpcFailure::Error { code, message }) => {
                    panic!("tx {next} refused: {code} {message}")
                }
                Err(RpcFailure::Transport(reason)) => {
                    eprintln!("node down after {next} transactions: {reason}");
                    break;
                }
            }
            accepted.push(tx.hash());
            next += 1;
            sent.store(next, Ordering::SeqCst);
        }
        done.store(true, Ordering::SeqCst);
        if killer.join().unwrap() {
            kills += 1;
        }
        let mut node = node;
        node.kill();
    }
    assert!(kills >= 3, "only {kills} crashes happened; the test needs several");
    eprintln!("{kills} crashes while sending {TOTAL} transactions");

    // Everything accepted is eventually included, in order.
    let node = NodeProcess::start(&["dev", "--dev.no-meters", "--datadir", dir.str()]);
    assert_all_kept(&node, &accepted);
    for hash in &accepted {
        let receipt = node.wait_receipt(hash, Duration::from_secs(120));
        assert_eq!(receipt["status"], json!("0x1"), "tx {hash} reverted");
    }
    assert_eq!(
        node.ok("eth_getTransactionCount", json!([dev_key(3).address(), "latest"])),
        json!(format!("{:#x}", TOTAL / SENDERS as usize))
    );
    let head = node.ok("eth_getBlockByNumber", json!(["latest", false]));
    assert!(node.terminate());

    // Re-execute the whole chain from genesis in a fresh datadir.
    let file = dir.path().join("chain.rlp");
    let exported = daisee_ok(&["export", file.to_str().unwrap(), "--datadir", dir.str()]);
    assert!(
        exported.contains(&format!("exported {} blocks", quantity(&head["number"]) + 1)),
        "{exported}"
    );
    let fresh = TempDir::new("crash-fresh");
    daisee_ok(&["init", "../genesis/dev.json", "--datadir", fresh.str()]);
    let imported = daisee_ok(&["import", file.to_str().unwrap(), "--datadir", fresh.str()]);
    let head_hash = head["hash"].as_str().unwrap();
    assert!(imported.contains(head_hash), "re-executed head differs: {imported} vs {head_hash}");
    let replay = NodeProcess::start(&["run", "--datadir", fresh.str(), "--http"]);
    let replay_head = replay.ok("eth_getBlockByNumber", json!(["latest", false]));
    assert_eq!(replay_head["stateRoot"], head["stateRoot"]);
    assert_eq!(replay_head["hash"], head["hash"]);
}
