//! The `eth_` namespace, sending part: raw transactions, and for accounts unlocked on this node
//! `eth_sendTransaction`, `eth_signTransaction` and `eth_sign`.

use super::eth_fees::DEFAULT_TIP;
use super::eth_state::ok_or_revert;
use super::json as shape;
use super::request::TxRequest;
use super::{method, RpcError};
use crate::node::Node;
use crate::primitives::{
    keccak256, AccessListItem, Address, Bytes, PrivateKey, Transaction, TxKind, TxType, U256,
};
use jsonrpsee::RpcModule;
use serde_json::json;

pub(super) fn register(
    m: &mut RpcModule<Node>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    method(m, "eth_accounts", |_, node| Ok(json!(node.accounts())))?;
    method(m, "eth_coinbase", |_, node| Ok(json!(node.signer().unwrap_or_default())))?;
    method(m, "eth_mining", |_, node| Ok(json!(node.signer().is_some())))?;
    method(m, "eth_sendRawTransaction", |params, node| {
        let raw: Bytes = params.one()?;
        Ok(json!(node.submit_raw(&raw)?))
    })?;
    method(m, "eth_sendTransaction", |params, node| {
        let req: TxRequest = params.one()?;
        let (tx, key) = fill(node, &req)?;
        Ok(json!(node.submit(tx.sign(&key))?))
    })?;
    method(m, "eth_signTransaction", |params, node| {
        let req: TxRequest = params.one()?;
        let (tx, key) = fill(node, &req)?;
        let signed = tx.sign(&key);
        Ok(
            json!({"raw": signed.encoded_bytes(), "tx": shape::transaction(&signed, key.address(), None)}),
        )
    })?;
    method(m, "eth_sign", |params, node| {
        let (address, message): (Address, Bytes) = params.parse()?;
        let key = node.unlocked_key(&address).ok_or(RpcError::UnknownAccount)?;
        let prefix = format!("\x19Ethereum Signed Message:\n{}", message.len());
        let hash = keccak256([prefix.as_bytes(), &message].concat());
        let mut sig = key.sign_hash(&hash).to_bytes();
        sig[64] += 27;
        Ok(json!(Bytes::copy_from_slice(&sig)))
    })?;
    Ok(())
}

/// Completes a request from an unlocked account: nonce, fees, gas, chain id.
fn fill(node: &Node, req: &TxRequest) -> Result<(Transaction, PrivateKey), RpcError> {
    let from = req.from.ok_or_else(|| RpcError::InvalidParams("missing from".into()))?;
    let key = node.unlocked_key(&from).ok_or(RpcError::UnknownAccount)?;
    let chain_id = node.chain_id();
    if let Some(id) = req.chain_id.map(|c| c.to::<u64>()).filter(|id| *id != chain_id) {
        return Err(RpcError::InvalidParams(format!("chainId {id} does not match {chain_id}")));
    }
    let nonce = match req.nonce {
        Some(n) => n.to(),
        None => node.pending_nonce(&from)?,
    };
    let base_fee = node.block_context(None).base_fee;
    let access_list: Vec<AccessListItem> = req
        .access_list
        .iter()
        .map(|e| AccessListItem { address: e.address, storage_keys: e.storage_keys.clone() })
        .collect();
    let legacy_price = req.gas_price.map(|p| p.to::<u128>());
    let wants_legacy = legacy_price.is_some()
        || req.tx_type.is_some_and(|t| t.to::<u64>() < 2)
        || base_fee.is_none();
    let (tx_type, tip, max_fee) = if wants_legacy {
        let price = legacy_price.unwrap_or(u128::from(base_fee.unwrap_or(0)) + DEFAULT_TIP);
        let kind = if access_list.is_empty() && req.tx_type.is_none_or(|t| t.to::<u64>() == 0) {
            TxType::Legacy
        } else {
            TxType::Eip2930
        };
        (kind, price, price)
    } else {
        let tip = req.max_priority_fee_per_gas.map_or(DEFAULT_TIP, |t| t.to());
        let max_fee =
            req.max_fee_per_gas.map_or(2 * u128::from(base_fee.unwrap_or(0)) + tip, |f| f.to());
        (TxType::Eip1559, tip, max_fee)
    };
    let gas = match req.gas {
        Some(g) => g.to(),
        None => {
            let mut probe = req.clone();
            probe.gas = None;
            let ctx = node.block_context(None);
            let config = node.chain_config();
            match crate::execution::estimate_gas(
                node.store(),
                &config,
                &ctx,
                None,
                &probe.to_call(),
                &std::collections::BTreeMap::new(),
                &crate::execution::CallLimits {
                    deadline: Some(
                        std::time::Instant::now() + super::limits::SEND_ESTIMATE_TIMEOUT,
                    ),
                    ..Default::default()
                },
            )? {
                Ok(g) => g,
                Err(failed) => {
                    ok_or_revert(failed)?;
                    return Err(RpcError::Internal("gas estimation failed".into()));
                }
            }
        }
    };
    let tx = Transaction {
        tx_type,
        chain_id: Some(chain_id),
        nonce,
        max_priority_fee_per_gas: U256::from(tip),
        max_fee_per_gas: U256::from(max_fee),
        gas_limit: gas,
        to: req.to.map_or(TxKind::Create, TxKind::Call),
        value: req.value.unwrap_or_default(),
        input: req.input().unwrap_or_default(),
        access_list,
    };
    Ok((tx, key))
}
