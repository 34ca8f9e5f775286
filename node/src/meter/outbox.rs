//! The durable outbox of one meter, in the node's database: its state between samples and the
//! readings waiting to be on chain. Closing an interval writes the reading and the state in one
//! flushed batch; a reading leaves only when its transaction is in a canonical block.

use super::interval::{MeterState, Reading};
use crate::primitives::{Address, B256};
use crate::state::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// Which contract call carries (part of) a reading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Call {
    /// `reportReading(intervalEnd, producedWh, consumedWh)`: the whole reading.
    #[default]
    ReportReading,
    /// The 2016 contract's `setProduction(producedWh)`.
    SetProduction,
    /// The 2016 contract's `consumeEnergy(consumedWh)`.
    ConsumeEnergy,
}

/// The contract interface readings are sent with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Abi {
    /// Today's Daisee: one `reportReading` per interval.
    #[default]
    V2,
    /// The 2016 contract: `setProduction` and `consumeEnergy`, each only when not zero, as the
    /// 2016 bridge did.
    V1,
}

impl Abi {
    /// The calls that carry `reading`.
    pub fn calls(self, reading: &Reading) -> Vec<Call> {
        match self {
            Abi::V2 => vec![Call::ReportReading],
            Abi::V1 => [
                (reading.produced_wh > 0).then_some(Call::SetProduction),
                (reading.consumed_wh > 0).then_some(Call::ConsumeEnergy),
            ]
            .into_iter()
            .flatten()
            .collect(),
        }
    }
}

/// A reading on its way to the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// What was measured.
    pub reading: Reading,
    /// The call that carries it.
    #[serde(default)]
    pub call: Call,
    /// The signed transaction (canonical encoding, hex), once signed.
    pub raw_tx: Option<String>,
    /// Its hash.
    pub tx_hash: Option<B256>,
    /// Transactions sent for it so far.
    pub attempts: u32,
    /// The last failure (a revert, a refused transaction).
    pub last_error: Option<String>,
    /// Not before this time (ms) is it signed again after a failure.
    pub retry_at_ms: u64,
}

impl Entry {
    fn new(reading: Reading, call: Call) -> Self {
        Self {
            reading,
            call,
            raw_tx: None,
            tx_hash: None,
            attempts: 0,
            last_error: None,
            retry_at_ms: 0,
        }
    }
}

/// One meter's outbox.
#[derive(Clone)]
pub struct Outbox {
    store: Store,
    prefix: Vec<u8>,
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("meter outbox: {e}"))
}

impl Outbox {
    /// The outbox of `meter`.
    pub fn new(store: Store, meter: Address) -> Self {
        Self { store, prefix: [b"meter/".as_slice(), meter.as_slice()].concat() }
    }

    fn state_key(&self) -> Vec<u8> {
        [self.prefix.as_slice(), b"/state"].concat()
    }

    fn entry_key(&self, interval_end: u64, call: Call) -> Vec<u8> {
        [self.prefix.as_slice(), b"/out/", &interval_end.to_be_bytes(), &[call as u8]].concat()
    }

    /// The persisted state (default when new).
    pub fn state(&self) -> Result<MeterState, StoreError> {
        match self.store.aux_get(&self.state_key())? {
            Some(raw) => serde_json::from_slice(&raw).map_err(corrupt),
            None => Ok(MeterState::default()),
        }
    }

    /// Saves the state with the readings it just closed, atomically; durable when readings
    /// were closed (cheap otherwise: the database flushes within half a second).
    pub fn save(&self, state: &MeterState, closed: &[Reading], abi: Abi) -> Result<(), StoreError> {
        let mut changes =
            vec![(self.state_key(), Some(serde_json::to_vec(state).map_err(corrupt)?))];
        for reading in closed {
            for call in abi.calls(reading) {
                let entry = serde_json::to_vec(&Entry::new(*reading, call)).map_err(corrupt)?;
                changes.push((self.entry_key(reading.interval_end, call), Some(entry)));
            }
        }
        self.store.aux_write(&changes, !closed.is_empty())
    }

    /// Waiting readings, oldest first.
    pub fn entries(&self) -> Result<Vec<Entry>, StoreError> {
        let prefix = [self.prefix.as_slice(), b"/out/"].concat();
        self.store
            .aux_scan(&prefix)?
            .into_iter()
            .map(|(_, v)| serde_json::from_slice(&v).map_err(corrupt))
            .collect()
    }

    /// Updates an entry, durably (a signed transaction is recorded before it is sent).
    pub fn put(&self, entry: &Entry) -> Result<(), StoreError> {
        let value = serde_json::to_vec(entry).map_err(corrupt)?;
        let key = self.entry_key(entry.reading.interval_end, entry.call);
        self.store.aux_write(&[(key, Some(value))], true)
    }

    /// Removes an entry whose call is on chain.
    pub fn remove(&self, entry: &Entry) -> Result<(), StoreError> {
        self.store
            .aux_write(&[(self.entry_key(entry.reading.interval_end, entry.call), None)], true)
    }
}
