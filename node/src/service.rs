//! The composition root: [`spawn`] starts everything a [`ServiceConfig`] asks for — the node on
//! its store, the sealer when it has a signer, the JSON-RPC servers and the IPC socket, the
//! network and the meters — and returns a [`NodeHandle`] that knows their addresses and stops
//! them all, in order, with [`NodeHandle::stop`]. The `daisee` binary, `daisee bench` and tests
//! start nodes through it (as anvil's `spawn(NodeConfig) -> (api, handle)`).

use crate::daybook::Daybook;
use crate::meter::{MeterSpec, StatusBoard};
use crate::net::{NetConfig, OnListen};
use crate::node::{Node, NodeConfig};
use crate::rpc::{RpcLimits, ServerOptions};
use crate::state::Store;
use jsonrpsee::server::ServerHandle;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::watch;

/// Files in a datadir, as go-ethereum lays them out.
pub mod layout {
    use std::path::{Path, PathBuf};

    /// The chain database (sled).
    pub fn chaindata(datadir: &Path) -> PathBuf {
        datadir.join("daisee").join("chaindata")
    }

    /// Keystore v3 files.
    pub fn keystore(datadir: &Path) -> PathBuf {
        datadir.join("keystore")
    }

    /// The p2p identity.
    pub fn nodekey(datadir: &Path) -> PathBuf {
        datadir.join("daisee").join("nodekey")
    }
}

