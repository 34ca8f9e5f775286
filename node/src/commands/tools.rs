//! `daisee genesis`, `daisee upgrade-contract`, `daisee bench` and `daisee load`.

use crate::cli::{BenchArgs, GenesisArgs, LoadArgs};
use crate::cli_tools::UpgradeContractArgs;
use daisee_node::community::{community_genesis, CommunitySpec, DAISEE_ADDRESS};
use daisee_node::genesis::{ContractUpgrade, Genesis};

/// `daisee bench`.
pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
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
        history_days: args.history_days,
        history_households: args.history_households,
    };
    let report = bench::run(&config)?;
    if args.json {
        return super::say(&serde_json::to_string_pretty(&report)?);
    }
    super::say(&report.table())
}

/// `daisee load`.
pub fn load(args: LoadArgs) -> anyhow::Result<()> {
    use daisee_node::bench::client::{self, Lanes, Rpc};
    let stall = std::time::Duration::from_secs(args.stall_secs.max(1));
    let lanes = Lanes::read(&args.lanes)?;
    anyhow::ensure!(lanes.txs() > 0, "{}: no transactions in it", args.lanes.display());
    let rpc = Rpc::new(&args.url, stall)?;
    let report = client::load(&rpc, &lanes, args.batch, stall)?;
    let text = if args.json { serde_json::to_string_pretty(&report)? } else { load_line(&report) };
    super::say(&text)?;
    anyhow::ensure!(!report.stalled, "stalled: {} of {} mined", report.mined, report.txs);
    Ok(())
}

/// `daisee load`'s report as a line for people.
fn load_line(report: &daisee_node::bench::client::LoadReport) -> String {
    let outcome = if report.stalled {
        format!("STALLED after {}/{} mined", report.mined, report.txs)
    } else {
        format!("{:.0} tx/s", report.tx_per_s)
    };
    format!(
        "{outcome}: {} transactions in {} lanes, {} per request, submitted in {:.2} s, last \
         receipt after {:.2} s; {} reverted, {} refused{}, {} sent again (pool full); client \
         CPU {:.0} µs/tx",
        report.txs,
        report.lanes,
        report.batch,
        report.submit_s,
        report.elapsed_s,
        report.reverted,
        report.refused,
        report.first_refusal.as_deref().map(|r| format!(" (first: {r})")).unwrap_or_default(),
        report.resent,
        report.client_cpu_us_per_tx
    )
}

/// `daisee genesis`.
pub fn write_genesis(args: GenesisArgs) -> anyhow::Result<()> {
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
        interval_s: args.interval,
        grace_s: args.grace,
        gas_limit: args.gas_limit,
    };
    let genesis = community_genesis(&spec)?;
    let text = serde_json::to_string_pretty(&genesis.to_json())? + "\n";
    match args.out {
        Some(path) => {
            std::fs::write(&path, text)?;
            super::say(&format!("wrote {} (genesis {})", path.display(), genesis.header().hash()))
        }
        None => super::say(text.trim_end()),
    }
}

/// `daisee upgrade-contract`: the community's genesis with this release's contract scheduled to
/// replace the one at [`DAISEE_ADDRESS`] from block `--block` on (storage, balance and nonce
/// kept). The genesis hash does not change: only the config's `daiseeContractUpgrades` does.
pub fn upgrade_contract(args: UpgradeContractArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.genesis)?;
    let mut genesis = Genesis::from_json(&text)?;
    let hash = genesis.header().hash();
    anyhow::ensure!(
        genesis.alloc.get(&DAISEE_ADDRESS).is_some_and(|a| !a.code.is_empty()),
        "{} holds no Daisee contract at {DAISEE_ADDRESS}",
        args.genesis.display()
    );
    let code = daisee_contracts::Daisee::DEPLOYED_BYTECODE.clone();
    anyhow::ensure!(
        !genesis.config.contract_upgrades.iter().any(|u| u.code == code),
        "this release's contract is already scheduled in {}",
        args.genesis.display()
    );
    genesis.config.contract_upgrades.push(ContractUpgrade {
        block: args.block,
        address: DAISEE_ADDRESS,
        code,
    });
    let text = serde_json::to_string_pretty(&genesis.to_json())? + "\n";
    // The same checks every board's `init --upgrade` makes (order, block 0, size).
    Genesis::from_json(&text)?;
    match args.out {
        Some(path) => {
            std::fs::write(&path, text)?;
            super::say(&format!(
                "wrote {} (genesis {hash}): the contract at {DAISEE_ADDRESS} runs this release's \
                 code from block {}; give it to every board's `daisee init --upgrade`",
                path.display(),
                args.block
            ))
        }
        None => super::say(text.trim_end()),
    }
}
