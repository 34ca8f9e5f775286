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

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let quiet = matches!(cli.command, Command::Bench(_));
    commands::init_logging(cli.verbosity.unwrap_or(if quiet { 2 } else { 3 }), &cli.log_format);
    launch::set_cache_mib(cli.cache);
    match cli.command {
        Command::Init { genesis, datadir, upgrade } => commands::init(&genesis, &datadir, upgrade),
        Command::Run(args) => commands::run(*args),
        Command::Dev(args) => commands::dev(*args),
        Command::Genesis(args) => commands::write_genesis(args),
        Command::UpgradeContract(args) => commands::upgrade_contract(args),
        Command::Bench(args) => commands::bench(args),
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
