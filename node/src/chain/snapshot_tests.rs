//! Persisted Clique snapshots: reopening the chain gives back exactly the snapshot it had,
//! recent signers included across epoch checkpoints; an unreadable persisted snapshot is
//! ignored and replayed instead.

use super::{Chain, SNAPSHOT_INTERVAL};
use crate::node::unix_now;
use crate::primitives::{PrivateKey, B256};
use crate::sealer::build_block;

/// Three signers sorted by address: `signers()[n % 3]` is in turn for block `n`.
fn signers() -> Vec<PrivateKey> {
    let mut keys: Vec<_> =
        (1..=3u8).map(|i| PrivateKey::from_bytes(&B256::repeat_byte(i)).unwrap()).collect();
    keys.sort_by_key(PrivateKey::address);
    keys
}

fn chain(epoch: u64) -> Chain {
    let signers: Vec<_> = signers().iter().map(PrivateKey::address).collect();
    Chain::open(crate::community::test_store(&signers, &[], epoch)).unwrap()
}

/// Seals `count` blocks, each by its in-turn signer.
fn seal_in_turn(chain: &mut Chain, count: u64) {
    let keys = signers();
    for _ in 0..count {
        let key = &keys[((chain.head().number + 1) % 3) as usize];
        let block = build_block(chain, key, unix_now(), &[], None).unwrap().block;
        chain.import(&block, unix_now()).unwrap();
    }
}

#[test]
fn reopening_keeps_recent_signers_across_a_checkpoint() {
    let mut chain = chain(4);
    seal_in_turn(&mut chain, 5);
    let before = chain.snapshot().clone();
    assert_eq!(
        before.recents.keys().copied().collect::<Vec<_>>(),
        [4, 5],
        "the checkpoint block's signer is still recent"
    );
    let reopened = Chain::open(chain.store().clone()).unwrap();
    assert_eq!(reopened.snapshot(), &before);

    // The signer of block 5 may not seal block 6, before and after the restart alike.
    let mut chain = reopened;
    let last = signers().into_iter().find(|k| k.address() == before.recents[&5]).unwrap();
    let block = build_block(&chain, &last, unix_now(), &[], None);
    let err = match block {
        Ok(built) => chain.import(&built.block, unix_now()).unwrap_err().to_string(),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("recently"), "{err}");
}

#[test]
fn a_snapshot_is_persisted_on_the_grid_and_reused() {
    let mut chain = chain(30_000);
    seal_in_turn(&mut chain, SNAPSHOT_INTERVAL + 3);
    let grid = chain.store().canonical_hash(SNAPSHOT_INTERVAL).unwrap().unwrap();
    assert!(chain.store().clique_snapshot(&grid).unwrap().is_some());
    let off_grid = chain.store().canonical_hash(SNAPSHOT_INTERVAL + 1).unwrap().unwrap();
    assert!(chain.store().clique_snapshot(&off_grid).unwrap().is_none());
    let before = chain.snapshot().clone();
    assert_eq!(Chain::open(chain.store().clone()).unwrap().snapshot(), &before);

    // A damaged persisted snapshot is ignored: the headers are replayed from genesis instead.
    chain.store().put_clique_snapshot(&grid, b"{not json").unwrap();
    assert_eq!(Chain::open(chain.store().clone()).unwrap().snapshot(), &before);
}
