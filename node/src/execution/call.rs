//! Calls that change nothing: `eth_call` (with state overrides) and `eth_estimateGas`, run in revm
//! on the state after a given block, with go-ethereum's defaults (no fee unless a price is given,
//! no nonce check, any sender).

use super::{BlockContext, ExecError};
use crate::genesis::ChainConfig;
use crate::primitives::{Address, Bytes, Log, TxKind, B256, U256};
use crate::state::{StateView, Store};
use revm::{
    bytecode::Bytecode,
    context::{result::ExecutionResult, TxEnv},
    context_interface::transaction::{AccessList, AccessListItem},
    database::CacheDB,
    handler::{MainnetContext, MainnetEvm},
    state::AccountInfo,
    Context, DatabaseRef, InspectEvm, MainBuilder, MainContext,
};
use std::collections::BTreeMap;
use std::time::Instant;

/// Gas a call may use when the request gives none (geth's RPC gas cap).
pub const CALL_GAS_CAP: u64 = 50_000_000;

/// How far one call may go: gas (the RPC gas cap) and wall-clock time.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    /// Gas a call may use at most, whatever it asks for.
    pub gas_cap: u64,
    /// When the call is stopped (it then fails with [`ExecError::Timeout`]).
    pub deadline: Option<Instant>,
}

impl Default for CallLimits {
    fn default() -> Self {
        Self { gas_cap: CALL_GAS_CAP, deadline: None }
    }
}

/// A call as JSON-RPC describes it.
#[derive(Debug, Clone, Default)]
pub struct CallRequest {
    /// Sender (default: the zero address).
    pub from: Option<Address>,
    /// Callee; `None` creates a contract.
    pub to: Option<Address>,
    /// Gas limit.
    pub gas: Option<u64>,
    /// Legacy gas price.
    pub gas_price: Option<u128>,
    /// EIP-1559 fee cap.
    pub max_fee_per_gas: Option<u128>,
    /// EIP-1559 tip.
    pub max_priority_fee_per_gas: Option<u128>,
    /// Wei sent.
    pub value: Option<U256>,
    /// Call data.
    pub input: Option<Bytes>,
    /// Access list.
    pub access_list: Vec<(Address, Vec<B256>)>,
}

/// Replacements of one account's state for the duration of a call.
#[derive(Debug, Clone, Default)]
pub struct AccountOverride {
    /// Balance.
    pub balance: Option<U256>,
    /// Nonce.
    pub nonce: Option<u64>,
    /// Code.
    pub code: Option<Bytes>,
    /// The whole storage (all other slots read as zero).
    pub state: Option<BTreeMap<U256, U256>>,
    /// Individual slots.
    pub state_diff: BTreeMap<U256, U256>,
}

/// What a call did.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    /// Whether it succeeded.
    pub success: bool,
    /// Return data, or revert data.
    pub output: Bytes,
    /// Gas used (after refunds).
    pub gas_used: u64,
    /// Logs it would emit.
    pub logs: Vec<Log>,
    /// Why it halted, when it did (out of gas, invalid opcode…).
    pub halt: Option<String>,
    /// Accounts and storage slots it touched, sender, callee and precompiles excepted.
    pub touched: Vec<(Address, Vec<B256>)>,
}

