//! Contract upgrades in place: at a block height listed in the genesis config
//! (`daiseeContractUpgrades`), the code at an address is replaced before the block's first
//! transaction, its storage and balance kept. This is how a community moves to a new Daisee
//! contract without losing a balance, an escrow, a meter or an unsettled interval: the new code
//! keeps the old one's storage layout (a test holds it to that), and there is no second contract
//! to move money into. Every board applies it in the same place (block building and import),
//! and it counts in the fork id, so a board that lacks it stops at it and says so.

use super::quantity;
use crate::primitives::{Address, Bytes};
use serde::{Deserialize, Serialize};

/// Most upgrades a config may list.
pub const MAX_CONTRACT_UPGRADES: usize = 16;
/// The largest code an upgrade may install (EIP-170's limit on deployed code).
pub const MAX_CODE_BYTES: usize = 24_576;

/// One code replacement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContractUpgrade {
    /// The first block that runs the new code (the code changes before its transactions).
    #[serde(deserialize_with = "quantity::u64")]
    pub block: u64,
    /// The contract whose code changes.
    pub address: Address,
    /// The new runtime code.
    #[serde(deserialize_with = "quantity::bytes")]
    pub code: Bytes,
}

/// Why a list of contract upgrades cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractUpgradeError {
    /// More than [`MAX_CONTRACT_UPGRADES`].
    #[error("at most {MAX_CONTRACT_UPGRADES} contract upgrades")]
    TooMany,
    /// Not in strictly increasing block order.
    #[error("contract upgrades must be listed by increasing block, each block once")]
    Unordered,
    /// At block 0 (the genesis alloc says that directly).
    #[error("a contract upgrade at block 0: put the code in the genesis alloc instead")]
    AtGenesis,
    /// Empty code, or more than [`MAX_CODE_BYTES`].
    #[error("contract upgrade at block {0}: code must be 1 to {MAX_CODE_BYTES} bytes")]
    Code(u64),
}

/// Checks a list of upgrades.
pub(super) fn check(upgrades: &[ContractUpgrade]) -> Result<(), ContractUpgradeError> {
    if upgrades.len() > MAX_CONTRACT_UPGRADES {
        return Err(ContractUpgradeError::TooMany);
    }
    if upgrades.windows(2).any(|w| w[0].block >= w[1].block) {
        return Err(ContractUpgradeError::Unordered);
    }
    if upgrades.first().is_some_and(|u| u.block == 0) {
        return Err(ContractUpgradeError::AtGenesis);
    }
    if let Some(u) = upgrades.iter().find(|u| u.code.is_empty() || u.code.len() > MAX_CODE_BYTES) {
        return Err(ContractUpgradeError::Code(u.block));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(block: u64, code: usize) -> ContractUpgrade {
        ContractUpgrade { block, address: Address::repeat_byte(1), code: vec![0u8; code].into() }
    }

    #[test]
    fn malformed_lists_are_refused() {
        assert_eq!(check(&[at(5, 1), at(9, 10)]), Ok(()));
        assert_eq!(check(&[at(9, 1), at(5, 1)]), Err(ContractUpgradeError::Unordered));
        assert_eq!(check(&[at(5, 1), at(5, 1)]), Err(ContractUpgradeError::Unordered));
        assert_eq!(check(&[at(0, 1)]), Err(ContractUpgradeError::AtGenesis));
        assert_eq!(check(&[at(3, 0)]), Err(ContractUpgradeError::Code(3)));
        assert_eq!(check(&[at(3, MAX_CODE_BYTES + 1)]), Err(ContractUpgradeError::Code(3)));
        let many: Vec<_> = (1..=17).map(|b| at(b, 1)).collect();
        assert_eq!(check(&many), Err(ContractUpgradeError::TooMany));
    }

    #[test]
    fn an_upgrade_reads_from_a_genesis_config_and_refuses_unknown_fields() {
        let text = r#"{"block": "0x10", "address": "0xda15ee0000000000000000000000000000000001", "code": "0x6001"}"#;
        let u: ContractUpgrade = serde_json::from_str(text).unwrap();
        assert_eq!((u.block, u.code.to_vec()), (16, vec![0x60, 0x01]));
        let extra = r#"{"block": 1, "address": "0xda15ee0000000000000000000000000000000001", "code": "0x60", "storage": {}}"#;
        assert!(serde_json::from_str::<ContractUpgrade>(extra).is_err());
    }
}
