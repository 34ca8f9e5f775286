//! `settle` in revm: the fixed-rate (pro-rata) answer, a merit-order example worked by hand,
//! conservation of energy and ether, and every edge: a second settle, short escrow, no sellers,
//! no buyers, a one-sided market, equal prices, open intervals, late readings, withdrawals.

use crate::market::{household, outsider, Market, Match, INTERVAL};
use alloy_primitives::U256;
use daisee_contracts::{Daisee, DEFAULT_RATE_WEI_PER_WH};

const T: u64 = 1_800_000_000;
const RATE: u64 = DEFAULT_RATE_WEI_PER_WH;

fn wei(n: u64) -> U256 {
    U256::from(n)
}

fn m(seller: usize, buyer: usize, energy: u128, price: u64) -> Match {
    Match {
        seller: household(seller),
        buyer: household(buyer),
        energy,
        paid: U256::from(energy) * U256::from(price),
    }
}

#[test]
fn at_one_rate_the_short_side_is_served_in_full_and_the_long_side_pro_rata() {
    // Sellers 1 and 2 have 300 and 100 Wh to spare, buyers 3 and 4 lack 150 and 50: demand
    // (200) is short, so it is served in full and supply shares it 3:1 — 150 and 50 Wh.
    let mut mk = Market::new(4, 0);
    mk.report(household(1), T, 300, 0);
    mk.report(household(2), T, 100, 0);
    mk.report(household(3), T, 0, 150);
    mk.report(household(4), T, 0, 50);
    for b in [3, 4] {
        mk.deposit(household(b), wei(1000 * RATE));
    }
    mk.close(T);
    let s = mk.settle(T);
    assert_eq!((s.price, s.volume, s.sellers, s.buyers, s.skipped), (wei(RATE), 200, 2, 2, 0));
    assert_eq!(s.matches, vec![m(1, 3, 150, RATE), m(2, 4, 50, RATE)]);
    assert_eq!([mk.net(household(1)), mk.net(household(2))], [150, 50]);
    assert_eq!([mk.net(household(3)), mk.net(household(4))], [0, 0]);
    assert_eq!(mk.escrow(household(1)), wei(150 * RATE));
    assert_eq!(mk.escrow(household(2)), wei(50 * RATE));
    assert_eq!(mk.escrow(household(3)), wei(850 * RATE));
    assert_eq!(mk.escrow(household(4)), wei(950 * RATE));
}

#[test]
fn at_one_rate_a_short_supply_is_shared_among_buyers_pro_rata_with_whole_wh() {
    // 100 Wh for deficits of 200, 100 and 1: shares 100*200/301 = 66, 33 and 0 (99 Wh), the
    // leftover Wh to the first buyer in reporting order: 67, 33, 0.
    let mut mk = Market::new(4, 0);
    mk.report(household(1), T, 100, 0);
    mk.report(household(2), T, 0, 200);
    mk.report(household(3), T, 0, 100);
    mk.report(household(4), T, 0, 1);
    for b in [2, 3, 4] {
        mk.deposit(household(b), wei(1000 * RATE));
    }
    mk.close(T);
    let s = mk.settle(T);
    assert_eq!((s.volume, s.sellers, s.buyers), (100, 1, 2));
    assert_eq!(s.matches, vec![m(1, 2, 67, RATE), m(1, 3, 33, RATE)]);
    assert_eq!(mk.net(household(1)), 0);
    assert_eq!([mk.net(household(2)), mk.net(household(3)), mk.net(household(4))], [-133, -67, -1]);
}

#[test]
fn limit_prices_clear_in_merit_order_at_the_midpoint_of_the_marginal_pair() {
    // Worked by hand (prices in wei per Wh):
    //   asks: S1 10 × 100 Wh, S2 20 × 100, S3 40 × 100       bids: B1 50 × 120, B2 30 × 60, B3 15 × 100
    //   S1–B1 100 (10 ≤ 50), S2–B1 20 (20 ≤ 50), S2–B2 60 (20 ≤ 30), then S2 20 > B3 15: stop.
    //   Volume 180; marginal pair (20, 30); price 25.
    //   Sellers: S1 (ask < 20) all 100; S2 (= 20) the rest, 80; S3 none.
    //   Buyers: B1 (bid > 30) all 120; B2 (= 30) the rest, 60; B3 none.
    //   Payments at 25: B1 3,000, B2 1,500 = S1 2,500 + S2 2,000.
    let mut mk = Market::new(6, 0);
    for (i, ask) in [(1, 10), (2, 20), (3, 40)] {
        mk.prices(household(i), ask, 0);
        mk.report(household(i), T, 100, 0);
    }
    for (i, bid, need) in [(4, 50, 120), (5, 30, 60), (6, 15, 100)] {
        mk.prices(household(i), 0, bid);
        mk.report(household(i), T, 0, need);
        mk.deposit(household(i), wei(10_000));
    }
    mk.close(T);
    let s = mk.settle(T);
    assert_eq!((s.price, s.volume, s.sellers, s.buyers), (wei(25), 180, 2, 2));
    assert_eq!(s.matches, vec![m(1, 4, 100, 25), m(2, 4, 20, 25), m(2, 5, 60, 25)]);
    let escrow: Vec<U256> = (1..=6).map(|i| mk.escrow(household(i))).collect();
    let expected = [2_500, 2_000, 0, 7_000, 8_500, 10_000].map(wei);
    assert_eq!(escrow, expected);
    let nets: Vec<i128> = (1..=6).map(|i| mk.net(household(i))).collect();
    assert_eq!(nets, vec![0, 20, 100, 0, 0, -100]);
}

