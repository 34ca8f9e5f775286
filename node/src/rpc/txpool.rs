//! The `txpool_` namespace: pool counts, contents and a human-readable summary, as geth's.

use super::json::{self as shape, q};
use super::method;
use crate::node::Node;
use crate::primitives::{Address, TxKind};
use crate::txpool::PoolTx;
use jsonrpsee::RpcModule;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

type BySender = BTreeMap<Address, BTreeMap<u64, PoolTx>>;

fn group(txs: &BySender, each: impl Fn(&PoolTx) -> Value) -> Value {
    let mut out = Map::new();
    for (sender, by_nonce) in txs {
        let inner: Map<String, Value> =
            by_nonce.iter().map(|(n, p)| (n.to_string(), each(p))).collect();
        out.insert(sender.to_checksum(None), Value::Object(inner));
    }
    Value::Object(out)
}

fn summary(p: &PoolTx) -> Value {
    let t = &p.tx.tx;
    let to = match t.to {
        TxKind::Call(a) => a.to_checksum(None),
        TxKind::Create => "contract creation".into(),
    };
    json!(format!("{to}: {} wei + {} gas × {} wei", t.value, t.gas_limit, t.max_fee_per_gas))
}

pub(super) fn register(
    m: &mut RpcModule<Node>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    method(m, "txpool_status", |_, node| {
        let (pending, queued) = node.pool_counts();
        Ok(json!({"pending": q(pending as u64), "queued": q(queued as u64)}))
    })?;
    method(m, "txpool_content", |_, node| {
        let (pending, queued) = node.pool_content();
        let full = |p: &PoolTx| shape::transaction(&p.tx, p.sender, None);
        Ok(json!({"pending": group(&pending, full), "queued": group(&queued, full)}))
    })?;
    method(m, "txpool_inspect", |_, node| {
        let (pending, queued) = node.pool_content();
        Ok(json!({"pending": group(&pending, summary), "queued": group(&queued, summary)}))
    })?;
    Ok(())
}
