//! An in-memory Merkle-Patricia trie that remembers the hash of every node, so that a new root
//! costs only the nodes on the paths that changed.
//!
//! The trie is persistent: an update returns a new trie that shares every untouched subtree with
//! the old one (path copying), so a block's state root can be computed without disturbing the
//! head's trie, and dropped if the block is not committed. Keys all have the same length (they
//! are keccak hashes), so no key is a prefix of another and branch nodes never hold values.
//! Encoding follows the Yellow Paper (appendix D); the roots are tested against alloy-trie.

use crate::primitives::{keccak256, B256};
use alloy_trie::EMPTY_ROOT_HASH;
use rlp::RlpStream;
use std::sync::{Arc, OnceLock};

/// A persistent Merkle-Patricia trie over fixed-length keys (cheap to clone).
#[derive(Clone, Default)]
pub(crate) struct MerkleTrie {
    root: Option<Arc<Node>>,
}

struct Node {
    kind: Kind,
    /// What a parent embeds for this node: its RLP when shorter than 32 bytes, else the RLP
    /// string of its keccak hash. Computed once, on first use.
    reference: OnceLock<Vec<u8>>,
}

enum Kind {
    Leaf { path: Box<[u8]>, value: Box<[u8]> },
    Extension { path: Box<[u8]>, child: Arc<Node> },
    Branch { children: [Option<Arc<Node>>; 16] },
}

fn node(kind: Kind) -> Arc<Node> {
    Arc::new(Node { kind, reference: OnceLock::new() })
}

fn nibbles(key: &B256) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (i, byte) in key.iter().enumerate() {
        out[2 * i] = byte >> 4;
        out[2 * i + 1] = byte & 0x0f;
    }
    out
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl MerkleTrie {
    /// The trie holding `entries` (key, value); later duplicates win.
    pub(crate) fn from_entries(entries: impl IntoIterator<Item = (B256, Vec<u8>)>) -> Self {
        let mut trie = Self::default();
        for (key, value) in entries {
            trie = trie.insert(&key, value);
        }
        trie
    }

    /// A trie where `key` maps to `value` (which must not be empty).
    pub(crate) fn insert(&self, key: &B256, value: Vec<u8>) -> Self {
        let path = nibbles(key);
        Self { root: Some(insert(self.root.as_ref(), &path, value.into_boxed_slice())) }
    }

    /// A trie without `key`.
    pub(crate) fn remove(&self, key: &B256) -> Self {
        let path = nibbles(key);
        match &self.root {
            None => Self::default(),
            Some(root) => Self { root: remove(root, &path) },
        }
    }

    /// The root hash (the empty-trie root when there are no entries).
    pub(crate) fn root_hash(&self) -> B256 {
        match &self.root {
            None => EMPTY_ROOT_HASH,
            Some(root) => {
                let reference = root.reference();
                if reference.len() == 33 && reference[0] == 0xa0 {
                    B256::from_slice(&reference[1..])
                } else {
                    keccak256(reference)
                }
            }
        }
    }
}

fn leaf(path: &[u8], value: Box<[u8]>) -> Arc<Node> {
    node(Kind::Leaf { path: path.into(), value })
}

/// `child` reached through `path`: an extension, or the child itself when `path` is empty.
fn behind(path: &[u8], child: Arc<Node>) -> Arc<Node> {
    if path.is_empty() {
        child
    } else {
        node(Kind::Extension { path: path.into(), child })
    }
}

/// Joins `prefix` onto the front of `child` (after a branch collapsed to one child).
fn join(prefix: &[u8], child: &Arc<Node>) -> Arc<Node> {
    let glue = |path: &[u8]| -> Box<[u8]> { [prefix, path].concat().into_boxed_slice() };
    match &child.kind {
        Kind::Leaf { path, value } => node(Kind::Leaf { path: glue(path), value: value.clone() }),
        Kind::Extension { path, child } => {
            node(Kind::Extension { path: glue(path), child: child.clone() })
        }
        Kind::Branch { .. } => behind(prefix, child.clone()),
    }
}

fn branch_of_two(a: (u8, Arc<Node>), b: (u8, Arc<Node>)) -> Arc<Node> {
    let mut children: [Option<Arc<Node>>; 16] = Default::default();
    children[a.0 as usize] = Some(a.1);
    children[b.0 as usize] = Some(b.1);
    node(Kind::Branch { children })
}

