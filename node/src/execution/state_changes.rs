//! Folds the state revm reports after each transaction into the block's [`StateDiff`], with the
//! rules of geth's state commit: self-destructed accounts vanish, touched empty accounts are
//! deleted from Spurious Dragon on (EIP-161), created accounts start with empty storage.

use crate::primitives::{keccak256, trie::KECCAK_EMPTY};
use crate::state::{AccountChange, StateDiff};
use revm::{primitives::hardfork::SpecId, state::EvmState};

pub(super) fn merge(diff: &mut StateDiff, state: &EvmState, spec: SpecId) {
    let state_clear = spec.is_enabled_in(SpecId::SPURIOUS_DRAGON);
    for (address, account) in state {
        if !account.is_touched() {
            continue;
        }
        let entry = diff.accounts.entry(*address).or_default();
        if account.is_selfdestructed() || (state_clear && account.is_empty()) {
            *entry = AccountChange { info: None, wipe_storage: true, storage: Default::default() };
            continue;
        }
        if account.is_created() {
            entry.wipe_storage = true;
            entry.storage.clear();
        }
        let info = &account.info;
        if account.is_created() && info.code_hash != KECCAK_EMPTY {
            if let Some(code) = &info.code {
                let bytes = code.original_bytes();
                if !bytes.is_empty() && keccak256(&bytes) == info.code_hash {
                    diff.codes.insert(info.code_hash, bytes);
                }
            }
        }
        entry.info = Some((info.nonce, info.balance, info.code_hash));
        for (slot, value) in account.changed_storage_slots() {
            entry.storage.insert(*slot, value.present_value());
        }
    }
}
