//! Outbox → chain: signs one transaction per outbox entry with the meter's key (nonce from the
//! ledger, so it survives restarts), records it durably before sending it, watches for
//! inclusion, re-sends what a reorg or a lost pool dropped, and keeps a reverted reading (reason
//! logged and counted) to retry later.

use super::ledger::{Ledger, LedgerError, Refused, TxStatus};
use super::outbox::{Call, Entry, Outbox};
use crate::primitives::{
    Address, Bytes, PrivateKey, SignedTransaction, Transaction, TxKind, TxType, U256,
};
use crate::state::StoreError;
use alloy_sol_types::{SolCall, SolInterface};
use daisee_contracts::Daisee;
use serde::Serialize;

/// Blocks above a reading's block before it leaves the outbox (a reorg may still drop it).
pub const CONFIRMATIONS: u64 = 3;
/// How long a failed reading waits before it is signed again (wall clock).
pub const RETRY_MS: u64 = 10_000;
/// Gas for one report: a meter's first report writes its balances and opens the interval for
/// the market (239,733 gas; later ones ~134k: evm-contracts/gas-snapshot.txt), with a margin.
pub const REPORT_GAS: u64 = 300_000;
/// Tip offered, as the node suggests.
const TIP: u128 = 1_000_000_000;

/// What the sender did, for RPC and logs.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SenderCounters {
    /// Readings confirmed on chain and taken out of the outbox.
    pub confirmed: u64,
    /// Transactions that reverted.
    pub reverts: u64,
    /// Transactions sent again (dropped by a reorg or from the pool).
    pub resent: u64,
    /// The last interval confirmed on chain.
    pub last_confirmed_interval: u64,
    /// The last failure.
    pub last_error: Option<String>,
}

/// Sends one meter's readings.
pub struct Sender {
    ledger: Box<dyn Ledger>,
    key: PrivateKey,
    contract: Address,
    /// Counters.
    pub counters: SenderCounters,
}

impl Sender {
    /// A sender for the meter account `key` reporting to `contract` on `ledger`.
    pub fn new(ledger: Box<dyn Ledger>, key: PrivateKey, contract: Address) -> Self {
        Self { ledger, key, contract, counters: SenderCounters::default() }
    }

    /// One pass over the outbox, oldest reading first; `now_ms` is the wall clock.
    pub fn step(&mut self, outbox: &Outbox, now_ms: u64) -> Result<(), StoreError> {
        for mut entry in outbox.entries()? {
            let end = entry.reading.interval_end;
            if let Some(hash) = entry.tx_hash {
                match self.ledger.status(&hash) {
                    Ok(TxStatus::Included { success: true, depth, .. }) => {
                        if depth >= CONFIRMATIONS {
                            outbox.remove(&entry)?;
                            self.counters.confirmed += 1;
                            self.counters.last_confirmed_interval = end;
                        }
                        continue;
                    }
                    Ok(TxStatus::Pending) => continue,
                    Ok(TxStatus::Included { success: false, block, .. }) => {
                        let why = self.revert_reason(&entry);
                        tracing::warn!(target: "daisee::meter", meter = %self.key.address(), interval_end = end, block, "report reverted: {why}; the reading stays in the outbox");
                        self.counters.reverts += 1;
                        self.fail(outbox, &mut entry, format!("reverted: {why}"), now_ms)?;
                        break;
                    }
                    Ok(TxStatus::Unknown) => match self.resend(&entry) {
                        Ok(()) => continue,
                        Err(Refused::NonceTooLow) => {
                            entry.tx_hash = None;
                            entry.raw_tx = None;
                        }
                        Err(e) => {
                            self.fail(outbox, &mut entry, format!("refused: {e:?}"), now_ms)?;
                            break;
                        }
                    },
                    Err(e) => {
                        self.counters.last_error = Some(e.to_string());
                        break;
                    }
                }
            }
            if now_ms < entry.retry_at_ms {
                break;
            }
            if entry.call == Call::ReportReading {
                let on_chain = self.last_interval_on_chain();
                if on_chain >= end {
                    tracing::warn!(target: "daisee::meter", interval_end = end, on_chain, "interval already covered on chain; dropping it from the outbox");
                    outbox.remove(&entry)?;
                    continue;
                }
            }
            let tx = match self.sign(&entry) {
                Ok(tx) => tx,
                Err(e) => {
                    self.counters.last_error = Some(e.to_string());
                    break;
                }
            };
            entry.tx_hash = Some(tx.hash());
            entry.raw_tx = Some(hex::encode(tx.encoded()));
            entry.attempts += 1;
            outbox.put(&entry)?;
            if let Err(e) = self.ledger.send(tx.encoded()) {
                if e != Refused::Known {
                    self.fail(outbox, &mut entry, format!("refused: {e:?}"), now_ms)?;
                    break;
                }
            }
        }
        Ok(())
    }

