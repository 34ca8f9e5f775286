//! The community market from one board's side: settles finished intervals, keeps the meter's
//! escrow topped up to a configured amount, and sets its ask and bid.
//!
//! Settling is idempotent and needs no coordination: every board looks at the intervals its own
//! meter reported, and for one whose grace period is over (by the chain's clock) and not yet
//! settled it first runs `settle` as a call on the pending block; only if that succeeds does it
//! send the transaction. A call that reverts for another reason than "not yet", "already" or
//! "no readings" is an interval the community cannot settle: logged with the revert reason,
//! counted and shown (`daisee_meters`, the dashboard), never skipped silently. The first one mined
//! wins; another board's transaction in the same block reverts with `AlreadySettled` (its gas is
//! the only cost), and from the next head on every board sees the interval done. Nothing is kept
//! on disk: after a restart the same look-back finds whatever is still unsettled.

use super::ledger::{Ledger, TxStatus};
use super::sender::sign_call;
use crate::primitives::{Address, Bytes, PrivateKey, B256, U256};
use alloy_sol_types::{SolCall, SolInterface};
use daisee_contracts::Daisee;
use serde::Serialize;

/// How many of the meter's past intervals are checked for settlement (a board that was away
/// longer leaves the older ones to the others).
pub const LOOK_BACK: u64 = 12;
/// Gas for `settle`: a base plus each meter that takes part, the contract's own bounds
/// (`SETTLE_GAS_BASE`, `SETTLE_GAS_PER_METER`, measured in evm-contracts/tests/it/gas.rs), so
/// the transaction for `settleCapacity()` meters fits the block.
const SETTLE_GAS_BASE: u64 = 250_000;
const SETTLE_GAS_PER_METER: u64 = 45_000;
/// The meters one `settle` takes on a contract from before `settleCapacity()`.
const LEGACY_SETTLE_METERS: u64 = 100;
/// Chain seconds between one wave of meters' turn to settle an interval and the next. The
/// meters that reported it are drawn in an order from their address and the interval; the first
/// goes at once, then waves of 2, 4, 8… (place `p` waits `log2(p + 1)` turns). So a town of
/// 1,000 meters sends a few `settle`s per interval rather than 1,000 (each pre-run as a call of a
/// whole interval's work), and the wait is bounded by `log2(meters)` turns however few of the
/// meters run an agent (a household without a board of its own has none): a board that is away
/// or cannot pay is covered by the next wave, seconds later.
const TURN_S: u64 = 2;
/// Gas for a deposit or a price change.
const SMALL_GAS: u64 = 120_000;
/// How often the agent looks (wall clock, ms).
const EVERY_MS: u64 = 1_000;
/// How long it waits after a failure (an empty account, a node that refuses), so a board that
/// cannot pay does not fill its log every second.
const BACK_OFF_MS: u64 = 30_000;
/// A transaction still unknown after this long is forgotten (and tried again if still needed).
const FORGET_MS: u64 = 30_000;

/// What a board does in the market.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarketSpec {
    /// Keep the meter's escrow at this many wei (topped up when below half); zero: never deposit.
    pub escrow_wei: U256,
    /// The meter's ask (wei per Wh), if it has one.
    pub ask: Option<U256>,
    /// The meter's bid (wei per Wh), if it has one.
    pub bid: Option<U256>,
}

/// What the agent did, for RPC (`daisee_meters`) and logs.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketCounters {
    /// Intervals this board settled.
    pub settled: u64,
    /// The last interval this board settled.
    pub last_settled_interval: u64,
    /// Deposits made to keep the escrow up.
    pub deposits: u64,
    /// The meter's escrow at the last look (wei, decimal).
    pub escrow: String,
    /// The last failure.
    pub market_error: Option<String>,
    /// Intervals this board found it could not settle (`settle` reverts for them).
    pub unsettleable: u64,
    /// The last of them, with the revert reason.
    pub last_unsettleable: Option<Unsettleable>,
}

/// An interval `settle` reverts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unsettleable {
    /// The interval's end (unix s).
    pub interval_end: u64,
    /// Why, decoded from the contract's errors when it can be.
    pub reason: String,
}

