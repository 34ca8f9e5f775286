//! A model of the community contract written from the market rules of docs/market.md, replayed over the
//! chain's events: balances from readings and purchases, escrow from deposits and withdrawals,
//! and each settlement computed here from the readings of its interval — to compare with what
//! the contract emitted and holds.

use alloy_primitives::{Address, Log, LogData, B256, U256};
use alloy_sol_types::SolEvent;
use daisee_contracts::Daisee;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One trade of a settlement: (seller, buyer, Wh, wei).
pub type Trade = (Address, Address, u128, U256);

/// The model's state.
#[derive(Default)]
pub struct Model {
    pub rate: U256,
    pub net: HashMap<Address, i128>,
    pub escrow: HashMap<Address, U256>,
    asks: HashMap<Address, U256>,
    bids: HashMap<Address, U256>,
    readings: BTreeMap<u64, Vec<(Address, u128, u128)>>,
    pub settled: HashSet<u64>,
    /// Settlements checked, with their volume (Wh).
    pub checked: Vec<(u64, u128)>,
}

struct Order {
    who: Address,
    energy: u128,
    price: U256,
    fill: u128,
}

/// A JSON-RPC log as alloy's.
pub fn to_log(v: &Value) -> Log {
    let topics: Vec<B256> = v["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().parse().unwrap())
        .collect();
    let data = hex::decode(v["data"].as_str().unwrap().trim_start_matches("0x")).unwrap();
    Log {
        address: v["address"].as_str().unwrap().parse().unwrap(),
        data: LogData::new_unchecked(topics, data.into()),
    }
}

impl Model {
    /// Replays JSON-RPC logs in chain order, one transaction's at a time.
    pub fn replay(&mut self, logs: &[Value]) {
        let mut i = 0;
        while i < logs.len() {
            let tx = &logs[i]["transactionHash"];
            let group: Vec<Log> =
                logs[i..].iter().take_while(|l| &l["transactionHash"] == tx).map(to_log).collect();
            i += group.len();
            self.apply_tx(&group);
        }
    }

    /// Replays one transaction's logs, in order; a settlement is computed and compared.
    pub fn apply_tx(&mut self, logs: &[Log]) {
        if let Some(cleared) = logs.iter().find_map(|l| Daisee::Cleared::decode_log(l).ok()) {
            let emitted: Vec<Trade> = logs
                .iter()
                .filter_map(|l| Daisee::Matched::decode_log(l).ok())
                .map(|m| (m.seller, m.buyer, u128::try_from(m.energyWh).unwrap(), m.paid))
                .collect();
            // The meters beyond the block's `settleCapacity()` take no part; these tests' chains
            // settle every meter, which the model checks.
            assert_eq!(cleared.skipped, U256::ZERO, "meters left out of {}", cleared.intervalEnd);
            let (price, expected) = self.settle(cleared.intervalEnd);
            assert_eq!(cleared.price, price, "clearing price of {}", cleared.intervalEnd);
            assert_eq!(emitted, expected, "matches of {}", cleared.intervalEnd);
            let volume: u128 = expected.iter().map(|t| t.2).sum();
            assert_eq!(cleared.volumeWh, U256::from(volume));
            self.checked.push((cleared.intervalEnd, volume));
            return;
        }
        for log in logs {
            self.apply(log);
        }
    }

    fn apply(&mut self, log: &Log) {
        if let Ok(r) = Daisee::Reading::decode_log(log) {
            let (p, c) =
                (u128::try_from(r.producedWh).unwrap(), u128::try_from(r.consumedWh).unwrap());
            *self.net.entry(r.meter).or_default() += p as i128 - c as i128;
            if !self.settled.contains(&r.intervalEnd) {
                self.readings.entry(r.intervalEnd).or_default().push((r.meter, p, c));
            }
        } else if let Ok(b) = Daisee::Buy::decode_log(log) {
            let e = i128::try_from(b.energy).unwrap();
            *self.net.entry(b.seller).or_default() -= e;
            *self.net.entry(b.buyer).or_default() += e;
        } else if let Ok(d) = Daisee::Deposit::decode_log(log) {
            *self.escrow.entry(d.account).or_default() += d.amount;
        } else if let Ok(w) = Daisee::Withdrawal::decode_log(log) {
            *self.escrow.entry(w.account).or_default() -= w.amount;
        } else if let Ok(a) = Daisee::AskChanged::decode_log(log) {
            self.asks.insert(a.account, a.ask);
        } else if let Ok(b) = Daisee::BidChanged::decode_log(log) {
            self.bids.insert(b.account, b.bid);
        } else if let Ok(r) = Daisee::RateChanged::decode_log(log) {
            self.rate = r.newRate;
        }
    }

    fn limit(&self, prices: &HashMap<Address, U256>, who: Address) -> U256 {
        prices.get(&who).copied().filter(|p| !p.is_zero()).unwrap_or(self.rate)
    }

    /// The rules of docs/market.md, step by step; applies the result and returns (price, trades).
    fn settle(&mut self, end: u64) -> (U256, Vec<Trade>) {
        self.settled.insert(end);
        let readings = self.readings.remove(&end).unwrap_or_default();
        let (mut sells, mut buys) = (Vec::new(), Vec::new());
        for &(who, p, c) in &readings {
            let net = self.net.get(&who).copied().unwrap_or_default();
            if p > c && net > 0 {
                let energy = (p - c).min(net as u128);
                sells.push(Order { who, energy, price: self.limit(&self.asks, who), fill: 0 });
            } else if c > p && net < 0 {
                let bid = self.limit(&self.bids, who);
                let mut energy = (c - p).min(net.unsigned_abs());
                if !bid.is_zero() {
                    let escrow = self.escrow.get(&who).copied().unwrap_or_default();
                    energy = energy.min(u128::try_from(escrow / bid).unwrap_or(u128::MAX));
                }
                if energy > 0 {
                    buys.push(Order { who, energy, price: bid, fill: 0 });
                }
            }
        }
        sells.sort_by_key(|o| o.price); // stable: reporting order within a price
        buys.sort_by_key(|o| std::cmp::Reverse(o.price));
        let (mut volume, mut ask, mut bid) = (0u128, U256::ZERO, U256::ZERO);
        let (mut i, mut j) = (0, 0);
        let (mut s_left, mut b_left) =
            (sells.first().map_or(0, |o| o.energy), buys.first().map_or(0, |o| o.energy));
        while i < sells.len() && j < buys.len() && sells[i].price <= buys[j].price {
            let q = s_left.min(b_left);
            volume += q;
            (ask, bid) = (sells[i].price, buys[j].price);
            s_left -= q;
            b_left -= q;
            if s_left == 0 {
                i += 1;
                s_left = sells.get(i).map_or(0, |o| o.energy);
            }
            if b_left == 0 {
                j += 1;
                b_left = buys.get(j).map_or(0, |o| o.energy);
            }
        }
        if volume == 0 {
            return (U256::ZERO, Vec::new());
        }
        let price = (ask + bid) / U256::from(2);
        allocate(&mut sells, volume, ask, |p, m| p < m);
        allocate(&mut buys, volume, bid, |p, m| p > m);
        let mut trades = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < sells.len() && j < buys.len() {
            if sells[i].fill == 0 {
                i += 1;
                continue;
            }
            if buys[j].fill == 0 {
                j += 1;
                continue;
            }
            let q = sells[i].fill.min(buys[j].fill);
            sells[i].fill -= q;
            buys[j].fill -= q;
            let paid = U256::from(q) * price;
            *self.net.entry(sells[i].who).or_default() -= q as i128;
            *self.net.entry(buys[j].who).or_default() += q as i128;
            *self.escrow.entry(buys[j].who).or_default() -= paid;
            *self.escrow.entry(sells[i].who).or_default() += paid;
            trades.push((sells[i].who, buys[j].who, q, paid));
        }
        (price, trades)
    }
}

/// Everything better than the marginal price in full, pro rata at it, leftover Wh one each.
fn allocate(orders: &mut [Order], volume: u128, marginal: U256, better: fn(U256, U256) -> bool) {
    let inside: u128 = orders.iter().filter(|o| better(o.price, marginal)).map(|o| o.energy).sum();
    let tied: u128 = orders.iter().filter(|o| o.price == marginal).map(|o| o.energy).sum();
    let rest = volume - inside;
    let mut given = 0;
    for o in orders.iter_mut() {
        if better(o.price, marginal) {
            o.fill = o.energy;
        } else if o.price == marginal {
            o.fill = o.energy * rest / tied;
            given += o.fill;
        }
    }
    let mut left = rest - given;
    for o in orders.iter_mut().filter(|o| o.price == marginal) {
        if left > 0 && o.fill < o.energy {
            o.fill += 1;
            left -= 1;
        }
    }
}
