//! A table of bad requests thrown at a running node over HTTP: each gets a standard JSON-RPC
//! error (or an HTTP refusal for oversized bodies), and the node keeps serving.

use crate::support::*;
use daisee_node::primitives::{Address, Bytes, Signature, SignedTransaction, U256};
use serde_json::{json, Value};

/// The error code of a JSON-RPC answer.
fn error_code(payload: &str) -> i64 {
    let v: Value =
        serde_json::from_str(payload).unwrap_or_else(|e| panic!("not JSON ({e}): {payload:.200}"));
    v["error"]["code"].as_i64().unwrap_or_else(|| panic!("no error in {payload:.300}"))
}

fn error_message(node: &NodeProcess, method: &str, params: Value) -> String {
    match node.call(method, params) {
        Err(RpcFailure::Error { message, .. }) => message,
        other => panic!("{method} should fail, got {other:?}"),
    }
}

#[test]
fn bad_requests_get_clear_errors_and_the_node_keeps_serving() {
    let node = NodeProcess::start(&["dev", "--dev.no-meters"]);
    let rpc = node.rpc.clone();
    let post = |body: &[u8]| http_post(&rpc, body).expect("the node answers");

    // Protocol level.
    assert_eq!(error_code(&post(b"{not json").1), -32700, "invalid JSON is a parse error");
    assert_eq!(
        error_code(&post(br#"{"jsonrpc":"2.0","id":1,"method":"eth_nope","params":[]}"#).1),
        -32601
    );
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (status, body) = post(deep.as_bytes());
    // Read as a batch whose one item is not a request: -32600 (or a parse error, or 413).
    let refused = ["-32600", "-32700"].iter().any(|code| body.contains(code)) || status == 413;
    assert!(refused, "deep nesting: {status} {body:.100}");
    let huge = vec![b' '; 20 * 1024 * 1024];
    assert_eq!(post(&huge).0, 413, "a 20 MB body is refused before it is read");
    let batch: Vec<Value> = (0..10_000)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "eth_chainId", "params": []}))
        .collect();
    let (_, body) = post(serde_json::to_string(&batch).unwrap().as_bytes());
    assert!(
        body.contains("-32010") || body.contains("too large") || body.contains("Batch"),
        "{body:.300}"
    );

    // Parameters.
    let bad_type = r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[42,"latest"]}"#;
    assert_eq!(error_code(&post(bad_type.as_bytes()).1), -32602, "wrong parameter type");
    let bad_hex = r#"{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0xzz"]}"#;
    assert_eq!(error_code(&post(bad_hex.as_bytes()).1), -32602, "invalid hex");
    let bad_tag =
        r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["soon",false]}"#;
    assert_eq!(error_code(&post(bad_tag.as_bytes()).1), -32602, "invalid block tag");

    // Transactions.
    let key = dev_key(4);
    let to = Address::repeat_byte(1);
    let big =
        signed(&key, 31337, 0, to, U256::ZERO, Bytes::from(vec![1u8; 130 * 1024]), 10_000_000);
    assert!(error_message(&node, "eth_sendRawTransaction", json!([raw(&big)]))
        .starts_with("oversized data"));
    let wrong_chain = signed(&key, 1, 0, to, U256::ZERO, Bytes::new(), 21_000);
    assert!(error_message(&node, "eth_sendRawTransaction", json!([raw(&wrong_chain)]))
        .starts_with("invalid chain id"));
    let good = signed(&key, 31337, 0, to, U256::from(1), Bytes::new(), 21_000);
    let forged =
        SignedTransaction::new(good.tx.clone(), Signature { r: U256::ZERO, ..good.signature });
    assert!(error_message(&node, "eth_sendRawTransaction", json!([raw(&forged)]))
        .starts_with("invalid sender"));
    let garbage = format!("0x02{}", "ff".repeat(40));
    assert!(error_message(&node, "eth_sendRawTransaction", json!([garbage])).starts_with("rlp"));
    node.ok("eth_sendRawTransaction", json!([raw(&good)]));
    node.wait_receipt(&good.hash(), std::time::Duration::from_secs(30));
    assert!(error_message(&node, "eth_sendRawTransaction", json!([raw(&good)]))
        .starts_with("nonce too low"));
    let broke = signed(
        &daisee_node::primitives::PrivateKey::from_bytes(&[7u8; 32].into()).unwrap(),
        31337,
        0,
        to,
        U256::from(1),
        Bytes::new(),
        21_000,
    );
    assert!(error_message(&node, "eth_sendRawTransaction", json!([raw(&broke)]))
        .starts_with("insufficient funds for gas * price + value"));

    // Methods that need an unlocked account.
    let stranger = Address::repeat_byte(0x99);
    let request = json!([{"from": stranger, "to": to, "value": "0x1"}]);
    assert_eq!(error_message(&node, "eth_sendTransaction", request), "unknown account");
    assert_eq!(
        error_message(&node, "eth_sign", json!([stranger, "0xdeadbeef"])),
        "unknown account"
    );

    // Still serving.
    assert_eq!(node.ok("eth_chainId", json!([])), json!("0x7a69"));
    assert_eq!(node.ok("eth_blockNumber", json!([])), json!("0x1"));
}

/// Batches run their calls concurrently: the answers still come in request order with their
/// ids, a bad item gets its own error without spoiling the others, a notification gets no
/// answer, and transactions of one sender sent in one batch in reverse nonce order all land.
#[test]
fn a_mixed_batch_is_answered_in_order_and_loses_nothing() {
    let node = NodeProcess::start(&["dev", "--dev.no-meters"]);
    let key = dev_key(5);
    let to = Address::repeat_byte(2);
    let txs: Vec<_> = (0..20u64)
        .map(|nonce| signed(&key, 31337, nonce, to, U256::from(1), Bytes::new(), 21_000))
        .collect();
    let mut batch = vec![
        json!({"jsonrpc": "2.0", "id": "first", "method": "eth_chainId", "params": []}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "eth_nope", "params": []}),
        json!(42),
        json!({"jsonrpc": "2.0", "method": "eth_blockNumber", "params": []}),
    ];
    batch.extend(txs.iter().rev().enumerate().map(|(i, tx)| {
        json!({"jsonrpc": "2.0", "id": 100 + i, "method": "eth_sendRawTransaction", "params": [raw(tx)]})
    }));
    let (status, body) =
        http_post(&node.rpc, serde_json::to_string(&batch).unwrap().as_bytes()).expect("answer");
    assert_eq!(status, 200, "{body:.300}");
    let answers: Vec<Value> = serde_json::from_str(&body).expect("a JSON array");
    assert_eq!(answers.len(), batch.len() - 1, "the notification gets no answer: {body:.500}");
    assert_eq!(answers[0]["id"], "first");
    assert_eq!(answers[0]["result"], "0x7a69");
    assert_eq!(answers[1]["error"]["code"], -32601, "unknown method");
    assert_eq!(answers[2]["error"]["code"], -32600, "not a request");
    for (i, (answer, tx)) in answers[3..].iter().zip(txs.iter().rev()).enumerate() {
        assert_eq!(answer["id"], 100 + i, "answers keep the request order");
        assert_eq!(answer["result"], json!(tx.hash()), "{answer}");
    }
    for tx in &txs {
        let receipt = node.wait_receipt(&tx.hash(), std::time::Duration::from_secs(30));
        assert_eq!(receipt["status"], "0x1");
    }
}
