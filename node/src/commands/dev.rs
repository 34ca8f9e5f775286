//! `daisee dev`: a one-node community chain in a temporary (or given) datadir, with funded,
//! unlocked accounts, the Daisee contract and three simulated households.

use super::run::{runtime, serve_plan};
use crate::cli::DevArgs;
use crate::{launch, meter_config};
use daisee_node::accounts;
use daisee_node::community::{community_genesis, dev_spec, DAISEE_ADDRESS};
use daisee_node::node::{unix_now, NodeConfig};
use daisee_node::state::Store;
use daisee_radio::source::sim::SimClock;

/// `daisee dev`.
pub fn dev(args: DevArgs) -> anyhow::Result<()> {
    let seed = accounts::mnemonic_seed(&args.mnemonic);
    let keys = (0..args.accounts.max(1))
        .map(|i| accounts::derive_key(&seed, i))
        .collect::<Result<Vec<_>, _>>()?;
    let mut spec = dev_spec(&keys, args.period);
    spec.interval_s = args.meter_interval.max(1);
    let genesis = community_genesis(&spec)?;
    let store = match &args.datadir {
        Some(dir) => launch::open_store(dir)?,
        None => Store::temporary()?,
    };
    let genesis_hash = store.init_genesis(&genesis)?.hash();
    // The households' day, and the chain's time with them: from the given start, or the next
    // 07:00 UTC (the sun is up, and the chain is never behind the wall clock); a kept chain
    // goes on from its head.
    let start = args.meter_start.unwrap_or_else(next_sunrise).max(store.head()?.timestamp);
    let clock = SimClock::accelerated(start * 1000, args.meter_speed);
    let mut banner = format!("Daisee dev chain (chain id 31337), genesis {genesis_hash}\n\nAccounts (10,000 ETH each, unlocked, registered as meters):\n");
    for (i, key) in keys.iter().enumerate() {
        banner += &format!("({i}) {} key 0x{}\n", key.address(), hex::encode(key.to_bytes()));
    }
    banner += &format!("\nDaisee contract: {DAISEE_ADDRESS} (owner {}, 15 szabo per Wh)\nSigner: {} (period {} s{})\n",
        keys[0].address(), keys[0].address(), args.period, if args.period == 0 { ": a block as soon as transactions wait" } else { "" });
    super::say(&banner)?;
    let mut plan = serve_plan(&args.http, true, args.datadir.as_deref());
    plan.node = NodeConfig {
        signer: Some(keys[0].clone()),
        accounts: keys.clone(),
        seal_empty: args.seal_empty,
        pool: args.txpool.config(),
        clock: None,
    };
    if !args.no_meters && keys.len() >= 4 {
        plan.node.clock = Some(clock);
        use daisee_radio::source::emulated::Emulated;
        let (meter, seen) = match args.meter_source.as_str() {
            "tic" => (Some(Emulated::Tic), ", seen through a Linky's TIC frames"),
            "p1" => (Some(Emulated::P1), ", seen through DSMR 5 telegrams"),
            _ => (None, ""),
        };
        plan.meters = meter_config::dev_households(&keys, args.meter_interval.max(1), clock, meter);
        super::say(&format!(
            "Meters: producer {}, consumer {}, prosumer {} (simulated{seen}, {}x real time, a reading every {} simulated s)",
            plan.meters[0].key.address(), plan.meters[1].key.address(), plan.meters[2].key.address(), args.meter_speed, args.meter_interval
        ))?;
    }
    runtime()?.block_on(launch::serve(store, plan))
}

/// The next 07:00 UTC, now or later (unix s).
fn next_sunrise() -> u64 {
    let now = unix_now();
    let today = now - now % 86_400 + 7 * 3600;
    if today >= now {
        today
    } else {
        today + 86_400
    }
}
