//! The market agent's decisions against a scripted contract (the real chain is in the
//! integration test `settlement`): it settles a finished interval once, never one still open or
//! already settled or one whose call would revert; it tops the escrow up below half; it backs
//! off after a refusal instead of retrying every second.

use super::ledger::{Ledger, LedgerError, Refused, TxStatus};
use super::market::{MarketAgent, MarketSpec};
use crate::primitives::{Address, Bytes, PrivateKey, SignedTransaction, B256, U256};
use alloy_sol_types::{SolCall, SolValue};
use daisee_contracts::Daisee;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

const INTERVAL: u64 = 300;

#[derive(Default)]
struct Contract {
    latest: u64,
    last_of_meter: u64,
    settled: HashSet<u64>,
    reported: HashSet<u64>,
    reverts: HashSet<u64>,
    escrow: U256,
    sent: Vec<SignedTransaction>,
    status: HashMap<B256, TxStatus>,
    refuse: bool,
}

#[derive(Clone, Default)]
struct Scripted(Arc<Mutex<Contract>>);

impl Scripted {
    fn sent_calls(&self) -> Vec<Vec<u8>> {
        self.0.lock().unwrap().sent.iter().map(|t| t.tx.input.to_vec()).collect()
    }
    fn mine_all(&self) {
        let mut c = self.0.lock().unwrap();
        let hashes: Vec<B256> = c.status.keys().copied().collect();
        for h in hashes {
            c.status.insert(h, TxStatus::Included { block: 1, success: true, depth: 0 });
        }
    }
}

impl Ledger for Scripted {
    fn chain_id(&self) -> Result<u64, LedgerError> {
        Ok(7)
    }
    fn pending_nonce(&self, _: &Address) -> Result<u64, LedgerError> {
        Ok(self.0.lock().unwrap().sent.len() as u64)
    }
    fn base_fee(&self) -> Result<Option<u128>, LedgerError> {
        Ok(Some(7))
    }
    fn send(&self, raw: &[u8]) -> Result<(), Refused> {
        let mut c = self.0.lock().unwrap();
        if c.refuse {
            return Err(Refused::Other("insufficient funds".into()));
        }
        let tx = SignedTransaction::decode(raw).unwrap();
        c.status.insert(tx.hash(), TxStatus::Pending);
        c.sent.push(tx);
        Ok(())
    }
    fn status(&self, hash: &B256) -> Result<TxStatus, LedgerError> {
        Ok(self.0.lock().unwrap().status.get(hash).copied().unwrap_or(TxStatus::Unknown))
    }
    fn head_time(&self) -> Result<u64, LedgerError> {
        Ok(self.0.lock().unwrap().latest)
    }
    fn call(&self, _: Address, _: Address, input: Bytes) -> Result<(bool, Bytes), LedgerError> {
        let c = self.0.lock().unwrap();
        let ok = |v: Vec<u8>| Ok((true, Bytes::from(v)));
        let selector: [u8; 4] = input[..4].try_into().unwrap();
        match selector {
            Daisee::latestIntervalEndCall::SELECTOR => ok(c.latest.abi_encode()),
            Daisee::lastIntervalOfCall::SELECTOR => ok(c.last_of_meter.abi_encode()),
            Daisee::escrowOfCall::SELECTOR => ok(c.escrow.abi_encode()),
            Daisee::isSettledCall::SELECTOR => {
                let end = Daisee::isSettledCall::abi_decode(&input).unwrap().intervalEnd;
                ok(c.settled.contains(&end).abi_encode())
            }
            Daisee::intervalMeterCountCall::SELECTOR => {
                let end = Daisee::intervalMeterCountCall::abi_decode(&input).unwrap().intervalEnd;
                ok(U256::from(u8::from(c.reported.contains(&end))).abi_encode())
            }
            Daisee::settlesFromCall::SELECTOR => {
                let end = Daisee::settlesFromCall::abi_decode(&input).unwrap().intervalEnd;
                ok(U256::from(end + 1).abi_encode())
            }
            Daisee::settleCapacityCall::SELECTOR => ok(U256::from(2_216).abi_encode()),
            Daisee::settleCall::SELECTOR => {
                // `latest` stands for the chain's clock: an interval before it is past its grace.
                let end = Daisee::settleCall::abi_decode(&input).unwrap().intervalEnd;
                if end >= c.latest {
                    let open = Daisee::IntervalOpen { intervalEnd: end, settlesFrom: U256::ZERO };
                    return Ok((false, alloy_sol_types::SolError::abi_encode(&open).into()));
                }
                let overflow = alloy_sol_types::Panic::from(0x11u64);
                let revert = alloy_sol_types::SolError::abi_encode(&overflow);
                if c.reverts.contains(&end) {
                    return Ok((false, revert.into()));
                }
                Ok((true, Bytes::new()))
            }
            _ => {
                Err(LedgerError::BadAnswer(format!("unexpected call 0x{}", hex::encode(selector))))
            }
        }
    }
}

