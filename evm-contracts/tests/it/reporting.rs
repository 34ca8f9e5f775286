//! Meters reporting production and consumption: the 2016 calls, `reportReading`, deficits.

use crate::community::{alice, bob, carol, Community, OWNER};
use alloy_primitives::{hex, Bytes, U256};
use daisee_contracts::Daisee;

#[test]
fn set_production_credits_the_meter_and_emits_prod() {
    let mut c = Community::new();
    let out = c.send(alice(), Daisee::setProductionCall { kwh: U256::from(1234) }).ok();
    assert_eq!(out.returns::<Daisee::setProductionCall>(), U256::from(1234));
    let prod = &out.events::<Daisee::Prod>()[0];
    assert_eq!((prod.producer, prod.energy), (alice(), U256::from(1234)));
    assert_eq!(c.view(alice(), Daisee::getEnergyBalanceCall {}), U256::from(1234));
    assert_eq!(c.view(bob(), Daisee::productionOfCall { account: alice() }), U256::from(1234));
}

#[test]
fn the_2016_bridge_calldata_works_byte_for_byte() {
    // Exactly what DzScripts v0.1 sent: selector ‖ uint256 amount, no ABI library involved.
    let mut c = Community::new();
    let produce = hex!("567cc2b600000000000000000000000000000000000000000000000000000000000004d2");
    let consume = hex!("298d65a100000000000000000000000000000000000000000000000000000000000000ea");
    let (to, zero) = (c.daisee, U256::ZERO);
    c.chain.send_raw(alice(), to, zero, Bytes::copy_from_slice(&produce)).ok();
    let out = c.chain.send_raw(alice(), to, zero, Bytes::copy_from_slice(&consume)).ok();
    // consumeEnergy now returns the remaining balance (the 2016 version returned nothing useful).
    assert_eq!(out.returns::<Daisee::consumeEnergyCall>(), U256::from(1000));
    // getEnergyBalance() = 0x99e1d301, read as the caller, as the 2016 DApp did.
    let raw = c.chain.view(alice(), to, Daisee::getEnergyBalanceCall {});
    assert_eq!(raw, U256::from(1000));
    assert_eq!(c.view(alice(), Daisee::getEnergyConsumptionCall {}), U256::from(234));
}

#[test]
fn consumption_beyond_the_balance_becomes_a_deficit() {
    let mut c = Community::new();
    c.produce(alice(), 1000);
    let out = c.send(alice(), Daisee::consumeEnergyCall { energy: U256::from(1001) }).ok();
    let cons = &out.events::<Daisee::Cons>()[0];
    assert_eq!((cons.consumer, cons.energy), (alice(), U256::from(1001)));
    assert_eq!(out.returns::<Daisee::consumeEnergyCall>(), U256::ZERO);
    assert_eq!(c.view(alice(), Daisee::getEnergyBalanceCall {}), U256::ZERO);
    assert_eq!(c.view(bob(), Daisee::deficitOfCall { account: alice() }), U256::from(1));
    assert_eq!(c.net(alice()), -1);
    assert_eq!(c.view(bob(), Daisee::consumptionOfCall { account: alice() }), U256::from(1001));
    // Production first pays back the deficit.
    c.produce(alice(), 10);
    assert_eq!(c.net(alice()), 9);
    assert_eq!(c.view(bob(), Daisee::deficitOfCall { account: alice() }), U256::ZERO);
    assert_eq!(c.view(bob(), Daisee::energyBalanceOfCall { account: alice() }), U256::from(9));
}

#[test]
fn report_reading_records_both_directions_once_per_interval() {
    let mut c = Community::new();
    let out = c.report(alice(), 1_700_000_100, 500, 120).ok();
    let reading = &out.events::<Daisee::Reading>()[0];
    assert_eq!(reading.meter, alice());
    assert_eq!(reading.intervalEnd, 1_700_000_100);
    assert_eq!((reading.producedWh, reading.consumedWh), (U256::from(500), U256::from(120)));
    // The meter is an indexed topic, so a dashboard can filter one household's readings.
    assert_eq!(out.logs[0].topics()[1], alice().into_word());
    assert_eq!(c.net(alice()), 380);
    assert_eq!(c.view(bob(), Daisee::productionOfCall { account: alice() }), U256::from(500));
    assert_eq!(c.view(bob(), Daisee::consumptionOfCall { account: alice() }), U256::from(120));
    assert_eq!(c.view(bob(), Daisee::lastIntervalOfCall { meter: alice() }), 1_700_000_100);

    // The same interval again (a replay) and an older one are refused; nothing changes.
    for stale_end in [1_700_000_100u64, 1_699_999_200] {
        let replay = Daisee::reportReadingCall {
            intervalEnd: stale_end,
            producedWh: U256::from(500),
            consumedWh: U256::from(120),
        };
        let err = c.send(alice(), replay).reverted_with::<Daisee::StaleReading>();
        assert_eq!(
            (err.meter, err.lastIntervalEnd, err.intervalEnd),
            (alice(), 1_700_000_100, stale_end)
        );
    }
    assert_eq!(c.net(alice()), 380);

    // Intervals are per meter: Bob's first reading may be for any past interval.
    let bobs = Daisee::reportReadingCall {
        intervalEnd: 1_600_000_200,
        producedWh: U256::ZERO,
        consumedWh: U256::from(700),
    };
    c.send(bob(), bobs).ok();
    assert_eq!(c.net(bob()), -700);
    c.report(alice(), 1_700_001_000, 1, 0).ok();
    assert_eq!(c.net(alice()), 381);
}

#[test]
fn only_meters_report() {
    let mut c = Community::new();
    let reading = Daisee::reportReadingCall {
        intervalEnd: 900,
        producedWh: U256::from(1),
        consumedWh: U256::ZERO,
    };
    let outcomes = [
        c.send(carol(), Daisee::setProductionCall { kwh: U256::from(1) }),
        c.send(carol(), Daisee::consumeEnergyCall { energy: U256::from(1) }),
        c.send(carol(), reading.clone()),
        // Not even the owner, unless registered.
        c.send(OWNER, Daisee::setProductionCall { kwh: U256::from(1) }),
    ];
    for outcome in &outcomes[..3] {
        assert_eq!(outcome.reverted_with::<Daisee::NotMeter>().account, carol());
    }
    assert_eq!(outcomes[3].reverted_with::<Daisee::NotMeter>().account, OWNER);
    // A removed meter stops reporting, but keeps its balance.
    c.produce(alice(), 50);
    c.send(OWNER, Daisee::removeMeterCall { meter: alice() }).ok();
    c.send(alice(), reading).reverted_with::<Daisee::NotMeter>();
    assert_eq!(c.net(alice()), 50);
}

#[test]
fn absurd_amounts_are_refused_not_wrapped() {
    let mut c = Community::new();
    let huge = U256::from(1) << 255;
    let err = c
        .send(alice(), Daisee::setProductionCall { kwh: huge })
        .reverted_with::<Daisee::AboveCapacity>();
    assert_eq!(err.energy, huge);
    c.send(alice(), Daisee::consumeEnergyCall { energy: huge })
        .reverted_with::<Daisee::AboveCapacity>();
    let end = c.chain.time() - c.chain.time() % crate::community::INTERVAL;
    let call =
        Daisee::reportReadingCall { intervalEnd: end, producedWh: huge, consumedWh: U256::ZERO };
    assert_eq!(c.send(bob(), call).reverted_with::<Daisee::EnergyOutOfRange>().energy, huge);
    assert_eq!(c.net(alice()), 0);
}
