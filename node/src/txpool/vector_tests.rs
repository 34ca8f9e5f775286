//! Ethereum's TransactionTests (`node/tests/fixtures/ethereum-tests/TransactionTests`) through
//! the node's own code: the decoder, the rules every block's transactions obey
//! ([`super::validate::check_valid`]), sender recovery and intrinsic gas. Each fixture's Cancun
//! result is the expectation (the same as Prague's for these types; Shanghai's where a fixture
//! stops there, as the same rules): a valid transaction has the same hash, sender and intrinsic
//! gas; an invalid one is refused.

use super::validate::{check_valid, intrinsic_gas};
use crate::primitives::vector_tests::fixture;
use crate::primitives::{Address, SignedTransaction, B256};
use serde_json::Value;

/// Mainnet's chain id: the fixtures' EIP-155 transactions are signed for it.
const CHAIN_ID: u64 = 1;

/// What the node makes of `txbytes`: its hash, sender and intrinsic gas, or why it is invalid.
fn judge(raw: &[u8]) -> Result<(B256, Address, u64), String> {
    let tx = SignedTransaction::decode(raw).map_err(|e| format!("decode: {e}"))?;
    check_valid(&tx, CHAIN_ID).map_err(|e| e.to_string())?;
    let sender = tx.recover_sender().map_err(|e| format!("sender: {e}"))?;
    Ok((tx.hash(), sender, intrinsic_gas(&tx).0))
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).unwrap_or_default()
}

#[test]
fn every_transaction_test_agrees_with_ethereum_for_cancun() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ethereum-tests/");
    let mut files: Vec<_> = std::fs::read_dir(format!("{root}TransactionTests"))
        .expect("fixtures")
        .flat_map(|dir| std::fs::read_dir(dir.expect("entry").path()).expect("folder"))
        .map(|f| f.expect("file").path())
        .collect();
    files.sort();
    let (mut checked, mut valid, mut without_result) = (0, 0, 0);
    let mut failures = Vec::new();
    for path in &files {
        let relative = path.strip_prefix(root).expect("under root").to_string_lossy().to_string();
        let Value::Object(tests) = fixture(&relative) else { panic!("{relative}") };
        for (name, test) in tests {
            // ttWrongRLP stops at Shanghai: its rules for these types are Cancun's (Cancun only
            // adds blob transactions).
            let result = &test["result"];
            let Some(expected) = result.get("Cancun").or_else(|| result.get("Shanghai")) else {
                without_result += 1;
                continue;
            };
            checked += 1;
            let got = judge(&unhex(test["txbytes"].as_str().unwrap_or_default()));
            match (expected.get("exception"), got) {
                (Some(_), Err(_)) => {}
                (Some(exception), Ok(_)) => {
                    failures.push(format!("{relative} {name}: accepted, expected {exception}"))
                }
                (None, Err(why)) => failures.push(format!("{relative} {name}: refused ({why})")),
                (None, Ok((hash, sender, gas))) => {
                    valid += 1;
                    let want_hash: B256 = expected["hash"].as_str().unwrap_or("").parse().unwrap();
                    let want_sender: Address =
                        expected["sender"].as_str().unwrap_or("").parse().unwrap();
                    let want_gas = u64::from_str_radix(
                        expected["intrinsicGas"].as_str().unwrap_or("0x0").trim_start_matches("0x"),
                        16,
                    )
                    .unwrap();
                    if (hash, sender, gas) != (want_hash, want_sender, want_gas) {
                        failures.push(format!(
                            "{relative} {name}: got {hash} {sender} {gas}, expected {want_hash} \
                             {want_sender} {want_gas}"
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 180 && valid >= 40, "{checked} checked, {valid} valid");
    eprintln!("{checked} transaction tests agree ({valid} valid); {without_result} have no result after Shanghai");
}
