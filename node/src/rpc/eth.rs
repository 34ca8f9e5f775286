//! The `eth_` namespace: chain, blocks, accounts, transactions and receipts.

use super::json::{self, q, Location};
use super::{method, BlockTag, RpcError};
use crate::node::Node;
use crate::primitives::{Address, Block, Bytes, B256};
use jsonrpsee::RpcModule;
use serde_json::{json, Value};

pub(super) fn register(
    m: &mut RpcModule<Node>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    method(m, "eth_chainId", |_, node| Ok(json!(q(node.chain_id()))))?;
    method(m, "eth_blockNumber", |_, node| Ok(json!(q(node.head().number))))?;
    method(m, "eth_syncing", |_, _| Ok(json!(false)))?;
    method(m, "eth_getBlockByNumber", |params, node| {
        let mut seq = params.sequence();
        let tag: BlockTag = seq.next()?;
        let full: Option<bool> = seq.optional_next()?;
        let number = tag.number(node.head().number);
        match node.store().canonical_hash(number)? {
            Some(hash) => block_json(node, &hash, full.unwrap_or(false)),
            None => Ok(Value::Null),
        }
    })?;
    method(m, "eth_getBlockByHash", |params, node| {
        let mut seq = params.sequence();
        let hash: B256 = seq.next()?;
        let full: Option<bool> = seq.optional_next()?;
        block_json(node, &hash, full.unwrap_or(false))
    })?;
    method(m, "eth_getBalance", |params, node| {
        let (address, tag) = address_and_tag(params)?;
        latest_only(node, tag)?;
        Ok(json!(node.store().account(&address)?.map(|a| a.balance).unwrap_or_default()))
    })?;
    method(m, "eth_getTransactionCount", |params, node| {
        let (address, tag) = address_and_tag(params)?;
        if tag == BlockTag::Pending {
            return Ok(json!(q(node.pending_nonce(&address)?)));
        }
        latest_only(node, tag)?;
        Ok(json!(q(node.store().account(&address)?.map_or(0, |a| a.nonce))))
    })?;
    method(m, "eth_getCode", |params, node| {
        let (address, tag) = address_and_tag(params)?;
        latest_only(node, tag)?;
        let store = node.store();
        let code = match store.account(&address)? {
            Some(a) => store.code(&a.code_hash)?.unwrap_or_default(),
            None => Bytes::new(),
        };
        Ok(json!(code))
    })?;
    method(m, "eth_sendRawTransaction", |params, node| {
        let raw: Bytes = params.one()?;
        Ok(json!(node.submit_raw(&raw)?))
    })?;
    method(m, "eth_getTransactionByHash", |params, node| {
        let hash: B256 = params.one()?;
        if let Some((tx, from)) = node.pooled(&hash) {
            return Ok(json::transaction(&tx, from, None));
        }
        let Some((block, index)) = locate(node, &hash)? else { return Ok(Value::Null) };
        let tx = &block.transactions[index];
        let from = recover(tx)?;
        let at = Location {
            block_hash: block.header.hash(),
            block_number: block.header.number,
            index: index as u64,
            base_fee: block.header.base_fee_per_gas,
        };
        Ok(json::transaction(tx, from, Some(at)))
    })?;
    method(m, "debug_getRawHeader", |params, node| {
        let tag: BlockTag = params.one()?;
        let header = node.store().header_by_number(tag.number(node.head().number))?;
        Ok(header.map(|h| json!(Bytes::from(h.encoded()))).unwrap_or(Value::Null))
    })?;
    method(m, "debug_getRawBlock", |params, node| {
        let tag: BlockTag = params.one()?;
        let store = node.store();
        let block = match store.canonical_hash(tag.number(node.head().number))? {
            Some(hash) => store.block(&hash)?,
            None => None,
        };
        Ok(block.map(|b| json!(Bytes::from(b.encoded()))).unwrap_or(Value::Null))
    })?;
    method(m, "eth_getTransactionReceipt", |params, node| {
        let hash: B256 = params.one()?;
        let Some((block, index)) = locate(node, &hash)? else { return Ok(Value::Null) };
        let receipts = node.store().receipts(&block.header.hash())?.ok_or_else(|| {
            RpcError::Store(crate::state::StoreError::Corrupt("receipts missing".into()))
        })?;
        let first_log = receipts[..index].iter().map(|r| r.logs.len()).sum();
        let from = recover(&block.transactions[index])?;
        Ok(json::receipt(&block, &receipts, index, from, first_log))
    })?;
    Ok(())
}

fn address_and_tag(
    params: jsonrpsee::types::Params<'static>,
) -> Result<(Address, BlockTag), RpcError> {
    let mut seq = params.sequence();
    let address: Address = seq.next()?;
    let tag: Option<BlockTag> = seq.optional_next()?;
    Ok((address, tag.unwrap_or_default()))
}

/// State is served at the head only, for now.
fn latest_only(node: &Node, tag: BlockTag) -> Result<(), RpcError> {
    let head = node.head().number;
    if tag.number(head) == head {
        Ok(())
    } else {
        Err(RpcError::HistoricalState)
    }
}

fn recover(tx: &crate::primitives::SignedTransaction) -> Result<Address, RpcError> {
    tx.recover_sender()
        .map_err(|e| RpcError::Store(crate::state::StoreError::Corrupt(e.to_string())))
}

fn locate(node: &Node, hash: &B256) -> Result<Option<(Block, usize)>, RpcError> {
    let Some((block_hash, index)) = node.store().tx_location(hash)? else { return Ok(None) };
    let block = node.store().block(&block_hash)?;
    Ok(block.map(|b| (b, index as usize)))
}

fn block_json(node: &Node, hash: &B256, full: bool) -> Result<Value, RpcError> {
    let Some(block) = node.store().block(hash)? else { return Ok(Value::Null) };
    let senders = if full {
        block.transactions.iter().map(recover).collect::<Result<Vec<_>, _>>()?
    } else {
        vec![Address::ZERO; block.transactions.len()]
    };
    Ok(json::block(&block, &senders, full))
}
