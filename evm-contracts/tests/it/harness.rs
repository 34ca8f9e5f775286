//! An in-memory revm chain for exercising the contracts: funded accounts, deployments,
//! transactions that commit, calls that don't, and decoding of results, reverts and events.

use alloy_primitives::{Address, Bytes, Log, TxKind, U256};
use alloy_sol_types::{SolCall, SolError, SolEvent};
use revm::{
    context::{result::ExecutionResult, TxEnv},
    database::InMemoryDB,
    handler::{MainnetContext, MainnetEvm},
    primitives::hardfork::SpecId,
    Context, DatabaseRef, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext,
};

/// The chain id the tests run under (the dev chain's).
pub const CHAIN_ID: u64 = 31337;
/// The block gas limit a new chain has (the dev chain's); transactions may use all of it.
pub const BLOCK_GAS_LIMIT: u64 = 30_000_000;

/// One wei amount per ether.
pub fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

/// A deterministic test account.
pub fn account(n: u8) -> Address {
    Address::repeat_byte(n)
}

/// What a transaction or call did.
#[derive(Debug)]
pub struct Outcome {
    /// Whether it succeeded (status 1).
    pub success: bool,
    /// Gas used as a receipt reports it.
    pub gas_used: u64,
    /// Gas spent before the refund: what the transaction's gas limit must cover.
    pub gas_spent: u64,
    /// Return data, or revert data.
    pub output: Bytes,
    /// Logs emitted (none when it failed).
    pub logs: Vec<Log>,
    /// The address a creation made.
    pub created: Option<Address>,
}

impl Outcome {
    /// Panics with the revert data unless the transaction succeeded.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert!(self.success, "transaction failed with output {}", self.output);
        self
    }

    /// Decodes the custom error `E` the transaction reverted with; panics otherwise.
    #[track_caller]
    pub fn reverted_with<E: SolError>(&self) -> E {
        assert!(!self.success, "expected a revert with {}, but it succeeded", E::SIGNATURE);
        E::abi_decode(&self.output)
            .unwrap_or_else(|e| panic!("revert data {} is not {}: {e}", self.output, E::SIGNATURE))
    }

    /// Decodes the return value of call `C`.
    #[track_caller]
    pub fn returns<C: SolCall>(&self) -> C::Return {
        C::abi_decode_returns(&self.output).expect("return data decodes")
    }

    /// Every log that decodes as event `E`, in order.
    pub fn events<E: SolEvent>(&self) -> Vec<E> {
        self.logs.iter().filter_map(|log| E::decode_log(log).ok().map(|l| l.data)).collect()
    }
}

/// An in-memory chain running one revm instance under the Prague rules.
pub struct Chain {
    evm: MainnetEvm<MainnetContext<InMemoryDB>>,
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    /// An empty chain at block 1.
    pub fn new() -> Self {
        let evm = Context::mainnet()
            .with_db(InMemoryDB::default())
            .modify_cfg_chained(|cfg| {
                cfg.set_spec_and_mainnet_gas_params(SpecId::PRAGUE);
                cfg.chain_id = CHAIN_ID;
            })
            .modify_block_chained(|block| {
                block.number = U256::from(1);
                block.timestamp = U256::from(1_700_000_000u64);
                block.gas_limit = BLOCK_GAS_LIMIT;
                block.basefee = 0;
            })
            .build_mainnet();
        Self { evm }
    }

    /// Gives `who` a balance of `wei`.
    pub fn fund(&mut self, who: Address, wei: U256) {
        let db = &mut self.evm.ctx.journaled_state.database;
        let mut info = db.basic_ref(who).ok().flatten().unwrap_or_default();
        info.balance = wei;
        db.insert_account_info(who, info);
    }

    /// Sets the block gas limit (and so the most gas a transaction may use).
    pub fn set_gas_limit(&mut self, gas: u64) {
        self.evm.ctx.block.gas_limit = gas;
    }

    /// The next block's time (unix s).
    pub fn time(&self) -> u64 {
        self.evm.ctx.block.timestamp.to::<u64>()
    }

    /// Moves the clock to `t` (never backwards), and on to the next block.
    pub fn warp(&mut self, t: u64) {
        let now = self.time();
        self.evm.ctx.modify_block(|block| {
            block.timestamp = U256::from(t.max(now));
            block.number += U256::from(1);
        });
    }

    /// Writes `value` into `who`'s storage at `slot` (state left by an older contract version).
    pub fn set_storage(&mut self, who: Address, slot: U256, value: U256) {
        let db = &mut self.evm.ctx.journaled_state.database;
        db.insert_account_storage(who, slot, value).expect("in-memory storage");
    }

    /// `who`'s balance in wei.
    pub fn balance(&self, who: Address) -> U256 {
        let db = &self.evm.ctx.journaled_state.database;
        db.basic_ref(who).ok().flatten().map(|a| a.balance).unwrap_or_default()
    }

    /// Deploys `code` (creation code with constructor arguments) from `from`.
    #[track_caller]
    pub fn deploy(&mut self, from: Address, code: Bytes) -> Address {
        self.create(from, code).ok().created.expect("a creation returns an address")
    }

    /// Sends a creation transaction with `code`, committing it whether or not it succeeds.
    pub fn create(&mut self, from: Address, code: Bytes) -> Outcome {
        self.execute(from, TxKind::Create, U256::ZERO, code, true)
    }

    /// Sends a transaction calling `call` on `to` with `value` wei, and commits it.
    pub fn send<C: SolCall>(
        &mut self,
        from: Address,
        to: Address,
        value: U256,
        call: C,
    ) -> Outcome {
        self.send_raw(from, to, value, call.abi_encode().into())
    }

    /// Sends a transaction with raw calldata and commits it.
    pub fn send_raw(&mut self, from: Address, to: Address, value: U256, data: Bytes) -> Outcome {
        self.execute(from, TxKind::Call(to), value, data, true)
    }

    /// Runs `call` on `to` as `from` without committing anything, and decodes its return value.
    #[track_caller]
    pub fn view<C: SolCall>(&mut self, from: Address, to: Address, call: C) -> C::Return {
        let data = call.abi_encode().into();
        self.execute(from, TxKind::Call(to), U256::ZERO, data, false).ok().returns::<C>()
    }

    fn execute(
        &mut self,
        from: Address,
        kind: TxKind,
        value: U256,
        data: Bytes,
        commit: bool,
    ) -> Outcome {
        let nonce = {
            let db = &self.evm.ctx.journaled_state.database;
            db.basic_ref(from).ok().flatten().map(|a| a.nonce).unwrap_or_default()
        };
        let tx = TxEnv::builder()
            .caller(from)
            .kind(kind)
            .value(value)
            .data(data)
            .nonce(nonce)
            .gas_limit(self.evm.ctx.block.gas_limit)
            .gas_price(0)
            .chain_id(Some(CHAIN_ID))
            .build_fill();
        let result = if commit {
            self.evm.transact_commit(tx).expect("the transaction is valid")
        } else {
            self.evm.transact(tx).expect("the call is valid").result
        };
        let gas_used = result.tx_gas_used();
        let gas_spent = result.gas().total_gas_spent();
        let created = result.created_address();
        match result {
            ExecutionResult::Success { logs, output, .. } => Outcome {
                success: true,
                gas_used,
                gas_spent,
                output: output.into_data(),
                logs,
                created,
            },
            ExecutionResult::Revert { output, .. } => {
                Outcome { success: false, gas_used, gas_spent, output, logs: vec![], created: None }
            }
            ExecutionResult::Halt { reason, .. } => panic!("execution halted: {reason:?}"),
        }
    }
}
