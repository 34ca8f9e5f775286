//! Construction and administration: owner, rate, meter registry.

use crate::community::{alice, bob, carol, Community, OWNER};
use crate::harness::{account, Chain};
use alloy_primitives::{Address, U256};
use daisee_contracts::{daisee_deploy_code, Daisee, DEFAULT_RATE_WEI_PER_WH};

#[test]
fn constructor_sets_owner_rate_and_meters_and_says_so() {
    let mut chain = Chain::new();
    let deployer = account(1);
    let community = account(2);
    let code = daisee_deploy_code(community, U256::from(42), vec![alice(), bob()], 0, 0);
    let daisee = chain.deploy(deployer, code);

    assert_eq!(chain.view(carol(), daisee, Daisee::ownerCall {}), community);
    assert_eq!(chain.view(carol(), daisee, Daisee::rateCall {}), U256::from(42));
    assert_eq!(chain.view(carol(), daisee, Daisee::getRateCall {}), U256::from(42));
    assert_eq!(chain.view(carol(), daisee, Daisee::getMetersCall {}), vec![alice(), bob()]);
    assert!(chain.view(carol(), daisee, Daisee::isMeterCall { account: alice() }));
    assert!(!chain.view(carol(), daisee, Daisee::isMeterCall { account: carol() }));
}

#[test]
fn constructor_defaults_to_the_deployer_and_15_szabo_per_wh() {
    let mut c = Community::new();
    assert_eq!(c.view(carol(), Daisee::ownerCall {}), OWNER);
    assert_eq!(c.view(carol(), Daisee::rateCall {}), U256::from(DEFAULT_RATE_WEI_PER_WH));
    // 15 finney per kWh, as the 2016 contract's getRate() said.
    let per_kwh = U256::from(DEFAULT_RATE_WEI_PER_WH) * U256::from(1000);
    assert_eq!(per_kwh, U256::from(15_000_000_000_000_000u64));
    assert_eq!(c.view(carol(), Daisee::DEFAULT_RATECall {}), U256::from(DEFAULT_RATE_WEI_PER_WH));
}

#[test]
fn constructor_rejects_a_duplicate_or_zero_meter() {
    let mut chain = Chain::new();
    let dup = daisee_deploy_code(Address::ZERO, U256::ZERO, vec![alice(), alice()], 0, 0);
    let outcome = chain.create(OWNER, dup);
    assert_eq!(outcome.reverted_with::<Daisee::AlreadyMeter>().account, alice());
    let zero = daisee_deploy_code(Address::ZERO, U256::ZERO, vec![Address::ZERO], 0, 0);
    chain.create(OWNER, zero).reverted_with::<Daisee::ZeroAddress>();
}

#[test]
fn owner_adds_and_removes_meters_with_events() {
    let mut c = Community::new();
    let added = c.send(OWNER, Daisee::addMeterCall { meter: carol() }).ok();
    assert_eq!(added.events::<Daisee::MeterAdded>()[0].meter, carol());
    assert!(c.view(OWNER, Daisee::isMeterCall { account: carol() }));
    assert_eq!(c.view(OWNER, Daisee::getMetersCall {}), vec![alice(), bob(), carol()]);

    let removed = c.send(OWNER, Daisee::removeMeterCall { meter: alice() }).ok();
    assert_eq!(removed.events::<Daisee::MeterRemoved>()[0].meter, alice());
    assert!(!c.view(OWNER, Daisee::isMeterCall { account: alice() }));
    // The last meter takes the removed one's place.
    assert_eq!(c.view(OWNER, Daisee::getMetersCall {}), vec![carol(), bob()]);
    // A removed meter can be registered again.
    c.send(OWNER, Daisee::addMeterCall { meter: alice() }).ok();
    assert_eq!(c.view(OWNER, Daisee::getMetersCall {}), vec![carol(), bob(), alice()]);
}

#[test]
fn meter_registry_rejects_mistakes() {
    let mut c = Community::new();
    let dup = c.send(OWNER, Daisee::addMeterCall { meter: alice() });
    assert_eq!(dup.reverted_with::<Daisee::AlreadyMeter>().account, alice());
    c.send(OWNER, Daisee::addMeterCall { meter: Address::ZERO })
        .reverted_with::<Daisee::ZeroAddress>();
    let missing = c.send(OWNER, Daisee::removeMeterCall { meter: carol() });
    assert_eq!(missing.reverted_with::<Daisee::NotMeter>().account, carol());
}

