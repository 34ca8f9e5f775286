//! The TOML config file of `daisee run`: the same settings as the flags (which win).
//!
//! ```toml
//! datadir = "/var/lib/daisee"
//! networkid = 69
//! identity = "bf7-1"
//! mine = true
//! unlock = "0x…"
//! password = "/etc/daisee/password"
//! keystore = "/var/lib/daisee/keystore"
//! seal_empty = false
//!
//! [http]
//! enabled = true
//! addr = "127.0.0.1"
//! port = 8545
//! api = ["eth", "net", "web3"]
//! corsdomain = ["http://localhost:3000"]
//! vhosts = ["localhost"]  # Host names answered to (IP addresses always); "*" for any
//! allow_insecure_unlock = false  # sign with unlocked accounts on a non-loopback address
//! dashboard = true        # the community dashboard at http://<addr>:<port>/
//! dashboard_buy = false   # let it pay from the unlocked accounts
//!
//! [rpc]                   # what one request may cost: every `--rpc.*` flag (docs/security.md)
//! gascap = 50000000
//! evmtimeout = "5s"
//! logrange = 10000
//! logmax = 10000
//! filters = 1000
//! subscriptions = 1000
//!
//! [txpool]                # every `--txpool.*` flag
//! accountslots = 64
//! accountqueue = 64
//! globalslots = 4096
//! globalqueue = 1024
//! lifetime = "3h"
//!
//! [p2p]
//! port = 30303
//! bootnodes = ["enode://…@192.168.1.20:30303"]
//! maxpeers = 25
//! netrestrict = ["192.168.1.0/24"]  # only peers at these addresses
//! static_only = false     # only the peers of static-nodes.json and bootnodes
//! nodekey = "nodekey"     # the p2p identity (hex key file; default <datadir>/daisee/nodekey)
//!
//! [metrics]               # Prometheus, at http://<addr>:<port>/metrics
//! enabled = false
//! addr = "127.0.0.1"
//! port = 6060
//!
//! [ws]
//! enabled = false
//! port = 8546
//! origins = []            # browser origins allowed (the node's own pages always are)
//! ```

use crate::cli::RunArgs;
use daisee_node::primitives::Address;
use serde::Deserialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The file's contents.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    datadir: Option<PathBuf>,
    networkid: Option<u64>,
    identity: Option<String>,
    #[serde(default)]
    mine: bool,
    unlock: Option<Unlock>,
    password: Option<PathBuf>,
    keystore: Option<PathBuf>,
    #[serde(default)]
    seal_empty: bool,
    #[serde(default)]
    http: ServerConfig,
    #[serde(default)]
    ws: ServerConfig,
    #[serde(default)]
    rpc: crate::limit_args::RpcLimitArgs,
    #[serde(default)]
    txpool: crate::limit_args::PoolArgs,
    #[serde(default)]
    p2p: P2pConfig,
    #[serde(default)]
    metrics: MetricsConfig,
    ipcpath: Option<PathBuf>,
    #[serde(default)]
    ipcdisable: bool,
    /// The board's meter (see `meters`).
    pub meter: Option<crate::meter_config::MeterConfig>,
}

