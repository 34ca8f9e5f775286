//! The `eth_` namespace, chain part: blocks, transactions and receipts by number, hash, index.

use super::block_cache::{BlockCache, CachedBlock};
use super::json::{self, q, Location};
use super::{method, BlockTag, RpcError};
use crate::node::Node;
use crate::primitives::{Address, B256};
use jsonrpsee::RpcModule;
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) fn register(
    m: &mut RpcModule<Node>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    let cache = Arc::new(BlockCache::default());
    let c = cache.clone();
    method(m, "eth_chainId", |_, node| Ok(json!(q(node.chain_id()))))?;
    method(m, "eth_blockNumber", |_, node| Ok(json!(q(node.head().number))))?;
    method(m, "eth_syncing", |_, _| Ok(json!(false)))?;
    method(m, "eth_getBlockByNumber", move |params, node| {
        let mut seq = params.sequence();
        let tag: BlockTag = seq.next()?;
        let full: Option<bool> = seq.optional_next()?;
        match canonical_block(node, &c, tag)? {
            Some(block) => block_json(&block, full.unwrap_or(false)),
            None => Ok(Value::Null),
        }
    })?;
    let c = cache.clone();
    method(m, "eth_getBlockByHash", move |params, node| {
        let mut seq = params.sequence();
        let hash: B256 = seq.next()?;
        let full: Option<bool> = seq.optional_next()?;
        match c.get(node, &hash)? {
            Some(block) => block_json(&block, full.unwrap_or(false)),
            None => Ok(Value::Null),
        }
    })?;
    let c = cache.clone();
    method(m, "eth_getBlockTransactionCountByNumber", move |params, node| {
        let tag: BlockTag = params.one()?;
        Ok(canonical_block(node, &c, tag)?
            .map_or(Value::Null, |b| json!(q(b.block.transactions.len() as u64))))
    })?;
    let c = cache.clone();
    method(m, "eth_getBlockTransactionCountByHash", move |params, node| {
        let hash: B256 = params.one()?;
        Ok(c.get(node, &hash)?.map_or(Value::Null, |b| json!(q(b.block.transactions.len() as u64))))
    })?;
    let c = cache.clone();
    method(m, "eth_getTransactionByBlockNumberAndIndex", move |params, node| {
        let (tag, index): (BlockTag, alloy_primitives::U64) = params.parse()?;
        canonical_block(node, &c, tag)?.map_or(Ok(Value::Null), |b| tx_in_block(&b, index.to()))
    })?;
    let c = cache.clone();
    method(m, "eth_getTransactionByBlockHashAndIndex", move |params, node| {
        let (hash, index): (B256, alloy_primitives::U64) = params.parse()?;
        c.get(node, &hash)?.map_or(Ok(Value::Null), |b| tx_in_block(&b, index.to()))
    })?;
    let c = cache.clone();
    method(m, "eth_getTransactionByHash", move |params, node| {
        let hash: B256 = params.one()?;
        if let Some((tx, from)) = node.pooled(&hash) {
            return Ok(json::transaction(&tx, from, None));
        }
        match locate(node, &c, &hash)? {
            Some((block, index)) => tx_in_block(&block, index),
            None => Ok(Value::Null),
        }
    })?;
    let c = cache.clone();
    method(m, "eth_getTransactionReceipt", move |params, node| {
        let hash: B256 = params.one()?;
        let Some((cached, index)) = locate(node, &c, &hash)? else { return Ok(None) };
        let receipts = cached.receipts(node)?;
        let first_log = receipts[..index].iter().map(|r| r.logs.len()).sum();
        let from = cached.sender(index)?;
        Ok(Some(json::receipt(&cached.block, cached.hash, receipts, index, from, first_log)))
    })?;
    method(m, "eth_getBlockReceipts", move |params, node| {
        let tag: BlockTag = params.one()?;
        let Some(cached) = canonical_block(node, &cache, tag)? else { return Ok(None) };
        let receipts = cached.receipts(node)?;
        let mut first_log = 0;
        let mut out = Vec::new();
        for i in 0..cached.block.transactions.len() {
            out.push(json::receipt(
                &cached.block,
                cached.hash,
                receipts,
                i,
                cached.sender(i)?,
                first_log,
            ));
            first_log += receipts[i].logs.len();
        }
        Ok(Some(out))
    })?;
    Ok(())
}

fn canonical_block(
    node: &Node,
    cache: &BlockCache,
    tag: BlockTag,
) -> Result<Option<Arc<CachedBlock>>, RpcError> {
    if matches!(tag, BlockTag::Latest | BlockTag::Pending) {
        // The head by its hash: a reorg to a shorter branch between reading the head's number
        // and the block at that number would otherwise answer `null` for `latest`.
        return cache.get(node, &node.head().hash());
    }
    match tag.number(node)? {
        Some(n) => match node.store().canonical_hash(n)? {
            Some(hash) => cache.get(node, &hash),
            None => Ok(None),
        },
        None => Ok(None),
    }
}

fn tx_in_block(cached: &CachedBlock, index: usize) -> Result<Value, RpcError> {
    let Some(tx) = cached.block.transactions.get(index) else { return Ok(Value::Null) };
    let at = Location {
        block_hash: cached.hash,
        block_number: cached.block.header.number,
        index: index as u64,
        base_fee: cached.block.header.base_fee_per_gas,
    };
    Ok(json::transaction(tx, cached.sender(index)?, Some(at)))
}

fn locate(
    node: &Node,
    cache: &BlockCache,
    hash: &B256,
) -> Result<Option<(Arc<CachedBlock>, usize)>, RpcError> {
    let Some((block_hash, index)) = node.store().tx_location(hash)? else { return Ok(None) };
    Ok(cache.get(node, &block_hash)?.map(|b| (b, index as usize)))
}

fn block_json(cached: &CachedBlock, full: bool) -> Result<Value, RpcError> {
    let senders =
        if full { cached.senders()? } else { vec![Address::ZERO; cached.block.transactions.len()] };
    Ok(json::block(&cached.block, &senders, full))
}
