//! Ethereum's secure-trie vectors (keys hashed with keccak, as the state trie's) through the
//! node's own state trie (`merkle.rs`), inserting and deleting in the fixtures' order.

use super::merkle::MerkleTrie;
use crate::primitives::vector_tests::{fixture, trie_entries};
use crate::primitives::{keccak256, B256};

#[test]
fn secure_trie_vectors_through_the_state_trie() {
    let mut ran = 0;
    for file in [
        "TrieTests/trietest_secureTrie.json",
        "TrieTests/trieanyorder_secureTrie.json",
        "TrieTests/hex_encoded_securetrie_test.json",
    ] {
        for (name, test) in fixture(file).as_object().expect("tests") {
            let entries = trie_entries(&test["in"]);
            let trie =
                MerkleTrie::from_entries(entries.into_iter().map(|(k, v)| (keccak256(&k), v)));
            let want: B256 = test["root"].as_str().expect("root").parse().expect("root");
            assert_eq!(trie.root_hash(), want, "{file} {name}");
            ran += 1;
        }
    }
    assert!(ran >= 13, "{ran}");
}