#[test]
fn energy_and_ether_are_conserved() {
    let mut mk = Market::new(5, 0);
    mk.report(household(1), T, 400, 30);
    mk.report(household(2), T, 90, 10);
    mk.report(household(3), T, 0, 170);
    mk.report(household(4), T, 20, 300);
    mk.report(household(5), T, 0, 0);
    for b in [3, 4] {
        mk.deposit(household(b), wei(10_000 * RATE));
    }
    let contract_before = mk.chain.balance(mk.daisee);
    mk.close(T);
    let s = mk.settle(T);
    let sold: u128 = s.matches.iter().map(|x| x.energy).sum();
    assert_eq!(sold, s.volume);
    let paid: U256 = s.matches.iter().map(|x| x.paid).sum();
    let proceeds = mk.escrow(household(1)) + mk.escrow(household(2));
    let spent = wei(20_000 * RATE) - mk.escrow(household(3)) - mk.escrow(household(4));
    assert_eq!((paid, proceeds), (spent, spent), "buyers paid exactly what sellers received");
    assert_eq!(mk.chain.balance(mk.daisee), contract_before, "no ether entered or left");
    let total: i128 = (1..=5).map(|i| mk.net(household(i))).sum();
    assert_eq!(total, 400 + 90 + 20 - 30 - 10 - 170 - 300, "energy only moved");
}

#[test]
fn an_interval_settles_once_and_only_when_it_is_over() {
    let mut mk = Market::new(2, 0);
    mk.report(household(1), T, 100, 0);
    mk.report(household(2), T, 0, 100);
    let open = mk.send(household(2), U256::ZERO, Daisee::settleCall { intervalEnd: T });
    let err = open.reverted_with::<Daisee::IntervalOpen>();
    assert_eq!((err.intervalEnd, err.settlesFrom), (T, U256::from(T + INTERVAL)));
    mk.close(T);
    let empty = mk.send(outsider(), U256::ZERO, Daisee::settleCall { intervalEnd: T - INTERVAL });
    assert_eq!(empty.reverted_with::<Daisee::NoReadings>().intervalEnd, T - INTERVAL);
    mk.settle(T);
    assert!(mk.view(Daisee::isSettledCall { intervalEnd: T }));
    let again = mk.send(outsider(), U256::ZERO, Daisee::settleCall { intervalEnd: T });
    assert_eq!(again.reverted_with::<Daisee::AlreadySettled>().intervalEnd, T);
}

#[test]
fn a_buyer_with_short_escrow_is_matched_only_for_what_it_can_pay() {
    let mut mk = Market::new(2, 0);
    mk.report(household(1), T, 500, 0);
    mk.report(household(2), T, 0, 300);
    mk.deposit(household(2), wei(40 * RATE + 7));
    mk.close(T);
    let s = mk.settle(T);
    assert_eq!(s.matches, vec![m(1, 2, 40, RATE)]);
    assert_eq!(mk.escrow(household(2)), wei(7));
    assert_eq!(mk.net(household(2)), -260, "the rest comes from the grid");
}

#[test]
fn a_buyer_without_escrow_buys_nothing() {
    let mut mk = Market::new(2, 0);
    mk.report(household(1), T, 500, 0);
    mk.report(household(2), T, 0, 300);
    mk.close(T);
    let s = mk.settle(T);
    assert_eq!((s.volume, s.sellers, s.buyers, s.price), (0, 0, 0, U256::ZERO));
    assert!(s.matches.is_empty());
}

