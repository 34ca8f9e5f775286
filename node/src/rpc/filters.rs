//! Polling filters: `eth_newFilter`, `eth_newBlockFilter`, `eth_newPendingTransactionFilter`,
//! `eth_getFilterChanges`, `eth_getFilterLogs`, `eth_uninstallFilter`. Filters not polled for
//! [`RpcLimits::filter_timeout`] (five minutes, as geth) expire; when the table is full, the
//! least recently polled filter makes room for the new one, so no client can lock the others
//! out. A filter remembers the hash of the last block it reported: when
//! a reorg took that block off the chain, the next poll rewinds to the common ancestor, returns
//! the orphaned blocks' logs with `removed: true`, then the new branch's.

use super::json::q;
use super::limits::RpcLimits;
use super::logs::{logs_of, LogFilter};
use super::request::FilterJson;
use super::{method, RpcError};
use crate::node::Node;
use crate::primitives::B256;
use jsonrpsee::RpcModule;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

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
}

/// A filter in the table: when it was last polled, and the filter behind its own lock, so a
/// slow poll (a scan of many blocks) holds up only itself, never the table.
type Slot = (Instant, Arc<Mutex<Filter>>);

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

/// The installed filters of one RPC server.
#[derive(Clone)]
pub(super) struct Filters {
    table: Arc<Mutex<HashMap<u64, Slot>>>,
    limits: Arc<RpcLimits>,
}

impl Filters {
    /// An empty table bounded by `limits`.
    pub(super) fn new(limits: &RpcLimits) -> Self {
        Self { table: Arc::default(), limits: Arc::new(limits.clone()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Slot>> {
        self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The filter `id`, marked as polled now; expired ones are removed.
    fn poll(&self, id: u64) -> Result<Arc<Mutex<Filter>>, RpcError> {
        let mut map = self.lock();
        let (touched, filter) = map.get_mut(&id).ok_or(RpcError::FilterNotFound)?;
        if touched.elapsed() >= self.limits.filter_timeout {
            map.remove(&id);
            return Err(RpcError::FilterNotFound);
        }
        *touched = Instant::now();
        Ok(filter.clone())
    }

    fn install(&self, node: &Node, kind: Kind, last_block: u64) -> Result<Value, RpcError> {
        let last_hash = node.store().canonical_hash(last_block)?;
        let mut map = self.lock();
        let timeout = self.limits.filter_timeout;
        map.retain(|_, (touched, _)| touched.elapsed() < timeout);
        while map.len() >= self.limits.max_filters.max(1) {
            let Some(oldest) = map.iter().min_by_key(|(_, (t, _))| *t).map(|(id, _)| *id) else {
                break;
            };
            map.remove(&oldest);
        }
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|e| RpcError::Internal(e.to_string()))?;
        let id = u64::from_be_bytes(id) >> 1;
        let filter = Filter { kind, last_block, last_hash };
        map.insert(id, (Instant::now(), Arc::new(Mutex::new(filter))));
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
        let filter = LogFilter::new(&json, &f.limits)?;
        f.install(node, Kind::Logs { filter, json: Box::new(json) }, start)
    })?;
    let f = filters.clone();
    method(m, "eth_uninstallFilter", move |params, _| {
        let id = parse_id(params)?;
        Ok(json!(f.lock().remove(&id).is_some()))
    })?;
    let f = filters.clone();
    method(m, "eth_getFilterChanges", move |params, node| {
        let id = parse_id(params)?;
        let (range, max_logs) = (f.limits.log_range, f.limits.log_results);
        let slot = f.poll(id)?;
        let mut filter = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let orphaned = filter.rewind(node)?;
        let head = node.head().number;
        let from = filter.last_block + 1;
        let to = head.min(filter.last_block + range);
        let reached = match &mut filter.kind {
            Kind::Blocks => {
                let mut hashes = Vec::new();
                for n in from..=to {
                    if let Some(h) = node.store().canonical_hash(n)? {
                        hashes.push(json!(h));
                    }
                }
                (Value::Array(hashes), to)
            }
            Kind::Pending(rx) => {
                let mut hashes = Vec::new();
                while let Ok(h) = rx.try_recv() {
                    if hashes.len() < MAX_PENDING_BUFFER {
                        hashes.push(json!(h));
                    }
                }
                (Value::Array(hashes), to)
            }
            Kind::Logs { filter, json } => {
                let to = match json.to_block.map(|t| t.number(node)) {
                    Some(Ok(Some(n))) => to.min(n),
                    _ => to,
                };
                // A poll answers at most about `max_logs` logs, whole blocks at a time; the
                // next poll goes on from the last block answered, so nothing is lost.
                let mut out = Vec::new();
                for hash in &orphaned {
                    out.extend(logs_of(node, filter, hash, true)?);
                }
                let mut reached = from - 1;
                for n in from..=to {
                    if out.len() >= max_logs {
                        break;
                    }
                    let Some(header) = node.store().header_by_number(n)? else { break };
                    if filter.may_match(&header) {
                        out.extend(logs_of(node, filter, &header.hash(), false)?);
                    }
                    reached = n;
                }
                (Value::Array(out), reached)
            }
        };
        let (answer, reached) = reached;
        filter.last_block = filter.last_block.max(reached);
        filter.last_hash = node.store().canonical_hash(filter.last_block)?;
        Ok(answer)
    })?;
    let f = filters;
    method(m, "eth_getFilterLogs", move |params, node| {
        let id = parse_id(params)?;
        let json = {
            let slot = f.poll(id)?;
            let filter = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match &filter.kind {
                Kind::Logs { json, .. } => (**json).clone(),
                _ => return Err(RpcError::FilterNotFound),
            }
        };
        super::logs::get_logs(node, &json, &f.limits)
    })?;
    Ok(())
}
