//! A community moves from the first Daisee contract to the current one in place, on a chain with
//! history: balances, escrows, meters, asks, the contract's ether and an interval not yet settled
//! all carry over; from the upgrade block on the old code no longer runs (its unbounded readings
//! are refused); a board importing the blocks reaches the same state.

use super::Chain;
use crate::community::{community_genesis, CommunitySpec, DAISEE_ADDRESS};
use crate::execution::{call, run_constructor, BlockContext, CallRequest};
use crate::genesis::{ContractUpgrade, Genesis};
use crate::primitives::{
    Address, Block, Bytes, PrivateKey, Transaction, TxKind, TxType, B256, U256,
};
use crate::sealer::build_block;
use crate::state::Store;
use crate::txpool::PoolTx;
use alloy_primitives::I256;
use alloy_sol_types::{SolCall, SolError, SolValue};
use daisee_contracts::Daisee;
use std::time::Instant;

const CHAIN_ID: u64 = 4343;
/// An interval end on the 900 s grid, in the past of the wall clock (imports refuse the future).
const T0: u64 = 1_790_000_100;
/// The block that runs the new code.
const UPGRADE: u64 = 3;

fn key(i: u8) -> PrivateKey {
    PrivateKey::from_bytes(&B256::repeat_byte(i)).unwrap()
}

/// The first version's creation code, as committed beside the tests.
fn first_version_init(owner: Address, meters: Vec<Address>) -> Bytes {
    let text = include_str!("../../tests/fixtures/daisee-v1.json");
    let artifact: serde_json::Value = serde_json::from_str(text).unwrap();
    let code = artifact["bytecode"].as_str().unwrap().trim_start_matches("0x");
    let mut init = hex::decode(code).unwrap();
    init.extend((owner, U256::ZERO, meters).abi_encode_params());
    init.into()
}

/// A community on the first version: signer and owner `key(1)`, meters `key(2..=4)`, and the
/// upgrade to the current code scheduled at [`UPGRADE`].
fn genesis() -> Genesis {
    let meters: Vec<Address> = (2..=4).map(|i| key(i).address()).collect();
    let spec = CommunitySpec {
        chain_id: CHAIN_ID,
        period: 0,
        epoch: 30_000,
        signers: vec![key(1).address()],
        funds: (1..=4).map(|i| (key(i).address(), U256::from(10u64).pow(U256::from(21)))).collect(),
        owner: key(1).address(),
        rate: U256::ZERO,
        meters: meters.clone(),
        timestamp: 0,
        interval_s: 0,
        grace_s: 0,
        gas_limit: 0,
    };
    let mut genesis = community_genesis(&spec).unwrap();
    let v1 = run_constructor(
        genesis.config.spec_at(0, 0),
        key(1).address(),
        first_version_init(key(1).address(), meters),
    )
    .unwrap();
    let account = genesis.alloc.get_mut(&DAISEE_ADDRESS).unwrap();
    (account.code, account.storage) = (v1.code, v1.storage);
    genesis.config.contract_upgrades = vec![ContractUpgrade {
        block: UPGRADE,
        address: DAISEE_ADDRESS,
        code: Daisee::DEPLOYED_BYTECODE.clone(),
    }];
    genesis
}

fn open(genesis: &Genesis) -> Chain {
    let store = Store::temporary().unwrap();
    store.init_genesis(genesis).unwrap();
    Chain::open(store).unwrap()
}

/// Signs a call of the contract from `key(who)`.
fn tx(who: u8, nonce: u64, value: U256, call: impl SolCall) -> PoolTx {
    let tx = Transaction {
        tx_type: TxType::Eip1559,
        chain_id: Some(CHAIN_ID),
        nonce,
        max_priority_fee_per_gas: U256::from(1),
        max_fee_per_gas: U256::from(10_000_000_000u64),
        gas_limit: 1_000_000,
        to: TxKind::Call(DAISEE_ADDRESS),
        value,
        input: call.abi_encode().into(),
        access_list: vec![],
    }
    .sign(&key(who));
    PoolTx::new(tx, key(who).address(), true)
}

