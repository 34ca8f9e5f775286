//! Block import: a valid block commits; every class of invalid block is refused with a clear
//! error and leaves the store exactly as it was.

use super::{Chain, ImportError};
use crate::community::{community_genesis, CommunitySpec};
use crate::consensus::{seal_header, ConsensusError};
use crate::node::unix_now;
use crate::primitives::{
    trie, Address, Block, Bytes, PrivateKey, Signature, Transaction, TxKind, TxType, B256, U256,
};
use crate::sealer::build_block;
use crate::state::Store;
use crate::txpool::PoolTx;

fn key(i: u8) -> PrivateKey {
    PrivateKey::from_bytes(&B256::repeat_byte(i)).unwrap()
}

/// A chain with one signer (`key(1)`), `period`, and `key(2)` funded.
fn chain(period: u64) -> Chain {
    let spec = CommunitySpec {
        chain_id: 4242,
        period,
        epoch: 30_000,
        signers: vec![key(1).address()],
        funds: vec![(key(2).address(), U256::from(10u64).pow(U256::from(21)))],
        owner: key(1).address(),
        rate: U256::ZERO,
        meters: vec![key(2).address()],
        timestamp: 0,
        interval_s: 0,
        grace_s: 0,
        gas_limit: 0,
    };
    let store = Store::temporary().unwrap();
    store.init_genesis(&community_genesis(&spec).unwrap()).unwrap();
    Chain::open(store).unwrap()
}

fn transfer(nonce: u64) -> PoolTx {
    let tx = Transaction {
        tx_type: TxType::Eip1559,
        chain_id: Some(4242),
        nonce,
        max_priority_fee_per_gas: U256::from(1),
        max_fee_per_gas: U256::from(2_000_000_000u64),
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(0x77)),
        value: U256::from(1000),
        input: Bytes::new(),
        access_list: vec![],
    }
    .sign(&key(2));
    PoolTx::new(tx, key(2).address(), true)
}

/// A valid next block with one transfer, sealed by `key(1)` at `timestamp`.
fn valid_block(chain: &Chain, timestamp: u64) -> Block {
    build_block(chain, &key(1), timestamp, &[transfer(0)], None).unwrap().block
}

/// Imports `block` expecting a refusal, and checks that nothing changed.
fn refused(chain: &mut Chain, block: &Block) -> ImportError {
    let head = chain.head().clone();
    let sender = chain.store().account(&key(2).address()).unwrap();
    let err = chain.import(block, unix_now()).unwrap_err();
    assert_eq!(chain.head(), &head);
    assert_eq!(chain.store().head().unwrap(), head);
    assert_eq!(chain.store().account(&key(2).address()).unwrap(), sender);
    assert_eq!(chain.store().canonical_hash(head.number + 1).unwrap(), None);
    for tx in &block.transactions {
        assert_eq!(chain.store().tx_location(&tx.hash()).unwrap(), None);
    }
    err
}

fn reseal(block: &mut Block, key: &PrivateKey) {
    seal_header(&mut block.header, key).unwrap();
}

#[test]
fn a_valid_block_imports_and_moves_the_state() {
    let mut c = chain(0);
    let block = valid_block(&c, unix_now());
    let imported = c.import(&block, unix_now()).unwrap();
    assert_eq!(imported.signer, key(1).address());
    assert_eq!(c.head(), &block.header);
    assert_eq!(
        c.store().account(&Address::repeat_byte(0x77)).unwrap().unwrap().balance,
        U256::from(1000)
    );
    // The senders are kept with the block, so lookups need not recover them again.
    let stored = c.store().senders(&block.header.hash()).unwrap();
    assert_eq!(stored, Some(vec![key(2).address()]));
    assert!(matches!(c.import(&block, unix_now()), Err(ImportError::AlreadyKnown(_))));
}

#[test]
fn bad_seal_is_refused() {
    let mut c = chain(0);
    let mut block = valid_block(&c, unix_now());
    let mut extra = block.header.extra_data.to_vec();
    let n = extra.len();
    extra[n - 65..].copy_from_slice(
        &Signature { r: U256::ZERO, s: U256::from(1), y_parity: false }.to_bytes(),
    );
    block.header.extra_data = extra.into();
    let err = refused(&mut c, &block);
    assert!(matches!(err, ImportError::Consensus(ConsensusError::BadSeal)), "{err}");
}

#[test]
fn unauthorized_signer_is_refused() {
    let mut c = chain(0);
    let mut block = valid_block(&c, unix_now());
    reseal(&mut block, &key(9));
    let err = refused(&mut c, &block);
    assert!(
        matches!(err, ImportError::Consensus(ConsensusError::UnauthorizedSigner(a)) if a == key(9).address()),
        "{err}"
    );
}

