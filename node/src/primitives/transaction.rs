//! Transactions: legacy (with and without EIP-155), EIP-2930 and EIP-1559, their signing hashes,
//! network encodings (typed envelopes), hashes and sender recovery.

use super::rlp_ext::{
    address_at, append_bytes, append_kind, append_u256, b256_at, bytes_at, kind_at, list, u256_at,
};
use super::signature::{PrivateKey, Signature, SignatureError};
use super::DecodeError;
use alloy_primitives::{keccak256, Address, Bytes, TxKind, B256, U256};
use rlp::{DecoderError, Rlp, RlpStream};

/// The transaction types Daisee accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxType {
    /// Type 0: legacy, optionally replay-protected by EIP-155.
    Legacy = 0,
    /// Type 1: EIP-2930, with an access list.
    Eip2930 = 1,
    /// Type 2: EIP-1559, with a priority fee and a fee cap.
    Eip1559 = 2,
}

/// Why a transaction is malformed.
#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// The bytes do not decode as a transaction.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The type byte names a type Daisee does not support (blobs, set-code).
    #[error("transaction type {0} not supported")]
    UnsupportedType(u8),
    /// The signature is unusable.
    #[error(transparent)]
    Signature(#[from] SignatureError),
}

/// One entry of an EIP-2930 access list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AccessListItem {
    /// The account to warm.
    pub address: Address,
    /// The storage keys of that account to warm.
    pub storage_keys: Vec<B256>,
}

/// An unsigned transaction of any supported type. For legacy and EIP-2930 transactions both fee
/// fields hold the gas price.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Transaction {
    /// The type.
    pub tx_type: TxType,
    /// The chain id; `None` only for a legacy transaction without EIP-155.
    pub chain_id: Option<u64>,
    /// The sender's nonce.
    pub nonce: u64,
    /// Tip per gas for the block's signer (EIP-1559); the gas price otherwise. A 256-bit
    /// integer, as Ethereum encodes it: one above 2^128 can never pay, but it is well-formed.
    pub max_priority_fee_per_gas: U256,
    /// Fee cap per gas (EIP-1559); the gas price otherwise (256 bits, as the tip).
    pub max_fee_per_gas: U256,
    /// Gas limit.
    pub gas_limit: u64,
    /// Destination, or contract creation.
    pub to: TxKind,
    /// Wei sent.
    pub value: U256,
    /// Call data or init code.
    pub input: Bytes,
    /// Access list (EIP-2930 and EIP-1559).
    pub access_list: Vec<AccessListItem>,
}

impl Transaction {
    /// The hash the sender signs.
    pub fn signing_hash(&self) -> B256 {
        match self.tx_type {
            TxType::Legacy => {
                let mut s = RlpStream::new_list(if self.chain_id.is_some() { 9 } else { 6 });
                self.append_legacy_fields(&mut s);
                if let Some(id) = self.chain_id {
                    s.append(&id);
                    s.append(&0u8);
                    s.append(&0u8);
                }
                keccak256(s.out())
            }
            TxType::Eip2930 | TxType::Eip1559 => {
                let mut s = RlpStream::new_list(self.typed_field_count());
                self.append_typed_fields(&mut s);
                keccak256([&[self.tx_type as u8][..], &s.out()].concat())
            }
        }
    }

    /// Signs with `key`, giving a transaction ready to send.
    pub fn sign(self, key: &PrivateKey) -> SignedTransaction {
        let signature = key.sign_hash(&self.signing_hash());
        SignedTransaction::new(self, signature)
    }

    /// The price per gas actually paid at `base_fee`: the gas price for older types,
    /// `min(max_fee, base_fee + tip)` for EIP-1559; saturating at 2^128 - 1 (no balance pays
    /// that much per gas, and the EVM's gas price is 128 bits).
    pub fn effective_gas_price(&self, base_fee: Option<u64>) -> u128 {
        match (self.tx_type, base_fee) {
            (TxType::Eip1559, Some(base)) => {
                self.fee_cap().min(u128::from(base).saturating_add(self.tip_cap()))
            }
            _ => self.fee_cap(),
        }
    }

