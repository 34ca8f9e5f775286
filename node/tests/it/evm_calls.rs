//! Where an `eth_call` runs: on the async worker first, for at most 2 ms, and again from the
//! start on the blocking pool when that budget stops it. A long call's answer is the same as
//! a short one's would be; only the long one moves (counted in `rpc_evm_moved_total`); a batch's
//! calls share one budget, so a batch cannot hold the worker call after call; a call that is
//! still running at the timeout is stopped with the usual error.

use crate::support::*;
use serde_json::{json, Value};

/// Counts 196,608 down to zero (~1.4 M instructions, ~5.1 M gas: tens of milliseconds), then
/// returns 42.
const COUNT_DOWN: &str = "0x620300005b6001900380600457602a60005260206000f3";

/// The sum of `name`'s samples in a Prometheus text export (0 when absent).
fn metric(metrics_addr: &str, name: &str, method: &str) -> u64 {
    let (status, _, body) = http_get(metrics_addr, "/metrics");
    assert_eq!(status, 200);
    let label = format!("method=\"{method}\"");
    String::from_utf8_lossy(&body)
        .lines()
        .filter(|l| l.starts_with(name) && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn a_long_call_moves_to_the_blocking_pool_and_answers_the_same() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let port_arg = port.to_string();
    let node = NodeProcess::start(&[
        "dev",
        "--dev.no-meters",
        "--metrics",
        "--metrics.port",
        &port_arg,
        "--rpc.evmtimeout",
        "3s",
        // High enough that the endless loop meets the timeout before it runs out of gas.
        "--rpc.gascap",
        "5000000000",
    ]);
    let metrics_addr = format!("127.0.0.1:{port}");
    let code = COUNT_DOWN;
    let at = "0x00000000000000000000000000000000000000c0";
    let call =
        |code: &str| node.call("eth_call", json!([{"to": at}, "latest", {at: {"code": code}}]));

    // A short call answers where it was served: nothing moves.
    let short = call("0x602a60005260206000f3").unwrap();
    assert_eq!(short, Value::from(format!("{:#066x}", 42)));
    assert_eq!(metric(&metrics_addr, "rpc_evm_moved_total", "eth_call"), 0);

    // The long one outruns the budget, runs again on the pool, and gives the same answer.
    for moved in 1..=3 {
        assert_eq!(call(code).unwrap(), short);
        assert_eq!(metric(&metrics_addr, "rpc_evm_moved_total", "eth_call"), moved);
    }
    // estimateGas takes the same override set, and its search runs where the call would.
    let gas = node.ok("eth_estimateGas", json!([{"to": at}, "latest", {at: {"code": code}}]));
    let gas = u64::from_str_radix(gas.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    assert!((5_000_000..5_300_000).contains(&gas), "estimated {gas}");

    // A malformed override set is refused with a clear error by both, before any EVM runs.
    for method in ["eth_call", "eth_estimateGas"] {
        for bad in [json!({"0xnot-an-address": {}}), json!({at: {"balance": "lots"}}), json!([1])] {
            match node.call(method, json!([{"to": at}, "latest", bad])) {
                Err(RpcFailure::Error { code, message, .. }) => {
                    assert_eq!(code, -32602, "{method} {bad}: {message}")
                }
                other => panic!("{method} {bad}: expected invalid params, got {other:?}"),
            }
        }
    }
    assert_eq!(node.ok("eth_chainId", json!([])), "0x7a69");

    // A batch's calls share one budget on the worker: the first outruns it and moves, the
    // others go to the pool at once (they are not counted as moved), and all answer the same.
    let calls: Vec<Value> = (0..3)
        .map(|i| {
            json!({"jsonrpc": "2.0", "id": i, "method": "eth_call",
                   "params": [{"to": at}, "latest", {at: {"code": code}}]})
        })
        .collect();
    let (status, text) = http_post(&node.rpc, json!(calls).to_string().as_bytes()).unwrap();
    assert_eq!(status, 200, "{text}");
    let answers: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(answers.len(), 3);
    for answer in &answers {
        assert_eq!(answer["result"], short, "{answer}");
    }
    assert_eq!(metric(&metrics_addr, "rpc_evm_moved_total", "eth_call"), 4);

    // An endless loop still meets the timeout, with the usual error.
    let endless = call("0x5b600056");
    match endless {
        Err(RpcFailure::Error { message, .. }) => {
            assert!(message.contains("execution aborted (timeout = 3.0s)"), "{message}")
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}
