//! Genesis files in go-ethereum's `genesis.json` format: reading them (with geth's quirks),
//! writing them, and deriving the genesis header and state exactly as geth does.

mod config;
mod contract_upgrade;
mod fork_id;
mod quantity;
mod transitions;
mod upgrade;
#[cfg(test)]
mod vector_tests;

pub use config::{ChainConfig, CliqueConfig};
pub use contract_upgrade::{
    ContractUpgrade, ContractUpgradeError, MAX_CODE_BYTES, MAX_CONTRACT_UPGRADES,
};
pub use fork_id::{fork_is_time, ForkAgreement, ForkFilter, ForkId, ForkMismatch};
pub use transitions::{CliqueTransition, TransitionError, MAX_TRANSITIONS};
pub use upgrade::{UpgradeError, UpgradePlan};

use crate::primitives::{
    keccak256,
    trie::{self, TrieAccount, EMPTY_ROOT_HASH, KECCAK_EMPTY},
    Address, Bytes, Header, B256, EMPTY_OMMERS_HASH, EMPTY_REQUESTS_HASH, U256,
};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// geth's gas limit for a genesis that gives none.
const DEFAULT_GAS_LIMIT: u64 = 4_712_388;
/// geth's difficulty for a genesis that gives neither difficulty nor mix hash.
const DEFAULT_DIFFICULTY: u64 = 131_072;
/// geth's base fee for a London genesis that gives none (1 gwei).
const DEFAULT_BASE_FEE: u64 = 1_000_000_000;

/// Why a genesis file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// The file is not valid JSON of the expected shape.
    #[error("invalid genesis file: {0}")]
    Json(#[from] serde_json::Error),
    /// The Clique transitions are malformed.
    #[error("invalid genesis file: {0}")]
    Transitions(#[from] TransitionError),
    /// The contract upgrades are malformed.
    #[error("invalid genesis file: {0}")]
    ContractUpgrades(#[from] ContractUpgradeError),
}

/// One pre-funded or predeployed account.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct GenesisAccount {
    /// Balance in wei.
    #[serde(default, deserialize_with = "quantity::u256")]
    pub balance: U256,
    /// Nonce.
    #[serde(default, deserialize_with = "quantity::u64")]
    pub nonce: u64,
    /// Runtime code.
    #[serde(default, deserialize_with = "quantity::bytes")]
    pub code: Bytes,
    /// Storage slots.
    #[serde(default, deserialize_with = "storage")]
    pub storage: BTreeMap<U256, U256>,
}

impl GenesisAccount {
    /// The account as the state trie holds it.
    pub fn trie_account(&self) -> TrieAccount {
        TrieAccount {
            nonce: self.nonce,
            balance: self.balance,
            storage_root: trie::storage_root(self.storage.iter().map(|(k, v)| (*k, *v))),
            code_hash: if self.code.is_empty() { KECCAK_EMPTY } else { keccak256(&self.code) },
        }
    }
}

fn storage<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<U256, U256>, D::Error> {
    use serde::de::Error;
    let raw = Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default();
    raw.iter()
        .map(|(k, v)| {
            let key = quantity::bytes_from_str(k).map_err(D::Error::custom)?;
            let value = quantity::bytes_from_str(v).map_err(D::Error::custom)?;
            if key.len() > 32 || value.len() > 32 {
                return Err(D::Error::custom("storage keys and values are at most 32 bytes"));
            }
            Ok((U256::from_be_slice(&key), U256::from_be_slice(&value)))
        })
        .collect()
}

fn alloc<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Address, GenesisAccount>, D::Error> {
    use serde::de::Error;
    let raw = BTreeMap::<String, GenesisAccount>::deserialize(d)?;
    raw.into_iter()
        .map(|(k, v)| Ok((quantity::address_from_str(&k).map_err(D::Error::custom)?, v)))
        .collect()
}

/// A genesis file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Genesis {
    /// Chain id, fork schedule and Clique parameters.
    pub config: ChainConfig,
    /// Header nonce.
    #[serde(default, deserialize_with = "quantity::nonce")]
    pub nonce: [u8; 8],
    /// Header timestamp.
    #[serde(default, deserialize_with = "quantity::u64")]
    pub timestamp: u64,
    /// Header extra data (Clique: vanity ‖ signers ‖ 65 zero bytes).
    #[serde(default, deserialize_with = "quantity::bytes")]
    pub extra_data: Bytes,
    /// Header gas limit (0: geth's default).
    #[serde(default, deserialize_with = "quantity::u64")]
    pub gas_limit: u64,
    /// Header difficulty (absent: geth's default unless a mix hash is given).
    #[serde(default, deserialize_with = "quantity::opt_u256")]
    pub difficulty: Option<U256>,
    /// Header mix hash.
    #[serde(default, deserialize_with = "quantity::b256")]
    pub mix_hash: B256,
    /// Header beneficiary.
    #[serde(default, deserialize_with = "quantity::address")]
    pub coinbase: Address,
    /// Base fee (London at genesis; absent: 1 gwei).
    #[serde(default, deserialize_with = "quantity::opt_u64")]
    pub base_fee_per_gas: Option<u64>,
    /// Pre-funded and predeployed accounts.
    #[serde(default, deserialize_with = "alloc")]
    pub alloc: BTreeMap<Address, GenesisAccount>,
}

