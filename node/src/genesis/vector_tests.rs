//! Ethereum's genesis vectors (`GenesisTests/basic_genesis_tests.json`): the block the node makes
//! from a genesis file is, byte for byte, the one Ethereum makes (header with the alloc's state
//! root, no transactions, no ommers). The fixtures predate `config`: the Frontier rules apply.

use super::Genesis;
use crate::primitives::vector_tests::fixture;
use crate::primitives::Block;

#[test]
fn genesis_vectors_make_the_same_block() {
    let tests = fixture("GenesisTests/basic_genesis_tests.json");
    let tests = tests.as_object().expect("tests");
    for (name, test) in tests {
        let mut file = test.clone();
        let want = file.as_object_mut().expect("test").remove("result").expect("result");
        // The fixtures' parentHash is always zero; config absent means no fork at all.
        file["config"] = serde_json::json!({ "chainId": 1 });
        // test2 spells balances pyethereum's way ("wei"); geth's format says "balance".
        for account in file["alloc"].as_object_mut().expect("alloc").values_mut() {
            if let Some(wei) = account.as_object_mut().and_then(|a| a.remove("wei")) {
                account["balance"] = wei;
            }
        }
        let genesis =
            Genesis::from_json(&file.to_string()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let block = Block::new(genesis.header(), vec![]);
        assert_eq!(hex::encode(block.encoded()), want.as_str().expect("result"), "{name}");
    }
    assert_eq!(tests.len(), 3);
}
