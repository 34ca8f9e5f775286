//! The daybook: the community's history per household and per day — energy produced and
//! consumed, sold and bought, the ether it moved — and each household's readings and trades in
//! time order, kept as blocks are committed so that a week, a month or an export of a year-old
//! chain is a few key reads rather than a scan of 100,000s of blocks (`daisee_days`,
//! `daisee_records`). Days are counted in the board's time zone (`TZ`, else `/etc/localtime`).
//!
//! It follows the canonical chain on its own, as a client would: after each new head it reads
//! the blocks it has not seen, and when a block it indexed left the chain (a reorg) it takes that
//! block's contribution away again. A node upgraded with a long chain builds it in the background.

mod entries;
mod index;
mod query;
mod totals;

pub use entries::{Entry, Located};
pub use index::{Cursor, Role};
pub use query::{Date, QueryError, RecordPage, MAX_DAYS, MAX_INTERVALS, MAX_RECORDS};
pub use totals::DayTotals;

use crate::community::DAISEE_ADDRESS;
use crate::node::Node;
use crate::primitives::{Address, BloomInput, U256};
use crate::state::{Store, StoreError};
use alloy_sol_types::SolEvent;
use daisee_contracts::Daisee;
use jiff::tz::TimeZone;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// The Daisee contract's storage slot of `rate` (checked against the solc layout in the tests).
pub const RATE_SLOT: u64 = 7;

/// Blocks indexed per write while catching up.
const BLOCKS_PER_WRITE: u64 = 512;
/// Transactions indexed per write while catching up: one write is one batch in memory (measured:
/// 512 blocks of 80 readings made a batch of hundreds of MiB), so full blocks end it sooner.
const TXS_PER_WRITE: usize = 2048;

/// The daybook of one store (cheap to clone).
#[derive(Clone)]
pub struct Daybook {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Daybook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daybook").field("zone", &self.inner.zone_name).finish()
    }
}

struct Inner {
    store: Store,
    contract: Address,
    zone: TimeZone,
    zone_name: String,
    /// One writer at a time.
    writer: Mutex<()>,
}

impl Daybook {
    /// The daybook of `store`, counting days in `zone` (named `zone_name`). A daybook kept in
    /// another zone is rebuilt.
    pub fn open(store: Store, zone: TimeZone, zone_name: String) -> Result<Self, StoreError> {
        let stored = store.aux_get(index::ZONE)?;
        let version = index::LAYOUT_VERSION.to_be_bytes();
        let layout = store.aux_get(index::VERSION)?;
        if stored.as_deref() != Some(zone_name.as_bytes()) || layout.as_deref() != Some(&version) {
            if stored.is_some() {
                tracing::info!(target: "daisee::daybook", zone = %zone_name, "time zone or layout changed: rebuilding the daybook");
            }
            index::clear(&store)?;
            store.aux_write(
                &[
                    (index::ZONE.to_vec(), Some(zone_name.as_bytes().to_vec())),
                    (index::VERSION.to_vec(), Some(version.to_vec())),
                ],
                false,
            )?;
        }
        let inner =
            Inner { store, contract: DAISEE_ADDRESS, zone, zone_name, writer: Mutex::new(()) };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The daybook of `store` in the board's time zone (`TZ`, else the system's; UTC if neither).
    pub fn open_in_system_zone(store: Store) -> Result<Self, StoreError> {
        let zone = TimeZone::try_system().unwrap_or(TimeZone::UTC);
        let name = zone.iana_name().unwrap_or("UTC").to_string();
        Self::open(store, zone, name)
    }

    /// The time zone days are counted in.
    pub fn zone_name(&self) -> &str {
        &self.inner.zone_name
    }

    /// The local day (yyyymmdd) of a unix time.
    pub fn day_of(&self, unix: u64) -> u32 {
        query::day_number(&self.inner.zone, unix)
    }

    /// How far the daybook has read (`None` before its first block).
    pub fn cursor(&self) -> Result<Option<Cursor>, StoreError> {
        match self.inner.store.aux_get(index::HEAD)? {
            Some(raw) => Cursor::decode(&raw).map(Some).map_err(|e| index::corrupt(index::HEAD, e)),
            None => Ok(None),
        }
    }

