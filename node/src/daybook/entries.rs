//! What the daybook keeps of a block: the Daisee contract's readings, trades and rate changes,
//! decoded from the logs of its receipts, and their compact binary form on disk.

use crate::primitives::{Address, Log, Receipt, U256};
use alloy_sol_types::SolEvent;
use daisee_contracts::Daisee;

/// One fact of the contract's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A meter reported an interval (`Reading`).
    Reading {
        /// The meter's account.
        meter: Address,
        /// End of the interval, unix s.
        interval_end: u64,
        /// Produced in the interval, Wh.
        produced: U256,
        /// Consumed in the interval, Wh.
        consumed: U256,
    },
    /// Energy changed hands: bought by hand (`Buy`, paid at the rate) or settled (`Matched`).
    Trade {
        /// Who paid.
        buyer: Address,
        /// Who was paid.
        seller: Address,
        /// Energy, Wh.
        energy: U256,
        /// What the buyer paid, wei.
        wei: U256,
        /// Settled automatically (`Matched`) rather than bought by hand (`Buy`).
        settled: bool,
    },
    /// The community changed the rate (`RateChanged`), wei per Wh.
    Rate {
        /// Before.
        previous: U256,
        /// After.
        next: U256,
    },
}

/// An entry where it happened: block, position among the block's logs and the block's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Block number.
    pub block: u64,
    /// Index of the log in its block.
    pub log_index: u32,
    /// The block's timestamp, unix s.
    pub time: u64,
    /// What happened.
    pub entry: Entry,
}

/// The entries of one block's receipts, from logs of `contract`, in log order; `rate` is the rate in
/// force before the block and is moved along by its rate changes (a `Buy` pays the rate in force).
pub(super) fn decode_block(
    contract: &Address,
    block: u64,
    time: u64,
    receipts: &[Receipt],
    rate: &mut U256,
) -> Vec<Located> {
    let logs = receipts.iter().flat_map(|r| r.logs.iter());
    let mut out = Vec::new();
    for (index, log) in logs.enumerate() {
        if log.address != *contract {
            continue;
        }
        if let Some(entry) = decode_log(log, rate) {
            if let Entry::Rate { next, .. } = &entry {
                *rate = *next;
            }
            let log_index = u32::try_from(index).unwrap_or(u32::MAX);
            out.push(Located { block, log_index, time, entry });
        }
    }
    out
}

fn decode_log(log: &Log, rate: &U256) -> Option<Entry> {
    let (topics, data) = (log.data.topics(), log.data.data.as_ref());
    let first = *topics.first()?;
    if first == Daisee::Reading::SIGNATURE_HASH {
        let e = Daisee::Reading::decode_raw_log(topics.iter().copied(), data).ok()?;
        Some(Entry::Reading {
            meter: e.meter,
            interval_end: e.intervalEnd,
            produced: e.producedWh,
            consumed: e.consumedWh,
        })
    } else if first == Daisee::Buy::SIGNATURE_HASH {
        let e = Daisee::Buy::decode_raw_log(topics.iter().copied(), data).ok()?;
        let wei = e.energy.saturating_mul(*rate);
        Some(Entry::Trade {
            buyer: e.buyer,
            seller: e.seller,
            energy: e.energy,
            wei,
            settled: false,
        })
    } else if first == Daisee::Matched::SIGNATURE_HASH {
        let e = Daisee::Matched::decode_raw_log(topics.iter().copied(), data).ok()?;
        Some(Entry::Trade {
            buyer: e.buyer,
            seller: e.seller,
            energy: e.energyWh,
            wei: e.paid,
            settled: true,
        })
    } else if first == Daisee::RateChanged::SIGNATURE_HASH {
        let e = Daisee::RateChanged::decode_raw_log(topics.iter().copied(), data).ok()?;
        Some(Entry::Rate { previous: e.previousRate, next: e.newRate })
    } else {
        None
    }
}

/// Why stored bytes do not decode.
#[derive(Debug, thiserror::Error)]
#[error("daybook record is truncated or unknown")]
pub struct Malformed;

/// Appends `value` as one length byte and its big-endian bytes without leading zeros.
pub(super) fn put_u256(out: &mut Vec<u8>, value: &U256) {
    let bytes = value.to_be_bytes_trimmed_vec();
    out.push(bytes.len() as u8);
    out.extend_from_slice(&bytes);
}

/// Reads fixed and variable fields off the front of a byte slice.
pub(super) struct Reader<'a>(pub(super) &'a [u8]);

impl Reader<'_> {
    pub(super) fn take(&mut self, n: usize) -> Result<&[u8], Malformed> {
        if self.0.len() < n {
            return Err(Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    pub(super) fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.take(1)?[0])
    }

    pub(super) fn u64(&mut self) -> Result<u64, Malformed> {
        let bytes: [u8; 8] = self.take(8)?.try_into().map_err(|_| Malformed)?;
        Ok(u64::from_be_bytes(bytes))
    }

    pub(super) fn u32(&mut self) -> Result<u32, Malformed> {
        let bytes: [u8; 4] = self.take(4)?.try_into().map_err(|_| Malformed)?;
        Ok(u32::from_be_bytes(bytes))
    }

    pub(super) fn address(&mut self) -> Result<Address, Malformed> {
        Ok(Address::from_slice(self.take(20)?))
    }

    pub(super) fn u256(&mut self) -> Result<U256, Malformed> {
        let n = self.u8()? as usize;
        if n > 32 {
            return Err(Malformed);
        }
        U256::try_from_be_slice(self.take(n)?).ok_or(Malformed)
    }
}

