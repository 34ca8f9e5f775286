//! Genesis files for Daisee communities: Clique signers in `extraData`, funded accounts, and the
//! Daisee contract predeployed at [`DAISEE_ADDRESS`] with its constructor already run (owner,
//! rate, registered meters in storage). Used by `daisee genesis` and `daisee dev`.

use crate::consensus::{EXTRA_SEAL, EXTRA_VANITY};
use crate::execution::{run_constructor, ExecError};
use crate::genesis::{ChainConfig, CliqueConfig, Genesis, GenesisAccount};
use crate::primitives::{address, Address, PrivateKey, B256, U256};
use daisee_contracts::daisee_deploy_code;
use std::collections::BTreeMap;

/// Where the Daisee contract lives on every chain `daisee genesis` and `daisee dev` make.
pub const DAISEE_ADDRESS: Address = address!("da15ee0000000000000000000000000000000001");

/// Block gas limit of a chain whose spec leaves it at 0 (`daisee dev`, tests): 661 meters per
/// settlement.
pub const DEFAULT_GAS_LIMIT: u64 = 30_000_000;
/// Block gas limit `daisee genesis` writes unless told: one `settle` takes 2,216 meters
/// (`settleCapacity()`), a town of 1,000 households and room to grow (docs/market.md).
pub const COMMUNITY_GAS_LIMIT: u64 = 100_000_000;

/// The dev households' default interval (simulated s).
pub const DEV_INTERVAL_S: u64 = 300;

/// The community `daisee dev` runs: chain id 31337, the first key signs and owns the contract,
/// every key holds 10,000 ether and reports as a meter, blocks every `period` s, intervals of
/// [`DEV_INTERVAL_S`].
pub fn dev_spec(keys: &[PrivateKey], period: u64) -> CommunitySpec {
    let ten_thousand_ether = U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18));
    let first = keys.first().map(PrivateKey::address).unwrap_or_default();
    CommunitySpec {
        chain_id: 31337,
        period,
        epoch: 30_000,
        signers: vec![first],
        funds: keys.iter().map(|k| (k.address(), ten_thousand_ether)).collect(),
        owner: first,
        rate: U256::ZERO,
        meters: keys.iter().map(PrivateKey::address).collect(),
        timestamp: 0,
        interval_s: DEV_INTERVAL_S,
        grace_s: 0,
        gas_limit: 0,
    }
}

/// What a community genesis holds.
#[derive(Debug, Clone)]
pub struct CommunitySpec {
    /// Chain id (also the network id).
    pub chain_id: u64,
    /// Seconds between blocks (0: as soon as transactions wait).
    pub period: u64,
    /// Checkpoint interval.
    pub epoch: u64,
    /// Clique signers.
    pub signers: Vec<Address>,
    /// Pre-funded accounts and their balances in wei.
    pub funds: Vec<(Address, U256)>,
    /// The contract's owner (the community account).
    pub owner: Address,
    /// Price of energy in wei per Wh (0: the contract's default).
    pub rate: U256,
    /// Meters registered in the contract from the start.
    pub meters: Vec<Address>,
    /// Genesis timestamp.
    pub timestamp: u64,
    /// The community's interval (s): readings end on its multiples (0: the contract's 900).
    pub interval_s: u64,
    /// How long after an interval's end its market takes readings (0: one interval).
    pub grace_s: u64,
    /// The block gas limit (0: [`DEFAULT_GAS_LIMIT`]).
    pub gas_limit: u64,
}

