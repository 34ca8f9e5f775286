//! The daybook on disk, beside the chain in the same database: how far it has read the canonical
//! chain, per household and day the totals, per household the records in time order, and per
//! recent block what it added (to take it away again when a reorg drops the block).
//!
//! Keys (service data, under `daybook/`): `head` → block, hash, rate in force; `zone` → the time
//! zone days are counted in; `d/<meter><yyyymmdd>` and `c/<yyyymmdd>` → [`DayTotals`];
//! `r/<meter><time><block><log><role>` → the record; `b/<block>` → the block's undo.

use super::entries::{Entry, Located, Malformed, Reader};
use super::totals::DayTotals;
use crate::primitives::{Address, Header, Receipt, B256, U256};
use crate::state::{Store, StoreError};
use std::collections::BTreeMap;

/// Blocks whose undo is kept: deeper than any reorg the chain accepts.
const UNDO_DEPTH: u64 = 2 * crate::chain::MAX_REORG_DEPTH + 64;

pub(super) const HEAD: &[u8] = b"daybook/head";
pub(super) const ZONE: &[u8] = b"daybook/zone";
pub(super) const VERSION: &[u8] = b"daybook/version";
/// The layout written today (2: the per-interval totals).
pub(super) const LAYOUT_VERSION: u32 = 2;
pub(super) const ROOT: &[u8] = b"daybook/";

/// What a record is to the household it is filed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Its own reading.
    Reading = 0,
    /// It sold.
    Sold = 1,
    /// It bought.
    Bought = 2,
}

pub(super) fn day_key(meter: &Address, day: u32) -> Vec<u8> {
    [b"daybook/d/".as_slice(), meter.as_slice(), &day.to_be_bytes()].concat()
}

pub(super) fn community_key(day: u32) -> Vec<u8> {
    [b"daybook/c/".as_slice(), &day.to_be_bytes()].concat()
}

pub(super) fn interval_key(interval_end: u64) -> Vec<u8> {
    [b"daybook/i/".as_slice(), &interval_end.to_be_bytes()].concat()
}

pub(super) fn record_prefix(meter: &Address) -> Vec<u8> {
    [b"daybook/r/".as_slice(), meter.as_slice()].concat()
}

fn record_key(meter: &Address, time: u64, located: &Located, role: Role) -> Vec<u8> {
    let mut key = record_prefix(meter);
    key.extend_from_slice(&time.to_be_bytes());
    key.extend_from_slice(&located.block.to_be_bytes());
    key.extend_from_slice(&located.log_index.to_be_bytes());
    key.push(role as u8);
    key
}

/// The role byte at the end of a record key.
pub(super) fn role_of(key: &[u8]) -> Option<Role> {
    match key.last()? {
        0 => Some(Role::Reading),
        1 => Some(Role::Sold),
        2 => Some(Role::Bought),
        _ => None,
    }
}

fn undo_key(block: u64) -> Vec<u8> {
    [b"daybook/b/".as_slice(), &block.to_be_bytes()].concat()
}

/// How far the daybook has read: the last block indexed and the rate in force after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Last block indexed.
    pub number: u64,
    /// Its hash.
    pub hash: B256,
    /// The rate in force after it, wei per Wh.
    pub rate: U256,
}

impl Cursor {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = self.number.to_be_bytes().to_vec();
        out.extend_from_slice(self.hash.as_slice());
        super::entries::put_u256(&mut out, &self.rate);
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Self, Malformed> {
        let mut r = Reader(bytes);
        Ok(Self { number: r.u64()?, hash: B256::from_slice(r.take(32)?), rate: r.u256()? })
    }
}

/// The instant a record is filed at: an interval ending at midnight belongs to the day before.
pub(super) fn filed_at(located: &Located) -> u64 {
    match located.entry {
        Entry::Reading { interval_end, .. } => interval_end.saturating_sub(1),
        _ => located.time,
    }
}

/// One block's contribution to the totals, per key.
fn contributions(entries: &[Located], day_of: &dyn Fn(u64) -> u32) -> BTreeMap<Vec<u8>, DayTotals> {
    let mut out: BTreeMap<Vec<u8>, DayTotals> = BTreeMap::new();
    for located in entries {
        let day = day_of(filed_at(located));
        match &located.entry {
            Entry::Reading { meter, produced, consumed, interval_end } => {
                let t = DayTotals {
                    produced_wh: *produced,
                    consumed_wh: *consumed,
                    readings: 1,
                    ..Default::default()
                };
                out.entry(day_key(meter, day)).or_default().merge(&t, true);
                out.entry(community_key(day)).or_default().merge(&t, true);
                out.entry(interval_key(*interval_end)).or_default().merge(&t, true);
            }
            Entry::Trade { buyer, seller, energy, wei, .. } => {
                let sold =
                    DayTotals { sold_wh: *energy, sold_wei: *wei, trades: 1, ..Default::default() };
                let bought = DayTotals {
                    bought_wh: *energy,
                    bought_wei: *wei,
                    trades: 1,
                    ..Default::default()
                };
                out.entry(day_key(seller, day)).or_default().merge(&sold, true);
                out.entry(day_key(buyer, day)).or_default().merge(&bought, true);
                let both = DayTotals {
                    sold_wh: *energy,
                    sold_wei: *wei,
                    bought_wh: *energy,
                    bought_wei: *wei,
                    trades: 1,
                    ..Default::default()
                };
                out.entry(community_key(day)).or_default().merge(&both, true);
            }
            Entry::Rate { .. } => {}
        }
    }
    out
}

