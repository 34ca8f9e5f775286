//! A community's past sealed in seconds: households reporting every interval for weeks, purchases
//! between them and rate changes, on blocks whose timestamps lie in the past — the long chain the
//! dashboard's test runs against, and the chain the daybook is measured on.

use super::{err, BenchError};
use crate::chain::Chain;
use crate::community::DAISEE_ADDRESS;
use crate::primitives::{Bytes, PrivateKey, Transaction, TxKind, TxType, U256};
use crate::sealer::build_block;
use crate::state::Store;
use crate::txpool::PoolTx;
use alloy_sol_types::SolCall;
use daisee_contracts::Daisee;
use std::time::Instant;

/// What to seal: a sparse past, then a dense recent part ending at `end`.
#[derive(Debug, Clone)]
pub struct HistorySpec {
    /// Timestamp of the last block, unix s.
    pub end: u64,
    /// Days of sparse blocks before the dense part.
    pub sparse_days: u64,
    /// Seconds between sparse blocks.
    pub sparse_step: u64,
    /// Hours of dense blocks at the end.
    pub dense_hours: u64,
    /// Seconds between dense blocks.
    pub dense_step: u64,
    /// Seconds between two readings of a household.
    pub interval: u64,
    /// Blocks between two purchases (0: none).
    pub buy_every: u64,
    /// Rate changes (wei per Wh) and how many hours before `end` they happen.
    pub rate_changes: Vec<(u64, U256)>,
    /// Readings one block takes at most (0: all that are due); the rest wait for the next
    /// blocks, as a town's readings spread over the blocks after their interval.
    pub max_readings_per_block: usize,
}

/// What was sealed.
#[derive(Debug, Clone, Default)]
pub struct HistorySummary {
    /// Blocks sealed.
    pub blocks: u64,
    /// Readings reported.
    pub readings: u64,
    /// Purchases.
    pub purchases: u64,
    /// Wall time, s.
    pub seconds: f64,
}

/// Chain id of the transactions (the dev chain's).
const CHAIN_ID: u64 = 31337;

struct Account {
    key: PrivateKey,
    nonce: u64,
}

impl Account {
    fn send(&mut self, value: U256, input: Vec<u8>) -> Result<PoolTx, BenchError> {
        let tx = Transaction {
            tx_type: TxType::Eip1559,
            chain_id: Some(CHAIN_ID),
            nonce: self.nonce,
            max_priority_fee_per_gas: U256::from(1_000_000_000u64),
            max_fee_per_gas: U256::from(100_000_000_000u64),
            gas_limit: 300_000,
            to: TxKind::Call(DAISEE_ADDRESS),
            value,
            input: Bytes::from(input),
            access_list: vec![],
        }
        .sign(&self.key);
        self.nonce += 1;
        Ok(PoolTx::new(tx, self.key.address(), true))
    }
}

/// Household `i`'s production and consumption (Wh) in the interval ending at `end`: the first
/// produces by day (a solar curve), the second only consumes, the others do a little of both.
pub fn household_energy(i: usize, end: u64, interval: u64) -> (u64, u64) {
    let hour = (end % 86_400) / 3600;
    let sun = if (7..19).contains(&hour) { 6 - hour.abs_diff(13) } else { 0 } * interval / 300;
    let base = interval / 300;
    match i {
        0 => (sun * 12, base * 3),
        1 => (0, base * (20 + (end / interval) % 7)),
        _ => (sun * 4, base * (8 + (end / interval) % 5)),
    }
}

/// Seals `spec`'s history on the chain in `store` (its head must be older than the history):
/// `owner` signs blocks and changes the rate, `households` report and buy from one another.
pub fn seal_history(
    store: Store,
    owner: &PrivateKey,
    households: &[PrivateKey],
    spec: &HistorySpec,
) -> Result<HistorySummary, BenchError> {
    let started = Instant::now();
    let mut chain = Chain::open(store).map_err(err)?;
    let start = spec.end - spec.sparse_days * 86_400 - spec.dense_hours * 3600;
    let dense_from = spec.end - spec.dense_hours * 3600;
    let nonce =
        |k: &PrivateKey| chain.store().account(&k.address()).map(|a| a.map_or(0, |a| a.nonce));
    let mut owner = Account { key: owner.clone(), nonce: nonce(owner).map_err(err)? };
    let mut homes = households
        .iter()
        .map(|k| Ok(Account { key: k.clone(), nonce: nonce(k).map_err(err)? }))
        .collect::<Result<Vec<_>, BenchError>>()?;
    let mut next_end: Vec<u64> =
        homes.iter().map(|_| start - start % spec.interval + spec.interval).collect();
    let mut rate = chain
        .store()
        .storage(&DAISEE_ADDRESS, &U256::from(crate::daybook::RATE_SLOT))
        .map_err(err)?;
    let mut changes = spec.rate_changes.clone();
    // The earliest (the most hours before `end`) last, to be popped first.
    changes.sort_by_key(|(hours, _)| *hours);
    let mut summary = HistorySummary::default();
    let mut t = start.max(chain.head().timestamp + 1);
    let cap =
        if spec.max_readings_per_block == 0 { usize::MAX } else { spec.max_readings_per_block };
    let mut waiting = std::collections::VecDeque::new();
    while t <= spec.end {
        let mut txs = Vec::new();
        for (i, home) in homes.iter_mut().enumerate() {
            while next_end[i] <= t {
                let (produced, consumed) = household_energy(i, next_end[i], spec.interval);
                let input = Daisee::reportReadingCall {
                    intervalEnd: next_end[i],
                    producedWh: U256::from(produced),
                    consumedWh: U256::from(consumed),
                }
                .abi_encode();
                waiting.push_back(home.send(U256::ZERO, input)?);
                next_end[i] += spec.interval;
            }
        }
        while txs.len() < cap {
            let Some(tx) = waiting.pop_front() else { break };
            txs.push(tx);
            summary.readings += 1;
        }
        let number = chain.head().number + 1;
        if spec.buy_every > 0 && number.is_multiple_of(spec.buy_every) && homes.len() >= 2 {
            // The consumer buys a little of the producer's surplus (it produces far more than it uses).
            let energy = U256::from(10 + number % 40);
            let input =
                Daisee::buyEnergyCall { seller: homes[0].key.address(), energy }.abi_encode();
            txs.push(homes[1].send(energy * rate, input)?);
            summary.purchases += 1;
        }
        while let Some((hours, next)) = changes.last().copied() {
            if spec.end.saturating_sub(hours * 3600) > t {
                break;
            }
            txs.push(owner.send(U256::ZERO, Daisee::setRateCall { newRate: next }.abi_encode())?);
            rate = next;
            changes.pop();
        }
        let mut built = build_block(&chain, &owner.key, t, &txs, None).map_err(err)?;
        if !built.invalid.is_empty() {
            return Err(err(format!(
                "history block {number} left out transactions: {:?}",
                built.invalid
            )));
        }
        built.insert_into(&mut chain, t, Instant::now()).map_err(err)?;
        summary.blocks += 1;
        t += if t >= dense_from { spec.dense_step } else { spec.sparse_step };
    }
    chain.store().flush().map_err(err)?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}