impl Genesis {
    /// Parses a genesis file's text.
    pub fn from_json(text: &str) -> Result<Self, GenesisError> {
        let genesis: Self = serde_json::from_str(text)?;
        if let Some(clique) = &genesis.config.clique {
            transitions::check(&clique.transitions)?;
        }
        contract_upgrade::check(&genesis.config.contract_upgrades)?;
        Ok(genesis)
    }

    /// Root of the genesis state.
    pub fn state_root(&self) -> B256 {
        trie::state_root(self.alloc.iter().map(|(a, acc)| (*a, acc.trie_account())))
    }

    /// The genesis header, field for field as geth builds it.
    pub fn header(&self) -> Header {
        let c = &self.config;
        let t = self.timestamp;
        let difficulty = match self.difficulty {
            Some(d) => d,
            None if self.mix_hash == B256::ZERO => U256::from(DEFAULT_DIFFICULTY),
            None => U256::ZERO,
        };
        let cancun = c.is_cancun(t);
        Header {
            parent_hash: B256::ZERO,
            ommers_hash: EMPTY_OMMERS_HASH,
            beneficiary: self.coinbase,
            state_root: self.state_root(),
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            logs_bloom: Default::default(),
            difficulty,
            number: 0,
            gas_limit: if self.gas_limit == 0 { DEFAULT_GAS_LIMIT } else { self.gas_limit },
            gas_used: 0,
            timestamp: t,
            extra_data: self.extra_data.clone(),
            mix_hash: self.mix_hash,
            nonce: self.nonce,
            base_fee_per_gas: c
                .is_london(0)
                .then(|| self.base_fee_per_gas.unwrap_or(DEFAULT_BASE_FEE)),
            withdrawals_root: c.is_shanghai(t).then_some(EMPTY_ROOT_HASH),
            blob_gas_used: cancun.then_some(0),
            excess_blob_gas: cancun.then_some(0),
            parent_beacon_block_root: cancun.then_some(B256::ZERO),
            requests_hash: c.is_prague(t).then_some(EMPTY_REQUESTS_HASH),
        }
    }

    /// The genesis file as JSON in geth's format (hex quantities, lower-case addresses).
    pub fn to_json(&self) -> Value {
        let hex_u256 = |v: &U256| format!("{v:#x}");
        let mut alloc = Map::new();
        for (address, acc) in &self.alloc {
            let mut entry = Map::new();
            entry.insert("balance".into(), json!(hex_u256(&acc.balance)));
            if acc.nonce != 0 {
                entry.insert("nonce".into(), json!(format!("{:#x}", acc.nonce)));
            }
            if !acc.code.is_empty() {
                entry.insert("code".into(), json!(acc.code.to_string()));
            }
            if !acc.storage.is_empty() {
                let slots: Map<String, Value> = acc
                    .storage
                    .iter()
                    .map(|(k, v)| (B256::from(*k).to_string(), json!(B256::from(*v).to_string())))
                    .collect();
                entry.insert("storage".into(), Value::Object(slots));
            }
            alloc.insert(format!("{address:#x}"), Value::Object(entry));
        }
        let mut out = json!({
            "config": self.config,
            "nonce": format!("{:#x}", u64::from_be_bytes(self.nonce)),
            "timestamp": format!("{:#x}", self.timestamp),
            "extraData": self.extra_data.to_string(),
            "gasLimit": format!("{:#x}", self.gas_limit),
            "difficulty": hex_u256(&self.difficulty.unwrap_or_default()),
            "mixHash": self.mix_hash.to_string(),
            "coinbase": format!("{:#x}", self.coinbase),
            "alloc": alloc,
        });
        if let Some(fee) = self.base_fee_per_gas {
            out["baseFeePerGas"] = json!(format!("{fee:#x}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::b256;

    const SEPOLIA: &str = include_str!("../../tests/fixtures/sepolia.genesis.json");

    #[test]
    fn sepolia_genesis_matches_geth() {
        let genesis = Genesis::from_json(SEPOLIA).unwrap();
        assert_eq!(genesis.config.chain_id, 11_155_111);
        let header = genesis.header();
        assert_eq!(
            header.state_root,
            b256!("5eb6e371a698b8d68f665192350ffcecbbbf322916f4b51bd79bb6887da3f494")
        );
        assert_eq!(header.base_fee_per_gas, Some(1_000_000_000));
        assert_eq!(header.withdrawals_root, None, "Shanghai is not active at genesis");
        assert_eq!(
            header.hash(),
            b256!("25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9")
        );
    }

    #[test]
    fn written_genesis_reads_back_identically() {
        let mut genesis = Genesis::from_json(SEPOLIA).unwrap();
        genesis.alloc.entry(Address::repeat_byte(1)).or_default().storage =
            BTreeMap::from([(U256::from(1), U256::from(0xdead))]);
        genesis.alloc.entry(Address::repeat_byte(1)).or_default().code =
            Bytes::from_static(&[0x60, 0x00]);
        genesis.base_fee_per_gas = Some(7);
        let text = serde_json::to_string_pretty(&genesis.to_json()).unwrap();
        let back = Genesis::from_json(&text).unwrap();
        assert_eq!(back.header().hash(), genesis.header().hash());
        assert_eq!(back.alloc, genesis.alloc);
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let err = Genesis::from_json(r#"{"config": {"chainId": "0xzz"}}"#).unwrap_err();
        assert!(err.to_string().contains("invalid number"), "{err}");
        assert!(Genesis::from_json("not json").is_err());
    }
}
