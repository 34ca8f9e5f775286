//! Validator withdrawals (EIP-4895): what a proof-of-stake block credits after its transactions,
//! and their trie root. Daisee's Clique blocks carry none; Ethereum's block fixtures do.

use super::rlp_ext::{address_at, append_bytes};
use super::DecodeError;
use alloy_primitives::{Address, B256, U256};
use rlp::{Rlp, RlpStream};

/// Wei in one gwei: withdrawal amounts are counted in gwei.
const GWEI: u64 = 1_000_000_000;

/// One withdrawal: `amount` gwei credited to `address`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Withdrawal {
    /// Monotonic index of the withdrawal.
    pub index: u64,
    /// Index of the validator it pays out.
    pub validator_index: u64,
    /// Who is credited.
    pub address: Address,
    /// The amount, in gwei.
    pub amount: u64,
}

impl Withdrawal {
    /// The amount in wei.
    pub fn amount_wei(&self) -> U256 {
        U256::from(self.amount) * U256::from(GWEI)
    }

    /// The withdrawal's RLP encoding.
    pub fn encoded(&self) -> Vec<u8> {
        let mut s = RlpStream::new();
        self.append(&mut s);
        s.out().to_vec()
    }

    pub(crate) fn append(&self, s: &mut RlpStream) {
        s.begin_list(4);
        s.append(&self.index);
        s.append(&self.validator_index);
        append_bytes(s, self.address.as_slice());
        s.append(&self.amount);
    }

    /// Decodes a withdrawal from an RLP item (each number at most 64 bits).
    pub(crate) fn from_rlp(r: &Rlp<'_>) -> Result<Self, DecodeError> {
        if !r.is_list() || r.item_count()? != 4 {
            return Err(DecodeError::Invalid("a withdrawal has 4 fields"));
        }
        Ok(Self {
            index: r.val_at(0)?,
            validator_index: r.val_at(1)?,
            address: address_at(r, 2)?,
            amount: r.val_at(3)?,
        })
    }
}

/// Root of the withdrawals trie of a block.
pub fn withdrawals_root(withdrawals: &[Withdrawal]) -> B256 {
    let encoded: Vec<Vec<u8>> = withdrawals.iter().map(Withdrawal::encoded).collect();
    alloy_trie::root::ordered_trie_root_encoded(&encoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::rlp_ext::list;
    use alloy_trie::EMPTY_ROOT_HASH;

    #[test]
    fn withdrawals_round_trip_and_bound_their_numbers() {
        let w = Withdrawal {
            index: 7,
            validator_index: 9,
            address: Address::repeat_byte(1),
            amount: 3,
        };
        let back = Withdrawal::from_rlp(&list(&w.encoded()).unwrap()).unwrap();
        assert_eq!(back, w);
        assert_eq!(w.amount_wei(), U256::from(3_000_000_000u64));
        assert_eq!(withdrawals_root(&[]), EMPTY_ROOT_HASH);
        // An amount of 2^64 does not fit: refused, not wrapped.
        let mut s = RlpStream::new_list(4);
        s.append(&1u64).append(&1u64);
        append_bytes(&mut s, Address::ZERO.as_slice());
        append_bytes(&mut s, &[1, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(Withdrawal::from_rlp(&list(&s.out()).unwrap()).is_err());
    }
}