/// Everything a running node is made of.
#[derive(Default)]
pub struct ServiceConfig {
    /// The node: signer, unlocked accounts, pool limits.
    pub node: NodeConfig,
    /// HTTP (+ WebSocket on the same port) servers.
    pub servers: Vec<ServerOptions>,
    /// The IPC socket (every namespace, as geth's), if any.
    pub ipc: Option<PathBuf>,
    /// What one JSON-RPC request may cost on IPC (servers carry their own).
    pub ipc_limits: RpcLimits,
    /// Peer-to-peer networking, if any.
    pub net: Option<NetConfig>,
    /// Called once the network listens, with its multiaddr and enode URL.
    pub on_listen: Option<OnListen>,
    /// Meters whose readings this node reports.
    pub meters: Vec<MeterSpec>,
    /// Where Prometheus scrapes the metrics (`--metrics`), if anywhere.
    pub metrics: Option<SocketAddr>,
    /// The datadir (for the database size and the free disk space), if there is one.
    pub datadir: Option<PathBuf>,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The datadir holds no chain.
    #[error("datadir is not initialised: run `daisee init <genesis.json> --datadir <dir>` first")]
    NotInitialised,
    /// The chain could not be opened.
    #[error(transparent)]
    Chain(#[from] crate::chain::ChainError),
    /// A server, the IPC socket or the meter thread could not start.
    #[error("{what}: {source}")]
    Io {
        /// What was starting.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A list of namespaces names one that does not exist.
    #[error("{0}")]
    Api(String),
    /// The metrics exporter could not start.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
}

/// A running node and the services around it.
pub struct NodeHandle {
    node: Node,
    stop: watch::Sender<bool>,
    stop_meters: Arc<AtomicBool>,
    sealer: Option<tokio::task::JoinHandle<()>>,
    daybook: tokio::task::JoinHandle<()>,
    servers: Vec<(ServerHandle, SocketAddr)>,
    ipc: Option<(tokio::task::JoinHandle<()>, PathBuf)>,
    net: Option<tokio::task::JoinHandle<()>>,
    meters: Option<std::thread::JoinHandle<()>>,
    metrics: Option<tokio::task::JoinHandle<()>>,
    disk_watch: Option<tokio::task::JoinHandle<()>>,
}

/// Starts the node on `store` and everything `config` asks for (inside a tokio runtime).
pub async fn spawn(store: Store, config: ServiceConfig) -> Result<NodeHandle, ServiceError> {
    if store.genesis_hash().is_err() {
        return Err(ServiceError::NotInitialised);
    }
    let io = |what: String| move |source| ServiceError::Io { what, source };
    let node = Node::new(store, config.node)?;
    let (stop, stop_rx) = watch::channel(false);
    let sealer =
        node.signer().map(|_| tokio::spawn(crate::node::run_sealer(node.clone(), stop_rx.clone())));
    // One status board: the meter service writes it, every server's `daisee_meters` reads it.
    let board = StatusBoard::default();
    // The daybook follows the chain on its own; every server's `daisee_days` reads it.
    let daybook = Daybook::open_in_system_zone(node.store().clone())
        .map_err(|e| ServiceError::Chain(e.into()))?;
    let daybook_task = tokio::spawn(daybook.clone().follow(node.clone(), stop_rx.clone()));
    let mut servers = Vec::new();
    for mut options in config.servers {
        options.meters = board.clone();
        options.daybook = Some(daybook.clone());
        let started = crate::rpc::serve(node.clone(), &options).await;
        servers.push(started.map_err(io(format!("starting JSON-RPC on {}", options.addr)))?);
    }
    let ipc = match config.ipc {
        Some(path) => {
            let all: Vec<String> = crate::rpc::ALL_APIS.iter().map(|s| s.to_string()).collect();
            let module =
                crate::rpc::module(node.clone(), &all, &config.ipc_limits, &board, Some(&daybook))
                    .map_err(ServiceError::Api)?;
            let task = crate::rpc::serve_ipc(module, &path)
                .map_err(io(format!("opening IPC socket {}", path.display())))?;
            Some((task, path))
        }
        None => None,
    };
    let net = config.net.map(|net_config| {
        let on_listen = config.on_listen.unwrap_or_else(|| Box::new(|_, _| {}));
        let (node, stop) = (node.clone(), stop_rx.clone());
        tokio::spawn(async move {
            if let Err(e) = crate::net::run(node, net_config, on_listen, stop).await {
                tracing::error!(target: "daisee::net", "networking stopped: {e}");
            }
        })
    });
    let metrics = match config.metrics {
        Some(addr) => {
            crate::metrics::install(addr)?;
            tracing::info!(target: "daisee::metrics", "Prometheus metrics on http://{addr}/metrics");
            let collect = crate::metrics::collect(
                node.clone(),
                board.clone(),
                config.datadir.clone(),
                stop_rx.clone(),
            );
            Some(tokio::spawn(collect))
        }
        None => None,
    };
    let disk_watch =
        config.datadir.clone().map(|d| tokio::spawn(crate::disk_watch::watch(d, stop_rx.clone())));
    let stop_meters = Arc::new(AtomicBool::new(false));
    let meters = if config.meters.is_empty() {
        None
    } else {
        let spill = config.datadir.as_ref().map(|d| d.join("daisee"));
        let thread =
            crate::meter::spawn(node.clone(), config.meters, board, stop_meters.clone(), spill);
        Some(thread.map_err(io("starting the meters".into()))?)
    };
    Ok(NodeHandle {
        node,
        stop,
        stop_meters,
        sealer,
        daybook: daybook_task,
        servers,
        ipc,
        net,
        meters,
        metrics,
        disk_watch,
    })
}

impl NodeHandle {
    /// The node.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// The bound address of each JSON-RPC server, in the order they were asked for.
    pub fn rpc_addrs(&self) -> Vec<SocketAddr> {
        self.servers.iter().map(|(_, addr)| *addr).collect()
    }

    /// The IPC socket's path, if one is open.
    pub fn ipc_path(&self) -> Option<&std::path::Path> {
        self.ipc.as_ref().map(|(_, p)| p.as_path())
    }

    /// Stops everything — meters, servers, IPC, sealer, network — and flushes the store.
    pub async fn stop(self) -> Result<(), crate::state::StoreError> {
        self.stop.send_replace(true);
        self.stop_meters.store(true, Ordering::Relaxed);
        if let Some(meters) = self.meters {
            let _ = tokio::task::spawn_blocking(move || meters.join()).await;
        }
        for (handle, _) in self.servers {
            let _ = handle.stop();
            handle.stopped().await;
        }
        if let Some((task, path)) = self.ipc {
            task.abort();
            let _ = std::fs::remove_file(path);
        }
        if let Some(sealer) = self.sealer {
            let _ = sealer.await;
        }
        if let Some(net) = self.net {
            let _ = net.await;
        }
        let _ = self.daybook.await;
        if let Some(metrics) = self.metrics {
            let _ = metrics.await;
        }
        if let Some(disk_watch) = self.disk_watch {
            let _ = disk_watch.await;
        }
        self.node.store().flush()
    }
}
