//! Attacks on a node's memory, time and pool, on a running `daisee dev` over real sockets: huge
//! parameters, endless loops in batches while a third client keeps asking, traces of a
//! transaction with hundreds of thousands of calls, a client hoarding filters, and accounts
//! filling the pool with future nonces. Each is refused or cut with a clear error, other
//! clients keep their answers within a second, and the node's peak memory (`VmHWM`) stays under
//! 100 MB through it all.

use crate::support::*;
use daisee_node::primitives::{Address, Bytes, U256};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The node's peak resident memory, in MB.
fn peak_mb(node: &NodeProcess) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", node.child.id())).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024
}

fn error_of(answer: &Result<Value, RpcFailure>) -> String {
    match answer {
        Err(RpcFailure::Error { message, .. }) => message.clone(),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// A JSON-RPC batch over a fresh connection; the answers in order.
fn batch(rpc: &str, calls: &[Value]) -> Vec<Value> {
    let body: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"jsonrpc": "2.0", "id": i, "method": c[0], "params": c[1]}))
        .collect();
    let (_, text) = http_post(rpc, serde_json::to_string(&body).unwrap().as_bytes()).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:.300}"))
}

/// Runtime code that calls the identity precompile until the gas runs out.
const CALL_LOOP: &str = "5b600060006000600060006004 5af150600056";

fn deploy(node: &NodeProcess, runtime: &str) -> Address {
    let runtime = runtime.replace(' ', "");
    let len = runtime.len() / 2;
    let init = format!("60{len:02x}600c60003960{len:02x}6000f3{runtime}");
    let from = format!("{}", dev_key(0).address());
    let hash = node.ok(
        "eth_sendTransaction",
        json!([{"from": from, "data": format!("0x{init}"), "gas": "0x100000"}]),
    );
    let receipt =
        node.wait_receipt(&serde_json::from_value(hash).unwrap(), Duration::from_secs(10));
    receipt["contractAddress"].as_str().unwrap().parse().unwrap()
}

