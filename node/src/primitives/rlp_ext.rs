//! Helpers for the `rlp` crate: Ethereum's big integers, fixed-size hashes and addresses, and
//! strict top-level decoding (no trailing bytes).

use super::DecodeError;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use rlp::{DecoderError, Rlp, RlpStream};

/// Appends `v` as a minimal big-endian integer.
pub(crate) fn append_u256(s: &mut RlpStream, v: &U256) {
    s.append(&v.to_be_bytes_trimmed_vec());
}

/// Appends raw bytes as an RLP string.
pub(crate) fn append_bytes(s: &mut RlpStream, v: &[u8]) {
    s.append(&v);
}

/// Appends a transaction's destination: the address, or the empty string for a creation.
pub(crate) fn append_kind(s: &mut RlpStream, kind: &TxKind) {
    match kind {
        TxKind::Call(to) => append_bytes(s, to.as_slice()),
        TxKind::Create => append_bytes(s, &[]),
    }
}

/// Reads item `i` as a big-endian integer of at most 32 bytes with no leading zero.
pub(crate) fn u256_at(r: &Rlp<'_>, i: usize) -> Result<U256, DecoderError> {
    let data = r.at(i)?.data()?;
    if data.len() > 32 {
        return Err(DecoderError::Custom("integer longer than 32 bytes"));
    }
    if data.first() == Some(&0) {
        return Err(DecoderError::RlpInvalidIndirection);
    }
    Ok(U256::from_be_slice(data))
}

/// Reads item `i` as exactly 32 bytes.
pub(crate) fn b256_at(r: &Rlp<'_>, i: usize) -> Result<B256, DecoderError> {
    let data = r.at(i)?.data()?;
    B256::try_from(data).map_err(|_| DecoderError::Custom("expected 32 bytes"))
}

/// Reads item `i` as exactly 20 bytes.
pub(crate) fn address_at(r: &Rlp<'_>, i: usize) -> Result<Address, DecoderError> {
    let data = r.at(i)?.data()?;
    Address::try_from(data).map_err(|_| DecoderError::Custom("expected a 20-byte address"))
}

/// Reads item `i` as a destination: 20 bytes, or empty for a creation.
pub(crate) fn kind_at(r: &Rlp<'_>, i: usize) -> Result<TxKind, DecoderError> {
    let data = r.at(i)?.data()?;
    if data.is_empty() {
        return Ok(TxKind::Create);
    }
    Address::try_from(data)
        .map(TxKind::Call)
        .map_err(|_| DecoderError::Custom("expected a 20-byte address"))
}

/// Reads item `i` as a byte string.
pub(crate) fn bytes_at(r: &Rlp<'_>, i: usize) -> Result<Bytes, DecoderError> {
    Ok(Bytes::copy_from_slice(r.at(i)?.data()?))
}

/// Opens `bytes` as one RLP list that spans all of it (no trailing bytes).
pub(crate) fn list(bytes: &[u8]) -> Result<Rlp<'_>, DecodeError> {
    let r = Rlp::new(bytes);
    if r.payload_info()?.total() != bytes.len() {
        return Err(DecoderError::RlpIsTooBig.into());
    }
    if !r.is_list() {
        return Err(DecoderError::RlpExpectedToBeList.into());
    }
    Ok(r)
}
