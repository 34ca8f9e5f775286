//! Header rules of a Daisee Clique chain, checked before a block is executed: lineage, time,
//! gas limit, base fee, the fields each fork requires, `extraData` layout, signer and difficulty.

use super::seal::{
    extra_signers, recover_signer, EXTRA_SEAL, EXTRA_VANITY, NONCE_AUTH, NONCE_DROP,
};
use super::Snapshot;
use crate::genesis::ChainConfig;
use crate::primitives::{Address, Header, B256, EMPTY_OMMERS_HASH, EMPTY_REQUESTS_HASH, U256};
use alloy_trie::EMPTY_ROOT_HASH;

/// Difficulty of a block sealed by the in-turn signer.
pub const DIFF_IN_TURN: u64 = 2;
/// Difficulty of a block sealed out of turn.
pub const DIFF_NO_TURN: u64 = 1;
const MIN_GAS_LIMIT: u64 = 5000;
const MAX_GAS_LIMIT: u64 = 0x7fff_ffff_ffff_ffff;
const GAS_LIMIT_BOUND_DIVISOR: u64 = 1024;
const BASE_FEE_CHANGE_DENOMINATOR: u64 = 8;
const ELASTICITY_MULTIPLIER: u64 = 2;
const INITIAL_BASE_FEE: u64 = 1_000_000_000;

/// Why a header breaks the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(missing_docs)]
pub enum ConsensusError {
    #[error("unknown ancestor")]
    UnknownAncestor,
    #[error("invalid block number: parent {parent}, block {number}")]
    InvalidNumber { parent: u64, number: u64 },
    #[error("timestamp {time} is earlier than parent {parent} + period {period}")]
    TimestampTooEarly { time: u64, parent: u64, period: u64 },
    #[error("block in the future: timestamp {time}, now {now}")]
    FutureBlock { time: u64, now: u64 },
    #[error("invalid gas limit: {limit} (parent {parent})")]
    InvalidGasLimit { limit: u64, parent: u64 },
    #[error("gas used {used} exceeds gas limit {limit}")]
    GasUsedOverLimit { used: u64, limit: u64 },
    #[error("invalid base fee: expected {expected:?}, got {got:?}")]
    InvalidBaseFee { expected: Option<u64>, got: Option<u64> },
    #[error("header fields do not match the active forks: {0}")]
    ForkFields(&'static str),
    #[error(
        "block {number} (time {time}) carries {fields}, of a fork this board's chain config does \
         not schedule: the community has upgraded; get its new genesis file and run \
         `daisee init --upgrade FILE --datadir DIR`, then restart"
    )]
    UnscheduledFork { number: u64, time: u64, fields: &'static str },
    #[error("extra-data shorter than vanity and seal")]
    MissingSeal,
    #[error("invalid seal")]
    BadSeal,
    #[error("non-checkpoint block lists signers in extra-data")]
    ExtraSigners,
    #[error("checkpoint signers in extra-data are malformed or wrong")]
    InvalidCheckpointSigners,
    #[error("checkpoint block has a vote")]
    CheckpointVote,
    #[error("invalid vote nonce")]
    InvalidVote,
    #[error("non-zero mix hash")]
    InvalidMixHash,
    #[error("non-empty ommers hash")]
    InvalidOmmers,
    #[error("signer {0} is not authorized")]
    UnauthorizedSigner(Address),
    #[error("signer {0} signed recently, must wait for others")]
    RecentlySigned(Address),
    #[error("extra data of {0} bytes is too long (at most 32 after the Merge)")]
    ExtraDataTooLong(usize),
    #[error("nonce is not zero after the Merge")]
    NonZeroNonce,
    #[error("difficulty {0} is not zero after the Merge")]
    NonZeroDifficulty(U256),
    #[error("invalid excess blob gas: expected {expected}, got {got}")]
    InvalidExcessBlobGas { expected: u64, got: u64 },
    #[error("wrong difficulty: expected {expected}, got {got}")]
    WrongDifficulty { expected: u64, got: U256 },
}

