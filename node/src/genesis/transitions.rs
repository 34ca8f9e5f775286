//! Clique transitions: changes to a running chain's `period`, empty-block rule and gas limit that
//! take effect at a block height, listed in the genesis config (as Besu's `transitions`), so a
//! community changes them without a new chain.

use super::quantity;
use serde::{Deserialize, Serialize};

/// Most transitions a config may list (each is checked on every header).
pub const MAX_TRANSITIONS: usize = 64;

/// One change at a block height; fields left out keep their previous value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CliqueTransition {
    /// The first block the change applies to.
    #[serde(deserialize_with = "quantity::u64")]
    pub block: u64,
    /// Seconds between blocks from `block` on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u64>,
    /// Whether signers seal blocks without transactions from `block` on (overrides each
    /// board's `--seal-empty`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_blocks: Option<bool>,
    /// The gas limit of block `block`; later blocks follow the usual ±1/1024 rule from it.
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub gas_limit: Option<u64>,
}

/// Why a list of transitions cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// More than [`MAX_TRANSITIONS`].
    #[error("at most {MAX_TRANSITIONS} clique transitions")]
    TooMany,
    /// Not in strictly increasing block order.
    #[error("clique transitions must be listed by increasing block, each block once")]
    Unordered,
    /// A transition at block 0 (the genesis config says that directly).
    #[error("a clique transition at block 0: set the genesis values instead")]
    AtGenesis,
    /// A gas limit below what any transaction needs.
    #[error("clique transition at block {0}: gas limit below 5000")]
    GasLimit(u64),
}

/// Checks a list of transitions.
pub(super) fn check(transitions: &[CliqueTransition]) -> Result<(), TransitionError> {
    if transitions.len() > MAX_TRANSITIONS {
        return Err(TransitionError::TooMany);
    }
    if transitions.windows(2).any(|w| w[0].block >= w[1].block) {
        return Err(TransitionError::Unordered);
    }
    if transitions.first().is_some_and(|t| t.block == 0) {
        return Err(TransitionError::AtGenesis);
    }
    if let Some(t) = transitions.iter().find(|t| t.gas_limit.is_some_and(|g| g < 5000)) {
        return Err(TransitionError::GasLimit(t.block));
    }
    Ok(())
}

/// The period in force at block `number`.
pub(super) fn period_at(base: u64, transitions: &[CliqueTransition], number: u64) -> u64 {
    transitions
        .iter()
        .take_while(|t| t.block <= number)
        .filter_map(|t| t.period)
        .last()
        .unwrap_or(base)
}

/// The chain's empty-block rule at block `number`, if a transition set one.
pub(super) fn empty_blocks_at(transitions: &[CliqueTransition], number: u64) -> Option<bool> {
    transitions.iter().take_while(|t| t.block <= number).filter_map(|t| t.empty_blocks).last()
}

/// The gas limit block `number` must have, if a transition sets it at exactly that block.
pub(super) fn gas_limit_at(transitions: &[CliqueTransition], number: u64) -> Option<u64> {
    transitions.iter().find(|t| t.block == number).and_then(|t| t.gas_limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(block: u64) -> CliqueTransition {
        CliqueTransition { block, period: None, empty_blocks: None, gas_limit: None }
    }

    #[test]
    fn values_apply_from_their_block_and_carry_on() {
        let list = [
            CliqueTransition { period: Some(2), empty_blocks: Some(false), ..at(10) },
            CliqueTransition { gas_limit: Some(60_000_000), ..at(20) },
            CliqueTransition { period: Some(15), ..at(30) },
        ];
        check(&list).unwrap();
        assert_eq!(period_at(5, &list, 9), 5);
        assert_eq!(period_at(5, &list, 10), 2);
        assert_eq!(period_at(5, &list, 29), 2);
        assert_eq!(period_at(5, &list, 30), 15);
        assert_eq!(empty_blocks_at(&list, 9), None);
        assert_eq!(empty_blocks_at(&list, 31), Some(false));
        assert_eq!(gas_limit_at(&list, 20), Some(60_000_000));
        assert_eq!(gas_limit_at(&list, 21), None);
    }

    #[test]
    fn bad_lists_are_refused() {
        assert_eq!(check(&[at(5), at(5)]), Err(TransitionError::Unordered));
        assert_eq!(check(&[at(6), at(5)]), Err(TransitionError::Unordered));
        assert_eq!(check(&[at(0)]), Err(TransitionError::AtGenesis));
        let low = CliqueTransition { gas_limit: Some(10), ..at(3) };
        assert_eq!(check(&[low]), Err(TransitionError::GasLimit(3)));
        let many: Vec<_> = (1..=65).map(at).collect();
        assert_eq!(check(&many), Err(TransitionError::TooMany));
    }

    #[test]
    fn reads_besu_like_json_and_refuses_unknown_keys() {
        let t: CliqueTransition =
            serde_json::from_str(r#"{"block": "0x10", "period": 3, "emptyBlocks": true}"#).unwrap();
        assert_eq!(t, CliqueTransition { period: Some(3), empty_blocks: Some(true), ..at(16) });
        assert!(serde_json::from_str::<CliqueTransition>(r#"{"block": 1, "perod": 3}"#).is_err());
    }
}
