//! `eth_subscribe` over WebSocket: `newHeads`, `logs` (with a filter) and
//! `newPendingTransactions`, pushed as they happen. After a reorg, `logs` subscribers get the
//! orphaned blocks' matching logs again with `removed: true`, then the new branch's logs.
//! Subscriptions are bounded per connection (jsonrpsee) and per node ([`RpcLimits::max_subscriptions`]
//! over every server and connection together).

use super::limits::{Gauge, RpcLimits};
use super::logs::{block_logs, LogFilter};
use super::request::FilterJson;
use super::{json, RpcError};
use crate::node::{ChainEvent, Node};
use jsonrpsee::core::server::{PendingSubscriptionSink, SubscriptionMessage};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

/// The subscriptions of every server of this process (one process runs one node).
fn node_subscriptions() -> Gauge {
    static GAUGE: std::sync::OnceLock<Gauge> = std::sync::OnceLock::new();
    GAUGE.get_or_init(Gauge::default).clone()
}

pub(super) fn register(
    m: &mut RpcModule<Node>,
    limits: &RpcLimits,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    let limits = std::sync::Arc::new(limits.clone());
    m.register_subscription(
        "eth_subscribe",
        "eth_subscription",
        "eth_unsubscribe",
        move |params, pending, node, _| {
            let limits = limits.clone();
            async move {
                let Some(_slot) = node_subscriptions().take(limits.max_subscriptions) else {
                    let err = RpcError::LimitExceeded(format!(
                        "this node serves at most {} subscriptions",
                        limits.max_subscriptions
                    ));
                    return pending.reject(ErrorObjectOwned::from(err)).await;
                };
                let mut seq = params.sequence();
                let kind: String = match seq.next() {
                    Ok(k) => k,
                    Err(e) => return pending.reject(e).await,
                };
                match kind.as_str() {
                    "newHeads" => heads(pending, &node, None).await,
                    "logs" => match seq.optional_next::<FilterJson>() {
                        Ok(filter) => match LogFilter::new(&filter.unwrap_or_default(), &limits) {
                            Ok(filter) => heads(pending, &node, Some(filter)).await,
                            Err(e) => pending.reject(ErrorObjectOwned::from(e)).await,
                        },
                        Err(e) => pending.reject(e).await,
                    },
                    "newPendingTransactions" => pending_txs(pending, &node).await,
                    other => {
                        let err =
                            RpcError::InvalidParams(format!("unsupported subscription {other:?}"));
                        pending.reject(ErrorObjectOwned::from(err)).await
                    }
                }
            }
        },
    )?;
    Ok(())
}

fn message(value: &Value) -> Option<SubscriptionMessage> {
    serde_json::value::to_raw_value(value).ok().map(SubscriptionMessage::from)
}

/// Streams new heads, or (with a filter) the matching logs of each new block.
async fn heads(pending: PendingSubscriptionSink, node: &Node, filter: Option<LogFilter>) {
    let mut rx = node.subscribe_heads();
    let Ok(sink) = pending.accept().await else { return };
    loop {
        let event = tokio::select! {
            _ = sink.closed() => return,
            h = rx.recv() => match h {
                Ok(h) => h,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(target: "daisee::rpc", "subscriber lagged {n} heads");
                    continue;
                }
                Err(RecvError::Closed) => return,
            },
        };
        let (header, removed) = match event {
            ChainEvent::Added(h) => (h, false),
            ChainEvent::Removed(h) => (h, true),
        };
        let values = match &filter {
            None if removed => vec![],
            None => vec![json::header(&header)],
            // Logs of a block that left the chain are sent again with `removed: true`.
            Some(f) if f.may_match(&header) => {
                let store = node.store();
                let hash = header.hash();
                match (store.block(&hash), store.receipts(&hash)) {
                    (Ok(Some(block)), Ok(Some(receipts))) => {
                        block_logs(f, &block, &receipts, removed)
                    }
                    _ => vec![],
                }
            }
            Some(_) => vec![],
        };
        for value in values {
            let Some(msg) = message(&value) else { continue };
            if sink.send(msg).await.is_err() {
                return;
            }
        }
    }
}

async fn pending_txs(pending: PendingSubscriptionSink, node: &Node) {
    let mut rx = node.subscribe_pending();
    let Ok(sink) = pending.accept().await else { return };
    loop {
        let hash = tokio::select! {
            _ = sink.closed() => return,
            h = rx.recv() => match h {
                Ok(h) => h,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
        };
        let Some(msg) = message(&serde_json::json!(hash)) else { continue };
        if sink.send(msg).await.is_err() {
            return;
        }
    }
}
