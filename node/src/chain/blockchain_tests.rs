//! Ethereum's `BlockchainTests` (`node/tests/fixtures/ethereum-tests/BlockchainTests`): every
//! fixture's blocks go through [`Chain::import`], the path blocks from peers take (header rules,
//! signatures, execution in revm, withdrawals, gas, receipts root, bloom, state root, one atomic
//! commit), with Ethereum's proof-of-stake header rules in place of Clique's
//! ([`Chain::open_post_merge`]). A valid block must import; an invalid one must be refused for
//! the reason the fixture names; then the head, the post-state and its accounts must agree.

use super::{Chain, ImportError};
use crate::consensus::ConsensusError;
use crate::execution::ExecError;
use crate::genesis::Genesis;
use crate::primitives::{keccak256, trie, Address, Block, U256};
use crate::state::Store;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const ROOT: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ethereum-tests/BlockchainTests/");

/// Fixtures the node does not pass, each with the failure it must give (so that a change is
/// noticed) and why (in the fixtures' README too).
const EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "blockWithAllTransactionTypes_Cancun",
    "transaction type 3 not supported",
    "carries a blob transaction (EIP-4844, type 3): a Clique chain has no consensus layer to \
     carry blob sidecars, its headers' blob gas must be zero, and the node refuses type 3",
)];

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn quantity(v: &Value) -> U256 {
    let s = v.as_str().expect("a hex quantity");
    U256::from_str_radix(s.trim_start_matches("0x"), 16).expect("a hex quantity")
}

/// The fixture's genesis as a geth genesis file, under the Cancun rules from block 0.
fn genesis_of(test: &Value) -> Genesis {
    let h = &test["genesisBlockHeader"];
    let config = json!({
        "chainId": 1, "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
        "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0,
        "berlinBlock": 0, "londonBlock": 0, "mergeNetsplitBlock": 0, "shanghaiTime": 0,
        "cancunTime": 0,
    });
    assert_eq!(test["network"], "Cancun", "only Cancun fixtures are kept");
    let file = json!({
        "config": config, "nonce": h["nonce"], "timestamp": h["timestamp"],
        "extraData": h["extraData"], "gasLimit": h["gasLimit"], "difficulty": h["difficulty"],
        "mixHash": h["mixHash"], "coinbase": h["coinbase"], "baseFeePerGas": h["baseFeePerGas"],
        "alloc": test["pre"],
    });
    Genesis::from_json(&file.to_string()).expect("the fixture's genesis parses")
}

/// Which of the fixture's exception names an import error stands for.
fn reasons(err: &ImportError) -> Vec<&'static str> {
    use ConsensusError as C;
    match err {
        ImportError::NotOnHead(_) | ImportError::UnknownParent(_) => {
            vec!["BlockException.UNKNOWN_PARENT", "BlockException.UNKNOWN_PARENT_ZERO"]
        }
        ImportError::Consensus(c) => match c {
            C::UnknownAncestor => vec!["BlockException.UNKNOWN_PARENT"],
            C::InvalidNumber { .. } => vec!["BlockException.INVALID_BLOCK_NUMBER"],
            C::TimestampTooEarly { .. } => {
                vec!["BlockException.INVALID_BLOCK_TIMESTAMP_OLDER_THAN_PARENT"]
            }
            C::InvalidGasLimit { .. } => {
                vec!["BlockException.INVALID_GASLIMIT", "BlockException.GASLIMIT_TOO_BIG"]
            }
            C::GasUsedOverLimit { .. } => vec!["BlockException.GAS_USED_OVERFLOW"],
            C::InvalidBaseFee { .. } => vec!["BlockException.INVALID_BASEFEE_PER_GAS"],
            C::ExtraDataTooLong(_) => vec!["BlockException.EXTRA_DATA_TOO_BIG"],
            C::NonZeroDifficulty(_) => {
                vec!["BlockException.IMPORT_IMPOSSIBLE_DIFFICULTY_OVER_PARIS"]
            }
            C::InvalidOmmers => vec!["BlockException.IMPORT_IMPOSSIBLE_UNCLES_OVER_PARIS"],
            C::InvalidExcessBlobGas { .. } => vec!["BlockException.INCORRECT_EXCESS_BLOB_GAS"],
            _ => vec![],
        },
        ImportError::Mismatch { what, .. } => match *what {
            "state root" => vec!["BlockException.INVALID_STATE_ROOT"],
            "receipts root" => vec!["BlockException.INVALID_RECEIPTS_ROOT"],
            "transactions root" => vec!["BlockException.INVALID_TRANSACTIONS_ROOT"],
            "withdrawals root" => vec!["BlockException.INVALID_WITHDRAWALS_ROOT"],
            "gas used" => vec!["BlockException.INVALID_GAS_USED"],
            "logs bloom" => vec!["BlockException.INVALID_LOG_BLOOM"],
            "blob gas used" => vec!["BlockException.INCORRECT_BLOB_GAS_USED"],
            _ => vec![],
        },
        ImportError::Transaction { source: ExecError::BlockGasExhausted { .. }, .. } => {
            vec!["TransactionException.GAS_ALLOWANCE_EXCEEDED"]
        }
        ImportError::Transaction { source: ExecError::InvalidTransaction(msg), .. } => {
            tx_reasons(msg)
        }
        ImportError::BadSignature { .. } => vec!["TransactionException.INVALID_SIGNATURE"],
        _ => vec![],
    }
}