fn reading(end: u64, produced: u64, consumed: u64) -> Daisee::reportReadingCall {
    Daisee::reportReadingCall {
        intervalEnd: end,
        producedWh: U256::from(produced),
        consumedWh: U256::from(consumed),
    }
}

/// Seals `txs` at `timestamp`; every one must be included. Returns the block and the receipts'
/// statuses.
fn seal(chain: &mut Chain, timestamp: u64, txs: &[PoolTx]) -> (Block, Vec<bool>) {
    let mut built = build_block(chain, &key(1), timestamp, txs, None).unwrap();
    assert!(built.invalid.is_empty(), "{:?}", built.invalid);
    let statuses = built.receipts.iter().map(|r| r.success).collect();
    built.insert_into(chain, timestamp, Instant::now()).unwrap();
    (built.block.clone(), statuses)
}

/// Runs `input` as `from` on the head state (nothing committed).
fn run(chain: &Chain, from: Option<Address>, input: Bytes) -> crate::execution::CallOutcome {
    let head = chain.head();
    let ctx = BlockContext::from_header(head, head.beneficiary);
    let req =
        CallRequest { from, to: Some(DAISEE_ADDRESS), input: Some(input), ..Default::default() };
    let (overrides, limits) = (Default::default(), Default::default());
    call(chain.store(), chain.config(), &ctx, None, &req, &overrides, &limits).unwrap()
}

/// A view on the head state.
fn view<C: SolCall>(chain: &Chain, c: C) -> C::Return {
    let out = run(chain, None, c.abi_encode().into());
    assert!(out.success, "{} reverted: {}", C::SIGNATURE, out.output);
    C::abi_decode_returns(&out.output).unwrap()
}

/// Everything a household owns in the contract, and the contract's ether.
fn holdings(chain: &Chain) -> Vec<String> {
    let mut all = vec![format!("{:?}", view(chain, Daisee::getMetersCall {}))];
    for i in 2..=4 {
        let who = key(i).address();
        let net: I256 = view(chain, Daisee::netBalanceOfCall { account: who });
        let escrow = view(chain, Daisee::escrowOfCall { account: who });
        let ask = view(chain, Daisee::askOfCall { account: who });
        let produced = view(chain, Daisee::productionOfCall { account: who });
        let last = view(chain, Daisee::lastIntervalOfCall { meter: who });
        all.push(format!(
            "{who}: net {net} escrow {escrow} ask {ask} produced {produced} last {last}"
        ));
    }
    let ether = chain.store().account(&DAISEE_ADDRESS).unwrap().map(|a| a.balance);
    all.push(format!("contract ether {ether:?}"));
    all
}

