//! Bounded fuzzing in CI: each door that reads outside bytes (RLP transactions, blocks and
//! headers, sync messages, radio frames and the serial resynchroniser, keystore JSON, JSON-RPC
//! parameters) gets thousands of random inputs and of mutations of valid ones, in seconds, with
//! proptest on stable Rust. The same bodies (`targets.rs`, `rpc_target.rs`) are the `cargo fuzz`
//! targets of `node/fuzz/` for long runs; a crashing input found there is added to
//! `regressions()` below.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

mod rpc_target;
mod targets;

use daisee_node::primitives::{
    Address, Block, Bytes, Header, PrivateKey, Transaction, TxKind, TxType, B256, U256,
};
use proptest::prelude::*;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// A valid signed transaction of each type, encoded.
fn valid_transactions() -> Vec<Vec<u8>> {
    let key = PrivateKey::from_bytes(&B256::repeat_byte(7)).unwrap();
    [TxType::Legacy, TxType::Eip2930, TxType::Eip1559]
        .into_iter()
        .map(|tx_type| {
            Transaction {
                tx_type,
                chain_id: Some(31337),
                nonce: 3,
                max_priority_fee_per_gas: U256::from(1_000_000_000u64),
                max_fee_per_gas: U256::from(2_000_000_000u64),
                gas_limit: 100_000,
                to: TxKind::Call(Address::repeat_byte(0xaa)),
                value: U256::from(12345),
                input: Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef]),
                access_list: vec![],
            }
            .sign(&key)
            .encoded()
            .to_vec()
        })
        .collect()
}

/// A valid block (the dev genesis's header with two transactions), encoded.
fn valid_block() -> Vec<u8> {
    let header = Header { number: 7, gas_limit: 30_000_000, ..Default::default() };
    let key = PrivateKey::from_bytes(&B256::repeat_byte(7)).unwrap();
    let transactions = valid_transactions()
        .iter()
        .map(|raw| daisee_node::primitives::SignedTransaction::decode(raw).unwrap())
        .collect();
    let _ = key;
    Block::new(header, transactions).encoded()
}

/// Mutations of `seed`: flipped bytes, a truncation and inserted bytes, as the data chooses.
fn mutated(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = seed.len();
    (
        prop::collection::vec((0..len, any::<u8>()), 0..8),
        0..=len,
        prop::collection::vec((0..=len, any::<u8>()), 0..4),
    )
        .prop_map(move |(flips, keep, inserts)| {
            let mut bytes = seed.clone();
            for (at, b) in flips {
                bytes[at] ^= b;
            }
            bytes.truncate(keep.max(1));
            for (at, b) in inserts {
                let at = at.min(bytes.len());
                bytes.insert(at, b);
            }
            bytes
        })
}

/// Arbitrary JSON, a few levels deep, with the strings and numbers RPC parameters hold.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "0x[0-9a-f]{0,70}".prop_map(Value::from),
        prop_oneof![
            Just("latest"),
            Just("pending"),
            Just("earliest"),
            Just("safe"),
            Just("finalized"),
            Just("0xffffffffffffffff"),
            Just("callTracer")
        ]
        .prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("from".to_string()),
                    Just("to".to_string()),
                    Just("data".to_string()),
                    Just("gas".to_string()),
                    Just("value".to_string()),
                    Just("address".to_string()),
                    Just("topics".to_string()),
                    Just("fromBlock".to_string()),
                    Just("toBlock".to_string()),
                    Just("blockHash".to_string()),
                    "[a-zA-Z]{1,10}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn transactions_from_random_bytes(data in prop::collection::vec(any::<u8>(), 0..300)) {
        targets::transaction(&data);
    }

    #[test]
    fn blocks_and_headers_from_random_bytes(data in prop::collection::vec(any::<u8>(), 0..600)) {
        targets::block(&data);
    }

    #[test]
    fn radio_frames_and_serial_streams(data in prop::collection::vec(any::<u8>(), 0..400)) {
        targets::radio(&data);
    }

    #[test]
    fn sync_messages_from_random_bytes(data in prop::collection::vec(any::<u8>(), 0..300)) {
        targets::sync_message(&data);
    }
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn mutated_transactions(
        (which, data) in (0..3usize).prop_flat_map(|i| (Just(i), mutated(valid_transactions()[i].clone())))
    ) {
        let _ = which;
        targets::transaction(&data);
    }

    #[test]
    fn mutated_blocks(data in mutated(valid_block())) {
        targets::block(&data);
    }

    #[test]
    fn sync_answers_with_mutated_blocks(data in mutated(valid_block())) {
        let answer = serde_json::json!({"Blocks": [hex::encode(&data)]}).to_string();
        targets::sync_message(answer.as_bytes());
        let request = serde_json::json!({"Blocks": {"from": u64::MAX, "count": u64::MAX}}).to_string();
        targets::sync_message(request.as_bytes());
    }
}

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn keystore_json_from_random_bytes(data in prop::collection::vec(any::<u8>(), 0..400)) {
        targets::keystore(&data);
    }

    #[test]
    fn keystore_json_with_random_fields(value in json_value(), field in "(crypto|kdfparams|n|r|p|dklen|salt|c|ciphertext|iv|mac|kdf|cipher|version)") {
        let mut file: serde_json::Value = serde_json::from_str(SCRYPT_LIGHT).unwrap();
        match field.as_str() {
            "crypto" | "version" => file[&field] = value,
            "kdfparams" | "ciphertext" | "mac" | "kdf" | "cipher" => file["crypto"][&field] = value,
            "iv" => file["crypto"]["cipherparams"]["iv"] = value,
            _ => file["crypto"]["kdfparams"][&field] = value,
        }
        targets::keystore(file.to_string().as_bytes());
    }
}

/// A keystore file with scrypt n = 2^10 (quick to derive), password "password".
const SCRYPT_LIGHT: &str = r#"{"address":"00","crypto":{"cipher":"aes-128-ctr","ciphertext":"00000000000000000000000000000000000000000000000000000000000000aa","cipherparams":{"iv":"000102030405060708090a0b0c0d0e0f"},"kdf":"scrypt","kdfparams":{"dklen":32,"n":1024,"p":1,"r":8,"salt":"00"},"mac":"00"},"version":3}"#;

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn json_rpc_methods_with_random_parameters(pick in any::<u16>(), params in prop::collection::vec(json_value(), 0..4)) {
        let methods = rpc_target::methods();
        let method = &methods[usize::from(pick) % methods.len()];
        rpc_target::rpc_call(method, &serde_json::Value::Array(params).to_string());
    }

    #[test]
    fn json_rpc_with_random_bytes(data in prop::collection::vec(any::<u8>(), 0..200)) {
        rpc_target::rpc(&data);
    }
}

/// Inputs that once crashed a target (found by `cargo fuzz`), kept so they never do again.
#[test]
fn regressions() {
    for (target, input) in [("transaction", &b""[..]), ("block", &[0xc0][..])] {
        match target {
            "transaction" => targets::transaction(input),
            _ => targets::block(input),
        }
    }
}