/// One address or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Unlock {
    One(Address),
    Many(Vec<Address>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerConfig {
    #[serde(default)]
    enabled: bool,
    addr: Option<IpAddr>,
    port: Option<u16>,
    api: Option<Vec<String>>,
    corsdomain: Option<Vec<String>>,
    dashboard: Option<bool>,
    #[serde(default)]
    dashboard_buy: bool,
    vhosts: Option<Vec<String>>,
    origins: Option<Vec<String>>,
    #[serde(default)]
    allow_insecure_unlock: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsConfig {
    #[serde(default)]
    enabled: bool,
    addr: Option<IpAddr>,
    port: Option<u16>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct P2pConfig {
    port: Option<u16>,
    addr: Option<IpAddr>,
    bootnodes: Option<Vec<String>>,
    maxpeers: Option<usize>,
    netrestrict: Option<Vec<ipnet::IpNet>>,
    #[serde(default)]
    static_only: bool,
    #[serde(default)]
    mdns: bool,
    nodekey: Option<PathBuf>,
}

/// Reads a config file; relative paths in it are taken from the file's folder.
pub fn read(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let mut config: FileConfig =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    config.datadir = config.datadir.map(|p| base.join(p));
    config.password = config.password.map(|p| base.join(p));
    config.keystore = config.keystore.map(|p| base.join(p));
    config.p2p.nodekey = config.p2p.nodekey.map(|p| base.join(p));
    Ok(config)
}

/// Flags over file: each flag given wins over the file's value.
pub fn merge(flags: RunArgs, file: FileConfig) -> RunArgs {
    RunArgs {
        datadir: flags.datadir.or(file.datadir),
        meter_target: flags.meter_target,
        config: flags.config,
        networkid: flags.networkid.or(file.networkid),
        identity: flags.identity.or(file.identity),
        mine: flags.mine || file.mine,
        unlock: flags.unlock.or(file.unlock.map(|u| match u {
            Unlock::One(a) => vec![a],
            Unlock::Many(v) => v,
        })),
        password: flags.password.or(file.password),
        keystore: flags.keystore.or(file.keystore),
        seal_empty: flags.seal_empty || file.seal_empty,
        txpool: flags.txpool.or(file.txpool),
        p2p: crate::cli::P2pArgs {
            port: flags.p2p.port.or(file.p2p.port),
            p2p_addr: flags.p2p.p2p_addr.or(file.p2p.addr),
            bootnodes: flags.p2p.bootnodes.or(file.p2p.bootnodes),
            mdns: flags.p2p.mdns || file.p2p.mdns,
            nodiscover: flags.p2p.nodiscover,
            // clap's default (25) cannot be told from a given flag: the file wins when it has one.
            maxpeers: file.p2p.maxpeers.unwrap_or(flags.p2p.maxpeers),
            netrestrict: flags.p2p.netrestrict.or(file.p2p.netrestrict),
            static_only: flags.p2p.static_only || file.p2p.static_only,
            nodekey: flags.p2p.nodekey.or(file.p2p.nodekey),
            nodekeyhex: flags.p2p.nodekeyhex,
            nonetwork: flags.p2p.nonetwork,
        },
        http: crate::cli::HttpArgs {
            http: flags.http.http || file.http.enabled,
            http_addr: flags.http.http_addr.or(file.http.addr),
            http_port: flags.http.http_port.or(file.http.port),
            http_api: flags.http.http_api.or(file.http.api),
            http_cors: flags.http.http_cors.or(file.http.corsdomain),
            dashboard: flags.http.dashboard.or(file.http.dashboard),
            dashboard_buy: flags.http.dashboard_buy || file.http.dashboard_buy,
            http_vhosts: flags.http.http_vhosts.or(file.http.vhosts),
            ws_origins: flags.http.ws_origins.or(file.ws.origins),
            allow_insecure_unlock: flags.http.allow_insecure_unlock
                || file.http.allow_insecure_unlock,
            metrics: flags.http.metrics || file.metrics.enabled,
            metrics_addr: flags.http.metrics_addr.or(file.metrics.addr),
            metrics_port: flags.http.metrics_port.or(file.metrics.port),
            ws: flags.http.ws || file.ws.enabled,
            ws_addr: flags.http.ws_addr.or(file.ws.addr),
            ws_port: flags.http.ws_port.or(file.ws.port),
            ws_api: flags.http.ws_api.or(file.ws.api),
            limits: flags.http.limits.or(file.rpc),
            ipc_path: flags.http.ipc_path.or(file.ipcpath),
            ipc_disable: flags.http.ipc_disable || file.ipcdisable,
        },
    }
}
