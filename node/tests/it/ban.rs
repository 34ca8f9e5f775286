//! A peer that serves an invalid block is banned: a node whose database was tampered with (a
//! block correctly sealed by a signer but with a false state root, written straight into its
//! store) offers a heavier chain; the honest node refuses the block, bans the peer and keeps its
//! own head.

use crate::support::*;
use daisee_node::chain::Chain;
use daisee_node::consensus::{seal_header, EXTRA_SEAL, EXTRA_VANITY};
use daisee_node::primitives::{
    trie, Block, Header, PrivateKey, B256, EMPTY_OMMERS_HASH, EMPTY_REQUESTS_HASH, U256,
};
use daisee_node::state::{StateDiff, Store};
use serde_json::json;
use std::time::Duration;

/// Writes an empty block 1 sealed by `key` (a signer) with a false state root, bypassing every
/// check, as a corrupted or malicious node would hold it.
fn tamper(datadir: &std::path::Path, key: &PrivateKey) {
    let store = Store::open(&datadir.join("daisee").join("chaindata")).unwrap();
    let chain = Chain::open(store.clone()).unwrap();
    let parent = chain.head().clone();
    let in_turn = chain.snapshot().in_turn(1, &key.address());
    drop(chain);
    {
        let prepared = store.prepare(&StateDiff::default()).unwrap();
        let mut header = Header {
            parent_hash: parent.hash(),
            ommers_hash: EMPTY_OMMERS_HASH,
            number: parent.number + 1,
            gas_limit: parent.gas_limit,
            timestamp: parent.timestamp + 5,
            extra_data: vec![0u8; EXTRA_VANITY + EXTRA_SEAL].into(),
            difficulty: U256::from(if in_turn { 2 } else { 1 }),
            base_fee_per_gas: parent.base_fee_per_gas.map(|f| f * 7 / 8),
            state_root: B256::repeat_byte(0xba),
            transactions_root: trie::EMPTY_ROOT_HASH,
            receipts_root: trie::EMPTY_ROOT_HASH,
            withdrawals_root: Some(trie::EMPTY_ROOT_HASH),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            requests_hash: Some(EMPTY_REQUESTS_HASH),
            ..Default::default()
        };
        seal_header(&mut header, key).unwrap();
        let block = Block::new(header.clone(), vec![]);
        store.commit_block(&block, &[], &[], prepared).unwrap();
    }
    store.flush().unwrap();
}

#[test]
fn a_peer_serving_an_invalid_block_is_banned() {
    let (honest, rogue) = (TempDir::new("ban-honest"), TempDir::new("ban-rogue"));
    for dir in [&honest, &rogue] {
        daisee_ok(&["init", "../genesis/bf7.json", "--datadir", dir.str()]);
    }
    let bf7_1 = "0xAbE92107801E1aE2f830399e5c37761DB76e7C44".parse().unwrap();
    let key = daisee_node::accounts::unlock(
        std::path::Path::new("../config/bf7-1/keystore"),
        &bf7_1,
        "bf7-demo-password",
    )
    .unwrap();
    tamper(rogue.path(), &key);
    let good = NodeProcess::peer(&honest, None);
    let peer = good.line("p2p: ");
    let bad = NodeProcess::peer(&rogue, Some(&peer));
    assert_eq!(
        bad.ok("eth_blockNumber", json!([])),
        json!("0x1"),
        "the rogue node serves its block"
    );
    // The honest node asks for the heavier chain, finds the false state root, bans the peer.
    let line = good.logged("banning peer", Duration::from_secs(30));
    assert!(line.contains("state root"), "{line}");
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        good.ok("eth_blockNumber", json!([])),
        json!("0x0"),
        "nothing of the invalid chain was taken"
    );
    assert_eq!(good.ok("net_peerCount", json!([])), json!("0x0"), "the banned peer stays out");
}