const READING: u8 = 1;
const TRADE: u8 = 2;
const SETTLED: u8 = 3;
const RATE: u8 = 4;

impl Located {
    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        out.extend_from_slice(&self.block.to_be_bytes());
        out.extend_from_slice(&self.log_index.to_be_bytes());
        out.extend_from_slice(&self.time.to_be_bytes());
        match &self.entry {
            Entry::Reading { meter, interval_end, produced, consumed } => {
                out.push(READING);
                out.extend_from_slice(meter.as_slice());
                out.extend_from_slice(&interval_end.to_be_bytes());
                put_u256(&mut out, produced);
                put_u256(&mut out, consumed);
            }
            Entry::Trade { buyer, seller, energy, wei, settled } => {
                out.push(if *settled { SETTLED } else { TRADE });
                out.extend_from_slice(buyer.as_slice());
                out.extend_from_slice(seller.as_slice());
                put_u256(&mut out, energy);
                put_u256(&mut out, wei);
            }
            Entry::Rate { previous, next } => {
                out.push(RATE);
                put_u256(&mut out, previous);
                put_u256(&mut out, next);
            }
        }
        out
    }

    /// Reads one stored entry off the front of `r`.
    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        let (block, log_index, time) = (r.u64()?, r.u32()?, r.u64()?);
        let entry = match r.u8()? {
            READING => Entry::Reading {
                meter: r.address()?,
                interval_end: r.u64()?,
                produced: r.u256()?,
                consumed: r.u256()?,
            },
            tag @ (TRADE | SETTLED) => Entry::Trade {
                buyer: r.address()?,
                seller: r.address()?,
                energy: r.u256()?,
                wei: r.u256()?,
                settled: tag == SETTLED,
            },
            RATE => Entry::Rate { previous: r.u256()?, next: r.u256()? },
            _ => return Err(Malformed),
        };
        Ok(Self { block, log_index, time, entry })
    }

    /// Decodes one stored entry (the whole of `bytes`).
    pub fn decode(bytes: &[u8]) -> Result<Self, Malformed> {
        let mut r = Reader(bytes);
        let located = Self::read(&mut r)?;
        if r.0.is_empty() {
            Ok(located)
        } else {
            Err(Malformed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{address, LogData, TxType};
    use alloy_sol_types::SolEvent;

    const CONTRACT: Address = address!("da15ee0000000000000000000000000000000001");
    const A: Address = address!("1000000000000000000000000000000000000001");
    const B: Address = address!("2000000000000000000000000000000000000002");

    fn log(from: Address, data: LogData) -> Log {
        Log { address: from, data }
    }

    fn receipt(logs: Vec<Log>) -> Receipt {
        Receipt { tx_type: TxType::Legacy, success: true, cumulative_gas_used: 0, logs }
    }

    #[test]
    fn a_buy_pays_the_rate_in_force_at_its_log_and_foreign_logs_are_skipped() {
        let reading = Daisee::Reading {
            meter: A,
            intervalEnd: 900,
            producedWh: U256::from(5),
            consumedWh: U256::from(2),
        };
        let buy = Daisee::Buy { buyer: B, seller: A, energy: U256::from(10) };
        let change = Daisee::RateChanged { previousRate: U256::from(3), newRate: U256::from(7) };
        let receipts = vec![
            receipt(vec![log(CONTRACT, reading.encode_log_data()), log(B, buy.encode_log_data())]),
            receipt(vec![
                log(CONTRACT, buy.encode_log_data()),
                log(CONTRACT, change.encode_log_data()),
                log(CONTRACT, buy.encode_log_data()),
            ]),
        ];
        let mut rate = U256::from(3);
        let got = decode_block(&CONTRACT, 4, 1000, &receipts, &mut rate);
        assert_eq!(rate, U256::from(7));
        assert_eq!(got.iter().map(|l| l.log_index).collect::<Vec<_>>(), [0, 2, 3, 4]);
        let paid: Vec<U256> = got
            .iter()
            .filter_map(|l| match l.entry {
                Entry::Trade { wei, .. } => Some(wei),
                _ => None,
            })
            .collect();
        assert_eq!(paid, [U256::from(30), U256::from(70)]);
        for located in &got {
            assert_eq!(&Located::decode(&located.encode()).expect("round trip"), located);
        }
    }

    #[test]
    fn truncated_or_unknown_bytes_are_refused() {
        let located = Located {
            block: 1,
            log_index: 0,
            time: 2,
            entry: Entry::Rate { previous: U256::MAX, next: U256::ZERO },
        };
        let bytes = located.encode();
        for cut in 0..bytes.len() {
            assert!(Located::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(Located::decode(&extra).is_err());
        let mut unknown = bytes;
        unknown[20] = 9;
        assert!(Located::decode(&unknown).is_err());
    }
}
