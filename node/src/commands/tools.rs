//! `daisee genesis` and `daisee bench`.

use crate::cli::{BenchArgs, GenesisArgs};
use daisee_node::community::{community_genesis, CommunitySpec};

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