/// Builds the genesis: every fork up to Prague from block 0.
pub fn community_genesis(spec: &CommunitySpec) -> Result<Genesis, ExecError> {
    let config = ChainConfig::all_forks(spec.chain_id, CliqueConfig::new(spec.period, spec.epoch));
    let mut signers = spec.signers.clone();
    signers.sort();
    signers.dedup();
    let mut extra = vec![0u8; EXTRA_VANITY];
    for s in &signers {
        extra.extend_from_slice(s.as_slice());
    }
    extra.extend_from_slice(&[0u8; EXTRA_SEAL]);

    let mut alloc: BTreeMap<Address, GenesisAccount> = BTreeMap::new();
    for (who, wei) in &spec.funds {
        alloc.entry(*who).or_default().balance += *wei;
    }
    let init = daisee_deploy_code(
        spec.owner,
        spec.rate,
        spec.meters.clone(),
        spec.interval_s,
        spec.grace_s,
    );
    let deployed = run_constructor(config.spec_at(0, spec.timestamp), spec.owner, init)?;
    alloc.insert(
        DAISEE_ADDRESS,
        GenesisAccount {
            balance: U256::ZERO,
            nonce: 1,
            code: deployed.code,
            storage: deployed.storage,
        },
    );
    Ok(Genesis {
        config,
        nonce: [0; 8],
        timestamp: spec.timestamp,
        extra_data: extra.into(),
        gas_limit: if spec.gas_limit == 0 { DEFAULT_GAS_LIMIT } else { spec.gas_limit },
        difficulty: Some(U256::from(1)),
        mix_hash: B256::ZERO,
        coinbase: Address::ZERO,
        base_fee_per_gas: Some(1_000_000_000),
        alloc,
    })
}

