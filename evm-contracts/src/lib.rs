//! The Daisee energy contract for Rust: typed call encoders and decoders generated from the
//! committed solc artifact (`out/Daisee.json`), its creation and runtime bytecode, and the
//! constructor encoding the node uses to predeploy the contract in a genesis.
//!
//! The artifacts are produced by `npm --prefix evm-contracts run build` with the solc version
//! pinned in `package.json`; the test command fails if they no longer match the sources, so
//! building Rust never needs Node.js.

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::SolConstructor;

#[allow(missing_docs)]
mod bindings {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Daisee,
        "out/Daisee.json"
    );
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        ReentrantSeller,
        "out/ReentrantSeller.json"
    );
}

pub use bindings::{Daisee, ReentrantSeller};

/// The solc artifact of the Daisee contract, as committed (JSON).
pub const DAISEE_ARTIFACT: &str = include_str!("../out/Daisee.json");

/// The default price of energy: 15 szabo per Wh, i.e. the 2016 contract's 15 finney per kWh.
pub const DEFAULT_RATE_WEI_PER_WH: u64 = 15_000_000_000_000;

/// The contract's default interval: 15 minutes, the EU's settlement period.
pub const DEFAULT_INTERVAL_S: u64 = 900;

/// The contract's default capacity of a meter, W (36 kVA).
pub const DEFAULT_CAPACITY_W: u64 = 36_000;

/// Creation code of Daisee followed by its ABI-encoded constructor arguments: the `data` of a
/// deployment transaction, or what the node runs to predeploy the contract in a genesis.
///
/// `owner` zero means the deployer; `rate` zero means [`DEFAULT_RATE_WEI_PER_WH`];
/// `interval_s` is the community's interval (readings' ends are multiples of it; zero means
/// [`DEFAULT_INTERVAL_S`]); an interval's market takes readings for `grace_s` after its end
/// (zero: one interval).
pub fn daisee_deploy_code(
    owner: Address,
    rate: U256,
    meters: Vec<Address>,
    interval_s: u64,
    grace_s: u64,
) -> Bytes {
    let args = Daisee::constructorCall {
        owner_: owner,
        rate_: rate,
        meters_: meters,
        intervalSeconds_: interval_s,
        graceSeconds_: grace_s,
    };
    let mut code = Daisee::BYTECODE.to_vec();
    code.extend_from_slice(&args.abi_encode());
    code.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;
    use alloy_sol_types::{SolCall, SolEvent};

    #[test]
    fn published_selectors_are_kept() {
        assert_eq!(Daisee::setProductionCall::SELECTOR, [0x56, 0x7c, 0xc2, 0xb6]);
        assert_eq!(Daisee::consumeEnergyCall::SELECTOR, [0x29, 0x8d, 0x65, 0xa1]);
        assert_eq!(Daisee::buyEnergyCall::SELECTOR, [0x36, 0xfd, 0x7e, 0x1b]);
        assert_eq!(Daisee::getEnergyBalanceCall::SELECTOR, [0x99, 0xe1, 0xd3, 0x01]);
        assert_eq!(Daisee::getEnergyConsumptionCall::SELECTOR, [0x13, 0xa5, 0x9e, 0x38]);
        assert_eq!(Daisee::getRateCall::SELECTOR, [0x67, 0x9a, 0xef, 0xce]);
        assert_eq!(Daisee::rateCall::SELECTOR, [0x2c, 0x4e, 0x72, 0x2e]);
        assert_eq!(Daisee::ownerCall::SELECTOR, [0x8d, 0xa5, 0xcb, 0x5b]);
    }

    #[test]
    fn published_event_topics_are_kept() {
        assert_eq!(Daisee::Prod::SIGNATURE_HASH, keccak256("Prod(address,uint256)"));
        assert_eq!(Daisee::Cons::SIGNATURE_HASH, keccak256("Cons(address,uint256)"));
        assert_eq!(Daisee::Buy::SIGNATURE_HASH, keccak256("Buy(address,address,uint256)"));
        assert_eq!(
            Daisee::Reading::SIGNATURE_HASH,
            keccak256("Reading(address,uint64,uint256,uint256)")
        );
    }

    #[test]
    fn artifact_lists_the_published_method_identifiers() {
        assert!(DAISEE_ARTIFACT.contains(r#""setProduction(uint256)": "567cc2b6""#));
        assert!(DAISEE_ARTIFACT.contains(r#""consumeEnergy(uint256)": "298d65a1""#));
    }

    #[test]
    fn deploy_code_is_creation_code_then_arguments() {
        let code =
            daisee_deploy_code(Address::ZERO, U256::ZERO, vec![Address::repeat_byte(7)], 900, 0);
        assert!(code.starts_with(&Daisee::BYTECODE));
        // owner, rate, offset, interval, grace, length, one address: seven words.
        assert_eq!(code.len(), Daisee::BYTECODE.len() + 7 * 32);
    }

    /// The first version's variables keep their slots: a chain upgrade that replaces the code
    /// in place finds every balance, escrow, meter and pending interval where it left them.
    #[test]
    fn the_first_versions_storage_slots_are_kept() {
        let artifact: serde_json::Value = serde_json::from_str(DAISEE_ARTIFACT).unwrap();
        let storage = artifact["storageLayout"]["storage"].as_array().unwrap();
        let slot = |label: &str| {
            let v = storage.iter().find(|v| v["label"] == label).unwrap();
            (v["slot"].as_str().unwrap().parse::<u32>().unwrap(), v["offset"].as_u64().unwrap())
        };
        let first_version = [
            "latestIntervalEnd",
            "intervalReadings",
            "settledIntervals",
            "escrow",
            "asks",
            "bids",
            "owner",
            "rate",
            "net",
            "produced",
            "consumed",
            "lastInterval",
            "meterSlot",
            "meterList",
        ];
        for (i, label) in first_version.iter().enumerate() {
            assert_eq!(slot(label), (i as u32, 0), "{label}");
        }
        assert!(slot("meterInfo").0 >= 14, "new state comes after the first version's");
    }
}
