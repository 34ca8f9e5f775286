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

/// Runs `init_code` (creation code with constructor arguments) as if `deployer` deployed it
/// under `spec`, and returns the runtime code and storage of the created contract.
pub fn run_constructor(
    spec: SpecId,
    deployer: Address,
    init_code: Bytes,
) -> Result<Deployed, ExecError> {
    let mut db = InMemoryDB::default();
    db.insert_account_info(deployer, AccountInfo::default());
    let mut evm = Context::mainnet()
        .with_db(db)
        .modify_cfg_chained(|cfg| {
            cfg.set_spec_and_mainnet_gas_params(spec);
            cfg.disable_nonce_check = true;
        })
        .modify_block_chained(|b| b.gas_limit = 30_000_000)
        .build_mainnet();
    let tx = TxEnv::builder()
        .caller(deployer)
        .kind(TxKind::Create)
        .data(init_code)
        .gas_limit(30_000_000)
        .gas_price(0)
        .chain_id(None)
        .build_fill();
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
