//! `debug_traceTransaction` with geth's `callTracer`: the block is replayed on its parent's state
//! up to the transaction, which is then run with an inspector that records the call tree.

use super::{tx_env, BlockContext, ExecError};
use crate::genesis::ChainConfig;
use crate::primitives::{Address, Bytes, SignedTransaction, U256};
use crate::state::{StateView, Store};
use alloy_sol_types::{Revert, SolError};
use revm::{
    context::ContextTr,
    context_interface::CreateScheme,
    database::CacheDB,
    interpreter::{CallInputs, CallOutcome, CallScheme, CreateInputs, CreateOutcome},
    Context, ExecuteCommitEvm, InspectEvm, Inspector, MainBuilder, MainContext,
};

/// One call of the tree, as geth's callTracer reports it.
#[derive(Debug, Clone, Default)]
pub struct CallFrame {
    /// CALL, STATICCALL, DELEGATECALL, CALLCODE, CREATE or CREATE2.
    pub kind: &'static str,
    /// Caller.
    pub from: Address,
    /// Callee (the created address for creations).
    pub to: Option<Address>,
    /// Wei sent (absent for STATICCALL and DELEGATECALL).
    pub value: Option<U256>,
    /// Gas given.
    pub gas: u64,
    /// Gas used.
    pub gas_used: u64,
    /// Input.
    pub input: Bytes,
    /// Output (return or revert data).
    pub output: Bytes,
    /// Why it failed.
    pub error: Option<String>,
    /// The decoded `Error(string)` of a revert.
    pub revert_reason: Option<String>,
    /// Calls made by this call.
    pub calls: Vec<CallFrame>,
}

/// How much one trace may record.
#[derive(Debug, Clone, Copy)]
pub struct TraceLimits {
    /// Call frames.
    pub frames: usize,
    /// Input and output bytes, all frames together.
    pub bytes: usize,
}

struct CallTracer {
    stack: Vec<CallFrame>,
    root: Option<CallFrame>,
    limits: TraceLimits,
    frames: usize,
    bytes: usize,
    /// Frames entered since the limits were reached (not recorded).
    skipped: usize,
}

impl CallTracer {
    fn new(limits: TraceLimits) -> Self {
        Self { stack: vec![], root: None, limits, frames: 0, bytes: 0, skipped: 0 }
    }

    /// Whether the trace outgrew its limits (it then stops recording).
    fn overflowed(&self) -> bool {
        self.frames > self.limits.frames || self.bytes > self.limits.bytes
    }

    fn enter(&mut self, frame: CallFrame) {
        self.frames += 1;
        self.bytes += frame.input.len();
        if self.skipped > 0 || self.overflowed() {
            self.skipped += 1;
            return;
        }
        self.stack.push(frame);
    }

    fn exit(&mut self, result: &revm::interpreter::InterpreterResult, created: Option<Address>) {
        if self.skipped > 0 {
            self.skipped -= 1;
            return;
        }
        self.bytes += result.output.len();
        let Some(mut frame) = self.stack.pop() else { return };
        frame.gas_used = result.gas.total_gas_spent();
        frame.output = result.output.clone();
        if created.is_some() {
            frame.to = created;
        }
        if !result.result.is_ok() {
            if result.result.is_revert() {
                frame.error = Some("execution reverted".into());
                frame.revert_reason = Revert::abi_decode(&result.output).ok().map(|r| r.reason);
            } else {
                frame.error = Some(format!("{:?}", result.result));
            }
        }
        match self.stack.last_mut() {
            Some(parent) => parent.calls.push(frame),
            None => self.root = Some(frame),
        }
    }
}

impl<CTX: ContextTr> Inspector<CTX> for CallTracer {
    fn call(&mut self, context: &mut CTX, inputs: &mut CallInputs) -> Option<CallOutcome> {
        let kind = match inputs.scheme {
            CallScheme::Call => "CALL",
            CallScheme::CallCode => "CALLCODE",
            CallScheme::DelegateCall => "DELEGATECALL",
            CallScheme::StaticCall => "STATICCALL",
        };
        let value = matches!(inputs.scheme, CallScheme::Call | CallScheme::CallCode)
            .then(|| inputs.value.get());
        self.enter(CallFrame {
            kind,
            from: inputs.caller,
            to: Some(inputs.target_address),
            value,
            gas: inputs.gas_limit,
            input: inputs.input.bytes(context),
            ..Default::default()
        });
        None
    }

    fn call_end(&mut self, _: &mut CTX, _: &CallInputs, outcome: &mut CallOutcome) {
        self.exit(&outcome.result, None);
    }

    fn create(&mut self, _: &mut CTX, inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        let kind = match inputs.scheme() {
            CreateScheme::Create2 { .. } => "CREATE2",
            _ => "CREATE",
        };
        self.enter(CallFrame {
            kind,
            from: inputs.caller(),
            value: Some(inputs.value()),
            gas: inputs.gas_limit(),
            input: inputs.init_code().clone(),
            ..Default::default()
        });
        None
    }

    fn create_end(&mut self, _: &mut CTX, _: &CreateInputs, outcome: &mut CreateOutcome) {
        self.exit(&outcome.result, outcome.address);
    }
}

/// Traces `target` of a block with context `ctx`, after replaying `before` on the state after
/// block `parent` (`None`: the head).
pub fn trace_call(
    store: &Store,
    config: &ChainConfig,
    ctx: &BlockContext,
    parent: Option<u64>,
    before: &[(SignedTransaction, Address)],
    target: (&SignedTransaction, Address),
    limits: TraceLimits,
) -> Result<CallFrame, ExecError> {
    let view = match parent {
        Some(n) => StateView::at(store.clone(), n),
        None => StateView::new(store.clone()),
    };
    let spec = config.spec_at(ctx.number, ctx.timestamp);
    let block = super::block_env(ctx, spec);
    let chain_id = config.chain_id;
    let mut evm = Context::mainnet()
        .with_db(CacheDB::new(view))
        .modify_cfg_chained(|cfg| {
            cfg.set_spec_and_mainnet_gas_params(spec);
            cfg.chain_id = chain_id;
        })
        .with_block(block)
        .build_mainnet_with_inspector(CallTracer::new(limits));
    for (tx, sender) in before {
        evm.transact_commit(tx_env(tx, *sender)).map_err(|e| ExecError::Evm(e.to_string()))?;
    }
    let (tx, sender) = target;
    let out = evm.inspect_tx(tx_env(tx, sender)).map_err(|e| ExecError::Evm(e.to_string()))?;
    if evm.inspector.overflowed() {
        return Err(ExecError::TraceTooLarge(format!(
            "trace too large: {} call frames and {} bytes of input and output, at most {} and {}",
            evm.inspector.frames, evm.inspector.bytes, limits.frames, limits.bytes
        )));
    }
    let mut root = evm.inspector.root.take().unwrap_or_default();
    // The top frame reports the transaction's gas, intrinsic cost included, as geth's does.
    root.gas = tx.tx.gas_limit;
    root.gas_used = out.result.tx_gas_used();
    Ok(root)
}
