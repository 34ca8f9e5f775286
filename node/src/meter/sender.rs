//! Outbox → chain: signs one `reportReading` per reading with the meter's key (nonce from the
//! chain and the pool, so it survives restarts), records the signed transaction durably before
//! sending it, watches for inclusion, re-sends what a reorg or a lost pool dropped, and keeps a
//! reverted reading (reason logged and counted) to retry later.

use super::outbox::{Entry, Outbox};
use crate::execution::{call, CallRequest};
use crate::node::Node;
use crate::primitives::{Address, Bytes, PrivateKey, Transaction, TxKind, TxType, B256, U256};
use crate::state::StoreError;
use crate::txpool::PoolError;
use alloy_sol_types::{SolCall, SolInterface};
use daisee_contracts::Daisee;
use serde::Serialize;

/// Blocks above a reading's block before it leaves the outbox (a reorg may still drop it).
pub const CONFIRMATIONS: u64 = 3;
/// How long a failed reading waits before it is signed again.
pub const RETRY_MS: u64 = 10_000;
/// Gas for one report: a first report of a meter writes four slots (≈ 95k), with a margin.
const REPORT_GAS: u64 = 200_000;
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

enum Inclusion {
    Confirmed,
    Shallow,
    Reverted(u64),
    Pooled,
    Missing,
}

/// Sends one meter's readings.
pub struct Sender {
    node: Node,
    key: PrivateKey,
    contract: Address,
    /// Counters.
    pub counters: SenderCounters,
}

impl Sender {
    /// A sender for the meter account `key` reporting to `contract`.
    pub fn new(node: Node, key: PrivateKey, contract: Address) -> Self {
        Self { node, key, contract, counters: SenderCounters::default() }
    }

