//! Inspection namespaces on a dev node: `debug_traceTransaction` (callTracer), `txpool_*`,
//! `clique_*` proposals, `eth_createAccessList`, history through `eth_getBalance` at old blocks.

use crate::support::*;
use alloy_sol_types::SolCall;
use daisee_contracts::Daisee;
use daisee_node::community::DAISEE_ADDRESS;
use daisee_node::primitives::{Address, Bytes, U256};
use serde_json::json;
use std::time::Duration;

#[test]
fn trace_pool_votes_and_history() {
    let node = NodeProcess::start(&["dev", "--dev.no-meters"]);
    let (seller, buyer) = (dev_key(2), dev_key(3));
    let produce = Daisee::setProductionCall { kwh: U256::from(100) }.abi_encode();
    let tx = signed(&seller, 31337, 0, DAISEE_ADDRESS, U256::ZERO, produce.into(), 200_000);
    node.ok("eth_sendRawTransaction", json!([raw(&tx)]));
    node.wait_receipt(&tx.hash(), Duration::from_secs(30));
    let seller_balance_before = node.ok("eth_getBalance", json!([seller.address(), "latest"]));
    let before_block = node.ok("eth_blockNumber", json!([]));

    // buyEnergy pays the seller and refunds the buyer: two inner CALLs with value.
    let price = U256::from(10u64 * 15_000_000_000_000);
    let buy =
        Daisee::buyEnergyCall { seller: seller.address(), energy: U256::from(10) }.abi_encode();
    let tx = signed(&buyer, 31337, 0, DAISEE_ADDRESS, price + U256::from(7), buy.into(), 300_000);
    node.ok("eth_sendRawTransaction", json!([raw(&tx)]));
    let receipt = node.wait_receipt(&tx.hash(), Duration::from_secs(30));
    let trace = node.ok("debug_traceTransaction", json!([tx.hash(), {"tracer": "callTracer"}]));
    assert_eq!(trace["type"], json!("CALL"));
    assert_eq!(trace["to"], json!(DAISEE_ADDRESS));
    assert_eq!(trace["gasUsed"], receipt["gasUsed"]);
    let calls = trace["calls"].as_array().expect("inner calls");
    assert_eq!(calls[0]["to"], json!(seller.address()));
    assert_eq!(calls[0]["value"], json!(price));
    assert_eq!(calls[1]["to"], json!(buyer.address()));
    assert_eq!(calls[1]["value"], json!("0x7"));
    match node.call("debug_traceTransaction", json!([tx.hash()])) {
        Err(RpcFailure::Error { message, .. }) => {
            assert!(message.contains("callTracer"), "{message}")
        }
        other => panic!("the struct logger is not offered: {other:?}"),
    }

    // State at the previous block, through the changesets.
    assert_eq!(
        node.ok("eth_getBalance", json!([seller.address(), before_block])),
        seller_balance_before
    );
    assert_ne!(
        node.ok("eth_getBalance", json!([seller.address(), "latest"])),
        seller_balance_before
    );

    // A nonce gap queues; txpool_* show it.
    let gap =
        signed(&buyer, 31337, 5, Address::repeat_byte(1), U256::from(1), Bytes::new(), 21_000);
    node.ok("eth_sendRawTransaction", json!([raw(&gap)]));
    assert_eq!(node.ok("txpool_status", json!([])), json!({"pending": "0x0", "queued": "0x1"}));
    let content = node.ok("txpool_content", json!([]));
    assert_eq!(
        content["queued"][buyer.address().to_checksum(None)]["5"]["hash"],
        json!(gap.hash())
    );
    let inspect = node.ok("txpool_inspect", json!([]));
    assert!(inspect["queued"][buyer.address().to_checksum(None)]["5"]
        .as_str()
        .unwrap()
        .contains("1 wei"));

    // Votes: a proposal is listed, then cast in the next sealed block (a majority of one signer).
    let newcomer = dev_key(5).address();
    node.ok("clique_propose", json!([newcomer, true]));
    assert_eq!(node.ok("clique_proposals", json!([]))[newcomer.to_checksum(None)], json!(true));
    let poke =
        signed(&seller, 31337, 1, Address::repeat_byte(2), U256::from(1), Bytes::new(), 21_000);
    node.ok("eth_sendRawTransaction", json!([raw(&poke)]));
    node.wait_receipt(&poke.hash(), Duration::from_secs(30));
    let signers = node.ok("clique_getSigners", json!([]));
    assert!(signers.as_array().unwrap().contains(&json!(newcomer)), "{signers}");
    node.ok("clique_discard", json!([newcomer]));
    assert_eq!(node.ok("clique_proposals", json!([])), json!({}));

    // An access list for a call that reads another contract's storage is computed.
    let list = node.ok("eth_createAccessList", json!([{"from": buyer.address(), "to": DAISEE_ADDRESS, "data": Bytes::from(Daisee::getEnergyBalanceCall {}.abi_encode())}]));
    assert!(list["accessList"].is_array() && list["gasUsed"].is_string(), "{list}");
}
