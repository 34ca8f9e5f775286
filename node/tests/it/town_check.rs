//! The check of a town run: every interval reported settled exactly once with nobody skipped,
//! every reading sent on chain (and which came too late for their interval's market), read from
//! one board's logs.

use crate::support::*;
use crate::town_meters::Households;
use alloy_sol_types::{SolCall, SolEvent};
use daisee_contracts::Daisee;
use daisee_node::community::DAISEE_ADDRESS;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Whether `end` is settled, as board `node` sees it.
pub fn is_settled(node: &NodeProcess, end: u64) -> bool {
    let data =
        format!("0x{}", hex::encode(Daisee::isSettledCall { intervalEnd: end }.abi_encode()));
    node.call("eth_call", json!([{"to": DAISEE_ADDRESS, "data": data}, "latest"]))
        .is_ok_and(|v| v.as_str().is_some_and(|s| s.ends_with('1')))
}

/// Every interval reported: settled once, nobody skipped; every reading sent on chain.
pub fn check(homes: &Households, node: &NodeProcess) -> Value {
    let head = quantity(&node.ok("eth_blockNumber", json!([])));
    let (mut readings, mut cleared) = (BTreeSet::new(), BTreeMap::<u64, Vec<Value>>::new());
    let mut late_by_interval = BTreeMap::<u64, u64>::new();
    let mut from = 0u64;
    // The node answers at most 10,000 logs: a town reports 1,000 a minute, so the range
    // halves when a question asks too much.
    let mut span = 100u64;
    let topics = json!([[
        Daisee::Reading::SIGNATURE_HASH,
        Daisee::Cleared::SIGNATURE_HASH,
        Daisee::OutsideMarket::SIGNATURE_HASH
    ]]);
    while from <= head {
        let to = (from + span - 1).min(head);
        let filter = json!([{"address": DAISEE_ADDRESS, "fromBlock": format!("{from:#x}"),
            "toBlock": format!("{to:#x}"), "topics": topics}]);
        let logs = match node.call("eth_getLogs", filter) {
            Err(RpcFailure::Error { code: -32005, .. }) if span > 1 => {
                span /= 2;
                continue;
            }
            other => other.expect("eth_getLogs"),
        };
        for log in logs.as_array().unwrap() {
            let log = crate::market_model::to_log(log);
            if let Ok(r) = Daisee::Reading::decode_log(&log) {
                readings.insert((r.meter, r.intervalEnd));
            } else if let Ok(c) = Daisee::Cleared::decode_log(&log) {
                cleared.entry(c.intervalEnd).or_default().push(json!({
                    "volumeWh": c.volumeWh.to::<u64>(), "sellers": c.sellers.to::<u64>(),
                    "buyers": c.buyers.to::<u64>(), "skipped": c.skipped.to::<u64>(),
                }));
            } else if let Ok(o) = Daisee::OutsideMarket::decode_log(&log) {
                *late_by_interval.entry(o.intervalEnd).or_default() += 1;
            }
        }
        from = to + 1;
    }
    let unsettled: Vec<u64> =
        homes.ends.iter().filter(|e| !cleared.contains_key(e)).copied().collect();
    let twice: Vec<u64> = cleared.iter().filter(|(_, c)| c.len() > 1).map(|(e, _)| *e).collect();
    let skipped: u64 = cleared.values().flatten().map(|c| c["skipped"].as_u64().unwrap()).sum();
    let lost = homes.sent.difference(&readings).count();
    // What became of (at most 20 of) the readings not on chain: their transaction's receipt and
    // block time (a reverted reading has a receipt and no `Reading` log).
    let lost_detail: Vec<Value> = homes
        .sent
        .difference(&readings)
        .take(20)
        .map(|(meter, end)| {
            let hash = homes.reading_tx(meter, *end);
            let receipt = hash
                .and_then(|h| node.call("eth_getTransactionReceipt", json!([h])).ok())
                .filter(|r| !r.is_null());
            let block_time = receipt.as_ref().and_then(|r| {
                let block = node.call("eth_getBlockByHash", json!([r["blockHash"], false])).ok()?;
                Some(block["timestamp"].clone())
            });
            json!({"meter": meter, "intervalEnd": end, "tx": hash,
                "status": receipt.as_ref().map(|r| r["status"].clone()),
                "gasUsed": receipt.as_ref().map(|r| r["gasUsed"].clone()),
                "blockNumber": receipt.as_ref().map(|r| r["blockNumber"].clone()),
                "blockTimestamp": block_time})
        })
        .collect();
    let per_interval: Vec<Value> = homes
        .ends
        .iter()
        .map(|e| {
            let late = late_by_interval.get(e).copied().unwrap_or(0);
            match cleared.get(e) {
                Some(c) => json!({"intervalEnd": e, "cleared": c, "outsideMarket": late}),
                None => json!({"intervalEnd": e, "cleared": null, "why": why_unsettled(node, *e),
                    "outsideMarket": late}),
            }
        })
        .collect();
    json!({
        "intervalsDue": homes.ends.len(),
        // Intervals that ended while the households were still sending an earlier one's.
        "intervalsNotReported": homes.ends_missed,
        "settled": homes.ends.len() - unsettled.len(),
        "unsettled": unsettled,
        "settledTwice": twice,
        "skippedMeters": skipped,
        "readingsSent": homes.sent.len(),
        "readingsLost": lost,
        "readingsLostDetail": lost_detail,
        "readingsOutsideMarket": late_by_interval.values().sum::<u64>(),
        "intervals": per_interval,
    })
}

/// What the contract says of an interval nobody settled: how many meters reported it, from when
/// it could be settled, the head's time, and what `settle` does as a call at the head.
fn why_unsettled(node: &NodeProcess, end: u64) -> Value {
    let call = |data: Vec<u8>| {
        let data = format!("0x{}", hex::encode(data));
        match node.call("eth_call", json!([{"to": DAISEE_ADDRESS, "data": data}, "latest"])) {
            Ok(v) => json!({"ok": v}),
            Err(RpcFailure::Error { message, .. }) => json!({"error": message}),
            Err(RpcFailure::Transport(e)) => json!({"transport": e}),
        }
    };
    let head = node.call("eth_getBlockByNumber", json!(["latest", false])).ok();
    json!({
        "meters": call(Daisee::intervalMeterCountCall { intervalEnd: end }.abi_encode()),
        "settlesFrom": call(Daisee::settlesFromCall { intervalEnd: end }.abi_encode()),
        "headTimestamp": head.map(|h| h["timestamp"].clone()),
        "settle": call(Daisee::settleCall { intervalEnd: end }.abi_encode()),
    })
}
