//! The `daisee` command: parses the command line and runs the chosen subcommand.
// Items of the binary's modules are `pub` for reading, not for export.
#![allow(unreachable_pub)]

mod attach;
mod cli;
mod config;
mod launch;
mod limit_args;
mod meters;

use anyhow::{bail, Context};
use clap::Parser;
use cli::{AccountCommand, BenchArgs, Cli, Command, DevArgs, GenesisArgs, RunArgs};
use daisee_node::community::{community_genesis, CommunitySpec, DAISEE_ADDRESS};
use daisee_node::dashboard::DashboardOptions;
use daisee_node::genesis::Genesis;
use daisee_node::node::{unix_now, NodeConfig};
use daisee_node::state::Store;
use daisee_node::{accounts, chain, primitives};
use primitives::{PrivateKey, U256};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.verbosity);
    match cli.command {
        Command::Init { genesis, datadir } => {
            let text = std::fs::read_to_string(&genesis)
                .with_context(|| format!("reading {}", genesis.display()))?;
            let genesis = Genesis::from_json(&text)?;
            let header = launch::open_store(&datadir)?.init_genesis(&genesis)?;
            say(&format!("initialised {} with genesis {}", datadir.display(), header.hash()))
        }
        Command::Run(args) => run(*args),
        Command::Dev(args) => dev(*args),
        Command::Genesis(args) => write_genesis(args),
        Command::Bench(args) => bench(args),
        Command::Export { file, first, last, datadir } => {
            let store = launch::open_store(&datadir)?;
            let last = last.unwrap_or(store.head()?.number);
            let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
            let n = chain::export(&store, &mut out, first.unwrap_or(0), last)?;
            say(&format!("exported {n} blocks to {}", file.display()))
        }
        Command::Import { file, datadir } => {
            let data =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let blocks = chain::read_blocks(&data)?;
            let mut chain = chain::Chain::open(launch::open_store(&datadir)?)?;
            match chain.import_blocks(&blocks, unix_now()) {
                Ok(s) => say(&format!(
                    "imported {} blocks ({} known); head {}",
                    s.imported,
                    s.known,
                    chain.head().hash()
                )),
                Err((s, e)) => bail!("import stopped after {} blocks: {e}", s.imported),
            }
        }
        Command::Account(AccountCommand::New { datadir, password }) => {
            let password = read_password(&password)?;
            let key = accounts::random_key()?;
            let path =
                accounts::store_key(&launch::layout::keystore(&datadir), &key, &password, 18)?;
            say(&format!("address {}\nkeyfile {}", key.address(), path.display()))
        }
        Command::Account(AccountCommand::Import { keyfile, datadir, password }) => {
            let text = std::fs::read_to_string(&keyfile)
                .with_context(|| format!("reading {}", keyfile.display()))?;
            let raw = hex::decode(text.trim().trim_start_matches("0x"))
                .context("the key file must hold a hex private key")?;
            if raw.len() != 32 {
                bail!("a private key is 32 bytes, the file holds {}", raw.len());
            }
            let key = PrivateKey::from_bytes(&primitives::B256::from_slice(&raw))?;
            let keystore = launch::layout::keystore(&datadir);
            if accounts::list_keys(&keystore)?.iter().any(|(a, _)| *a == key.address()) {
                bail!("account {} already exists", key.address());
            }
            let password = read_password(&password)?;
            let path = accounts::store_key(&keystore, &key, &password, 18)?;
            say(&format!("address {}\nkeyfile {}", key.address(), path.display()))
        }
        Command::Account(AccountCommand::List { datadir }) => {
            for (i, (address, path)) in
                accounts::list_keys(&launch::layout::keystore(&datadir))?.iter().enumerate()
            {
                say(&format!("Account #{i}: {{{address}}} keystore://{}", path.display()))?;
            }
            Ok(())
        }
        Command::Attach { endpoint, datadir, exec } => attach::run(endpoint, datadir, exec),
        Command::Version => say(&format!("{}\n", daisee_node::rpc::client_version())),
    }
}

fn say(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

fn init_logging(verbosity: u8) {
    let level = match verbosity {
        0 => "off",
        1 => "error",
        2 => "warn",
        3 => "info",
        4 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},sled=warn,jsonrpsee=warn"))
    });
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

/// The first line of a password file; both copies are wiped from memory when dropped.
fn read_password(path: &std::path::Path) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("reading password file {}", path.display()))?,
    );
    Ok(zeroize::Zeroizing::new(text.lines().next().unwrap_or_default().to_string()))
}

/// Networking as the flags ask: static peers from `static-nodes.json` and `--bootnodes`.
fn net_config(
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
        (None, None) => identity::load_or_create(&datadir.join("daisee").join("nodekey"))?,
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
    }))
}

/// The servers the flags ask for. In dev, HTTP is on and serves every namespace and the
/// dashboard by default; `--dashboard` turns HTTP on for `run` too.
fn serve_plan(
    args: &cli::HttpArgs,
    dev: bool,
    datadir: Option<&std::path::Path>,
) -> launch::ServePlan {
    let apis = |listed: &Option<Vec<String>>| -> Vec<String> {
        let default = if dev { daisee_node::rpc::ALL_APIS } else { daisee_node::rpc::DEFAULT_APIS };
        listed.clone().unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect())
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
            });
        }
    }
    let ipc = if args.ipc_disable {
        None
    } else {
        args.ipc_path.clone().or_else(|| datadir.map(|d| d.join("daisee.ipc")))
    };
    launch::ServePlan { servers, ipc, limits, ..Default::default() }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

