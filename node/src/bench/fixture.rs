//! Sealed blocks of a workload, for the criterion micro-benchmarks in `benches/` (which live in
//! their own crate and see only this public surface).

use super::workload::{self, Workload};
use super::{err, BenchError};
use crate::chain::Chain;
use crate::genesis::Genesis;
use crate::node::unix_now;
use crate::primitives::{Address, Block, PrivateKey, Receipt};
use crate::sealer::build_block;
use crate::state::{PreparedState, Store};
use crate::txpool::PoolTx;

/// A genesis and the first block of a workload sealed on it.
pub struct Fixture {
    /// The benchmark chain's genesis.
    pub genesis: Genesis,
    /// Its funded, registered accounts.
    pub keys: Vec<PrivateKey>,
    /// Block 1 (a workload without setup transactions starts at once).
    pub block: Block,
    /// Its receipts.
    pub receipts: Vec<Receipt>,
    /// Its transactions' senders.
    pub senders: Vec<Address>,
    /// Its state changes resolved against the genesis state, ready to commit.
    pub prepared: PreparedState,
}

/// Seals block 1 of `txs` transactions of `workload` from `accounts` accounts.
pub fn first_block(workload: Workload, accounts: usize, txs: usize) -> Result<Fixture, BenchError> {
    let keys = workload::accounts(accounts);
    let genesis = workload::genesis(&keys).map_err(err)?;
    let store = Store::temporary().map_err(err)?;
    store.init_genesis(&genesis).map_err(err)?;
    let chain = Chain::open(store).map_err(err)?;
    let pending: Vec<PoolTx> = workload::setup(workload, &keys)
        .into_iter()
        .chain(workload::transactions(workload, &keys, txs))
        .map(|tx| {
            let sender = tx.recover_sender().map_err(err)?;
            Ok(PoolTx::new(tx, sender, true))
        })
        .collect::<Result<_, BenchError>>()?;
    let built = build_block(&chain, &keys[0], unix_now(), &pending, None).map_err(err)?;
    Ok(Fixture {
        genesis,
        keys,
        block: built.block,
        receipts: built.receipts,
        senders: built.senders,
        prepared: built.prepared,
    })
}