fn insert(at: Option<&Arc<Node>>, path: &[u8], value: Box<[u8]>) -> Arc<Node> {
    let Some(current) = at else { return leaf(path, value) };
    match &current.kind {
        Kind::Leaf { path: old, value: old_value } => {
            let c = common_prefix(old, path);
            if c == path.len() {
                return leaf(path, value);
            }
            let split = branch_of_two(
                (old[c], leaf(&old[c + 1..], old_value.clone())),
                (path[c], leaf(&path[c + 1..], value)),
            );
            behind(&path[..c], split)
        }
        Kind::Extension { path: ext, child } => {
            let c = common_prefix(ext, path);
            if c == ext.len() {
                return behind(ext, insert(Some(child), &path[c..], value));
            }
            let split = branch_of_two(
                (ext[c], behind(&ext[c + 1..], child.clone())),
                (path[c], leaf(&path[c + 1..], value)),
            );
            behind(&path[..c], split)
        }
        Kind::Branch { children } => {
            let mut children = children.clone();
            let i = path[0] as usize;
            children[i] = Some(insert(children[i].as_ref(), &path[1..], value));
            node(Kind::Branch { children })
        }
    }
}

/// `current` without the key at `path`; `None` when nothing is left.
fn remove(current: &Arc<Node>, path: &[u8]) -> Option<Arc<Node>> {
    match &current.kind {
        Kind::Leaf { path: old, .. } => (old.as_ref() != path).then(|| current.clone()),
        Kind::Extension { path: ext, child } => {
            if !path.starts_with(ext) {
                return Some(current.clone());
            }
            remove(child, &path[ext.len()..]).map(|rest| join(ext, &rest))
        }
        Kind::Branch { children } => {
            let i = path[0] as usize;
            let Some(slot) = children[i].as_ref() else { return Some(current.clone()) };
            let mut children = children.clone();
            children[i] = remove(slot, &path[1..]);
            let mut left = children.iter().enumerate().filter_map(|(n, c)| Some((n, c.as_ref()?)));
            match (left.next(), left.next()) {
                (None, _) => None,
                (Some((n, only)), None) => Some(join(&[n as u8], only)),
                _ => Some(node(Kind::Branch { children })),
            }
        }
    }
}

/// Hex-prefix encoding of a nibble path (Yellow Paper appendix C).
fn hex_prefix(path: &[u8], is_leaf: bool) -> Vec<u8> {
    let flag = if is_leaf { 2 } else { 0 };
    let mut out = Vec::with_capacity(path.len() / 2 + 1);
    let rest = if path.len() % 2 == 1 {
        out.push(((flag + 1) << 4) | path[0]);
        &path[1..]
    } else {
        out.push(flag << 4);
        path
    };
    out.extend(rest.chunks(2).map(|pair| (pair[0] << 4) | pair[1]));
    out
}

impl Node {
    fn reference(&self) -> &[u8] {
        self.reference.get_or_init(|| {
            let encoded = self.encode();
            if encoded.len() < 32 {
                encoded
            } else {
                let mut out = Vec::with_capacity(33);
                out.push(0xa0);
                out.extend_from_slice(keccak256(&encoded).as_slice());
                out
            }
        })
    }

    fn encode(&self) -> Vec<u8> {
        match &self.kind {
            Kind::Leaf { path, value } => {
                let mut s = RlpStream::new_list(2);
                s.append(&hex_prefix(path, true));
                s.append(&value.as_ref());
                s.out().to_vec()
            }
            Kind::Extension { path, child } => {
                let mut s = RlpStream::new_list(2);
                s.append(&hex_prefix(path, false));
                s.append_raw(child.reference(), 1);
                s.out().to_vec()
            }
            Kind::Branch { children } => {
                let mut s = RlpStream::new_list(17);
                for child in children {
                    match child {
                        Some(c) => s.append_raw(c.reference(), 1),
                        None => s.append_empty_data(),
                    };
                }
                s.append_empty_data();
                s.out().to_vec()
            }
        }
    }
}

#[cfg(test)]
#[path = "merkle_tests.rs"]
mod tests;
