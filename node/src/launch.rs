//! Composition root: opens the datadir, wires the node, the sealer and the RPC server, prints
//! what a user needs, and shuts everything down cleanly on SIGINT/SIGTERM.

use anyhow::{bail, Context};
use daisee_node::node::{Node, NodeConfig};
use daisee_node::state::Store;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
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

/// Runs `node` until a signal: the sealer if it has a signer, HTTP JSON-RPC on `http`.
pub async fn serve(node: Node, http: Option<SocketAddr>) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let sealer = node
        .signer()
        .map(|_| tokio::spawn(daisee_node::sealer::run(node.clone(), stop_rx.clone())));
    let rpc = match http {
        Some(addr) => {
            let (handle, bound) = daisee_node::rpc::serve_http(node.clone(), addr)
                .await
                .with_context(|| format!("starting HTTP JSON-RPC on {addr}"))?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "rpc: http://{bound}")?;
            out.flush()?;
            Some(handle)
        }
        None => None,
    };
    wait_for_signal().await?;
    tracing::info!(target: "daisee", "shutting down");
    stop_tx.send_replace(true);
    if let Some(rpc) = rpc {
        let _ = rpc.stop();
        rpc.stopped().await;
    }
    if let Some(sealer) = sealer {
        sealer.await.context("sealer task")?;
    }
    node.store().flush().context("flushing the database")?;
    tracing::info!(target: "daisee", "stopped cleanly");
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
