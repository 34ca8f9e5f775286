//! Damaged values in the database are reported as corruption naming what and where, never a
//! panic: each kind of stored value is overwritten with bytes that do not decode. And a genesis
//! too large for one batch is written whole.

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
    let store = damaged(keys::hashed_storage(&address, &slot), &[1u8; 40]);
    assert_corrupt(store.storage(&address, &slot), "40 bytes under key");
    assert_corrupt(store.storage_at(&address, &slot, 0), "storage");
    for not_a_value in [&b"\x80"[..], b"\x00", b"\x82\x00\x01", b"\x05\x05", b"\xa1"] {
        let store = damaged(keys::hashed_storage(&address, &slot), not_a_value);
        assert_corrupt(store.storage(&address, &slot), "are not a value");
    }

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

#[test]
fn a_genesis_larger_than_one_slice_is_written_whole() {
    // Written in several batches: every account is there and the state root is the header's.
    let accounts = 2 * GENESIS_SLICE + 17;
    let alloc: serde_json::Map<String, serde_json::Value> = (0..accounts as u64)
        .map(|i| {
            let address = Address::from_slice(&crate::primitives::keccak256(i.to_be_bytes())[12..]);
            (address.to_string(), serde_json::json!({ "balance": format!("{:#x}", i + 1) }))
        })
        .collect();
    let genesis: Genesis = serde_json::from_value(serde_json::json!({
        "config": { "chainId": 4242 },
        "extraData": format!("0x{}", "00".repeat(97)),
        "alloc": alloc,
    }))
    .unwrap();
    let store = Store::temporary().unwrap();
    let header = store.init_genesis(&genesis).unwrap();
    assert_eq!(store.all_accounts().unwrap().len(), accounts);
    assert_eq!(crate::state::rebuild_tries(&store).unwrap(), header.state_root);
    assert_eq!(store.head().unwrap(), header);
}

#[test]
fn receipts_stored_by_earlier_versions_with_their_bloom_still_read() {
    use crate::primitives::{Log, LogData, Receipt, TxType};
    let log = Log {
        address: Address::repeat_byte(3),
        data: LogData::new_unchecked(vec![B256::repeat_byte(4)], vec![5u8; 96].into()),
    };
    let receipts: Vec<Receipt> =
        [(TxType::Legacy, true, vec![]), (TxType::Eip1559, false, vec![log])]
            .into_iter()
            .enumerate()
            .map(|(i, (tx_type, success, logs))| Receipt {
                tx_type,
                success,
                cumulative_gas_used: 21_000 * (i as u64 + 1),
                logs,
            })
            .collect();
    let hash = B256::repeat_byte(6);
    let list = |form: fn(&Receipt) -> Vec<u8>| {
        let mut s = RlpStream::new_list(receipts.len());
        for r in &receipts {
            s.append(&form(r));
        }
        s.out().to_vec()
    };
    // Earlier versions kept the consensus form (bloom included); this one keeps the stored form.
    let old = damaged(keys::hashed(keys::RECEIPTS, &hash), &list(Receipt::encoded));
    assert_eq!(old.receipts(&hash).unwrap().unwrap(), receipts);
    let new = damaged(keys::hashed(keys::RECEIPTS, &hash), &list(Receipt::stored));
    assert_eq!(new.receipts(&hash).unwrap().unwrap(), receipts);
    assert!(list(Receipt::stored).len() + 2 * 259 <= list(Receipt::encoded).len());
    // Five fields in a receipt is damage, reported as such.
    let mut fields = RlpStream::new_list(5);
    for _ in 0..5 {
        fields.append(&1u8);
    }
    let mut five = RlpStream::new_list(1);
    five.append(&fields.out().to_vec());
    assert_corrupt(
        damaged(keys::hashed(keys::RECEIPTS, &hash), &five.out()).receipts(&hash),
        "receipts",
    );
}
