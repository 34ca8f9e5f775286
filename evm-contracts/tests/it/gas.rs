//! Gas used by each Daisee function, checked against the committed `gas-snapshot.txt`.
//!
//! The numbers are deterministic for a given compiler output and EVM version, so any change
//! to the contract that moves them must update the snapshot (and the gas table of evm-contracts/README.md):
//! `UPDATE_GAS_SNAPSHOT=1 cargo test -p daisee-contracts --test it gas`.

use crate::community::{alice, bob, carol, Community, OWNER};
use crate::harness::Chain;
use crate::market::{household, Market};
use alloy_primitives::{Address, U256};
use daisee_contracts::{daisee_deploy_code, Daisee, DEFAULT_RATE_WEI_PER_WH};
use std::fmt::Write;

fn measure() -> Vec<(&'static str, u64)> {
    let mut rows = Vec::new();
    let mut chain = Chain::new();
    chain.fund(OWNER, crate::harness::ether(1));
    let code = daisee_deploy_code(Address::ZERO, U256::ZERO, vec![alice(), bob()], 60, 0);
    rows.push(("deploy (2 meters)", chain.create(OWNER, code).ok().gas_used));

    let mut c = Community::new();
    let mut row = |name, gas| rows.push((name, gas));
    let reading = |end| Daisee::reportReadingCall {
        intervalEnd: end,
        producedWh: U256::from(250),
        consumedWh: U256::from(120),
    };
    let end = c.chain.time() - c.chain.time() % 900;
    row("reportReading (first)", c.send(alice(), reading(end)).ok().gas_used);
    c.chain.warp(end + 900);
    row("reportReading (next)", c.send(alice(), reading(end + 900)).ok().gas_used);
    let produce = Daisee::setProductionCall { kwh: U256::from(1000) };
    row("setProduction", c.send(bob(), produce).ok().gas_used);
    let consume = Daisee::consumeEnergyCall { energy: U256::from(100) };
    row("consumeEnergy", c.send(bob(), consume).ok().gas_used);
    let buy = Daisee::buyEnergyCall { seller: bob(), energy: U256::from(100) };
    let pay = U256::from(100 * DEFAULT_RATE_WEI_PER_WH + 1);
    row("buyEnergy (with refund)", c.chain.send(carol(), c.daisee, pay, buy).ok().gas_used);
    row("addMeter", c.send(OWNER, Daisee::addMeterCall { meter: carol() }).ok().gas_used);
    row("removeMeter", c.send(OWNER, Daisee::removeMeterCall { meter: carol() }).ok().gas_used);
    row("setRate", c.send(OWNER, Daisee::setRateCall { newRate: U256::from(1) }).ok().gas_used);
    let transfer = Daisee::transferOwnershipCall { newOwner: carol() };
    row("transferOwnership", c.send(OWNER, transfer).ok().gas_used);
    let deposit = c.chain.send(carol(), c.daisee, U256::from(1000), Daisee::depositCall {});
    row("deposit", deposit.ok().gas_used);
    let withdraw = Daisee::withdrawCall { amount: U256::from(400) };
    row("withdraw", c.send(carol(), withdraw).ok().gas_used);
    row("setAsk", c.send(alice(), Daisee::setAskCall { weiPerWh: U256::from(9) }).ok().gas_used);
    for (n, name) in SETTLE_ROWS {
        let (settlement, gas) = settle_market(n, 100, 100, MEASURING_GAS_LIMIT);
        assert_eq!(settlement.volume, 100 * n as u128 / 2, "every household traded");
        assert_eq!(settlement.skipped, 0);
        rows.push((name, gas));
    }
    rows
}

const SETTLE_ROWS: [(usize, &str); 6] = [
    (10, "settle (10 meters: 5 sell, 5 buy)"),
    (50, "settle (50 meters)"),
    (100, "settle (100 meters)"),
    (500, "settle (500 meters)"),
    (1000, "settle (1,000 meters)"),
    (2000, "settle (2,000 meters)"),
];

/// A block gas limit under which every settlement measured here takes all its meters.
const MEASURING_GAS_LIMIT: u64 = 200_000_000;

