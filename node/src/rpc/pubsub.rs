//! `eth_subscribe` over WebSocket: `newHeads`, `logs` (with a filter) and
//! `newPendingTransactions`, pushed as they happen. After a reorg, `logs` subscribers get the
//! orphaned blocks' matching logs again with `removed: true`, then the new branch's logs.

use super::logs::{block_logs, LogFilter};
use super::request::FilterJson;
use super::{json, RpcError};
use crate::node::{ChainEvent, Node};
use jsonrpsee::core::server::{PendingSubscriptionSink, SubscriptionMessage};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

pub(super) fn register(
    m: &mut RpcModule<Node>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_subscription(
        "eth_subscribe",
        "eth_subscription",
        "eth_unsubscribe",
        |params, pending, node, _| async move {
            let mut seq = params.sequence();
            let kind: String = match seq.next() {
                Ok(k) => k,
                Err(e) => return pending.reject(e).await,
            };
            match kind.as_str() {
                "newHeads" => heads(pending, &node, None).await,
                "logs" => match seq.optional_next::<FilterJson>() {
                    Ok(filter) => {
                        heads(pending, &node, Some(LogFilter::new(&filter.unwrap_or_default())))
                            .await
                    }
                    Err(e) => pending.reject(e).await,
                },
                "newPendingTransactions" => pending_txs(pending, &node).await,
                other => {
                    let err =
                        RpcError::InvalidParams(format!("unsupported subscription {other:?}"));
                    pending.reject(ErrorObjectOwned::from(err)).await
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
