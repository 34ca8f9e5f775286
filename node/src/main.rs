//! The `daisee` command: parses the command line and runs the chosen subcommand.
// Items of the binary's modules are `pub` for reading, not for export.
#![allow(unreachable_pub)]

mod attach;
mod cli;
mod cli_tools;
mod commands;
mod config;
mod launch;
mod limit_args;
mod meter_config;
mod meter_sources;

use clap::Parser;
use cli::{AccountCommand, Cli, Command, DbCommand};

/// glibc's malloc gives each thread that contends for it an arena of its own, up to eight per
/// core, and keeps what they freed: with the node's runtime, sled's and sealing threads that
/// grew the process's memory by tens of MiB that never came back (`daisee bench` with its
/// defaults peaked at 234 MiB, 163 MiB with two arenas, with no loss of throughput measured).
/// Two arenas, set before any thread starts; `MALLOC_ARENA_MAX` in the environment still wins.
fn cap_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a tunable of glibc's allocator; it is called once, first
        // thing in main, before this process has started any other thread.
        #[allow(unsafe_code)]
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

fn main() -> anyhow::Result<()> {
    cap_malloc_arenas();
    let cli = Cli::parse();
    let quiet = matches!(cli.command, Command::Bench(_) | Command::Load(_));
    commands::init_logging(cli.verbosity.unwrap_or(if quiet { 2 } else { 3 }), &cli.log_format);
    launch::set_cache_mib(cli.cache);
    match cli.command {
        Command::Init { genesis, datadir, upgrade } => commands::init(&genesis, &datadir, upgrade),
        Command::Run(args) => commands::run(*args),
        Command::Dev(args) => commands::dev(*args),
        Command::Genesis(args) => commands::write_genesis(args),
        Command::UpgradeContract(args) => commands::upgrade_contract(args),
        Command::Bench(args) => commands::bench(args),
        Command::Load(args) => commands::load(args),
        Command::Export { file, first, last, datadir } => {
            commands::export(&file, first, last, &datadir)
        }
        Command::Import { file, datadir } => commands::import(&file, &datadir),
        Command::Account(AccountCommand::New { datadir, password }) => {
            commands::account_new(&datadir, &password)
        }
        Command::Account(AccountCommand::Import { keyfile, datadir, password }) => {
            commands::account_import(&keyfile, &datadir, &password)
        }
        Command::Account(AccountCommand::List { datadir }) => commands::account_list(&datadir),
        Command::Attach { endpoint, datadir, exec } => commands::attach(endpoint, datadir, exec),
        Command::Records(args) => commands::records(args),
        Command::Backup { file, datadir, keystore } => commands::backup(&datadir, &file, keystore),
        Command::Restore { file, datadir } => commands::restore(&file, &datadir),
        Command::Db(DbCommand::Stats { datadir, json }) => commands::db_stats(&datadir, json),
        Command::Version => commands::version(),
    }
}
