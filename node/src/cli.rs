//! The command line, familiar to geth users (clap). Every flag of `run` can also come from a TOML
//! config file (`--config`); flags win. Environment variables `DAISEE_*` work too.

pub use crate::cli_tools::{BenchArgs, DbCommand, GenesisArgs, LoadArgs, RecordsArgs};
use clap::{Args, Parser, Subcommand};
use daisee_node::primitives::Address;
use std::net::IpAddr;
use std::path::PathBuf;

/// Daisee: a small proof-of-authority Ethereum node for energy communities.
#[derive(Debug, Parser)]
#[command(name = "daisee", version, about, long_about = None)]
pub struct Cli {
    /// Log level: 0 silent, 1 error, 2 warn, 3 info, 4 debug, 5 trace (RUST_LOG overrides).
    /// Default 3; 2 for `bench`, whose table is the output (its nodes' block lines are not).
    #[arg(long, global = true, env = "DAISEE_VERBOSITY")]
    pub verbosity: Option<u8>,
    /// Log lines as `text` (colours only on a terminal; NO_COLOR turns them off) or `json` (one
    /// object per line, for journald and log shippers).
    #[arg(long = "log.format", global = true, default_value = "text", value_parser = ["text", "json"], env = "DAISEE_LOG_FORMAT")]
    pub log_format: String,
    /// The database's page cache, MiB (a 1 GB board: the default 64 leaves room for the rest).
    #[arg(long, global = true, default_value_t = 64, env = "DAISEE_CACHE")]
    pub cache: u64,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Writes a genesis block into a new datadir; with `--upgrade`, takes a new chain config
    /// (forks and Clique transitions ahead of the head) from the same chain's genesis file.
    Init {
        /// The genesis file (geth's format).
        genesis: PathBuf,
        /// Data directory.
        #[arg(long, env = "DAISEE_DATADIR")]
        datadir: PathBuf,
        /// Apply the file's fork schedule and transitions to an initialised datadir (the node
        /// must be stopped); refused if it would change anything at or before the head.
        #[arg(long)]
        upgrade: bool,
    },
    /// Runs a node on an initialised datadir.
    Run(Box<RunArgs>),
    /// Runs a one-node development chain with funded, unlocked test accounts and the Daisee
    /// contract predeployed.
    Dev(Box<DevArgs>),
    /// Writes a community genesis file (Clique signers, funded accounts, Daisee predeployed).
    Genesis(GenesisArgs),
    /// Schedules this release's Daisee contract to replace a community's in place at a block
    /// (balances, escrows and meters kept): writes the community's genesis file with the
    /// upgrade, for `daisee init --upgrade` on every board.
    UpgradeContract(crate::cli_tools::UpgradeContractArgs),
    /// Measures block throughput on this machine (in temporary databases).
    Bench(BenchArgs),
    /// Sends pre-signed transactions to any node's JSON-RPC, one per request or in batches, and
    /// times them to their last receipt (the client `benches/compare` runs against every peer).
    Load(LoadArgs),
    /// Exports canonical blocks to a file (RLP, as `geth export`).
    Export {
        /// Output file.
        file: PathBuf,
        /// First block (default 0).
        first: Option<u64>,
        /// Last block (default: head).
        last: Option<u64>,
        /// Data directory.
        #[arg(long, env = "DAISEE_DATADIR")]
        datadir: PathBuf,
    },
    /// Imports blocks from a file written by `export` (or `geth export`).
    Import {
        /// Input file.
        file: PathBuf,
        /// Data directory.
        #[arg(long, env = "DAISEE_DATADIR")]
        datadir: PathBuf,
    },
    /// Manages keystore accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Copies a board (database, node key; keystore with --keystore) into one file, from a
    /// running node over its IPC socket or from a stopped one's datadir.
    Backup {
        /// The backup file to write.
        file: PathBuf,
        /// Data directory.
        #[arg(long, env = "DAISEE_DATADIR")]
        datadir: PathBuf,
        /// Carry the keystore (encrypted account keys) too.
        #[arg(long)]
        keystore: bool,
    },
    /// Brings a backup back into a new datadir (checked whole before anything is written).
    Restore {
        /// The backup file.
        file: PathBuf,
        /// The new data directory.
        #[arg(long, env = "DAISEE_DATADIR")]
        datadir: PathBuf,
    },
    /// Looks into a stopped node's database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Opens an interactive JSON-RPC console on a node (IPC path, http:// or ws:// URL).
    Attach {
        /// Endpoint: an IPC socket path (default daisee.ipc under --datadir), http:// or ws:// URL.
        endpoint: Option<String>,
        /// Data directory whose daisee.ipc to use.
        #[arg(long, env = "DAISEE_DATADIR")]
        datadir: Option<PathBuf>,
        /// Runs these calls (`method [params]`, one per line) instead of reading the terminal.
        #[arg(long)]
        exec: Option<String>,
    },
    /// Writes a household's readings, sales and purchases of a period (CSV or JSON, units in the
    /// header) from a running node's daybook, as the dashboard's History view exports them.
    Records(RecordsArgs),
    /// Prints the version.
    Version,
}