    /// The fee cap per gas (the gas price for older types), saturating at 2^128 - 1.
    pub fn fee_cap(&self) -> u128 {
        self.max_fee_per_gas.saturating_to()
    }

    /// The tip cap per gas (the gas price for older types), saturating at 2^128 - 1.
    pub fn tip_cap(&self) -> u128 {
        self.max_priority_fee_per_gas.saturating_to()
    }

    fn typed_field_count(&self) -> usize {
        if self.tx_type == TxType::Eip1559 {
            9
        } else {
            8
        }
    }

    fn append_legacy_fields(&self, s: &mut RlpStream) {
        s.append(&self.nonce);
        append_u256(s, &self.max_fee_per_gas);
        s.append(&self.gas_limit);
        append_kind(s, &self.to);
        append_u256(s, &self.value);
        append_bytes(s, &self.input);
    }

    fn append_typed_fields(&self, s: &mut RlpStream) {
        s.append(&self.chain_id.unwrap_or_default());
        s.append(&self.nonce);
        if self.tx_type == TxType::Eip1559 {
            append_u256(s, &self.max_priority_fee_per_gas);
        }
        append_u256(s, &self.max_fee_per_gas);
        s.append(&self.gas_limit);
        append_kind(s, &self.to);
        append_u256(s, &self.value);
        append_bytes(s, &self.input);
        s.begin_list(self.access_list.len());
        for item in &self.access_list {
            s.begin_list(2);
            append_bytes(s, item.address.as_slice());
            s.begin_list(item.storage_keys.len());
            for key in &item.storage_keys {
                append_bytes(s, key.as_slice());
            }
        }
    }
}

/// A signed transaction with its canonical encoding and hash, both computed once: a submitted
/// transaction's bytes are needed again and again (its size, the pool journal, gossip, the
/// block's transaction root, the stored body), and a clone shares them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SignedTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// The sender's signature.
    pub signature: Signature,
    encoded: Bytes,
    hash: B256,
}

impl SignedTransaction {
    /// Joins a transaction and its signature.
    pub fn new(tx: Transaction, signature: Signature) -> Self {
        let encoded = Bytes::from(encode(&tx, &signature));
        let hash = keccak256(&encoded);
        Self { tx, signature, encoded, hash }
    }

    /// The transaction hash.
    pub fn hash(&self) -> B256 {
        self.hash
    }

    /// Recovers the sender (EIP-2 low-s enforced).
    pub fn recover_sender(&self) -> Result<Address, SignatureError> {
        self.signature.recover(&self.tx.signing_hash())
    }

    /// The canonical encoding: an RLP list for legacy, `type ‖ rlp(fields)` for typed ones. This
    /// is what `eth_sendRawTransaction` takes and what the transaction trie holds.
    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }

    /// The same, shared rather than copied.
    pub fn encoded_bytes(&self) -> Bytes {
        self.encoded.clone()
    }

    /// Appends this transaction as an item of a block body: a list for legacy, a string
    /// holding the envelope for typed transactions.
    pub(crate) fn append_to_body(&self, s: &mut RlpStream) {
        match self.tx.tx_type {
            TxType::Legacy => s.append_raw(&self.encoded, 1),
            _ => s.append(&self.encoded.as_ref()),
        };
    }

    /// Reads an item of a block body.
    pub(crate) fn from_body_item(item: &Rlp<'_>) -> Result<Self, TxError> {
        if item.is_list() {
            Self::decode(item.as_raw())
        } else {
            Self::decode(item.data().map_err(DecodeError::from)?)
        }
    }

    /// Decodes the canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, TxError> {
        let Some(&first) = bytes.first() else {
            return Err(DecodeError::Invalid("empty transaction").into());
        };
        if first >= 0xc0 {
            return decode_legacy(bytes);
        }
        let tx_type = match first {
            1 => TxType::Eip2930,
            2 => TxType::Eip1559,
            other => return Err(TxError::UnsupportedType(other)),
        };
        decode_typed(tx_type, &bytes[1..])
    }
}

