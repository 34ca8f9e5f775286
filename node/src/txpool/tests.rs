//! Pool behaviour: nonces, funds, replacement, limits, ordering and pruning.

use super::*;
use crate::primitives::{Bytes, PrivateKey, Transaction, TxKind, TxType};
use std::collections::HashMap;

#[derive(Default)]
struct State(HashMap<Address, (u64, U256)>);

impl AccountState for State {
    fn nonce_and_balance(&self, a: &Address) -> (u64, U256) {
        self.0.get(a).copied().unwrap_or((0, U256::ZERO))
    }
}

fn key(i: u8) -> PrivateKey {
    PrivateKey::from_bytes(&B256::repeat_byte(i)).unwrap()
}

fn tx(k: &PrivateKey, nonce: u64, fee: u128) -> SignedTransaction {
    Transaction {
        tx_type: TxType::Eip1559,
        chain_id: Some(31337),
        nonce,
        max_priority_fee_per_gas: U256::from(fee),
        max_fee_per_gas: U256::from(fee),
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(9)),
        value: U256::from(1),
        input: Bytes::new(),
        access_list: vec![],
    }
    .sign(k)
}

fn funded(keys: &[&PrivateKey]) -> State {
    State(keys.iter().map(|k| (k.address(), (0, U256::from(10u64).pow(U256::from(20))))).collect())
}

#[test]
fn nonce_gaps_queue_until_filled() {
    let a = key(1);
    let state = funded(&[&a]);
    let mut pool = TxPool::new(PoolConfig::default());
    pool.add(tx(&a, 1, 10), a.address(), true, &state).unwrap();
    assert_eq!(pool.counts(&state), (0, 1));
    assert!(pool.best(&state, Some(1)).is_empty());
    pool.add(tx(&a, 0, 10), a.address(), true, &state).unwrap();
    assert_eq!(pool.counts(&state), (2, 0));
    assert_eq!(pool.pending_nonce(&a.address(), 0), 2);
    let nonces: Vec<u64> = pool.best(&state, Some(1)).iter().map(|p| p.tx.tx.nonce).collect();
    assert_eq!(nonces, vec![0, 1]);
}

#[test]
fn stale_nonce_and_poor_senders_are_refused() {
    let a = key(1);
    let mut state = funded(&[&a]);
    state.0.insert(a.address(), (5, U256::from(21_000 * 10)));
    let mut pool = TxPool::new(PoolConfig::default());
    let low = pool.add(tx(&a, 4, 10), a.address(), true, &state);
    assert_eq!(low, Err(PoolError::NonceTooLow { next: 5, nonce: 4 }));
    let poor = pool.add(tx(&a, 5, 10), a.address(), true, &state);
    assert!(matches!(poor, Err(PoolError::InsufficientFunds { .. })));
    let poor_msg = poor.unwrap_err().to_string();
    assert!(poor_msg.starts_with("insufficient funds for gas * price + value"), "{poor_msg}");
}

#[test]
fn replacement_needs_a_ten_percent_bump() {
    let a = key(1);
    let state = funded(&[&a]);
    let mut pool = TxPool::new(PoolConfig::default());
    let first = pool.add(tx(&a, 0, 100), a.address(), true, &state).unwrap();
    assert_eq!(
        pool.add(tx(&a, 0, 109), a.address(), true, &state),
        Err(PoolError::ReplacementUnderpriced)
    );
    let second = pool.add(tx(&a, 0, 110), a.address(), true, &state).unwrap();
    assert_eq!(second.replaced, Some(first.hash));
    assert_eq!(pool.len(), 1);
    assert!(pool.get(&first.hash).is_none());
    assert_eq!(pool.add(tx(&a, 0, 110), a.address(), true, &state), Err(PoolError::AlreadyKnown));
}

#[test]
fn a_full_pool_evicts_the_cheapest_remote_transaction() {
    let (a, b, c) = (key(1), key(2), key(3));
    let state = funded(&[&a, &b, &c]);
    let config = PoolConfig { max_total: 2, own_reserve: 0, ..Default::default() };
    let mut pool = TxPool::new(config);
    let cheap = pool.add(tx(&a, 0, 5), a.address(), false, &state).unwrap().hash;
    pool.add(tx(&b, 0, 50), b.address(), false, &state).unwrap();
    assert_eq!(pool.add(tx(&c, 0, 4), c.address(), false, &state), Err(PoolError::Full));
    let added = pool.add(tx(&c, 0, 20), c.address(), false, &state).unwrap();
    assert_eq!(added.evicted, Some(cheap));
    assert_eq!(pool.len(), 2);
}