/// The base fee a block must have after `parent` (EIP-1559).
pub fn next_base_fee(config: &ChainConfig, parent: &Header) -> Option<u64> {
    if !config.is_london(parent.number + 1) {
        return None;
    }
    let Some(parent_fee) = parent.base_fee_per_gas else { return Some(INITIAL_BASE_FEE) };
    let target = parent.gas_limit / ELASTICITY_MULTIPLIER;
    if target == 0 || parent.gas_used == target {
        return Some(parent_fee);
    }
    let fee = u128::from(parent_fee);
    let (target_w, den) = (u128::from(target), u128::from(BASE_FEE_CHANGE_DENOMINATOR));
    if parent.gas_used > target {
        let delta = u128::from(parent.gas_used - target);
        let change = (fee * delta / target_w / den).max(1);
        Some(u64::try_from(fee + change).unwrap_or(u64::MAX))
    } else {
        let delta = u128::from(target - parent.gas_used);
        let change = fee * delta / target_w / den;
        Some(u64::try_from(fee.saturating_sub(change)).unwrap_or(0))
    }
}

/// Checks `header` as the child of `parent`, sealed under `snap` (the parent's snapshot);
/// `now` is the local clock in unix seconds. Returns the signer.
pub fn validate_header(
    config: &ChainConfig,
    period: u64,
    header: &Header,
    parent: &Header,
    snap: &Snapshot,
    now: u64,
) -> Result<Address, ConsensusError> {
    check_lineage(header, parent, period)?;
    if header.timestamp > now {
        return Err(ConsensusError::FutureBlock { time: header.timestamp, now });
    }
    let set_here = config.clique.as_ref().and_then(|c| c.gas_limit_at(header.number));
    check_gas(config, header, parent, set_here)?;
    if header.mix_hash != B256::ZERO {
        return Err(ConsensusError::InvalidMixHash);
    }
    if header.ommers_hash != EMPTY_OMMERS_HASH {
        return Err(ConsensusError::InvalidOmmers);
    }

    let checkpoint = header.number.is_multiple_of(snap.epoch);
    if header.nonce != NONCE_AUTH && header.nonce != NONCE_DROP {
        return Err(ConsensusError::InvalidVote);
    }
    if checkpoint && (header.nonce != NONCE_DROP || header.beneficiary != Address::ZERO) {
        return Err(ConsensusError::CheckpointVote);
    }
    let listed = extra_signers(&header.extra_data)?;
    if !checkpoint && !listed.is_empty() {
        return Err(ConsensusError::ExtraSigners);
    }
    debug_assert!(header.extra_data.len() >= EXTRA_VANITY + EXTRA_SEAL);

    let signer = recover_signer(header)?;
    let after = snap.apply(header)?;
    // After the seal: only an authorized signer's block may say "the chain has upgraded" (an
    // unsigned header with a later fork's fields would otherwise stop this board's sealer).
    check_fork_fields(config, header)?;
    if checkpoint && listed != after.signers.iter().copied().collect::<Vec<_>>() {
        return Err(ConsensusError::InvalidCheckpointSigners);
    }
    let expected = if snap.in_turn(header.number, &signer) { DIFF_IN_TURN } else { DIFF_NO_TURN };
    if header.difficulty != U256::from(expected) {
        return Err(ConsensusError::WrongDifficulty { expected, got: header.difficulty });
    }
    Ok(signer)
}

/// The parent link, the number and the time (at least `min_gap` seconds after the parent).
pub(super) fn check_lineage(
    header: &Header,
    parent: &Header,
    min_gap: u64,
) -> Result<(), ConsensusError> {
    if header.parent_hash != parent.hash() {
        return Err(ConsensusError::UnknownAncestor);
    }
    if header.number != parent.number + 1 {
        return Err(ConsensusError::InvalidNumber { parent: parent.number, number: header.number });
    }
    if header.timestamp < parent.timestamp.saturating_add(min_gap) {
        return Err(ConsensusError::TimestampTooEarly {
            time: header.timestamp,
            parent: parent.timestamp,
            period: min_gap,
        });
    }
    Ok(())
}

