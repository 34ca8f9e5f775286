//! Log queries: matching a filter against blocks (bloom first, then receipts) and shaping the
//! log objects clients expect.

use super::limits::RpcLimits;
use super::request::FilterJson;
use super::{json::q, BlockTag, RpcError};
use crate::node::Node;
use crate::primitives::{Address, Block, BloomInput, Header, Log, Receipt, B256};
use serde_json::{json, Value};

/// Topic positions a log can have (LOG0 … LOG4).
const TOPIC_POSITIONS: usize = 4;

/// A filter with its block range resolved.
#[derive(Debug, Clone)]
pub(crate) struct LogFilter {
    pub(crate) addresses: Vec<Address>,
    pub(crate) topics: Vec<Vec<B256>>,
}

impl LogFilter {
    /// The filter of a request, refused when it names more addresses or topics than allowed.
    pub(crate) fn new(f: &FilterJson, limits: &RpcLimits) -> Result<Self, RpcError> {
        let addresses = f.address.as_ref().map_or(0, |a| a.to_vec().len());
        if addresses > limits.filter_addresses {
            return Err(RpcError::LimitExceeded(format!(
                "filter has {addresses} addresses, at most {} allowed",
                limits.filter_addresses
            )));
        }
        if f.topics.len() > TOPIC_POSITIONS {
            return Err(RpcError::InvalidParams(format!(
                "filter has {} topic positions, logs have at most {TOPIC_POSITIONS}",
                f.topics.len()
            )));
        }
        let most = f.topics.iter().flatten().map(|t| t.to_vec().len()).max().unwrap_or(0);
        if most > limits.filter_topics {
            return Err(RpcError::LimitExceeded(format!(
                "filter has {most} alternatives in one topic position, at most {} allowed",
                limits.filter_topics
            )));
        }
        Ok(Self::unchecked(f))
    }

    fn unchecked(f: &FilterJson) -> Self {
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

/// Matching logs of canonical blocks `from..=to`, appended to `out`; fails as soon as `out`
/// holds more than `max` (so at most one block's logs beyond the limit are ever built).
pub(crate) fn range_logs(
    node: &Node,
    filter: &LogFilter,
    from: u64,
    to: u64,
    out: &mut Vec<Value>,
    max: usize,
) -> Result<(), RpcError> {
    let store = node.store();
    for number in from..=to {
        let Some(header) = store.header_by_number(number)? else { break };
        if !filter.may_match(&header) {
            continue;
        }
        out.extend(logs_of(node, filter, &header.hash(), false)?);
        if out.len() > max {
            return Err(too_many_logs(max));
        }
    }
    Ok(())
}

/// The error of a query with more than `max` results (the wording providers use).
pub(crate) fn too_many_logs(max: usize) -> RpcError {
    RpcError::LimitExceeded(format!(
        "query returned more than {max} results: ask for fewer blocks or a narrower filter"
    ))
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
pub(crate) fn get_logs(node: &Node, f: &FilterJson, limits: &RpcLimits) -> Result<Value, RpcError> {
    let filter = LogFilter::new(f, limits)?;
    if let Some(hash) = f.block_hash {
        if f.from_block.is_some() || f.to_block.is_some() {
            return Err(RpcError::InvalidParams("blockHash excludes fromBlock/toBlock".into()));
        }
        if node.store().header(&hash)?.is_none() {
            return Err(RpcError::UnknownBlock("unknown block".into()));
        }
        let logs = logs_of(node, &filter, &hash, false)?;
        if logs.len() > limits.log_results {
            return Err(too_many_logs(limits.log_results));
        }
        return Ok(Value::Array(logs));
    }
    let head = node.head().number;
    let resolve = |t: Option<BlockTag>| -> Result<u64, RpcError> {
        Ok(t.unwrap_or_default().number(node)?.unwrap_or(head).min(head))
    };
    let (from, to) = (resolve(f.from_block)?, resolve(f.to_block)?);
    if from > to {
        return Err(RpcError::InvalidParams("invalid block range params".into()));
    }
    if to - from >= limits.log_range {
        return Err(RpcError::LimitExceeded(format!(
            "query exceeds max block range {}",
            limits.log_range
        )));
    }
    let mut out = Vec::new();
    range_logs(node, &filter, from, to, &mut out, limits.log_results)?;
    Ok(Value::Array(out))
}
