//! Transaction receipts: their consensus encoding (typed like their transactions; what the
//! receipts trie hashes) and the form the store keeps, without the bloom (as go-ethereum's
//! `ReceiptForStorage`): 256 bytes a receipt that its logs give back when asked.

use super::rlp_ext::{append_bytes, list};
use super::{DecodeError, TxType};
use alloy_primitives::{Address, Bloom, Bytes, Log, LogData, B256};
use rlp::{Rlp, RlpStream};

/// The outcome of one transaction in a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The transaction's type.
    pub tx_type: TxType,
    /// Whether it succeeded (EIP-658 status).
    pub success: bool,
    /// Gas used by the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// The logs it emitted.
    pub logs: Vec<Log>,
}

impl Receipt {
    /// The bloom filter of this receipt's logs.
    pub fn bloom(&self) -> Bloom {
        let mut bloom = Bloom::ZERO;
        bloom.accrue_logs(&self.logs);
        bloom
    }

    /// The consensus encoding (the receipts trie's values): `type ‖ rlp(...)` when typed.
    pub fn encoded(&self) -> Vec<u8> {
        self.encode(true)
    }

    /// The stored form: the consensus encoding without the bloom (three fields, not four).
    pub fn stored(&self) -> Vec<u8> {
        self.encode(false)
    }

    fn encode(&self, with_bloom: bool) -> Vec<u8> {
        let mut s = RlpStream::new_list(if with_bloom { 4 } else { 3 });
        s.append(&u8::from(self.success));
        s.append(&self.cumulative_gas_used);
        if with_bloom {
            append_bytes(&mut s, self.bloom().as_slice());
        }
        s.begin_list(self.logs.len());
        for log in &self.logs {
            s.begin_list(3);
            append_bytes(&mut s, log.address.as_slice());
            s.begin_list(log.topics().len());
            for topic in log.topics() {
                append_bytes(&mut s, topic.as_slice());
            }
            append_bytes(&mut s, &log.data.data);
        }
        let body = s.out();
        match self.tx_type {
            TxType::Legacy => body.to_vec(),
            typed => [&[typed as u8][..], &body].concat(),
        }
    }

    /// Decodes the consensus encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_with(bytes, &[4])
    }

    /// Decodes what the store keeps: the stored form, or the consensus encoding that earlier
    /// versions stored (its bloom is skipped: the logs give it back).
    pub fn decode_stored(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_with(bytes, &[3, 4])
    }

    fn decode_with(bytes: &[u8], field_counts: &[usize]) -> Result<Self, DecodeError> {
        let (tx_type, body) = match bytes.first() {
            Some(1) => (TxType::Eip2930, &bytes[1..]),
            Some(2) => (TxType::Eip1559, &bytes[1..]),
            _ => (TxType::Legacy, bytes),
        };
        let r = list(body)?;
        let fields = r.item_count()?;
        if !field_counts.contains(&fields) {
            return Err(DecodeError::Invalid(if field_counts.len() == 1 {
                "a receipt has 4 fields"
            } else {
                "a stored receipt has 3 or 4 fields"
            }));
        }
        if fields == 4 && r.at(2)?.data()?.len() != 256 {
            return Err(DecodeError::Invalid("a receipt's bloom has 256 bytes"));
        }
        let status: u8 = r.val_at(0)?;
        let logs =
            r.at(fields - 1)?.iter().map(|l| decode_log(&l)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { tx_type, success: status == 1, cumulative_gas_used: r.val_at(1)?, logs })
    }
}

fn decode_log(r: &Rlp<'_>) -> Result<Log, DecodeError> {
    let address =
        Address::try_from(r.at(0)?.data()?).map_err(|_| DecodeError::Invalid("log address"))?;
    let topics = r
        .at(1)?
        .iter()
        .map(|t| B256::try_from(t.data()?).map_err(|_| DecodeError::Invalid("log topic")))
        .collect::<Result<Vec<_>, _>>()?;
    let data = Bytes::copy_from_slice(r.at(2)?.data()?);
    Ok(Log { address, data: LogData::new_unchecked(topics, data) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_round_trip_and_bloom_contains_the_log() {
        let log = Log {
            address: Address::repeat_byte(9),
            data: LogData::new_unchecked(vec![B256::repeat_byte(1)], Bytes::from_static(b"x")),
        };
        for tx_type in [TxType::Legacy, TxType::Eip2930, TxType::Eip1559] {
            let r = Receipt {
                tx_type,
                success: true,
                cumulative_gas_used: 50_000,
                logs: vec![log.clone()],
            };
            assert_eq!(Receipt::decode(&r.encoded()).unwrap(), r);
            // The store's form drops the bloom; the store reads both forms.
            assert!(r.encoded().len() >= r.stored().len() + 259);
            assert_eq!(Receipt::decode_stored(&r.stored()).unwrap(), r);
            assert_eq!(Receipt::decode_stored(&r.encoded()).unwrap(), r);
            assert!(Receipt::decode(&r.stored()).is_err(), "the consensus form has a bloom");
            assert!(r
                .bloom()
                .contains_input(alloy_primitives::BloomInput::Raw(log.address.as_slice())));
        }
    }

    #[test]
    fn stored_receipts_with_the_wrong_shape_are_refused() {
        let r = Receipt {
            tx_type: TxType::Eip1559,
            success: true,
            cumulative_gas_used: 1,
            logs: vec![],
        };
        let mut short_bloom = RlpStream::new_list(4);
        short_bloom.append(&1u8).append(&1u64);
        append_bytes(&mut short_bloom, &[0u8; 32]);
        short_bloom.begin_list(0);
        let mut five = RlpStream::new_list(5);
        for _ in 0..5 {
            five.append(&1u8);
        }
        for bad in [short_bloom.out().to_vec(), five.out().to_vec(), vec![2], vec![]] {
            assert!(Receipt::decode_stored(&bad).is_err(), "{bad:?}");
        }
        assert!(Receipt::decode_stored(&r.stored()[..r.stored().len() - 1]).is_err());
    }
}