#[test]
fn a_community_moves_to_the_new_contract_in_place_losing_nothing() {
    let genesis = genesis();
    let mut chain = open(&genesis);
    let ether = U256::from(10u64).pow(U256::from(18));
    // History on the first version: a seller with an ask, a buyer with escrow, a 2016 meter, an
    // interval settled, and the next one reported but not settled.
    let (b1, ok1) = seal(
        &mut chain,
        T0 + 10,
        &[
            tx(
                2,
                0,
                U256::ZERO,
                Daisee::setAskCall { weiPerWh: U256::from(10_000_000_000_000u64) },
            ),
            tx(3, 0, ether, Daisee::depositCall {}),
            tx(2, 1, U256::ZERO, reading(T0, 500, 0)),
            tx(3, 1, U256::ZERO, reading(T0, 0, 300)),
            tx(4, 0, U256::ZERO, Daisee::setProductionCall { kwh: U256::from(100) }),
        ],
    );
    let (b2, ok2) = seal(
        &mut chain,
        T0 + 20,
        &[
            tx(2, 2, U256::ZERO, reading(T0 + 900, 0, 0)),
            tx(1, 0, U256::ZERO, Daisee::settleCall { intervalEnd: T0 }),
            tx(3, 2, U256::ZERO, reading(T0 + 900, 0, 200)),
        ],
    );
    assert!(ok1.iter().chain(&ok2).all(|ok| *ok), "{ok1:?} {ok2:?}");
    assert!(view(&chain, Daisee::isSettledCall { intervalEnd: T0 }));
    let before = holdings(&chain);
    let old_code = chain.store().account(&DAISEE_ADDRESS).unwrap().unwrap().code_hash;

    // The upgrade block: the code changes before its first transaction, the storage stays.
    let (b3, ok3) = seal(
        &mut chain,
        T0 + 2_000,
        &[
            // The pending interval, reported under the old code, settles under the new one.
            tx(1, 1, U256::ZERO, Daisee::settleCall { intervalEnd: T0 + 900 }),
            // The old code took any interval end: the new one refuses an end off the grid and
            // one in the future, as it refuses unbounded amounts.
            tx(2, 3, U256::ZERO, reading(T0 + 1_000, 1, 0)),
            tx(2, 4, U256::ZERO, reading(T0 + 9_000, 1, 0)),
            tx(2, 5, U256::ZERO, reading(T0 + 1_800, 1 << 40, 0)),
            tx(4, 1, U256::ZERO, Daisee::consumeEnergyCall { energy: U256::MAX >> 1 }),
        ],
    );
    assert_eq!(b3.header.number, UPGRADE);
    assert_eq!(ok3, [true, false, false, false, false]);
    let account = chain.store().account(&DAISEE_ADDRESS).unwrap().unwrap();
    assert_ne!(account.code_hash, old_code);
    assert_eq!(account.code_hash, crate::primitives::keccak256(&Daisee::DEPLOYED_BYTECODE));
    assert!(view(&chain, Daisee::isSettledCall { intervalEnd: T0 + 900 }));
    assert_eq!(holdings(&chain), before, "every balance, escrow, ask, meter and wei carried over");
    // The new settings read their defaults from the slots the old code never wrote.
    assert_eq!(view(&chain, Daisee::intervalSecondsCall {}), 900);
    assert_eq!(
        view(&chain, Daisee::capacityOfCall { meter: key(2).address() }),
        U256::from(36_000)
    );
    // The old code's failures decode as the new contract's errors: the ends are refused.
    let refused =
        |end: u64| run(&chain, Some(key(2).address()), reading(end, 1, 0).abi_encode().into());
    assert!(Daisee::MisalignedInterval::abi_decode(&refused(T0 + 1_000).output).is_ok());

    // A board that follows the chain applies the same upgrade at the same block.
    let mut follower = open(&genesis);
    for block in [&b1, &b2, &b3] {
        follower.import(block, block.header.timestamp).unwrap();
    }
    assert_eq!(follower.head().hash(), chain.head().hash());
    assert_eq!(holdings(&follower), before);
}

#[test]
fn a_board_without_the_upgrade_refuses_the_upgraded_block() {
    let genesis = genesis();
    let mut chain = open(&genesis);
    let (b1, _) = seal(&mut chain, T0 + 10, &[tx(2, 0, U256::ZERO, reading(T0, 5, 0))]);
    let (b2, _) = seal(&mut chain, T0 + 20, &[tx(2, 1, U256::ZERO, reading(T0 + 900, 5, 0))]);
    let (b3, _) = seal(&mut chain, T0 + 2_000, &[tx(2, 2, U256::ZERO, reading(T0 + 1_000, 5, 0))]);
    let mut stale = genesis.clone();
    stale.config.contract_upgrades.clear();
    let mut old_board = open(&stale);
    old_board.import(&b1, T0 + 10).unwrap();
    old_board.import(&b2, T0 + 20).unwrap();
    // The old code accepts the misaligned reading the new one refused: another state root.
    assert!(old_board.import(&b3, T0 + 2_000).is_err());
}
