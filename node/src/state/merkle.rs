//! An in-memory Merkle-Patricia trie that remembers the hash of every node, so that a new root
//! costs only the nodes on the paths that changed.
//!
//! The trie is persistent: an update returns a new trie that shares every untouched subtree with
//! the old one (path copying), so a block's state root can be computed without disturbing the
//! head's trie, and dropped if the block is not committed. An update consumes the trie it is
//! given, so a branch that no other trie shares (one an earlier update of the same block already
//! copied) is changed in place instead of copied again. Keys all have the same length (they
//! are keccak hashes), so no key is a prefix of another and branch nodes never hold values.
//! Encoding follows the Yellow Paper (appendix D); the roots are tested against alloy-trie.

use super::StoreError;
use crate::primitives::{keccak256, B256};
use alloy_trie::EMPTY_ROOT_HASH;
use rlp::RlpStream;
use std::sync::{Arc, OnceLock};

/// Loads the entries (full key, value) whose key starts with a nibble prefix: how a subtree
/// kept only by its hash ([`MerkleTrie::collapse`]) comes back into memory.
pub(crate) type Load<'a> = dyn FnMut(&[u8]) -> Result<Vec<(B256, Vec<u8>)>, StoreError> + 'a;

/// For tries that are never collapsed: nothing to load.
fn nothing_stored(_: &[u8]) -> Result<Vec<(B256, Vec<u8>)>, StoreError> {
    Err(StoreError::Corrupt("a trie node is not in memory and this trie has no store".into()))
}

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
    Leaf {
        path: Box<[u8]>,
        value: Box<[u8]>,
    },
    Extension {
        path: Box<[u8]>,
        child: Arc<Node>,
    },
    Branch {
        children: Box<[Option<Arc<Node>>; 16]>,
    },
    /// A subtree known only by its reference; its entries are in the store.
    Stored,
}

fn node(kind: Kind) -> Arc<Node> {
    Arc::new(Node { kind, reference: OnceLock::new() })
}