/// A store initialised with a test community: chain 4242, period 0, `signers` (the first owns
/// the contract), each of `funded` holding 1000 ether.
#[cfg(test)]
pub(crate) fn test_store(
    signers: &[crate::primitives::Address],
    funded: &[crate::primitives::Address],
    epoch: u64,
) -> crate::state::Store {
    let spec = CommunitySpec {
        chain_id: 4242,
        period: 0,
        epoch,
        signers: signers.to_vec(),
        funds: funded.iter().map(|a| (*a, U256::from(10u64).pow(U256::from(21)))).collect(),
        owner: signers[0],
        rate: U256::ZERO,
        meters: vec![],
        timestamp: 0,
        interval_s: 0,
        grace_s: 0,
        gas_limit: 0,
    };
    let store = crate::state::Store::temporary().expect("temporary store");
    store.init_genesis(&community_genesis(&spec).expect("genesis")).expect("init");
    store
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_towns_genesis_registers_two_thousand_meters_at_the_community_gas_limit() {
        let meters: Vec<Address> =
            (1..=2000u16).map(|i| Address::left_padding_from(&i.to_be_bytes())).collect();
        let spec = CommunitySpec {
            chain_id: 69,
            period: 5,
            epoch: 30_000,
            signers: vec![Address::repeat_byte(1)],
            funds: vec![],
            owner: Address::repeat_byte(1),
            rate: U256::ZERO,
            meters: meters.clone(),
            timestamp: 0,
            interval_s: 0,
            grace_s: 0,
            gas_limit: COMMUNITY_GAS_LIMIT,
        };
        let genesis = community_genesis(&spec).unwrap();
        assert_eq!(genesis.gas_limit, COMMUNITY_GAS_LIMIT);
        let storage = &genesis.alloc[&DAISEE_ADDRESS].storage;
        // `meterList` (slot 13) holds every meter, in order.
        assert_eq!(storage[&U256::from(13)], U256::from(2000));
        let list =
            U256::from_be_bytes(crate::primitives::keccak256(U256::from(13).to_be_bytes::<32>()).0);
        let last = U256::from_be_bytes(meters[1999].into_word().0);
        assert_eq!(storage[&(list + U256::from(1999))], last);
        // Beyond the bound on init code: a clear error, not a crash.
        let too_many: Vec<Address> =
            (0..140_000u32).map(|i| Address::left_padding_from(&i.to_be_bytes())).collect();
        let err = community_genesis(&CommunitySpec { meters: too_many, ..spec }).unwrap_err();
        assert!(err.to_string().contains("init code"), "{err}");
    }

    #[test]
    fn written_community_genesis_round_trips_and_holds_the_contract() {
        let spec = CommunitySpec {
            chain_id: 69,
            period: 5,
            epoch: 30_000,
            signers: vec![Address::repeat_byte(2), Address::repeat_byte(1)],
            funds: vec![(Address::repeat_byte(1), U256::from(10))],
            owner: Address::repeat_byte(1),
            rate: U256::ZERO,
            meters: vec![Address::repeat_byte(3)],
            timestamp: 0,
            interval_s: 0,
            grace_s: 0,
            gas_limit: 0,
        };
        let genesis = community_genesis(&spec).unwrap();
        let text = serde_json::to_string(&genesis.to_json()).unwrap();
        let back = Genesis::from_json(&text).unwrap();
        assert_eq!(back.header().hash(), genesis.header().hash());
        let signers = crate::consensus::extra_signers(&back.extra_data).unwrap();
        assert_eq!(signers, vec![Address::repeat_byte(1), Address::repeat_byte(2)], "sorted");
        let daisee = &back.alloc[&DAISEE_ADDRESS];
        assert_eq!(daisee.code, daisee_contracts::Daisee::DEPLOYED_BYTECODE);
        // The owner's and the rate's slots, from the storage layout in the artifact.
        let layout: serde_json::Value =
            serde_json::from_str(daisee_contracts::DAISEE_ARTIFACT).unwrap();
        let slot = |label: &str| {
            let vars = layout["storageLayout"]["storage"].as_array().unwrap();
            let var = vars.iter().find(|v| v["label"] == label).unwrap();
            U256::from(var["slot"].as_str().unwrap().parse::<u64>().unwrap())
        };
        assert_eq!(
            daisee.storage[&slot("owner")],
            U256::from_be_slice(Address::repeat_byte(1).as_slice())
        );
        assert_eq!(
            daisee.storage[&slot("rate")],
            U256::from(daisee_contracts::DEFAULT_RATE_WEI_PER_WH)
        );
    }

    /// The committed genesis files hold the current contract: `genesis/dev.json` is exactly
    /// `daisee dev`'s genesis, and `genesis/bf7.json` the seed's community with the contract
    /// predeployed for its owner, rate and meters. `UPDATE_GENESIS_FILES=1` rewrites them after
    /// a contract change.
    #[test]
    fn committed_genesis_files_hold_the_current_contract() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../genesis/");
        let seed = crate::accounts::mnemonic_seed(crate::accounts::DEV_MNEMONIC);
        let keys: Vec<PrivateKey> =
            (0..10).map(|i| crate::accounts::derive_key(&seed, i).unwrap()).collect();
        let dev = community_genesis(&dev_spec(&keys, 0)).unwrap();
        let bf7 = {
            let text = std::fs::read_to_string(format!("{root}bf7.json")).unwrap();
            let mut genesis = Genesis::from_json(&text).unwrap();
            let storage = &genesis.alloc[&DAISEE_ADDRESS].storage;
            let word = |slot: U256| storage.get(&slot).copied().unwrap_or_default();
            let owner = Address::from_word(word(U256::from(6)).into());
            let rate = word(U256::from(7));
            let list = U256::from_be_bytes(
                crate::primitives::keccak256(U256::from(13).to_be_bytes::<32>()).0,
            );
            let count = word(U256::from(13)).to::<u64>();
            let meters =
                (0..count).map(|i| Address::from_word(word(list + U256::from(i)).into())).collect();
            let init = daisee_deploy_code(owner, rate, meters, 0, 0);
            let deployed = run_constructor(genesis.config.spec_at(0, 0), owner, init).unwrap();
            let account = genesis.alloc.get_mut(&DAISEE_ADDRESS).unwrap();
            (account.code, account.storage) = (deployed.code, deployed.storage);
            genesis
        };
        for (name, genesis) in [("dev.json", dev), ("bf7.json", bf7)] {
            let path = format!("{root}{name}");
            let text = serde_json::to_string_pretty(&genesis.to_json()).unwrap() + "\n";
            if std::env::var_os("UPDATE_GENESIS_FILES").is_some() {
                std::fs::write(&path, &text).unwrap();
            }
            let committed = Genesis::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert_eq!(
                committed.header().hash(),
                genesis.header().hash(),
                "{name} is out of date: rerun with UPDATE_GENESIS_FILES=1"
            );
        }
    }

    #[test]
    fn committed_genesis_files_are_what_the_command_writes() {
        for text in [include_str!("../../genesis/bf7.json"), include_str!("../../genesis/dev.json")]
        {
            let genesis = Genesis::from_json(text).unwrap();
            let again =
                Genesis::from_json(&serde_json::to_string(&genesis.to_json()).unwrap()).unwrap();
            assert_eq!(again.header().hash(), genesis.header().hash());
            assert!(genesis.config.clique.is_some());
        }
    }
}