#[test]
fn without_sellers_or_without_buyers_nothing_clears_but_the_interval_is_settled() {
    let mut mk = Market::new(3, 0);
    mk.report(household(1), T, 0, 100);
    mk.report(household(2), T, 0, 50);
    mk.deposit(household(1), wei(1000 * RATE));
    mk.report(household(3), T + INTERVAL, 80, 0);
    mk.report(household(1), T + INTERVAL, 100, 0);
    mk.close(T + INTERVAL);
    let no_sellers = mk.settle(T);
    assert_eq!((no_sellers.volume, no_sellers.matches.len()), (0, 0));
    let no_buyers = mk.settle(T + INTERVAL);
    assert_eq!((no_buyers.volume, no_buyers.matches.len()), (0, 0));
    assert_eq!(mk.escrow(household(1)), wei(1000 * RATE));
    assert_eq!([mk.net(household(1)), mk.net(household(2)), mk.net(household(3))], [0, -50, 80]);
}

#[test]
fn when_every_ask_is_above_every_bid_nothing_clears() {
    let mut mk = Market::new(2, 0);
    mk.prices(household(1), 100, 0);
    mk.prices(household(2), 0, 99);
    mk.report(household(1), T, 500, 0);
    mk.report(household(2), T, 0, 300);
    mk.deposit(household(2), wei(1_000_000));
    mk.close(T);
    let s = mk.settle(T);
    assert_eq!((s.volume, s.price), (0, U256::ZERO));
    assert_eq!(mk.escrow(household(2)), wei(1_000_000));
}

#[test]
fn an_ask_equal_to_a_bid_clears_at_that_price() {
    let mut mk = Market::new(3, 0);
    mk.prices(household(1), 30, 0);
    mk.prices(household(2), 30, 0);
    mk.prices(household(3), 0, 30);
    mk.report(household(1), T, 60, 0);
    mk.report(household(2), T, 20, 0);
    mk.report(household(3), T, 0, 40);
    mk.deposit(household(3), wei(10_000));
    mk.close(T);
    let s = mk.settle(T);
    assert_eq!((s.price, s.volume), (wei(30), 40));
    assert_eq!(s.matches, vec![m(1, 3, 30, 30), m(2, 3, 10, 30)]);
}

#[test]
fn offers_are_bounded_by_the_balances_so_none_crosses_zero() {
    // Household 1 produced 300 Wh this interval but had sold 250 beforehand: it offers 50.
    let mut mk = Market::new(3, 0);
    mk.report(household(1), T, 300, 0);
    let pay = wei(250 * RATE);
    let buy = Daisee::buyEnergyCall { seller: household(1), energy: U256::from(250) };
    mk.send(household(3), pay, buy).ok();
    mk.report(household(2), T, 0, 200);
    mk.deposit(household(2), wei(1000 * RATE));
    mk.close(T);
    let s = mk.settle(T);
    assert_eq!(s.matches, vec![m(1, 2, 50, RATE)]);
    assert_eq!([mk.net(household(1)), mk.net(household(2))], [0, -150]);
}

#[test]
fn a_reading_after_settlement_counts_in_balances_but_not_in_that_market() {
    let mut mk = Market::new(2, 0);
    mk.report(household(1), T, 100, 0);
    mk.close(T);
    mk.settle(T);
    mk.deposit(household(2), wei(1000 * RATE));
    mk.report(household(2), T, 0, 100);
    assert_eq!(mk.view(Daisee::intervalMeterCountCall { intervalEnd: T }), U256::from(1));
    assert_eq!([mk.net(household(1)), mk.net(household(2))], [100, -100]);
}

#[test]
fn escrow_holds_deposits_and_proceeds_and_pays_them_out() {
    let mut mk = Market::new(2, 0);
    mk.report(household(1), T, 100, 0);
    mk.report(household(2), T, 0, 100);
    mk.deposit(household(2), wei(100 * RATE));
    mk.close(T);
    mk.settle(T);
    let before = mk.chain.balance(household(1));
    let too_much =
        mk.send(household(1), U256::ZERO, Daisee::withdrawCall { amount: wei(100 * RATE + 1) });
    let err = too_much.reverted_with::<Daisee::InsufficientEscrow>();
    assert_eq!((err.available, err.requested), (wei(100 * RATE), wei(100 * RATE + 1)));
    let out =
        mk.send(household(1), U256::ZERO, Daisee::withdrawCall { amount: wei(100 * RATE) }).ok();
    assert_eq!(out.events::<Daisee::Withdrawal>()[0].amount, wei(100 * RATE));
    assert_eq!(mk.chain.balance(household(1)) - before, wei(100 * RATE));
    assert_eq!(mk.escrow(household(1)), U256::ZERO);
    assert_eq!(mk.chain.balance(mk.daisee), U256::ZERO);
}
