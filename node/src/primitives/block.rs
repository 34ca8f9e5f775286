//! Blocks: a header, its transactions and, from Shanghai on, its withdrawals (EIP-4895). Ommers
//! ended with the Merge and are refused; Daisee's Clique blocks carry no withdrawals either (the
//! header rules refuse them), but the encoding reads them as Ethereum writes them.

use super::header::Header;
use super::rlp_ext::list;
use super::transaction::SignedTransaction;
use super::withdrawal::Withdrawal;
use super::{DecodeError, TxError};
use rlp::{Rlp, RlpStream};

/// The most withdrawals one block may carry (the consensus layer's 16 per payload, with margin):
/// bounds what a decoded block allocates.
pub const MAX_WITHDRAWALS: usize = 1024;

/// A block: header, transactions, and withdrawals (present exactly when the header has a
/// withdrawals root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// The transactions, in order.
    pub transactions: Vec<SignedTransaction>,
    /// The withdrawals, in order (always empty on a Daisee chain).
    pub withdrawals: Vec<Withdrawal>,
}

impl Block {
    /// A block without withdrawals.
    pub fn new(header: Header, transactions: Vec<SignedTransaction>) -> Self {
        Self { header, transactions, withdrawals: Vec::new() }
    }

    /// The block's RLP encoding as geth writes it (`rlp([header, txs, ommers, withdrawals?])`).
    pub fn encoded(&self) -> Vec<u8> {
        let with_withdrawals = self.header.withdrawals_root.is_some();
        let mut s = RlpStream::new_list(if with_withdrawals { 4 } else { 3 });
        self.header.append(&mut s);
        s.begin_list(self.transactions.len());
        for tx in &self.transactions {
            tx.append_to_body(&mut s);
        }
        s.begin_list(0);
        if with_withdrawals {
            s.begin_list(self.withdrawals.len());
            for w in &self.withdrawals {
                w.append(&mut s);
            }
        }
        s.out().to_vec()
    }

    /// Decodes one block that spans all of `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Self, TxError> {
        Self::from_rlp(&list(bytes)?)
    }

    /// Decodes one block from an RLP item.
    pub fn from_rlp(r: &Rlp<'_>) -> Result<Self, TxError> {
        let count = r.item_count().map_err(DecodeError::from)?;
        if !(3..=4).contains(&count) {
            return Err(DecodeError::Invalid("a block has 3 or 4 parts").into());
        }
        let header = Header::from_rlp(&r.at(0).map_err(DecodeError::from)?)?;
        if header.withdrawals_root.is_some() != (count == 4) {
            return Err(DecodeError::Invalid(
                "withdrawals must be present exactly when the header has a withdrawals root",
            )
            .into());
        }
        let txs = r.at(1).map_err(DecodeError::from)?;
        let transactions = txs
            .iter()
            .map(|item| SignedTransaction::from_body_item(&item))
            .collect::<Result<Vec<_>, _>>()?;
        let ommers = r.at(2).map_err(DecodeError::from)?;
        if ommers.item_count().map_err(DecodeError::from)? != 0 {
            return Err(DecodeError::Invalid("ommers are not allowed").into());
        }
        let withdrawals =
            if count == 4 { withdrawals(&r.at(3).map_err(DecodeError::from)?)? } else { vec![] };
        Ok(Self { header, transactions, withdrawals })
    }
}

fn withdrawals(r: &Rlp<'_>) -> Result<Vec<Withdrawal>, DecodeError> {
    if !r.is_list() {
        return Err(DecodeError::Invalid("withdrawals are a list"));
    }
    if r.item_count()? > MAX_WITHDRAWALS {
        return Err(DecodeError::Invalid("too many withdrawals"));
    }
    r.iter().map(|item| Withdrawal::from_rlp(&item)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::trie::EMPTY_ROOT_HASH;
    use alloy_primitives::Address;

    #[test]
    fn withdrawals_go_with_the_withdrawals_root() {
        let header = Header {
            base_fee_per_gas: Some(7),
            withdrawals_root: Some(EMPTY_ROOT_HASH),
            ..Default::default()
        };
        let mut block = Block::new(header, vec![]);
        block.withdrawals.push(Withdrawal {
            address: Address::repeat_byte(2),
            amount: 1,
            ..Default::default()
        });
        assert_eq!(Block::decode(&block.encoded()).unwrap(), block);
        let mut flood = block.clone();
        flood.withdrawals = vec![Withdrawal::default(); MAX_WITHDRAWALS + 1];
        let err = Block::decode(&flood.encoded()).unwrap_err();
        assert!(err.to_string().contains("too many withdrawals"), "{err}");
        // A Shanghai header without the withdrawals list, or a pre-Shanghai one with it: refused.
        let mut s = RlpStream::new_list(3);
        block.header.append(&mut s);
        s.begin_list(0).begin_list(0);
        assert!(Block::decode(&s.out()).is_err());
        let old = Header::default();
        let mut s = RlpStream::new_list(4);
        old.append(&mut s);
        s.begin_list(0).begin_list(0).begin_list(0);
        assert!(Block::decode(&s.out()).is_err());
    }

    #[test]
    fn malformed_blocks_are_errors() {
        assert!(Block::decode(&[0xc3, 0xc0, 0xc0, 0xc0]).is_err());
        let mut s = RlpStream::new_list(3);
        Header::default().append(&mut s);
        s.begin_list(0).begin_list(1);
        Header::default().append(&mut s);
        assert!(Block::decode(&s.out()).is_err(), "ommers are refused");
    }
}
