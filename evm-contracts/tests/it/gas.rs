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
    for n in [10, 50, 100] {
        let (settlement, gas) = settle_market(n);
        assert_eq!(settlement.volume, 100 * n as u128 / 2, "every household traded");
        rows.push((SETTLE_ROWS[(n / 50).min(2)], gas));
    }
    rows
}

const SETTLE_ROWS: [&str; 3] =
    ["settle (10 meters: 5 sell, 5 buy)", "settle (50 meters)", "settle (100 meters)"];

/// A market of `n` households, half selling 100 Wh and half buying 100 Wh at mixed limit
/// prices, settled: what it did and the gas it used.
fn settle_market(n: usize) -> (crate::market::Settlement, u64) {
    let mut mk = Market::new(n, 0);
    const T: u64 = 1_800_000_000;
    for i in 1..=n {
        let who = household(i);
        if i % 2 == 1 {
            mk.prices(who, DEFAULT_RATE_WEI_PER_WH - i as u64, 0);
            mk.report(who, T, 100, 0);
        } else {
            mk.prices(who, 0, DEFAULT_RATE_WEI_PER_WH + i as u64);
            mk.deposit(who, crate::harness::ether(1));
            mk.report(who, T, 0, 100);
        }
    }
    mk.close(T);
    let settlement = mk.settle(T);
    let gas = settlement.gas_used;
    (settlement, gas)
}

#[test]
fn one_settle_takes_the_first_hundred_meters_and_skips_the_rest() {
    let mut mk = Market::new(102, 0);
    const T: u64 = 1_800_000_000;
    for i in 1..=102 {
        let who = household(i);
        mk.deposit(who, crate::harness::ether(1));
        let (p, c) = if i <= 100 { (0, 10) } else { (500, 0) };
        mk.report(who, T, p, c);
    }
    mk.close(T);
    let s = mk.settle(T);
    assert_eq!(s.skipped, 2, "meters 101 and 102 reported after the first hundred");
    assert_eq!(s.volume, 0, "the only sellers were beyond the cap");
    assert_eq!(mk.households.len(), 102);
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
