//! The daybook against made-up blocks: days in a time zone with summer time, pages of records,
//! a block taken away by a reorg, the rate slot.

use super::index::{self, Cursor};
use super::*;
use crate::primitives::{address, Header, Log, LogData, Receipt, TxType, B256};

const A: Address = address!("1000000000000000000000000000000000000001");
const B: Address = address!("2000000000000000000000000000000000000002");

fn receipt(logs: Vec<LogData>) -> Receipt {
    let logs = logs.into_iter().map(|data| Log { address: DAISEE_ADDRESS, data }).collect();
    Receipt { tx_type: TxType::Legacy, success: true, cumulative_gas_used: 0, logs }
}

fn reading(meter: Address, end: u64, produced: u64, consumed: u64) -> LogData {
    Daisee::Reading {
        meter,
        intervalEnd: end,
        producedWh: U256::from(produced),
        consumedWh: U256::from(consumed),
    }
    .encode_log_data()
}

fn buy(buyer: Address, seller: Address, energy: u64) -> LogData {
    Daisee::Buy { buyer, seller, energy: U256::from(energy) }.encode_log_data()
}

fn block(number: u64, time: u64, logs: Vec<LogData>) -> (Header, Vec<Receipt>) {
    let header = Header { number, timestamp: time, ..Default::default() };
    (header, vec![receipt(logs)])
}

fn paris() -> Daybook {
    let zone = TimeZone::get("Europe/Paris").expect("tzdata for Europe/Paris");
    Daybook::open(Store::temporary().expect("store"), zone, "Europe/Paris".into()).expect("daybook")
}

fn date(s: &str) -> Date {
    s.parse().expect("date")
}

#[test]
fn days_are_local_days_and_a_reorged_block_is_taken_away() {
    let book = paris();
    let day_of = |t| book.day_of(t);
    // 2026-10-25 is the day summer time ends in Paris (25 hours long).
    let midnight = 1_792_879_200; // 2026-10-25T00:00+02:00
    assert_eq!(book.day_of(midnight), 20261025);
    assert_eq!(book.day_of(midnight - 1), 20261024);
    let start = Cursor { number: 0, hash: B256::ZERO, rate: U256::from(10) };
    let blocks = vec![
        // An interval ending at midnight belongs to the day before.
        block(1, midnight + 5, vec![reading(A, midnight, 100, 40), reading(B, midnight, 0, 70)]),
        block(2, midnight + 3600, vec![reading(A, midnight + 3600, 200, 10), buy(B, A, 50)]),
    ];
    let cursor =
        index::apply(book.store(), &DAISEE_ADDRESS, &start, &blocks, &day_of).expect("apply");
    assert_eq!(cursor.number, 2);
    let days = book.days(Some(&A), date("2026-10-24"), date("2026-10-25")).expect("days");
    assert_eq!(days[0].1.produced_wh, U256::from(100));
    assert_eq!(days[1].1.produced_wh, U256::from(200));
    assert_eq!((days[1].1.sold_wh, days[1].1.sold_wei), (U256::from(50), U256::from(500)));
    let community = book.days(None, date("2026-10-25"), date("2026-10-25")).expect("days");
    assert_eq!(community[0].1.produced_wh, U256::from(200));
    assert_eq!(community[0].1.bought_wei, U256::from(500));
    assert_eq!(community[0].1.readings, 1);
    // The community per interval: both households' readings of the first, A's of the second.
    let intervals = book.intervals(0, u64::MAX).expect("intervals");
    let ends: Vec<u64> = intervals.iter().map(|(end, _)| *end).collect();
    assert_eq!(ends, vec![midnight, midnight + 3600]);
    assert_eq!(intervals[0].1.produced_wh, U256::from(100));
    assert_eq!(intervals[0].1.consumed_wh, U256::from(110));
    assert_eq!(intervals[0].1.readings, 2);
    assert_eq!(book.newest_interval().expect("newest"), Some(midnight + 3600));
    assert!(book.intervals(midnight + 1, midnight + 3599).expect("none between").is_empty());
    assert!(book.intervals(5, 4).is_err(), "from after to");

    // Block 2 leaves the chain: its totals and records go with it.
    let back = index::unwind(book.store(), &cursor, &day_of).expect("unwind").expect("undo kept");
    assert_eq!(back.number, 1);
    assert_eq!(back.rate, U256::from(10));
    let days = book.days(Some(&A), date("2026-10-25"), date("2026-10-25")).expect("days");
    assert!(days[0].1.is_empty(), "{days:?}");
    let page = book.records(&B, date("2026-10-24"), date("2026-10-25"), None, 10).expect("records");
    assert_eq!(page.records.len(), 1, "only B's reading is left");
    assert_eq!(book.newest_interval().expect("newest"), Some(midnight), "its interval too");
}