/// The record keys a block's entries are filed under.
fn record_keys(entries: &[Located]) -> Vec<(Vec<u8>, &Located)> {
    let mut out = Vec::new();
    for located in entries {
        let time = filed_at(located);
        match &located.entry {
            Entry::Reading { meter, .. } => {
                out.push((record_key(meter, time, located, Role::Reading), located))
            }
            Entry::Trade { buyer, seller, .. } => {
                out.push((record_key(seller, time, located, Role::Sold), located));
                out.push((record_key(buyer, time, located, Role::Bought), located));
            }
            Entry::Rate { .. } => {}
        }
    }
    out
}

type Changes = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// Adds the totals in `deltas` to (or takes them from) what the store holds.
fn merge_totals(
    store: &Store,
    deltas: BTreeMap<Vec<u8>, DayTotals>,
    sign: bool,
    changes: &mut Changes,
) -> Result<(), StoreError> {
    for (key, delta) in deltas {
        let mut totals = match store.aux_get(&key)? {
            Some(raw) => DayTotals::decode(&raw).map_err(|e| corrupt(&key, e))?,
            None => DayTotals::default(),
        };
        totals.merge(&delta, sign);
        changes.push((key, (!totals.is_empty()).then(|| totals.encode())));
    }
    Ok(())
}

pub(super) fn corrupt(key: &[u8], e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("daybook entry {}: {e}", String::from_utf8_lossy(key)))
}

/// Indexes `blocks` (consecutive, the first on top of `cursor`) in one atomic write; returns the
/// cursor after the last.
pub(super) fn apply(
    store: &Store,
    contract: &Address,
    cursor: &Cursor,
    blocks: &[(Header, Vec<Receipt>)],
    day_of: &dyn Fn(u64) -> u32,
) -> Result<Cursor, StoreError> {
    let mut changes = Changes::new();
    let mut deltas: BTreeMap<Vec<u8>, DayTotals> = BTreeMap::new();
    let mut next = cursor.clone();
    for (header, receipts) in blocks {
        let rate_before = next.rate;
        let entries = super::entries::decode_block(
            contract,
            header.number,
            header.timestamp,
            receipts,
            &mut next.rate,
        );
        for (key, delta) in contributions(&entries, day_of) {
            deltas.entry(key).or_default().merge(&delta, true);
        }
        for (key, located) in record_keys(&entries) {
            changes.push((key, Some(located.encode())));
        }
        let mut undo = next.hash.to_vec();
        super::entries::put_u256(&mut undo, &rate_before);
        for located in &entries {
            undo.extend_from_slice(&located.encode());
        }
        changes.push((undo_key(header.number), Some(undo)));
        if let Some(old) = header.number.checked_sub(UNDO_DEPTH) {
            changes.push((undo_key(old), None));
        }
        next.number = header.number;
        next.hash = header.hash();
    }
    merge_totals(store, deltas, true, &mut changes)?;
    changes.push((HEAD.to_vec(), Some(next.encode())));
    store.aux_write(&changes, false)?;
    Ok(next)
}

/// Takes the cursor's block out of the daybook (it left the canonical chain); `None` when its
/// undo is gone (the daybook must then be rebuilt).
pub(super) fn unwind(
    store: &Store,
    cursor: &Cursor,
    day_of: &dyn Fn(u64) -> u32,
) -> Result<Option<Cursor>, StoreError> {
    let key = undo_key(cursor.number);
    let Some(raw) = store.aux_get(&key)? else { return Ok(None) };
    let mut r = Reader(&raw);
    let parent = B256::from_slice(r.take(32).map_err(|e| corrupt(&key, e))?);
    let rate = r.u256().map_err(|e| corrupt(&key, e))?;
    let mut entries = Vec::new();
    while !r.0.is_empty() {
        entries.push(Located::read(&mut r).map_err(|e| corrupt(&key, e))?);
    }
    let mut changes: Changes = record_keys(&entries).into_iter().map(|(k, _)| (k, None)).collect();
    merge_totals(store, contributions(&entries, day_of), false, &mut changes)?;
    changes.push((key, None));
    let previous = Cursor { number: cursor.number.saturating_sub(1), hash: parent, rate };
    changes.push((HEAD.to_vec(), Some(previous.encode())));
    store.aux_write(&changes, false)?;
    Ok(Some(previous))
}

/// Deletes the whole daybook, a few thousand keys per write.
pub(super) fn clear(store: &Store) -> Result<(), StoreError> {
    let end = [ROOT, &[0xff]].concat();
    loop {
        let keys = store.aux_range(ROOT, &end, 4096)?;
        if keys.is_empty() {
            return Ok(());
        }
        let changes: Changes = keys.into_iter().map(|(k, _)| (k, None)).collect();
        store.aux_write(&changes, false)?;
    }
}
