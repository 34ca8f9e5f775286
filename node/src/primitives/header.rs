//! Block headers, with the fields of each fork (base fee from London, withdrawals root from
//! Shanghai, blob gas and parent beacon root from Cancun, requests hash from Prague).

use super::rlp_ext::{address_at, append_bytes, append_u256, b256_at, bytes_at, list, u256_at};
use super::DecodeError;
use alloy_primitives::{b256, keccak256, Address, Bloom, Bytes, B256, U256};
use rlp::{DecoderError, Rlp, RlpStream};

/// keccak256 of the RLP of an empty list: the ommers hash of every block without ommers.
pub const EMPTY_OMMERS_HASH: B256 =
    b256!("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");

/// sha256 of no requests: the requests hash (EIP-7685) of a Prague block without requests.
pub const EMPTY_REQUESTS_HASH: B256 =
    b256!("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

/// A block header. Optional fields are present exactly when their fork is active.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    /// Hash of the parent header.
    pub parent_hash: B256,
    /// Hash of the ommers list (always the empty list's).
    pub ommers_hash: B256,
    /// The beneficiary field; Clique uses it for votes.
    pub beneficiary: Address,
    /// State trie root after the block.
    pub state_root: B256,
    /// Transaction trie root.
    pub transactions_root: B256,
    /// Receipt trie root.
    pub receipts_root: B256,
    /// Bloom filter of all logs.
    pub logs_bloom: Bloom,
    /// Difficulty; Clique: 2 in turn, 1 out of turn.
    pub difficulty: U256,
    /// Block number.
    pub number: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Gas used by the transactions.
    pub gas_used: u64,
    /// Unix time in seconds.
    pub timestamp: u64,
    /// Extra data; Clique: vanity, signers at epochs, and the seal.
    pub extra_data: Bytes,
    /// Mix hash (zero under Clique).
    pub mix_hash: B256,
    /// The 8-byte nonce; Clique: vote authorize/drop.
    pub nonce: [u8; 8],
    /// Base fee per gas (London).
    pub base_fee_per_gas: Option<u64>,
    /// Withdrawals root (Shanghai).
    pub withdrawals_root: Option<B256>,
    /// Blob gas used (Cancun).
    pub blob_gas_used: Option<u64>,
    /// Excess blob gas (Cancun).
    pub excess_blob_gas: Option<u64>,
    /// Parent beacon block root (Cancun).
    pub parent_beacon_block_root: Option<B256>,
    /// Requests hash (Prague).
    pub requests_hash: Option<B256>,
}

impl Header {
    /// The header's RLP encoding.
    pub fn encoded(&self) -> Vec<u8> {
        let mut s = RlpStream::new();
        self.append(&mut s);
        s.out().to_vec()
    }

    /// The block hash.
    pub fn hash(&self) -> B256 {
        keccak256(self.encoded())
    }

    fn field_count(&self) -> usize {
        let optional = [
            self.base_fee_per_gas.is_some(),
            self.withdrawals_root.is_some(),
            self.blob_gas_used.is_some(),
            self.excess_blob_gas.is_some(),
            self.parent_beacon_block_root.is_some(),
            self.requests_hash.is_some(),
        ];
        15 + optional.iter().filter(|present| **present).count()
    }

    pub(crate) fn append(&self, s: &mut RlpStream) {
        s.begin_list(self.field_count());
        append_bytes(s, self.parent_hash.as_slice());
        append_bytes(s, self.ommers_hash.as_slice());
        append_bytes(s, self.beneficiary.as_slice());
        append_bytes(s, self.state_root.as_slice());
        append_bytes(s, self.transactions_root.as_slice());
        append_bytes(s, self.receipts_root.as_slice());
        append_bytes(s, self.logs_bloom.as_slice());
        append_u256(s, &self.difficulty);
        s.append(&self.number);
        s.append(&self.gas_limit);
        s.append(&self.gas_used);
        s.append(&self.timestamp);
        append_bytes(s, &self.extra_data);
        append_bytes(s, self.mix_hash.as_slice());
        append_bytes(s, &self.nonce);
        if let Some(v) = self.base_fee_per_gas {
            s.append(&v);
        }
        if let Some(v) = self.withdrawals_root {
            append_bytes(s, v.as_slice());
        }
        if let Some(v) = self.blob_gas_used {
            s.append(&v);
        }
        if let Some(v) = self.excess_blob_gas {
            s.append(&v);
        }
        if let Some(v) = self.parent_beacon_block_root {
            append_bytes(s, v.as_slice());
        }
        if let Some(v) = self.requests_hash {
            append_bytes(s, v.as_slice());
        }
    }

