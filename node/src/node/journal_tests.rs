//! A node on a datadir: the pool journal across restarts (its own transactions come back, an
//! earlier version's journal in the database moves to the file, a damaged file is survived),
//! and a seal while the clock moves.

use crate::community::{community_genesis, dev_spec};
use crate::node::{Node, NodeConfig};
use crate::primitives::{
    Address, Bytes, PrivateKey, SignedTransaction, Transaction, TxKind, TxType, B256, U256,
};
use crate::state::Store;
use crate::txpool::JOURNAL_FILE;

/// A funded dev account's transfer with `nonce` (also the submission tests').
pub(super) fn transfer(key: &PrivateKey, nonce: u64) -> SignedTransaction {
    Transaction {
        tx_type: TxType::Eip1559,
        chain_id: Some(31337),
        nonce,
        max_priority_fee_per_gas: U256::from(2_000_000_000u64),
        max_fee_per_gas: U256::from(20_000_000_000u64),
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(9)),
        value: U256::from(1),
        input: Bytes::new(),
        access_list: vec![],
    }
    .sign(key)
}

fn key() -> PrivateKey {
    PrivateKey::from_bytes(&B256::repeat_byte(1)).unwrap()
}

/// A datadir with a dev chain whose account is funded, removed on drop.
struct Datadir(std::path::PathBuf);

impl Datadir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("daisee-node-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).unwrap();
        let spec = dev_spec(std::slice::from_ref(&key()), 0);
        store.init_genesis(&community_genesis(&spec).unwrap()).unwrap();
        Self(dir)
    }

    fn store(&self) -> Store {
        Store::open(&self.0).unwrap()
    }

    fn node(&self) -> Node {
        Node::new(self.store(), NodeConfig::default()).unwrap()
    }
}

impl Drop for Datadir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn own_transactions_come_back_after_a_restart_and_peers_ones_do_not() {
    let datadir = Datadir::new("restart");
    let node = datadir.node();
    let (ready, gap) = (transfer(&key(), 0), transfer(&key(), 3));
    node.submit(ready.clone()).unwrap();
    node.submit(gap.clone()).unwrap();
    let other = PrivateKey::from_bytes(&B256::repeat_byte(2)).unwrap();
    let heard = transfer(&other, 0);
    let _ = node.submit_remote(heard.clone());
    drop(node);
    let node = datadir.node();
    assert!(node.pooled(&ready.hash()).is_some(), "a ready transaction is back");
    assert!(node.pooled(&gap.hash()).is_some(), "a waiting one too");
    assert!(node.pooled(&heard.hash()).is_none(), "a peer's is its sender's board's to keep");
    // The file was rewritten at start: twice restarted, still once each.
    drop(node);
    let node = datadir.node();
    assert_eq!(node.pool_counts(), (1, 1));
}

#[test]
fn an_earlier_versions_journal_in_the_database_moves_to_the_file() {
    let datadir = Datadir::new("legacy");
    let tx = transfer(&key(), 0);
    datadir.store().legacy_journal_insert(&tx).unwrap();
    let node = datadir.node();
    assert!(node.pooled(&tx.hash()).is_some());
    assert!(node.store().legacy_journal().unwrap().is_empty(), "cleared from the database");
    drop(node);
    assert!(datadir.node().pooled(&tx.hash()).is_some(), "kept in the file");
}

#[test]
fn a_damaged_journal_file_leaves_the_node_starting_with_what_could_be_read() {
    let datadir = Datadir::new("damaged");
    let node = datadir.node();
    let first = transfer(&key(), 0);
    node.submit(first.clone()).unwrap();
    drop(node);
    let file = datadir.0.join(JOURNAL_FILE);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 0x01]);
    std::fs::write(&file, &bytes).unwrap();
    let node = datadir.node();
    assert!(node.pooled(&first.hash()).is_some(), "the record before the damage is read");
    let second = transfer(&key(), 1);
    node.submit(second.clone()).unwrap();
    drop(node);
    let node = datadir.node();
    assert!(node.pooled(&second.hash()).is_some(), "a record after the damage is read too");
}

/// A signer whose clock moves while it seals (a board descheduled between reading the clock and
/// taking the pool: here a clock a million times the wall's) seals a block stamped when the
/// transactions were chosen, and it is not refused as "in the future".
#[test]
fn a_block_stamped_after_the_clock_moved_during_the_seal_is_sealed() {
    let dir = Datadir::new("clock-moves");
    let start_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            as u64;
    let config = NodeConfig {
        signer: Some(key()),
        clock: Some(daisee_radio::source::sim::SimClock::accelerated(start_ms, 1e6)),
        ..NodeConfig::default()
    };
    let node = Node::new(dir.store(), config).unwrap();
    for nonce in 0..3 {
        node.submit(transfer(&key(), nonce)).unwrap();
        let head = node.seal_if_due().expect("sealed, not refused").expect("a block");
        assert_eq!(head.number, nonce + 1);
    }
}
