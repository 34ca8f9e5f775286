//! What the daybook costs on a long chain: a community's past sealed with past timestamps
//! ([`super::history`]), then indexed from the first block as a node upgraded with that chain
//! would, and the questions the dashboard asks of it — a month of one household, a year of the
//! community, a month of records to export — timed.

use super::history::{seal_history, HistorySpec};
use super::{err, BenchError, TempDir};
use crate::accounts::{derive_key, mnemonic_seed, DEV_MNEMONIC};
use crate::community::{community_genesis, dev_spec};
use crate::daybook::{Date, Daybook};
use crate::disk_watch::dir_size;
use crate::node::unix_now;
use crate::primitives::{PrivateKey, U256};
use crate::state::Store;
use serde::Serialize;
use std::time::Instant;

/// The daybook's figures.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaybookCost {
    /// Days of history (a block an hour, households reporting every 15 min).
    pub days: u64,
    /// Households reporting.
    pub households: usize,
    /// Resident memory after each quarter of the history was sealed, MiB (the store's cache is
    /// the default budget): flat when nothing grows with the chain.
    pub rss_mib: Vec<f64>,
    /// Blocks indexed.
    pub blocks: u64,
    /// Readings among them.
    pub readings: u64,
    /// Indexing from the first block, blocks per second.
    pub index_blocks_per_s: f64,
    /// What the daybook adds to the database, bytes per reading.
    pub bytes_per_reading: u64,
    /// `days` for one household's last 30 days, ms.
    pub household_month_ms: f64,
    /// `days` for the community's last 365 days (or the whole history), ms.
    pub community_year_ms: f64,
    /// One household's records of its last 30 days, all pages, ms.
    pub records_month_ms: f64,
    /// How many records that was.
    pub records_month: usize,
}

/// Seals `days` of history for `households` and measures the daybook on it.
pub(super) fn measure(days: u64, households: usize) -> Result<DaybookCost, BenchError> {
    let households = households.clamp(2, 200);
    let dir = TempDir::new("daybook")?;
    let store = Store::open(&dir.0).map_err(err)?;
    let seed = mnemonic_seed(DEV_MNEMONIC);
    let keys = (0..(households + 1) as u32)
        .map(|i| derive_key(&seed, i))
        .collect::<Result<Vec<PrivateKey>, _>>()
        .map_err(err)?;
    store.init_genesis(&community_genesis(&dev_spec(&keys, 0)).map_err(err)?).map_err(err)?;
    let end = unix_now() - 60;
    let days = days.max(4);
    let mut summary = super::history::HistorySummary::default();
    let mut rss_mib = Vec::new();
    // In quarters, sampling the memory after each: a soak where the chain grows.
    for quarter in 0..4u64 {
        let spec = HistorySpec {
            end: end - (3 - quarter) * (days / 4) * 86_400,
            sparse_days: days / 4,
            sparse_step: 3600,
            dense_hours: 0,
            dense_step: 20,
            interval: 900,
            buy_every: 6,
            rate_changes: if quarter == 1 {
                vec![(days, U256::from(20_000_000_000_000u64))]
            } else {
                vec![]
            },
            max_readings_per_block: 0,
        };
        let part = seal_history(store.clone(), &keys[0], &keys[1..], &spec)?;
        summary.blocks += part.blocks;
        summary.readings += part.readings;
        rss_mib.push(super::rss_mib());
    }
    store.flush().map_err(err)?;
    let before = dir_size(&dir.0);

    let book = Daybook::open(store.clone(), jiff::tz::TimeZone::UTC, "UTC".into()).map_err(err)?;
    let started = Instant::now();
    while book.catch_up().map_err(err)? {}
    let index_s = started.elapsed().as_secs_f64();
    store.flush().map_err(err)?;
    let added = dir_size(&dir.0).saturating_sub(before);

    let date = |unix: u64| -> Result<Date, BenchError> {
        let day = book.day_of(unix);
        format!("{:04}-{:02}-{:02}", day / 10_000, day / 100 % 100, day % 100).parse().map_err(err)
    };
    let (to, month, year) = (date(end)?, date(end - 29 * 86_400)?, date(end - 364 * 86_400)?);
    let producer = keys[1].address();
    let timed = |f: &dyn Fn() -> Result<usize, BenchError>| -> Result<(f64, usize), BenchError> {
        let mut best = f64::MAX;
        let mut n = 0;
        for _ in 0..5 {
            let started = Instant::now();
            n = f()?;
            best = best.min(started.elapsed().as_secs_f64() * 1000.0);
        }
        Ok((best, n))
    };
    let (household_month_ms, _) =
        timed(&|| Ok(book.days(Some(&producer), month, to).map_err(err)?.len()))?;
    let (community_year_ms, _) = timed(&|| Ok(book.days(None, year, to).map_err(err)?.len()))?;
    let (records_month_ms, records_month) = timed(&|| {
        let (mut n, mut after) = (0, None);
        loop {
            let page = book.records(&producer, month, to, after.as_deref(), 5000).map_err(err)?;
            n += page.records.len();
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(n),
            }
        }
    })?;
    Ok(DaybookCost {
        days,
        households,
        rss_mib,
        blocks: summary.blocks,
        readings: summary.readings,
        index_blocks_per_s: summary.blocks as f64 / index_s.max(f64::EPSILON),
        bytes_per_reading: added / summary.readings.max(1),
        household_month_ms,
        community_year_ms,
        records_month_ms,
        records_month,
    })
}
