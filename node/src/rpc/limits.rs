//! The bounds every JSON-RPC server enforces before it does work or allocates, each a flag of
//! `run`/`dev` and a key of the config file's `[rpc]` table (documented with the error it gives
//! in `docs/security.md`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Time the gas estimate of an `eth_sendTransaction` without `gas` may take.
pub(crate) const SEND_ESTIMATE_TIMEOUT: Duration = Duration::from_secs(5);

/// The bounds (defaults after go-ethereum where it has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcLimits {
    /// Gas one `eth_call`/`eth_estimateGas`/`eth_createAccessList` may use (`--rpc.gascap`).
    pub gas_cap: u64,
    /// Time one of those may run; also the EVM time one batch may use (`--rpc.evmtimeout`).
    pub evm_timeout: Duration,
    /// Calls run in the EVM at once, node-wide (the rest wait their turn, one per batch).
    pub evm_threads: usize,
    /// Most blocks one `eth_getLogs` (or one filter poll) scans (`--rpc.logrange`).
    pub log_range: u64,
    /// Most logs one answer carries (`--rpc.logmax`); a query that would return more fails.
    pub log_results: usize,
    /// Most addresses in one log filter.
    pub filter_addresses: usize,
    /// Most alternatives in one topic position of a log filter (4 positions at most).
    pub filter_topics: usize,
    /// Installed filters (`eth_newFilter` and friends) per server (`--rpc.filters`); the least
    /// recently polled one goes when the table is full.
    pub max_filters: usize,
    /// A filter not polled for this long is removed (geth: 5 minutes).
    pub filter_timeout: Duration,
    /// WebSocket subscriptions per node, all connections together (`--rpc.subscriptions`).
    pub max_subscriptions: usize,
    /// Call frames one `debug_traceTransaction` may record.
    pub trace_frames: usize,
    /// Input and output bytes one trace may record.
    pub trace_bytes: usize,
    /// Blocks one `eth_feeHistory` covers.
    pub fee_history_blocks: u64,
    /// Reward percentiles one `eth_feeHistory` may ask for.
    pub fee_history_percentiles: usize,
}

impl Default for RpcLimits {
    fn default() -> Self {
        Self {
            gas_cap: 50_000_000,
            evm_timeout: Duration::from_secs(5),
            evm_threads: std::thread::available_parallelism().map_or(2, usize::from).max(1),
            log_range: 10_000,
            log_results: 10_000,
            filter_addresses: 1_000,
            filter_topics: 1_000,
            max_filters: 1_000,
            filter_timeout: Duration::from_secs(300),
            max_subscriptions: 1_000,
            trace_frames: 10_000,
            trace_bytes: 4 * 1024 * 1024,
            fee_history_blocks: 1_024,
            fee_history_percentiles: 100,
        }
    }
}

/// A count shared by every server of a node (subscriptions), refusing beyond its limit.
#[derive(Debug, Clone, Default)]
pub(super) struct Gauge(Arc<AtomicUsize>);

/// One unit of a [`Gauge`], given back on drop.
#[derive(Debug)]
pub(super) struct GaugeSlot(Arc<AtomicUsize>);

impl Gauge {
    /// Takes a slot when fewer than `limit` are taken.
    pub(super) fn take(&self, limit: usize) -> Option<GaugeSlot> {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1))
            .ok()
            .map(|_| GaugeSlot(self.0.clone()))
    }

    /// Slots taken now.
    #[cfg(test)]
    pub(super) fn used(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

impl Drop for GaugeSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gauge_refuses_beyond_its_limit_and_frees_on_drop() {
        let gauge = Gauge::default();
        let a = gauge.take(2).unwrap();
        let _b = gauge.take(2).unwrap();
        assert!(gauge.take(2).is_none());
        drop(a);
        assert_eq!(gauge.used(), 1);
        assert!(gauge.take(2).is_some());
    }
}
