//! A registered meter turned against the community (a stolen, mis-flashed or hacked board):
//! each attack found on the first version, now refused or harmless to the other households.

use crate::community::{alice, bob, carol, Community, OWNER};
use crate::market::{household, Market, CLOCK, INTERVAL, OWNER as MARKET_OWNER};
use alloy_primitives::{keccak256, B256, I256, U256};
use daisee_contracts::Daisee;

const T: u64 = 1_800_000_000;
const RATE: u64 = 20;
/// A 36 kVA meter over one 300 s interval.
const CAP_WH: u64 = 3_000;

fn wei(n: u64) -> U256 {
    U256::from(n)
}

fn reading(end: u64, produced: U256, consumed: U256) -> Daisee::reportReadingCall {
    Daisee::reportReadingCall { intervalEnd: end, producedWh: produced, consumedWh: consumed }
}

/// A seller (1) and a buyer (2) with escrow, both reporting `T`: the honest market the attacker
/// (3) tries to break.
fn honest_pair(mk: &mut Market) {
    mk.deposit(household(2), wei(10_000 * RATE));
    mk.report(household(1), T, 500, 0);
    mk.report(household(2), T, 0, 400);
}

#[test]
fn a_huge_consumption_cannot_freeze_settlement() {
    // First version: consumeEnergy(2^255 - 1), then a reading, left net at -2^255 and every
    // settle(T) reverted with Panic(0x11). Now the amount is beyond the meter's capacity.
    let mut mk = Market::new(3, RATE);
    honest_pair(&mut mk);
    let huge = (U256::from(1) << 255) - U256::from(1);
    let out = mk.send(household(3), U256::ZERO, Daisee::consumeEnergyCall { energy: huge });
    let err = out.reverted_with::<Daisee::AboveCapacity>();
    assert_eq!((err.meter, err.energy, err.limit), (household(3), huge, U256::from(CAP_WH)));
    assert_eq!(mk.net(household(3)), 0);
    mk.close(T);
    let s = mk.settle(T);
    assert_eq!(s.volume, 400, "the honest households trade as if nothing happened");
}

#[test]
fn a_poisoned_balance_from_before_the_upgrade_does_not_revert_settle() {
    // A balance of -2^255 written by the first version survives an upgrade in place: the
    // meter is left out of the market instead of reverting it for everyone.
    let mut mk = Market::new(3, RATE);
    honest_pair(&mut mk);
    mk.report(household(3), T, 0, 100);
    // net is `mapping(address => int256)` at slot 8.
    let slot = keccak256([household(3).into_word(), B256::from(U256::from(8))].concat());
    mk.chain.set_storage(mk.daisee, slot.into(), U256::from(1) << 255);
    assert_eq!(mk.view(Daisee::netBalanceOfCall { account: household(3) }), I256::MIN);
    mk.close(T);
    let s = mk.settle(T);
    assert_eq!((s.volume, s.buyers), (400, 1));
}

#[test]
fn a_reading_beyond_capacity_is_refused_and_sells_nothing() {
    // First version: reportReading(T, 2^48 - 1, 0) with an ask just under the rate took every
    // buyer's demand. Now a reading is at most capacity × the time it covers.
    let mut mk = Market::new(3, RATE);
    honest_pair(&mut mk);
    mk.prices(household(3), RATE - 1, 0);
    let max48 = U256::from((1u64 << 48) - 1);
    let out = mk.send(household(3), U256::ZERO, reading(T, max48, U256::ZERO));
    let err = out.reverted_with::<Daisee::AboveCapacity>();
    assert_eq!(err.limit, U256::from(CAP_WH));
    let over = mk.send(household(3), U256::ZERO, reading(T, U256::from(CAP_WH + 1), U256::ZERO));
    over.reverted_with::<Daisee::AboveCapacity>();
    // Its capacity in full is allowed: it sells first (cheapest), but no more than that.
    mk.report(household(3), T, CAP_WH, 0);
    mk.close(T);
    let s = mk.settle(T);
    assert_eq!(s.volume, 400);
    assert!(s.matches.iter().all(|m| m.seller == household(3)), "the cheapest ask sells first");
    // The owner sets a smaller capacity for a meter it suspects; the next reading is bounded by it.
    let cap = Daisee::setCapacityCall { meter: household(3), watts: wei(1200) };
    mk.send(MARKET_OWNER, U256::ZERO, cap).ok();
    let out = mk.send(household(3), U256::ZERO, reading(T + INTERVAL, wei(101), U256::ZERO));
    assert_eq!(out.reverted_with::<Daisee::AboveCapacity>().limit, wei(100));
}

