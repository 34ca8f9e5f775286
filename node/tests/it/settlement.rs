//! Automatic settlement on a running `daisee dev`: the three simulated households report, their
//! boards settle every interval that is over, and the balances and escrows on chain equal a
//! model replayed from the chain's events (readings, deposits, purchases) with each settlement
//! computed by the model from the rules of docs/market.md and compared match by match.

use crate::market_model::{to_log, Model};
use crate::support::*;
use alloy_primitives::{Address, U256};
use alloy_sol_types::{SolCall, SolEvent};
use daisee_contracts::Daisee;
use daisee_node::community::DAISEE_ADDRESS;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn call<C: SolCall>(node: &NodeProcess, call: C, block: &str) -> C::Return {
    let data = format!("0x{}", hex::encode(call.abi_encode()));
    let out = node.ok("eth_call", json!([{"to": DAISEE_ADDRESS, "data": data}, block]));
    let bytes = hex::decode(out.as_str().unwrap().trim_start_matches("0x")).unwrap();
    C::abi_decode_returns(&bytes).unwrap()
}

fn logs(node: &NodeProcess, to: &str, topics: Value) -> Vec<Value> {
    let filter =
        json!([{"address": DAISEE_ADDRESS, "fromBlock": "0x0", "toBlock": to, "topics": topics}]);
    node.ok("eth_getLogs", filter).as_array().unwrap().clone()
}

#[test]
fn dev_settles_every_interval_and_balances_match_a_model_of_the_readings() {
    // Households report every 2 s of wall time (300 simulated s at 150x).
    let node = NodeProcess::start(&["dev", "--dev.meter-speed", "150"]);
    let cleared = format!("{}", Daisee::Cleared::SIGNATURE_HASH);
    let started = Instant::now();
    while logs(&node, "latest", json!([cleared])).len() < 8 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "fewer than 8 settlements in 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let head = node.ok("eth_blockNumber", json!([]));
    let head = head.as_str().unwrap();

    let mut model = Model::default();
    model.rate = call(&node, Daisee::getRateCall {}, "0x0");
    let all = logs(&node, head, json!([]));
    model.replay(&all);

    assert!(model.checked.len() >= 8, "settlements checked: {:?}", model.checked);
    let traded: u128 = model.checked.iter().map(|(_, v)| v).sum();
    assert!(traded > 0, "the producer's surplus met the consumer's deficit: {:?}", model.checked);
    let accounts: Vec<Address> = model.net.keys().chain(model.escrow.keys()).copied().collect();
    for who in accounts {
        let net = call(&node, Daisee::netBalanceOfCall { account: who }, head);
        let expected = model.net.get(&who).copied().unwrap_or_default();
        assert_eq!(i128::try_from(net).unwrap(), expected, "net balance of {who}");
        let escrow = call(&node, Daisee::escrowOfCall { account: who }, head);
        assert_eq!(
            escrow,
            model.escrow.get(&who).copied().unwrap_or(U256::ZERO),
            "escrow of {who}"
        );
    }

    // Every interval that was over two intervals before the head was settled.
    let latest = call(&node, Daisee::latestIntervalEndCall {}, head);
    let reading = format!("{}", Daisee::Reading::SIGNATURE_HASH);
    let mut intervals: Vec<u64> = logs(&node, head, json!([reading]))
        .iter()
        .map(|l| Daisee::Reading::decode_log(&to_log(l)).unwrap().intervalEnd)
        .filter(|end| *end + 600 < latest)
        .collect();
    intervals.dedup();
    assert!(intervals.len() >= 5);
    for end in intervals {
        assert!(call(&node, Daisee::isSettledCall { intervalEnd: end }, head), "{end} settled");
    }
    let meters = node.ok("daisee_meters", json!([]));
    let settled: u64 =
        meters.as_array().unwrap().iter().map(|m| m["market"]["settled"].as_u64().unwrap()).sum();
    assert!(settled > 0, "the boards count the settlements they made: {meters}");
}