/// See [`SignedTransaction::encoded`].
fn encode(tx: &Transaction, signature: &Signature) -> Vec<u8> {
    match tx.tx_type {
        TxType::Legacy => {
            let mut s = RlpStream::new_list(9);
            tx.append_legacy_fields(&mut s);
            let v = match tx.chain_id {
                Some(id) => id * 2 + 35 + u64::from(signature.y_parity),
                None => 27 + u64::from(signature.y_parity),
            };
            s.append(&v);
            append_u256(&mut s, &signature.r);
            append_u256(&mut s, &signature.s);
            s.out().to_vec()
        }
        TxType::Eip2930 | TxType::Eip1559 => {
            let mut s = RlpStream::new_list(tx.typed_field_count() + 3);
            tx.append_typed_fields(&mut s);
            s.append(&u8::from(signature.y_parity));
            append_u256(&mut s, &signature.r);
            append_u256(&mut s, &signature.s);
            [&[tx.tx_type as u8][..], &s.out()].concat()
        }
    }
}

fn decode_legacy(bytes: &[u8]) -> Result<SignedTransaction, TxError> {
    let r = list(bytes)?;
    if r.item_count().map_err(DecodeError::from)? != 9 {
        return Err(DecodeError::Invalid("a legacy transaction has 9 fields").into());
    }
    let fields = || -> Result<_, DecoderError> {
        let v: u64 = r.val_at(6)?;
        let (chain_id, y_parity) = match v {
            27 | 28 => (None, v == 28),
            v if v >= 35 => (Some((v - 35) / 2), (v - 35) % 2 == 1),
            _ => return Err(DecoderError::Custom("invalid v")),
        };
        let gas_price = u256_at(&r, 1)?;
        let tx = Transaction {
            tx_type: TxType::Legacy,
            chain_id,
            nonce: r.val_at(0)?,
            max_priority_fee_per_gas: gas_price,
            max_fee_per_gas: gas_price,
            gas_limit: r.val_at(2)?,
            to: kind_at(&r, 3)?,
            value: u256_at(&r, 4)?,
            input: bytes_at(&r, 5)?,
            access_list: vec![],
        };
        let signature = Signature { r: u256_at(&r, 7)?, s: u256_at(&r, 8)?, y_parity };
        Ok((tx, signature))
    };
    let (tx, signature) = fields().map_err(DecodeError::from)?;
    Ok(SignedTransaction::new(tx, signature))
}

fn decode_typed(tx_type: TxType, bytes: &[u8]) -> Result<SignedTransaction, TxError> {
    let r = list(bytes)?;
    let dynamic = tx_type == TxType::Eip1559;
    let expected = if dynamic { 12 } else { 11 };
    if r.item_count().map_err(DecodeError::from)? != expected {
        return Err(DecodeError::Invalid("wrong number of transaction fields").into());
    }
    let fields = || -> Result<_, DecoderError> {
        let o = usize::from(dynamic);
        let max_fee = u256_at(&r, 2 + o)?;
        let tip = if dynamic { u256_at(&r, 2)? } else { max_fee };
        let tx = Transaction {
            tx_type,
            chain_id: Some(r.val_at(0)?),
            nonce: r.val_at(1)?,
            max_priority_fee_per_gas: tip,
            max_fee_per_gas: max_fee,
            gas_limit: r.val_at(3 + o)?,
            to: kind_at(&r, 4 + o)?,
            value: u256_at(&r, 5 + o)?,
            input: bytes_at(&r, 6 + o)?,
            access_list: decode_access_list(&r.at(7 + o)?)?,
        };
        let parity: u8 = r.val_at(8 + o)?;
        if parity > 1 {
            return Err(DecoderError::Custom("y parity must be 0 or 1"));
        }
        let signature =
            Signature { r: u256_at(&r, 9 + o)?, s: u256_at(&r, 10 + o)?, y_parity: parity == 1 };
        Ok((tx, signature))
    };
    let (tx, signature) = fields().map_err(DecodeError::from)?;
    Ok(SignedTransaction::new(tx, signature))
}