fn run(flags: RunArgs) -> anyhow::Result<()> {
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
        let password =
            read_password(&args.password.clone().context("--unlock needs --password <file>")?)?;
        let keystore = args.keystore.clone().unwrap_or_else(|| launch::layout::keystore(&datadir));
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
        .map(|m| meters::from_config(m, &unlocked, base, args.meter_target.clone()))
        .transpose()?;
    let name = args.identity.clone().unwrap_or_else(|| "daisee".into());
    tracing::info!(target: "daisee", %name, chain_id, signer = ?signer.as_ref().map(PrivateKey::address), "starting");
    let node = launch::start(
        store,
        NodeConfig {
            signer,
            seal_empty: args.seal_empty,
            accounts: unlocked,
            pool: args.txpool.config(),
        },
    )?;
    let mut plan = serve_plan(&args.http, false, Some(&datadir));
    plan.net = net_config(&args.p2p, &datadir, 30303)?;
    plan.meters.extend(meter_spec);
    runtime()?.block_on(launch::serve(node, plan))
}

fn dev(args: DevArgs) -> anyhow::Result<()> {
    let seed = accounts::mnemonic_seed(&args.mnemonic);
    let keys = (0..args.accounts.max(1))
        .map(|i| accounts::derive_key(&seed, i))
        .collect::<Result<Vec<_>, _>>()?;
    let ten_thousand_ether = U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18));
    let spec = CommunitySpec {
        chain_id: 31337,
        period: args.period,
        epoch: 30_000,
        signers: vec![keys[0].address()],
        funds: keys.iter().map(|k| (k.address(), ten_thousand_ether)).collect(),
        owner: keys[0].address(),
        rate: U256::ZERO,
        meters: keys.iter().map(PrivateKey::address).collect(),
        timestamp: 0,
    };
    let genesis = community_genesis(&spec)?;
    let store = match &args.datadir {
        Some(dir) => launch::open_store(dir)?,
        None => Store::temporary()?,
    };
    let genesis_hash = store.init_genesis(&genesis)?.hash();
    let mut banner = format!("Daisee dev chain (chain id 31337), genesis {genesis_hash}\n\nAccounts (10,000 ETH each, unlocked, registered as meters):\n");
    for (i, key) in keys.iter().enumerate() {
        banner += &format!("({i}) {} key 0x{}\n", key.address(), hex::encode(key.to_bytes()));
    }
    banner += &format!("\nDaisee contract: {DAISEE_ADDRESS} (owner {}, 15 szabo per Wh)\nSigner: {} (period {} s{})\n",
        keys[0].address(), keys[0].address(), args.period, if args.period == 0 { ": a block as soon as transactions wait" } else { "" });
    say(&banner)?;
    let config = NodeConfig {
        signer: Some(keys[0].clone()),
        accounts: keys.clone(),
        seal_empty: args.seal_empty,
        pool: args.txpool.config(),
    };
    let node = launch::start(store, config)?;
    let mut plan = serve_plan(&args.http, true, args.datadir.as_deref());
    if !args.no_meters && keys.len() >= 4 {
        let start = args.meter_start.unwrap_or_else(|| unix_now() - unix_now() % 86_400 + 7 * 3600);
        plan.meters =
            meters::dev_households(&keys, args.meter_interval.max(1), args.meter_speed, start);
        say(&format!(
            "Meters: producer {}, consumer {}, prosumer {} (simulated, {}x real time, a reading every {} simulated s)",
            plan.meters[0].key.address(), plan.meters[1].key.address(), plan.meters[2].key.address(), args.meter_speed, args.meter_interval
        ))?;
    }
    runtime()?.block_on(launch::serve(node, plan))
}

fn bench(args: BenchArgs) -> anyhow::Result<()> {
    use daisee_node::bench::{self, BenchConfig, Workload};
    let workloads = if args.workloads.is_empty() {
        vec![Workload::Transfer, Workload::ReportReading, Workload::BuyEnergy]
    } else {
        args.workloads
    };
    let config = BenchConfig {
        txs: args.txs,
        accounts: args.accounts,
        block_txs: args.block_txs,
        threads: args.threads.unwrap_or_else(daisee_node::chain::cores),
        workloads,
        state_sizes: args.state_sizes,
    };
    let report = bench::run(&config)?;
    if args.json {
        return say(&serde_json::to_string_pretty(&report)?);
    }
    say(&report.table())
}

fn write_genesis(args: GenesisArgs) -> anyhow::Result<()> {
    let spec = CommunitySpec {
        chain_id: args.chain_id,
        period: args.period,
        epoch: args.epoch,
        owner: args.owner.unwrap_or(args.signers[0]),
        signers: args.signers,
        funds: args.funds,
        rate: args.rate,
        meters: args.meters,
        timestamp: args.timestamp,
    };
    let genesis = community_genesis(&spec)?;
    let text = serde_json::to_string_pretty(&genesis.to_json())? + "\n";
    match args.out {
        Some(path) => {
            std::fs::write(&path, text)?;
            say(&format!("wrote {} (genesis {})", path.display(), genesis.header().hash()))
        }
        None => say(text.trim_end()),
    }
}