#[test]
fn oversized_requests_endless_loops_and_huge_traces_leave_the_node_answering_in_bounded_memory() {
    // A gas cap high enough that an endless loop meets the time limit before it runs out of gas.
    let node = NodeProcess::start(&[
        "dev",
        "--dev.no-meters",
        "--rpc.evmtimeout",
        "2s",
        "--rpc.gascap",
        "5000000000",
    ]);
    let rpc = node.rpc.clone();

    // eth_feeHistory with 300,000 reward percentiles (1.2 MB of body).
    let percentiles: Vec<f64> = (0..300_000).map(|i| f64::from(i % 100)).collect();
    let answer = node.call("eth_feeHistory", json!(["0x400", "latest", percentiles]));
    assert!(error_of(&answer).contains("at most 100"), "{answer:?}");
    let answer = node.call("eth_feeHistory", json!(["0x4", "latest", [50, 10]]));
    assert!(error_of(&answer).contains("invalid reward percentile"), "{answer:?}");

    // Filters and log queries naming 110,000 addresses, twenty times.
    let addresses: Vec<String> = (0..110_000u32).map(|i| format!("{:#042x}", i)).collect();
    for _ in 0..20 {
        let answer = node.call("eth_newFilter", json!([{"address": addresses}]));
        assert!(error_of(&answer).contains("at most 1000 allowed"), "{answer:?}");
    }
    let answer = node.call("eth_getLogs", json!([{"address": addresses, "fromBlock": "0x0"}]));
    assert!(error_of(&answer).contains("at most 1000 allowed"), "{answer:?}");
    let answer = node.call("eth_getLogs", json!([{"topics": [null, null, null, null, null]}]));
    assert!(error_of(&answer).contains("topic positions"), "{answer:?}");

    // One client takes every filter slot; another client still gets one.
    let hoarded: Vec<Value> = (0..1000).map(|_| json!(["eth_newBlockFilter", []])).collect();
    let first = batch(&rpc, &hoarded)[0]["result"].clone();
    let mine = node.ok("eth_newBlockFilter", json!([]));
    assert!(node.call("eth_getFilterChanges", json!([mine])).is_ok(), "a new client has a filter");
    let evicted = node.call("eth_getFilterChanges", json!([first]));
    assert_eq!(error_of(&evicted), "filter not found", "the least recently polled went");

    // Two batches of 1,000 endless loops while a third client keeps asking.
    let looping = json!({"0x00000000000000000000000000000000000000ee": {"code": "0x5b600056"}});
    let call = json!(["eth_call", [{"to": "0x00000000000000000000000000000000000000ee"}, "latest", looping]]);
    let loops: Vec<Value> = (0..1000).map(|_| call.clone()).collect();
    let (worst, answers) = std::thread::scope(|s| {
        let attackers: Vec<_> = (0..2).map(|_| s.spawn(|| batch(&rpc, &loops))).collect();
        let mut worst = Duration::ZERO;
        while attackers.iter().any(|a| !a.is_finished()) {
            let asked = Instant::now();
            assert_eq!(node.ok("eth_chainId", json!([])), "0x7a69");
            worst = worst.max(asked.elapsed());
            std::thread::sleep(Duration::from_millis(50));
        }
        (worst, attackers.into_iter().map(|a| a.join().unwrap()).collect::<Vec<_>>())
    });
    assert!(worst < Duration::from_secs(1), "another client waited {worst:?}");
    for answers in &answers {
        assert_eq!(answers.len(), 1000);
        let first = answers[0]["error"]["message"].as_str().unwrap_or_default();
        assert!(first.contains("execution aborted (timeout"), "{first}");
        let last = answers[999]["error"]["message"].as_str().unwrap_or_default();
        assert!(last.contains("EVM time budget"), "{last}");
    }
    // An honest call still runs.
    assert_eq!(
        node.ok("eth_call", json!([{"to": "0x00000000000000000000000000000000000000ee"}])),
        "0x"
    );

    // Four traces at once of a transaction making ~200,000 calls (29 M gas).
    let target = deploy(&node, CALL_LOOP);
    let from = format!("{}", dev_key(1).address());
    let hash =
        node.ok("eth_sendTransaction", json!([{"from": from, "to": target, "gas": "0x1ba8140"}]));
    node.wait_receipt(&serde_json::from_value(hash.clone()).unwrap(), Duration::from_secs(60));
    let traces: Vec<Value> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let rpc = rpc.clone();
                let hash = hash.clone();
                s.spawn(move || {
                    rpc_call(
                        &rpc,
                        "debug_traceTransaction",
                        json!([hash, {"tracer": "callTracer"}]),
                    )
                    .map_err(|e| format!("{e:?}"))
                    .err()
                    .map(Value::from)
                    .unwrap_or(Value::Null)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    for t in &traces {
        assert!(t.as_str().unwrap_or_default().contains("trace too large"), "{t}");
    }

    let peak = peak_mb(&node);
    assert!(peak < 100, "peak resident memory {peak} MB");
    eprintln!("attacks_load: peak resident memory {peak} MB, worst answer {worst:?}");
}

#[test]
fn accounts_flooding_the_pool_with_future_nonces_cannot_lock_the_node_out() {
    let dir = TempDir::new("pool-flood");
    let args = ["dev", "--dev.no-meters", "--dev.accounts", "2", "--datadir", dir.str()];
    let mut node = NodeProcess::start(&args);
    let rpc = node.rpc.clone();
    let funder = format!("{}", dev_key(0).address());
    // Eight accounts of an attacker, funded by the community (not the node's own).
    let attackers: Vec<_> = (20..28).map(dev_key).collect();
    for key in &attackers {
        let hash = node.ok(
            "eth_sendTransaction",
            json!([{"from": funder, "to": key.address(), "value": "0x8ac7230489e80000"}]),
        );
        node.wait_receipt(&serde_json::from_value(hash).unwrap(), Duration::from_secs(10));
    }
    let to = Address::repeat_byte(0xaa);
    let mut refused = 0;
    for key in &attackers {
        let calls: Vec<Value> = (1..=1024)
            .map(|nonce| {
                let tx = signed(key, 31337, nonce, to, U256::from(1), Bytes::new(), 21_000);
                json!(["eth_sendRawTransaction", [raw(&tx)]])
            })
            .collect();
        let answers: Vec<Value> = calls.chunks(512).flat_map(|part| batch(&rpc, part)).collect();
        for answer in answers {
            if let Some(message) = answer["error"]["message"].as_str() {
                assert!(
                    message.contains("account limit") || message.contains("txpool is full"),
                    "{message}"
                );
                refused += 1;
            }
        }
    }
    let status = node.ok("txpool_status", json!([]));
    let queued = quantity(&status["queued"]);
    assert!(queued <= 1024, "the global waiting limit holds: {status}");
    assert_eq!(refused + queued, 8 * 1024);
    // A transaction whose value overflows the cost check is refused, not kept.
    let huge = signed(&attackers[0], 31337, 0, to, U256::MAX, Bytes::new(), 21_000);
    let answer = node.call("eth_sendRawTransaction", json!([raw(&huge)]));
    assert!(error_of(&answer).starts_with("insufficient funds"), "{answer:?}");
    // The node's own accounts still get in, and their transactions are mined.
    let hash = node.ok("eth_sendTransaction", json!([{"from": funder, "to": to, "value": "0x1"}]));
    node.wait_receipt(&serde_json::from_value(hash).unwrap(), Duration::from_secs(10));
    let peak = peak_mb(&node);
    assert!(peak < 100, "peak resident memory {peak} MB");
    // After a power cut the journal brings back no more than the limits let in.
    node.kill();
    let node = NodeProcess::start(&args);
    let status = node.ok("txpool_status", json!([]));
    assert!(quantity(&status["queued"]) <= queued, "{status}");
    let hash = node.ok("eth_sendTransaction", json!([{"from": funder, "to": to, "value": "0x2"}]));
    node.wait_receipt(&serde_json::from_value(hash).unwrap(), Duration::from_secs(10));
}

#[test]
fn log_queries_are_cut_before_they_are_built_and_filter_polls_page() {
    // Simulated households log a reading per interval; a tiny result limit makes the cut visible.
    let node = NodeProcess::start(&["dev", "--dev.meter-speed", "600", "--rpc.logmax", "3"]);
    let filter = node.ok("eth_newFilter", json!([{"fromBlock": "0x0"}]));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match node.call("eth_getLogs", json!([{"fromBlock": "0x0"}])) {
            Err(RpcFailure::Error { message, .. }) => {
                assert!(message.contains("query returned more than 3 results"), "{message}");
                break;
            }
            Ok(_) => assert!(Instant::now() < deadline, "the households never logged 4 times"),
            Err(e) => panic!("{e:?}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // A filter poll answers a page (whole blocks) and the next poll goes on from there.
    let mut seen = 0;
    for _ in 0..20 {
        let page = node.ok("eth_getFilterChanges", json!([filter]));
        let page = page.as_array().unwrap();
        seen += page.len();
        if page.is_empty() {
            break;
        }
    }
    assert!(seen > 3, "every log reaches the filter, page by page: {seen}");
}