fn stored(reference: Vec<u8>) -> Arc<Node> {
    Arc::new(Node { kind: Kind::Stored, reference: OnceLock::from(reference) })
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
        let mut root = None;
        for (key, value) in entries {
            // A fresh trie has no stored subtree, so nothing is ever loaded (nor fails).
            let at = root.take();
            root = insert(at, &nibbles(&key), 0, value.into(), &mut nothing_stored).ok();
        }
        Self { root }
    }

    /// This trie with `key` mapped to `value` (which must not be empty); fails only when a
    /// stored subtree on the way cannot be loaded. Clone the trie first to keep it as it was.
    pub(crate) fn insert(self, key: &B256, value: Vec<u8>) -> Result<Self, StoreError> {
        self.insert_loading(key, value, &mut nothing_stored)
    }

    /// [`Self::insert`], loading stored subtrees on the way with `load`.
    pub(crate) fn insert_loading(
        self,
        key: &B256,
        value: Vec<u8>,
        load: &mut Load<'_>,
    ) -> Result<Self, StoreError> {
        let full = nibbles(key);
        Ok(Self { root: Some(insert(self.root, &full, 0, value.into(), load)?) })
    }

    /// A trie without `key`.
    pub(crate) fn remove(&self, key: &B256) -> Result<Self, StoreError> {
        self.remove_loading(key, &mut nothing_stored)
    }

    /// [`Self::remove`], loading stored subtrees on the way with `load`.
    pub(crate) fn remove_loading(
        &self,
        key: &B256,
        load: &mut Load<'_>,
    ) -> Result<Self, StoreError> {
        match &self.root {
            None => Ok(Self::default()),
            Some(root) => Ok(Self { root: remove(root, &nibbles(key), 0, load)? }),
        }
    }

    /// The same trie with every subtree that starts `depth` nibbles or more below the root kept
    /// only by its hash, so memory holds the top of the trie whatever its size. Subtrees come
    /// back through the loader when an update reaches them.
    pub(crate) fn collapse(&self, depth: usize) -> Self {
        Self { root: self.root.as_ref().map(|r| collapse(r, 0, depth)) }
    }

    /// How many nodes this trie holds in memory (a stored subtree counts as one).
    #[cfg(test)]
    pub(crate) fn nodes_in_memory(&self) -> usize {
        fn count(n: &Node) -> usize {
            1 + match &n.kind {
                Kind::Leaf { .. } | Kind::Stored => 0,
                Kind::Extension { child, .. } => count(child),
                Kind::Branch { children } => children.iter().flatten().map(|c| count(c)).sum(),
            }
        }
        self.root.as_deref().map_or(0, count)
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

/// Joins `prefix` onto the front of `child` (after a branch collapsed to one child), which
/// must be in memory.
fn join(prefix: &[u8], child: &Arc<Node>) -> Arc<Node> {
    let glue = |path: &[u8]| -> Box<[u8]> { [prefix, path].concat().into_boxed_slice() };
    match &child.kind {
        Kind::Leaf { path, value } => node(Kind::Leaf { path: glue(path), value: value.clone() }),
        Kind::Extension { path, child } => {
            node(Kind::Extension { path: glue(path), child: child.clone() })
        }
        Kind::Branch { .. } | Kind::Stored => behind(prefix, child.clone()),
    }
}

fn branch_of_two(a: (u8, Arc<Node>), b: (u8, Arc<Node>)) -> Arc<Node> {
    let mut children: Box<[Option<Arc<Node>>; 16]> = Box::default();
    children[a.0 as usize] = Some(a.1);
    children[b.0 as usize] = Some(b.1);
    node(Kind::Branch { children })
}

/// Brings a stored subtree at nibble `prefix` back into memory, checking it against its hash.
fn expand(
    current: &Arc<Node>,
    prefix: &[u8],
    load: &mut Load<'_>,
) -> Result<Arc<Node>, StoreError> {
    if !matches!(current.kind, Kind::Stored) {
        return Ok(current.clone());
    }
    let mut sub: Option<Arc<Node>> = None;
    for (key, value) in load(prefix)? {
        let full = nibbles(&key);
        if !full.starts_with(prefix) {
            return Err(StoreError::Corrupt(format!(
                "stored trie entry {key} outside its subtree"
            )));
        }
        // Insert below the prefix: the subtree's own structure, as the whole trie has it.
        sub = Some(insert(sub.take(), &full, prefix.len(), value.into(), &mut nothing_stored)?);
    }
    match sub {
        Some(sub) if sub.reference() == current.reference() => Ok(sub),
        _ => Err(StoreError::Corrupt(format!(
            "the stored entries under trie prefix {prefix:x?} do not hash to the trie's node"
        ))),
    }
}

/// Inserts the key `full` (nibbles), of which `depth` are consumed above `at`.
fn insert(
    at: Option<Arc<Node>>,
    full: &[u8; 64],
    depth: usize,
    value: Box<[u8]>,
    load: &mut Load<'_>,
) -> Result<Arc<Node>, StoreError> {
    let path = &full[depth..];
    let Some(current) = at else { return Ok(leaf(path, value)) };
    let mut current = match current.kind {
        Kind::Stored => expand(&current, &full[..depth], load)?,
        _ => current,
    };
    // A branch no other trie holds is changed in place; its reference is computed again.
    if let Some(only) = Arc::get_mut(&mut current) {
        if let Kind::Branch { children } = &mut only.kind {
            let i = path[0] as usize;
            children[i] = Some(insert(children[i].take(), full, depth + 1, value, load)?);
            only.reference = OnceLock::new();
            return Ok(current);
        }
    }
    Ok(match &current.kind {
        Kind::Leaf { path: old, value: old_value } => {
            let c = common_prefix(old, path);
            if c == path.len() {
                return Ok(leaf(path, value));
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
                let below = insert(Some(child.clone()), full, depth + c, value, load)?;
                return Ok(behind(ext, below));
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
            children[i] = Some(insert(children[i].take(), full, depth + 1, value, load)?);
            node(Kind::Branch { children })
        }
        Kind::Stored => unreachable!("expanded above"),
    })
}

/// `current` (at `depth` nibbles of `full`) without the key `full`; `None` when nothing is left.
fn remove(
    current: &Arc<Node>,
    full: &[u8; 64],
    depth: usize,
    load: &mut Load<'_>,
) -> Result<Option<Arc<Node>>, StoreError> {
    let path = &full[depth..];
    let current = expand(current, &full[..depth], load)?;
    Ok(match &current.kind {
        Kind::Leaf { path: old, .. } => (old.as_ref() != path).then(|| current.clone()),
        Kind::Extension { path: ext, child } => {
            if !path.starts_with(ext) {
                return Ok(Some(current.clone()));
            }
            remove(child, full, depth + ext.len(), load)?.map(|rest| join(ext, &rest))
        }
        Kind::Branch { children } => {
            let i = path[0] as usize;
            let Some(slot) = children[i].as_ref() else { return Ok(Some(current.clone())) };
            let mut children = children.clone();
            children[i] = remove(slot, full, depth + 1, load)?;
            let mut left = children.iter().enumerate().filter_map(|(n, c)| Some((n, c.as_ref()?)));
            match (left.next(), left.next()) {
                (None, _) => None,
                (Some((n, only)), None) => {
                    // The last child moves up into this node's place: it must be in memory.
                    let prefix = [&full[..depth], &[n as u8]].concat();
                    Some(join(&[n as u8], &expand(only, &prefix, load)?))
                }
                _ => Some(node(Kind::Branch { children })),
            }
        }
        Kind::Stored => unreachable!("expanded above"),
    })
}

/// `current`, `depth` nibbles below the root, with subtrees from `limit` on kept by hash.
fn collapse(current: &Arc<Node>, depth: usize, limit: usize) -> Arc<Node> {
    if matches!(current.kind, Kind::Stored) {
        return current.clone();
    }
    if depth >= limit {
        // Inline nodes (under 32 bytes) stay in place: a reference would be no smaller.
        let reference = current.reference();
        return if reference.len() == 33 { stored(reference.to_vec()) } else { current.clone() };
    }
    match &current.kind {
        Kind::Leaf { .. } | Kind::Stored => current.clone(),
        Kind::Extension { path, child } => {
            let below = collapse(child, depth + path.len(), limit);
            if Arc::ptr_eq(&below, child) {
                current.clone()
            } else {
                node_with_reference(Kind::Extension { path: path.clone(), child: below }, current)
            }
        }
        Kind::Branch { children } => {
            // Most of the top is already collapsed: the children are copied only when one of
            // them changes (this runs over every node of the top after each block).
            let mut next: Option<Box<[Option<Arc<Node>>; 16]>> = None;
            for (i, child) in children.iter().enumerate() {
                let Some(child) = child else { continue };
                let below = collapse(child, depth + 1, limit);
                if !Arc::ptr_eq(&below, child) {
                    next.get_or_insert_with(|| children.clone())[i] = Some(below);
                }
            }
            match next {
                Some(next) => node_with_reference(Kind::Branch { children: next }, current),
                None => current.clone(),
            }
        }
    }
}

/// A node of `kind` that hashes as `like` (its children were only swapped for references).
fn node_with_reference(kind: Kind, like: &Node) -> Arc<Node> {
    Arc::new(Node { kind, reference: OnceLock::from(like.reference().to_vec()) })
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
                for child in children.iter() {
                    match child {
                        Some(c) => s.append_raw(c.reference(), 1),
                        None => s.append_empty_data(),
                    };
                }
                s.append_empty_data();
                s.out().to_vec()
            }
            // Its reference is set when it is made: never encoded again.
            Kind::Stored => Vec::new(),
        }
    }
}

#[cfg(test)]
#[path = "merkle_tests.rs"]
mod tests;
