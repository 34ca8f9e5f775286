//! The limit flags of `run` and `dev` — `--rpc.*` for what one request may cost and
//! `--txpool.*` for the pool — which are also the `[rpc]` and `[txpool]` tables of the config
//! file: one struct each, read by clap and by serde (flags win). Defaults and the errors each
//! limit gives are in docs/security.md.

use daisee_node::rpc::RpcLimits;
use daisee_node::txpool::PoolConfig;
use serde::Deserialize;
use std::time::Duration;

/// `5s`, `500ms`, `2m`, `3h` or plain seconds (above zero, at most 30 days).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: f64 =
        number.parse().map_err(|_| format!("{text:?} is not a duration (5s, 500ms, 2m, 3h)"))?;
    let seconds = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (ms, s, m, h)")),
    };
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 30.0 * 86_400.0) {
        return Err(format!("{text:?}: a duration above 0 and at most 30 days"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    text.map(|t| parse_duration(&t).map_err(serde::de::Error::custom)).transpose()
}

/// What one JSON-RPC request may cost (`--rpc.*`, `[rpc]`).
#[derive(Debug, Clone, Default, clap::Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpcLimitArgs {
    /// Gas one eth_call / eth_estimateGas / eth_createAccessList may use (default 50,000,000).
    #[arg(long = "rpc.gascap")]
    pub gascap: Option<u64>,
    /// Time one eth_call may run, and the EVM time of one batch (default 5s).
    #[arg(long = "rpc.evmtimeout", value_parser = parse_duration)]
    #[serde(default, deserialize_with = "duration")]
    pub evmtimeout: Option<Duration>,
    /// EVM calls at once, node-wide (default: one per core).
    #[arg(long = "rpc.evmthreads")]
    pub evmthreads: Option<usize>,
    /// Most blocks one eth_getLogs may scan (default 10,000).
    #[arg(long = "rpc.logrange")]
    pub logrange: Option<u64>,
    /// Most logs one answer carries (default 10,000).
    #[arg(long = "rpc.logmax")]
    pub logmax: Option<usize>,
    /// Most addresses in a log filter (default 1,000).
    #[arg(long = "rpc.filteraddresses")]
    pub filteraddresses: Option<usize>,
    /// Most alternatives in one topic position of a log filter (default 1,000).
    #[arg(long = "rpc.filtertopics")]
    pub filtertopics: Option<usize>,
    /// Installed filters per server; the least recently polled goes when full (default 1,000).
    #[arg(long = "rpc.filters")]
    pub filters: Option<usize>,
    /// A filter not polled for this long is removed (default 5m).
    #[arg(long = "rpc.filtertimeout", value_parser = parse_duration)]
    #[serde(default, deserialize_with = "duration")]
    pub filtertimeout: Option<Duration>,
    /// WebSocket subscriptions per node, all sockets together (default 1,000).
    #[arg(long = "rpc.subscriptions")]
    pub subscriptions: Option<usize>,
    /// Call frames one debug_traceTransaction may record (default 10,000).
    #[arg(long = "rpc.traceframes")]
    pub traceframes: Option<usize>,
    /// Input and output bytes one trace may record (default 4 MiB).
    #[arg(long = "rpc.tracebytes")]
    pub tracebytes: Option<usize>,
    /// Blocks one eth_feeHistory covers (default 1,024).
    #[arg(long = "rpc.feehistory")]
    pub feehistory: Option<u64>,
    /// Reward percentiles one eth_feeHistory may ask for (default 100).
    #[arg(long = "rpc.feepercentiles")]
    pub feepercentiles: Option<usize>,
}

impl RpcLimitArgs {
    /// Each flag given, else the file's value.
    pub fn or(self, file: Self) -> Self {
        Self {
            gascap: self.gascap.or(file.gascap),
            evmtimeout: self.evmtimeout.or(file.evmtimeout),
            evmthreads: self.evmthreads.or(file.evmthreads),
            logrange: self.logrange.or(file.logrange),
            logmax: self.logmax.or(file.logmax),
            filteraddresses: self.filteraddresses.or(file.filteraddresses),
            filtertopics: self.filtertopics.or(file.filtertopics),
            filters: self.filters.or(file.filters),
            filtertimeout: self.filtertimeout.or(file.filtertimeout),
            subscriptions: self.subscriptions.or(file.subscriptions),
            traceframes: self.traceframes.or(file.traceframes),
            tracebytes: self.tracebytes.or(file.tracebytes),
            feehistory: self.feehistory.or(file.feehistory),
            feepercentiles: self.feepercentiles.or(file.feepercentiles),
        }
    }

    /// The limits, defaults where nothing was given.
    pub fn limits(&self) -> RpcLimits {
        let d = RpcLimits::default();
        RpcLimits {
            gas_cap: self.gascap.unwrap_or(d.gas_cap),
            evm_timeout: self.evmtimeout.unwrap_or(d.evm_timeout),
            evm_threads: self.evmthreads.unwrap_or(d.evm_threads).max(1),
            log_range: self.logrange.unwrap_or(d.log_range).max(1),
            log_results: self.logmax.unwrap_or(d.log_results),
            filter_addresses: self.filteraddresses.unwrap_or(d.filter_addresses),
            filter_topics: self.filtertopics.unwrap_or(d.filter_topics),
            max_filters: self.filters.unwrap_or(d.max_filters).max(1),
            filter_timeout: self.filtertimeout.unwrap_or(d.filter_timeout),
            max_subscriptions: self.subscriptions.unwrap_or(d.max_subscriptions),
            trace_frames: self.traceframes.unwrap_or(d.trace_frames),
            trace_bytes: self.tracebytes.unwrap_or(d.trace_bytes),
            fee_history_blocks: self.feehistory.unwrap_or(d.fee_history_blocks).max(1),
            fee_history_percentiles: self.feepercentiles.unwrap_or(d.fee_history_percentiles),
        }
    }
}

/// The transaction pool's limits (`--txpool.*`, `[txpool]`; geth's names).
#[derive(Debug, Clone, Default, clap::Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolArgs {
    /// Transactions an account may keep in its next nonces, the node's own excepted (default 64).
    #[arg(long = "txpool.accountslots")]
    pub accountslots: Option<usize>,
    /// Transactions an account may keep beyond those, own excepted (default 64).
    #[arg(long = "txpool.accountqueue")]
    pub accountqueue: Option<usize>,
    /// Transactions kept in all (default 4,096).
    #[arg(long = "txpool.globalslots")]
    pub globalslots: Option<usize>,
    /// Waiting transactions kept in all (default 1,024).
    #[arg(long = "txpool.globalqueue")]
    pub globalqueue: Option<usize>,
    /// Slots of globalslots only the node's own accounts may fill (default 1,024).
    #[arg(long = "txpool.ownslots")]
    pub ownslots: Option<usize>,
    /// How long a waiting transaction is kept (default 3h).
    #[arg(long = "txpool.lifetime", value_parser = parse_duration)]
    #[serde(default, deserialize_with = "duration")]
    pub lifetime: Option<Duration>,
    /// Lowest fee cap accepted, in wei per gas (default 1).
    #[arg(long = "txpool.pricelimit")]
    pub pricelimit: Option<u128>,
}