#[test]
fn records_come_in_pages_in_time_order_within_the_local_period() {
    let book = paris();
    let day_of = |t| book.day_of(t);
    let midnight = 1_795_129_200; // 2026-11-20T00:00+01:00
    let blocks: Vec<_> = (1..=30)
        .map(|i| block(i, midnight + i * 900, vec![reading(A, midnight + i * 900, i, 1)]))
        .collect();
    let start = Cursor { number: 0, hash: B256::ZERO, rate: U256::ZERO };
    index::apply(book.store(), &DAISEE_ADDRESS, &start, &blocks, &day_of).expect("apply");
    let (mut seen, mut after) = (Vec::new(), None);
    loop {
        let page = book
            .records(&A, date("2026-11-20"), date("2026-11-20"), after.as_deref(), 7)
            .expect("page");
        seen.extend(page.records.iter().map(|(_, l)| l.block));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, (1..=30).collect::<Vec<_>>());
    let before = book.records(&A, date("2026-11-19"), date("2026-11-19"), None, 10).expect("page");
    assert!(before.records.is_empty());
}

#[test]
fn bad_questions_get_clear_errors() {
    let book = paris();
    for bad in ["2026-13-01", "26-11-01", "2026-11-01T00:00", "1969-12-31", ""] {
        assert!(bad.parse::<Date>().is_err(), "{bad}");
    }
    let err = book.days(None, date("2026-11-02"), date("2026-11-01")).expect_err("reversed");
    assert!(err.to_string().contains("ends"), "{err}");
    let err = book.days(None, date("2024-01-01"), date("2026-01-01")).expect_err("too long");
    assert!(err.to_string().contains("at most 400 days"), "{err}");
    for cursor in ["0x00", "zz", "0x".repeat(30).as_str()] {
        assert!(book.records(&A, date("2026-11-01"), date("2026-11-02"), Some(cursor), 5).is_err());
    }
}

/// A UTC daybook that indexed one block of one reading.
fn one_block_indexed_in_utc() -> (Store, Daybook) {
    let store = Store::temporary().expect("store");
    let book = Daybook::open(store.clone(), TimeZone::UTC, "UTC".into()).expect("daybook");
    let start = Cursor { number: 0, hash: B256::ZERO, rate: U256::ZERO };
    let day_of = |t| book.day_of(t);
    let blocks = vec![block(1, 1_795_129_200, vec![reading(A, 1_795_129_200, 5, 5)])];
    index::apply(&store, &DAISEE_ADDRESS, &start, &blocks, &day_of).expect("apply");
    (store, book)
}

#[test]
fn a_daybook_kept_in_another_zone_is_rebuilt() {
    let (store, book) = one_block_indexed_in_utc();
    assert!(book.cursor().expect("cursor").is_some());
    let again = Daybook::open(store.clone(), TimeZone::UTC, "UTC".into()).expect("same zone");
    assert!(again.cursor().expect("cursor").is_some(), "kept in the same zone");
    let zone = TimeZone::get("Europe/Paris").expect("tzdata");
    let moved = Daybook::open(store, zone, "Europe/Paris".into()).expect("other zone");
    assert!(moved.cursor().expect("cursor").is_none(), "rebuilt from the first block");
}

#[test]
fn the_rate_slot_is_where_solc_put_rate() {
    let artifact: serde_json::Value =
        serde_json::from_str(daisee_contracts::DAISEE_ARTIFACT).expect("artifact");
    let storage = artifact["storageLayout"]["storage"].as_array().expect("layout");
    let rate = storage.iter().find(|v| v["label"] == "rate").expect("rate");
    assert_eq!(rate["slot"], RATE_SLOT.to_string());
}

#[test]
fn a_daybook_of_an_older_layout_is_rebuilt_with_its_intervals() {
    let (store, _) = one_block_indexed_in_utc();
    // A node upgraded from the first layout has no version (and no intervals).
    store.aux_write(&[(index::VERSION.to_vec(), None)], false).expect("forget the version");
    let again = Daybook::open(store.clone(), TimeZone::UTC, "UTC".into()).expect("reopen");
    assert!(again.cursor().expect("cursor").is_none(), "rebuilt from the first block");
    assert!(again.newest_interval().expect("intervals").is_none());
    let kept = Daybook::open(store, TimeZone::UTC, "UTC".into()).expect("reopen");
    assert_eq!(kept.zone_name(), "UTC", "and kept once rebuilt in today's layout");
}
