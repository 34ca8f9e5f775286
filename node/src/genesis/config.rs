//! The chain configuration of a genesis file: chain id, the fork schedule (blocks and times) and
//! Clique's parameters, and the revm rules in force at a given block.

use super::quantity;
use super::transitions::{self, CliqueTransition};
use revm::primitives::hardfork::SpecId;
use serde::{Deserialize, Serialize};

/// Clique's parameters (EIP-225), with Daisee's transitions at block heights.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CliqueConfig {
    /// Seconds between blocks; 0 seals as soon as transactions wait.
    pub period: u64,
    /// Blocks between checkpoints that reset votes and list the signers.
    pub epoch: u64,
    /// Changes to the period, empty-block rule and gas limit at given heights.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<CliqueTransition>,
}

impl CliqueConfig {
    /// Clique with `period` and `epoch` and no transitions.
    pub fn new(period: u64, epoch: u64) -> Self {
        Self { period, epoch, transitions: Vec::new() }
    }

    /// The period in force at block `number`.
    pub fn period_at(&self, number: u64) -> u64 {
        transitions::period_at(self.period, &self.transitions, number)
    }

    /// Whether the chain says to seal empty blocks at `number` (`None`: each board decides).
    pub fn empty_blocks_at(&self, number: u64) -> Option<bool> {
        transitions::empty_blocks_at(&self.transitions, number)
    }

    /// The gas limit a transition sets at exactly block `number`.
    pub fn gas_limit_at(&self, number: u64) -> Option<u64> {
        transitions::gas_limit_at(&self.transitions, number)
    }
}

/// A genesis file's `config` object (fields geth knows; unknown ones are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ChainConfig {
    #[serde(deserialize_with = "quantity::u64")]
    pub chain_id: u64,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub homestead_block: Option<u64>,
    /// Only counted in fork ids: Daisee does not run the DAO fork's state change.
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub dao_fork_block: Option<u64>,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub eip150_block: Option<u64>,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub eip155_block: Option<u64>,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub eip158_block: Option<u64>,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub byzantium_block: Option<u64>,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub constantinople_block: Option<u64>,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub petersburg_block: Option<u64>,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub istanbul_block: Option<u64>,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub berlin_block: Option<u64>,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub london_block: Option<u64>,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub merge_netsplit_block: Option<u64>,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub shanghai_time: Option<u64>,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub cancun_time: Option<u64>,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub prague_time: Option<u64>,
    #[serde(
        default,
        deserialize_with = "quantity::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub osaka_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clique: Option<CliqueConfig>,
    /// Contract code replaced in place at given heights (Daisee's; other clients ignore it).
    #[serde(default, rename = "daiseeContractUpgrades", skip_serializing_if = "Vec::is_empty")]
    pub contract_upgrades: Vec<super::ContractUpgrade>,
}

fn active_block(fork: Option<u64>, number: u64) -> bool {
    fork.is_some_and(|at| at <= number)
}

impl ChainConfig {
    /// A config with every fork up to Prague active from genesis, as `daisee genesis` writes.
    pub fn all_forks(chain_id: u64, clique: CliqueConfig) -> Self {
        Self {
            chain_id,
            homestead_block: Some(0),
            dao_fork_block: None,
            eip150_block: Some(0),
            eip155_block: Some(0),
            eip158_block: Some(0),
            byzantium_block: Some(0),
            constantinople_block: Some(0),
            petersburg_block: Some(0),
            istanbul_block: Some(0),
            berlin_block: Some(0),
            london_block: Some(0),
            merge_netsplit_block: None,
            shanghai_time: Some(0),
            cancun_time: Some(0),
            prague_time: Some(0),
            osaka_time: None,
            clique: Some(clique),
            contract_upgrades: Vec::new(),
        }
    }

    /// Whether London (EIP-1559 base fee) is active at `number`.
    pub fn is_london(&self, number: u64) -> bool {
        active_block(self.london_block, number)
    }

    /// Whether Shanghai is active at `time`.
    pub fn is_shanghai(&self, time: u64) -> bool {
        active_block(self.shanghai_time, time)
    }

    /// Whether Cancun is active at `time`.
    pub fn is_cancun(&self, time: u64) -> bool {
        active_block(self.cancun_time, time)
    }

    /// Whether Prague is active at `time`.
    pub fn is_prague(&self, time: u64) -> bool {
        active_block(self.prague_time, time)
    }

    /// Whether Osaka (which Daisee does not run) is active at `time`.
    pub fn is_osaka(&self, time: u64) -> bool {
        active_block(self.osaka_time, time)
    }

    /// The revm rules for a block at `number` and `time`.
    pub fn spec_at(&self, number: u64, time: u64) -> SpecId {
        let timed = [
            (self.prague_time, SpecId::PRAGUE),
            (self.cancun_time, SpecId::CANCUN),
            (self.shanghai_time, SpecId::SHANGHAI),
        ];
        for (at, spec) in timed {
            if active_block(at, time) {
                return spec;
            }
        }
        let by_block = [
            (self.merge_netsplit_block, SpecId::MERGE),
            (self.london_block, SpecId::LONDON),
            (self.berlin_block, SpecId::BERLIN),
            (self.istanbul_block, SpecId::ISTANBUL),
            (self.petersburg_block, SpecId::PETERSBURG),
            (self.constantinople_block, SpecId::PETERSBURG),
            (self.byzantium_block, SpecId::BYZANTIUM),
            (self.eip158_block, SpecId::SPURIOUS_DRAGON),
            (self.eip150_block, SpecId::TANGERINE),
            (self.homestead_block, SpecId::HOMESTEAD),
        ];
        for (at, spec) in by_block {
            if active_block(at, number) {
                return spec;
            }
        }
        SpecId::FRONTIER
    }
}
