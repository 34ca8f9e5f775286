//! Buying a meter's surplus: exact payment, refunds, deficits, and hostile sellers.

use crate::community::{alice, bob, carol, Community, OWNER};
use crate::harness::ether;
use alloy_primitives::{Address, U256};
use alloy_sol_types::SolError;
use daisee_contracts::{Daisee, ReentrantSeller, DEFAULT_RATE_WEI_PER_WH};

fn price(wh: u64) -> U256 {
    U256::from(wh) * U256::from(DEFAULT_RATE_WEI_PER_WH)
}

fn buy(wh: u64, seller: Address) -> Daisee::buyEnergyCall {
    Daisee::buyEnergyCall { seller, energy: U256::from(wh) }
}

#[test]
fn buying_pays_the_seller_exactly_and_refunds_the_rest() {
    let mut c = Community::new();
    c.produce(alice(), 1000);
    let (carol_before, alice_before) = (c.chain.balance(carol()), c.chain.balance(alice()));
    let overpaid = price(400) + ether(1);
    let out = c.chain.send(carol(), c.daisee, overpaid, buy(400, alice())).ok();
    assert!(out.returns::<Daisee::buyEnergyCall>());

    // Gas is free in these tests (base fee 0, price 0): balances move by the trade alone.
    assert_eq!(c.chain.balance(alice()) - alice_before, price(400));
    assert_eq!(carol_before - c.chain.balance(carol()), price(400));
    assert_eq!(c.chain.balance(c.daisee), U256::ZERO, "the contract keeps no ether");

    let ev = &out.events::<Daisee::Buy>()[0];
    assert_eq!((ev.buyer, ev.seller, ev.energy), (carol(), alice(), U256::from(400)));
    assert_eq!(c.net(alice()), 600);
    assert_eq!(c.net(carol()), 400);
    assert_eq!(c.view(carol(), Daisee::getEnergyBalanceCall {}), U256::from(400));
}

#[test]
fn buying_covers_the_buyers_deficit_first() {
    let mut c = Community::new();
    c.produce(alice(), 1000);
    c.send(bob(), Daisee::consumeEnergyCall { energy: U256::from(300) }).ok();
    assert_eq!(c.view(OWNER, Daisee::deficitOfCall { account: bob() }), U256::from(300));
    c.chain.send(bob(), c.daisee, price(500), buy(500, alice())).ok();
    assert_eq!(c.view(OWNER, Daisee::deficitOfCall { account: bob() }), U256::ZERO);
    assert_eq!(c.view(bob(), Daisee::getEnergyBalanceCall {}), U256::from(200));
    assert_eq!(c.net(alice()), 500);
}

#[test]
fn underpaying_is_refused_and_nothing_moves() {
    let mut c = Community::new();
    c.produce(alice(), 1000);
    let before = c.chain.balance(carol());
    let out = c.chain.send(carol(), c.daisee, price(10) - U256::from(1), buy(10, alice()));
    let err = out.reverted_with::<Daisee::InsufficientPayment>();
    assert_eq!((err.required, err.sent), (price(10), price(10) - U256::from(1)));
    assert_eq!(c.chain.balance(carol()), before);
    assert_eq!(c.net(alice()), 1000);
}

#[test]
fn a_seller_cannot_sell_more_than_its_surplus() {
    let mut c = Community::new();
    c.produce(alice(), 100);
    let out = c.chain.send(carol(), c.daisee, price(101), buy(101, alice()));
    let err = out.reverted_with::<Daisee::InsufficientEnergy>();
    assert_eq!(
        (err.seller, err.available, err.requested),
        (alice(), U256::from(100), U256::from(101))
    );
    // A meter in deficit has nothing to sell.
    c.send(bob(), Daisee::consumeEnergyCall { energy: U256::from(5) }).ok();
    let err = c
        .chain
        .send(carol(), c.daisee, price(1), buy(1, bob()))
        .reverted_with::<Daisee::InsufficientEnergy>();
    assert_eq!(err.available, U256::ZERO);
}

#[test]
fn only_meters_sell_and_zero_is_not_a_purchase() {
    let mut c = Community::new();
    let err = c
        .chain
        .send(alice(), c.daisee, price(1), buy(1, carol()))
        .reverted_with::<Daisee::NotMeter>();
    assert_eq!(err.account, carol());
    c.produce(alice(), 10);
    c.chain
        .send(carol(), c.daisee, U256::ZERO, buy(0, alice()))
        .reverted_with::<Daisee::ZeroEnergy>();
}

