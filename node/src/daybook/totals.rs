//! One household's (or the whole community's) day: energy produced and consumed, energy sold and
//! bought and the ether it moved, and how many readings and trades made it.

use super::entries::{put_u256, Malformed, Reader};
use crate::primitives::U256;
use serde::Serialize;

/// A day's totals. For the community, every trade counts on both sides (sold = bought = traded).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayTotals {
    /// Produced, Wh.
    pub produced_wh: U256,
    /// Consumed, Wh.
    pub consumed_wh: U256,
    /// Readings reported.
    pub readings: u64,
    /// Sold, Wh.
    pub sold_wh: U256,
    /// Received for it, wei.
    pub sold_wei: U256,
    /// Bought, Wh.
    pub bought_wh: U256,
    /// Paid for it, wei.
    pub bought_wei: U256,
    /// Trades (sales and purchases).
    pub trades: u64,
}

impl DayTotals {
    /// Adds `other` (`sign` true) or takes it away (a block leaving the chain).
    pub fn merge(&mut self, other: &DayTotals, sign: bool) {
        let f = |a: &mut U256, b: &U256| {
            *a = if sign { a.saturating_add(*b) } else { a.saturating_sub(*b) };
        };
        f(&mut self.produced_wh, &other.produced_wh);
        f(&mut self.consumed_wh, &other.consumed_wh);
        f(&mut self.sold_wh, &other.sold_wh);
        f(&mut self.sold_wei, &other.sold_wei);
        f(&mut self.bought_wh, &other.bought_wh);
        f(&mut self.bought_wei, &other.bought_wei);
        let g =
            |a: &mut u64, b: u64| *a = if sign { a.saturating_add(b) } else { a.saturating_sub(b) };
        g(&mut self.readings, other.readings);
        g(&mut self.trades, other.trades);
    }

    /// Nothing happened.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        for v in [&self.produced_wh, &self.consumed_wh, &self.sold_wh, &self.sold_wei] {
            put_u256(&mut out, v);
        }
        for v in [&self.bought_wh, &self.bought_wei] {
            put_u256(&mut out, v);
        }
        out.extend_from_slice(&self.readings.to_be_bytes());
        out.extend_from_slice(&self.trades.to_be_bytes());
        out
    }

    /// Reads the stored form.
    pub fn decode(bytes: &[u8]) -> Result<Self, Malformed> {
        let mut r = Reader(bytes);
        let totals = Self {
            produced_wh: r.u256()?,
            consumed_wh: r.u256()?,
            sold_wh: r.u256()?,
            sold_wei: r.u256()?,
            bought_wh: r.u256()?,
            bought_wei: r.u256()?,
            readings: r.u64()?,
            trades: r.u64()?,
        };
        if r.0.is_empty() {
            Ok(totals)
        } else {
            Err(Malformed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_round_trip_and_a_block_taken_away_leaves_what_was_there() {
        let a = DayTotals {
            produced_wh: U256::from(1200),
            consumed_wh: U256::from(300),
            readings: 2,
            sold_wh: U256::from(100),
            sold_wei: U256::from(1_500_000_000_000_000u64),
            bought_wh: U256::ZERO,
            bought_wei: U256::ZERO,
            trades: 1,
        };
        assert_eq!(DayTotals::decode(&a.encode()).expect("decodes"), a);
        let mut sum = a.clone();
        sum.merge(&a, true);
        sum.merge(&a, false);
        assert_eq!(sum, a);
        sum.merge(&a, false);
        assert!(sum.is_empty());
        assert!(DayTotals::decode(&a.encode()[..5]).is_err());
    }
}
