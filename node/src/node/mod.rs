//! The running node as one cloneable handle: the chain (single writer), the pool, the local
//! signer and the events others listen to. RPC, the sealer and the CLI reach the core only
//! through it.

use crate::chain::{Chain, ChainError, ImportError, Inserted};
use crate::genesis::ForkFilter;
use crate::primitives::{Address, Block, Header, PrivateKey, B256, U256};
use crate::sealer::BuildError;
use crate::state::{Store, StoreError};
use crate::txpool::{AccountState, Journal, PoolConfig, Restored, TxPool};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, watch, Notify};

mod clock;
mod peers;
mod sealing;
mod submit;
mod upgrades;
mod write_health;

pub use clock::{ClockReport, AHEAD_TOLERANCE, EARLIEST_PLAUSIBLE};
pub use peers::{NodeInfo, PeerInfo, PeerTable, MAX_QUEUED_PEERS};
pub use sealing::run_sealer;
pub use upgrades::UpgradeReport;
pub use write_health::{is_write_failure, WRITE_RETRY};

/// How the node runs.
#[derive(Debug, Clone, Default)]
pub struct NodeConfig {
    /// Pool limits and prices.
    pub pool: PoolConfig,
    /// The key this node seals with, if it is a signer (`--mine`).
    pub signer: Option<PrivateKey>,
    /// Seal blocks without transactions too.
    pub seal_empty: bool,
    /// Accounts unlocked for `eth_sendTransaction` and `eth_sign` (kept in memory only).
    pub accounts: Vec<PrivateKey>,
    /// The clock blocks are sealed by (default: the wall clock). `daisee dev` gives its
    /// simulated households' clock, so the chain lives their accelerated day and a reading's
    /// interval is never in the chain's future.
    pub clock: Option<daisee_radio::source::sim::SimClock>,
}

/// Why the sealer could not seal.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// Building failed.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The built block was refused (a bug, or the head moved).
    #[error(transparent)]
    Import(#[from] ImportError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SealError {
    /// The store error underneath, if the database failed (rather than the block).
    pub fn store_error(&self) -> Option<&StoreError> {
        match self {
            Self::Store(e)
            | Self::Import(ImportError::Store(e))
            | Self::Build(BuildError::Store(e))
            | Self::Build(BuildError::Exec(crate::execution::ExecError::Store(e))) => Some(e),
            _ => None,
        }
    }
}

/// What chain subscribers see, in the order it happened.
#[derive(Debug, Clone)]
pub enum ChainEvent {
    /// A block joined the canonical chain (a new head, or one block of a reorg's new branch).
    Added(Header),
    /// A block left the canonical chain in a reorg; sent newest first, before the new branch.
    Removed(Header),
}

struct Inner {
    store: Store,
    chain: Mutex<Chain>,
    pool: Mutex<TxPool>,
    /// The pool's own transactions on disk (`None` with a temporary store).
    journal: Option<Journal>,
    chain_id: u64,
    config: NodeConfig,
    pool_notify: Notify,
    heads: watch::Sender<Header>,
    new_heads: broadcast::Sender<ChainEvent>,
    new_txs: broadcast::Sender<B256>,
    proposals: Mutex<std::collections::BTreeMap<Address, bool>>,
    reorgs: std::sync::atomic::AtomicU64,
    /// When an out-of-turn signer may seal on top of a given head (Clique's wiggle).
    wiggle: Mutex<Option<(B256, Instant)>>,
    /// Connected peers (`None`: networking is off).
    peers: Mutex<Option<usize>>,
    /// Who they are, and the peers operators asked for.
    peer_table: peers::PeerTable,
    /// This board's clock against its peers' and the chain's.
    clock: clock::Clock,
    /// Forks this board schedules, and what peers said of theirs.
    upgrades: upgrades::Upgrades,
    /// Whether the database still takes writes.
    write_health: write_health::WriteHealth,
    /// Services that write beside the chain (the meters) hold it for reading while they write;
    /// a backup holds it for writing, so its copy is consistent.
    write_gate: std::sync::RwLock<()>,
    /// With a simulated clock (dev): no block is sealed before the newest reading's interval end
    /// the meters hold (after a restart or an outage, a board's readings may run ahead of it).
    clock_floor: std::sync::atomic::AtomicU64,
}