/// `daisee account …`.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Creates a new key in `<datadir>/keystore`.
    New {
        /// Data directory.
        #[arg(long, env = "DAISEE_DATADIR")]
        datadir: PathBuf,
        /// File holding the password.
        #[arg(long)]
        password: PathBuf,
    },
    /// Imports a private key (hex, as `geth account import` takes) into `<datadir>/keystore`.
    Import {
        /// File holding the hex private key.
        keyfile: PathBuf,
        /// Data directory.
        #[arg(long, env = "DAISEE_DATADIR")]
        datadir: PathBuf,
        /// File holding the password that will protect it.
        #[arg(long)]
        password: PathBuf,
    },
    /// Lists the keys in `<datadir>/keystore`.
    List {
        /// Data directory.
        #[arg(long, env = "DAISEE_DATADIR")]
        datadir: PathBuf,
    },
}

/// JSON-RPC server flags (geth's names).
#[derive(Debug, Clone, Args, Default)]
pub struct HttpArgs {
    /// Enables the HTTP (and WebSocket) JSON-RPC server.
    #[arg(long = "http")]
    pub http: bool,
    /// HTTP listening address (default 127.0.0.1).
    #[arg(long = "http.addr")]
    pub http_addr: Option<IpAddr>,
    /// HTTP listening port (default 8545; 0 picks a free one).
    #[arg(long = "http.port")]
    pub http_port: Option<u16>,
    /// Namespaces over HTTP, comma-separated (default eth,net,web3; dev: all).
    #[arg(long = "http.api", value_delimiter = ',')]
    pub http_api: Option<Vec<String>>,
    /// Origins allowed to call from browsers (CORS), comma-separated; `*` for any.
    #[arg(long = "http.corsdomain", value_delimiter = ',')]
    pub http_cors: Option<Vec<String>>,
    /// Host names the HTTP server answers to, comma-separated (the `Host` header, against DNS
    /// rebinding); IP addresses always pass; `*` for any.
    #[arg(long = "http.vhosts", value_delimiter = ',')]
    pub http_vhosts: Option<Vec<String>>,
    /// Origins browsers may open WebSockets from, comma-separated (default: only pages the
    /// node serves itself); `*` for any (such pages still cannot sign).
    #[arg(long = "ws.origins", value_delimiter = ',')]
    pub ws_origins: Option<Vec<String>>,
    /// Lets JSON-RPC sign with unlocked accounts even when HTTP/WS listen beyond loopback.
    #[arg(long = "allow-insecure-unlock")]
    pub allow_insecure_unlock: bool,
    /// Serves Prometheus metrics at http://<metrics.addr>:<metrics.port>/metrics.
    #[arg(long = "metrics")]
    pub metrics: bool,
    /// Metrics listening address (default 127.0.0.1).
    #[arg(long = "metrics.addr")]
    pub metrics_addr: Option<IpAddr>,
    /// Metrics listening port (default 6060, as geth's).
    #[arg(long = "metrics.port")]
    pub metrics_port: Option<u16>,
    /// Serves the community dashboard on the HTTP port, at `/` (on by default in dev;
    /// `--dashboard=false` turns it off).
    #[arg(long = "dashboard", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub dashboard: Option<bool>,
    /// Lets the dashboard pay for purchases from the node's unlocked accounts (always in dev).
    /// Anyone who can reach the HTTP port can then spend from them, as over JSON-RPC.
    #[arg(long = "dashboard.buy")]
    pub dashboard_buy: bool,
    /// Enables a WebSocket server on its own port (the HTTP port serves WebSocket too).
    #[arg(long = "ws")]
    pub ws: bool,
    /// WebSocket listening address (default 127.0.0.1).
    #[arg(long = "ws.addr")]
    pub ws_addr: Option<IpAddr>,
    /// WebSocket listening port (default 8546).
    #[arg(long = "ws.port")]
    pub ws_port: Option<u16>,
    /// Namespaces over WebSocket, comma-separated (default eth,net,web3).
    #[arg(long = "ws.api", value_delimiter = ',')]
    pub ws_api: Option<Vec<String>>,
    /// What one request may cost (`--rpc.*`).
    #[command(flatten)]
    pub limits: crate::limit_args::RpcLimitArgs,
    /// IPC socket path (default <datadir>/daisee.ipc).
    #[arg(long = "ipcpath")]
    pub ipc_path: Option<PathBuf>,
    /// Disables the IPC socket.
    #[arg(long = "ipcdisable")]
    pub ipc_disable: bool,
}

