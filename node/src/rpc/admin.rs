//! The `admin_` namespace (geth's names, for operators; served on IPC, and on HTTP only when
//! listed in `--http.api`): `admin_peers`, `admin_nodeInfo`, `admin_addPeer`. And what the
//! dashboard's Chain view shows: `daisee_peers` (no addresses, just who and how far) and
//! `daisee_status` (head, peers, and this board's clock against the chain's and its peers').

use super::error::RpcError;
use super::method;
use crate::node::Node;
use jsonrpsee::RpcModule;
use serde_json::json;

/// Longest peer URL `admin_addPeer` reads.
const MAX_PEER_URL: usize = 512;

pub(super) fn register(
    m: &mut RpcModule<Node>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    method(m, "admin_peers", |_, node| Ok(json!(node.peer_table().peers())))?;
    method(m, "admin_nodeInfo", |_, node| {
        let info = node.peer_table().info().ok_or_else(off)?;
        Ok(json!(info))
    })?;
    method(m, "admin_addPeer", |params, node| {
        let url: String = params.one()?;
        if url.len() > MAX_PEER_URL {
            return Err(RpcError::InvalidParams(format!(
                "peer URL longer than {MAX_PEER_URL} bytes"
            )));
        }
        crate::net::identity::parse_peer(&url)
            .map_err(|e| RpcError::InvalidParams(e.to_string()))?;
        if node.peer_table().info().is_none() {
            return Err(off());
        }
        if !node.peer_table().queue(url) {
            return Err(RpcError::LimitExceeded("too many peers waiting to be added".into()));
        }
        Ok(json!(true))
    })?;
    method(m, "admin_backup", |params, node| {
        let path: std::path::PathBuf = params.one()?;
        if !path.is_absolute() {
            return Err(RpcError::InvalidParams("the backup path must be absolute".into()));
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| RpcError::InvalidParams(format!("{}: {e}", path.display())))?;
        let mut out = std::io::BufWriter::new(file);
        let (entries, head) = node.backup(&mut out)?;
        let file = out.into_inner().map_err(|e| RpcError::Internal(e.to_string()))?;
        file.sync_all().map_err(|e| RpcError::Internal(e.to_string()))?;
        Ok(json!({ "entries": entries, "head": head.number, "headHash": head.hash() }))
    })?;
    method(m, "daisee_status", |_, node| {
        let head = node.head();
        Ok(json!({
            "head": head.number,
            "headHash": head.hash(),
            "peers": node.peer_count(),
            "clock": node.clock(),
            "forkId": node.fork_id(),
            "upgrade": node.upgrades(),
            "storage": { "problem": node.write_failure() },
        }))
    })?;
    method(m, "daisee_peers", |_, node| {
        if node.peer_table().info().is_none() {
            return Ok(serde_json::Value::Null); // networking is off
        }
        let peers: Vec<_> = node
            .peer_table()
            .peers()
            .into_iter()
            .map(|p| json!({ "id": p.id, "inbound": p.inbound, "verified": p.verified, "signer": p.signer, "head": p.head }))
            .collect();
        Ok(json!(peers))
    })?;
    Ok(())
}

fn off() -> RpcError {
    RpcError::Internal("networking is off on this node".into())
}
