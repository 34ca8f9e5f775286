//! What the state size costs a block: the same block of 100 transfers imported on top of states
//! of different sizes, and the account-trie root alone. Today the account trie is rebuilt from
//! every account at each block, so this grows with the state; an incremental root (re-hashing
//! only the changed paths) is the next step, and this measurement is how it will be judged.

use super::{err, BenchError, TempDir};
use crate::chain::Chain;
use crate::community::{community_genesis, CommunitySpec};
use crate::node::unix_now;
use crate::primitives::{keccak256, trie, Address, Bytes, Transaction, TxKind, TxType, U256};
use crate::sealer::build_block;
use crate::state::Store;
use crate::txpool::PoolTx;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// Transfers in the measured block.
const BLOCK_TXS: usize = 100;

/// The cost of one block at one state size.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RootCost {
    /// Accounts in the state.
    pub accounts: usize,
    /// Import of a block of 100 transfers, ms.
    pub block_ms: f64,
    /// Of which the account-trie root over the whole state, ms.
    pub root_ms: f64,
}

/// Measures a block of transfers on a state of `accounts` accounts.
pub fn measure(accounts: usize) -> Result<RootCost, BenchError> {
    let keys = super::workload::accounts(2);
    let mut funds: Vec<(Address, U256)> =
        keys.iter().map(|k| (k.address(), U256::from(10u64).pow(U256::from(24)))).collect();
    funds.extend(
        (0..accounts).map(|i| {
            (Address::from_slice(&keccak256((i as u64).to_be_bytes())[12..]), U256::from(1))
        }),
    );
    let genesis = community_genesis(&CommunitySpec {
        chain_id: super::workload::CHAIN_ID,
        period: 0,
        epoch: 30_000,
        signers: vec![keys[0].address()],
        funds,
        owner: keys[0].address(),
        rate: U256::ZERO,
        meters: vec![],
        timestamp: 0,
    })
    .map_err(err)?;
    let open = |name: &str| -> Result<(TempDir, Chain), BenchError> {
        let dir = TempDir::new(name)?;
        let store = Store::open(&dir.0).map_err(err)?;
        store.init_genesis(&genesis).map_err(err)?;
        Ok((dir, Chain::open(store).map_err(err)?))
    };
    let (_a, sealer) = open("root-seal")?;
    let (_b, mut follower) = open("root-import")?;
    let txs: Vec<PoolTx> = (0..BLOCK_TXS)
        .map(|i| {
            let tx = Transaction {
                tx_type: TxType::Eip1559,
                chain_id: Some(super::workload::CHAIN_ID),
                nonce: i as u64,
                max_priority_fee_per_gas: 1,
                max_fee_per_gas: 100_000_000_000,
                gas_limit: 21_000,
                to: TxKind::Call(Address::from_slice(
                    &keccak256((i as u64 * 7919).to_be_bytes())[12..],
                )),
                value: U256::from(1),
                input: Bytes::new(),
                access_list: vec![],
            }
            .sign(&keys[1]);
            PoolTx { tx: Arc::new(tx), sender: keys[1].address(), local: true }
        })
        .collect();
    let block = build_block(&sealer, &keys[0], unix_now(), &txs, None).map_err(err)?.block;
    let started = Instant::now();
    follower.import(&block, unix_now()).map_err(err)?;
    let block_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    let all = follower.store().all_accounts().map_err(err)?;
    trie::state_root(all.iter().map(|(a, r)| (*a, r.trie_account())));
    let root_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(RootCost { accounts: all.len(), block_ms, root_ms })
}
