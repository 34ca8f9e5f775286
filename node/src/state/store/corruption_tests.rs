//! Damaged values in the database are reported as corruption naming what and where, never a
//! panic: each kind of stored value is overwritten with bytes that do not decode.

use super::*;

fn damaged(key: Vec<u8>, value: &[u8]) -> Store {
    let store = Store::temporary().unwrap();
    store.tree.insert(key, value).unwrap();
    store
}

fn assert_corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>, needle: &str) {
    match result {
        Err(StoreError::Corrupt(message)) => assert!(message.contains(needle), "{message}"),
        other => panic!("expected corruption mentioning {needle:?}, got {other:?}"),
    }
}

#[test]
fn every_kind_of_damaged_value_is_reported_with_its_key() {
    let address = Address::repeat_byte(7);
    let store = damaged(keys::account(&address), b"\xff\xff not rlp");
    assert_corrupt(store.account(&address), &address.to_string());
    assert_corrupt(store.all_accounts(), "account under key");

    let slot = U256::from(3);
    let store = damaged(keys::storage(&address, &slot), &[1u8; 40]);
    assert_corrupt(store.storage(&address, &slot), "40 bytes under key");
    assert_corrupt(store.storage_slots(&address), "storage");

    let hash = B256::repeat_byte(9);
    let store = damaged(keys::hashed(keys::TOTAL_DIFFICULTY, &hash), &[2u8; 33]);
    assert_corrupt(store.total_difficulty(&hash), "total difficulty");
    let store = damaged(keys::hashed(keys::TX_LOOKUP, &hash), &[0u8; 5]);
    assert_corrupt(store.tx_location(&hash), &hash.to_string());
    let store = damaged(keys::hashed(keys::SENDERS, &hash), &[0u8; 21]);
    assert_corrupt(store.senders(&hash), "21 bytes");

    let mut short_key = vec![keys::ACCOUNT];
    short_key.extend([1u8; 5]);
    let store = damaged(short_key, b"");
    assert_corrupt(store.all_accounts(), "not an address");
}
