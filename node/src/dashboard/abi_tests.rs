//! The dashboard writes the Daisee contract's selectors, event topics and error selectors out
//! by hand (the page has no keccak): each one must be the contract's.

use alloy_sol_types::{SolCall, SolError, SolEvent};
use daisee_contracts::Daisee;
use std::collections::BTreeMap;

const ABI_JS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/dashboard/abi.js"));

/// `name: '0x…'` entries of `export const <block> = { … };` in abi.js.
fn entries(block: &str) -> BTreeMap<String, String> {
    let start = ABI_JS.find(&format!("export const {block} = {{")).expect("block in abi.js");
    let body = &ABI_JS[start..];
    let body = &body[..body.find("};").expect("end of block")];
    body.lines()
        .filter_map(|line| {
            let (name, value) = line.trim().split_once(": '")?;
            Some((name.to_string(), value.trim_end_matches("',").to_string()))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

#[test]
fn function_selectors_are_the_contracts() {
    let written = entries("SELECTORS");
    let expected: BTreeMap<String, String> = [
        ("getMeters", Daisee::getMetersCall::SELECTOR),
        ("getRate", Daisee::getRateCall::SELECTOR),
        ("productionOf", Daisee::productionOfCall::SELECTOR),
        ("consumptionOf", Daisee::consumptionOfCall::SELECTOR),
        ("netBalanceOf", Daisee::netBalanceOfCall::SELECTOR),
        ("lastIntervalOf", Daisee::lastIntervalOfCall::SELECTOR),
        ("escrowOf", Daisee::escrowOfCall::SELECTOR),
        ("buyEnergy", Daisee::buyEnergyCall::SELECTOR),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_string(), hex(&s)))
    .collect();
    assert_eq!(written, expected);
}

#[test]
fn event_topics_are_the_contracts() {
    let written = entries("TOPICS");
    let expected: BTreeMap<String, String> = [
        ("Reading", Daisee::Reading::SIGNATURE_HASH),
        ("Buy", Daisee::Buy::SIGNATURE_HASH),
        ("RateChanged", Daisee::RateChanged::SIGNATURE_HASH),
        ("Matched", Daisee::Matched::SIGNATURE_HASH),
        ("MeterAdded", Daisee::MeterAdded::SIGNATURE_HASH),
        ("MeterRemoved", Daisee::MeterRemoved::SIGNATURE_HASH),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_string(), hex(s.as_slice())))
    .collect();
    assert_eq!(written, expected);
}

#[test]
fn error_selectors_are_the_contracts() {
    let written = entries("ERRORS");
    let expected: BTreeMap<String, String> = [
        ("InsufficientEnergy", Daisee::InsufficientEnergy::SELECTOR),
        ("InsufficientPayment", Daisee::InsufficientPayment::SELECTOR),
        ("NotMeter", Daisee::NotMeter::SELECTOR),
        ("ZeroEnergy", Daisee::ZeroEnergy::SELECTOR),
        ("PaymentFailed", Daisee::PaymentFailed::SELECTOR),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_string(), hex(&s)))
    .collect();
    assert_eq!(written, expected);
}

#[test]
fn the_contract_address_is_the_genesis_one() {
    let line = ABI_JS.lines().find(|l| l.starts_with("export const DAISEE =")).expect("DAISEE");
    let written = line.split('\'').nth(1).expect("quoted address");
    assert_eq!(written, crate::community::DAISEE_ADDRESS.to_string().to_lowercase());
}