#[test]
fn a_reading_from_the_future_cannot_close_every_interval() {
    // First version: reportReading(type(uint64).max, 0, 0) made every interval "over" and
    // locked the meter out for good.
    let mut mk = Market::new(3, RATE);
    honest_pair(&mut mk);
    let now = mk.chain.time();
    for end in [u64::MAX - u64::MAX % INTERVAL, now - now % INTERVAL + INTERVAL] {
        let out = mk.send(household(3), U256::ZERO, reading(end, U256::ZERO, U256::ZERO));
        let err = out.reverted_with::<Daisee::IntervalNotOver>();
        assert_eq!(err.intervalEnd, end);
    }
    let odd = mk.send(household(3), U256::ZERO, reading(T - 1, U256::ZERO, U256::ZERO));
    assert_eq!(odd.reverted_with::<Daisee::MisalignedInterval>().intervalSeconds, INTERVAL);
    // Interval T takes readings through its grace period, whatever anyone reported since.
    mk.chain.warp(T + INTERVAL - 1);
    let early = mk.send(household(3), U256::ZERO, Daisee::settleCall { intervalEnd: T });
    assert_eq!(early.reverted_with::<Daisee::IntervalOpen>().settlesFrom, wei(T + INTERVAL));
    mk.report(household(3), T, 0, 50);
    assert_eq!(mk.view(Daisee::intervalMeterCountCall { intervalEnd: T }), wei(3));
    // The attacker's own meter is not locked out either.
    assert_eq!(mk.view(Daisee::lastIntervalOfCall { meter: household(3) }), T);
}

#[test]
fn a_reading_after_the_grace_period_counts_in_the_balances_but_in_no_market() {
    let mut mk = Market::new(3, RATE);
    honest_pair(&mut mk);
    mk.chain.warp(T + INTERVAL);
    let out = mk.send(household(3), U256::ZERO, reading(T, wei(300), U256::ZERO)).ok();
    let outside = out.events::<Daisee::OutsideMarket>();
    assert_eq!((outside[0].meter, outside[0].intervalEnd, outside[0].reason), (household(3), T, 1));
    assert_eq!(mk.net(household(3)), 300, "nothing lost: the balance has it");
    assert_eq!(mk.view(Daisee::intervalMeterCountCall { intervalEnd: T }), wei(2));
    let s = mk.settle(T);
    assert!(s.matches.iter().all(|m| m.seller == household(1)));
    // Once settled: reason 2. The next interval is in its grace period: in the market.
    let out = mk.send(CLOCK, U256::ZERO, reading(T, wei(1), U256::ZERO)).ok();
    assert_eq!(out.events::<Daisee::OutsideMarket>()[0].reason, 2);
    let out = mk.send(household(1), U256::ZERO, reading(T + INTERVAL, wei(1), U256::ZERO)).ok();
    assert!(out.events::<Daisee::OutsideMarket>().is_empty());
}

#[test]
fn a_signer_cannot_order_its_own_block_to_cut_rivals_out() {
    // First version: a signer put its reading for T+1 then settle(T) first in its block.
    // Now the interval closes with the chain's clock: the next interval's reading cannot exist
    // before the grace period is over (one interval), so no reading closes T early.
    let mut mk = Market::new(3, RATE);
    mk.report(household(1), T, 500, 0);
    mk.report(household(3), T, 0, 0);
    mk.chain.warp(T + INTERVAL - 1);
    let next = mk.send(household(3), U256::ZERO, reading(T + INTERVAL, U256::ZERO, U256::ZERO));
    next.reverted_with::<Daisee::IntervalNotOver>();
    let cut = mk.send(household(3), U256::ZERO, Daisee::settleCall { intervalEnd: T });
    cut.reverted_with::<Daisee::IntervalOpen>();
    mk.deposit(household(2), wei(10_000 * RATE));
    mk.report(household(2), T, 0, 400);
    mk.close(T);
    assert_eq!(mk.settle(T).volume, 400, "the rival's reading is in");
}

