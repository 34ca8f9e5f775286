//! The benchmark's workloads: K funded accounts registered as meters and N pre-signed
//! transactions of one kind (ETH transfers, Daisee `reportReading`, Daisee `buyEnergy`).

use crate::community::{community_genesis, CommunitySpec, DAISEE_ADDRESS};
use crate::genesis::Genesis;
use crate::primitives::{
    keccak256, Address, Bytes, PrivateKey, SignedTransaction, Transaction, TxKind, TxType, U256,
};
use alloy_sol_types::SolCall;
use daisee_contracts::{Daisee, DEFAULT_RATE_WEI_PER_WH};

/// Chain id of the benchmark chain (the dev chain's).
pub const CHAIN_ID: u64 = 31337;
/// The benchmark community's interval: a minute, so an account's readings stay recent.
const INTERVAL_S: u64 = 60;
/// Its grace period: three days, so the readings of a 20,000-transaction run (4,000 minutes
/// per account, in the past) all enter the market, as a community's timely readings would.
const GRACE_S: u64 = 3 * 86_400;

/// The end of the interval `rounds` intervals before the current one: each account's readings
/// start there and end at most at the current interval (never in the chain's future).
fn first_interval_end(rounds: u64) -> u64 {
    let now = crate::node::unix_now();
    (now - now % INTERVAL_S).saturating_sub(rounds * INTERVAL_S).max(INTERVAL_S)
}

/// What the transactions do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Workload {
    /// 1 wei to the next account.
    Transfer,
    /// One interval reading per transaction.
    ReportReading,
    /// 1 Wh bought from the next account (which reported a surplus first).
    BuyEnergy,
}

impl std::str::FromStr for Workload {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "transfer" => Ok(Self::Transfer),
            "report" | "reportReading" => Ok(Self::ReportReading),
            "buy" | "buyEnergy" => Ok(Self::BuyEnergy),
            other => Err(format!("unknown workload {other:?} (transfer, report, buy)")),
        }
    }
}

/// The bench chain's block gas limit: a block of 250 first readings (240k gas each) stays under
/// the gas target, so the base fee does not climb block after block past the pre-signed fee cap
/// (with the community default of 30M, 20,000 readings took it above 100 gwei by block 40).
const GAS_LIMIT: u64 = 125_000_000;

/// Deterministic accounts for the benchmark.
pub fn accounts(count: usize) -> Vec<PrivateKey> {
    (0..count.max(2))
        .map(|i| {
            let seed = keccak256(format!("daisee-bench-{i}"));
            PrivateKey::from_bytes(&seed).expect("keccak output is a valid key")
        })
        .collect()
}

/// A one-signer genesis (the first account) funding and registering every account.
pub fn genesis(keys: &[PrivateKey]) -> Result<Genesis, crate::execution::ExecError> {
    let plenty = U256::from(10u64).pow(U256::from(24));
    let mut genesis = community_genesis(&CommunitySpec {
        chain_id: CHAIN_ID,
        period: 0,
        epoch: 30_000,
        signers: vec![keys[0].address()],
        funds: keys.iter().map(|k| (k.address(), plenty)).collect(),
        owner: keys[0].address(),
        rate: U256::ZERO,
        meters: keys.iter().map(PrivateKey::address).collect(),
        timestamp: 0,
        interval_s: INTERVAL_S,
        grace_s: GRACE_S,
        gas_limit: 0,
    })?;
    genesis.gas_limit = GAS_LIMIT;
    Ok(genesis)
}

fn tx(
    key: &PrivateKey,
    nonce: u64,
    to: Address,
    value: U256,
    input: Vec<u8>,
    gas: u64,
) -> SignedTransaction {
    Transaction {
        tx_type: TxType::Eip1559,
        chain_id: Some(CHAIN_ID),
        nonce,
        max_priority_fee_per_gas: U256::from(1_000_000_000u64),
        max_fee_per_gas: U256::from(100_000_000_000u64),
        gas_limit: gas,
        to: TxKind::Call(to),
        value,
        input: Bytes::from(input),
        access_list: vec![],
    }
    .sign(key)
}

