//! The `eth_` namespace, state part: balances, nonces, code, storage, `eth_call`,
//! `eth_estimateGas`, `eth_createAccessList`, at the head or a recent block.

use super::evm_calls::evm_method;
use super::json::q;
use super::limits::RpcLimits;
use super::request::{self, OverrideJson, TxRequest};
use super::{method, BlockTag, RpcError};
use crate::execution::{self, CallLimits, CallOutcome};
use crate::node::Node;
use crate::primitives::{Address, Bytes, U256};
use alloy_primitives::B256;
use jsonrpsee::RpcModule;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub(super) fn register(
    m: &mut RpcModule<Node>,
    limits: &RpcLimits,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    method(m, "eth_getBalance", |params, node| {
        let (address, tag) = address_and_tag(params)?;
        Ok(json!(account(node, &address, tag)?.map(|a| a.balance).unwrap_or_default()))
    })?;
    method(m, "eth_getTransactionCount", |params, node| {
        let (address, tag) = address_and_tag(params)?;
        if tag == BlockTag::Pending {
            return Ok(json!(q(node.pending_nonce(&address)?)));
        }
        Ok(json!(q(account(node, &address, tag)?.map_or(0, |a| a.nonce))))
    })?;
    method(m, "eth_getCode", |params, node| {
        let (address, tag) = address_and_tag(params)?;
        let code = match account(node, &address, tag)? {
            Some(a) => node.store().code(&a.code_hash)?.unwrap_or_default(),
            None => Bytes::new(),
        };
        Ok(json!(code))
    })?;
    method(m, "eth_getStorageAt", |params, node| {
        let mut seq = params.sequence();
        let address: Address = seq.next()?;
        let slot: U256 = seq.next()?;
        let tag: Option<BlockTag> = seq.optional_next()?;
        let value = match tag.unwrap_or_default().state_at(node)? {
            None => node.store().storage(&address, &slot)?,
            Some(n) => {
                node.store().storage_at(&address, &slot, n)?.ok_or(RpcError::HistoricalState)?
            }
        };
        Ok(json!(B256::from(value)))
    })?;
    evm_method(m, "eth_call", limits, |params, node, limits| {
        let mut seq = params.sequence();
        let req: TxRequest = seq.next()?;
        let tag: Option<BlockTag> = seq.optional_next()?;
        let overrides = state_overrides(&mut seq)?;
        let out = run(node, &req, tag.unwrap_or_default(), &overrides, limits)?;
        ok_or_revert(out).map(|o| json!(o.output))
    })?;
    evm_method(m, "eth_createAccessList", limits, |params, node, limits| {
        let mut seq = params.sequence();
        let mut req: TxRequest = seq.next()?;
        let tag: Option<BlockTag> = seq.optional_next()?;
        let tag = tag.unwrap_or(BlockTag::Pending);
        let none = BTreeMap::new();
        // As geth: run, list what was touched, run again with that list until it is stable.
        let mut out = run(node, &req, tag, &none, limits)?;
        for _ in 0..3 {
            let list: Vec<request::AccessListEntry> = out
                .touched
                .iter()
                .map(|(a, keys)| request::AccessListEntry {
                    address: *a,
                    storage_keys: keys.clone(),
                })
                .collect();
            let same = list.len() == req.access_list.len()
                && list
                    .iter()
                    .zip(&req.access_list)
                    .all(|(a, b)| a.address == b.address && a.storage_keys == b.storage_keys);
            req.access_list = list;
            out = run(node, &req, tag, &none, limits)?;
            if same {
                break;
            }
        }
        let list: Vec<Value> = req
            .access_list
            .iter()
            .map(|e| json!({"address": e.address, "storageKeys": e.storage_keys}))
            .collect();
        let mut answer = json!({"accessList": list, "gasUsed": q(out.gas_used)});
        if !out.success {
            answer["error"] = json!(RpcError::Reverted(out.output.clone()).to_string());
        }
        Ok(answer)
    })?;
    evm_method(m, "eth_estimateGas", limits, |params, node, limits| {
        let mut seq = params.sequence();
        let req: TxRequest = seq.next()?;
        let tag: Option<BlockTag> = seq.optional_next()?;
        // The state override set, as `eth_call`'s (geth and viem pass one here too).
        let overrides = state_overrides(&mut seq)?;
        let (ctx, at) = context(node, tag.unwrap_or(BlockTag::Pending))?;
        let config = node.chain_config();
        let call = req.to_call();
        match execution::estimate_gas(node.store(), &config, &ctx, at, &call, &overrides, limits)? {
            Ok(gas) => Ok(json!(q(gas))),
            Err(failed) => ok_or_revert(failed).map(|_| Value::Null),
        }
    })?;
    Ok(())
}

/// The optional state override set that follows the block tag.
fn state_overrides(
    seq: &mut jsonrpsee::types::params::ParamsSequence<'_>,
) -> Result<BTreeMap<Address, execution::AccountOverride>, RpcError> {
    let overrides: Option<BTreeMap<Address, OverrideJson>> = seq.optional_next()?;
    Ok(overrides.unwrap_or_default().into_iter().map(|(a, o)| (a, o.into_override())).collect())
}

fn address_and_tag(
    params: jsonrpsee::types::Params<'static>,
) -> Result<(Address, BlockTag), RpcError> {
    let mut seq = params.sequence();
    let address: Address = seq.next()?;
    let tag: Option<BlockTag> = seq.optional_next()?;
    Ok((address, tag.unwrap_or_default()))
}

fn account(
    node: &Node,
    address: &Address,
    tag: BlockTag,
) -> Result<Option<crate::state::AccountRecord>, RpcError> {
    match tag.state_at(node)? {
        None => Ok(node.store().account(address)?),
        Some(n) => node.store().account_at(address, n)?.ok_or(RpcError::HistoricalState),
    }
}

/// The block context and state a call at `tag` runs in: `pending` runs on the head state in the
/// next block's context, others in their own block's context and state.
fn context(node: &Node, tag: BlockTag) -> Result<(execution::BlockContext, Option<u64>), RpcError> {
    if tag == BlockTag::Pending {
        return Ok((node.block_context(None), None));
    }
    let at = tag.state_at(node)?;
    let header =
        tag.header(node)?.ok_or_else(|| RpcError::UnknownBlock("block not found".into()))?;
    Ok((node.block_context(Some(&header)), at))
}

pub(super) fn run(
    node: &Node,
    req: &TxRequest,
    tag: BlockTag,
    overrides: &BTreeMap<Address, execution::AccountOverride>,
    limits: &CallLimits,
) -> Result<CallOutcome, RpcError> {
    let (ctx, at) = context(node, tag)?;
    let config = node.chain_config();
    Ok(execution::call(node.store(), &config, &ctx, at, &req.to_call(), overrides, limits)?)
}

pub(super) fn ok_or_revert(out: CallOutcome) -> Result<CallOutcome, RpcError> {
    match (&out.halt, out.success) {
        (_, true) => Ok(out),
        (Some(reason), false) => Err(RpcError::Halted(halt_message(reason))),
        (None, false) => Err(RpcError::Reverted(out.output)),
    }
}

fn halt_message(reason: &str) -> String {
    if reason.contains("OutOfGas") {
        "out of gas".into()
    } else {
        format!("execution halted: {reason}")
    }
}
