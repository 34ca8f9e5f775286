//! The arguments of the commands that do not run a node: `genesis`, `bench`, `load`, `records`
//! and `db` (the node's own commands are in `cli.rs`).

use clap::{Args, Subcommand};
use daisee_node::primitives::{Address, U256};
use std::path::PathBuf;

/// `daisee upgrade-contract`.
#[derive(Debug, Clone, Args)]
pub struct UpgradeContractArgs {
    /// The community's genesis file.
    pub genesis: PathBuf,
    /// The first block that runs the new code (ahead of every board's head).
    #[arg(long)]
    pub block: u64,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `daisee genesis`.
#[derive(Debug, Clone, Args)]
pub struct GenesisArgs {
    /// Chain id and network id.
    #[arg(long = "networkid")]
    pub chain_id: u64,
    /// Seconds between blocks.
    #[arg(long, default_value_t = 5)]
    pub period: u64,
    /// Blocks between checkpoints.
    #[arg(long, default_value_t = 30_000)]
    pub epoch: u64,
    /// A Clique signer (repeat for each).
    #[arg(long = "signer", required = true)]
    pub signers: Vec<Address>,
    /// A funded account, `ADDRESS=WEI` (repeat for each).
    #[arg(long = "fund", value_parser = parse_fund)]
    pub funds: Vec<(Address, U256)>,
    /// Owner of the Daisee contract (default: the first signer).
    #[arg(long)]
    pub owner: Option<Address>,
    /// A meter registered in the Daisee contract (repeat for each).
    #[arg(long = "meter")]
    pub meters: Vec<Address>,
    /// Price of energy in wei per Wh (default 15 szabo).
    #[arg(long, default_value_t = U256::ZERO)]
    pub rate: U256,
    /// Genesis timestamp (unix seconds).
    #[arg(long, default_value_t = 0)]
    pub timestamp: u64,
    /// The community's interval in seconds: meters' readings end on its multiples (the boards'
    /// `[meter] interval` must be the same).
    #[arg(long, default_value_t = daisee_contracts::DEFAULT_INTERVAL_S)]
    pub interval: u64,
    /// How long after an interval's end its market takes readings, in seconds (0: one interval).
    #[arg(long, default_value_t = 0)]
    pub grace: u64,
    /// The block gas limit: how many meters one `settle` takes (`settleCapacity()`: 2,216 at
    /// the default, 661 at 30 M; docs/market.md).
    #[arg(long, default_value_t = daisee_node::community::COMMUNITY_GAS_LIMIT)]
    pub gas_limit: u64,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn parse_fund(text: &str) -> Result<(Address, U256), String> {
    let (address, wei) = text.split_once('=').ok_or("expected ADDRESS=WEI")?;
    let address = address.parse::<Address>().map_err(|e| format!("{address}: {e}"))?;
    let wei = U256::from_str_radix(
        wei.trim_start_matches("0x"),
        if wei.starts_with("0x") { 16 } else { 10 },
    )
    .map_err(|e| format!("{wei}: {e}"))?;
    Ok((address, wei))
}

/// `daisee bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Transactions per workload.
    #[arg(long, default_value_t = 2000)]
    pub txs: usize,
    /// Sending accounts.
    #[arg(long, default_value_t = 50)]
    pub accounts: usize,
    /// Transactions per block (at most).
    #[arg(long = "block-txs", default_value_t = 250)]
    pub block_txs: usize,
    /// Threads for parallel sender recovery (default: the cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Workload: transfer, report, buy (repeat; default all three).
    #[arg(long = "workload")]
    pub workloads: Vec<daisee_node::bench::Workload>,
    /// State sizes (accounts) at which to time a block, comma-separated. 100000 is not in the
    /// default: building that state peaks near 400 MiB, more than a 1 GB board should give a
    /// benchmark (add it with `--state-sizes 1000,10000,100000`).
    #[arg(long = "state-sizes", value_delimiter = ',', default_values_t = [1_000usize, 10_000])]
    pub state_sizes: Vec<usize>,
    /// Days of community history to measure the daybook on (0: skip).
    #[arg(long = "history-days", default_value_t = 365)]
    pub history_days: u64,
    /// Households in that history (each reporting every 15 min).
    #[arg(long = "history-households", default_value_t = 3)]
    pub history_households: usize,
    /// Prints JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `daisee load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// The node's JSON-RPC over plain HTTP (this node, another board, anvil, Hardhat, geth).
    pub url: String,
    /// The transactions: a JSON file of lanes, `[["0x…raw", …], …]` (or `{"lanes": …}`), each
    /// lane one account's signed transactions in nonce order, sent on its own connection.
    #[arg(long)]
    pub lanes: PathBuf,
    /// Transactions per request: 1 as wallets send them, more for JSON-RPC batches (at most
    /// 1,000).
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Seconds without an answer or a new receipt before the run is reported as stalled.
    #[arg(long = "stall-secs", default_value_t = 60)]
    pub stall_secs: u64,
    /// Prints JSON instead of a line.
    #[arg(long)]
    pub json: bool,
}

/// `daisee records`.
#[derive(Debug, clap::Args)]
pub struct RecordsArgs {
    /// Endpoint: an IPC socket path (default daisee.ipc under --datadir), http:// or ws:// URL.
    pub endpoint: Option<String>,
    /// Data directory whose daisee.ipc to use.
    #[arg(long, env = "DAISEE_DATADIR")]
    pub datadir: Option<PathBuf>,
    /// The household (its meter account).
    #[arg(long)]
    pub meter: String,
    /// First day (YYYY-MM-DD, in the node's time zone).
    #[arg(long)]
    pub from: String,
    /// Last day (YYYY-MM-DD), included.
    #[arg(long)]
    pub to: String,
    /// csv or json.
    #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
    pub format: String,
    /// Write here instead of the standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `daisee db …`.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Entries and bytes by kind (blocks, receipts, state, changesets, indexes, outbox, daybook),
    /// and per block.
    Stats {
        /// Data directory (of a stopped node: the database is locked while one runs).
        #[arg(long, env = "DAISEE_DATADIR")]
        datadir: PathBuf,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}