    /// Decodes a header from its RLP encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_rlp(&list(bytes)?)
    }

    pub(crate) fn from_rlp(r: &Rlp<'_>) -> Result<Self, DecodeError> {
        let count = r.item_count()?;
        if !(15..=21).contains(&count) || count == 18 || count == 19 {
            return Err(DecodeError::Invalid("a header has 15 to 21 fields"));
        }
        let bloom = r.at(6)?.data()?;
        let nonce = r.at(14)?.data()?;
        let opt_u64 = |i: usize| -> Result<Option<u64>, DecoderError> {
            if count > i {
                r.val_at(i).map(Some)
            } else {
                Ok(None)
            }
        };
        let opt_b256 = |i: usize| -> Result<Option<B256>, DecoderError> {
            if count > i {
                b256_at(r, i).map(Some)
            } else {
                Ok(None)
            }
        };
        Ok(Self {
            parent_hash: b256_at(r, 0)?,
            ommers_hash: b256_at(r, 1)?,
            beneficiary: address_at(r, 2)?,
            state_root: b256_at(r, 3)?,
            transactions_root: b256_at(r, 4)?,
            receipts_root: b256_at(r, 5)?,
            logs_bloom: Bloom::try_from(bloom).map_err(|_| DecodeError::Invalid("bloom size"))?,
            difficulty: u256_at(r, 7)?,
            number: r.val_at(8)?,
            gas_limit: r.val_at(9)?,
            gas_used: r.val_at(10)?,
            timestamp: r.val_at(11)?,
            extra_data: bytes_at(r, 12)?,
            mix_hash: b256_at(r, 13)?,
            nonce: nonce.try_into().map_err(|_| DecodeError::Invalid("nonce size"))?,
            base_fee_per_gas: opt_u64(15)?,
            withdrawals_root: opt_b256(16)?,
            blob_gas_used: opt_u64(17)?,
            excess_blob_gas: opt_u64(18)?,
            parent_beacon_block_root: opt_b256(19)?,
            requests_hash: opt_b256(20)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_ommers_hash_is_keccak_of_empty_list() {
        assert_eq!(EMPTY_OMMERS_HASH, keccak256([0xc0]));
    }

    #[test]
    fn header_round_trips_with_every_fork_shape() {
        let mut h = Header { number: 7, gas_limit: 30_000_000, ..Default::default() };
        let shapes: [fn(&mut Header); 4] = [
            |h| h.base_fee_per_gas = Some(7),
            |h| h.withdrawals_root = Some(B256::repeat_byte(1)),
            |h| {
                h.blob_gas_used = Some(0);
                h.excess_blob_gas = Some(0);
                h.parent_beacon_block_root = Some(B256::ZERO);
            },
            |h| h.requests_hash = Some(EMPTY_REQUESTS_HASH),
        ];
        assert_eq!(Header::decode(&h.encoded()).unwrap(), h);
        for add in shapes {
            add(&mut h);
            assert_eq!(Header::decode(&h.encoded()).unwrap(), h);
        }
    }

    #[test]
    fn malformed_headers_are_errors() {
        let h = Header::default().encoded();
        assert!(Header::decode(&h[..h.len() - 1]).is_err());
        assert!(Header::decode(&[0xc0]).is_err());
    }
}