/// The gas limit (within 1/1024 of the parent's, or `set_here` by a Clique transition), gas used
/// within it, and the EIP-1559 base fee.
pub(super) fn check_gas(
    config: &ChainConfig,
    header: &Header,
    parent: &Header,
    set_here: Option<u64>,
) -> Result<(), ConsensusError> {
    let bound = parent.gas_limit / GAS_LIMIT_BOUND_DIVISOR;
    let invalid_limit =
        || ConsensusError::InvalidGasLimit { limit: header.gas_limit, parent: parent.gas_limit };
    if let Some(limit) = set_here {
        // A Clique transition sets the gas limit at this very block.
        if header.gas_limit != limit {
            return Err(invalid_limit());
        }
    } else if header.gas_limit < MIN_GAS_LIMIT
        || header.gas_limit > MAX_GAS_LIMIT
        || header.gas_limit.abs_diff(parent.gas_limit) >= bound.max(1)
            && header.gas_limit != parent.gas_limit
    {
        return Err(invalid_limit());
    }
    if header.gas_used > header.gas_limit {
        return Err(ConsensusError::GasUsedOverLimit {
            used: header.gas_used,
            limit: header.gas_limit,
        });
    }
    let expected_fee = next_base_fee(config, parent);
    if header.base_fee_per_gas != expected_fee {
        return Err(ConsensusError::InvalidBaseFee {
            expected: expected_fee,
            got: header.base_fee_per_gas,
        });
    }
    Ok(())
}

fn check_fork_fields(config: &ChainConfig, h: &Header) -> Result<(), ConsensusError> {
    let t = h.timestamp;
    // Fields of a fork this board does not schedule: the others upgraded, this board did not.
    let unscheduled =
        |fields| ConsensusError::UnscheduledFork { number: h.number, time: t, fields };
    if h.requests_hash.is_some() && !config.is_prague(t) {
        return Err(unscheduled("a requests hash (Prague)"));
    }
    if h.parent_beacon_block_root.is_some() && !config.is_cancun(t) {
        return Err(unscheduled("a parent beacon root (Cancun)"));
    }
    if h.withdrawals_root.is_some() && !config.is_shanghai(t) {
        return Err(unscheduled("a withdrawals root (Shanghai)"));
    }
    check_fork_presence(config, h)?;
    if h.withdrawals_root.is_some_and(|r| r != EMPTY_ROOT_HASH) {
        return Err(ConsensusError::ForkFields("withdrawals are not allowed"));
    }
    if h.blob_gas_used.unwrap_or(0) != 0 || h.excess_blob_gas.unwrap_or(0) != 0 {
        return Err(ConsensusError::ForkFields("blobs are not allowed"));
    }
    if h.requests_hash.is_some_and(|r| r != EMPTY_REQUESTS_HASH) {
        return Err(ConsensusError::ForkFields("requests are not allowed"));
    }
    Ok(())
}

/// Each fork's header fields are present exactly when the fork is active at the header's time:
/// the withdrawals root (Shanghai), blob gas and the parent beacon root (Cancun), the requests
/// hash (Prague).
pub(super) fn check_fork_presence(config: &ChainConfig, h: &Header) -> Result<(), ConsensusError> {
    let t = h.timestamp;
    if config.is_shanghai(t) != h.withdrawals_root.is_some() {
        return Err(ConsensusError::ForkFields("withdrawals root"));
    }
    let cancun = config.is_cancun(t);
    let blob = [
        h.blob_gas_used.is_some(),
        h.excess_blob_gas.is_some(),
        h.parent_beacon_block_root.is_some(),
    ];
    if blob.iter().any(|present| *present != cancun) {
        return Err(ConsensusError::ForkFields("blob gas and parent beacon root"));
    }
    if config.is_prague(t) != h.requests_hash.is_some() {
        return Err(ConsensusError::ForkFields("requests hash"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_fee_follows_eip1559() {
        let config = ChainConfig { london_block: Some(0), ..Default::default() };
        let parent = |used| Header {
            number: 5,
            gas_limit: 30_000_000,
            gas_used: used,
            base_fee_per_gas: Some(1_000_000_000),
            ..Default::default()
        };
        assert_eq!(next_base_fee(&config, &parent(15_000_000)), Some(1_000_000_000));
        assert_eq!(next_base_fee(&config, &parent(30_000_000)), Some(1_125_000_000));
        assert_eq!(next_base_fee(&config, &parent(0)), Some(875_000_000));
    }
}
