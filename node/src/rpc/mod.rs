//! JSON-RPC over HTTP and WebSocket on one port (jsonrpsee): one file per namespace, answers
//! shaped as go-ethereum's. Handlers reach the node only through its [`Node`] handle.

mod admin;
mod batch;
mod block_cache;
mod block_tag;
mod clique;
mod community;
mod daisee;
mod debug;
mod error;
mod eth;
mod eth_fees;
mod eth_state;
mod eth_tx;
mod evm_calls;
mod filters;
mod guard;
mod households;
mod ipc;
mod json;
mod limits;
mod logs;
mod net_web3;
mod pubsub;
mod request;
mod sub_ids;
mod txpool;

pub use block_tag::BlockTag;
pub use error::RpcError;
pub use guard::{AccessPolicy, Caller, SIGNING_METHODS};
pub use ipc::serve_ipc;
pub use limits::RpcLimits;
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

/// Methods answered over IPC only: they touch the board's files.
const IPC_ONLY: &[&str] = &["admin_backup"];

/// Namespaces served when none are listed.
pub const DEFAULT_APIS: &[&str] = &["eth", "net", "web3", "daisee"];
/// Every namespace the node has.
pub const ALL_APIS: &[&str] =
    &["eth", "net", "web3", "txpool", "clique", "debug", "daisee", "admin"];

/// Where and what one server serves.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Listening address.
    pub addr: SocketAddr,
    /// Namespaces served (`eth`, `net`, `web3`, `txpool`, `clique`, `debug`).
    pub apis: Vec<String>,
    /// Origins allowed by CORS (`*` for any); empty: no CORS headers.
    pub cors: Vec<String>,
    /// Serves the community dashboard under `/` and `/dashboard/` too.
    pub dashboard: Option<crate::dashboard::DashboardOptions>,
    /// Hosts, origins and the use of unlocked accounts (see [`AccessPolicy`]).
    pub access: AccessPolicy,
    /// What one request may cost.
    pub limits: RpcLimits,
    /// The meter service's statuses (`daisee_meters`).
    pub meters: crate::meter::StatusBoard,
    /// The daybook (`daisee_days`, `daisee_records`), when the node keeps one.
    pub daybook: Option<crate::daybook::Daybook>,
}

/// Every method of the namespaces in `apis` (unknown names are an error).
pub fn module(
    node: Node,
    apis: &[String],
    limits: &RpcLimits,
    meters: &crate::meter::StatusBoard,
    daybook: Option<&crate::daybook::Daybook>,
) -> Result<RpcModule<Node>, String> {
    if let Some(bad) = apis.iter().find(|a| !ALL_APIS.contains(&a.as_str())) {
        return Err(format!("unknown API namespace {bad:?} (known: {})", ALL_APIS.join(", ")));
    }
    let mut module = RpcModule::new(node);
    let registered = (|| {
        eth::register(&mut module)?;
        eth_state::register(&mut module, limits)?;
        eth_tx::register(&mut module)?;
        eth_fees::register(&mut module, limits)?;
        filters::register(&mut module, filters::Filters::new(limits))?;
        pubsub::register(&mut module, limits)?;
        net_web3::register(&mut module)?;
        txpool::register(&mut module)?;
        clique::register(&mut module)?;
        debug::register(&mut module, limits)?;
        daisee::register(&mut module, meters, daybook)?;
        community::register(&mut module, limits, daybook)?;
        admin::register(&mut module)?;
        let log_limits = limits.clone();
        method(&mut module, "eth_getLogs", move |params, node| {
            let filter: request::FilterJson = params.one()?;
            logs::get_logs(node, &filter, &log_limits)
        })?;
        let listed: serde_json::Map<String, serde_json::Value> =
            apis.iter().map(|a| (a.clone(), json!("1.0"))).collect();
        method(&mut module, "rpc_modules", move |_, _| {
            Ok(serde_json::Value::Object(listed.clone()))
        })
    })();
    registered.map_err(|e| e.to_string())?;
    let names: Vec<&'static str> = module.method_names().collect();
    for name in names {
        let namespace = name.split('_').next().unwrap_or_default();
        if namespace != "rpc" && !apis.iter().any(|a| a == namespace) {
            module.remove_method(name);
        }
    }
    Ok(module)
}