/// `daisee run`.
#[derive(Debug, Clone, Args, Default)]
pub struct RunArgs {
    /// Data directory.
    #[arg(long, env = "DAISEE_DATADIR")]
    pub datadir: Option<PathBuf>,
    /// Sends the meter's signed readings to this Ethereum JSON-RPC endpoint (http://…) instead
    /// of the local chain.
    #[arg(long = "meter-target")]
    pub meter_target: Option<String>,
    /// TOML config file mirroring these flags.
    #[arg(long, env = "DAISEE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Network id (must equal the genesis chain id).
    #[arg(long)]
    pub networkid: Option<u64>,
    /// Node name, shown in logs.
    #[arg(long)]
    pub identity: Option<String>,
    /// Seals blocks with the unlocked account.
    #[arg(long)]
    pub mine: bool,
    /// Accounts to unlock from the keystore, comma-separated (the first seals with `--mine`).
    #[arg(long, value_delimiter = ',')]
    pub unlock: Option<Vec<Address>>,
    /// File holding the unlock password.
    #[arg(long)]
    pub password: Option<PathBuf>,
    /// Keystore folder (default `<datadir>/keystore`).
    #[arg(long)]
    pub keystore: Option<PathBuf>,
    /// Seals blocks even without transactions.
    #[arg(long = "seal-empty")]
    pub seal_empty: bool,
    /// JSON-RPC flags.
    #[command(flatten)]
    pub http: HttpArgs,
    /// Transaction pool limits.
    #[command(flatten)]
    pub txpool: crate::limit_args::PoolArgs,
    /// Peer-to-peer flags.
    #[command(flatten)]
    pub p2p: P2pArgs,
}

/// Peer-to-peer flags (geth's names).
#[derive(Debug, Clone, Args, Default)]
pub struct P2pArgs {
    /// P2P listening port (default 30303 for `run`; `dev` opens none unless given; 0: any).
    #[arg(long)]
    pub port: Option<u16>,
    /// P2P listening address (default 0.0.0.0).
    #[arg(long = "p2p.addr")]
    pub p2p_addr: Option<IpAddr>,
    /// Peers to connect to, comma-separated: multiaddrs with /p2p/<id>, or enode:// URLs.
    #[arg(long, value_delimiter = ',')]
    pub bootnodes: Option<Vec<String>>,
    /// Finds peers on the LAN with mDNS (off unless given).
    #[arg(long)]
    pub mdns: bool,
    /// Disables discovery (mDNS); static peers and bootnodes still connect.
    #[arg(long)]
    pub nodiscover: bool,
    /// Most connected peers.
    #[arg(long, default_value_t = 25)]
    pub maxpeers: usize,
    /// Only peers at addresses in these networks, comma-separated CIDR (`192.168.1.0/24`).
    #[arg(long, value_delimiter = ',')]
    pub netrestrict: Option<Vec<ipnet::IpNet>>,
    /// The p2p identity from this file (hex secp256k1 key, as geth's) instead of
    /// <datadir>/daisee/nodekey.
    #[arg(long, conflicts_with = "nodekeyhex")]
    pub nodekey: Option<PathBuf>,
    /// The p2p identity as hex (for tests and provisioning scripts; the key shows in `ps`).
    #[arg(long)]
    pub nodekeyhex: Option<String>,
    /// Only the peers of static-nodes.json and --bootnodes may connect.
    #[arg(long = "p2p.static-only")]
    pub static_only: bool,
    /// No networking at all.
    #[arg(long)]
    pub nonetwork: bool,
}

/// `daisee dev`.
#[derive(Debug, Clone, Args)]
pub struct DevArgs {
    /// Keep the chain in this directory (default: a temporary one, removed at exit).
    #[arg(long, env = "DAISEE_DATADIR")]
    pub datadir: Option<PathBuf>,
    /// Seconds between blocks; 0 seals as soon as transactions wait.
    #[arg(long = "dev.period", default_value_t = 0)]
    pub period: u64,
    /// How many accounts to derive and fund.
    #[arg(long = "dev.accounts", default_value_t = 10)]
    pub accounts: u32,
    /// Mnemonic the accounts derive from.
    #[arg(long = "dev.mnemonic", default_value = daisee_node::accounts::DEV_MNEMONIC)]
    pub mnemonic: String,
    /// Seals blocks even without transactions.
    #[arg(long = "seal-empty")]
    pub seal_empty: bool,
    /// Runs no simulated households.
    #[arg(long = "dev.no-meters")]
    pub no_meters: bool,
    /// The households' reading interval, in simulated seconds.
    #[arg(long = "dev.meter-interval", default_value_t = 300)]
    pub meter_interval: u64,
    /// How much faster than the wall clock the simulated households live (1: real time).
    #[arg(long = "dev.meter-speed", default_value_t = 60.0)]
    pub meter_speed: f64,
    /// Unix time (s) the simulated households start at (default: the next 07:00 UTC, so the sun
    /// is up). The dev chain seals by the households' clock, so its blocks carry their time.
    #[arg(long = "dev.meter-start")]
    pub meter_start: Option<u64>,
    /// The households' meters: `sim` (power samples, as CitizenWatt sensors send), or a
    /// utility meter's frames read through the real decoders: `tic` (a Linky in standard mode)
    /// or `p1` (DSMR 5 telegrams).
    #[arg(long = "dev.meter-source", default_value = "sim", value_parser = ["sim", "tic", "p1"])]
    pub meter_source: String,
    /// JSON-RPC flags (HTTP is on by default in dev).
    #[command(flatten)]
    pub http: HttpArgs,
    /// Transaction pool limits.
    #[command(flatten)]
    pub txpool: crate::limit_args::PoolArgs,
}
