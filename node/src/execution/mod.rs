//! Runs transactions of one block in revm on top of the head state and reports what they did:
//! receipts and the state diff. It never writes; `chain` commits the outcome.

mod block_hooks;
mod call;
mod deadline;
mod predeploy;
mod state_changes;
mod trace;
mod views;

pub use block_hooks::BEACON_ROOTS_ADDRESS;
pub use call::{
    call, estimate_gas, AccountOverride, CallLimits, CallOutcome, CallRequest, CALL_GAS_CAP,
};
pub use predeploy::{run_constructor, Deployed};
pub use trace::{trace_call, CallFrame, TraceLimits};
pub use views::view_calls;

use crate::genesis::ChainConfig;
use crate::primitives::{Address, Receipt, SignedTransaction, TxKind, TxType, B256, U256};
use crate::state::{StateDiff, StateView, Store, StoreError};
use revm::{
    context::{
        result::{EVMError, ExecutionResult},
        BlockEnv, TxEnv,
    },
    context_interface::{
        block::BlobExcessGasAndPrice,
        transaction::{AccessList, AccessListItem},
    },
    database::CacheDB,
    handler::{MainnetContext, MainnetEvm},
    primitives::hardfork::SpecId,
    Context, DatabaseCommit, ExecuteEvm, MainBuilder, MainContext,
};

/// Why a transaction cannot be part of the block being executed.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The transaction is invalid in this block (nonce, funds, fee, gas).
    #[error("invalid transaction: {0}")]
    InvalidTransaction(String),
    /// The transaction's gas limit does not fit in what is left of the block.
    #[error("block gas limit reached: {needed} needed, {left} left")]
    BlockGasExhausted {
        /// The transaction's gas limit.
        needed: u64,
        /// Gas left in the block.
        left: u64,
    },
    /// The fork active at this block is not supported.
    #[error("fork {0:?} is not supported by Daisee")]
    UnsupportedFork(SpecId),
    /// Reading the state failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// revm failed for another reason.
    #[error("execution failed: {0}")]
    Evm(String),
    /// A trace outgrew what one answer may hold.
    #[error("{0}")]
    TraceTooLarge(String),
    /// A call ran past its time limit and was stopped.
    #[error("execution aborted (timeout)")]
    Timeout,
}

/// The header fields execution depends on.
#[derive(Debug, Clone)]
pub struct BlockContext {
    /// Block number.
    pub number: u64,
    /// Timestamp.
    pub timestamp: u64,
    /// Who receives the priority fees (the Clique signer).
    pub fee_recipient: Address,
    /// Block gas limit.
    pub gas_limit: u64,
    /// Base fee (London).
    pub base_fee: Option<u64>,
    /// Difficulty (Clique: 1 or 2).
    pub difficulty: U256,
    /// Mix hash, used as PREVRANDAO from the Merge rules on.
    pub mix_hash: B256,
    /// Parent beacon block root (Cancun): stored by the EIP-4788 system call before the block.
    pub parent_beacon_block_root: Option<B256>,
    /// Excess blob gas (Cancun), which prices blob gas.
    pub excess_blob_gas: u64,
}

impl BlockContext {
    /// The context of the block `header`, whose fees go to `fee_recipient` (its Clique signer).
    pub fn from_header(header: &crate::primitives::Header, fee_recipient: Address) -> Self {
        Self {
            number: header.number,
            timestamp: header.timestamp,
            fee_recipient,
            gas_limit: header.gas_limit,
            base_fee: header.base_fee_per_gas,
            difficulty: header.difficulty,
            mix_hash: header.mix_hash,
            parent_beacon_block_root: header.parent_beacon_block_root,
            excess_blob_gas: header.excess_blob_gas.unwrap_or(0),
        }
    }
}

/// What executing one transaction gave.
#[derive(Debug, Clone)]
pub struct TxOutcome {
    /// Its receipt.
    pub receipt: Receipt,
    /// Gas it used.
    pub gas_used: u64,
    /// Address of the contract it created.
    pub contract_address: Option<Address>,
    /// Return or revert data.
    pub output: revm::primitives::Bytes,
}

/// Executes the transactions of one block in order.
pub struct BlockExecutor {
    evm: MainnetEvm<MainnetContext<CacheDB<StateView>>>,
    block_gas_limit: u64,
    gas_used: u64,
    receipts: Vec<Receipt>,
    diff: StateDiff,
    spec: SpecId,
}

impl BlockExecutor {
    /// An executor for a block with `ctx` on top of the head state of `store`.
    pub fn new(store: &Store, config: &ChainConfig, ctx: &BlockContext) -> Result<Self, ExecError> {
        if config.is_osaka(ctx.timestamp) {
            return Err(ExecError::UnsupportedFork(SpecId::OSAKA));
        }
        let spec = config.spec_at(ctx.number, ctx.timestamp);
        let block = block_env(ctx, spec);
        let chain_id = config.chain_id;
        let evm = Context::mainnet()
            .with_db(CacheDB::new(StateView::new(store.clone())))
            .modify_cfg_chained(|cfg| {
                cfg.set_spec_and_mainnet_gas_params(spec);
                cfg.chain_id = chain_id;
            })
            .with_block(block)
            .build_mainnet();
        let mut executor = Self {
            evm,
            block_gas_limit: ctx.gas_limit,
            gas_used: 0,
            receipts: Vec::new(),
            diff: StateDiff::default(),
            spec,
        };
        if let Some(root) = ctx.parent_beacon_block_root {
            executor.store_beacon_root(root)?;
        }
        for upgrade in config.contract_upgrades.iter().filter(|u| u.block == ctx.number) {
            executor.replace_code(upgrade.address, &upgrade.code)?;
        }
        Ok(executor)
    }

