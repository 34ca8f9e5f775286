//! Runs a node until a signal: hands what the flags asked for to the library's composition root
//! ([`daisee_node::spawn`]), prints what a user needs (the RPC URLs, the IPC path, the enode),
//! and stops everything cleanly on SIGINT/SIGTERM.

use anyhow::Context;
use daisee_node::rpc::ServerOptions;
use daisee_node::service::layout;
use daisee_node::state::Store;
use daisee_node::ServiceConfig;
use std::io::Write;
use std::path::Path;

/// Opens the chain database of `datadir`.
pub fn open_store(datadir: &Path) -> anyhow::Result<Store> {
    let path = layout::chaindata(datadir);
    std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
    let cache = CACHE_MIB.get().copied().unwrap_or(64).max(4) * 1024 * 1024;
    Store::open_with_cache(&path, cache).with_context(|| format!("opening {}", path.display()))
}

/// `--cache`, MiB (set once from the command line).
static CACHE_MIB: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Sets the database cache every store of this process opens with.
pub fn set_cache_mib(mib: u64) {
    let _ = CACHE_MIB.set(mib);
}

/// Runs a node on `store` as `config` says until a signal.
pub async fn serve(store: Store, mut config: ServiceConfig) -> anyhow::Result<()> {
    if !config.node.accounts.is_empty() {
        for options in &config.servers {
            warn_about_doors(options);
        }
    }
    config.on_listen = Some(Box::new(|addr, enode| {
        tracing::info!(target: "daisee::net", "Started P2P networking self={enode}");
        let _ = say(&format!("p2p: {addr}\nenode: {enode}"));
    }));
    let handle = daisee_node::spawn(store, config).await?;
    for (i, bound) in handle.rpc_addrs().iter().enumerate() {
        let (label, scheme) = if i == 0 { ("rpc", "http") } else { ("ws", "ws") };
        say(&format!("{label}: {scheme}://{bound}"))?;
    }
    if let Some(path) = handle.ipc_path() {
        say(&format!("ipc: {}", path.display()))?;
    }
    wait_for_signal().await?;
    tracing::info!(target: "daisee", "shutting down");
    handle.stop().await.context("flushing the database")?;
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
