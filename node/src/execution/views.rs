//! Many read-only calls to one contract on one state, in one EVM: the node's own summaries (the
//! community's households, `daisee_community`) ask a contract's view functions thousands of
//! times per head, and one EVM with one cache reads the code and each storage slot once instead
//! of once per call. The calls run as `eth_call` does (no fee, any sender) and share one deadline.

use super::{BlockContext, ExecError};
use crate::genesis::ChainConfig;
use crate::primitives::{Address, Bytes, TxKind};
use crate::state::{StateView, Store};
use revm::{
    context::{
        result::{EVMError, ExecutionResult},
        TxEnv,
    },
    database::CacheDB,
    InspectEvm,
};

use super::call::CallLimits;

/// Runs each of `inputs` as a call to `to` on the state after block `at` (`None`: the head), in
/// the block context `ctx`; returns each call's output, `None` where it reverted or halted.
/// Fails with [`ExecError::Timeout`] once past `limits.deadline`.
pub fn view_calls(
    store: &Store,
    config: &ChainConfig,
    ctx: &BlockContext,
    at: Option<u64>,
    to: Address,
    inputs: &[Bytes],
    limits: &CallLimits,
) -> Result<Vec<Option<Bytes>>, ExecError> {
    let view = match at {
        Some(n) => StateView::at(store.clone(), n),
        None => StateView::new(store.clone()),
    };
    let chain_id = config.chain_id;
    let mut evm = super::call::call_evm(CacheDB::new(view), config, ctx, limits, false);
    let mut out = Vec::with_capacity(inputs.len());
    for input in inputs {
        let tx = TxEnv::builder()
            .tx_type(Some(0))
            .caller(Address::ZERO)
            .kind(TxKind::Call(to))
            .data(input.clone())
            .gas_limit(limits.gas_cap)
            .gas_price(0)
            .chain_id(Some(chain_id))
            .build_fill();
        let result = evm.inspect_tx(tx).map_err(|e| match e {
            EVMError::Database(store) => ExecError::Store(store),
            other => ExecError::InvalidTransaction(other.to_string()),
        })?;
        if evm.inspector.expired() {
            return Err(ExecError::Timeout);
        }
        out.push(match result.result {
            ExecutionResult::Success { output, .. } => Some(output.into_data()),
            _ => None,
        });
    }
    Ok(out)
}