#[test]
fn wrong_state_root_is_refused() {
    let mut c = chain(0);
    let mut block = valid_block(&c, unix_now());
    block.header.state_root = B256::repeat_byte(0xab);
    reseal(&mut block, &key(1));
    let err = refused(&mut c, &block);
    assert!(matches!(err, ImportError::Mismatch { what: "state root", .. }), "{err}");
}

#[test]
fn bad_transaction_signature_is_refused() {
    let mut c = chain(0);
    let mut block = valid_block(&c, unix_now());
    let tx = block.transactions[0].clone();
    let forged = Signature { r: tx.signature.r, s: U256::ZERO, y_parity: tx.signature.y_parity };
    block.transactions[0] = crate::primitives::SignedTransaction::new(tx.tx, forged);
    block.header.transactions_root = trie::transactions_root(&block.transactions);
    reseal(&mut block, &key(1));
    let err = refused(&mut c, &block);
    assert!(matches!(err, ImportError::BadSignature { index: 0, .. }), "{err}");
}

#[test]
fn gas_over_the_limit_is_refused() {
    let mut c = chain(0);
    let mut block = valid_block(&c, unix_now());
    block.header.gas_used = block.header.gas_limit + 1;
    reseal(&mut block, &key(1));
    let err = refused(&mut c, &block);
    assert!(
        matches!(err, ImportError::Consensus(ConsensusError::GasUsedOverLimit { .. })),
        "{err}"
    );
}

#[test]
fn timestamps_too_early_or_in_the_future_are_refused() {
    let mut c = chain(5);
    let early = valid_block(&c, 4);
    let err = refused(&mut c, &early);
    assert!(
        matches!(err, ImportError::Consensus(ConsensusError::TimestampTooEarly { .. })),
        "{err}"
    );
    let future = valid_block(&c, unix_now() + 60);
    let err = refused(&mut c, &future);
    assert!(matches!(err, ImportError::Consensus(ConsensusError::FutureBlock { .. })), "{err}");
    let on_time = valid_block(&c, 5);
    c.import(&on_time, unix_now()).unwrap();
}

#[test]
fn malformed_rlp_is_refused_before_import() {
    let c = chain(0);
    let bytes = valid_block(&c, unix_now()).encoded();
    for cut in [1, bytes.len() / 2, bytes.len() - 1] {
        assert!(Block::decode(&bytes[..cut]).is_err());
    }
    let mut garbage = bytes.clone();
    garbage[1] ^= 0xff;
    assert!(Block::decode(&garbage).is_err());
    assert!(crate::chain::read_blocks(&bytes[..bytes.len() - 3]).is_err());
    assert_eq!(c.head().number, 0);
}

#[test]
fn export_then_import_reproduces_head_and_state() {
    let mut c = chain(0);
    for nonce in 0..3 {
        let built = build_block(&c, &key(1), unix_now(), &[transfer(nonce)], None).unwrap();
        c.import(&built.block, unix_now()).unwrap();
    }
    let mut file = Vec::new();
    assert_eq!(crate::chain::export(c.store(), &mut file, 0, 3).unwrap(), 4);
    let mut fresh = chain(0);
    let summary =
        fresh.import_blocks(&crate::chain::read_blocks(&file).unwrap(), unix_now()).unwrap();
    assert_eq!((summary.imported, summary.known), (3, 1));
    assert_eq!(fresh.head().hash(), c.head().hash());
    assert_eq!(fresh.head().state_root, c.head().state_root);
}

#[test]
fn reverting_the_head_restores_the_previous_state() {
    let mut c = chain(0);
    let before = c.store().all_accounts().unwrap();
    let genesis = c.head().clone();
    let built = build_block(&c, &key(1), unix_now(), &[transfer(0)], None).unwrap();
    c.import(&built.block, unix_now()).unwrap();
    c.revert_head().unwrap();
    assert_eq!(c.head(), &genesis);
    assert_eq!(c.store().all_accounts().unwrap(), before);
    assert_eq!(c.store().tx_location(&built.block.transactions[0].hash()).unwrap(), None);
    // The same block imports again on top of the restored state.
    c.import(&built.block, unix_now()).unwrap();
}

#[test]
fn state_at_recent_blocks_reads_through_changesets() {
    let mut c = chain(0);
    let to = Address::repeat_byte(0x77);
    for nonce in 0..3 {
        let built = build_block(&c, &key(1), unix_now(), &[transfer(nonce)], None).unwrap();
        c.import(&built.block, unix_now()).unwrap();
    }
    let store = c.store();
    for n in 0..=3u64 {
        let balance = store.account_at(&to, n).unwrap().unwrap().map(|a| a.balance);
        let expected = (n > 0).then(|| U256::from(1000 * n));
        assert_eq!(balance, expected, "balance after block {n}");
        let nonce = store.account_at(&key(2).address(), n).unwrap().unwrap().unwrap().nonce;
        assert_eq!(nonce, n);
    }
    assert_eq!(store.account_at(&to, 4).unwrap(), None, "block 4 does not exist yet");
}
