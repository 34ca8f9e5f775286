//! Where `eth_call`, `eth_estimateGas` and `eth_createAccessList` run: at most
//! [`RpcLimits::evm_threads`] at once for the whole node, each stopped at
//! [`RpcLimits::evm_timeout`] (go-ethereum's `--rpc.evmtimeout`) and capped at
//! [`RpcLimits::gas_cap`]. The calls of one batch take their turn one after another and share
//! one time budget (the same timeout), so a batch of endless loops costs one timeout and never
//! queues ahead of other clients' calls.
//!
//! A call first runs where its request is served, on the async worker, stopped after
//! [`INLINE_BUDGET`]; a batch's calls, which follow one another there, share one such budget,
//! and one call at a time runs there node-wide, so a worker always stays free for everything
//! else. Almost every call (a view reads a few slots in tens of microseconds) is answered there,
//! without the two thread hand-offs of the blocking pool, which cost about twice the call itself
//! (measured: node CPU per `eth_call` 143 → 55 µs, p50 0.22 → 0.12 ms). A call the budget stops
//! runs again from the start on the blocking pool with the rest of its timeout, so the answer
//! never depends on which attempt gave it; a worker is held at most the budget (plus the
//! deadline's granularity: 4,096 instructions). A call that finds the worker's turn taken, or
//! its batch's budget spent, goes to the pool at once.

use super::batch::BatchLane;
use super::limits::RpcLimits;
use super::RpcError;
use crate::execution::CallLimits;
use crate::node::Node;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::RpcModule;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a call may hold the async worker before it moves to the blocking pool.
pub(super) const INLINE_BUDGET: Duration = Duration::from_millis(2);

/// Held by the one call running on an async worker.
static INLINE_TURN: Semaphore = Semaphore::const_new(1);

/// The node-wide EVM slots (one process runs one node).
fn slots(threads: usize) -> Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS.get_or_init(|| Arc::new(Semaphore::new(threads.max(1)))).clone()
}

/// Registers an EVM-running method (see the module doc).
pub(super) fn evm_method<F>(
    module: &mut RpcModule<Node>,
    name: &'static str,
    limits: &RpcLimits,
    f: F,
) -> Result<(), jsonrpsee::core::RegisterMethodError>
where
    F: Fn(Params<'static>, &Node, &CallLimits) -> Result<serde_json::Value, RpcError>
        + Clone
        + Send
        + Sync
        + 'static,
{
    let slots = slots(limits.evm_threads);
    let (timeout, gas_cap) = (limits.evm_timeout, limits.gas_cap);
    module.register_async_method(name, move |params, node, extensions| {
        let (f, slots) = (f.clone(), slots.clone());
        async move {
            let lane = extensions.get::<BatchLane>().cloned();
            let _turn = match &lane {
                Some(lane) => Some(lane.turn().await),
                None => None,
            };
            let allowed = match &lane {
                Some(lane) => timeout.saturating_sub(lane.spent()),
                None => timeout,
            };
            if allowed.is_zero() {
                return Err(ErrorObjectOwned::from(RpcError::LimitExceeded(format!(
                    "batch exceeded its EVM time budget of {}: send fewer calls per batch",
                    seconds(timeout)
                ))));
            }
            let slot = slots
                .acquire_owned()
                .await
                .map_err(|e| ErrorObjectOwned::from(RpcError::Internal(e.to_string())))?;
            let started = Instant::now();
            // A batch's calls follow one another on the same worker: together they get one
            // budget there, the rest run on the pool.
            let inline_left = match &lane {
                Some(lane) => INLINE_BUDGET.saturating_sub(lane.spent()),
                None => INLINE_BUDGET,
            };
            // One worker at most runs EVM code at a time: the other stays free for everything else.
            let inline_turn = INLINE_TURN.try_acquire().ok().filter(|_| !inline_left.is_zero());
            let answer = if inline_turn.is_none() {
                on_pool(f, params, node, slot, gas_cap, allowed).await
            } else {
                let budget = inline_left.min(allowed);
                let inline = CallLimits { gas_cap, deadline: Some(started + budget) };
                let first = f(params.clone(), &node, &inline);
                drop(inline_turn);
                match first {
                    Err(RpcError::Timeout) if budget < allowed => {
                        metrics::counter!("rpc_evm_moved_total", "method" => name).increment(1);
                        let rest = allowed.saturating_sub(started.elapsed());
                        on_pool(f, params, node, slot, gas_cap, rest).await
                    }
                    answer => answer,
                }
            };
            if let Some(lane) = &lane {
                lane.charge(started.elapsed());
            }
            super::record(name, started, answer.is_ok());
            answer.map_err(|e| match e {
                RpcError::Timeout => ErrorObjectOwned::from(RpcError::LimitExceeded(format!(
                    "execution aborted (timeout = {})",
                    seconds(allowed)
                ))),
                other => ErrorObjectOwned::from(other),
            })
        }
    })?;
    Ok(())
}

/// Runs a call on the blocking pool, holding its EVM slot, stopped `allowed` from now.
async fn on_pool<F>(
    f: F,
    params: Params<'static>,
    node: Arc<Node>,
    slot: OwnedSemaphorePermit,
    gas_cap: u64,
    allowed: Duration,
) -> Result<serde_json::Value, RpcError>
where
    F: Fn(Params<'static>, &Node, &CallLimits) -> Result<serde_json::Value, RpcError>
        + Send
        + 'static,
{
    let limits = CallLimits { gas_cap, deadline: Some(Instant::now() + allowed) };
    let task = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        f(params, &node, &limits)
    });
    // The inspector stops the EVM at the deadline; the grace covers reading the state.
    match tokio::time::timeout(allowed + Duration::from_secs(1), task).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(join)) => Err(RpcError::Internal(join.to_string())),
        Err(_) => Err(RpcError::Timeout),
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}
