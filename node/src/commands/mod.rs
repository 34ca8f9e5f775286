//! The subcommands of `daisee`, one function each (`main.rs` only parses the command line).

mod backup;
mod dev;
mod records;
mod run;
mod tools;

pub use dev::dev;
pub use run::run;
pub use tools::{bench, load, upgrade_contract, write_genesis};

use crate::launch;
use anyhow::{bail, Context};
use daisee_node::genesis::{Genesis, UpgradePlan};
use daisee_node::node::unix_now;
use daisee_node::primitives::{self, PrivateKey};
use daisee_node::service::layout;
use daisee_node::{accounts, chain};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `daisee init [--upgrade]`.
pub fn init(file: &Path, datadir: &Path, upgrade: bool) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let genesis = Genesis::from_json(&text)?;
    let store = launch::open_store(datadir)?;
    let initialised = store.genesis_hash().is_ok();
    let header = store.init_genesis(&genesis)?;
    let stored = store.chain_config()?;
    if !initialised || stored == genesis.config {
        if upgrade {
            return say(&format!("{}: nothing to upgrade", datadir.display()));
        }
        return say(&format!("initialised {} with genesis {}", datadir.display(), header.hash()));
    }
    let head = store.head()?;
    let plan = UpgradePlan::check(&stored, &genesis.config, head.number, head.timestamp)
        .with_context(|| format!("{} cannot upgrade {}", file.display(), datadir.display()))?;
    let changes = plan.changes.join("\n  ");
    if !upgrade {
        bail!(
            "{} changes this chain's config:\n  {changes}\nrun `daisee init --upgrade` to apply it",
            file.display()
        );
    }
    store.set_chain_config(&genesis.config)?;
    say(&format!("upgraded {} at head {}:\n  {changes}", datadir.display(), head.number))
}

/// `daisee export`.
pub fn export(
    file: &Path,
    first: Option<u64>,
    last: Option<u64>,
    datadir: &Path,
) -> anyhow::Result<()> {
    let store = launch::open_store(datadir)?;
    let last = last.unwrap_or(store.head()?.number);
    let mut out = std::io::BufWriter::new(std::fs::File::create(file)?);
    let n = chain::export(&store, &mut out, first.unwrap_or(0), last)?;
    say(&format!("exported {n} blocks to {}", file.display()))
}

/// `daisee import`.
pub fn import(file: &Path, datadir: &Path) -> anyhow::Result<()> {
    let data = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let blocks = chain::read_blocks(&data)?;
    let mut chain = chain::Chain::open(launch::open_store(datadir)?)?;
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

/// `daisee account new`.
pub fn account_new(datadir: &Path, password: &Path) -> anyhow::Result<()> {
    let password = read_password(password)?;
    let key = accounts::random_key()?;
    let path = accounts::store_key(&layout::keystore(datadir), &key, &password, 18)?;
    say(&format!("address {}\nkeyfile {}", key.address(), path.display()))
}

/// `daisee account import`.
pub fn account_import(keyfile: &Path, datadir: &Path, password: &Path) -> anyhow::Result<()> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(keyfile)
            .with_context(|| format!("reading {}", keyfile.display()))?,
    );
    let raw = zeroize::Zeroizing::new(
        hex::decode(text.trim().trim_start_matches("0x"))
            .context("the key file must hold a hex private key")?,
    );
    if raw.len() != 32 {
        bail!("a private key is 32 bytes, the file holds {}", raw.len());
    }
    let key = PrivateKey::from_bytes(&primitives::B256::from_slice(&raw))?;
    let keystore = layout::keystore(datadir);
    if accounts::list_keys(&keystore)?.iter().any(|(a, _)| *a == key.address()) {
        bail!("account {} already exists", key.address());
    }
    let password = read_password(password)?;
    let path = accounts::store_key(&keystore, &key, &password, 18)?;
    say(&format!("address {}\nkeyfile {}", key.address(), path.display()))
}

/// `daisee account list`.
pub fn account_list(datadir: &Path) -> anyhow::Result<()> {
    for (i, (address, path)) in accounts::list_keys(&layout::keystore(datadir))?.iter().enumerate()
    {
        say(&format!("Account #{i}: {{{address}}} keystore://{}", path.display()))?;
    }
    Ok(())
}

pub use backup::{backup, restore};
pub use records::records;

/// `daisee db stats`.
pub fn db_stats(datadir: &Path, json: bool) -> anyhow::Result<()> {
    let store = launch::open_store(datadir).context(
        "is a node running on this datadir? stop it first (the database is locked while one runs)",
    )?;
    let head = store.head()?.number;
    let stats = store.stats()?;
    let total: u64 = stats.values().map(|s| s.bytes).sum();
    let on_disk = daisee_node::disk_watch::dir_size(&layout::chaindata(datadir));
    if json {
        let kinds: serde_json::Map<String, serde_json::Value> =
            stats.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect();
        let doc =
            serde_json::json!({ "head": head, "bytes": total, "onDisk": on_disk, "kinds": kinds });
        return say(&serde_json::to_string_pretty(&doc)?);
    }
    let mut out = format!("{:<32} {:>12} {:>14} {:>8}\n", "kind", "entries", "bytes", "share");
    for (kind, size) in &stats {
        let share = 100.0 * size.bytes as f64 / total.max(1) as f64;
        out += &format!("{kind:<32} {:>12} {:>14} {share:>7.1}%\n", size.entries, size.bytes);
    }
    out += &format!(
        "\n{total} bytes of keys and values in {} blocks ({} per block); {on_disk} bytes on disk",
        head,
        total / head.max(1)
    );
    say(&out)
}

/// `daisee attach`.
pub fn attach(
    endpoint: Option<String>,
    datadir: Option<PathBuf>,
    exec: Option<String>,
) -> anyhow::Result<()> {
    crate::attach::run(endpoint, datadir, exec)
}

/// `daisee version`.
pub fn version() -> anyhow::Result<()> {
    say(&format!("{}\n", daisee_node::rpc::client_version()))
}

pub(crate) fn say(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

/// Logs to standard error at `verbosity` (RUST_LOG overrides).
pub fn init_logging(verbosity: u8, format: &str) {
    let level = match verbosity {
        0 => "off",
        1 => "error",
        2 => "warn",
        3 => "info",
        4 => "debug",
        _ => "trace",
    };
    // gossipsub warns once per message it cannot queue for a slow peer, the message's bytes
    // dumped in the line; the node drops such a peer and says so once (`daisee::net`).
    let quiet = if verbosity <= 3 { ",libp2p_gossipsub::behaviour=error" } else { "" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},sled=warn,jsonrpsee=warn{quiet}"))
    });
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        logs.json().flatten_event(true).with_current_span(false).with_span_list(false).init();
    } else {
        // Colour codes only for a person at a terminal, never in a file or the journal.
        use std::io::IsTerminal;
        let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        logs.with_ansi(colour).init();
    }
}

/// The first line of a password file; both copies are wiped from memory when dropped.
pub(crate) fn read_password(path: &std::path::Path) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("reading password file {}", path.display()))?,
    );
    Ok(zeroize::Zeroizing::new(text.lines().next().unwrap_or_default().to_string()))
}
