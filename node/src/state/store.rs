//! The sled store: opening, initialising from a genesis, committing a block in one
//! atomic batch, reverting the head block with its changeset, and the pool journal entries of
//! earlier versions (reads: `reads.rs`).

use super::diff::{Changeset, PreparedState};
use super::tries::{slot_value, StateTries};
use super::{keys, AccountRecord};
use crate::genesis::{ChainConfig, Genesis};
use crate::primitives::{
    rlp_ext::list, Address, Block, Bytes, Header, Receipt, SignedTransaction, B256, U256,
};
use rlp::RlpStream;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

mod block_files;
mod dump;
mod hashed_storage;
mod in_memory;
mod journal;
mod reads;
mod schema;
mod service_data;
mod stats;

#[cfg(test)]
mod block_files_tests;
#[cfg(test)]
mod corruption_tests;
#[cfg(test)]
mod storage_tests;

/// Genesis accounts written per batch.
const GENESIS_SLICE: usize = 4_096;

/// Why the store cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed (disk full, permissions, I/O).
    #[error("database error: {0}")]
    Sled(#[from] sled::Error),
    /// Writing the block files failed (disk full, permissions, I/O).
    #[error("block file {path}: {what}: {source}")]
    BlockFile {
        /// What was being done.
        what: &'static str,
        /// The file or directory.
        path: std::path::PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The database was written by a newer version, in a form this one cannot read.
    #[error(
        "the database was written by a newer Daisee (format {found}; this binary reads up to \
         {supported}): run the newer binary, or restore a backup taken before the upgrade"
    )]
    NewerSchema {
        /// The format the database is in.
        found: u32,
        /// The newest format this binary reads.
        supported: u32,
    },
    /// Stored bytes do not decode: the database is damaged.
    #[error("corrupt database: {0}")]
    Corrupt(String),
    /// The datadir holds another chain than the genesis given.
    #[error("datadir holds a chain with genesis {stored}, not {given}")]
    GenesisMismatch {
        /// Genesis hash in the datadir.
        stored: B256,
        /// Genesis hash of the file given.
        given: B256,
    },
    /// The datadir has no chain yet.
    #[error("datadir is not initialised: run `daisee init <genesis.json>` first")]
    NotInitialized,
    /// State older than the kept changesets was asked for.
    #[error("historical state unavailable for block {0}: this node keeps the last 128 blocks")]
    HistoryUnavailable(u64),
    /// Only the head block can be reverted, and never the genesis.
    #[error("cannot revert the genesis block")]
    RevertGenesis,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// A 32-byte big-endian number stored under `key`, or corruption naming the key.
fn stored_u256(what: &str, key: &[u8], raw: &[u8]) -> Result<U256, StoreError> {
    U256::try_from_be_slice(raw).ok_or_else(|| {
        corrupt(what, format!("{} bytes under key 0x{} (at most 32)", raw.len(), hex::encode(key)))
    })
}

/// The chain and state database (cheap to clone; clones share the database).
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    tree: sled::Tree,
    /// The head state's tries, when known (see `tries.rs`).
    tries: Arc<Mutex<Option<StateTries>>>,
    /// The directory the database lives in (`None`: a temporary database).
    dir: Option<Arc<Path>>,
    /// Large bodies, receipts and changesets, outside sled (`None` for a temporary database).
    files: Option<Arc<block_files::StoreFiles>>,
    /// Contract code as revm runs it (jump destinations analysed), by code hash: code never
    /// changes under its hash, and the same few contracts run in every block and `eth_call`.
    analysed: Arc<Mutex<HashMap<B256, revm::bytecode::Bytecode>>>,
    /// The head header as last read or written (`None`: read it from the database). Held
    /// across each write of the head, so a reader never caches a head the batch replaced.
    head: Arc<Mutex<Option<Header>>>,
}

/// Contracts whose analysed code is kept (a community chain has a handful).
const ANALYSED_CODES: usize = 256;

pub use stats::KindSize;

