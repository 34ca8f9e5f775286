//! Running a contract's constructor outside any chain, to predeploy it in a genesis: the
//! runtime code and storage it leaves are written into the genesis `alloc`.

use super::ExecError;
use crate::primitives::{Address, Bytes, U256};
use revm::{
    context::{result::ExecutionResult, TxEnv},
    database::InMemoryDB,
    primitives::{hardfork::SpecId, TxKind},
    state::AccountInfo,
    Context, ExecuteEvm, MainBuilder, MainContext,
};
use std::collections::BTreeMap;

/// Code and storage a constructor left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    /// Runtime code.
    pub code: Bytes,
    /// Storage slots written by the constructor.
    pub storage: BTreeMap<U256, U256>,
}

/// Gas the constructor may use: a genesis is written once, outside any block, so a town's
/// thousands of meters register at once (about 50k gas each).
const CONSTRUCTOR_GAS: u64 = 1_000_000_000;
/// The most init code (creation code and arguments) a constructor run takes: 32 bytes a meter,
/// far above a town's, and bounded.
const MAX_INIT_CODE: usize = 4 << 20;

/// Runs `init_code` (creation code with constructor arguments) as if `deployer` deployed it
/// under `spec`, and returns the runtime code and storage of the created contract. The limits of
/// a block (gas, EIP-3860's init code size) do not apply: a genesis is in no block.
pub fn run_constructor(
    spec: SpecId,
    deployer: Address,
    init_code: Bytes,
) -> Result<Deployed, ExecError> {
    let init_code_len = init_code.len();
    let mut db = InMemoryDB::default();
    db.insert_account_info(deployer, AccountInfo::default());
    let mut evm = Context::mainnet()
        .with_db(db)
        .modify_cfg_chained(|cfg| {
            cfg.set_spec_and_mainnet_gas_params(spec);
            cfg.disable_nonce_check = true;
            cfg.limit_contract_initcode_size = Some(MAX_INIT_CODE);
        })
        .modify_block_chained(|b| b.gas_limit = CONSTRUCTOR_GAS)
        .build_mainnet();
    let tx = TxEnv::builder()
        .caller(deployer)
        .kind(TxKind::Create)
        .data(init_code)
        .gas_limit(CONSTRUCTOR_GAS)
        .gas_price(0)
        .chain_id(None)
        .build_fill();
    if init_code_len > MAX_INIT_CODE {
        return Err(ExecError::Evm(format!(
            "init code of {init_code_len} bytes (at most {MAX_INIT_CODE})"
        )));
    }
    let out = evm.transact(tx).map_err(|e| ExecError::Evm(e.to_string()))?;
    let created = match &out.result {
        ExecutionResult::Success { .. } => out.result.created_address(),
        other => return Err(ExecError::Evm(format!("constructor failed: {other:?}"))),
    }
    .ok_or_else(|| ExecError::Evm("constructor created nothing".into()))?;
    let account =
        out.state.get(&created).ok_or_else(|| ExecError::Evm("no created account".into()))?;
    let code = account.info.code.as_ref().map(|c| c.original_bytes()).unwrap_or_default();
    let storage = account
        .storage
        .iter()
        .map(|(k, v)| (*k, v.present_value()))
        .filter(|(_, v)| !v.is_zero())
        .collect();
    Ok(Deployed { code, storage })
}
