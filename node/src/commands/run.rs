//! `daisee run`: the flags and the config file turned into a [`ServiceConfig`] — the datadir's
//! store, unlocked keys, servers, network, meters — for the library's composition root.

use crate::cli::{self, RunArgs};
use crate::{config, launch, meter_config};
use anyhow::{bail, Context};
use daisee_node::accounts;
use daisee_node::dashboard::DashboardOptions;
use daisee_node::node::NodeConfig;
use daisee_node::primitives::PrivateKey;
use daisee_node::service::layout;
use daisee_node::ServiceConfig;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// `daisee run`.
pub fn run(flags: RunArgs) -> anyhow::Result<()> {
    let (args, meter) = match &flags.config {
        Some(path) => {
            let mut file = config::read(path)?;
            let meter = file.meter.take();
            (config::merge(flags.clone(), file), meter)
        }
        None => (flags, None),
    };
    let datadir =
        args.datadir.clone().context("--datadir is required (or `datadir` in the config file)")?;
    let store = launch::open_store(&datadir)?;
    let chain_id = store.chain_config().context("reading the chain config")?.chain_id;
    if let Some(id) = args.networkid.filter(|id| *id != chain_id) {
        bail!("--networkid {id} does not match the genesis chain id {chain_id}");
    }
    let mut unlocked = Vec::new();
    if let Some(addresses) = &args.unlock {
        let password = super::read_password(
            &args.password.clone().context("--unlock needs --password <file>")?,
        )?;
        let keystore = args.keystore.clone().unwrap_or_else(|| layout::keystore(&datadir));
        for address in addresses {
            unlocked.push(accounts::unlock(&keystore, address, &password)?);
        }
    }
    if args.mine && unlocked.is_empty() {
        bail!("--mine needs --unlock <address> and --password <file>");
    }
    let signer = if args.mine { unlocked.first().cloned() } else { None };
    let base = args
        .config
        .as_deref()
        .and_then(std::path::Path::parent)
        .unwrap_or(std::path::Path::new("."));
    let meter_spec = meter
        .as_ref()
        .map(|m| meter_config::from_config(m, &unlocked, base, args.meter_target.clone()))
        .transpose()?;
    let name = args.identity.clone().unwrap_or_else(|| "daisee".into());
    tracing::info!(target: "daisee", %name, chain_id, signer = ?signer.as_ref().map(PrivateKey::address), "starting");
    let mut config = serve_plan(&args.http, false, Some(&datadir));
    config.node = NodeConfig {
        clock: None,
        signer,
        seal_empty: args.seal_empty,
        accounts: unlocked,
        pool: args.txpool.config(),
    };
    config.net = net_config(&args.p2p, &datadir, 30303)?;
    config.meters.extend(meter_spec);
    runtime()?.block_on(launch::serve(store, config))
}

/// Networking as the flags ask: static peers from `static-nodes.json` and `--bootnodes`.
pub(super) fn net_config(
    args: &cli::P2pArgs,
    datadir: &std::path::Path,
    default_port: u16,
) -> anyhow::Result<Option<daisee_node::net::NetConfig>> {
    use daisee_node::net::identity;
    if args.nonetwork {
        return Ok(None);
    }
    let key = match (&args.nodekeyhex, &args.nodekey) {
        (Some(hex), _) => identity::from_hex(hex, "--nodekeyhex")?,
        (None, Some(path)) => identity::load(path)?,
        (None, None) => identity::load_or_create(&layout::nodekey(datadir))?,
    };
    let mut peers = Vec::new();
    let static_nodes = datadir.join("static-nodes.json");
    if static_nodes.exists() {
        let text = std::fs::read_to_string(&static_nodes)?;
        let list: Vec<String> = serde_json::from_str(&text).with_context(|| {
            format!("{} must be a JSON array of enode URLs", static_nodes.display())
        })?;
        for entry in list {
            peers.push(identity::parse_peer(&entry)?);
        }
    }
    for entry in args.bootnodes.iter().flatten() {
        peers.push(identity::parse_peer(entry)?);
    }
    let ip = args.p2p_addr.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let proto = if ip.is_ipv4() { "ip4" } else { "ip6" };
    let listen = format!("/{proto}/{ip}/tcp/{}", args.port.unwrap_or(default_port)).parse()?;
    Ok(Some(daisee_node::net::NetConfig {
        key,
        listen,
        peers,
        mdns: args.mdns && !args.nodiscover,
        max_peers: args.maxpeers,
        restrict: args.netrestrict.clone().unwrap_or_default(),
        static_only: args.static_only,
        discover: !args.nodiscover && !args.static_only,
        peers_file: Some(datadir.join("daisee").join("peers.json")),
    }))
}

/// The servers the flags ask for. In dev, HTTP is on and serves every namespace and the
/// dashboard by default; `--dashboard` turns HTTP on for `run` too.
pub(super) fn serve_plan(
    args: &cli::HttpArgs,
    dev: bool,
    datadir: Option<&std::path::Path>,
) -> ServiceConfig {
    let apis = |listed: &Option<Vec<String>>| -> Vec<String> {
        let default = if dev { daisee_node::rpc::ALL_APIS } else { daisee_node::rpc::DEFAULT_APIS };
        // `admin` (peers) only where asked for, as geth's HTTP never serves it by default.
        let default = default.iter().filter(|a| **a != "admin");
        listed.clone().unwrap_or_else(|| default.map(|s| s.to_string()).collect())
    };
    let local = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let access = |addr: &SocketAddr| daisee_node::rpc::AccessPolicy {
        vhosts: args.http_vhosts.clone().unwrap_or_else(|| vec!["localhost".into()]),
        http_origins: args.http_cors.clone().unwrap_or_default(),
        ws_origins: args.ws_origins.clone().unwrap_or_default(),
        unlocked: addr.ip().is_loopback() || args.allow_insecure_unlock,
    };
    let limits = args.limits.limits();
    let mut servers = Vec::new();
    if dev || args.http || args.dashboard == Some(true) {
        let addr = SocketAddr::new(args.http_addr.unwrap_or(local), args.http_port.unwrap_or(8545));
        servers.push(daisee_node::rpc::ServerOptions {
            addr,
            apis: apis(&args.http_api),
            cors: args.http_cors.clone().unwrap_or_default(),
            dashboard: args
                .dashboard
                .unwrap_or(dev)
                .then_some(DashboardOptions { unlocked_buy: dev || args.dashboard_buy }),
            access: access(&addr),
            limits: limits.clone(),
            meters: Default::default(),
            daybook: None,
        });
    }
    if args.ws {
        let addr = SocketAddr::new(args.ws_addr.unwrap_or(local), args.ws_port.unwrap_or(8546));
        if servers.first().is_none_or(|http| http.addr != addr) {
            servers.push(daisee_node::rpc::ServerOptions {
                addr,
                apis: apis(&args.ws_api),
                cors: vec![],
                dashboard: None,
                access: access(&addr),
                limits: limits.clone(),
                meters: Default::default(),
                daybook: None,
            });
        }
    }
    let ipc = if args.ipc_disable {
        None
    } else {
        args.ipc_path.clone().or_else(|| datadir.map(|d| d.join("daisee.ipc")))
    };
    let metrics = args.metrics.then(|| {
        SocketAddr::new(args.metrics_addr.unwrap_or(local), args.metrics_port.unwrap_or(6060))
    });
    let datadir = datadir.map(std::path::Path::to_path_buf);
    ServiceConfig { servers, ipc, ipc_limits: limits, metrics, datadir, ..Default::default() }
}

pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}
