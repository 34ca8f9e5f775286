//! What the database holds, by kind (`daisee db stats`): how many entries and how many bytes of
//! keys and values — blocks, receipts, state, changesets, indexes, the meters' outbox, the
//! daybook — so an operator sees what grows and what a household-year costs.

use super::block_files::{may_point, BlockFiles};
use super::{keys, Store, StoreError};
use std::collections::BTreeMap;

/// Entries and bytes of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct KindSize {
    /// Entries.
    pub entries: u64,
    /// Bytes of keys and values (what sled stores, before its own overhead; a
    /// body, receipts or changeset value kept in files counts its bytes there).
    pub bytes: u64,
}

/// The name of the kind a key belongs to.
fn kind_of(key: &[u8]) -> &'static str {
    match key.first().copied() {
        Some(keys::ACCOUNT) => "state: accounts",
        Some(keys::STORAGE) => "state: storage by plain slot (older format)",
        Some(keys::HASHED_STORAGE) => "state: storage",
        Some(keys::CODE) => "state: code",
        Some(keys::HEADER) => "blocks: headers",
        Some(keys::BODY) => "blocks: bodies",
        Some(keys::RECEIPTS) => "blocks: receipts",
        Some(keys::SENDERS) => "blocks: senders",
        Some(keys::TOTAL_DIFFICULTY) => "blocks: total difficulty",
        Some(keys::CANONICAL) => "index: canonical numbers",
        Some(keys::TX_LOOKUP) => "index: transactions",
        Some(keys::CHANGESET) => "changesets (reorgs, history)",
        Some(keys::CLIQUE_SNAPSHOT) => "clique snapshots",
        Some(keys::POOL_JOURNAL) => "pool journal",
        Some(keys::META) => "meta",
        Some(b'M') if key[1..].starts_with(b"daybook/") => "daybook",
        Some(b'M') if key[1..].starts_with(b"meter/") => "meters' outbox",
        Some(b'M') => "service data",
        _ => "other",
    }
}

impl Store {
    /// Every entry's kind and size (reads the whole database: for a stopped node or a moment).
    pub fn stats(&self) -> Result<BTreeMap<&'static str, KindSize>, StoreError> {
        let mut out: BTreeMap<&'static str, KindSize> = BTreeMap::new();
        for entry in self.tree.iter() {
            let (k, v) = entry?;
            let size = out.entry(kind_of(&k)).or_default();
            size.entries += 1;
            let value_len = if may_point(&k) { BlockFiles::value_len(&v) } else { v.len() };
            size.bytes += (k.len() + value_len) as u64;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_chain_has_state_blocks_and_meta() {
        let store = Store::temporary().expect("store");
        let key =
            crate::primitives::PrivateKey::from_bytes(&crate::primitives::B256::repeat_byte(1))
                .expect("key");
        let spec = crate::community::dev_spec(&[key], 0);
        let genesis = crate::community::community_genesis(&spec).expect("genesis");
        store.init_genesis(&genesis).expect("init");
        let stats = store.stats().expect("stats");
        for kind in ["state: accounts", "blocks: headers", "index: canonical numbers", "meta"] {
            assert!(
                stats.get(kind).is_some_and(|s| s.entries > 0 && s.bytes > 0),
                "{kind}: {stats:?}"
            );
        }
        assert_eq!(kind_of(b"Mdaybook/head"), "daybook");
        assert_eq!(kind_of(b"Mmeter/x"), "meters' outbox");
    }
}