/// revm's words for an invalid transaction, as the fixtures name them.
fn tx_reasons(msg: &str) -> Vec<&'static str> {
    let table: [(&str, &[&str]); 9] = [
        ("too low", &["TransactionException.NONCE_MISMATCH_TOO_LOW"]),
        ("too high", &["TransactionException.NONCE_MISMATCH_TOO_HIGH"]),
        ("lack of funds", &["TransactionException.INSUFFICIENT_ACCOUNT_FUNDS"]),
        ("intrinsic gas", &["TransactionException.INTRINSIC_GAS_TOO_LOW"]),
        ("call gas cost", &["TransactionException.INTRINSIC_GAS_TOO_LOW"]),
        (
            "priority fee is greater",
            &["TransactionException.PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS"],
        ),
        ("gas price is less than basefee", &["TransactionException.INSUFFICIENT_MAX_FEE_PER_GAS"]),
        ("exceeds the block gas limit", &["TransactionException.GAS_ALLOWANCE_EXCEEDED"]),
        ("senders with deployed code", &["TransactionException.SENDER_NOT_EOA"]),
    ];
    table
        .iter()
        .filter(|(words, _)| msg.contains(words))
        .flat_map(|(_, r)| r.iter().copied())
        .collect()
}

/// Why a block that does not decode is refused, in the fixtures' words.
fn decode_reasons(err: &str) -> Vec<&'static str> {
    if err.contains("ommers") {
        return vec!["BlockException.IMPORT_IMPOSSIBLE_UNCLES_OVER_PARIS"];
    }
    let mut r = vec!["BlockException.RLP_STRUCTURES_ENCODING"];
    if err.contains("withdrawals") {
        r.push("BlockException.RLP_WITHDRAWALS_NOT_READ");
    }
    r
}

/// Inserts `block` as a block from a peer. Where the fixture expects a transaction to be refused
/// and its header's transactions root leaves that transaction out (its filler dropped it), the
/// node refuses the block for its root first, before executing anything, as geth and reth do;
/// the block is then re-rooted over the body it carries, so that execution must refuse the
/// transaction for the named reason.
fn import(
    chain: &mut Chain,
    block: &Block,
    expected: &[&str],
) -> Result<(), (Vec<&'static str>, String)> {
    let refused = |e: ImportError| (reasons(&e), e.to_string());
    match chain.insert_block(block, u64::MAX) {
        Ok(_) => Ok(()),
        Err(e @ ImportError::Mismatch { what: "transactions root", .. })
            if expected.iter().all(|r| r.starts_with("TransactionException.")) =>
        {
            let mut rerooted = block.clone();
            rerooted.header.transactions_root = trie::transactions_root(&block.transactions);
            match chain.insert_block(&rerooted, u64::MAX) {
                Ok(_) => Err((vec![], format!("{e}, but imported once re-rooted"))),
                Err(e) => Err(refused(e)),
            }
        }
        Err(e) => Err(refused(e)),
    }
}

/// Runs one fixture; `Err` says what disagreed.
fn run(test: &Value) -> Result<(), String> {
    let genesis = genesis_of(test);
    let store = Store::temporary().map_err(|e| e.to_string())?;
    let header = store.init_genesis(&genesis).map_err(|e| e.to_string())?;
    let want = &test["genesisBlockHeader"]["hash"];
    if format!("{:#x}", header.hash()) != want.as_str().unwrap_or_default() {
        return Err(format!("genesis hash {} is not {want}", header.hash()));
    }
    let mut chain = Chain::open_post_merge(store).map_err(|e| e.to_string())?;
    for (i, b) in test["blocks"].as_array().expect("blocks").iter().enumerate() {
        let expected: Vec<&str> =
            b["expectException"].as_str().map(|e| e.split('|').collect()).unwrap_or_default();
        let outcome = match Block::decode(&unhex(b["rlp"].as_str().expect("rlp"))) {
            Err(e) => Err((decode_reasons(&e.to_string()), format!("decode: {e}"))),
            Ok(block) => import(&mut chain, &block, &expected),
        };
        match (outcome, expected.is_empty()) {
            (Ok(()), true) => {}
            (Ok(()), false) => return Err(format!("block {i} imported, expected {expected:?}")),
            (Err((_, e)), true) => return Err(format!("block {i} refused: {e}")),
            (Err((ours, e)), false) => {
                if !ours.iter().any(|r| expected.contains(r)) {
                    return Err(format!(
                        "block {i} refused for {e} ({ours:?}), expected {expected:?}"
                    ));
                }
            }
        }
    }
    let head = format!("{:#x}", chain.head().hash());
    if head != test["lastblockhash"].as_str().unwrap_or_default() {
        return Err(format!("head {head} is not {}", test["lastblockhash"]));
    }
    if let Some(root) = test["postStateHash"].as_str() {
        let ours = format!("{:#x}", chain.head().state_root);
        if ours != root {
            return Err(format!("post-state root {ours} is not {root}"));
        }
    }
    if let Some(post) = test["postState"].as_object() {
        check_post_state(chain.store(), post)?;
    }
    Ok(())
}

