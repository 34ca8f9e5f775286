//! Settlement under random households, readings, limit prices and escrow (proptest): energy and
//! ether are conserved, nobody pays above its bid or sells below its ask, no surplus or deficit
//! crosses zero, nobody gets more than it offered, and no unmatched seller could still have sold
//! to an unmatched buyer (the volume is the largest the prices allow) — with a dozen households,
//! and with a town's thousand in one settlement.

use crate::market::{household, Market, INTERVAL};
use alloy_primitives::{Address, U256};
use daisee_contracts::Daisee;
use proptest::prelude::*;
use std::collections::HashMap;

const T: u64 = 1_800_000_000;
const RATE: u64 = 20;
/// Limit prices drawn from (0 = the rate).
const PRICES: [u64; 6] = [0, 5, 15, 20, 25, 35];

#[derive(Debug, Clone)]
struct Home {
    first: (u64, u64),
    second: (u64, u64),
    ask: u64,
    bid: u64,
    escrow: u64,
}

fn home() -> impl Strategy<Value = Home> {
    (
        (0u64..500, 0u64..500),
        (0u64..500, 0u64..500),
        prop::sample::select(PRICES.to_vec()),
        prop::sample::select(PRICES.to_vec()),
        0u64..20_000,
    )
        .prop_map(|(first, second, ask, bid, escrow)| Home { first, second, ask, bid, escrow })
}

/// What each household could trade in the interval: (offer, need, ask, bid).
fn book(mk: &mut Market, homes: &[Home], reading: impl Fn(&Home) -> (u64, u64)) -> Vec<[u128; 4]> {
    homes
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let who = household(i + 1);
            let (p, c) = reading(h);
            let net = mk.net(who);
            let escrow = u128::try_from(mk.escrow(who)).expect("small escrow");
            let ask = u128::from(if h.ask == 0 { RATE } else { h.ask });
            let bid = u128::from(if h.bid == 0 { RATE } else { h.bid });
            let offer = if p > c && net > 0 { u128::from(p - c).min(net as u128) } else { 0 };
            let need = if c > p && net < 0 {
                u128::from(c - p).min(net.unsigned_abs()).min(escrow / bid)
            } else {
                0
            };
            [offer, need, ask, bid]
        })
        .collect()
}

fn check(mk: &mut Market, homes: &[Home], end: u64, reading: impl Fn(&Home) -> (u64, u64)) {
    let orders = book(mk, homes, reading);
    let who: Vec<Address> = (1..=homes.len()).map(household).collect();
    let nets: Vec<i128> = who.iter().map(|a| mk.net(*a)).collect();
    let escrows: Vec<U256> = who.iter().map(|a| mk.escrow(*a)).collect();
    let held = mk.chain.balance(mk.daisee);
    let s = mk.settle(end);
    assert_eq!(s.skipped, 0, "every household took part");
    let index: HashMap<Address, usize> = who.iter().enumerate().map(|(i, a)| (*a, i)).collect();
    let (mut sold, mut bought) = (vec![0u128; who.len()], vec![0u128; who.len()]);
    let (mut received, mut paid) = (vec![U256::ZERO; who.len()], vec![U256::ZERO; who.len()]);
    for m in &s.matches {
        let (i, j) = (index[&m.seller], index[&m.buyer]);
        assert_eq!(m.paid, U256::from(m.energy) * s.price, "one price for every Wh");
        assert!(s.price >= U256::from(orders[i][2]), "a seller got less than its ask");
        assert!(s.price <= U256::from(orders[j][3]), "a buyer paid more than its bid");
        sold[i] += m.energy;
        bought[j] += m.energy;
        received[i] += m.paid;
        paid[j] += m.paid;
    }
    assert_eq!(sold.iter().sum::<u128>(), s.volume, "Wh sold = volume");
    assert_eq!(bought.iter().sum::<u128>(), s.volume, "Wh bought = volume");
    assert_eq!(received.iter().sum::<U256>(), paid.iter().sum::<U256>(), "ether conserved");
    assert_eq!(mk.chain.balance(mk.daisee), held, "no ether in or out");
    for i in 0..who.len() {
        assert!(sold[i] <= orders[i][0] && bought[i] <= orders[i][1], "beyond its offer or need");
        let net = mk.net(who[i]);
        assert_eq!(net, nets[i] - sold[i] as i128 + bought[i] as i128, "net moved by the trades");
        if sold[i] > 0 {
            assert!(net >= 0, "a surplus went negative");
        }
        if bought[i] > 0 {
            assert!(net <= 0, "a deficit went positive");
        }
        assert_eq!(
            mk.escrow(who[i]),
            escrows[i] + received[i] - paid[i],
            "escrow moved by the trades"
        );
    }
    for i in 0..who.len() {
        for j in 0..who.len() {
            let seller_left = sold[i] < orders[i][0];
            let buyer_left = bought[j] < orders[j][1];
            assert!(
                !(seller_left && buyer_left && orders[i][2] <= orders[j][3]),
                "household {} could still sell to {} (ask {} <= bid {})",
                i + 1,
                j + 1,
                orders[i][2],
                orders[j][3]
            );
        }
    }
}