    /// A contract upgrade in place (genesis config `daiseeContractUpgrades`): `address` runs
    /// `code` from this block's first transaction on, with its storage, balance and nonce.
    fn replace_code(
        &mut self,
        address: Address,
        code: &crate::primitives::Bytes,
    ) -> Result<(), ExecError> {
        let db = &mut self.evm.ctx.journaled_state.database;
        let account = db.load_account(address).map_err(ExecError::Store)?;
        let hash = crate::primitives::keccak256(code);
        account.info.code_hash = hash;
        account.info.code = Some(revm::bytecode::Bytecode::new_raw(code.clone()));
        let (nonce, balance) = (account.info.nonce, account.info.balance);
        self.diff.codes.insert(hash, code.clone());
        self.diff.accounts.entry(address).or_default().info = Some((nonce, balance, hash));
        tracing::info!(target: "daisee::exec", %address, code_hash = %hash, "contract upgraded in place");
        Ok(())
    }

    /// Gas used so far.
    pub fn gas_used(&self) -> u64 {
        self.gas_used
    }

    /// Executes `tx` from `sender`. An error leaves the block as it was.
    pub fn execute(
        &mut self,
        tx: &SignedTransaction,
        sender: Address,
    ) -> Result<TxOutcome, ExecError> {
        let left = self.block_gas_limit - self.gas_used;
        if tx.tx.gas_limit > left {
            return Err(ExecError::BlockGasExhausted { needed: tx.tx.gas_limit, left });
        }
        let out = self.evm.transact(tx_env(tx, sender)).map_err(|e| match e {
            EVMError::Transaction(invalid) => ExecError::InvalidTransaction(invalid.to_string()),
            EVMError::Header(invalid) => ExecError::InvalidTransaction(invalid.to_string()),
            EVMError::Database(store) => ExecError::Store(store),
            other => ExecError::Evm(other.to_string()),
        })?;
        state_changes::merge(&mut self.diff, &out.state, self.spec);
        self.evm.ctx.journaled_state.database.commit(out.state);

        let result = out.result;
        let gas_used = result.tx_gas_used();
        self.gas_used += gas_used;
        let contract_address = result.created_address();
        let (success, logs, output) = match result {
            ExecutionResult::Success { logs, output, .. } => (true, logs, output.into_data()),
            ExecutionResult::Revert { output, .. } => (false, vec![], output),
            ExecutionResult::Halt { .. } => (false, vec![], Default::default()),
        };
        let receipt =
            Receipt { tx_type: tx.tx.tx_type, success, cumulative_gas_used: self.gas_used, logs };
        self.receipts.push(receipt.clone());
        Ok(TxOutcome { receipt, gas_used, contract_address, output })
    }

    /// The receipts, the state diff and the gas used of the whole block.
    pub fn finish(self) -> (Vec<Receipt>, StateDiff, u64) {
        (self.receipts, self.diff, self.gas_used)
    }
}

/// revm's block environment for a block with `ctx` under `spec` (PREVRANDAO from the Merge
/// rules on, the header's excess blob gas from Cancun on: Daisee blocks carry no blobs).
pub(crate) fn block_env(ctx: &BlockContext, spec: SpecId) -> BlockEnv {
    BlockEnv {
        number: U256::from(ctx.number),
        beneficiary: ctx.fee_recipient,
        timestamp: U256::from(ctx.timestamp),
        gas_limit: ctx.gas_limit,
        basefee: ctx.base_fee.unwrap_or_default(),
        difficulty: ctx.difficulty,
        prevrandao: spec.is_enabled_in(SpecId::MERGE).then_some(ctx.mix_hash),
        blob_excess_gas_and_price: spec
            .is_enabled_in(SpecId::CANCUN)
            .then(|| BlobExcessGasAndPrice::new_with_spec(ctx.excess_blob_gas, spec)),
        ..Default::default()
    }
}

pub(crate) fn tx_env(tx: &SignedTransaction, sender: Address) -> TxEnv {
    let t = &tx.tx;
    let access_list = AccessList(
        t.access_list
            .iter()
            .map(|item| AccessListItem {
                address: item.address,
                storage_keys: item.storage_keys.clone(),
            })
            .collect(),
    );
    TxEnv::builder()
        .tx_type(Some(t.tx_type as u8))
        .caller(sender)
        .kind(match t.to {
            TxKind::Call(a) => TxKind::Call(a),
            TxKind::Create => TxKind::Create,
        })
        .value(t.value)
        .data(t.input.clone())
        .nonce(t.nonce)
        .gas_limit(t.gas_limit)
        .gas_price(t.fee_cap())
        .gas_priority_fee((t.tx_type == TxType::Eip1559).then_some(t.tip_cap()))
        .chain_id(t.chain_id)
        .access_list(access_list)
        .build_fill()
}