/// Every account of the fixture's post-state, field by field, as the store holds it.
fn check_post_state(store: &Store, post: &Map<String, Value>) -> Result<(), String> {
    for (addr, want) in post {
        let address: Address = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
        let account = store.account(&address).map_err(|e| e.to_string())?;
        let account = account.ok_or_else(|| format!("{addr} is missing"))?;
        let code = unhex(want["code"].as_str().unwrap_or("0x"));
        let checks = [
            ("balance", account.balance == quantity(&want["balance"])),
            ("nonce", U256::from(account.nonce) == quantity(&want["nonce"])),
            ("code", account.code_hash == keccak256(&code)),
        ];
        if let Some((what, _)) = checks.iter().find(|(_, ok)| !ok) {
            return Err(format!("{addr}: {what} differs ({account:?})"));
        }
        let storage = want["storage"].as_object().cloned().unwrap_or_default();
        let slots: BTreeMap<U256, U256> =
            storage.iter().map(|(k, v)| (quantity(&json!(k)), quantity(v))).collect();
        for (slot, value) in slots {
            let ours = store.storage(&address, &slot).map_err(|e| e.to_string())?;
            if ours != value {
                return Err(format!("{addr} slot {slot:#x}: {ours:#x}, want {value:#x}"));
            }
        }
    }
    Ok(())
}

/// Runs every fixture under `folder`; returns (passed, failures, known exceptions).
fn run_folder(folder: &str) -> (usize, Vec<String>, usize) {
    let mut files: Vec<PathBuf> = Vec::new();
    collect(&Path::new(ROOT).join(folder), &mut files);
    files.sort();
    let (mut passed, mut failures, mut excepted) = (0, Vec::new(), 0);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("fixture");
        let tests: Map<String, Value> = serde_json::from_str(&text).expect("fixture JSON");
        for (name, test) in &tests {
            let exception = EXCEPTIONS.iter().find(|(n, _, _)| n == name);
            match (run(test), exception) {
                (Ok(()), None) => passed += 1,
                (Err(e), Some((_, failure, why))) if e.contains(failure) => {
                    eprintln!("{name}: not passed, as expected: {why}");
                    excepted += 1;
                }
                (Ok(()), Some(_)) => failures.push(format!("{name}: passes; remove its exception")),
                (Err(e), _) => failures.push(format!("{name}: {e}")),
            }
        }
    }
    (passed, failures, excepted)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// Runs the fixtures of each folder under `group`, printing the pass rate by folder, and fails
/// with every disagreement.
fn check_group(group: &str, folders: &[&str], at_least: usize) {
    let (mut total, mut all_failures) = (0, Vec::new());
    for folder in folders {
        let (passed, failures, excepted) = run_folder(&format!("{group}/{folder}"));
        let ran = passed + failures.len() + excepted;
        eprintln!("{group}/{folder}: {passed} of {ran} passed, {excepted} excepted");
        total += ran;
        all_failures.extend(failures);
    }
    let n = all_failures.len();
    assert!(n == 0, "{group}: {n} of {total} failed:\n{}", all_failures.join("\n"));
    assert!(total >= at_least, "{group}: only {total} fixtures ran");
}

#[test]
fn valid_blocks_state_tests() {
    check_group("ValidBlocks", &["bcStateTests"], 288);
}

#[test]
fn valid_blocks_random_blockhash() {
    check_group("ValidBlocks", &["bcRandomBlockhashTest"], 105);
}

#[test]
fn valid_blocks_others() {
    let folders = [
        "bcBlockGasLimitTest",
        "bcEIP1153-transientStorage",
        "bcEIP1559",
        "bcEIP3675",
        "bcEIP4844-blobtransactions",
        "bcExample",
        "bcExploitTest",
        "bcForkStressTest",
        "bcGasPricerTest",
        "bcValidBlockTest",
        "bcWalletTest",
    ];
    check_group("ValidBlocks", &folders, 49);
}

#[test]
fn invalid_blocks() {
    let folders = [
        "bc4895-withdrawals",
        "bcBlockGasLimitTest",
        "bcEIP1559",
        "bcEIP3675",
        "bcInvalidHeaderTest",
        "bcMultiChainTest",
        "bcStateTests",
        "bcUncleHeaderValidity",
        "bcUncleSpecialTests",
        "bcUncleTest",
    ];
    check_group("InvalidBlocks", &folders, 131);
}
