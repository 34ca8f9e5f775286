//! Composition root: opens the datadir, wires the node, the sealer and the RPC server, prints
//! what a user needs, and shuts everything down cleanly on SIGINT/SIGTERM.

use anyhow::{bail, Context};
use daisee_node::node::{Node, NodeConfig};
use daisee_node::rpc::ServerOptions;
use daisee_node::state::Store;
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::sync::watch;

/// Files in a datadir.
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
}

/// Opens the chain database of `datadir`.
pub fn open_store(datadir: &Path) -> anyhow::Result<Store> {
    let path = layout::chaindata(datadir);
    std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
    Store::open(&path).with_context(|| format!("opening {}", path.display()))
}

/// What the node serves: HTTP/WebSocket servers and an IPC socket.
#[derive(Default)]
pub struct ServePlan {
    /// HTTP (+ WebSocket on the same port) servers; the first is printed as `rpc:`.
    pub servers: Vec<ServerOptions>,
    /// The IPC socket (every namespace, as geth's).
    pub ipc: Option<PathBuf>,
    /// Peer-to-peer networking.
    pub net: Option<daisee_node::net::NetConfig>,
    /// Meters whose readings this node reports.
    pub meters: Vec<daisee_node::meter::MeterSpec>,
    /// What one JSON-RPC request may cost (IPC too).
    pub limits: daisee_node::rpc::RpcLimits,
}

/// Runs `node` until a signal: the sealer if it has a signer, the RPC servers of `plan`.
pub async fn serve(node: Node, mut plan: ServePlan) -> anyhow::Result<()> {
    // One status board: the meter service writes it, every server's `daisee_meters` reads it.
    let board = daisee_node::meter::StatusBoard::default();
    for server in &mut plan.servers {
        server.meters = board.clone();
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let sealer = node
        .signer()
        .map(|_| tokio::spawn(daisee_node::node::run_sealer(node.clone(), stop_rx.clone())));
    let mut handles = Vec::new();
    for (i, options) in plan.servers.iter().enumerate() {
        if !node.accounts().is_empty() {
            warn_about_doors(options);
        }
        let (handle, bound) = daisee_node::rpc::serve(node.clone(), options)
            .await
            .with_context(|| format!("starting JSON-RPC on {}", options.addr))?;
        let label = if i == 0 { "rpc" } else { "ws" };
        let scheme = if i == 0 { "http" } else { "ws" };
        say(&format!("{label}: {scheme}://{bound}"))?;
        handles.push(handle);
    }
    let ipc = match &plan.ipc {
        Some(path) => {
            let all: Vec<String> =
                daisee_node::rpc::ALL_APIS.iter().map(|s| s.to_string()).collect();
            let module = daisee_node::rpc::module(node.clone(), &all, &plan.limits, &board)
                .map_err(anyhow::Error::msg)?;
            let task = daisee_node::rpc::serve_ipc(module, path)
                .with_context(|| format!("opening IPC socket {}", path.display()))?;
            say(&format!("ipc: {}", path.display()))?;
            Some((task, path.clone()))
        }
        None => None,
    };
    let net = plan.net.map(|config| {
        let on_listen: daisee_node::net::OnListen = Box::new(|addr, enode| {
            tracing::info!(target: "daisee::net", "Started P2P networking self={enode}");
            let _ = say(&format!("p2p: {addr}\nenode: {enode}"));
        });
        let (node, stop) = (node.clone(), stop_rx.clone());
        tokio::spawn(async move {
            if let Err(e) = daisee_node::net::run(node, config, on_listen, stop).await {
                tracing::error!(target: "daisee::net", "networking stopped: {e}");
            }
        })
    });
    let stop_meters = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let meters = if plan.meters.is_empty() {
        None
    } else {
        Some(daisee_node::meter::spawn(node.clone(), plan.meters, board, stop_meters.clone())?)
    };
    wait_for_signal().await?;
    tracing::info!(target: "daisee", "shutting down");
    stop_tx.send_replace(true);
    stop_meters.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(meters) = meters {
        let _ = tokio::task::spawn_blocking(move || meters.join()).await;
    }
    for handle in handles {
        let _ = handle.stop();
        handle.stopped().await;
    }
    if let Some((task, path)) = ipc {
        task.abort();
        let _ = std::fs::remove_file(path);
    }
    if let Some(sealer) = sealer {
        sealer.await.context("sealer task")?;
    }
    if let Some(net) = net {
        let _ = net.await;
    }
    node.store().flush().context("flushing the database")?;
    tracing::info!(target: "daisee", "stopped cleanly");
    Ok(())
}

/// Warns when a server lets others than the household's own programs spend from the unlocked
/// accounts (see SECURITY.md).
fn warn_about_doors(options: &ServerOptions) {
    let access = &options.access;
    if access.unlocked && !options.addr.ip().is_loopback() {
        tracing::warn!(
            target: "daisee",
            "--allow-insecure-unlock: anyone who reaches {} can send transactions from the \
             unlocked accounts",
            options.addr
        );
    }
    let named: Vec<&String> =
        access.http_origins.iter().chain(&access.ws_origins).filter(|o| *o != "*").collect();
    if access.unlocked && !named.is_empty() {
        tracing::warn!(
            target: "daisee",
            "pages of {named:?} may send transactions from the unlocked accounts in this \
             machine's browsers"
        );
    }
}

fn say(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// Starts a node on an initialised store.
pub fn start(store: Store, config: NodeConfig) -> anyhow::Result<Node> {
    if store.genesis_hash().is_err() {
        bail!("datadir is not initialised: run `daisee init <genesis.json> --datadir <dir>` first");
    }
    Ok(Node::new(store, config)?)
}
