//! Criterion micro-benchmarks of block import's hot paths, one group each: RLP decode of a
//! block, public-key recovery (libsecp256k1, the node's path, beside k256) and a block's senders,
//! state roots (a full rebuild beside the incremental root of one block's changes), a revm call
//! of `reportReading`, the sled commit of a block, and the full import of a block. `cargo bench -p daisee-benches`; the
//! end-to-end figures come from `daisee bench` and `benches/compare/run`.

#![allow(missing_docs, clippy::unwrap_used)]

use alloy_sol_types::SolCall;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use daisee_contracts::Daisee;
use daisee_node::bench::fixture::{first_block, Fixture};
use daisee_node::bench::state_root::{filler, genesis_with_accounts};
use daisee_node::bench::workload::Workload;
use daisee_node::chain::{cores, recover_senders, Chain};
use daisee_node::community::DAISEE_ADDRESS;
use daisee_node::execution::{call, BlockContext, CallRequest};
use daisee_node::primitives::{trie, Address, Block, Bytes, U256};
use daisee_node::state::{AccountChange, StateDiff, Store};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::OnceLock;

/// Transactions in the benchmark block.
const BLOCK_TXS: usize = 250;

fn reports() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| first_block(Workload::ReportReading, 50, BLOCK_TXS).unwrap())
}

fn rlp_decode(c: &mut Criterion) {
    let bytes = reports().block.encoded();
    c.bench_function("rlp/decode block of 250 reportReading", |b| {
        b.iter(|| Block::decode(black_box(&bytes)).unwrap())
    });
}

fn recovery(c: &mut Criterion) {
    let block = &reports().block;
    let tx = &block.transactions[0];
    let hash = tx.tx.signing_hash();
    let mut g = c.benchmark_group("recovery");
    g.bench_function("libsecp256k1 (node path)", |b| {
        b.iter(|| tx.signature.recover_any_s(black_box(&hash)).unwrap())
    });
    g.bench_function("k256 0.14", |b| {
        b.iter(|| tx.signature.recover_k256(black_box(&hash)).unwrap())
    });
    g.bench_function("senders of 250 txs, 1 thread", |b| {
        b.iter(|| recover_senders(black_box(&block.transactions), 1).unwrap())
    });
    g.bench_function("senders of 250 txs, all cores", |b| {
        b.iter(|| recover_senders(black_box(&block.transactions), cores()).unwrap())
    });
    g.finish();
}

/// A store whose state holds `n` filler accounts beside the benchmark accounts.
fn store_with_accounts(n: usize) -> Store {
    let store = Store::temporary().unwrap();
    store.init_genesis(&genesis_with_accounts(n).unwrap()).unwrap();
    store
}

fn state_roots(c: &mut Criterion) {
    let mut g = c.benchmark_group("state root");
    g.sample_size(20);
    for n in [1_000usize, 10_000] {
        let store = store_with_accounts(n);
        let accounts: Vec<_> = (0..n as u64)
            .map(|i| {
                (filler(i), trie::TrieAccount { balance: U256::from(i), ..Default::default() })
            })
            .collect();
        g.bench_function(format!("full rebuild, {n} accounts"), |b| {
            b.iter(|| trie::state_root(black_box(accounts.iter().cloned())))
        });
        let mut diff = StateDiff::default();
        for i in 0..100u64 {
            let address = filler(i * 7);
            let info = Some((1, U256::from(i + 2), trie::KECCAK_EMPTY));
            diff.accounts.insert(address, AccountChange { info, ..Default::default() });
        }
        store.prepare(&diff).unwrap(); // the head's tries are built once, as at start-up
        g.bench_function(format!("100 changed accounts, {n} in state"), |b| {
            b.iter(|| store.prepare(black_box(&diff)).unwrap())
        });
    }
    g.finish();
}

fn revm_call(c: &mut Criterion) {
    let fixture = reports();
    let store = Store::temporary().unwrap();
    store.init_genesis(&fixture.genesis).unwrap();
    let config = store.chain_config().unwrap();
    let ctx = BlockContext {
        number: 1,
        timestamp: 1,
        fee_recipient: Address::ZERO,
        gas_limit: 30_000_000,
        base_fee: Some(1),
        difficulty: U256::from(2),
        mix_hash: Default::default(),
        parent_beacon_block_root: None,
        excess_blob_gas: 0,
    };
    let input = Daisee::reportReadingCall {
        intervalEnd: 1_000_000,
        producedWh: U256::from(120),
        consumedWh: U256::from(80),
    }
    .abi_encode();
    let req = CallRequest {
        from: Some(fixture.keys[1].address()),
        to: Some(DAISEE_ADDRESS),
        input: Some(Bytes::from(input)),
        ..Default::default()
    };
    let none = BTreeMap::new();
    c.bench_function("revm/call reportReading", |b| {
        b.iter(|| {
            let limits = Default::default();
            let out = call(&store, &config, &ctx, None, black_box(&req), &none, &limits).unwrap();
            assert!(out.success);
        })
    });
}

fn sled_commit(c: &mut Criterion) {
    let fixture = reports();
    let mut g = c.benchmark_group("sled");
    g.sample_size(20);
    g.bench_function("commit block of 250 reportReading (one batch, one flush)", |b| {
        b.iter_batched(
            || {
                let store = Store::temporary().unwrap();
                store.init_genesis(&fixture.genesis).unwrap();
                (store, fixture.prepared.clone())
            },
            |(store, prepared)| {
                store
                    .commit_block(&fixture.block, &fixture.receipts, &fixture.senders, prepared)
                    .unwrap();
                store
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn full_import(c: &mut Criterion) {
    let fixture = reports();
    let mut g = c.benchmark_group("import");
    g.sample_size(20);
    g.bench_function(
        "block of 250 reportReading (validate, recover, execute, roots, commit)",
        |b| {
            b.iter_batched(
                || {
                    let store = Store::temporary().unwrap();
                    store.init_genesis(&fixture.genesis).unwrap();
                    Chain::open(store).unwrap()
                },
                |mut chain| {
                    chain.import(&fixture.block, fixture.block.header.timestamp).unwrap();
                    chain
                },
                BatchSize::PerIteration,
            )
        },
    );
    g.finish();
}

criterion_group!(hot_paths, rlp_decode, recovery, state_roots, revm_call, sled_commit, full_import);
criterion_main!(hot_paths);
