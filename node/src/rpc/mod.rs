//! JSON-RPC over HTTP and WebSocket on one port (jsonrpsee): one file per namespace, answers
//! shaped as go-ethereum's. Handlers reach the node only through its [`Node`] handle.

mod block_tag;
mod error;
mod eth;
mod eth_fees;
mod eth_state;
mod eth_tx;
mod filters;
mod json;
mod logs;
mod net_web3;
mod pubsub;
mod request;

pub use block_tag::BlockTag;
pub use error::RpcError;
pub use net_web3::client_version;

use crate::node::Node;
use jsonrpsee::server::{BatchRequestConfig, Server, ServerConfig, ServerHandle};
use jsonrpsee::RpcModule;
use serde_json::json;
use std::net::SocketAddr;

/// Largest request body accepted (bytes): room for a 128 KiB transaction in hex and then some.
const MAX_REQUEST_BODY: u32 = 5 * 1024 * 1024;
/// Largest response (bytes).
const MAX_RESPONSE_BODY: u32 = 20 * 1024 * 1024;
/// Simultaneous connections (HTTP and WebSocket).
const MAX_CONNECTIONS: u32 = 100;
/// Calls in one batch.
const MAX_BATCH: u32 = 1000;
/// Subscriptions per WebSocket connection.
const MAX_SUBSCRIPTIONS: u32 = 256;

/// Every method of the enabled namespaces.
pub fn module(node: Node) -> Result<RpcModule<Node>, jsonrpsee::core::RegisterMethodError> {
    let mut module = RpcModule::new(node);
    eth::register(&mut module)?;
    eth_state::register(&mut module)?;
    eth_tx::register(&mut module)?;
    eth_fees::register(&mut module)?;
    filters::register(&mut module, filters::Filters::default())?;
    pubsub::register(&mut module)?;
    net_web3::register(&mut module)?;
    method(&mut module, "eth_getLogs", |params, node| {
        let filter: request::FilterJson = params.one()?;
        logs::get_logs(node, &filter)
    })?;
    method(&mut module, "rpc_modules", |_, _| {
        Ok(json!({"eth": "1.0", "net": "1.0", "web3": "1.0"}))
    })?;
    Ok(module)
}

/// Starts the HTTP + WebSocket server on `addr`; returns its handle and the bound address.
pub async fn serve_http(
    node: Node,
    addr: SocketAddr,
) -> std::io::Result<(ServerHandle, SocketAddr)> {
    let config = ServerConfig::builder()
        .max_request_body_size(MAX_REQUEST_BODY)
        .max_response_body_size(MAX_RESPONSE_BODY)
        .max_connections(MAX_CONNECTIONS)
        .max_subscriptions_per_connection(MAX_SUBSCRIPTIONS)
        .set_batch_request_config(BatchRequestConfig::Limit(MAX_BATCH))
        .build();
    let server = Server::builder().set_config(config).build(addr).await?;
    let bound = server.local_addr()?;
    let module = module(node).map_err(std::io::Error::other)?;
    tracing::info!(target: "daisee::rpc", "JSON-RPC on http://{bound} and ws://{bound}");
    Ok((server.start(module), bound))
}

/// Registers a method that may block (store reads, journal writes) on the blocking pool.
pub(crate) fn method<F>(
    module: &mut RpcModule<Node>,
    name: &'static str,
    f: F,
) -> Result<(), jsonrpsee::core::RegisterMethodError>
where
    F: Fn(jsonrpsee::types::Params<'static>, &Node) -> Result<serde_json::Value, RpcError>
        + Clone
        + Send
        + Sync
        + 'static,
{
    module.register_blocking_method(name, move |params, node, _| {
        f(params.into_owned(), &node).map_err(jsonrpsee::types::ErrorObjectOwned::from)
    })?;
    Ok(())
}