impl PoolArgs {
    /// Each flag given, else the file's value.
    pub fn or(self, file: Self) -> Self {
        Self {
            accountslots: self.accountslots.or(file.accountslots),
            accountqueue: self.accountqueue.or(file.accountqueue),
            globalslots: self.globalslots.or(file.globalslots),
            globalqueue: self.globalqueue.or(file.globalqueue),
            ownslots: self.ownslots.or(file.ownslots),
            lifetime: self.lifetime.or(file.lifetime),
            pricelimit: self.pricelimit.or(file.pricelimit),
        }
    }

    /// The pool's configuration, defaults where nothing was given.
    pub fn config(&self) -> PoolConfig {
        let d = PoolConfig::default();
        PoolConfig {
            account_ready: self.accountslots.unwrap_or(d.account_ready),
            account_waiting: self.accountqueue.unwrap_or(d.account_waiting),
            max_total: self.globalslots.unwrap_or(d.max_total).max(1),
            max_waiting: self.globalqueue.unwrap_or(d.max_waiting),
            own_reserve: self.ownslots.unwrap_or(d.own_reserve),
            waiting_lifetime: self.lifetime.unwrap_or(d.waiting_lifetime),
            min_gas_price: self.pricelimit.unwrap_or(d.min_gas_price),
            ..d
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_refuse_nonsense() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3h"), Ok(Duration::from_secs(3 * 3600)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        for bad in ["0s", "-1s", "5 parsecs", "NaN", "", "40d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_win_over_the_file_and_the_rest_keeps_its_default() {
        let file: RpcLimitArgs =
            toml::from_str("gascap = 1000\nevmtimeout = \"2s\"\nlogmax = 7").unwrap();
        let flags = RpcLimitArgs { gascap: Some(5), ..Default::default() };
        let limits = flags.or(file).limits();
        assert_eq!((limits.gas_cap, limits.log_results), (5, 7));
        assert_eq!(limits.evm_timeout, Duration::from_secs(2));
        assert_eq!(limits.trace_frames, RpcLimits::default().trace_frames);
        assert!(toml::from_str::<RpcLimitArgs>("gascapp = 1").is_err(), "typos are refused");
        let pool: PoolArgs = toml::from_str("accountslots = 16\nlifetime = \"1h\"").unwrap();
        let config = PoolArgs::default().or(pool).config();
        assert_eq!(
            (config.account_ready, config.waiting_lifetime),
            (16, Duration::from_secs(3600))
        );
    }
}
