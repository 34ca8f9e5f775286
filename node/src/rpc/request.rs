//! Request objects of JSON-RPC: transaction requests (`eth_call`, `eth_estimateGas`,
//! `eth_sendTransaction`), state overrides and log filters.

use crate::execution::{AccountOverride, CallRequest};
use crate::primitives::{Address, Bytes, B256, U256};
use alloy_primitives::{U128, U64};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A transaction request as clients send it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TxRequest {
    pub(crate) from: Option<Address>,
    pub(crate) to: Option<Address>,
    pub(crate) gas: Option<U64>,
    pub(crate) gas_price: Option<U128>,
    pub(crate) max_fee_per_gas: Option<U128>,
    pub(crate) max_priority_fee_per_gas: Option<U128>,
    pub(crate) value: Option<U256>,
    pub(crate) data: Option<Bytes>,
    pub(crate) input: Option<Bytes>,
    pub(crate) nonce: Option<U64>,
    pub(crate) chain_id: Option<U64>,
    #[serde(default)]
    pub(crate) access_list: Vec<AccessListEntry>,
    #[serde(rename = "type")]
    pub(crate) tx_type: Option<U64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccessListEntry {
    pub(crate) address: Address,
    #[serde(default)]
    pub(crate) storage_keys: Vec<B256>,
}

impl TxRequest {
    /// The call data (`input` wins over `data`, as in geth).
    pub(crate) fn input(&self) -> Option<Bytes> {
        self.input.clone().or_else(|| self.data.clone())
    }

    pub(crate) fn to_call(&self) -> CallRequest {
        CallRequest {
            from: self.from,
            to: self.to,
            gas: self.gas.map(|g| g.to()),
            gas_price: self.gas_price.map(|g| g.to()),
            max_fee_per_gas: self.max_fee_per_gas.map(|g| g.to()),
            max_priority_fee_per_gas: self.max_priority_fee_per_gas.map(|g| g.to()),
            value: self.value,
            input: self.input(),
            access_list: self
                .access_list
                .iter()
                .map(|e| (e.address, e.storage_keys.clone()))
                .collect(),
        }
    }
}

/// One account's override in `eth_call`'s third parameter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OverrideJson {
    balance: Option<U256>,
    nonce: Option<U64>,
    code: Option<Bytes>,
    state: Option<BTreeMap<B256, B256>>,
    state_diff: Option<BTreeMap<B256, B256>>,
}

impl OverrideJson {
    pub(crate) fn into_override(self) -> AccountOverride {
        let slots = |m: BTreeMap<B256, B256>| -> BTreeMap<U256, U256> {
            m.into_iter()
                .map(|(k, v)| (U256::from_be_bytes(k.0), U256::from_be_bytes(v.0)))
                .collect()
        };
        AccountOverride {
            balance: self.balance,
            nonce: self.nonce.map(|n| n.to()),
            code: self.code,
            state: self.state.map(slots),
            state_diff: self.state_diff.map(slots).unwrap_or_default(),
        }
    }
}

/// One address or several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    pub(crate) fn to_vec(&self) -> Vec<T> {
        match self {
            Self::One(v) => vec![v.clone()],
            Self::Many(v) => v.clone(),
        }
    }
}

/// A log filter (`eth_getLogs`, `eth_newFilter`, `logs` subscriptions).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FilterJson {
    pub(crate) from_block: Option<super::BlockTag>,
    pub(crate) to_block: Option<super::BlockTag>,
    pub(crate) block_hash: Option<B256>,
    pub(crate) address: Option<OneOrMany<Address>>,
    #[serde(default)]
    pub(crate) topics: Vec<Option<OneOrMany<B256>>>,
}