#[test]
fn a_rate_of_zero_or_beyond_max_price_is_refused() {
    // A free rate would give every surplus away (every ask following the rate): refused.
    let mut c = Community::new();
    for bad in [U256::ZERO, U256::from(u128::MAX), U256::MAX] {
        let out = c.send(OWNER, Daisee::setRateCall { newRate: bad });
        assert_eq!(out.reverted_with::<Daisee::InvalidPrice>().weiPerWh, bad);
    }
    let max = c.view(OWNER, Daisee::MAX_PRICECall {});
    c.send(OWNER, Daisee::setRateCall { newRate: max }).ok();
}

#[test]
fn buying_pays_the_sellers_ask_not_the_rate() {
    let mut c = Community::new();
    c.produce(alice(), 100);
    let ask = U256::from(DEFAULT_RATE_WEI_PER_WH * 2);
    c.send(alice(), Daisee::setAskCall { weiPerWh: ask }).ok();
    // At the rate: refused, the seller asks twice as much.
    let out = c.chain.send(carol(), c.daisee, price(10), buy(10, alice()));
    assert_eq!(out.reverted_with::<Daisee::InsufficientPayment>().required, ask * U256::from(10));
    let before = c.chain.balance(alice());
    c.chain.send(carol(), c.daisee, ask * U256::from(10), buy(10, alice())).ok();
    assert_eq!(c.chain.balance(alice()) - before, ask * U256::from(10));
    // A seller that sells nothing opts out of buyEnergy altogether.
    let not_for_sale = c.view(OWNER, Daisee::NOT_FOR_SALECall {});
    c.send(alice(), Daisee::setAskCall { weiPerWh: not_for_sale }).ok();
    let out = c.chain.send(carol(), c.daisee, ether(1), buy(1, alice()));
    assert_eq!(out.reverted_with::<Daisee::NotForSale>().seller, alice());
    assert_eq!(c.net(alice()), 90);
}

/// Deploys the hostile seller, registers it as a meter and lets it produce `wh`.
fn hostile_seller(c: &mut Community, wh: u64) -> Address {
    let code = [ReentrantSeller::BYTECODE.as_ref(), c.daisee.into_word().as_slice()].concat();
    let seller = c.chain.deploy(OWNER, code.into());
    c.send(OWNER, Daisee::addMeterCall { meter: seller }).ok();
    c.chain
        .send(OWNER, seller, U256::ZERO, ReentrantSeller::produceCall { wh: U256::from(wh) })
        .ok();
    seller
}

#[test]
fn a_reentering_seller_cannot_sell_the_same_energy_twice() {
    let mut c = Community::new();
    let seller = hostile_seller(&mut c, 100);
    let resell = ReentrantSeller::setResellEnergyCall { wh: U256::from(100) };
    c.chain.send(OWNER, seller, U256::ZERO, resell).ok();

    c.chain.send(carol(), c.daisee, price(100), buy(100, seller)).ok();

    // The seller's receive() tried to re-enter buyEnergy with the payment...
    assert!(c.chain.view(OWNER, seller, ReentrantSeller::reenteredCall {}));
    assert!(!c.chain.view(OWNER, seller, ReentrantSeller::reentrySucceededCall {}));
    // ...and found the energy already gone, because it moves before the ether does.
    let data = c.chain.view(OWNER, seller, ReentrantSeller::reentryErrorCall {});
    let err = Daisee::InsufficientEnergy::abi_decode(&data).expect("InsufficientEnergy");
    assert_eq!((err.seller, err.available, err.requested), (seller, U256::ZERO, U256::from(100)));
    // Energy is conserved: the buyer has it all, the seller none; the seller kept the payment.
    assert_eq!(c.net(carol()), 100);
    assert_eq!(c.net(seller), 0);
    assert_eq!(c.chain.balance(seller), price(100));
}

#[test]
fn a_seller_refusing_payment_makes_the_purchase_fail_whole() {
    let mut c = Community::new();
    let seller = hostile_seller(&mut c, 100);
    c.chain.send(OWNER, seller, U256::ZERO, ReentrantSeller::setRefuseCall { refuse_: true }).ok();
    let before = c.chain.balance(carol());
    let err = c
        .chain
        .send(carol(), c.daisee, price(10), buy(10, seller))
        .reverted_with::<Daisee::PaymentFailed>();
    assert_eq!((err.to, err.amount), (seller, price(10)));
    assert_eq!(c.chain.balance(carol()), before);
    assert_eq!(c.net(seller), 100);
    assert_eq!(c.net(carol()), 0);
}