/// How many unsettleable intervals are remembered, so each is counted and logged once.
const REMEMBERED: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    Settle(u64),
    Deposit,
    Prices,
}

/// One meter's market agent.
pub struct MarketAgent {
    spec: MarketSpec,
    interval_s: u64,
    in_flight: Vec<(Job, B256, u64)>,
    unsettleable: std::collections::VecDeque<u64>,
    prices_done: bool,
    next_ms: u64,
    /// Counters.
    pub counters: MarketCounters,
}

impl MarketAgent {
    /// An agent for a meter reporting every `interval_s` seconds.
    pub fn new(spec: MarketSpec, interval_s: u64) -> Self {
        Self {
            spec,
            interval_s: interval_s.max(1),
            in_flight: Vec::new(),
            unsettleable: std::collections::VecDeque::new(),
            prices_done: false,
            next_ms: 0,
            counters: MarketCounters::default(),
        }
    }

    /// One look at the market (at most every second); `now_ms` is the wall clock.
    pub fn step(&mut self, ledger: &dyn Ledger, key: &PrivateKey, contract: Address, now_ms: u64) {
        if now_ms < self.next_ms {
            return;
        }
        self.next_ms = now_ms + EVERY_MS;
        let me = key.address();
        let market = Market { ledger, me, contract };
        self.watch(ledger, now_ms);
        let result = (|| {
            if !self.prices_done && !self.busy(Job::Prices) {
                self.set_prices(&market, key, now_ms)?;
            }
            let escrow = market.view(Daisee::escrowOfCall { account: me })?;
            self.counters.escrow = escrow.to_string();
            if !self.spec.escrow_wei.is_zero()
                && escrow < self.spec.escrow_wei / U256::from(2)
                && !self.busy(Job::Deposit)
            {
                let top_up = self.spec.escrow_wei - escrow;
                let input = Daisee::depositCall {}.abi_encode().into();
                self.send(&market, key, Job::Deposit, input, top_up, SMALL_GAS, now_ms)?;
            }
            self.settle_one(&market, key, now_ms)
        })();
        if let Err(e) = result {
            tracing::warn!(target: "daisee::meter", meter = %me, "market: {e} (next try in 30 s)");
            self.counters.market_error = Some(e);
            self.next_ms = now_ms + BACK_OFF_MS;
        }
    }

    /// Settles the newest unsettled interval past its grace period the meter reported, if any.
    fn settle_one(&mut self, m: &Market<'_>, key: &PrivateKey, now_ms: u64) -> Result<(), String> {
        let last = m.view(Daisee::lastIntervalOfCall { meter: m.me })?;
        // The chain's clock, read once a look (over `--meter-target` it is a request).
        let mut chain_now = None;
        for k in 0..LOOK_BACK {
            let Some(end) = last.checked_sub(k * self.interval_s).filter(|e| *e > 0) else {
                break;
            };
            if self.busy(Job::Settle(end)) || self.unsettleable.contains(&end) {
                continue;
            }
            if m.view(Daisee::isSettledCall { intervalEnd: end })? {
                continue;
            }
            let meters = m.view(Daisee::intervalMeterCountCall { intervalEnd: end })?;
            if meters.is_zero() {
                continue;
            }
            let count = u64::try_from(meters).unwrap_or(u64::MAX);
            let opens = m.view(Daisee::settlesFromCall { intervalEnd: end })?;
            let opens = u64::try_from(opens).unwrap_or(u64::MAX);
            let now = match chain_now {
                Some(now) => now,
                None => {
                    let now =
                        m.ledger.head_time().map_err(|e| format!("the chain's clock: {e}"))?;
                    *chain_now.insert(now)
                }
            };
            if now < opens.saturating_add(turn(m.me, end, count)) {
                continue;
            }
            let input: Bytes = Daisee::settleCall { intervalEnd: end }.abi_encode().into();
            match m.ledger.call(m.me, m.contract, input.clone()) {
                Ok((true, _)) => {}
                Ok((false, out)) => {
                    if let Some(reason) = cannot_settle(&out) {
                        self.record_unsettleable(m.me, end, reason);
                    }
                    continue;
                }
                Err(e) => return Err(format!("settle({end}): {e}")),
            }
            let capacity = m
                .view(Daisee::settleCapacityCall {})
                .map_or(LEGACY_SETTLE_METERS, |c| u64::try_from(c).unwrap_or(u64::MAX));
            let gas = SETTLE_GAS_BASE + SETTLE_GAS_PER_METER * count.min(capacity);
            return self.send(m, key, Job::Settle(end), input, U256::ZERO, gas, now_ms);
        }
        Ok(())
    }

