//! `daisee_community` on the town's board (called by `town.rs` once its 1,000 households have
//! reported and settled): the count, the totals and every figure of a page equal what `eth_call`
//! says at the same block; search, sorting, paging and asking by address; the day's interval
//! from the daybook; and each bad parameter refused with a clear error. Then the dashboard in
//! Chromium at the town's size (tests/browser/town.mjs).

use crate::support::*;
use alloy_primitives::{Address, I256, U256};
use alloy_sol_types::SolCall;
use daisee_contracts::Daisee;
use daisee_node::community::DAISEE_ADDRESS;
use serde_json::{json, Value};
use std::time::Instant;

fn view_at<C: SolCall>(node: &NodeProcess, call: C, block: &Value) -> C::Return {
    let data = format!("0x{}", hex::encode(call.abi_encode()));
    let out = node.ok("eth_call", json!([{"to": DAISEE_ADDRESS, "data": data}, block]));
    C::abi_decode_returns(&hex::decode(out.as_str().unwrap().trim_start_matches("0x")).unwrap())
        .unwrap()
}

fn num(v: &Value) -> U256 {
    v.as_str().expect("a decimal string").parse().expect("a number")
}

/// Every figure of `row` equals the contract's at `block`.
fn agrees(node: &NodeProcess, row: &Value, block: &Value) {
    let who: Address = row["address"].as_str().unwrap().parse().unwrap();
    let produced = view_at(node, Daisee::productionOfCall { account: who }, block);
    assert_eq!(num(&row["producedWh"]), produced, "{who} produced");
    let consumed = view_at(node, Daisee::consumptionOfCall { account: who }, block);
    assert_eq!(num(&row["consumedWh"]), consumed, "{who} consumed");
    let net = view_at(node, Daisee::netBalanceOfCall { account: who }, block);
    let shown: I256 = row["netWh"].as_str().unwrap().parse().unwrap();
    assert_eq!(shown, net, "{who} net");
    let escrow = view_at(node, Daisee::escrowOfCall { account: who }, block);
    assert_eq!(num(&row["escrowWei"]), escrow, "{who} escrow");
    let last = view_at(node, Daisee::lastIntervalOfCall { meter: who }, block);
    assert_eq!(row["lastInterval"].as_u64().unwrap(), last, "{who} last interval");
}

fn refused(node: &NodeProcess, params: Value, says: &str) {
    match node.call("daisee_community", json!([params])) {
        Err(RpcFailure::Error { code, message }) => {
            assert_eq!(code, -32602, "{message}");
            assert!(message.contains(says), "{message:?} should say {says:?}");
        }
        other => panic!("{params} was not refused: {other:?}"),
    }
}

/// See the module doc. `households` are the town's, in registration order; every one reported
/// `end`, odd ones 180 Wh produced and 30 consumed, even ones 190 consumed.
pub fn summary_agrees(node: &NodeProcess, households: &[Address], end: u64) {
    // The first question at a head reads every household; the next ones take the cached read.
    let started = Instant::now();
    node.ok("daisee_community", json!([{"limit": 0}]));
    let cold = started.elapsed();
    let started = Instant::now();
    node.ok("daisee_community", json!([{"offset": 500}]));
    eprintln!(
        "daisee_community over {} households: {cold:?} to read, then {:?} for a page of the same head",
        households.len(),
        started.elapsed()
    );
    // The daybook indexes behind the head, on its own.
    wait_for("the daybook to index the interval", std::time::Duration::from_secs(60), || {
        let sum = node.ok("daisee_community", json!([{"limit": 0}]));
        sum["intervals"].as_array().and_then(|i| i.last()).map(|l| l["readings"].clone())
            == Some(json!(households.len()))
    });
    let first = node.ok("daisee_community", json!([]));
    // Pin one block: the rest asks at the head, and the head moves (period 1), so the answers
    // are compared with eth_call at the block each one names.
    assert_eq!(first["households"], json!(households.len()));
    assert_eq!(first["matching"], json!(households.len()));
    let page = first["page"].as_array().unwrap();
    assert_eq!(page.len(), 50, "a page of 50 unless asked");
    for (i, row) in page.iter().enumerate() {
        assert_eq!(row["index"], json!(i));
        assert_eq!(row["address"].as_str().unwrap().parse::<Address>().unwrap(), households[i]);
        agrees(node, row, &first["block"]);
    }
    let half = households.len() as u64 / 2;
    assert_eq!(num(&first["totals"]["producedWh"]), U256::from(180 * half));
    assert_eq!(num(&first["totals"]["consumedWh"]), U256::from((30 + 190) * half));
    let rate = view_at(node, Daisee::getRateCall {}, &first["block"]);
    assert_eq!(num(&first["rate"]), rate);
    let intervals = first["intervals"].as_array().unwrap();
    let last = intervals.last().expect("the reported interval, from the daybook");
    assert_eq!(last["end"], json!(end));
    assert_eq!(last["readings"], json!(households.len()));
    assert_eq!(num(&last["producedWh"]), U256::from(180 * half));

    // The end of the list, asked by address, searched, and sorted.
    let tail = node.ok("daisee_community", json!([{"offset": households.len() - 10}]));
    assert_eq!(tail["page"].as_array().unwrap().len(), 10);
    let some: Vec<Address> = households.iter().step_by(97).copied().collect();
    let asked = node.ok("daisee_community", json!([{"addresses": some}]));
    let rows = asked["page"].as_array().unwrap();
    assert_eq!(rows.len(), some.len());
    for (row, who) in rows.iter().zip(&some) {
        assert_eq!(row["address"].as_str().unwrap().parse::<Address>().unwrap(), *who);
        agrees(node, row, &asked["block"]);
    }
    let digits = hex::encode(&households[123].as_slice()[3..9]);
    let found = node.ok("daisee_community", json!([{"search": digits.to_uppercase()}]));
    let rows = found["page"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["index"] == json!(123)), "search by a piece of the address");
    assert!(rows.iter().all(|r| r["address"].as_str().unwrap().contains(&digits)));
    let by_net = node.ok("daisee_community", json!([{"sort": "net", "limit": 1000}]));
    let nets: Vec<I256> = by_net["page"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["netWh"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(nets.len(), households.len());
    assert!(nets.windows(2).all(|w| w[0] >= w[1]), "largest surplus first");
    agrees(node, &by_net["page"][0], &by_net["block"]);

    // Bad questions: clear errors, nothing read.
    refused(node, json!({"limit": 1001}), "1000 households per answer");
    refused(node, json!({"search": "0xnothex"}), "hex digits");
    refused(node, json!({"search": "a".repeat(41)}), "hex digits");
    refused(node, json!({"sort": "best"}), "expected registration");
    refused(node, json!({"page": 2}), "unknown field");
    let many: Vec<Address> =
        (0..1001u32).map(|i| Address::left_padding_from(&i.to_be_bytes())).collect();
    refused(node, json!({"addresses": many}), "at most 1000 addresses");
}

/// tests/browser/town.mjs in Chromium against the town's board (see its header).
pub fn dashboard_shows_the_town(node: &NodeProcess, households: usize) {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/browser"));
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `bash tests/run` (npm ci --prefix tests/browser)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "Chromium is not installed: run `bash tests/run`"
    );
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-town");
    let output = std::process::Command::new("node")
        .arg(dir.join("town.mjs"))
        .arg(format!("http://{}/", node.rpc))
        .arg(&out)
        .arg(households.to_string())
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the town's browser test failed:\n{stdout}\n{stderr}");
    eprintln!("{}\nscreenshots in {}", stdout.trim(), out.display());
}
