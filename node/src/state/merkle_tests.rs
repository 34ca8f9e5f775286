//! The incremental trie against alloy-trie's hash builder, over random inserts and removals with
//! keys crowded onto shared prefixes (extensions, short inline nodes, collapsing branches).

use super::MerkleTrie;
use crate::primitives::{keccak256, B256};
use alloy_trie::{HashBuilder, Nibbles};
use std::collections::BTreeMap;

/// A deterministic generator (keccak of a seed and a counter), so a failure reproduces.
struct Rng(u64, u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.1 += 1;
        let digest = keccak256([self.0.to_be_bytes(), self.1.to_be_bytes()].concat());
        u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A key whose first bytes come from a tiny alphabet, so keys share long prefixes.
    fn key(&mut self) -> B256 {
        let mut key = [0u8; 32];
        let crowded = self.below(31) as usize;
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = if i < crowded {
                [0x00, 0x01, 0x10][self.below(3) as usize]
            } else {
                self.next() as u8
            };
        }
        B256::from(key)
    }

    fn value(&mut self) -> Vec<u8> {
        let len = 1 + self.below(40) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn reference_root(entries: &BTreeMap<B256, Vec<u8>>) -> B256 {
    let mut builder = HashBuilder::default();
    for (key, value) in entries {
        builder.add_leaf(Nibbles::unpack(key), value);
    }
    builder.root()
}

#[test]
fn empty_trie_has_the_empty_root() {
    assert_eq!(MerkleTrie::default().root_hash(), reference_root(&BTreeMap::new()));
    let key = B256::repeat_byte(7);
    let gone = MerkleTrie::default().insert(&key, vec![1]).unwrap().remove(&key).unwrap();
    assert_eq!(gone.root_hash(), reference_root(&BTreeMap::new()));
}

#[test]
fn random_updates_match_alloy_trie_after_every_step() {
    for seed in 1..=40u64 {
        let mut rng = Rng(seed, 0);
        let mut model = BTreeMap::new();
        let mut trie = MerkleTrie::default();
        for step in 0..150 {
            let existing: Vec<B256> = model.keys().copied().collect();
            match rng.below(4) {
                0 if !existing.is_empty() => {
                    let key = existing[rng.below(existing.len() as u64) as usize];
                    model.remove(&key);
                    trie = trie.remove(&key).unwrap();
                }
                1 if !existing.is_empty() => {
                    let key = existing[rng.below(existing.len() as u64) as usize];
                    let value = rng.value();
                    model.insert(key, value.clone());
                    trie = trie.insert(&key, value).unwrap();
                }
                2 => {
                    // Removing an absent key changes nothing.
                    let key = rng.key();
                    if !model.contains_key(&key) {
                        trie = trie.remove(&key).unwrap();
                    }
                }
                _ => {
                    let (key, value) = (rng.key(), rng.value());
                    model.insert(key, value.clone());
                    trie = trie.insert(&key, value).unwrap();
                }
            }
            assert_eq!(trie.root_hash(), reference_root(&model), "seed {seed} step {step}");
        }
    }
}

#[test]
fn an_update_leaves_the_previous_trie_untouched() {
    let mut rng = Rng(99, 0);
    let entries: BTreeMap<B256, Vec<u8>> = (0..200).map(|_| (rng.key(), rng.value())).collect();
    let before = MerkleTrie::from_entries(entries.clone());
    let root = before.root_hash();
    let (key, _) = entries.iter().next().expect("entries");
    let after = before.clone().insert(key, vec![0xff; 50]).unwrap().remove(&rng.key()).unwrap();
    assert_ne!(after.root_hash(), root);
    assert_eq!(before.root_hash(), root);
    assert_eq!(before.root_hash(), reference_root(&entries));
}

#[test]
fn updates_in_place_never_reach_a_trie_that_shares_the_nodes() {
    for seed in 1..=20u64 {
        let mut rng = Rng(seed, 1);
        let entries: BTreeMap<B256, Vec<u8>> = (0..300).map(|_| (rng.key(), rng.value())).collect();
        // No node of `kept` has its reference computed yet: a node changed under it would
        // change its root.
        let kept = MerkleTrie::from_entries(entries.clone());
        let (mut trie, mut model) = (kept.clone(), entries.clone());
        for _ in 0..100 {
            let key = match rng.below(2) {
                0 => *entries.keys().nth(rng.below(entries.len() as u64) as usize).unwrap(),
                _ => rng.key(),
            };
            let value = rng.value();
            trie = trie.insert(&key, value.clone()).unwrap();
            model.insert(key, value);
        }
        assert_eq!(trie.root_hash(), reference_root(&model), "seed {seed}");
        assert_eq!(kept.root_hash(), reference_root(&entries), "seed {seed}");
    }
}

/// The entries of `model` under a nibble prefix, as the store's hashed index gives them.
fn under(model: &BTreeMap<B256, Vec<u8>>, prefix: &[u8]) -> Vec<(B256, Vec<u8>)> {
    model
        .iter()
        .filter(|(k, _)| {
            let n: Vec<u8> = k.iter().flat_map(|b| [b >> 4, b & 15]).collect();
            n.starts_with(prefix)
        })
        .map(|(k, v)| (*k, v.clone()))
        .collect()
}

#[test]
fn a_collapsed_trie_loads_what_updates_reach_and_keeps_every_root() {
    for seed in 1..=30u64 {
        let mut rng = Rng(seed, 0);
        let mut model = BTreeMap::new();
        let mut trie = MerkleTrie::default();
        let mut loads = 0;
        for step in 0..200 {
            // Collapse at a random depth, as after a block; then update with a loader that reads
            // the state the collapsed trie stands for.
            trie = trie.collapse(rng.below(6) as usize);
            let existing: Vec<B256> = model.keys().copied().collect();
            let snapshot = model.clone();
            let mut load = |prefix: &[u8]| {
                loads += 1;
                Ok(under(&snapshot, prefix))
            };
            if rng.below(3) == 0 && !existing.is_empty() {
                let key = existing[rng.below(existing.len() as u64) as usize];
                trie = trie.remove_loading(&key, &mut load).unwrap();
                model.remove(&key);
            } else {
                let (key, value) = (rng.key(), rng.value());
                trie = trie.insert_loading(&key, value.clone(), &mut load).unwrap();
                model.insert(key, value);
            }
            assert_eq!(trie.root_hash(), reference_root(&model), "seed {seed} step {step}");
        }
        assert!(loads > 0, "seed {seed}: nothing was ever loaded");
    }
}

#[test]
fn a_store_that_disagrees_with_the_trie_is_corruption() {
    let mut rng = Rng(7, 0);
    let entries: BTreeMap<B256, Vec<u8>> = (0..300).map(|_| (rng.key(), rng.value())).collect();
    let trie = MerkleTrie::from_entries(entries.clone()).collapse(1);
    let mut wrong = entries.clone();
    let (key, _) = entries.iter().next().expect("entries");
    wrong.insert(*key, vec![1, 2, 3]);
    let mut load = |prefix: &[u8]| Ok(under(&wrong, prefix));
    let err = trie.insert_loading(key, vec![9], &mut load).err().expect("refused");
    assert!(err.to_string().contains("do not hash"), "{err}");
}