#[test]
fn only_the_owner_administers() {
    let mut c = Community::new();
    let calls: Vec<crate::harness::Outcome> = vec![
        c.send(alice(), Daisee::addMeterCall { meter: carol() }),
        c.send(alice(), Daisee::removeMeterCall { meter: bob() }),
        c.send(alice(), Daisee::setRateCall { newRate: U256::from(1) }),
        c.send(alice(), Daisee::transferOwnershipCall { newOwner: alice() }),
        c.send(alice(), Daisee::setCapacityCall { meter: alice(), watts: U256::from(1) }),
        c.send(alice(), Daisee::setTimingCall { intervalSeconds_: 60, graceSeconds_: 60 }),
    ];
    for outcome in calls {
        assert_eq!(outcome.reverted_with::<Daisee::NotOwner>().caller, alice());
    }
    assert_eq!(c.view(carol(), Daisee::ownerCall {}), OWNER);
    assert!(c.view(carol(), Daisee::isMeterCall { account: bob() }));
}

#[test]
fn set_rate_emits_old_and_new_rate() {
    let mut c = Community::new();
    let out =
        c.send(OWNER, Daisee::setRateCall { newRate: U256::from(20_000_000_000_000u64) }).ok();
    let ev = &out.events::<Daisee::RateChanged>()[0];
    assert_eq!(ev.previousRate, U256::from(DEFAULT_RATE_WEI_PER_WH));
    assert_eq!(ev.newRate, U256::from(20_000_000_000_000u64));
    assert_eq!(c.view(carol(), Daisee::getRateCall {}), U256::from(20_000_000_000_000u64));
}

#[test]
fn ownership_moves_and_the_old_owner_loses_it() {
    let mut c = Community::new();
    let out = c.send(OWNER, Daisee::transferOwnershipCall { newOwner: carol() }).ok();
    let ev = &out.events::<Daisee::OwnershipTransferStarted>()[0];
    assert_eq!((ev.previousOwner, ev.newOwner), (OWNER, carol()));
    // Two steps: nothing moves until the new owner accepts, and nobody else can accept.
    assert_eq!(c.view(carol(), Daisee::ownerCall {}), OWNER);
    assert_eq!(c.view(carol(), Daisee::pendingOwnerCall {}), carol());
    let err = c.send(alice(), Daisee::acceptOwnershipCall {});
    assert_eq!(err.reverted_with::<Daisee::NotPendingOwner>().caller, alice());
    let out = c.send(carol(), Daisee::acceptOwnershipCall {}).ok();
    let ev = &out.events::<Daisee::OwnershipTransferred>()[0];
    assert_eq!((ev.previousOwner, ev.newOwner), (OWNER, carol()));
    assert_eq!(c.view(carol(), Daisee::pendingOwnerCall {}), Address::ZERO);
    c.send(OWNER, Daisee::setRateCall { newRate: U256::from(1) })
        .reverted_with::<Daisee::NotOwner>();
    c.send(carol(), Daisee::setRateCall { newRate: U256::from(1) }).ok();
    c.send(carol(), Daisee::transferOwnershipCall { newOwner: Address::ZERO })
        .reverted_with::<Daisee::ZeroAddress>();
}

#[test]
fn timing_and_capacity_are_set_within_bounds() {
    let mut c = Community::new();
    assert_eq!(c.view(carol(), Daisee::intervalSecondsCall {}), 900);
    assert_eq!(c.view(carol(), Daisee::graceSecondsCall {}), 900, "one interval by default");
    assert_eq!(c.view(carol(), Daisee::capacityOfCall { meter: alice() }), U256::from(36_000));
    for (interval, grace) in [(0, 60), (60, 0), (86_401, 60), (60, 7 * 86_400 + 1)] {
        let out = c.send(
            OWNER,
            Daisee::setTimingCall { intervalSeconds_: interval, graceSeconds_: grace },
        );
        let err = out.reverted_with::<Daisee::InvalidTiming>();
        assert_eq!((err.intervalSeconds, err.graceSeconds), (interval, grace));
    }
    let out =
        c.send(OWNER, Daisee::setTimingCall { intervalSeconds_: 300, graceSeconds_: 600 }).ok();
    let ev = &out.events::<Daisee::TimingChanged>()[0];
    assert_eq!((ev.intervalSeconds, ev.graceSeconds), (300, 600));
    for watts in [U256::ZERO, U256::from(1u64 << 32)] {
        let out = c.send(OWNER, Daisee::setCapacityCall { meter: alice(), watts });
        assert_eq!(out.reverted_with::<Daisee::InvalidCapacity>().watts, watts);
    }
    let out = c.send(OWNER, Daisee::setCapacityCall { meter: carol(), watts: U256::from(1) });
    assert_eq!(out.reverted_with::<Daisee::NotMeter>().account, carol());
    c.send(OWNER, Daisee::setCapacityCall { meter: alice(), watts: U256::from(7_200) }).ok();
    assert_eq!(c.view(carol(), Daisee::capacityOfCall { meter: alice() }), U256::from(7_200));
    // Removing a meter forgets its capacity: registered again, it has the default.
    c.send(OWNER, Daisee::removeMeterCall { meter: alice() }).ok();
    c.send(OWNER, Daisee::addMeterCall { meter: alice() }).ok();
    assert_eq!(c.view(carol(), Daisee::capacityOfCall { meter: alice() }), U256::from(36_000));
}