    /// Records an interval `settle` reverts for: logged and counted once.
    fn record_unsettleable(&mut self, me: Address, end: u64, reason: String) {
        tracing::warn!(target: "daisee::meter", meter = %me, interval_end = end, "the interval cannot be settled: {reason}");
        metrics::counter!("daisee_market_unsettleable_total").increment(1);
        self.counters.unsettleable += 1;
        self.counters.last_unsettleable = Some(Unsettleable { interval_end: end, reason });
        if self.unsettleable.len() == REMEMBERED {
            self.unsettleable.pop_front();
        }
        self.unsettleable.push_back(end);
    }

    fn set_prices(&mut self, m: &Market<'_>, key: &PrivateKey, now_ms: u64) -> Result<(), String> {
        if let Some(ask) = self.spec.ask {
            if m.view(Daisee::askOfCall { account: m.me })? != ask {
                let input = Daisee::setAskCall { weiPerWh: ask }.abi_encode().into();
                self.send(m, key, Job::Prices, input, U256::ZERO, SMALL_GAS, now_ms)?;
            }
        }
        if let Some(bid) = self.spec.bid {
            if m.view(Daisee::bidOfCall { account: m.me })? != bid {
                let input = Daisee::setBidCall { weiPerWh: bid }.abi_encode().into();
                self.send(m, key, Job::Prices, input, U256::ZERO, SMALL_GAS, now_ms)?;
            }
        }
        self.prices_done = true;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        m: &Market<'_>,
        key: &PrivateKey,
        job: Job,
        input: Bytes,
        value: U256,
        gas: u64,
        now_ms: u64,
    ) -> Result<(), String> {
        let tx =
            sign_call(m.ledger, key, m.contract, input, value, gas).map_err(|e| e.to_string())?;
        m.ledger.send(tx.encoded()).map_err(|e| format!("{job:?} refused: {e:?}"))?;
        tracing::debug!(target: "daisee::meter", meter = %m.me, ?job, tx = %tx.hash(), "market transaction sent");
        self.in_flight.push((job, tx.hash(), now_ms));
        Ok(())
    }

    fn busy(&self, job: Job) -> bool {
        self.in_flight.iter().any(|(j, _, _)| *j == job)
    }

    /// Follows the transactions sent: counts the mined ones, forgets the lost ones.
    fn watch(&mut self, ledger: &dyn Ledger, now_ms: u64) {
        let mut still = Vec::new();
        for (job, hash, sent) in std::mem::take(&mut self.in_flight) {
            match ledger.status(&hash) {
                Ok(TxStatus::Included { success, .. }) => match (job, success) {
                    (Job::Settle(end), true) => {
                        self.counters.settled += 1;
                        self.counters.last_settled_interval = end;
                        tracing::info!(target: "daisee::meter", interval_end = end, "settled");
                    }
                    (Job::Deposit, true) => self.counters.deposits += 1,
                    (Job::Settle(end), false) => {
                        tracing::debug!(target: "daisee::meter", interval_end = end, "another board settled it first");
                    }
                    (job, false) => {
                        self.counters.market_error = Some(format!("{job:?} reverted"));
                    }
                    _ => {}
                },
                Ok(TxStatus::Pending) => still.push((job, hash, sent)),
                Ok(TxStatus::Unknown) | Err(_) if now_ms.saturating_sub(sent) > FORGET_MS => {
                    if job == Job::Prices {
                        self.prices_done = false;
                    }
                }
                _ => still.push((job, hash, sent)),
            }
        }
        self.in_flight = still;
    }
}