    fn fail(
        &mut self,
        outbox: &Outbox,
        entry: &mut Entry,
        why: String,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        entry.tx_hash = None;
        entry.raw_tx = None;
        entry.retry_at_ms = now_ms + RETRY_MS;
        entry.last_error = Some(why.clone());
        self.counters.last_error = Some(why);
        outbox.put(entry)
    }

    fn resend(&mut self, entry: &Entry) -> Result<(), Refused> {
        let raw = entry.raw_tx.as_deref().map(hex::decode).and_then(Result::ok).unwrap_or_default();
        match self.ledger.send(&raw) {
            Ok(()) | Err(Refused::Known) => {
                self.counters.resent += 1;
                tracing::info!(target: "daisee::meter", interval_end = entry.reading.interval_end, "report sent again");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn input(entry: &Entry) -> Vec<u8> {
        let r = entry.reading;
        match entry.call {
            Call::ReportReading => Daisee::reportReadingCall {
                intervalEnd: r.interval_end,
                producedWh: U256::from(r.produced_wh),
                consumedWh: U256::from(r.consumed_wh),
            }
            .abi_encode(),
            Call::SetProduction => {
                Daisee::setProductionCall { kwh: U256::from(r.produced_wh) }.abi_encode()
            }
            Call::ConsumeEnergy => {
                Daisee::consumeEnergyCall { energy: U256::from(r.consumed_wh) }.abi_encode()
            }
        }
    }

    fn sign(&self, entry: &Entry) -> Result<SignedTransaction, LedgerError> {
        let input = Bytes::from(Self::input(entry));
        sign_call(&*self.ledger, &self.key, self.contract, input, U256::ZERO, REPORT_GAS)
    }

    /// The ledger this sender reports to (the market agent sends through it too).
    pub(super) fn ledger(&self) -> &dyn Ledger {
        &*self.ledger
    }

    /// `lastIntervalOf(meter)` on the head state (0 when it cannot be read).
    fn last_interval_on_chain(&self) -> u64 {
        let input = Daisee::lastIntervalOfCall { meter: self.key.address() }.abi_encode();
        match self.ledger.call(self.key.address(), self.contract, input.into()) {
            Ok((true, out)) => Daisee::lastIntervalOfCall::abi_decode_returns(&out).unwrap_or(0),
            _ => 0,
        }
    }

    /// Why the entry's call reverts on the head state, decoded from the contract's errors.
    fn revert_reason(&self, entry: &Entry) -> String {
        let input = Self::input(entry).into();
        match self.ledger.call(self.key.address(), self.contract, input) {
            Ok((false, out)) => match Daisee::DaiseeErrors::abi_decode(&out) {
                Ok(e) => format!("{e:?}"),
                Err(_) => String::from_utf8(out.to_vec())
                    .unwrap_or_else(|_| format!("revert data 0x{}", hex::encode(&out))),
            },
            Ok((true, _)) => "it succeeds on the current head (state changed since)".into(),
            Err(e) => e.to_string(),
        }
    }
}

/// The community's interval (`intervalSeconds()` on the contract), when the ledger answers and
/// the contract has one (the first version had none). An answer outside what the contract itself
/// allows (1 s to a day: a `--meter-target` node that lies or is not a Daisee chain) is ignored,
/// so the configured interval stays.
pub(super) fn community_interval(
    ledger: &dyn Ledger,
    contract: Address,
    from: Address,
) -> Option<u64> {
    let input = Daisee::intervalSecondsCall {}.abi_encode();
    match ledger.call(from, contract, input.into()) {
        Ok((true, out)) => Daisee::intervalSecondsCall::abi_decode_returns(&out)
            .ok()
            .filter(|s| (1..=86_400).contains(s)),
        _ => None,
    }
}

/// Signs a call of `to` with `input` and `value` from `key`, with the ledger's next nonce and
/// fees as the node suggests.
pub(super) fn sign_call(
    ledger: &dyn Ledger,
    key: &PrivateKey,
    to: Address,
    input: Bytes,
    value: U256,
    gas_limit: u64,
) -> Result<SignedTransaction, LedgerError> {
    let nonce = ledger.pending_nonce(&key.address())?;
    let (tx_type, max_fee, tip) = match ledger.base_fee()? {
        Some(base) => (TxType::Eip1559, 2 * base + TIP, TIP),
        None => (TxType::Legacy, TIP, TIP),
    };
    Ok(Transaction {
        tx_type,
        chain_id: Some(ledger.chain_id()?),
        nonce,
        max_priority_fee_per_gas: U256::from(tip),
        max_fee_per_gas: U256::from(max_fee),
        gas_limit,
        to: TxKind::Call(to),
        value,
        input,
        access_list: vec![],
    }
    .sign(key))
}
