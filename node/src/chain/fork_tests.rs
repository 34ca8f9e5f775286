//! Fork choice: a heavier branch becomes canonical through a reorg (state reverted through the
//! changesets, orphaned transactions handed back); a heavier but invalid branch is undone.

use super::{Chain, Inserted};
use crate::consensus::seal_header;
use crate::node::unix_now;
use crate::primitives::{
    Address, Block, Bytes, PrivateKey, Transaction, TxKind, TxType, B256, U256,
};
use crate::sealer::build_block;
use crate::txpool::PoolTx;

fn key(i: u8) -> PrivateKey {
    PrivateKey::from_bytes(&B256::repeat_byte(i)).unwrap()
}

/// The two signers sorted by address: `signers()[n % 2]` is in turn for block `n`.
fn signers() -> [PrivateKey; 2] {
    let (a, b) = (key(1), key(3));
    if a.address() < b.address() {
        [a, b]
    } else {
        [b, a]
    }
}

fn chain() -> Chain {
    let signers: Vec<Address> = signers().iter().map(PrivateKey::address).collect();
    Chain::open(crate::community::test_store(&signers, &[key(2).address()], 30_000)).unwrap()
}

fn pay(nonce: u64, to: u8) -> PoolTx {
    let tx = Transaction {
        tx_type: TxType::Eip1559,
        chain_id: Some(4242),
        nonce,
        max_priority_fee_per_gas: U256::from(1),
        max_fee_per_gas: U256::from(2_000_000_000u64),
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(to)),
        value: U256::from(1000),
        input: Bytes::new(),
        access_list: vec![],
    }
    .sign(&key(2));
    PoolTx::new(tx, key(2).address(), true)
}

fn seal_on(chain: &mut Chain, signer: &PrivateKey, txs: &[PoolTx]) -> Block {
    let block = build_block(chain, signer, unix_now(), txs, None).unwrap().block;
    chain.import(&block, unix_now()).unwrap();
    block
}

fn balance(chain: &Chain, to: u8) -> U256 {
    chain.store().account(&Address::repeat_byte(to)).unwrap().map(|a| a.balance).unwrap_or_default()
}

/// Two boards from the genesis: the first with block 1 in turn (difficulty 2) paying 0x77, the
/// second with two out-of-turn blocks (1 each), the first paying 0x88 with the same nonce.
fn two_branches() -> (Chain, Block, Chain, Block, Block) {
    let [s0, s1] = signers();
    let mut a = chain();
    let a1 = seal_on(&mut a, &s1, &[pay(0, 0x77)]);
    let mut b = chain();
    let b1 = seal_on(&mut b, &s0, &[pay(0, 0x88)]);
    let b2 = seal_on(&mut b, &s1, &[]);
    (a, a1, b, b1, b2)
}

#[test]
fn a_heavier_branch_wins_and_hands_back_orphaned_transactions() {
    let [s0, _] = signers();
    // Main: block 1 in turn; other: three out-of-turn blocks.
    let (mut main, a1, mut other, b1, b2) = two_branches();
    let b3 = seal_on(&mut other, &s0, &[]);

    assert!(matches!(main.insert_block(&b1, unix_now()).unwrap(), Inserted::Side(_)));
    assert!(
        matches!(main.insert_block(&b2, unix_now()).unwrap(), Inserted::Side(_)),
        "equal weight keeps the head"
    );
    match main.insert_block(&b3, unix_now()).unwrap() {
        Inserted::Reorged { orphaned, adopted, dropped } => {
            assert_eq!(orphaned, vec![a1.clone()]);
            assert_eq!(adopted.len(), 3);
            assert_eq!(dropped, a1.transactions);
        }
        other => panic!("expected a reorg, got {other:?}"),
    }
    assert_eq!(main.head(), &b3.header);
    assert_eq!(main.head().state_root, other.head().state_root);
    assert_eq!(balance(&main, 0x77), U256::ZERO, "the orphaned payment is undone");
    assert_eq!(balance(&main, 0x88), U256::from(1000));
    assert_eq!(main.store().tx_location(&a1.transactions[0].hash()).unwrap(), None);
    // The old block stays stored as a side block; inserting it again changes nothing.
    assert!(main.insert_block(&a1, unix_now()).is_err());
    assert_eq!(main.head(), &b3.header);
}

#[test]
fn at_equal_weight_every_board_ends_on_the_same_branch_whatever_the_order() {
    let [s0, _] = signers();
    // Branch a: block 1 in turn. Branch b: two out-of-turn blocks, as heavy and longer. The
    // town bed's signers stalled on such a pair: each kept the branch it saw first, and the next
    // block on either needed a signer sitting on the other.
    let (mut a, a1, mut b, b1, b2) = two_branches();
    // A board that saw b first moves to a (as heavy, shorter)...
    assert!(matches!(b.insert_block(&a1, unix_now()).unwrap(), Inserted::Reorged { .. }));
    assert_eq!(b.head(), &a1.header);
    // ...and a board that saw a first keeps it.
    assert!(matches!(a.insert_block(&b1, unix_now()).unwrap(), Inserted::Side(_)));
    assert!(matches!(a.insert_block(&b2, unix_now()).unwrap(), Inserted::Side(_)));
    assert_eq!(a.head(), &a1.header);

    // Two out-of-turn blocks at the same height: the lower hash, whichever came first.
    let mut c = chain();
    let c1 = seal_on(&mut c, &s0, &[pay(0, 0x77)]);
    let mut d = chain();
    let d1 = seal_on(&mut d, &s0, &[pay(0, 0x99)]);
    let lower = if c1.header.hash() < d1.header.hash() { &c1 } else { &d1 };
    c.insert_block(&d1, unix_now()).unwrap();
    d.insert_block(&c1, unix_now()).unwrap();
    assert_eq!(c.head(), &lower.header);
    assert_eq!(d.head(), &lower.header);
    assert_eq!(c.head().state_root, d.head().state_root);
}

#[test]
fn a_heavier_but_invalid_branch_is_undone() {
    let [s0, s1] = signers();
    let mut main = chain();
    let a1 = seal_on(&mut main, &s1, &[pay(0, 0x77)]);
    let root_before = main.head().state_root;
    let mut other = chain();
    let b1 = seal_on(&mut other, &s0, &[]);
    let b2 = seal_on(&mut other, &s1, &[]);
    let mut b3 = build_block(&other, &s0, unix_now(), &[], None).unwrap().block;
    b3.header.state_root = B256::repeat_byte(0xee);
    seal_header(&mut b3.header, &s0).unwrap();

    main.insert_block(&b1, unix_now()).unwrap();
    main.insert_block(&b2, unix_now()).unwrap();
    assert!(main.insert_block(&b3, unix_now()).is_err(), "the bad block fails the reorg");
    assert_eq!(main.head(), &a1.header, "the old chain is restored");
    assert_eq!(main.head().state_root, root_before);
    assert_eq!(balance(&main, 0x77), U256::from(1000));
}

#[test]
fn a_block_with_an_unknown_parent_is_refused() {
    let [s0, s1] = signers();
    let mut other = chain();
    seal_on(&mut other, &s1, &[]);
    let orphan = seal_on(&mut other, &s0, &[]);
    let mut main = chain();
    let err = main.insert_block(&orphan, unix_now()).unwrap_err();
    assert!(matches!(err, super::ImportError::UnknownParent(_)), "{err}");
}
