//! `net_` and `web3_` namespaces.

use super::{method, RpcError};
use crate::node::Node;
use jsonrpsee::RpcModule;
use serde_json::json;

/// The client version string, as `web3_clientVersion` reports it.
pub fn client_version() -> String {
    let (os, arch) = (std::env::consts::OS, std::env::consts::ARCH);
    format!("Daisee/v{}/{os}-{arch}", env!("CARGO_PKG_VERSION"))
}

pub(super) fn register(
    m: &mut RpcModule<Node>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    method(m, "net_version", |_, node| Ok(json!(node.chain_id().to_string())))?;
    method(m, "net_listening", |_, node| Ok(json!(node.peer_count().is_some())))?;
    method(m, "net_peerCount", |_, node| {
        Ok(json!(format!("{:#x}", node.peer_count().unwrap_or(0))))
    })?;
    method(m, "web3_clientVersion", |_, _| Ok(json!(client_version())))?;
    method(m, "web3_sha3", |params, _| {
        let data: alloy_primitives::Bytes = params.one().map_err(RpcError::from)?;
        Ok(json!(alloy_primitives::keccak256(&data)))
    })?;
    Ok(())
}
