//! Storage kept once, by hashed slot: an account whose storage a block wipes is read at earlier
//! blocks and reverted through the slots' hashes; a database of the older format (storage by
//! plain slot too) is brought to this one at opening; changesets of that format still decode.

use super::*;
use crate::community::{community_genesis, CommunitySpec};
use crate::state::diff::{AccountChange, StateDiff};
use crate::state::merkle::MerkleTrie;
use crate::state::tries::{slot_value, StateTries};
use alloy_trie::EMPTY_ROOT_HASH;

fn community() -> Genesis {
    let owner = Address::repeat_byte(1);
    community_genesis(&CommunitySpec {
        chain_id: 4242,
        period: 0,
        epoch: 30_000,
        signers: vec![owner],
        funds: vec![],
        owner,
        rate: U256::from(5),
        meters: vec![Address::repeat_byte(2), Address::repeat_byte(3)],
        timestamp: 0,
        interval_s: 0,
        grace_s: 0,
        gas_limit: 0,
    })
    .unwrap()
}

/// The genesis' contracts with storage: address and their non-zero slots.
fn contracts(genesis: &Genesis) -> Vec<(Address, BTreeMap<U256, U256>)> {
    let with_storage = genesis.alloc.iter().map(|(address, account)| {
        let slots = account.storage.iter().filter(|(_, v)| !v.is_zero());
        (*address, slots.map(|(s, v)| (*s, *v)).collect::<BTreeMap<_, _>>())
    });
    with_storage.filter(|(_, slots)| slots.len() >= 2).collect()
}

#[test]
fn a_wiped_account_is_read_at_earlier_blocks_and_reverted_by_its_hashed_slots() {
    let genesis = community();
    let store = Store::temporary().unwrap();
    let genesis_header = store.init_genesis(&genesis).unwrap();
    let (address, slots) = contracts(&genesis).remove(0);
    let before = store.account(&address).unwrap().unwrap();
    let (kept, gone) = (*slots.keys().next().unwrap(), *slots.keys().last().unwrap());
    let new_slot = U256::from(0xdead_beef_u64);
    assert!(!slots.contains_key(&new_slot));
    let change = AccountChange {
        info: Some((before.nonce, before.balance, before.code_hash)),
        wipe_storage: true,
        storage: [(kept, U256::from(9)), (new_slot, U256::from(4))].into(),
    };
    let diff = StateDiff { accounts: [(address, change)].into(), codes: Default::default() };
    let prepared = store.prepare(&diff).unwrap();
    let header = Header {
        parent_hash: genesis_header.hash(),
        number: 1,
        state_root: prepared.state_root,
        ..Header::default()
    };
    store.commit_block(&Block::new(header, vec![]), &[], &[], prepared).unwrap();

    assert_eq!(store.storage(&address, &kept).unwrap(), U256::from(9));
    assert_eq!(store.storage(&address, &new_slot).unwrap(), U256::from(4));
    assert_eq!(store.storage(&address, &gone).unwrap(), U256::ZERO);
    assert_eq!(store.hashed_storage_iter(&address).count(), 2);
    let expected = MerkleTrie::from_entries(vec![
        (keys::hashed_slot(&kept), slot_value(&U256::from(9))),
        (keys::hashed_slot(&new_slot), slot_value(&U256::from(4))),
    ]);
    assert_eq!(store.account(&address).unwrap().unwrap().storage_root, expected.root_hash());
    for (slot, value) in &slots {
        assert_eq!(store.storage_at(&address, slot, 0).unwrap(), Some(*value), "slot {slot}");
    }
    assert_eq!(store.storage_at(&address, &new_slot, 0).unwrap(), Some(U256::ZERO));

    store.revert_head().unwrap();
    for (slot, value) in &slots {
        assert_eq!(store.storage(&address, slot).unwrap(), *value, "slot {slot}");
    }
    assert_eq!(store.storage(&address, &new_slot).unwrap(), U256::ZERO);
    assert_eq!(store.hashed_storage_iter(&address).count(), slots.len());
    let again = store.prepare(&StateDiff::default()).unwrap();
    assert_eq!(again.state_root, genesis_header.state_root);
}