/// Runs `req` on the state after block `at` (`None`: the head), in the block context `ctx`.
pub fn call(
    store: &Store,
    config: &ChainConfig,
    ctx: &BlockContext,
    at: Option<u64>,
    req: &CallRequest,
    overrides: &BTreeMap<Address, AccountOverride>,
    limits: &CallLimits,
) -> Result<CallOutcome, ExecError> {
    let view = match at {
        Some(n) => StateView::at(store.clone(), n),
        None => StateView::new(store.clone()),
    };
    let mut db = CacheDB::new(view);
    for (address, o) in overrides {
        let mut info = db.db.basic_ref(*address)?.unwrap_or_default();
        if let Some(b) = o.balance {
            info.balance = b;
        }
        if let Some(n) = o.nonce {
            info.nonce = n;
        }
        if let Some(code) = &o.code {
            let bytecode = Bytecode::new_raw(code.clone());
            info.code_hash = bytecode.hash_slow();
            info.code = Some(bytecode);
        } else if info.code.is_none() {
            info.code = Some(db.db.code_by_hash_ref(info.code_hash)?);
        }
        db.insert_account_info(*address, AccountInfo { ..info });
        if let Some(state) = &o.state {
            let slots = state.iter().map(|(k, v)| (*k, *v)).collect();
            db.replace_account_storage(*address, slots)?;
        }
        for (k, v) in &o.state_diff {
            db.insert_account_storage(*address, *k, *v)?;
        }
    }
    let priced = req.gas_price.or(req.max_fee_per_gas).is_some_and(|p| p > 0);
    let chain_id = config.chain_id;
    let mut evm = call_evm(db, config, ctx, limits, priced);
    let (price, tip, tx_type) = match (req.gas_price, req.max_fee_per_gas) {
        (_, Some(fee)) => (fee, req.max_priority_fee_per_gas, 2u8),
        (Some(p), None) => (p, None, 0u8),
        (None, None) => (0, None, 0u8),
    };
    let access_list = AccessList(
        req.access_list
            .iter()
            .map(|(address, keys)| AccessListItem { address: *address, storage_keys: keys.clone() })
            .collect(),
    );
    let tx = TxEnv::builder()
        .tx_type(Some(if access_list.0.is_empty() { tx_type } else { tx_type.max(1) }))
        .caller(req.from.unwrap_or_default())
        .kind(req.to.map_or(TxKind::Create, TxKind::Call))
        .value(req.value.unwrap_or_default())
        .data(req.input.clone().unwrap_or_default())
        .gas_limit(req.gas.unwrap_or(limits.gas_cap).min(limits.gas_cap))
        .gas_price(price)
        .gas_priority_fee(tip.or((tx_type == 2).then_some(0)))
        .chain_id(Some(chain_id))
        .access_list(access_list)
        .build_fill();
    let out = evm.inspect_tx(tx).map_err(|e| ExecError::InvalidTransaction(e.to_string()))?;
    if evm.inspector.expired() {
        return Err(ExecError::Timeout);
    }
    let gas_used = out.result.tx_gas_used();
    let excluded = |a: &Address| {
        Some(*a) == req.from || Some(*a) == req.to || a.0[..18].iter().all(|b| *b == 0)
    };
    let mut touched: Vec<(Address, Vec<B256>)> = out
        .state
        .iter()
        .filter(|(a, _)| !excluded(a))
        .map(|(a, acc)| (*a, acc.storage.keys().map(|k| B256::from(*k)).collect()))
        .collect();
    touched.sort();
    Ok(match out.result {
        ExecutionResult::Success { logs, output, .. } => CallOutcome {
            success: true,
            output: output.into_data(),
            gas_used,
            logs,
            halt: None,
            touched,
        },
        ExecutionResult::Revert { output, .. } => {
            CallOutcome { success: false, output, gas_used, logs: vec![], halt: None, touched }
        }
        ExecutionResult::Halt { reason, .. } => CallOutcome {
            success: false,
            output: Bytes::new(),
            gas_used,
            logs: vec![],
            halt: Some(format!("{reason:?}")),
            touched,
        },
    })
}

/// An EVM that runs calls as `eth_call` does on `db` in the block context `ctx`: any sender, no
/// nonce check, no fee unless `priced`, gas up to the RPC cap, stopped at `limits.deadline`.
pub(super) fn call_evm(
    db: CacheDB<StateView>,
    config: &ChainConfig,
    ctx: &BlockContext,
    limits: &CallLimits,
    priced: bool,
) -> MainnetEvm<MainnetContext<CacheDB<StateView>>, super::deadline::Deadline> {
    let spec = config.spec_at(ctx.number, ctx.timestamp);
    let mut block = super::block_env(ctx, spec);
    block.gas_limit = ctx.gas_limit.max(limits.gas_cap);
    let chain_id = config.chain_id;
    Context::mainnet()
        .with_db(db)
        .modify_cfg_chained(|cfg| {
            cfg.set_spec_and_mainnet_gas_params(spec);
            cfg.chain_id = chain_id;
            cfg.disable_nonce_check = true;
            cfg.disable_eip3607 = true;
            cfg.disable_base_fee = !priced;
        })
        .with_block(block)
        .build_mainnet_with_inspector(super::deadline::Deadline::new(limits.deadline))
}

/// The least gas limit with which `req` succeeds (geth's binary search, 1.5 % tolerance).
pub fn estimate_gas(
    store: &Store,
    config: &ChainConfig,
    ctx: &BlockContext,
    at: Option<u64>,
    req: &CallRequest,
    overrides: &BTreeMap<Address, AccountOverride>,
    limits: &CallLimits,
) -> Result<Result<u64, CallOutcome>, ExecError> {
    let cap = req.gas.unwrap_or(ctx.gas_limit).min(limits.gas_cap);
    let run = |gas: u64| {
        let mut r = req.clone();
        r.gas = Some(gas);
        call(store, config, ctx, at, &r, overrides, limits)
    };
    let first = run(cap)?;
    if !first.success {
        return Ok(Err(first));
    }
    let (mut lo, mut hi) = (first.gas_used.saturating_sub(1), cap);
    let optimistic = (first.gas_used + 2300) * 64 / 63;
    if optimistic < hi {
        if run(optimistic)?.success {
            hi = optimistic;
        } else {
            lo = optimistic;
        }
    }
    while lo + 1 < hi {
        if (hi - lo) * 1000 / hi < 15 {
            break;
        }
        let mid = lo + (hi - lo) / 2;
        if run(mid)?.success {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(Ok(hi))
}
