//! The `eth_` namespace, chain part: blocks, transactions and receipts by number, hash, index.

use super::json::{self, q, Location};
use super::{method, BlockTag, RpcError};
use crate::node::Node;
use crate::primitives::{Address, Block, SignedTransaction, B256};
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
        match canonical_block(node, tag)? {
            Some(block) => block_json(&block, full.unwrap_or(false)),
            None => Ok(Value::Null),
        }
    })?;
    method(m, "eth_getBlockByHash", |params, node| {
        let mut seq = params.sequence();
        let hash: B256 = seq.next()?;
        let full: Option<bool> = seq.optional_next()?;
        match node.store().block(&hash)? {
            Some(block) => block_json(&block, full.unwrap_or(false)),
            None => Ok(Value::Null),
        }
    })?;
    method(m, "eth_getBlockTransactionCountByNumber", |params, node| {
        let tag: BlockTag = params.one()?;
        Ok(canonical_block(node, tag)?
            .map_or(Value::Null, |b| json!(q(b.transactions.len() as u64))))
    })?;
    method(m, "eth_getBlockTransactionCountByHash", |params, node| {
        let hash: B256 = params.one()?;
        Ok(node
            .store()
            .block(&hash)?
            .map_or(Value::Null, |b| json!(q(b.transactions.len() as u64))))
    })?;
    method(m, "eth_getTransactionByBlockNumberAndIndex", |params, node| {
        let (tag, index): (BlockTag, alloy_primitives::U64) = params.parse()?;
        canonical_block(node, tag)?.map_or(Ok(Value::Null), |b| tx_in_block(&b, index.to()))
    })?;
    method(m, "eth_getTransactionByBlockHashAndIndex", |params, node| {
        let (hash, index): (B256, alloy_primitives::U64) = params.parse()?;
        node.store().block(&hash)?.map_or(Ok(Value::Null), |b| tx_in_block(&b, index.to()))
    })?;
    method(m, "eth_getTransactionByHash", |params, node| {
        let hash: B256 = params.one()?;
        if let Some((tx, from)) = node.pooled(&hash) {
            return Ok(json::transaction(&tx, from, None));
        }
        match locate(node, &hash)? {
            Some((block, index)) => tx_in_block(&block, index),
            None => Ok(Value::Null),
        }
    })?;
    method(m, "eth_getTransactionReceipt", |params, node| {
        let hash: B256 = params.one()?;
        let Some((block, index)) = locate(node, &hash)? else { return Ok(Value::Null) };
        let receipts = receipts_of(node, &block)?;
        let first_log = receipts[..index].iter().map(|r| r.logs.len()).sum();
        let from = recover(&block.transactions[index])?;
        Ok(json::receipt(&block, &receipts, index, from, first_log))
    })?;
    method(m, "eth_getBlockReceipts", |params, node| {
        let tag: BlockTag = params.one()?;
        let Some(block) = canonical_block(node, tag)? else { return Ok(Value::Null) };
        let receipts = receipts_of(node, &block)?;
        let mut first_log = 0;
        let mut out = Vec::new();
        for (i, tx) in block.transactions.iter().enumerate() {
            out.push(json::receipt(&block, &receipts, i, recover(tx)?, first_log));
            first_log += receipts[i].logs.len();
        }
        Ok(Value::Array(out))
    })?;
    Ok(())
}

pub(super) fn recover(tx: &SignedTransaction) -> Result<Address, RpcError> {
    tx.recover_sender().map_err(|e| RpcError::Internal(e.to_string()))
}

fn canonical_block(node: &Node, tag: BlockTag) -> Result<Option<Block>, RpcError> {
    match tag.number(node)? {
        Some(n) => match node.store().canonical_hash(n)? {
            Some(hash) => Ok(node.store().block(&hash)?),
            None => Ok(None),
        },
        None => Ok(None),
    }
}

fn receipts_of(node: &Node, block: &Block) -> Result<Vec<crate::primitives::Receipt>, RpcError> {
    node.store()
        .receipts(&block.header.hash())?
        .ok_or_else(|| RpcError::Internal("receipts missing".into()))
}

fn tx_in_block(block: &Block, index: usize) -> Result<Value, RpcError> {
    let Some(tx) = block.transactions.get(index) else { return Ok(Value::Null) };
    let at = Location {
        block_hash: block.header.hash(),
        block_number: block.header.number,
        index: index as u64,
        base_fee: block.header.base_fee_per_gas,
    };
    Ok(json::transaction(tx, recover(tx)?, Some(at)))
}

fn locate(node: &Node, hash: &B256) -> Result<Option<(Block, usize)>, RpcError> {
    let Some((block_hash, index)) = node.store().tx_location(hash)? else { return Ok(None) };
    Ok(node.store().block(&block_hash)?.map(|b| (b, index as usize)))
}

fn block_json(block: &Block, full: bool) -> Result<Value, RpcError> {
    let senders = if full {
        block.transactions.iter().map(recover).collect::<Result<Vec<_>, _>>()?
    } else {
        vec![Address::ZERO; block.transactions.len()]
    };
    Ok(json::block(block, &senders, full))
}
