//! Polling filters: `eth_newFilter`, `eth_newBlockFilter`, `eth_newPendingTransactionFilter`,
//! `eth_getFilterChanges`, `eth_getFilterLogs`, `eth_uninstallFilter`. Filters unused for five
//! minutes expire, as in geth. A filter remembers the hash of the last block it reported: when
//! a reorg took that block off the chain, the next poll rewinds to the common ancestor, returns
//! the orphaned blocks' logs with `removed: true`, then the new branch's.

use super::json::q;
use super::logs::{logs_of, range_logs, LogFilter, MAX_LOG_RANGE};
use super::request::FilterJson;
use super::{method, RpcError};
use crate::node::Node;
use crate::primitives::B256;
use jsonrpsee::RpcModule;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FILTER_TIMEOUT: Duration = Duration::from_secs(300);
const MAX_FILTERS: usize = 1000;
const MAX_PENDING_BUFFER: usize = 10_000;

enum Kind {
    Blocks,
    Pending(tokio::sync::broadcast::Receiver<B256>),
    Logs { filter: LogFilter, json: Box<FilterJson> },
}

struct Filter {
    kind: Kind,
    /// The last block already reported.
    last_block: u64,
    /// Its hash, when it exists (to notice a reorg).
    last_hash: Option<B256>,
    touched: Instant,
}

impl Filter {
    /// When the last reported block left the canonical chain, moves back to the common ancestor
    /// and returns the orphaned blocks' hashes, newest first.
    fn rewind(&mut self, node: &Node) -> Result<Vec<B256>, RpcError> {
        let store = node.store();
        let Some(mut hash) = self.last_hash else { return Ok(vec![]) };
        let mut orphaned = Vec::new();
        while let Some(header) = store.header(&hash)? {
            if store.canonical_hash(header.number)? == Some(hash) {
                self.last_block = header.number;
                break;
            }
            orphaned.push(hash);
            hash = header.parent_hash;
        }
        Ok(orphaned)
    }
}

/// The installed filters of this node's RPC servers.
#[derive(Clone, Default)]
pub(super) struct Filters(Arc<Mutex<HashMap<u64, Filter>>>);

impl Filters {
    fn install(&self, node: &Node, kind: Kind, last_block: u64) -> Result<Value, RpcError> {
        let last_hash = node.store().canonical_hash(last_block)?;
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, f| f.touched.elapsed() < FILTER_TIMEOUT);
        if map.len() >= MAX_FILTERS {
            return Err(RpcError::LimitExceeded("too many filters".into()));
        }
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|e| RpcError::Internal(e.to_string()))?;
        let id = u64::from_be_bytes(id) >> 1;
        map.insert(id, Filter { kind, last_block, last_hash, touched: Instant::now() });
        Ok(json!(q(id)))
    }
}

fn parse_id(params: jsonrpsee::types::Params<'static>) -> Result<u64, RpcError> {
    let id: String = params.one()?;
    u64::from_str_radix(id.trim_start_matches("0x"), 16).map_err(|_| RpcError::FilterNotFound)
}

pub(super) fn register(
    m: &mut RpcModule<Node>,
    filters: Filters,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    let f = filters.clone();
    method(m, "eth_newBlockFilter", move |_, node| {
        f.install(node, Kind::Blocks, node.head().number)
    })?;
    let f = filters.clone();
    method(m, "eth_newPendingTransactionFilter", move |_, node| {
        f.install(node, Kind::Pending(node.subscribe_pending()), node.head().number)
    })?;
    let f = filters.clone();
    method(m, "eth_newFilter", move |params, node| {
        let json: FilterJson = params.one()?;
        let head = node.head().number;
        let start = match json.from_block {
            Some(tag) => tag.number(node)?.unwrap_or(head).saturating_sub(1),
            None => head,
        };
        f.install(node, Kind::Logs { filter: LogFilter::new(&json), json: Box::new(json) }, start)
    })?;
    let f = filters.clone();
    method(m, "eth_uninstallFilter", move |params, _| {
        let id = parse_id(params)?;
        Ok(json!(f
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&id)
            .is_some()))
    })?;
    let f = filters.clone();
    method(m, "eth_getFilterChanges", move |params, node| {
        let id = parse_id(params)?;
        let mut map = f.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let filter = map.get_mut(&id).ok_or(RpcError::FilterNotFound)?;
        filter.touched = Instant::now();
        let orphaned = filter.rewind(node)?;
        let head = node.head().number;
        let from = filter.last_block + 1;
        let to = head.min(filter.last_block + MAX_LOG_RANGE);
        filter.last_block = filter.last_block.max(to);
        filter.last_hash = node.store().canonical_hash(filter.last_block)?;
        match &mut filter.kind {
            Kind::Blocks => {
                let mut hashes = Vec::new();
                for n in from..=to {
                    if let Some(h) = node.store().canonical_hash(n)? {
                        hashes.push(json!(h));
                    }
                }
                Ok(Value::Array(hashes))
            }
            Kind::Pending(rx) => {
                let mut hashes = Vec::new();
                while let Ok(h) = rx.try_recv() {
                    if hashes.len() < MAX_PENDING_BUFFER {
                        hashes.push(json!(h));
                    }
                }
                Ok(Value::Array(hashes))
            }
            Kind::Logs { filter, json } => {
                let to = match json.to_block.map(|t| t.number(node)) {
                    Some(Ok(Some(n))) => to.min(n),
                    _ => to,
                };
                let mut out = Vec::new();
                for hash in &orphaned {
                    out.extend(logs_of(node, filter, hash, true)?);
                }
                if from <= to {
                    out.extend(range_logs(node, filter, from, to)?);
                }
                Ok(Value::Array(out))
            }
        }
    })?;
    let f = filters;
    method(m, "eth_getFilterLogs", move |params, node| {
        let id = parse_id(params)?;
        let json = {
            let mut map = f.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let filter = map.get_mut(&id).ok_or(RpcError::FilterNotFound)?;
            filter.touched = Instant::now();
            match &filter.kind {
                Kind::Logs { json, .. } => (**json).clone(),
                _ => return Err(RpcError::FilterNotFound),
            }
        };
        super::logs::get_logs(node, &json)
    })?;
    Ok(())
}
