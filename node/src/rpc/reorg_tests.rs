//! What RPC users see of a reorg: a `logs` subscription gets the orphaned block's logs again
//! with `removed: true` before the new branch; a polling log filter does the same on its next
//! poll; `newHeads` shows only the new branch.

use crate::node::{unix_now, Node, NodeConfig};
use crate::primitives::{Block, Bytes, PrivateKey, Transaction, TxKind, TxType, B256, U256};
use crate::sealer::build_block;
use crate::state::Store;
use crate::txpool::PoolTx;
use serde_json::{json, Value};

fn key(i: u8) -> PrivateKey {
    PrivateKey::from_bytes(&B256::repeat_byte(i)).unwrap()
}

/// Two signers sorted by address: `signers()[1]` is in turn for block 1.
fn signers() -> Vec<PrivateKey> {
    let mut keys = vec![key(1), key(3)];
    keys.sort_by_key(PrivateKey::address);
    keys
}

fn store() -> Store {
    let signers: Vec<_> = signers().iter().map(PrivateKey::address).collect();
    crate::community::test_store(&signers, &[key(2).address()], 30_000)
}

/// A contract creation whose init code emits one empty LOG0.
fn logging_tx() -> PoolTx {
    let tx = Transaction {
        tx_type: TxType::Eip1559,
        chain_id: Some(4242),
        nonce: 0,
        max_priority_fee_per_gas: U256::from(1),
        max_fee_per_gas: U256::from(2_000_000_000u64),
        gas_limit: 100_000,
        to: TxKind::Create,
        value: U256::ZERO,
        input: Bytes::from_static(&[0x60, 0x00, 0x60, 0x00, 0xa0, 0x00]),
        access_list: vec![],
    }
    .sign(&key(2));
    PoolTx::new(tx, key(2).address(), true)
}

/// Block 1 twice: out of turn with the logging transaction, and in turn (heavier) without it.
fn competing_blocks() -> (Block, Block) {
    let keys = signers();
    let side = crate::chain::Chain::open(store()).unwrap();
    let light = build_block(&side, &keys[0], unix_now(), &[logging_tx()], None).unwrap().block;
    let heavy = build_block(&side, &keys[1], unix_now(), &[], None).unwrap().block;
    assert!(heavy.header.difficulty > light.header.difficulty);
    (light, heavy)
}

async fn call(module: &jsonrpsee::RpcModule<Node>, method: &str, params: Value) -> Value {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (response, _) = module.raw_json_request(&request.to_string(), 16).await.unwrap();
    let response: Value = serde_json::from_str(response.get()).unwrap();
    response["result"].clone()
}

#[tokio::test]
async fn a_reorg_sends_removed_logs_to_subscribers_and_filters() {
    let node = Node::new(store(), NodeConfig::default()).unwrap();
    let module = crate::rpc::module(
        node.clone(),
        &["eth".to_string()],
        &Default::default(),
        &Default::default(),
        None,
    )
    .unwrap();
    let filter = call(&module, "eth_newFilter", json!([{}])).await;
    let sub = json!({"jsonrpc": "2.0", "id": 2, "method": "eth_subscribe", "params": ["logs"]});
    let (_, mut logs) = module.raw_json_request(&sub.to_string(), 16).await.unwrap();
    let heads =
        json!({"jsonrpc": "2.0", "id": 3, "method": "eth_subscribe", "params": ["newHeads"]});
    let (_, mut heads) = module.raw_json_request(&heads.to_string(), 16).await.unwrap();

    let (light, heavy) = competing_blocks();
    node.import_block(&light).unwrap();
    let polled = call(&module, "eth_getFilterChanges", json!([filter])).await;
    assert_eq!(polled.as_array().unwrap().len(), 1);
    assert_eq!(polled[0]["removed"], json!(false));

    node.import_block(&heavy).unwrap();
    assert_eq!(node.head().hash(), heavy.header.hash());
    let polled = call(&module, "eth_getFilterChanges", json!([filter])).await;
    assert_eq!(polled.as_array().unwrap().len(), 1, "{polled}");
    assert_eq!(polled[0]["removed"], json!(true));
    assert_eq!(polled[0]["blockHash"], json!(light.header.hash()));

    let pushed = |raw: Box<serde_json::value::RawValue>| -> Value {
        serde_json::from_str::<Value>(raw.get()).unwrap()["params"]["result"].clone()
    };
    let first = pushed(logs.recv().await.unwrap());
    let second = pushed(logs.recv().await.unwrap());
    assert_eq!((first["removed"].clone(), second["removed"].clone()), (json!(false), json!(true)));
    assert_eq!(second["transactionHash"], first["transactionHash"]);
    let light_head = pushed(heads.recv().await.unwrap());
    let heavy_head = pushed(heads.recv().await.unwrap());
    assert_eq!(light_head["hash"], json!(light.header.hash()));
    assert_eq!(heavy_head["hash"], json!(heavy.header.hash()));
    assert!(heads.try_recv().is_err(), "the removed block is not announced as a head");

    // The orphaned transaction is back in the pool.
    assert_eq!(node.pool_counts().0, 1);
}
