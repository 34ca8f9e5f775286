//! The `clique_` namespace: signers, snapshots, proposals (votes this signer casts) and status,
//! as geth's.

use super::{method, BlockTag, RpcError};
use crate::consensus::{recover_signer, Snapshot, DIFF_IN_TURN};
use crate::node::Node;
use crate::primitives::{Address, B256, U256};
use jsonrpsee::RpcModule;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn snapshot_json(s: &Snapshot) -> Value {
    let recents: BTreeMap<String, Address> =
        s.recents.iter().map(|(n, a)| (n.to_string(), *a)).collect();
    let signers: BTreeMap<String, Value> =
        s.signers.iter().map(|a| (a.to_checksum(None), json!({}))).collect();
    let tally: BTreeMap<String, Value> = s
        .tally
        .iter()
        .map(|(a, (auth, votes))| (a.to_checksum(None), json!({"authorize": auth, "votes": votes})))
        .collect();
    let votes: Vec<Value> = s
        .votes
        .iter()
        .map(|v| json!({"signer": v.signer, "block": v.block, "address": v.address, "authorize": v.authorize}))
        .collect();
    json!({"number": s.number, "hash": s.hash, "signers": signers, "recents": recents, "votes": votes, "tally": tally})
}

fn snapshot_for(node: &Node, tag: Option<BlockTag>) -> Result<Snapshot, RpcError> {
    let header = tag
        .unwrap_or_default()
        .header(node)?
        .ok_or_else(|| RpcError::UnknownBlock("unknown block".into()))?;
    node.snapshot(Some(&header)).map_err(|e| RpcError::Internal(e.to_string()))
}

pub(super) fn register(
    m: &mut RpcModule<Node>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    method(m, "clique_getSigners", |params, node| {
        let tag: Option<BlockTag> = params.sequence().optional_next()?;
        Ok(json!(snapshot_for(node, tag)?.signers))
    })?;
    method(m, "clique_getSignersAtHash", |params, node| {
        let hash: B256 = params.one()?;
        Ok(json!(snapshot_for(node, Some(BlockTag::Hash(hash)))?.signers))
    })?;
    method(m, "clique_getSnapshot", |params, node| {
        let tag: Option<BlockTag> = params.sequence().optional_next()?;
        Ok(snapshot_json(&snapshot_for(node, tag)?))
    })?;
    method(m, "clique_getSnapshotAtHash", |params, node| {
        let hash: B256 = params.one()?;
        Ok(snapshot_json(&snapshot_for(node, Some(BlockTag::Hash(hash)))?))
    })?;
    method(m, "clique_getSigner", |params, node| {
        let tag: BlockTag = params.one()?;
        let header =
            tag.header(node)?.ok_or_else(|| RpcError::UnknownBlock("unknown block".into()))?;
        recover_signer(&header).map(|a| json!(a)).map_err(|e| RpcError::Internal(e.to_string()))
    })?;
    method(m, "clique_proposals", |_, node| {
        let p: BTreeMap<String, bool> =
            node.proposals().into_iter().map(|(a, v)| (a.to_checksum(None), v)).collect();
        Ok(json!(p))
    })?;
    method(m, "clique_propose", |params, node| {
        let (address, auth): (Address, bool) = params.parse()?;
        node.propose(address, Some(auth));
        Ok(Value::Null)
    })?;
    method(m, "clique_discard", |params, node| {
        let address: Address = params.one()?;
        node.propose(address, None);
        Ok(Value::Null)
    })?;
    method(m, "clique_status", |_, node| {
        let snap = node.snapshot(None).map_err(|e| RpcError::Internal(e.to_string()))?;
        let head = node.head().number;
        let window = 64.min(head);
        let mut activity: BTreeMap<String, u64> =
            snap.signers.iter().map(|a| (a.to_checksum(None), 0)).collect();
        let mut in_turn = 0u64;
        for n in head + 1 - window..=head {
            let Some(h) = node.store().header_by_number(n)? else { continue };
            if h.difficulty == U256::from(DIFF_IN_TURN) {
                in_turn += 1;
            }
            if let Ok(signer) = recover_signer(&h) {
                *activity.entry(signer.to_checksum(None)).or_default() += 1;
            }
        }
        let percent = if window == 0 { 0.0 } else { in_turn as f64 * 100.0 / window as f64 };
        Ok(json!({"inturnPercent": percent, "sealerActivity": activity, "numBlocks": window}))
    })?;
    Ok(())
}
