//! The `debug_` namespace: raw headers and blocks, and `debug_traceTransaction` with geth's
//! `callTracer`.

use super::block_cache::recover;
use super::json::q;
use super::limits::RpcLimits;
use super::{method, BlockTag, RpcError};
use crate::execution::{trace_call, CallFrame, TraceLimits};
use crate::node::Node;
use crate::primitives::{Bytes, B256};
use crate::state::HISTORY_BLOCKS;
use jsonrpsee::RpcModule;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize, Default)]
struct TraceOptions {
    tracer: Option<String>,
}

fn frame_json(f: &CallFrame) -> Value {
    let mut out = json!({
        "type": f.kind,
        "from": f.from,
        "gas": q(f.gas),
        "gasUsed": q(f.gas_used),
        "input": f.input,
    });
    if let Some(to) = f.to {
        out["to"] = json!(to);
    }
    if let Some(value) = f.value {
        out["value"] = json!(value);
    }
    if !f.output.is_empty() {
        out["output"] = json!(f.output);
    }
    if let Some(e) = &f.error {
        out["error"] = json!(e);
    }
    if let Some(r) = &f.revert_reason {
        out["revertReason"] = json!(r);
    }
    if !f.calls.is_empty() {
        out["calls"] = f.calls.iter().map(frame_json).collect();
    }
    out
}

/// Traces run one at a time (each replays a block and may hold a large call tree).
static ONE_TRACE: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(super) fn register(
    m: &mut RpcModule<Node>,
    limits: &RpcLimits,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    let trace_limits = TraceLimits { frames: limits.trace_frames, bytes: limits.trace_bytes };
    method(m, "debug_getRawHeader", |params, node| {
        let tag: BlockTag = params.one()?;
        Ok(tag.header(node)?.map(|h| json!(Bytes::from(h.encoded()))).unwrap_or(Value::Null))
    })?;
    method(m, "debug_getRawBlock", |params, node| {
        let tag: BlockTag = params.one()?;
        let block = match tag.number(node)? {
            Some(n) => match node.store().canonical_hash(n)? {
                Some(hash) => node.store().block(&hash)?,
                None => None,
            },
            None => None,
        };
        Ok(block.map(|b| json!(Bytes::from(b.encoded()))).unwrap_or(Value::Null))
    })?;
    method(m, "debug_traceTransaction", move |params, node| {
        let mut seq = params.sequence();
        let hash: B256 = seq.next()?;
        let options: Option<TraceOptions> = seq.optional_next()?;
        match options.unwrap_or_default().tracer.as_deref() {
            Some("callTracer") => {}
            other => {
                return Err(RpcError::InvalidParams(format!(
                    "tracer {other:?} is not supported: use {{\"tracer\": \"callTracer\"}}"
                )))
            }
        }
        let store = node.store();
        let (block_hash, index) = store
            .tx_location(&hash)?
            .ok_or_else(|| RpcError::UnknownBlock(format!("transaction {hash} not found")))?;
        let block =
            store.block(&block_hash)?.ok_or_else(|| RpcError::Internal("block missing".into()))?;
        let head = node.head().number;
        let parent = block.header.number - 1;
        if head - parent > HISTORY_BLOCKS {
            return Err(RpcError::HistoricalState);
        }
        let at = (parent != head).then_some(parent);
        let mut before = Vec::new();
        for tx in &block.transactions[..index as usize] {
            before.push((tx.clone(), recover(tx)?));
        }
        let target = &block.transactions[index as usize];
        let ctx = node.block_context(Some(&block.header));
        let target = (target, recover(target)?);
        let _one = ONE_TRACE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let frame =
            trace_call(store, &node.chain_config(), &ctx, at, &before, target, trace_limits)?;
        Ok(frame_json(&frame))
    })?;
    Ok(())
}