/// Starts an HTTP + WebSocket server; returns its handle and the bound address.
pub async fn serve(
    node: Node,
    options: &ServerOptions,
) -> std::io::Result<(ServerHandle, SocketAddr)> {
    let config = ServerConfig::builder()
        .max_request_body_size(MAX_REQUEST_BODY)
        .max_response_body_size(MAX_RESPONSE_BODY)
        .max_connections(MAX_CONNECTIONS)
        .max_subscriptions_per_connection(MAX_SUBSCRIPTIONS)
        .set_batch_request_config(BatchRequestConfig::Limit(MAX_BATCH))
        .set_id_provider(sub_ids::HexIds)
        .build();
    let cors = cors_layer(&options.cors)?;
    let dashboard = options.dashboard.as_ref().map(|d| {
        // The page offers to pay from unlocked accounts only where this server may sign.
        let mut d = d.clone();
        d.unlocked_buy &= options.access.unlocked;
        crate::dashboard::DashboardLayer::new(&d)
    });
    let guard = guard::GuardLayer::new(options.access.clone());
    let middleware =
        tower::ServiceBuilder::new().layer(guard).option_layer(cors).option_layer(dashboard);
    let batches = jsonrpsee::server::middleware::rpc::RpcServiceBuilder::new()
        .layer_fn(|service| batch::ConcurrentBatches::new(service, MAX_RESPONSE_BODY as usize));
    let server = Server::builder()
        .set_config(config)
        .set_http_middleware(middleware)
        .set_rpc_middleware(batches)
        .build(options.addr)
        .await?;
    let bound = server.local_addr()?;
    let module =
        module(node, &options.apis, &options.limits, &options.meters, options.daybook.as_ref())
            .map_err(std::io::Error::other)?;
    tracing::info!(target: "daisee::rpc", apis = %options.apis.join(","), "JSON-RPC on http://{bound} and ws://{bound}");
    if options.dashboard.is_some() {
        tracing::info!(target: "daisee::rpc", "dashboard on http://{bound}/");
    }
    Ok((server.start(module), bound))
}

fn cors_layer(origins: &[String]) -> std::io::Result<Option<tower_http::cors::CorsLayer>> {
    use tower_http::cors::{AllowOrigin, Any, CorsLayer};
    if origins.is_empty() {
        return Ok(None);
    }
    let layer = CorsLayer::new().allow_methods(Any).allow_headers(Any);
    if origins.iter().any(|o| o == "*") {
        return Ok(Some(layer.allow_origin(Any)));
    }
    let list = origins
        .iter()
        .map(|o| {
            o.parse().map_err(|e| std::io::Error::other(format!("invalid CORS origin {o:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(layer.allow_origin(AllowOrigin::list(list))))
}

/// Whether a method may wait on the disk or work for long (signing with an unlocked key, log
/// scans over ranges, traces, snapshot replays, whole-pool dumps): those run on the blocking
/// pool. The rest (point reads from the store's cache, `eth_call` within the gas cap, a raw
/// transaction's recovery and its append to the journal file) answer inline on the async
/// worker, which spares a thread hand-off per request: eth_call p50 0.79 → 0.64 ms on the CI
/// machine, measured with a keep-alive client.
fn runs_blocking(name: &str) -> bool {
    name.starts_with("debug_")
        || matches!(
            name,
            "eth_sendTransaction"
                | "eth_getLogs"
                | "eth_getFilterLogs"
                | "eth_getFilterChanges"
                | "eth_feeHistory"
                | "clique_getSnapshotAtHash"
                | "clique_getSnapshot"
                | "txpool_content"
                | "daisee_days"
                | "daisee_records"
                | "admin_backup"
                | "txpool_inspect"
        )
}

/// Registers a method: on the blocking pool or inline, as [`runs_blocking`] decides.
pub(crate) fn method<F, R>(
    module: &mut RpcModule<Node>,
    name: &'static str,
    f: F,
) -> Result<(), jsonrpsee::core::RegisterMethodError>
where
    R: serde::Serialize + Clone + Send + 'static,
    F: Fn(jsonrpsee::types::Params<'static>, &Node) -> Result<R, RpcError>
        + Clone
        + Send
        + Sync
        + 'static,
{
    let signs = SIGNING_METHODS.contains(&name);
    let ipc_only = IPC_ONLY.contains(&name);
    if runs_blocking(name) {
        module.register_blocking_method(name, move |params, node, extensions| {
            let started = std::time::Instant::now();
            may_sign(signs, &extensions)?;
            if ipc_only && extensions.get::<Caller>().is_some() {
                let why = format!("{name} is served over IPC only (it writes files on the board)");
                return Err(RpcError::Forbidden(why).into());
            }
            let answer = f(params.into_owned(), &node);
            record(name, started, answer.is_ok());
            answer.map_err(jsonrpsee::types::ErrorObjectOwned::from)
        })?;
    } else {
        module.register_method(name, move |params, node, extensions| {
            let started = std::time::Instant::now();
            may_sign(signs, extensions)?;
            let answer = f(params.into_owned(), node);
            record(name, started, answer.is_ok());
            answer.map_err(jsonrpsee::types::ErrorObjectOwned::from)
        })?;
    }
    Ok(())
}

/// Counts a call of `name` and how long it took (Prometheus, when `--metrics` is on).
pub(crate) fn record(name: &'static str, started: std::time::Instant, ok: bool) {
    metrics::counter!("rpc_requests_total", "method" => name).increment(1);
    if !ok {
        metrics::counter!("rpc_failures_total", "method" => name).increment(1);
    }
    metrics::histogram!("rpc_duration_seconds", "method" => name)
        .record(started.elapsed().as_secs_f64());
}

/// Refuses a signing method to a caller the guard judged may not sign (a foreign page, an
/// exposed server); IPC calls carry no [`Caller`] and may.
fn may_sign(
    signs: bool,
    extensions: &jsonrpsee::Extensions,
) -> Result<(), jsonrpsee::types::ErrorObjectOwned> {
    match extensions.get::<Caller>().and_then(|c| c.signing_refused.clone()) {
        Some(why) if signs => {
            tracing::warn!(target: "daisee::rpc", "refused a signing call: {why}");
            Err(RpcError::Forbidden(why).into())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod reorg_tests;