/// The database's page cache by default, bytes: sled's own default (1 GiB) is a whole Raspberry
/// Pi 3's memory, and the cache grows toward it as the chain does.
pub const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl Store {
    /// Opens (or creates) the database in `path` with the default cache.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// Opens (or creates) the database in `path` with a page cache of `cache_bytes`.
    pub fn open_with_cache(path: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let config =
            sled::Config::new().path(path).mode(sled::Mode::LowSpace).cache_capacity(cache_bytes);
        Self::from_db(config.open()?, Some(path.into()))
    }

    /// A database that lives in memory and a temporary file, removed on drop.
    pub fn temporary() -> Result<Self, StoreError> {
        Self::from_db(
            sled::Config::new().temporary(true).cache_capacity(DEFAULT_CACHE_BYTES).open()?,
            None,
        )
    }

    fn from_db(db: sled::Db, dir: Option<Arc<Path>>) -> Result<Self, StoreError> {
        let tree = db.open_tree("chain")?;
        let files = match &dir {
            Some(dir) => Some(Arc::new(block_files::StoreFiles::open(dir)?)),
            None => None,
        };
        let store = Self {
            db,
            tree,
            tries: Arc::default(),
            dir,
            files,
            analysed: Arc::default(),
            head: Arc::default(),
        };
        store.upgrade_format()?;
        Ok(store)
    }

    /// The directory the database lives in (`None` for a temporary one): files kept beside it,
    /// as the pool journal, go there.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Writes everything to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Header, body and total difficulty: what every stored block has, canonical or not. A
    /// large body goes to the block files: sync them before applying the batch.
    pub(crate) fn put_header_and_body(
        &self,
        batch: &mut sled::Batch,
        block: &Block,
    ) -> Result<(), StoreError> {
        let hash = block.header.hash();
        batch.insert(keys::hashed(keys::HEADER, &hash), block.header.encoded());
        let mut body = RlpStream::new_list(block.transactions.len());
        for tx in &block.transactions {
            tx.append_to_body(&mut body);
        }
        let key = keys::hashed(keys::BODY, &hash);
        batch.insert(key.clone(), self.stored_value(&key, body.out().to_vec())?);
        let parent_td = match block.header.number {
            0 => Ok(Some(U256::ZERO)),
            _ => self.total_difficulty(&block.header.parent_hash),
        };
        match parent_td {
            Ok(Some(td)) => {
                let total = td + block.header.difficulty;
                batch.insert(
                    keys::hashed(keys::TOTAL_DIFFICULTY, &hash),
                    total.to_be_bytes_trimmed_vec(),
                );
            }
            _ => {
                tracing::warn!(target: "daisee::store", %hash, "parent's total difficulty unknown")
            }
        }
        Ok(())
    }

    /// Total difficulty of the chain ending at `hash`.
    pub fn total_difficulty(&self, hash: &B256) -> Result<Option<U256>, StoreError> {
        let key = keys::hashed(keys::TOTAL_DIFFICULTY, hash);
        self.get(&key)?.map(|raw| stored_u256("total difficulty", &key, &raw)).transpose()
    }

    /// Stores a block that is not (yet) canonical: header, body and total difficulty only.
    pub fn put_side_block(&self, block: &Block) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        self.put_header_and_body(&mut batch, block)?;
        self.sync_files()?;
        self.tree.apply_batch(batch)?;
        self.flush()
    }

    /// A persisted Clique snapshot (JSON, as geth keeps them) at block `hash`.
    pub fn clique_snapshot(&self, hash: &B256) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.get(&keys::hashed(keys::CLIQUE_SNAPSHOT, hash))?.map(|raw| raw.to_vec()))
    }

    /// Persists a Clique snapshot. It is derived data: losing one only costs a longer replay.
    pub fn put_clique_snapshot(&self, hash: &B256, json: &[u8]) -> Result<(), StoreError> {
        self.tree.insert(keys::hashed(keys::CLIQUE_SNAPSHOT, hash), json)?;
        Ok(())
    }

    fn get(&self, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        Ok(self.tree.get(key)?)
    }

    pub(crate) fn tree_get(&self, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        self.get(key)
    }

    /// Writes the genesis state and block, or checks that the datadir already holds this chain.
    pub fn init_genesis(&self, genesis: &Genesis) -> Result<Header, StoreError> {
        let header = genesis.header();
        let hash = header.hash();
        if let Some(stored) = self.get(&keys::meta("genesis"))? {
            let stored = B256::try_from(stored.as_ref()).map_err(|e| corrupt("genesis hash", e))?;
            return if stored == hash {
                Ok(header)
            } else {
                Err(StoreError::GenesisMismatch { stored, given: hash })
            };
        }
        // A large allocation is written in slices, each flushed: sled holds a batch's pages in
        // memory until it is on disk (100,000 accounts in one batch peaked near 900 MiB). The
        // genesis marker goes in the last batch, so an interrupted initialisation is redone.
        let mut batch = sled::Batch::default();
        for (i, (address, acc)) in genesis.alloc.iter().enumerate() {
            if i > 0 && i % GENESIS_SLICE == 0 {
                self.tree.apply_batch(std::mem::take(&mut batch))?;
                self.flush()?;
            }
            let trie = acc.trie_account();
            let record = AccountRecord {
                nonce: trie.nonce,
                balance: trie.balance,
                storage_root: trie.storage_root,
                code_hash: trie.code_hash,
            };
            batch.insert(keys::account(address), record.encoded());
            if !acc.code.is_empty() {
                batch.insert(keys::code(&trie.code_hash), acc.code.to_vec());
            }
            for (slot, value) in acc.storage.iter().filter(|(_, v)| !v.is_zero()) {
                Self::hashed_storage_write(&mut batch, address, slot, value);
            }
        }
        let config = serde_json::to_vec(&genesis.config).map_err(|e| corrupt("config", e))?;
        batch.insert(keys::meta("config"), config);
        batch.insert(keys::meta("genesis"), hash.as_slice());
        Self::hashed_storage_built(&mut batch);
        Self::mark_schema(&mut batch);
        self.put_block(&mut batch, &Block::new(header.clone(), vec![]), &[], &[])?;
        self.apply_head_batch(batch, None)?;
        self.flush()?;
        Ok(header)
    }

    /// The chain configuration stored at initialisation.
    pub fn chain_config(&self) -> Result<ChainConfig, StoreError> {
        let raw = self.get(&keys::meta("config"))?.ok_or(StoreError::NotInitialized)?;
        serde_json::from_slice(&raw).map_err(|e| corrupt("config", e))
    }

    /// Replaces the stored chain configuration (`daisee init --upgrade`, after
    /// [`crate::genesis::UpgradePlan::check`]); durable when it returns.
    pub fn set_chain_config(&self, config: &ChainConfig) -> Result<(), StoreError> {
        let raw = serde_json::to_vec(config).map_err(|e| corrupt("config", e))?;
        self.tree.insert(keys::meta("config"), raw)?;
        self.flush()
    }

    /// The genesis block's hash.
    pub fn genesis_hash(&self) -> Result<B256, StoreError> {
        let raw = self.get(&keys::meta("genesis"))?.ok_or(StoreError::NotInitialized)?;
        B256::try_from(raw.as_ref()).map_err(|e| corrupt("genesis hash", e))
    }

    /// Applies a batch that moves the head, and caches the new head (`None`: read it again).
    fn apply_head_batch(&self, batch: sled::Batch, head: Option<Header>) -> Result<(), StoreError> {
        let mut cached = self.head_cache();
        *cached = None;
        self.tree.apply_batch(batch)?;
        *cached = head;
        Ok(())
    }

    pub(super) fn head_cache(&self) -> std::sync::MutexGuard<'_, Option<Header>> {
        self.head.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn put_block(
        &self,
        batch: &mut sled::Batch,
        block: &Block,
        receipts: &[Receipt],
        senders: &[Address],
    ) -> Result<(), StoreError> {
        let hash = block.header.hash();
        self.put_header_and_body(batch, block)?;
        if !senders.is_empty() && senders.len() == block.transactions.len() {
            let packed: Vec<u8> = senders.iter().flat_map(|a| a.0 .0).collect();
            batch.insert(keys::hashed(keys::SENDERS, &hash), packed);
        }
        let mut rs = RlpStream::new_list(receipts.len());
        for receipt in receipts {
            rs.append(&receipt.stored());
        }
        let key = keys::hashed(keys::RECEIPTS, &hash);
        batch.insert(key.clone(), self.stored_value(&key, rs.out().to_vec())?);
        batch.insert(keys::numbered(keys::CANONICAL, block.header.number), hash.as_slice());
        for (i, tx) in block.transactions.iter().enumerate() {
            let location = [hash.as_slice(), &(i as u32).to_be_bytes()].concat();
            batch.insert(keys::hashed(keys::TX_LOOKUP, &tx.hash()), location);
        }
        batch.insert(keys::meta("head"), hash.as_slice());
        Ok(())
    }

    /// Makes `block` the new head, with its receipts, its transactions' `senders` (kept so that
    /// lookups need not recover them again) and the state `prepared` from its diff, in one
    /// atomic batch.
    pub fn commit_block(
        &self,
        block: &Block,
        receipts: &[Receipt],
        senders: &[Address],
        prepared: PreparedState,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (key, value) in prepared.writes {
            match value {
                Some(v) => batch.insert(key, v),
                None => batch.remove(key),
            }
        }
        let key = keys::numbered(keys::CHANGESET, block.header.number);
        batch.insert(key.clone(), self.stored_value(&key, prepared.changeset)?);
        // Changesets serve reorgs and state reads of the last HISTORY_BLOCKS blocks: older ones
        // only grow the database (twice the window is kept, for margin); the files holding only
        // pruned ones are deleted once the batch is on disk.
        let mut pruned_file = None;
        if let Some(old) = block.header.number.checked_sub(2 * super::history::HISTORY_BLOCKS) {
            let old = keys::numbered(keys::CHANGESET, old);
            pruned_file = self.changeset_file(&old)?;
            batch.remove(old);
        }
        self.put_block(&mut batch, block, receipts, senders)?;
        self.sync_files()?;
        self.apply_head_batch(batch, Some(block.header.clone()))?;
        *self.tries_cache() = prepared.tries;
        self.flush()?;
        // The block is committed: a file that cannot be deleted now is deleted at a later prune.
        if let Some(Err(e)) = pruned_file.map(|file| self.remove_changeset_files_before(file)) {
            tracing::warn!(target: "daisee::store", "pruned changeset files not deleted: {e}");
        }
        Ok(())
    }

    /// Reverts the head block: restores the state it changed, unindexes its transactions and
    /// makes its parent the head (the block itself stays stored, as a side block). One batch.
    pub fn revert_head(&self) -> Result<Header, StoreError> {
        let head = self.head()?;
        if head.number == 0 {
            return Err(StoreError::RevertGenesis);
        }
        let key = keys::numbered(keys::CHANGESET, head.number);
        let raw = self.value_at(&key)?.ok_or_else(|| corrupt("changeset", "missing"))?;
        let changeset = Changeset::decode(&raw)?;
        let mut batch = sled::Batch::default();
        for (address, prior) in &changeset.accounts {
            match prior {
                Some(p) => batch.insert(keys::account(address), p.encoded()),
                None => batch.remove(keys::account(address)),
            }
        }
        for (address, slot, prior) in &changeset.storage {
            Self::hashed_storage_write(&mut batch, address, slot, prior);
        }
        for (address, hashed, prior) in &changeset.wiped {
            batch.insert(keys::hashed_storage_at(address, hashed), slot_value(prior));
        }
        let block = self.block(&head.hash())?.ok_or_else(|| corrupt("head block", "missing"))?;
        for tx in &block.transactions {
            batch.remove(keys::hashed(keys::TX_LOOKUP, &tx.hash()));
        }
        batch.remove(key);
        batch.remove(keys::numbered(keys::CANONICAL, head.number));
        batch.insert(keys::meta("head"), head.parent_hash.as_slice());
        self.apply_head_batch(batch, None)?;
        *self.tries_cache() = None;
        self.flush()?;
        self.header(&head.parent_hash)?.ok_or_else(|| corrupt("parent", "missing"))
    }
}