/// A handle to the running node (cheap to clone).
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

/// Unix time in seconds.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

impl AccountState for Store {
    fn nonce_and_balance(&self, address: &Address) -> (u64, U256) {
        match self.account(address) {
            Ok(Some(a)) => (a.nonce, a.balance),
            Ok(None) => (0, U256::ZERO),
            Err(e) => {
                tracing::error!(target: "daisee::txpool", "reading account {address}: {e}");
                (u64::MAX, U256::ZERO)
            }
        }
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Node {
    /// Opens the chain in `store` and restores the journaled local transactions.
    pub fn new(store: Store, config: NodeConfig) -> Result<Self, ChainError> {
        let chain = Chain::open(store.clone())?;
        let chain_id = chain.config().chain_id;
        let genesis_time = store.header_by_number(0)?.map_or(0, |h| h.timestamp);
        let filter = ForkFilter::new(chain.config(), store.genesis_hash()?, genesis_time);
        let (heads, _) = watch::channel(chain.head().clone());
        let own = config.accounts.iter().chain(config.signer.iter()).map(PrivateKey::address);
        let pool = TxPool::with_own(config.pool.clone(), own);
        let (journal, restored) = match store.dir() {
            Some(dir) => {
                let (journal, restored) = Journal::open(dir)?;
                (Some(journal), restored)
            }
            None => (None, Restored::default()),
        };
        let node = Self {
            inner: Arc::new(Inner {
                clock_floor: std::sync::atomic::AtomicU64::new(0),
                store,
                chain: Mutex::new(chain),
                pool: Mutex::new(pool),
                journal,
                chain_id,
                config,
                pool_notify: Notify::new(),
                heads,
                new_heads: broadcast::channel(256).0,
                new_txs: broadcast::channel(4096).0,
                proposals: Mutex::new(Default::default()),
                reorgs: Default::default(),
                wiggle: Mutex::new(None),
                peers: Mutex::new(None),
                peer_table: Default::default(),
                clock: Default::default(),
                upgrades: upgrades::Upgrades::new(filter),
                write_health: Default::default(),
                write_gate: Default::default(),
            }),
        };
        node.restore_journal(restored)?;
        Ok(node)
    }

    /// The store (for reads).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.inner.chain_id
    }

    /// The address this node seals with.
    pub fn signer(&self) -> Option<Address> {
        self.inner.config.signer.as_ref().map(PrivateKey::address)
    }

    /// The current head, as the store has it: a block's receipts and state become visible in
    /// the same atomic write as the head that includes them.
    pub fn head(&self) -> Header {
        match self.inner.store.head() {
            Ok(head) => head,
            Err(e) => {
                tracing::error!(target: "daisee::store", "reading the head: {e}");
                self.inner.heads.borrow().clone()
            }
        }
    }

    /// Every change of the canonical chain, in order, as it is committed.
    pub fn subscribe_heads(&self) -> broadcast::Receiver<ChainEvent> {
        self.inner.new_heads.subscribe()
    }

    /// Hashes of transactions entering the pool.
    pub fn subscribe_pending(&self) -> broadcast::Receiver<B256> {
        self.inner.new_txs.subscribe()
    }

    /// The unlocked accounts.
    pub fn accounts(&self) -> Vec<Address> {
        self.inner.config.accounts.iter().map(PrivateKey::address).collect()
    }

    /// The key of an unlocked account.
    pub fn unlocked_key(&self, address: &Address) -> Option<PrivateKey> {
        self.inner.config.accounts.iter().find(|k| k.address() == *address).cloned()
    }

    /// The Clique snapshot after the canonical block `header` (the head's when `None`).
    pub fn snapshot(
        &self,
        header: Option<&Header>,
    ) -> Result<crate::consensus::Snapshot, ChainError> {
        let chain = lock(&self.inner.chain);
        match header {
            Some(h) => chain.snapshot_at(h),
            None => Ok(chain.snapshot().clone()),
        }
    }

    /// Votes this signer will cast in the blocks it seals: authorize (true) or drop (false).
    pub fn proposals(&self) -> std::collections::BTreeMap<Address, bool> {
        lock(&self.inner.proposals).clone()
    }

    /// Adds (`Some`) or discards (`None`) a proposal.
    pub fn propose(&self, address: Address, authorize: Option<bool>) {
        let mut proposals = lock(&self.inner.proposals);
        match authorize {
            Some(auth) => proposals.insert(address, auth),
            None => proposals.remove(&address),
        };
    }

    /// The chain configuration.
    pub fn chain_config(&self) -> crate::genesis::ChainConfig {
        lock(&self.inner.chain).config().clone()
    }

    /// The execution context of a block: an existing header's, or (`None`) the pending block's.
    pub fn block_context(&self, header: Option<&Header>) -> crate::execution::BlockContext {
        let chain = lock(&self.inner.chain);
        let fee_recipient = self.signer().unwrap_or_default();
        match header {
            Some(h) => crate::execution::BlockContext::from_header(
                h,
                crate::consensus::recover_signer(h).unwrap_or(fee_recipient),
            ),
            None => {
                let head = chain.head();
                let timestamp =
                    self.now().max(head.timestamp + chain.clique().period_at(head.number + 1));
                crate::execution::BlockContext {
                    number: head.number + 1,
                    timestamp,
                    fee_recipient,
                    gas_limit: head.gas_limit,
                    base_fee: crate::consensus::next_base_fee(chain.config(), head),
                    difficulty: U256::from(crate::consensus::DIFF_IN_TURN),
                    mix_hash: B256::ZERO,
                    parent_beacon_block_root: chain
                        .config()
                        .is_cancun(timestamp)
                        .then_some(B256::ZERO),
                    excess_blob_gas: 0,
                }
            }
        }
    }

    /// Resolves when the pool gained a transaction since the last call.
    pub async fn pool_changed(&self) {
        self.inner.pool_notify.notified().await
    }

    pub(super) fn after_new_head(&self, head: &Header) -> Result<(), StoreError> {
        let (gone, expired) = {
            let mut pool = lock(&self.inner.pool);
            (pool.prune(&self.inner.store), pool.expire_due(&self.inner.store))
        };
        for hash in &expired {
            tracing::info!(target: "daisee::txpool", %hash, "dropped: waited too long for its nonce gap to close");
        }
        if !(gone.is_empty() && expired.is_empty()) {
            self.compact_journal();
        }
        self.inner.heads.send_replace(head.clone());
        let _ = self.inner.new_heads.send(ChainEvent::Added(head.clone()));
        if !lock(&self.inner.pool).is_empty() {
            self.inner.pool_notify.notify_one();
        }
        Ok(())
    }

    /// Inserts a block from outside (a file, a peer): it extends the head, is kept as a side
    /// block, or reorganises the chain. After a reorg the orphaned transactions go back to the
    /// pool (as heard from a peer) and subscribers see the orphaned blocks removed, then the new branch's heads.
    pub fn import_block(&self, block: &Block) -> Result<Inserted, ImportError> {
        let started = Instant::now();
        let inserted = lock(&self.inner.chain).insert_block(block, unix_now())?;
        metrics::histogram!("chain_import_seconds").record(started.elapsed().as_secs_f64());
        match &inserted {
            Inserted::Extended(_) => self.after_new_head(&block.header)?,
            Inserted::Side(_) => {}
            Inserted::Reorged { orphaned, adopted, dropped } => {
                self.inner.reorgs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // Every board re-pools the orphaned transactions itself, as a peer's: announcing
                // them again would send each board's copy to boards that hold it (gossip refuses
                // a duplicate within its memory, with a warning per transaction), and as its own
                // every board would keep and rebroadcast them. Their senders' boards (a meter's
                // outbox, a wallet) send them again if they are lost.
                for tx in dropped {
                    if let Err(e) = self.submit_remote(tx.clone()) {
                        tracing::debug!(target: "daisee::txpool", hash = %tx.hash(), "orphaned transaction not re-pooled: {e}");
                    }
                }
                for block in orphaned.iter().rev() {
                    let _ = self.inner.new_heads.send(ChainEvent::Removed(block.header.clone()));
                }
                for header in adopted {
                    let _ = self.inner.new_heads.send(ChainEvent::Added(header.clone()));
                }
                let head = lock(&self.inner.chain).head().clone();
                lock(&self.inner.pool).prune(&self.inner.store);
                self.compact_journal();
                self.inner.heads.send_replace(head);
            }
        }
        Ok(inserted)
    }

    /// Connected peers, or `None` when networking is off.
    pub fn peer_count(&self) -> Option<usize> {
        *lock(&self.inner.peers)
    }

    /// Records the number of connected peers (the network calls this).
    pub fn set_peer_count(&self, peers: usize) {
        *lock(&self.inner.peers) = Some(peers);
    }

    /// Writes a consistent copy of the database to `out` (no block is committed meanwhile);
    /// returns the entries written and the head they end at.
    pub fn backup(&self, out: &mut impl std::io::Write) -> Result<(u64, Header), StoreError> {
        let _writers =
            self.inner.write_gate.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let chain = lock(&self.inner.chain);
        self.inner.store.flush()?;
        let entries = self.inner.store.dump(out)?;
        Ok((entries, chain.head().clone()))
    }

    /// Held by a service while it writes beside the chain (a backup waits for it).
    pub fn hold_writes(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.inner.write_gate.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// This board's clock against the chain's head and its peers' clocks.
    pub fn clock(&self) -> ClockReport {
        self.inner.clock.report(self.now(), self.head().timestamp)
    }

    /// Now on the clock this node seals by (unix s): the wall clock, or dev's simulated one.
    pub fn now(&self) -> u64 {
        match &self.inner.config.clock {
            Some(clock) => {
                let floor = self.inner.clock_floor.load(std::sync::atomic::Ordering::Relaxed);
                (clock.now_ms() / 1000).max(floor)
            }
            None => unix_now(),
        }
    }

    /// With a simulated clock: the chain's time is at least `interval_end` from now on, so a
    /// reading the meters hold is never in the chain's future. Nothing with the wall clock.
    pub fn keep_time_after(&self, interval_end: u64) {
        if self.inner.config.clock.is_some() {
            self.inner.clock_floor.fetch_max(interval_end, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The peers' clocks minus this board's (median, s; the network calls this).
    pub fn set_peers_clock_offset(&self, offset: Option<i64>) {
        self.inner.clock.set_peers_offset(offset, unix_now());
    }

    /// Logs the clock's problem, if any (at most once a minute).
    pub fn warn_about_clock(&self) -> ClockReport {
        let report = self.clock();
        self.inner.clock.warn(&report);
        report
    }

    /// The network's peers and the peers operators asked it to add.
    pub fn peer_table(&self) -> &peers::PeerTable {
        &self.inner.peer_table
    }

    /// Signs `hash` with the sealing key (a board proving to its peers which signer runs it).
    pub fn sign_as_signer(&self, hash: &B256) -> Option<(Address, crate::primitives::Signature)> {
        self.inner.config.signer.as_ref().map(|k| (k.address(), k.sign_hash(hash)))
    }

    /// How many reorgs this node went through since it started.
    pub fn reorg_count(&self) -> u64 {
        self.inner.reorgs.load(std::sync::atomic::Ordering::Relaxed)
    }
}
