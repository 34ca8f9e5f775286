//! What a block does besides its transactions: the EIP-4788 beacon-root system call before them
//! (Cancun) and the EIP-4895 withdrawals after them (Shanghai). On a Daisee chain both are
//! no-ops: no beacon-roots contract is deployed (a call to an address without code changes
//! nothing, so it is not made), and its blocks carry no withdrawals. Ethereum's
//! block fixtures exercise both.

use super::{state_changes, BlockExecutor, ExecError};
use crate::primitives::{address, trie::KECCAK_EMPTY, Address, Bytes, Withdrawal, B256};
use revm::{
    context::result::EVMError, context_interface::JournalTr, primitives::hardfork::SpecId,
    Database, DatabaseCommit, ExecuteEvm, SystemCallEvm,
};

/// The beacon-roots contract of EIP-4788.
pub const BEACON_ROOTS_ADDRESS: Address = address!("000F3df6D732807Ef1319fB7B8bB8522d0Beac02");

fn evm_error(e: EVMError<crate::state::StoreError>) -> ExecError {
    match e {
        EVMError::Database(store) => ExecError::Store(store),
        other => ExecError::Evm(other.to_string()),
    }
}

impl BlockExecutor {
    /// EIP-4788: stores the parent beacon block root in the beacon-roots contract, as the system
    /// address, before the block's first transaction. Its gas is not the block's.
    pub(super) fn store_beacon_root(&mut self, root: B256) -> Result<(), ExecError> {
        if !self.spec.is_enabled_in(SpecId::CANCUN) {
            return Ok(());
        }
        // Without code at the address the call changes nothing (EIP-4788: it fails silently;
        // geth's call to a missing account with no value does not create it): skipped, so that
        // a Daisee block neither runs nor writes anything for it.
        let db = &mut self.evm.ctx.journaled_state.database;
        let deployed = db.basic(BEACON_ROOTS_ADDRESS).map_err(ExecError::Store)?;
        if deployed.is_none_or(|info| info.code_hash == KECCAK_EMPTY) {
            return Ok(());
        }
        let out = self
            .evm
            .system_call(BEACON_ROOTS_ADDRESS, Bytes::copy_from_slice(root.as_slice()))
            .map_err(evm_error)?;
        state_changes::merge(&mut self.diff, &out.state, self.spec);
        self.evm.ctx.journaled_state.database.commit(out.state);
        Ok(())
    }

    /// EIP-4895: credits each withdrawal's amount to its address, after the transactions. A
    /// zero amount still touches the account (an empty one is then deleted, EIP-161).
    pub fn apply_withdrawals(&mut self, withdrawals: &[Withdrawal]) -> Result<(), ExecError> {
        if withdrawals.is_empty() {
            return Ok(());
        }
        let journal = &mut self.evm.ctx.journaled_state;
        for w in withdrawals {
            journal.balance_incr(w.address, w.amount_wei()).map_err(ExecError::Store)?;
        }
        let state = self.evm.finalize();
        state_changes::merge(&mut self.diff, &state, self.spec);
        self.evm.ctx.journaled_state.database.commit(state);
        Ok(())
    }
}