/// Setup transactions (not measured): for `BuyEnergy`, every account reports a large surplus:
/// an empty first reading, then a day's production at the meter's full capacity (36 kW), the
/// most the contract accepts.
pub fn setup(workload: Workload, keys: &[PrivateKey]) -> Vec<SignedTransaction> {
    if workload != Workload::BuyEnergy {
        return Vec::new();
    }
    let first = first_interval_end(SETUP_SPAN_S / INTERVAL_S + 1);
    let surplus = daisee_contracts::DEFAULT_CAPACITY_W * SETUP_SPAN_S / 3600;
    keys.iter()
        .flat_map(|k| {
            [(0, first, 0), (1, first + SETUP_SPAN_S, surplus)].map(|(nonce, end, wh)| {
                let input = Daisee::reportReadingCall {
                    intervalEnd: end,
                    producedWh: U256::from(wh),
                    consumedWh: U256::ZERO,
                }
                .abi_encode();
                tx(k, nonce, DAISEE_ADDRESS, U256::ZERO, input, READING_GAS)
            })
        })
        .collect()
}

/// Gas a reading may use: what a meter gives its own (a first reading costs ~240,000, later ones
/// less). (200,000 before: every reading of the `report` workload ran out of gas and reverted,
/// and the bench measured those reverts.)
const READING_GAS: u64 = crate::meter::REPORT_GAS;

/// What the `BuyEnergy` setup's second reading covers: a day (864 kWh at 36 kW, enough for
/// any run's purchases of 1 Wh).
const SETUP_SPAN_S: u64 = 86_400;

/// `count` transactions, round-robin over the accounts, nonces after the setup's.
pub fn transactions(
    workload: Workload,
    keys: &[PrivateKey],
    count: usize,
) -> Vec<SignedTransaction> {
    let first_nonce = if workload == Workload::BuyEnergy { 2 } else { 0 };
    let rounds = count.div_ceil(keys.len().max(1)) as u64;
    let first_end = first_interval_end(rounds);
    (0..count)
        .map(|i| {
            let k = i % keys.len();
            let round = (i / keys.len()) as u64;
            let (key, next) = (&keys[k], keys[(k + 1) % keys.len()].address());
            let nonce = first_nonce + round;
            match workload {
                Workload::Transfer => tx(key, nonce, next, U256::from(1), Vec::new(), 21_000),
                Workload::ReportReading => {
                    let input = Daisee::reportReadingCall {
                        intervalEnd: first_end + INTERVAL_S * round,
                        producedWh: U256::from(100 + round % 7),
                        consumedWh: U256::from(80 + round % 5),
                    }
                    .abi_encode();
                    tx(key, nonce, DAISEE_ADDRESS, U256::ZERO, input, READING_GAS)
                }
                Workload::BuyEnergy => {
                    let input =
                        Daisee::buyEnergyCall { seller: next, energy: U256::from(1) }.abi_encode();
                    let price = U256::from(DEFAULT_RATE_WEI_PER_WH);
                    tx(key, nonce, DAISEE_ADDRESS, price, input, 200_000)
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Chain;
    use crate::sealer::build_block;
    use crate::state::Store;
    use crate::txpool::PoolTx;

    /// What a workload measures is its transactions succeeding: a reverted one costs the node
    /// less and writes less (no log), and would flatter every column.
    #[test]
    fn every_workload_s_transactions_succeed() {
        let keys = accounts(4);
        for workload in [Workload::Transfer, Workload::ReportReading, Workload::BuyEnergy] {
            let genesis = super::genesis(&keys).unwrap();
            let store = Store::temporary().unwrap();
            store.init_genesis(&genesis).unwrap();
            let mut chain = Chain::open(store).unwrap();
            for batch in [setup(workload, &keys), transactions(workload, &keys, 40)] {
                let pool: Vec<PoolTx> = batch
                    .into_iter()
                    .map(|tx| {
                        let sender = tx.recover_sender().unwrap();
                        PoolTx::new(tx, sender, true)
                    })
                    .collect();
                if pool.is_empty() {
                    continue;
                }
                let now = crate::node::unix_now();
                let mut built = build_block(&chain, &keys[0], now, &pool, None).unwrap();
                assert_eq!(built.block.transactions.len(), pool.len(), "{workload:?}");
                let failed = built.receipts.iter().filter(|r| !r.success).count();
                assert_eq!(failed, 0, "{workload:?}: {failed} of {} reverted", pool.len());
                if workload != Workload::Transfer {
                    assert!(built.receipts.iter().all(|r| !r.logs.is_empty()), "{workload:?}");
                }
                built.insert_into(&mut chain, now, std::time::Instant::now()).unwrap();
            }
        }
    }
}
