//! Ethereum's proof-of-stake header rules (the Merge, Shanghai, Cancun), as go-ethereum's beacon
//! engine checks them once the consensus layer has chosen the block. Daisee chains are Clique
//! chains and never use these: they are the rules under which Ethereum's own block fixtures
//! (`BlockchainTests`) run through the node's import path, in place of the Clique checks.

use super::validate::{check_fork_presence, check_gas, check_lineage};
use super::ConsensusError;
use crate::genesis::ChainConfig;
use crate::primitives::{Header, EMPTY_OMMERS_HASH, U256};

/// The most extra data a proof-of-stake header carries.
const MAX_EXTRA_DATA: usize = 32;
/// Blob gas one blob uses (EIP-4844).
pub const GAS_PER_BLOB: u64 = 1 << 17;
/// Blob gas a Cancun block aims at (3 blobs); above it the excess grows.
const TARGET_BLOB_GAS_PER_BLOCK: u64 = 3 * GAS_PER_BLOB;
/// The most blob gas a Cancun block may use (6 blobs).
const MAX_BLOB_GAS_PER_BLOCK: u64 = 6 * GAS_PER_BLOB;

/// The excess blob gas a Cancun block must carry after `parent` (EIP-4844).
pub fn next_excess_blob_gas(parent: &Header) -> u64 {
    let used = parent.excess_blob_gas.unwrap_or(0) + parent.blob_gas_used.unwrap_or(0);
    used.saturating_sub(TARGET_BLOB_GAS_PER_BLOCK)
}

/// Checks `header` as the proof-of-stake child of `parent`. The fee recipient is the header's
/// own beneficiary; the body's roots and blob gas are checked by the import after execution.
pub fn validate_post_merge(
    config: &ChainConfig,
    header: &Header,
    parent: &Header,
) -> Result<(), ConsensusError> {
    if header.extra_data.len() > MAX_EXTRA_DATA {
        return Err(ConsensusError::ExtraDataTooLong(header.extra_data.len()));
    }
    check_lineage(header, parent, 1)?;
    check_gas(config, header, parent, None)?;
    if header.difficulty != U256::ZERO {
        return Err(ConsensusError::NonZeroDifficulty(header.difficulty));
    }
    if header.nonce != [0; 8] {
        return Err(ConsensusError::NonZeroNonce);
    }
    if header.ommers_hash != EMPTY_OMMERS_HASH {
        return Err(ConsensusError::InvalidOmmers);
    }
    check_fork_presence(config, header)?;
    if let Some(got) = header.excess_blob_gas {
        let expected = next_excess_blob_gas(parent);
        if got != expected {
            return Err(ConsensusError::InvalidExcessBlobGas { expected, got });
        }
    }
    if header
        .blob_gas_used
        .is_some_and(|used| used > MAX_BLOB_GAS_PER_BLOCK || !used.is_multiple_of(GAS_PER_BLOB))
    {
        return Err(ConsensusError::ForkFields("blob gas used"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::trie::EMPTY_ROOT_HASH;
    use crate::primitives::B256;

    fn config() -> ChainConfig {
        ChainConfig {
            london_block: Some(0),
            shanghai_time: Some(0),
            cancun_time: Some(0),
            ..Default::default()
        }
    }

    fn child(parent: &Header) -> Header {
        Header {
            parent_hash: parent.hash(),
            ommers_hash: EMPTY_OMMERS_HASH,
            number: parent.number + 1,
            timestamp: parent.timestamp + 12,
            gas_limit: parent.gas_limit,
            base_fee_per_gas: crate::consensus::next_base_fee(&config(), parent),
            withdrawals_root: Some(EMPTY_ROOT_HASH),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(next_excess_blob_gas(parent)),
            parent_beacon_block_root: Some(B256::ZERO),
            ..Default::default()
        }
    }

    #[test]
    fn a_post_merge_header_passes_and_each_broken_rule_is_named() {
        let parent = Header {
            gas_limit: 30_000_000,
            base_fee_per_gas: Some(7),
            excess_blob_gas: Some(GAS_PER_BLOB * 4),
            blob_gas_used: Some(0),
            ..child(&Header::default())
        };
        let good = child(&parent);
        assert_eq!(good.excess_blob_gas, Some(GAS_PER_BLOB));
        validate_post_merge(&config(), &good, &parent).unwrap();
        type Breaks = fn(&mut Header);
        let broken: [(Breaks, &str); 6] = [
            (|h| h.extra_data = vec![0; 33].into(), "extra"),
            (|h| h.difficulty = U256::from(1), "difficulty"),
            (|h| h.nonce = [0, 0, 0, 0, 0, 0, 0, 1], "nonce"),
            (|h| h.timestamp -= 12, "timestamp"),
            (|h| h.excess_blob_gas = Some(0), "excess blob gas"),
            (|h| h.withdrawals_root = None, "withdrawals"),
        ];
        for (breaks, what) in broken {
            let mut h = good.clone();
            breaks(&mut h);
            let err = validate_post_merge(&config(), &h, &parent).unwrap_err();
            assert!(err.to_string().contains(what), "{what}: {err}");
        }
    }
}