/// The households with their prices and escrow, their first readings reported and the
/// interval closed.
fn first_interval(homes: &[Home]) -> Market {
    let mut mk = Market::new(homes.len(), RATE);
    for (i, h) in homes.iter().enumerate() {
        let who = household(i + 1);
        mk.prices(who, h.ask, h.bid);
        mk.deposit(who, U256::from(h.escrow));
        mk.report(who, T, h.first.0, h.first.1);
    }
    mk.close(T);
    mk
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn settlement_conserves_and_respects_every_limit(homes in prop::collection::vec(home(), 1..12)) {
        let mut mk = first_interval(&homes);
        check(&mut mk, &homes, T, |h| h.first);
        for (i, h) in homes.iter().enumerate() {
            mk.report(household(i + 1), T + INTERVAL, h.second.0, h.second.1);
        }
        mk.report(crate::market::CLOCK, T + 2 * INTERVAL, 0, 0);
        check(&mut mk, &homes, T + INTERVAL, |h| h.second);
        let again = mk.send(household(1), U256::ZERO, Daisee::settleCall { intervalEnd: T });
        again.reverted_with::<Daisee::AlreadySettled>();
    }
}

/// The community genesis' block gas limit (`daisee community`), under which 2,216 meters settle.
const TOWN_GAS_LIMIT: u64 = 100_000_000;

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, max_shrink_iters: 8, failure_persistence: None, ..ProptestConfig::default() })]

    /// A town: 1,000 households report the same interval and every one takes part in its
    /// settlement, in one transaction of one block, with the same guarantees.
    #[test]
    fn a_thousand_households_settle_in_one_block(homes in prop::collection::vec(home(), 1000)) {
        let mut mk = first_interval(&homes);
        mk.chain.set_gas_limit(TOWN_GAS_LIMIT);
        let capacity = mk.view(Daisee::settleCapacityCall {});
        prop_assert!(capacity >= U256::from(homes.len()));
        check(&mut mk, &homes, T, |h| h.first);
    }
}

/// What an adversarial meter tries around its honest reading.
#[derive(Debug, Clone, Copy)]
enum Attack {
    /// A reading beyond its capacity (up to 2^48 - 1 Wh), before the honest one.
    Huge(u64),
    /// A reading for an interval not over yet (up to the end of time).
    FarFuture(u64),
    /// Its ask and bid changed between its reading and settlement.
    Reprice(u64, u64),
    /// The 2016 call with an absurd consumption.
    LegacyFlood,
}

fn attack() -> impl Strategy<Value = Option<Attack>> {
    prop_oneof![
        2 => Just(None),
        1 => (3_001u64..(1 << 48)).prop_map(|wh| Some(Attack::Huge(wh))),
        1 => (1u64..(u64::MAX - T) / INTERVAL).prop_map(|k| Some(Attack::FarFuture(k))),
        1 => (prop::sample::select(PRICES.to_vec()), prop::sample::select(PRICES.to_vec()))
            .prop_map(|(a, b)| Some(Attack::Reprice(a, b))),
        1 => Just(Some(Attack::LegacyFlood)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// The same guarantees with adversarial meters among the households: every attack is
    /// refused or has no effect on the market, and the honest clearing is unchanged.
    #[test]
    fn adversarial_meters_change_nothing_for_the_others(
        homes in prop::collection::vec(home(), 1..10),
        attacks in prop::collection::vec(attack(), 10),
    ) {
        let mut mk = Market::new(homes.len(), RATE);
        for (i, h) in homes.iter().enumerate() {
            let who = household(i + 1);
            mk.prices(who, h.ask, h.bid);
            mk.deposit(who, U256::from(h.escrow));
            mk.chain.warp(T);
            let reading = |end: u64, wh: u64| Daisee::reportReadingCall {
                intervalEnd: end, producedWh: U256::from(wh), consumedWh: U256::ZERO,
            };
            match attacks[i] {
                Some(Attack::Huge(wh)) => {
                    mk.send(who, U256::ZERO, reading(T, wh)).reverted_with::<Daisee::AboveCapacity>();
                }
                Some(Attack::FarFuture(k)) => {
                    let end = T + k * INTERVAL;
                    mk.send(who, U256::ZERO, reading(end, 0)).reverted_with::<Daisee::IntervalNotOver>();
                }
                Some(Attack::LegacyFlood) => {
                    let flood = Daisee::consumeEnergyCall { energy: U256::MAX >> 1 };
                    let out = mk.send(who, U256::ZERO, flood);
                    prop_assert!(!out.success);
                }
                _ => {}
            }
            mk.report(who, T, h.first.0, h.first.1);
            if let Some(Attack::Reprice(ask, bid)) = attacks[i] {
                mk.prices(who, ask, bid);
            }
        }
        mk.close(T);
        check(&mut mk, &homes, T, |h| h.first);
    }
}