#[test]
fn a_database_of_the_older_format_is_upgraded_at_opening() {
    let genesis = community();
    let store = Store::temporary().unwrap();
    let header = store.init_genesis(&genesis).unwrap();
    let contracts = contracts(&genesis);
    assert!(!contracts.is_empty());
    // As format 0 left it: storage by plain slot only, no hashed table, no mark.
    let hashed: Vec<_> = store.tree.scan_prefix([keys::HASHED_STORAGE]).keys().collect();
    for key in hashed {
        store.tree.remove(key.unwrap()).unwrap();
    }
    for (address, slots) in &contracts {
        for (slot, value) in slots {
            store
                .tree
                .insert(keys::storage(address, slot), value.to_be_bytes_trimmed_vec())
                .unwrap();
        }
    }
    store.tree.remove(keys::meta("hashed-storage")).unwrap();
    store.tree.remove(keys::meta("schema")).unwrap();
    let mut tries = StateTries::default();
    let (address, _) = &contracts[0];
    let root = store.account(address).unwrap().unwrap().storage_root;
    assert_ne!(root, EMPTY_ROOT_HASH);
    assert!(tries.storage_of(&store, address, root).is_err(), "no table to load it from");

    store.upgrade_format().unwrap();
    assert_eq!(store.tree.scan_prefix([keys::STORAGE]).count(), 0, "the plain table is gone");
    for (address, slots) in &contracts {
        for (slot, value) in slots {
            assert_eq!(store.storage(address, slot).unwrap(), *value);
        }
        let root = store.account(address).unwrap().unwrap().storage_root;
        assert_eq!(tries.storage_of(&store, address, root).unwrap().root_hash(), root);
    }
    assert_eq!(store.prepare(&StateDiff::default()).unwrap().state_root, header.state_root);
    let mark = store.tree.get(keys::meta("schema")).unwrap().unwrap();
    assert_eq!(mark.as_ref(), &schema::SCHEMA.to_be_bytes());

    // Interrupted after the mark and the table, with plain entries left: finished next time.
    let (address, slots) = &contracts[0];
    let (slot, value) = slots.iter().next().unwrap();
    store.tree.insert(keys::storage(address, slot), value.to_be_bytes_trimmed_vec()).unwrap();
    store.upgrade_format().unwrap();
    assert_eq!(store.tree.scan_prefix([keys::STORAGE]).count(), 0);
}

#[test]
fn a_changeset_of_the_older_format_decodes_with_no_wiped_slots() {
    let mut s = RlpStream::new_list(2);
    s.begin_list(0);
    s.begin_list(1);
    s.begin_list(3);
    s.append(&Address::repeat_byte(4).as_slice());
    crate::primitives::rlp_ext::append_u256(&mut s, &U256::from(2));
    crate::primitives::rlp_ext::append_u256(&mut s, &U256::from(7));
    let old = Changeset::decode(&s.out()).unwrap();
    assert_eq!(old.storage, vec![(Address::repeat_byte(4), U256::from(2), U256::from(7))]);
    assert!(old.wiped.is_empty());
    let wiped = Changeset {
        wiped: vec![(Address::repeat_byte(5), B256::repeat_byte(6), U256::from(8))],
        ..Changeset::default()
    };
    assert_eq!(Changeset::decode(&wiped.encoded()).unwrap().wiped, wiped.wiped);
    let mut bad = RlpStream::new_list(3);
    bad.begin_list(0);
    bad.begin_list(0);
    bad.begin_list(1);
    bad.begin_list(3);
    bad.append(&Address::repeat_byte(5).as_slice());
    bad.append(&[6u8; 31].as_slice());
    bad.append(&8u8);
    assert!(matches!(Changeset::decode(&bad.out()), Err(StoreError::Corrupt(_))));
}