#[test]
fn prices_are_those_of_the_reading_not_of_settlement() {
    let mut mk = Market::new(2, RATE);
    mk.deposit(household(2), wei(10_000 * RATE));
    mk.prices(household(1), 10, 0);
    mk.prices(household(2), 0, 30);
    mk.report(household(1), T, 100, 0);
    mk.report(household(2), T, 0, 100);
    // After reading: the seller raises its ask above the bid, the owner moves the rate.
    mk.prices(household(1), 1_000, 0);
    mk.prices(household(2), 0, 1);
    mk.send(MARKET_OWNER, U256::ZERO, Daisee::setRateCall { newRate: wei(999) }).ok();
    mk.close(T);
    let s = mk.settle(T);
    assert_eq!((s.volume, s.price), (100, wei(20)), "ask 10 and bid 30 as read: midpoint 20");
}

#[test]
fn a_removed_meters_unsettled_readings_leave_the_market() {
    let mut mk = Market::new(3, RATE);
    honest_pair(&mut mk);
    mk.prices(household(3), 1, 0);
    mk.report(household(3), T, 1_000, 0);
    mk.send(MARKET_OWNER, U256::ZERO, Daisee::removeMeterCall { meter: household(3) }).ok();
    mk.close(T);
    let s = mk.settle(T);
    assert!(s.matches.iter().all(|m| m.seller == household(1)), "{:?}", s.matches);
    assert_eq!(s.volume, 400);
}

#[test]
fn limit_prices_are_bounded() {
    let mut mk = Market::new(1, RATE);
    let max = mk.view(Daisee::MAX_PRICECall {});
    let too_high = max + U256::from(1);
    let ask = mk.send(household(1), U256::ZERO, Daisee::setAskCall { weiPerWh: too_high });
    assert_eq!(ask.reverted_with::<Daisee::InvalidPrice>().weiPerWh, too_high);
    let bid = mk.send(household(1), U256::ZERO, Daisee::setBidCall { weiPerWh: U256::MAX });
    bid.reverted_with::<Daisee::InvalidPrice>();
    mk.send(household(1), U256::ZERO, Daisee::setAskCall { weiPerWh: U256::MAX }).ok();
    mk.send(household(1), U256::ZERO, Daisee::setBidCall { weiPerWh: max }).ok();
}

#[test]
fn a_meter_uses_one_interface_not_both() {
    let mut c = Community::new();
    c.produce(alice(), 100);
    let end = c.chain.time() - c.chain.time() % crate::community::INTERVAL;
    let out = c.report(alice(), end, 10, 0);
    assert_eq!(out.reverted_with::<Daisee::WrongInterface>().meter, alice());
    c.report(bob(), end, 10, 0).ok();
    let out = c.send(bob(), Daisee::consumeEnergyCall { energy: U256::from(1) });
    assert_eq!(out.reverted_with::<Daisee::WrongInterface>().meter, bob());
    assert_eq!(c.view(carol(), Daisee::interfaceOfCall { meter: alice() }), 1);
    assert_eq!(c.view(carol(), Daisee::interfaceOfCall { meter: bob() }), 2);
    // Re-registering a meter lets it choose again.
    c.send(OWNER, Daisee::removeMeterCall { meter: alice() }).ok();
    c.send(OWNER, Daisee::addMeterCall { meter: alice() }).ok();
    c.report(alice(), end, 10, 0).ok();
}

#[test]
fn the_2016_calls_are_bounded_per_interval_of_chain_time() {
    let mut c = Community::new();
    // 36 kW over 900 s: 9 kWh per interval, whatever the number of calls.
    for _ in 0..9 {
        c.produce(alice(), 1_000);
    }
    let out = c.send(alice(), Daisee::setProductionCall { kwh: U256::from(1) });
    let err = out.reverted_with::<Daisee::AboveCapacity>();
    assert_eq!((err.energy, err.limit), (U256::from(1), U256::ZERO));
    // Consumption has its own allowance; the next interval starts afresh.
    c.send(alice(), Daisee::consumeEnergyCall { energy: U256::from(9_000) }).ok();
    let now = c.chain.time();
    c.chain.warp(now - now % crate::community::INTERVAL + crate::community::INTERVAL);
    c.produce(alice(), 9_000);
    assert_eq!(c.net(alice()), 9_000);
}
