//! What the state size costs a block: the same block of 100 transfers imported on top of states
//! of different sizes, and the state commit + root of its changes alone. The head's tries stay in
//! memory and a block re-hashes only the paths it changed, so both should grow with the changes
//! (and the trie depth), not with the state; the one cost that does grow with the state is the
//! rebuild of the tries at start-up, reported beside them.

use super::{err, BenchError, TempDir};
use crate::chain::Chain;
use crate::community::{community_genesis, CommunitySpec};
use crate::genesis::Genesis;
use crate::node::unix_now;
use crate::primitives::{keccak256, Address, Bytes, Transaction, TxKind, TxType, U256};
use crate::sealer::build_block;
use crate::state::{AccountChange, StateDiff, Store};
use crate::txpool::PoolTx;
use serde::Serialize;
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
    /// Of which the state changes resolved into writes and the new state root, ms.
    pub root_ms: f64,
    /// Building the head's tries from every account (once, at start-up), ms.
    pub rebuild_ms: f64,
}

/// The `i`-th filler account of a large state.
pub fn filler(i: u64) -> Address {
    Address::from_slice(&keccak256(i.to_be_bytes())[12..])
}

/// A one-signer genesis whose state holds `accounts` filler accounts (1 wei each) beside the two
/// funded benchmark accounts.
pub fn genesis_with_accounts(accounts: usize) -> Result<Genesis, BenchError> {
    let keys = super::workload::accounts(2);
    let mut funds: Vec<(Address, U256)> =
        keys.iter().map(|k| (k.address(), U256::from(10u64).pow(U256::from(24)))).collect();
    funds.extend((0..accounts as u64).map(|i| (filler(i), U256::from(1))));
    community_genesis(&CommunitySpec {
        chain_id: super::workload::CHAIN_ID,
        period: 0,
        epoch: 30_000,
        signers: vec![keys[0].address()],
        funds,
        owner: keys[0].address(),
        rate: U256::ZERO,
        meters: vec![],
        timestamp: 0,
        interval_s: 0,
        grace_s: 0,
        gas_limit: 0,
    })
    .map_err(err)
}

/// Measures a block of transfers on a state of `accounts` accounts.
pub fn measure(accounts: usize) -> Result<RootCost, BenchError> {
    let keys = super::workload::accounts(2);
    let genesis = genesis_with_accounts(accounts)?;
    let open = |name: &str| -> Result<(TempDir, Chain), BenchError> {
        let dir = TempDir::new(name)?;
        let store = Store::open(&dir.0).map_err(err)?;
        store.init_genesis(&genesis).map_err(err)?;
        Ok((dir, Chain::open(store).map_err(err)?))
    };
    let (_a, mut sealer) = open("root-seal")?;
    let (_b, mut follower) = open("root-import")?;
    let recipient = |n: u64| Address::from_slice(&keccak256((n * 7919).to_be_bytes())[12..]);
    let transfers = |first: u64| -> Vec<PoolTx> {
        (first..first + BLOCK_TXS as u64)
            .map(|nonce| {
                let tx = Transaction {
                    tx_type: TxType::Eip1559,
                    chain_id: Some(super::workload::CHAIN_ID),
                    nonce,
                    max_priority_fee_per_gas: U256::from(1),
                    max_fee_per_gas: U256::from(100_000_000_000u64),
                    gas_limit: 21_000,
                    to: TxKind::Call(recipient(nonce)),
                    value: U256::from(1),
                    input: Bytes::new(),
                    access_list: vec![],
                }
                .sign(&keys[1]);
                PoolTx::new(tx, keys[1].address(), true)
            })
            .collect()
    };
    // Two blocks: the first warms the follower's tries (start-up), the second is measured.
    let mut blocks = Vec::new();
    for first in [0, BLOCK_TXS as u64] {
        let now = unix_now();
        let started = Instant::now();
        let mut built =
            build_block(&sealer, &keys[0], now, &transfers(first), None).map_err(err)?;
        built.insert_into(&mut sealer, now, started).map_err(err)?;
        blocks.push(built.block);
    }
    follower.import(&blocks[0], unix_now()).map_err(err)?;
    let started = Instant::now();
    follower.import(&blocks[1], unix_now()).map_err(err)?;
    let block_ms = started.elapsed().as_secs_f64() * 1000.0;

    // The same shape of changes again, resolved against the head without committing.
    let store = follower.store();
    let mut diff = StateDiff::default();
    for n in 2 * BLOCK_TXS as u64..3 * BLOCK_TXS as u64 {
        diff.accounts.insert(
            recipient(n),
            AccountChange {
                info: Some((0, U256::from(1), crate::primitives::trie::KECCAK_EMPTY)),
                ..Default::default()
            },
        );
    }
    let started = Instant::now();
    store.prepare(&diff).map_err(err)?;
    let root_ms = started.elapsed().as_secs_f64() * 1000.0;

    let started = Instant::now();
    crate::state::rebuild_tries(store).map_err(err)?;
    let rebuild_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(RootCost { accounts: accounts + 2, block_ms, root_ms, rebuild_ms })
}