    /// Reads what the chain committed since the last call, up to [`BLOCKS_PER_WRITE`] blocks;
    /// returns whether more remain.
    pub fn catch_up(&self) -> Result<bool, StoreError> {
        let _writer = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let store = &self.inner.store;
        let day_of = |t: u64| self.day_of(t);
        let head = store.head()?;
        let cursor = match self.cursor()? {
            Some(c) => c,
            None => {
                let genesis = store.header_by_number(0)?.ok_or(StoreError::NotInitialized)?;
                let rate = self.initial_rate()?;
                Cursor { number: 0, hash: genesis.hash(), rate }
            }
        };
        if cursor.number > head.number || store.canonical_hash(cursor.number)? != Some(cursor.hash)
        {
            if index::unwind(store, &cursor, &day_of)?.is_none() {
                tracing::warn!(target: "daisee::daybook", block = cursor.number, "reorg deeper than the daybook's undo: rebuilding");
                index::clear(store)?;
                let zone = self.inner.zone_name.as_bytes().to_vec();
                let version = index::LAYOUT_VERSION.to_be_bytes().to_vec();
                store.aux_write(
                    &[(index::ZONE.to_vec(), Some(zone)), (index::VERSION.to_vec(), Some(version))],
                    false,
                )?;
            }
            return Ok(true);
        }
        let last = head.number.min(cursor.number + BLOCKS_PER_WRITE);
        let mut blocks = Vec::new();
        let mut parent = cursor.hash;
        let mut txs = 0;
        for number in cursor.number + 1..=last {
            if txs >= TXS_PER_WRITE {
                break;
            }
            let Some(header) = store.header_by_number(number)? else { break };
            if header.parent_hash != parent {
                break; // the chain moved under us: the next round sees it
            }
            let receipts = store.receipts(&header.hash())?.unwrap_or_default();
            txs += receipts.len();
            parent = header.hash();
            blocks.push((header, receipts));
        }
        if blocks.is_empty() {
            return Ok(cursor.number < head.number);
        }
        let next = index::apply(store, &self.inner.contract, &cursor, &blocks, &day_of)?;
        Ok(next.number < store.head()?.number)
    }

    /// The rate at genesis: the `previousRate` of the chain's first rate change, else the rate now
    /// (the contract is predeployed with its constructor already run, so no block holds its first
    /// `RateChanged`). Rate changes are found through the headers' blooms.
    fn initial_rate(&self) -> Result<U256, StoreError> {
        let store = &self.inner.store;
        let first_change = |from: u64, to: u64| -> Result<Option<U256>, StoreError> {
            let topic = Daisee::RateChanged::SIGNATURE_HASH;
            for number in from..=to {
                let Some(header) = store.header_by_number(number)? else { break };
                let bloom = &header.logs_bloom;
                if !bloom.contains_input(BloomInput::Raw(topic.as_slice()))
                    || !bloom.contains_input(BloomInput::Raw(self.inner.contract.as_slice()))
                {
                    continue;
                }
                let receipts = store.receipts(&header.hash())?.unwrap_or_default();
                let mut rate = U256::ZERO;
                let entries =
                    entries::decode_block(&self.inner.contract, number, 0, &receipts, &mut rate);
                if let Some(Entry::Rate { previous, .. }) =
                    entries.into_iter().map(|l| l.entry).find(|e| matches!(e, Entry::Rate { .. }))
                {
                    return Ok(Some(previous));
                }
            }
            Ok(None)
        };
        let scanned = store.head()?.number;
        if let Some(rate) = first_change(1, scanned)? {
            return Ok(rate);
        }
        // Blocks commit atomically with their state: a rate read now that a later block changed
        // shows up as a change in the blocks after `scanned`.
        let now = store.storage(&self.inner.contract, &U256::from(RATE_SLOT))?;
        Ok(first_change(scanned + 1, store.head()?.number)?.unwrap_or(now))
    }

    /// Follows the chain until `stop`: catches up after each new head (and every few seconds).
    pub async fn follow(self, node: Node, mut stop: watch::Receiver<bool>) {
        let mut heads = node.subscribe_heads();
        // A failing store (a full disk) fails every round: said once a minute.
        let mut said: Option<std::time::Instant> = None;
        loop {
            let this = self.clone();
            let more = match tokio::task::spawn_blocking(move || this.catch_up()).await {
                Ok(Ok(more)) => more,
                Ok(Err(e)) => {
                    if said.is_none_or(|at| at.elapsed() >= std::time::Duration::from_secs(60)) {
                        said = Some(std::time::Instant::now());
                        tracing::error!(target: "daisee::daybook", "indexing stopped for a while: {e}");
                    }
                    false
                }
                Err(e) => {
                    tracing::error!(target: "daisee::daybook", "indexing task failed: {e}");
                    false
                }
            };
            if *stop.borrow() {
                return;
            }
            if more {
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                _ = heads.recv() => {}
                _ = stop.changed() => return,
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    fn zone(&self) -> &TimeZone {
        &self.inner.zone
    }
}

#[cfg(test)]
mod tests;