/// When (in chain seconds after its grace period) `me` may settle `end`, of `meters` that
/// reported it: its place in a draw from `keccak256(me, end)`, waves doubling each `TURN_S`.
fn turn(me: Address, end: u64, meters: u64) -> u64 {
    let mut seed = [0u8; 28];
    seed[..20].copy_from_slice(me.as_slice());
    seed[20..].copy_from_slice(&end.to_be_bytes());
    let draw = crate::primitives::keccak256(seed);
    let place = u64::from_be_bytes(draw[..8].try_into().expect("8 bytes")) % meters.max(1);
    u64::from((place + 1).ilog2()) * TURN_S
}

/// Why `settle` reverted, unless it is one of the normal answers: not over yet, settled already
/// (another board was first), or nobody reported the interval.
pub(crate) fn cannot_settle(revert: &[u8]) -> Option<String> {
    match Daisee::DaiseeErrors::abi_decode(revert) {
        Ok(
            Daisee::DaiseeErrors::IntervalOpen(_)
            | Daisee::DaiseeErrors::AlreadySettled(_)
            | Daisee::DaiseeErrors::NoReadings(_),
        ) => None,
        Ok(other) => Some(format!("{other:?}")),
        Err(_) => Some(decode_panic(revert)),
    }
}

/// A Solidity `Panic(uint256)` or `Error(string)` in words, else the revert data in hex.
fn decode_panic(revert: &[u8]) -> String {
    use alloy_sol_types::{Panic, Revert, SolError};
    if let Ok(p) = Panic::abi_decode(revert) {
        return format!("Panic(0x{:x}): {}", p.code, p.kind().map_or("unknown", |k| k.as_str()));
    }
    if let Ok(r) = Revert::abi_decode(revert) {
        return r.reason;
    }
    if revert.is_empty() {
        return "reverted without a reason (out of gas?)".into();
    }
    format!("revert data 0x{}", hex::encode(revert))
}

/// Views of the contract for one meter.
struct Market<'a> {
    ledger: &'a dyn Ledger,
    me: Address,
    contract: Address,
}

impl Market<'_> {
    fn view<C: SolCall>(&self, call: C) -> Result<C::Return, String> {
        let name = C::SIGNATURE;
        match self.ledger.call(self.me, self.contract, call.abi_encode().into()) {
            Ok((true, out)) => C::abi_decode_returns(&out).map_err(|e| format!("{name}: {e}")),
            Ok((false, _)) => Err(format!("{name} reverted")),
            Err(e) => Err(format!("{name}: {e}")),
        }
    }
}

#[cfg(test)]
mod turn_tests {
    use super::*;

    #[test]
    fn a_thousand_meters_go_in_doubling_waves_and_a_lone_meter_goes_at_once() {
        let end = 1_800_000_000;
        let meter = |i: u16| Address::left_padding_from(&i.to_be_bytes());
        let turns: Vec<u64> = (1..=1000).map(|i| turn(meter(i), end, 1000)).collect();
        // Nobody waits more than log2(1000) = 9 turns.
        assert!(turns.iter().all(|t| *t <= 9 * TURN_S), "{:?}", turns.iter().max());
        // About 1 + 2 + 4 meters in the first three waves: a few settles, not a thousand.
        let early = turns.iter().filter(|t| **t < 3 * TURN_S).count();
        assert!((1..=20).contains(&early), "{early} early turns");
        let next: Vec<u64> = (1..=1000).map(|i| turn(meter(i), end + 900, 1000)).collect();
        assert_ne!(turns, next, "another interval, another order");
        assert_eq!(turn(meter(7), end, 1), 0);
        assert_eq!(turn(meter(7), end, 0), 0);
    }

    #[test]
    fn a_few_agents_among_many_meters_settle_within_log2_of_the_meters() {
        // 8 boards run an agent for 100 reporting meters (the others have no board): with one
        // turn per place, 1 interval in 10 waited over 25 s for its first agent.
        let meter = |i: u16| Address::left_padding_from(&i.to_be_bytes());
        for end in (0..1000u64).map(|k| 1_800_000_000 + 20 * k) {
            let first = (1..=8).map(|i| turn(meter(i), end, 100)).min().unwrap();
            assert!(first <= 6 * TURN_S, "interval {end}: first agent after {first} s");
        }
    }
}