fn decode_access_list(r: &Rlp<'_>) -> Result<Vec<AccessListItem>, DecoderError> {
    r.iter()
        .map(|item| {
            if item.item_count()? != 2 {
                return Err(DecoderError::RlpIncorrectListLen);
            }
            let keys = item.at(1)?;
            let storage_keys =
                (0..keys.item_count()?).map(|i| b256_at(&keys, i)).collect::<Result<_, _>>()?;
            Ok(AccessListItem { address: address_at(&item, 0)?, storage_keys })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, b256, hex};

    fn key() -> PrivateKey {
        PrivateKey::from_bytes(&b256!(
            "4646464646464646464646464646464646464646464646464646464646464646"
        ))
        .unwrap()
    }

    #[test]
    fn eip155_example_from_the_eip() {
        // The worked example of EIP-155.
        let tx = Transaction {
            tx_type: TxType::Legacy,
            chain_id: Some(1),
            nonce: 9,
            max_priority_fee_per_gas: U256::from(20_000_000_000u64),
            max_fee_per_gas: U256::from(20_000_000_000u64),
            gas_limit: 21000,
            to: TxKind::Call(address!("3535353535353535353535353535353535353535")),
            value: U256::from(10u64).pow(U256::from(18)),
            input: Bytes::new(),
            access_list: vec![],
        };
        assert_eq!(
            tx.signing_hash(),
            b256!("daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53")
        );
        let signed = tx.sign(&key());
        assert_eq!(
            hex::encode(signed.encoded()),
            "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
        );
        let decoded = SignedTransaction::decode(signed.encoded()).unwrap();
        assert_eq!(decoded, signed);
        assert_eq!(decoded.recover_sender().unwrap(), key().address());
    }

    fn sample(tx_type: TxType) -> Transaction {
        Transaction {
            tx_type,
            chain_id: Some(31337),
            nonce: 3,
            max_priority_fee_per_gas: U256::from(if tx_type == TxType::Eip1559 {
                2
            } else {
                1_000_000_000
            }),
            max_fee_per_gas: U256::from(1_000_000_000),
            gas_limit: 100_000,
            to: TxKind::Create,
            value: U256::from(5),
            input: Bytes::from_static(&[0x60, 0x00]),
            access_list: vec![AccessListItem {
                address: Address::repeat_byte(1),
                storage_keys: vec![B256::repeat_byte(2)],
            }],
        }
    }

    #[test]
    fn typed_transactions_round_trip_and_recover() {
        for tx_type in [TxType::Eip2930, TxType::Eip1559] {
            let signed = sample(tx_type).sign(&key());
            let bytes = signed.encoded();
            assert_eq!(bytes[0], tx_type as u8);
            let decoded = SignedTransaction::decode(bytes).unwrap();
            assert_eq!(decoded, signed);
            assert_eq!(decoded.hash(), keccak256(bytes));
            assert_eq!(decoded.recover_sender().unwrap(), key().address());
        }
    }

    #[test]
    fn legacy_without_chain_id_round_trips() {
        let mut tx = sample(TxType::Legacy);
        tx.chain_id = None;
        tx.access_list.clear();
        let signed = tx.sign(&key());
        let decoded = SignedTransaction::decode(signed.encoded()).unwrap();
        assert_eq!(decoded.tx.chain_id, None);
        assert_eq!(decoded.recover_sender().unwrap(), key().address());
    }

    #[test]
    fn malformed_bytes_are_errors_not_panics() {
        let good = sample(TxType::Eip1559).sign(&key()).encoded().to_vec();
        assert!(SignedTransaction::decode(&[]).is_err());
        assert!(matches!(SignedTransaction::decode(&[3, 0xc0]), Err(TxError::UnsupportedType(3))));
        assert!(SignedTransaction::decode(&good[..good.len() - 1]).is_err());
        assert!(SignedTransaction::decode(&[&good[..], &[0]].concat()).is_err());
        for cut in 1..good.len() {
            let _ = SignedTransaction::decode(&good[..cut]);
        }
    }

    #[test]
    fn effective_gas_price_caps_the_tip() {
        let tx = sample(TxType::Eip1559);
        assert_eq!(tx.effective_gas_price(Some(7)), 9);
        assert_eq!(tx.effective_gas_price(Some(2_000_000_000)), 1_000_000_000);
    }
}
