//! Log queries: matching a filter against blocks (bloom first, then receipts) and shaping the
//! log objects clients expect.

use super::request::FilterJson;
use super::{json::q, BlockTag, RpcError};
use crate::node::Node;
use crate::primitives::{Address, Block, BloomInput, Header, Log, Receipt, B256};
use serde_json::{json, Value};

/// Most blocks one `eth_getLogs` may scan.
pub(crate) const MAX_LOG_RANGE: u64 = 10_000;

/// A filter with its block range resolved.
#[derive(Debug, Clone)]
pub(crate) struct LogFilter {
    pub(crate) addresses: Vec<Address>,
    pub(crate) topics: Vec<Vec<B256>>,
}

impl LogFilter {
    pub(crate) fn new(f: &FilterJson) -> Self {
        Self {
            addresses: f.address.as_ref().map(|a| a.to_vec()).unwrap_or_default(),
            topics: f
                .topics
                .iter()
                .map(|t| t.as_ref().map(|t| t.to_vec()).unwrap_or_default())
                .collect(),
        }
    }

    /// Whether the block's bloom may hold a matching log.
    pub(crate) fn may_match(&self, header: &Header) -> bool {
        let bloom = &header.logs_bloom;
        let address_ok = self.addresses.is_empty()
            || self.addresses.iter().any(|a| bloom.contains_input(BloomInput::Raw(a.as_slice())));
        address_ok
            && self.topics.iter().all(|alts| {
                alts.is_empty()
                    || alts.iter().any(|t| bloom.contains_input(BloomInput::Raw(t.as_slice())))
            })
    }

    pub(crate) fn matches(&self, log: &Log) -> bool {
        if !self.addresses.is_empty() && !self.addresses.contains(&log.address) {
            return false;
        }
        let topics = log.topics();
        self.topics
            .iter()
            .enumerate()
            .all(|(i, alts)| alts.is_empty() || topics.get(i).is_some_and(|t| alts.contains(t)))
    }
}

/// The log objects of `block` that match `filter`.
pub(crate) fn block_logs(
    filter: &LogFilter,
    block: &Block,
    receipts: &[Receipt],
    removed: bool,
) -> Vec<Value> {
    let hash = block.header.hash();
    let mut out = Vec::new();
    let mut log_index = 0u64;
    for (i, (tx, receipt)) in block.transactions.iter().zip(receipts).enumerate() {
        for log in &receipt.logs {
            if filter.matches(log) {
                out.push(json!({
                    "address": log.address,
                    "topics": log.topics(),
                    "data": log.data.data,
                    "blockNumber": q(block.header.number),
                    "blockHash": hash,
                    "blockTimestamp": q(block.header.timestamp),
                    "transactionHash": tx.hash(),
                    "transactionIndex": q(i as u64),
                    "logIndex": q(log_index),
                    "removed": removed,
                }));
            }
            log_index += 1;
        }
    }
    out
}

/// Matching logs of canonical blocks `from..=to`.
pub(crate) fn range_logs(
    node: &Node,
    filter: &LogFilter,
    from: u64,
    to: u64,
) -> Result<Vec<Value>, RpcError> {
    let mut out = Vec::new();
    let store = node.store();
    for number in from..=to {
        let Some(header) = store.header_by_number(number)? else { break };
        if !filter.may_match(&header) {
            continue;
        }
        out.extend(logs_of(node, filter, &header.hash(), false)?);
    }
    Ok(out)
}

/// Matching logs of the block `hash` (`removed`: it left the canonical chain).
pub(crate) fn logs_of(
    node: &Node,
    filter: &LogFilter,
    hash: &B256,
    removed: bool,
) -> Result<Vec<Value>, RpcError> {
    let store = node.store();
    let (Some(block), Some(receipts)) = (store.block(hash)?, store.receipts(hash)?) else {
        return Ok(vec![]);
    };
    Ok(block_logs(filter, &block, &receipts, removed))
}

/// `eth_getLogs`.
pub(crate) fn get_logs(node: &Node, f: &FilterJson) -> Result<Value, RpcError> {
    let filter = LogFilter::new(f);
    if let Some(hash) = f.block_hash {
        if f.from_block.is_some() || f.to_block.is_some() {
            return Err(RpcError::InvalidParams("blockHash excludes fromBlock/toBlock".into()));
        }
        if node.store().header(&hash)?.is_none() {
            return Err(RpcError::UnknownBlock("unknown block".into()));
        }
        return Ok(Value::Array(logs_of(node, &filter, &hash, false)?));
    }
    let head = node.head().number;
    let resolve = |t: Option<BlockTag>| -> Result<u64, RpcError> {
        Ok(t.unwrap_or_default().number(node)?.unwrap_or(head).min(head))
    };
    let (from, to) = (resolve(f.from_block)?, resolve(f.to_block)?);
    if from > to {
        return Err(RpcError::InvalidParams("invalid block range params".into()));
    }
    if to - from >= MAX_LOG_RANGE {
        return Err(RpcError::LimitExceeded(format!(
            "query exceeds max block range {MAX_LOG_RANGE}"
        )));
    }
    Ok(Value::Array(range_logs(node, &filter, from, to)?))
}