#[test]
fn best_orders_senders_by_tip_and_waits_below_base_fee() {
    let (a, b) = (key(1), key(2));
    let state = funded(&[&a, &b]);
    let mut pool = TxPool::new(PoolConfig::default());
    pool.add(tx(&a, 0, 20), a.address(), true, &state).unwrap();
    pool.add(tx(&a, 1, 50), a.address(), true, &state).unwrap();
    pool.add(tx(&b, 0, 30), b.address(), true, &state).unwrap();
    let order: Vec<(Address, u64)> =
        pool.best(&state, Some(1)).iter().map(|p| (p.sender, p.tx.tx.nonce)).collect();
    assert_eq!(order, vec![(b.address(), 0), (a.address(), 0), (a.address(), 1)]);
    assert_eq!(pool.best(&state, Some(25)).len(), 1, "a's first tx waits for a lower base fee");
}

#[test]
fn prune_drops_included_nonces() {
    let a = key(1);
    let mut state = funded(&[&a]);
    let mut pool = TxPool::new(PoolConfig::default());
    let h0 = pool.add(tx(&a, 0, 10), a.address(), true, &state).unwrap().hash;
    pool.add(tx(&a, 1, 10), a.address(), true, &state).unwrap();
    state.0.get_mut(&a.address()).unwrap().0 = 1;
    assert_eq!(pool.prune(&state), vec![h0]);
    assert_eq!(pool.len(), 1);
}

#[test]
fn an_included_transaction_not_yet_pruned_is_neither_pending_nor_queued() {
    // Between a block's commit and the pool's prune, the state has passed nonce 0.
    let a = key(1);
    let mut state = funded(&[&a]);
    let mut pool = TxPool::new(PoolConfig::default());
    pool.add(tx(&a, 0, 10), a.address(), true, &state).unwrap();
    pool.add(tx(&a, 2, 10), a.address(), true, &state).unwrap();
    assert_eq!(pool.counts(&state), (1, 1));
    state.0.get_mut(&a.address()).unwrap().0 = 1;
    assert_eq!(pool.counts(&state), (0, 1));
    let (pending, queued) = pool.content(&state);
    assert!(pending.is_empty());
    assert_eq!(queued[&a.address()].keys().copied().collect::<Vec<_>>(), vec![2]);
}

#[test]
fn accounts_are_held_to_their_ready_and_waiting_limits() {
    let (a, b) = (key(1), key(2));
    let state = funded(&[&a, &b]);
    let config = PoolConfig { account_ready: 3, account_waiting: 2, ..Default::default() };
    let mut pool = TxPool::new(config);
    // Five in all, in any order (a batch's calls may arrive out of order).
    for n in [2, 0, 4, 1, 3] {
        pool.add(tx(&a, n, 10), a.address(), true, &state).unwrap();
    }
    assert_eq!(pool.add(tx(&a, 5, 10), a.address(), true, &state), Err(PoolError::AccountLimit(5)));
    // At most two beyond the next three nonces.
    pool.add(tx(&b, 10, 10), b.address(), true, &state).unwrap();
    pool.add(tx(&b, 11, 10), b.address(), true, &state).unwrap();
    assert_eq!(
        pool.add(tx(&b, 12, 10), b.address(), true, &state),
        Err(PoolError::AccountLimit(2))
    );
    pool.add(tx(&b, 1, 10), b.address(), true, &state).unwrap();
    // A replacement is not a new slot.
    pool.add(tx(&b, 11, 20), b.address(), true, &state).unwrap();
    assert_eq!(pool.len(), 8);
}

#[test]
fn many_accounts_of_future_nonces_cannot_lock_the_node_out() {
    let own = key(200);
    let attackers: Vec<PrivateKey> = (1..=8).map(key).collect();
    let mut all: Vec<&PrivateKey> = attackers.iter().collect();
    all.push(&own);
    let state = funded(&all);
    let config = PoolConfig {
        account_waiting: 64,
        max_waiting: 100,
        max_total: 200,
        own_reserve: 50,
        ..Default::default()
    };
    let mut pool = TxPool::with_own(config, [own.address()]);
    let mut refused = 0;
    for k in &attackers {
        for n in 1..=1024 {
            match pool.add(tx(k, n, 1_000), k.address(), true, &state) {
                Ok(_) => {}
                Err(PoolError::Full | PoolError::AccountLimit(_)) => refused += 1,
                Err(e) => panic!("{e}"),
            }
        }
    }
    assert_eq!(pool.len(), 100, "waiting transactions stop at the global limit");
    assert_eq!(refused, 8 * 1024 - 100);
    // Ready transactions of others still fit, and push waiting ones out when full.
    for k in &attackers {
        for n in 0..64 {
            let _ = pool.add(tx(k, n, 5), k.address(), true, &state);
        }
    }
    assert!(pool.len() <= 150, "others stop at max_total - own_reserve: {}", pool.len());
    // The node's own account always has room.
    for n in 0..50 {
        pool.add(tx(&own, n, 1), own.address(), true, &state).unwrap();
    }
    assert_eq!(pool.best(&state, Some(1)).iter().filter(|p| p.sender == own.address()).count(), 50);
}