/// A market of `n` households, half selling `offer` Wh and half buying `need` Wh, each at its own
/// limit price, settled in a block of `block_gas` gas: what it did and the gas it used.
fn settle_market(
    n: usize,
    offer: u64,
    need: u64,
    block_gas: u64,
) -> (crate::market::Settlement, u64) {
    let mut mk = Market::new(n, 0);
    const T: u64 = 1_800_000_000;
    for i in 1..=n {
        let who = household(i);
        if i % 2 == 1 {
            mk.prices(who, DEFAULT_RATE_WEI_PER_WH - i as u64, 0);
            mk.report(who, T, offer, 0);
        } else {
            mk.prices(who, 0, DEFAULT_RATE_WEI_PER_WH + i as u64);
            mk.deposit(who, crate::harness::ether(1));
            mk.report(who, T, 0, need);
        }
    }
    mk.close(T);
    mk.chain.set_gas_limit(block_gas);
    let settlement = mk.settle(T);
    let gas = settlement.gas_used;
    (settlement, gas)
}

/// `settleCapacity()` at a block gas limit.
fn capacity(block_gas: u64) -> usize {
    let mut mk = Market::new(0, 0);
    mk.chain.set_gas_limit(block_gas);
    usize::try_from(mk.view(Daisee::settleCapacityCall {})).expect("a count")
}

#[test]
fn as_many_meters_as_the_gas_limit_allows_settle_in_one_block() {
    // The most expensive mix: every meter trades at its own price, and buyers need a little more
    // than sellers offer, so nearly every meter is in two `Matched` events.
    for block_gas in [30_000_000, 100_000_000, 135_250_000] {
        let n = capacity(block_gas);
        let (s, gas) = settle_market(n, 100, 103, block_gas);
        assert_eq!(s.skipped, 0, "all {n} meters at {block_gas} gas");
        assert!(s.matches.len() >= n * 9 / 10, "{} matches for {n} meters", s.matches.len());
        // The limit binds the gas spent before the refund.
        assert!(s.gas_spent <= block_gas, "{n} meters spent {} gas of {block_gas}", s.gas_spent);
        let per_meter = s.gas_spent / n as u64;
        eprintln!("{n} meters at a {block_gas} gas limit: {gas} gas ({per_meter} per meter spent)");
    }
    assert_eq!(capacity(30_000_000), 661);
    assert_eq!(capacity(100_000_000), 2_216);
    assert_eq!(capacity(135_250_000), 3_000);
    assert_eq!(capacity(1_000_000_000), 3_000, "bounded by MAX_SETTLE_METERS");
    assert_eq!(capacity(250_000), 0);
}

#[test]
fn one_settle_takes_the_first_meters_the_gas_limit_allows_and_skips_the_rest() {
    let block_gas = 4_000_000;
    let n = capacity(block_gas);
    let mut mk = Market::new(n + 2, 0);
    const T: u64 = 1_800_000_000;
    for i in 1..=n + 2 {
        let who = household(i);
        mk.deposit(who, crate::harness::ether(1));
        let (p, c) = if i <= n { (0, 10) } else { (500, 0) };
        mk.report(who, T, p, c);
    }
    mk.close(T);
    mk.chain.set_gas_limit(block_gas);
    let s = mk.settle(T);
    assert_eq!(s.skipped, 2, "the two meters that reported after the first {n}");
    assert_eq!(s.volume, 0, "the only sellers were beyond the capacity");
    assert_eq!(mk.households.len(), n + 2);
}

#[test]
fn gas_matches_the_snapshot() {
    let mut table = String::from("| function | gas used (tx total) |\n|---|---:|\n");
    for (name, gas) in measure() {
        writeln!(table, "| {name} | {gas} |").expect("write to String");
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/gas-snapshot.txt");
    if std::env::var_os("UPDATE_GAS_SNAPSHOT").is_some() {
        std::fs::write(path, &table).expect("write the gas snapshot");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
        committed, table,
        "gas changed; if intended, rerun with UPDATE_GAS_SNAPSHOT=1 and update evm-contracts/README.md"
    );
}