    /// One pass over the outbox, oldest reading first.
    pub fn step(&mut self, outbox: &Outbox, now_ms: u64) -> Result<(), StoreError> {
        for mut entry in outbox.entries()? {
            let end = entry.reading.interval_end;
            if let Some(hash) = entry.tx_hash {
                match self.inclusion(&hash)? {
                    Inclusion::Confirmed => {
                        outbox.remove(end)?;
                        self.counters.confirmed += 1;
                        self.counters.last_confirmed_interval = end;
                        continue;
                    }
                    Inclusion::Shallow | Inclusion::Pooled => continue,
                    Inclusion::Reverted(block) => {
                        let why = self.revert_reason(&entry);
                        tracing::warn!(target: "daisee::meter", meter = %self.key.address(), interval_end = end, block, "report reverted: {why}; the reading stays in the outbox");
                        self.counters.reverts += 1;
                        self.fail(outbox, &mut entry, format!("reverted: {why}"), now_ms)?;
                        break;
                    }
                    Inclusion::Missing => match self.resend(&entry) {
                        Ok(()) => continue,
                        Err(PoolError::NonceTooLow { .. }) => {
                            entry.tx_hash = None;
                            entry.raw_tx = None;
                        }
                        Err(e) => {
                            self.fail(outbox, &mut entry, format!("refused: {e}"), now_ms)?;
                            break;
                        }
                    },
                }
            }
            if now_ms < entry.retry_at_ms {
                break;
            }
            let on_chain = self.last_interval_on_chain();
            if on_chain >= end {
                tracing::warn!(target: "daisee::meter", interval_end = end, on_chain, "interval already covered on chain; dropping it from the outbox");
                outbox.remove(end)?;
                continue;
            }
            let tx = self.sign(&entry)?;
            entry.tx_hash = Some(tx.hash());
            entry.raw_tx = Some(hex::encode(tx.encoded()));
            entry.attempts += 1;
            outbox.put(&entry)?;
            if let Err(e) = self.node.submit(tx) {
                self.fail(outbox, &mut entry, format!("refused: {e}"), now_ms)?;
                break;
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

    fn inclusion(&self, hash: &B256) -> Result<Inclusion, StoreError> {
        let store = self.node.store();
        if let Some((block_hash, index)) = store.tx_location(hash)? {
            if let Some(header) = store.header(&block_hash)? {
                if store.canonical_hash(header.number)? == Some(block_hash) {
                    let receipts = store.receipts(&block_hash)?.unwrap_or_default();
                    let ok = receipts.get(index as usize).is_some_and(|r| r.success);
                    if !ok {
                        return Ok(Inclusion::Reverted(header.number));
                    }
                    let depth = self.node.head().number.saturating_sub(header.number);
                    return Ok(if depth >= CONFIRMATIONS {
                        Inclusion::Confirmed
                    } else {
                        Inclusion::Shallow
                    });
                }
            }
        }
        Ok(if self.node.pooled(hash).is_some() { Inclusion::Pooled } else { Inclusion::Missing })
    }

    fn resend(&mut self, entry: &Entry) -> Result<(), PoolError> {
        let raw = entry.raw_tx.as_deref().map(hex::decode).and_then(Result::ok).unwrap_or_default();
        match self.node.submit_raw(&raw) {
            Ok(_) | Err(PoolError::AlreadyKnown) => {
                self.counters.resent += 1;
                tracing::info!(target: "daisee::meter", interval_end = entry.reading.interval_end, "report sent again");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn sign(&self, entry: &Entry) -> Result<crate::primitives::SignedTransaction, StoreError> {
        let r = entry.reading;
        let input = Daisee::reportReadingCall {
            intervalEnd: r.interval_end,
            producedWh: U256::from(r.produced_wh),
            consumedWh: U256::from(r.consumed_wh),
        }
        .abi_encode();
        let ctx = self.node.block_context(None);
        let nonce = self.node.pending_nonce(&self.key.address())?;
        let (tx_type, max_fee, tip) = match ctx.base_fee {
            Some(base) => (TxType::Eip1559, 2 * u128::from(base) + TIP, TIP),
            None => (TxType::Legacy, TIP, TIP),
        };
        Ok(Transaction {
            tx_type,
            chain_id: Some(self.node.chain_id()),
            nonce,
            max_priority_fee_per_gas: tip,
            max_fee_per_gas: max_fee,
            gas_limit: REPORT_GAS,
            to: TxKind::Call(self.contract),
            value: U256::ZERO,
            input: Bytes::from(input),
            access_list: vec![],
        }
        .sign(&self.key))
    }

    /// `lastIntervalOf(meter)` on the head state (0 when it cannot be read).
    fn last_interval_on_chain(&self) -> u64 {
        let input = Daisee::lastIntervalOfCall { meter: self.key.address() }.abi_encode();
        self.view(input)
            .and_then(|out| Daisee::lastIntervalOfCall::abi_decode_returns(&out).ok())
            .unwrap_or(0)
    }

    /// Why the reading's call reverts on the head state, decoded from the contract's errors.
    fn revert_reason(&self, entry: &Entry) -> String {
        let r = entry.reading;
        let input = Daisee::reportReadingCall {
            intervalEnd: r.interval_end,
            producedWh: U256::from(r.produced_wh),
            consumedWh: U256::from(r.consumed_wh),
        }
        .abi_encode();
        let req = self.request(input);
        let ctx = self.node.block_context(None);
        match call(
            self.node.store(),
            &self.node.chain_config(),
            &ctx,
            None,
            &req,
            &Default::default(),
        ) {
            Ok(out) if !out.success => match Daisee::DaiseeErrors::abi_decode(&out.output) {
                Ok(e) => format!("{e:?}"),
                Err(_) => format!("revert data 0x{}", hex::encode(&out.output)),
            },
            Ok(_) => "it succeeds on the current head (state changed since)".into(),
            Err(e) => e.to_string(),
        }
    }

    fn request(&self, input: Vec<u8>) -> CallRequest {
        CallRequest {
            from: Some(self.key.address()),
            to: Some(self.contract),
            gas: Some(REPORT_GAS),
            input: Some(Bytes::from(input)),
            ..Default::default()
        }
    }

    fn view(&self, input: Vec<u8>) -> Option<Bytes> {
        let ctx = self.node.block_context(None);
        let req = self.request(input);
        call(self.node.store(), &self.node.chain_config(), &ctx, None, &req, &Default::default())
            .ok()
            .filter(|o| o.success)
            .map(|o| o.output)
    }
}