fn agent(escrow_wei: u64) -> (MarketAgent, PrivateKey, Scripted) {
    let spec = MarketSpec { escrow_wei: U256::from(escrow_wei), ask: None, bid: None };
    let key = PrivateKey::from_bytes(&B256::repeat_byte(9)).unwrap();
    (MarketAgent::new(spec, INTERVAL), key, Scripted::default())
}

fn settle_of(input: &[u8]) -> Option<u64> {
    Daisee::settleCall::abi_decode(input).ok().map(|c| c.intervalEnd)
}

#[test]
fn a_finished_interval_is_settled_once_and_an_open_one_never() {
    let (mut agent, key, ledger) = agent(0);
    let contract = Address::repeat_byte(0xda);
    {
        let mut c = ledger.0.lock().unwrap();
        (c.latest, c.last_of_meter) = (1_200, 1_200);
        c.reported.extend([600, 900, 1_200]);
        c.settled.insert(600);
    }
    agent.step(&ledger, &key, contract, 1_000);
    assert_eq!(ledger.sent_calls().iter().filter_map(|i| settle_of(i)).collect::<Vec<_>>(), [900]);
    // Still pending a second later: not sent again; 1,200 is still open.
    agent.step(&ledger, &key, contract, 2_000);
    assert_eq!(ledger.sent_calls().len(), 1);
    ledger.mine_all();
    ledger.0.lock().unwrap().settled.insert(900);
    ledger.0.lock().unwrap().latest = 1_500;
    agent.step(&ledger, &key, contract, 3_000);
    let settled: Vec<u64> = ledger.sent_calls().iter().filter_map(|i| settle_of(i)).collect();
    assert_eq!(settled, [900, 1_200], "1,200 once another meter reported 1,500");
    assert_eq!(agent.counters.settled, 1, "the first one was mined");
}

#[test]
fn a_settle_whose_call_reverts_is_not_sent_but_counted_and_said_once() {
    let (mut agent, key, ledger) = agent(0);
    {
        let mut c = ledger.0.lock().unwrap();
        (c.latest, c.last_of_meter) = (900, 600);
        c.reported.insert(600);
        c.reverts.insert(600);
    }
    agent.step(&ledger, &key, Address::repeat_byte(0xda), 1_000);
    assert!(ledger.sent_calls().is_empty());
    assert_eq!(agent.counters.unsettleable, 1);
    let last = agent.counters.last_unsettleable.clone().expect("the interval and why");
    assert_eq!(last.interval_end, 600);
    assert!(last.reason.starts_with("Panic(0x11)"), "{}", last.reason);
    // Looked at again a second later: counted once.
    agent.step(&ledger, &key, Address::repeat_byte(0xda), 2_000);
    assert_eq!(agent.counters.unsettleable, 1);
}

#[test]
fn the_escrow_is_topped_up_below_half_and_a_refusal_backs_off() {
    let (mut agent, key, ledger) = agent(1_000);
    let contract = Address::repeat_byte(0xda);
    ledger.0.lock().unwrap().escrow = U256::from(600);
    agent.step(&ledger, &key, contract, 1_000);
    assert!(ledger.sent_calls().is_empty(), "600 of 1,000 is above half");
    ledger.0.lock().unwrap().escrow = U256::from(400);
    ledger.0.lock().unwrap().refuse = true;
    agent.step(&ledger, &key, contract, 2_000);
    assert!(agent
        .counters
        .market_error
        .as_deref()
        .unwrap_or_default()
        .contains("insufficient funds"));
    ledger.0.lock().unwrap().refuse = false;
    agent.step(&ledger, &key, contract, 3_000);
    assert!(ledger.sent_calls().is_empty(), "waits 30 s after a refusal");
    agent.step(&ledger, &key, contract, 32_000);
    let sent = ledger.0.lock().unwrap().sent.clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].tx.input.as_ref(), Daisee::depositCall {}.abi_encode().as_slice());
    assert_eq!(sent[0].tx.value, U256::from(600), "back up to 1,000");
}

#[test]
fn an_interval_that_cannot_be_settled_is_told_from_the_normal_answers() {
    use super::market::cannot_settle;
    use alloy_sol_types::{Panic, PanicKind, SolError};
    let normal = [
        Daisee::IntervalOpen { intervalEnd: 900, settlesFrom: U256::from(1800) }.abi_encode(),
        Daisee::AlreadySettled { intervalEnd: 900 }.abi_encode(),
        Daisee::NoReadings { intervalEnd: 900 }.abi_encode(),
    ];
    for revert in normal {
        assert_eq!(cannot_settle(&revert), None);
    }
    // What the first version's frozen market answered: negating int256.min.
    let overflow = Panic::from(PanicKind::UnderOverflow as u64).abi_encode();
    let why = cannot_settle(&overflow).expect("a failure");
    assert!(why.starts_with("Panic(0x11)"), "{why}");
    let escrow = Daisee::InsufficientEscrow { available: U256::ZERO, requested: U256::from(1) };
    assert!(cannot_settle(&escrow.abi_encode()).unwrap().contains("InsufficientEscrow"));
    assert!(cannot_settle(&[]).unwrap().contains("without a reason"));
    assert!(cannot_settle(&[1, 2, 3]).unwrap().contains("0x010203"));
}