#[test]
fn waiting_transactions_expire() {
    let a = key(1);
    let state = funded(&[&a]);
    let config = PoolConfig { waiting_lifetime: std::time::Duration::ZERO, ..Default::default() };
    let mut pool = TxPool::new(config);
    pool.add(tx(&a, 0, 10), a.address(), true, &state).unwrap();
    let gapped = pool.add(tx(&a, 5, 10), a.address(), true, &state).unwrap().hash;
    assert_eq!(pool.expire(&state), vec![gapped], "only the waiting one expires");
    assert_eq!(pool.len(), 1);
}

#[test]
fn expiry_scans_at_most_once_a_second() {
    let a = key(1);
    let state = funded(&[&a]);
    let config = PoolConfig { waiting_lifetime: std::time::Duration::ZERO, ..Default::default() };
    let mut pool = TxPool::new(config);
    pool.add(tx(&a, 3, 10), a.address(), true, &state).unwrap();
    assert_eq!(pool.expire_due(&state).len(), 1, "the first scan runs");
    let gapped = pool.add(tx(&a, 5, 10), a.address(), true, &state).unwrap().hash;
    assert!(pool.expire_due(&state).is_empty(), "a scan right after is skipped");
    std::thread::sleep(super::EXPIRY_SCAN_EVERY);
    assert_eq!(pool.expire_due(&state), vec![gapped], "a second later it runs again");
}

#[test]
fn a_transaction_refused_by_execution_strikes_out() {
    let a = key(1);
    let state = funded(&[&a]);
    let mut pool = TxPool::new(PoolConfig::default());
    let h = pool.add(tx(&a, 0, 10), a.address(), true, &state).unwrap().hash;
    assert!(!pool.strike(&h));
    assert!(!pool.strike(&h));
    assert!(pool.strike(&h), "the third refusal in a row");
}

#[test]
fn a_value_that_overflows_the_cost_is_refused() {
    let a = key(1);
    let state = funded(&[&a]);
    let mut pool = TxPool::new(PoolConfig::default());
    let mut t = tx(&a, 0, 10).tx;
    t.value = U256::MAX;
    let refused = pool.add(t.sign(&a), a.address(), true, &state);
    assert!(matches!(refused, Err(PoolError::InsufficientFunds { .. })), "{refused:?}");
}

#[test]
fn a_fee_beyond_128_bits_is_well_formed_and_refused_for_its_funds() {
    // Ethereum's fee fields are 256-bit: such a transaction decodes (a block from another client
    // may carry one), round-trips byte for byte, and can never pay.
    let a = key(1);
    let mut t = tx(&a, 0, 1).tx;
    t.max_fee_per_gas = U256::from(1) << 200;
    t.max_priority_fee_per_gas = U256::from(1) << 199;
    let signed = t.sign(&a);
    let back = SignedTransaction::decode(signed.encoded()).unwrap();
    assert_eq!(back, signed);
    assert_eq!(back.tx.fee_cap(), u128::MAX, "the EVM sees a saturated price");
    let mut pool = TxPool::new(PoolConfig::default());
    let refused = pool.add(signed, a.address(), true, &funded(&[&a])).unwrap_err();
    assert!(matches!(refused, PoolError::InsufficientFunds { .. }), "{refused}");
    // A nonce at 2^64 - 1 is refused (EIP-2681).
    let max = tx(&a, u64::MAX, 10);
    assert_eq!(check_stateless(&max, 31337, 30_000_000, 1), Err(PoolError::NonceMax));
}

#[test]
fn the_local_count_and_ready_work_follow_adds_replacements_removals_and_pruning() {
    let (a, b) = (key(1), key(2));
    let mut state = funded(&[&a, &b]);
    let mut pool = TxPool::new(PoolConfig::default());
    let agree = |pool: &TxPool| assert_eq!(pool.local_count(), pool.locals().count());
    assert!(!pool.has_ready(&state));
    pool.add(tx(&b, 1, 10), b.address(), true, &state).unwrap();
    agree(&pool);
    assert!(!pool.has_ready(&state), "nonce 1 waits for 0");
    pool.add(tx(&a, 0, 10), a.address(), true, &state).unwrap();
    pool.add(tx(&a, 1, 10), a.address(), false, &state).unwrap();
    assert!(pool.has_ready(&state));
    assert_eq!(pool.local_count(), 2);
    // A remote replacement of a local transaction, and a local one of a remote.
    pool.add(tx(&a, 0, 20), a.address(), false, &state).unwrap();
    agree(&pool);
    pool.add(tx(&a, 1, 20), a.address(), true, &state).unwrap();
    agree(&pool);
    assert_eq!(pool.local_count(), 2);
    let gone = tx(&b, 1, 10).hash();
    pool.remove(&gone).unwrap();
    agree(&pool);
    // Both of a's mined.
    state.0.get_mut(&a.address()).unwrap().0 = 2;
    assert_eq!(pool.prune(&state).len(), 2);
    agree(&pool);
    assert_eq!(pool.local_count(), 0);
    assert!(!pool.has_ready(&state));
}
