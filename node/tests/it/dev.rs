//! `daisee dev`: a one-node chain with funded accounts and the Daisee contract, over real HTTP.

use crate::support::*;
use alloy_sol_types::{SolCall, SolEvent};
use daisee_contracts::Daisee;
use daisee_node::community::DAISEE_ADDRESS;
use daisee_node::primitives::{Address, Bytes, U256};
use serde_json::json;
use std::time::Duration;

#[test]
fn dev_chain_takes_transfers_and_meter_readings_and_survives_a_restart() {
    let dir = TempDir::new("dev");
    let node = NodeProcess::start(&["dev", "--dev.no-meters", "--datadir", dir.str()]);
    assert_eq!(node.ok("eth_chainId", json!([])), json!("0x7a69"));
    assert_eq!(node.ok("eth_blockNumber", json!([])), json!("0x0"));
    let code = node.ok("eth_getCode", json!([DAISEE_ADDRESS, "latest"]));
    assert!(code.as_str().unwrap().len() > 1000, "Daisee is predeployed");

    let (alice, bob) = (dev_key(1), dev_key(2));
    let to = Address::repeat_byte(0x42);
    let transfer = signed(&alice, 31337, 0, to, U256::from(12345), Bytes::new(), 21_000);
    let hash = node.ok("eth_sendRawTransaction", json!([raw(&transfer)]));
    assert_eq!(hash, json!(transfer.hash()));
    let receipt = node.wait_receipt(&transfer.hash(), Duration::from_secs(30));
    assert_eq!(receipt["status"], json!("0x1"));
    assert_eq!(receipt["from"], json!(alice.address()));
    assert_eq!(node.ok("eth_getBalance", json!([to, "latest"])), json!("0x3039"));

    let reading = Daisee::reportReadingCall {
        intervalEnd: 1_700_000_100,
        producedWh: U256::from(250),
        consumedWh: U256::from(90),
    };
    let tx =
        signed(&bob, 31337, 0, DAISEE_ADDRESS, U256::ZERO, reading.abi_encode().into(), 200_000);
    node.ok("eth_sendRawTransaction", json!([raw(&tx)]));
    let receipt = node.wait_receipt(&tx.hash(), Duration::from_secs(30));
    assert_eq!(receipt["status"], json!("0x1"));
    let log = &receipt["logs"][0];
    assert_eq!(log["address"], json!(DAISEE_ADDRESS));
    assert_eq!(log["topics"][0], json!(Daisee::Reading::SIGNATURE_HASH));
    assert_eq!(log["topics"][1], json!(bob.address().into_word()));

    // A replayed transaction and a wrong chain id get geth's messages.
    match node.call("eth_sendRawTransaction", json!([raw(&tx)])) {
        Err(RpcFailure::Error { code: -32000, message }) => {
            assert!(message == "already known" || message.starts_with("nonce too low"), "{message}")
        }
        other => panic!("replay accepted: {other:?}"),
    }
    let wrong_chain = signed(&bob, 1, 1, to, U256::from(1), Bytes::new(), 21_000);
    match node.call("eth_sendRawTransaction", json!([raw(&wrong_chain)])) {
        Err(RpcFailure::Error { message, .. }) => {
            assert!(message.starts_with("invalid chain id"), "{message}")
        }
        other => panic!("wrong chain id accepted: {other:?}"),
    }

    let head = node.ok("eth_getBlockByNumber", json!(["latest", true]));
    assert_eq!(quantity(&head["number"]), 2);
    assert_eq!(head["transactions"][0]["from"], json!(bob.address()));
    assert!(node.terminate(), "SIGTERM stops the node cleanly");

    // The chain is still there after a restart.
    let again = NodeProcess::start(&["dev", "--dev.no-meters", "--datadir", dir.str()]);
    assert_eq!(again.ok("eth_getBlockByNumber", json!(["latest", false]))["hash"], head["hash"]);
    assert_eq!(again.ok("eth_getTransactionCount", json!([bob.address(), "latest"])), json!("0x1"));
}
