//! The sender's decisions against a scripted ledger (the real chains are in the integration
//! tests): a signed transaction is recorded before it is sent; a dropped one is re-sent as is; a
//! stale nonce is re-signed; a revert keeps the reading and waits; only a confirmed inclusion
//! empties the outbox.

use super::interval::Reading;
use super::ledger::{Ledger, LedgerError, Refused, TxStatus};
use super::outbox::{Abi, Outbox};
use super::sender::{Sender, CONFIRMATIONS, RETRY_MS};
use super::MeterState;
use crate::primitives::{Address, Bytes, PrivateKey, SignedTransaction, B256, U256};
use crate::state::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Script {
    sent: Vec<SignedTransaction>,
    status: HashMap<B256, TxStatus>,
    refuse_next: Option<Refused>,
    nonce: u64,
    /// What every call returns (default: one zero word).
    answer: Option<Vec<u8>>,
}

#[derive(Clone, Default)]
struct Scripted(Arc<Mutex<Script>>);

impl Ledger for Scripted {
    fn chain_id(&self) -> Result<u64, LedgerError> {
        Ok(7)
    }
    fn pending_nonce(&self, _: &Address) -> Result<u64, LedgerError> {
        Ok(self.0.lock().unwrap().nonce)
    }
    fn base_fee(&self) -> Result<Option<u128>, LedgerError> {
        Ok(Some(7))
    }
    fn send(&self, raw: &[u8]) -> Result<(), Refused> {
        let mut s = self.0.lock().unwrap();
        if let Some(r) = s.refuse_next.take() {
            return Err(r);
        }
        let tx = SignedTransaction::decode(raw).unwrap();
        s.status.insert(tx.hash(), TxStatus::Pending);
        s.nonce = s.nonce.max(tx.tx.nonce + 1);
        s.sent.push(tx);
        Ok(())
    }
    fn status(&self, hash: &B256) -> Result<TxStatus, LedgerError> {
        Ok(self.0.lock().unwrap().status.get(hash).copied().unwrap_or(TxStatus::Unknown))
    }
    fn head_time(&self) -> Result<u64, LedgerError> {
        Ok(0)
    }
    fn call(&self, _: Address, _: Address, _: Bytes) -> Result<(bool, Bytes), LedgerError> {
        let answer = self.0.lock().unwrap().answer.clone();
        Ok((true, Bytes::from(answer.unwrap_or_else(|| vec![0u8; 32]))))
    }
}

fn setup() -> (Outbox, Sender, Scripted) {
    let key = PrivateKey::from_bytes(&B256::repeat_byte(9)).unwrap();
    let outbox = Outbox::new(Store::temporary().unwrap(), key.address());
    let ledger = Scripted::default();
    let sender = Sender::new(Box::new(ledger.clone()), key, Address::repeat_byte(0xda));
    let readings =
        [60, 120].map(|end| Reading { interval_end: end, produced_wh: 5, consumed_wh: 3 });
    outbox.save(&MeterState::default(), &readings, Abi::V2).unwrap();
    (outbox, sender, ledger)
}

fn set(ledger: &Scripted, tx: &SignedTransaction, status: TxStatus) {
    ledger.0.lock().unwrap().status.insert(tx.hash(), status);
}

#[test]
fn readings_are_signed_in_order_and_leave_only_when_confirmed() {
    let (outbox, mut sender, ledger) = setup();
    sender.step(&outbox, 0).unwrap();
    let sent = ledger.0.lock().unwrap().sent.clone();
    assert_eq!(sent.iter().map(|t| t.tx.nonce).collect::<Vec<_>>(), [0, 1]);
    let recorded = outbox.entries().unwrap();
    assert_eq!(recorded[0].tx_hash, Some(sent[0].hash()), "recorded before sending");

    set(&ledger, &sent[0], TxStatus::Included { block: 1, success: true, depth: 0 });
    sender.step(&outbox, 0).unwrap();
    assert_eq!(outbox.entries().unwrap().len(), 2, "not deep enough yet");
    set(&ledger, &sent[0], TxStatus::Included { block: 1, success: true, depth: CONFIRMATIONS });
    sender.step(&outbox, 0).unwrap();
    assert_eq!(outbox.entries().unwrap().len(), 1);
    assert_eq!(sender.counters.confirmed, 1);
    assert_eq!(ledger.0.lock().unwrap().sent.len(), 2, "nothing signed twice");
}

#[test]
fn a_dropped_transaction_is_sent_again_unchanged_and_a_stale_nonce_is_re_signed() {
    let (outbox, mut sender, ledger) = setup();
    sender.step(&outbox, 0).unwrap();
    let first = ledger.0.lock().unwrap().sent[0].clone();
    // A reorg dropped both: they are re-sent byte for byte.
    ledger.0.lock().unwrap().status.clear();
    sender.step(&outbox, 0).unwrap();
    let sent = ledger.0.lock().unwrap().sent.clone();
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[2].hash(), first.hash());
    assert_eq!(sender.counters.resent, 2);

    // Someone else used the nonce meanwhile: the reading is signed again with a fresh one.
    ledger.0.lock().unwrap().status.clear();
    ledger.0.lock().unwrap().refuse_next = Some(Refused::NonceTooLow);
    sender.step(&outbox, 0).unwrap();
    let sent = ledger.0.lock().unwrap().sent.clone();
    assert_ne!(sent[4].hash(), first.hash());
    assert_eq!(sent[4].tx.nonce, 2);
}

#[test]
fn a_revert_keeps_the_reading_and_retries_after_a_while() {
    let (outbox, mut sender, ledger) = setup();
    sender.step(&outbox, 0).unwrap();
    let first = ledger.0.lock().unwrap().sent[0].clone();
    set(&ledger, &first, TxStatus::Included { block: 1, success: false, depth: 5 });
    sender.step(&outbox, 1_000).unwrap();
    assert_eq!(sender.counters.reverts, 1);
    let entries = outbox.entries().unwrap();
    assert_eq!(entries.len(), 2, "the reading stays");
    assert!(entries[0].last_error.as_deref().unwrap().starts_with("reverted"));
    assert_eq!(entries[0].tx_hash, None);
    let before = ledger.0.lock().unwrap().sent.len();
    sender.step(&outbox, 1_000 + RETRY_MS - 1).unwrap();
    assert_eq!(ledger.0.lock().unwrap().sent.len(), before, "waits before retrying");
    sender.step(&outbox, 1_000 + RETRY_MS).unwrap();
    assert_eq!(ledger.0.lock().unwrap().sent.len(), before + 1);
}

#[test]
fn the_community_interval_is_taken_only_within_the_contracts_bounds() {
    let ledger = Scripted::default();
    let ask = |answer: Vec<u8>| {
        ledger.0.lock().unwrap().answer = Some(answer);
        super::sender::community_interval(&ledger, Address::repeat_byte(0xda), Address::ZERO)
    };
    let word = |n: u64| U256::from(n).to_be_bytes::<32>().to_vec();
    assert_eq!(ask(word(900)), Some(900));
    // Zero (a division by zero in the meter), more than a day, garbage: the configured one stays.
    assert_eq!(ask(word(0)), None);
    assert_eq!(ask(word(86_401)), None);
    assert_eq!(ask(vec![1, 2, 3]), None);
    assert_eq!(ask(U256::MAX.to_be_bytes::<32>().to_vec()), None);
}
