//! geth's lenient JSON numbers and hex: `"0x1f"`, odd-length hex (`"0x0"`), mixed case, decimal
//! strings (`"1000"`) and bare JSON numbers are all accepted where geth accepts a quantity.

use alloy_primitives::{Address, Bytes, B256, U256};
use serde::{de::Error, Deserialize, Deserializer};

/// A JSON value that holds a number in any of geth's spellings.
#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Text(String),
    Number(u64),
}

/// Parses a quantity written in hex (`0x…`) or decimal.
pub(crate) fn u256_from_str(text: &str) -> Result<U256, String> {
    let t = text.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some("") => Ok(U256::ZERO),
        Some(hex) => U256::from_str_radix(hex, 16),
        None => U256::from_str_radix(t, 10),
    };
    parsed.map_err(|e| format!("invalid number {text:?}: {e}"))
}

/// Hex bytes with or without `0x`, odd length padded on the left.
pub(crate) fn bytes_from_str(text: &str) -> Result<Vec<u8>, String> {
    let t = text.trim();
    let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    let padded = if hex.len() % 2 == 1 { format!("0{hex}") } else { hex.to_string() };
    hex::decode(&padded).map_err(|e| format!("invalid hex {text:?}: {e}"))
}

/// Deserializes a 256-bit quantity.
pub(crate) fn u256<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
    match Raw::deserialize(d)? {
        Raw::Text(t) => u256_from_str(&t).map_err(D::Error::custom),
        Raw::Number(n) => Ok(U256::from(n)),
    }
}

/// Deserializes an optional 256-bit quantity (`null` or absent is `None`).
pub(crate) fn opt_u256<'de, D: Deserializer<'de>>(d: D) -> Result<Option<U256>, D::Error> {
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Text(t)) => u256_from_str(&t).map(Some).map_err(D::Error::custom),
        Some(Raw::Number(n)) => Ok(Some(U256::from(n))),
    }
}

/// Deserializes a 64-bit quantity.
pub(crate) fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    u64::try_from(u256(d)?).map_err(|_| D::Error::custom("number does not fit in 64 bits"))
}

/// Deserializes an optional 64-bit quantity.
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    opt_u256(d)?
        .map(|v| u64::try_from(v).map_err(|_| D::Error::custom("number does not fit in 64 bits")))
        .transpose()
}

/// Deserializes hex bytes.
pub(crate) fn bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
    let text = Option::<String>::deserialize(d)?.unwrap_or_default();
    bytes_from_str(&text).map(Bytes::from).map_err(D::Error::custom)
}

/// Deserializes a 32-byte hash, left-padding short hex.
pub(crate) fn b256<'de, D: Deserializer<'de>>(d: D) -> Result<B256, D::Error> {
    let text = Option::<String>::deserialize(d)?.unwrap_or_default();
    let raw = bytes_from_str(&text).map_err(D::Error::custom)?;
    if raw.len() > 32 {
        return Err(D::Error::custom(format!("{text:?} is longer than 32 bytes")));
    }
    Ok(B256::left_padding_from(&raw))
}

/// Deserializes the 8-byte header nonce from a quantity (`"0x0"`, `"0x42"`).
pub(crate) fn nonce<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 8], D::Error> {
    Ok(u64(d)?.to_be_bytes())
}

/// Parses an address with or without `0x`.
pub(crate) fn address_from_str(text: &str) -> Result<Address, String> {
    let raw = bytes_from_str(text)?;
    Address::try_from(raw.as_slice()).map_err(|_| format!("{text:?} is not a 20-byte address"))
}

/// Deserializes an address with or without `0x`.
pub(crate) fn address<'de, D: Deserializer<'de>>(d: D) -> Result<Address, D::Error> {
    let text = Option::<String>::deserialize(d)?.unwrap_or_default();
    if text.is_empty() {
        return Ok(Address::ZERO);
    }
    address_from_str(&text).map_err(D::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_geth_accepts() {
        assert_eq!(u256_from_str("0x0").unwrap(), U256::ZERO);
        assert_eq!(u256_from_str("0x").unwrap(), U256::ZERO);
        assert_eq!(u256_from_str("0XfF").unwrap(), U256::from(255));
        assert_eq!(u256_from_str("1000").unwrap(), U256::from(1000));
        assert!(u256_from_str("0xzz").is_err());
        assert_eq!(bytes_from_str("0x123").unwrap(), vec![0x01, 0x23]);
        assert_eq!(bytes_from_str("abCD").unwrap(), vec![0xab, 0xcd]);
        assert!(address_from_str("0x12").is_err());
    }
}
