//! Sender recovery for a block: the floor of import (one secp256k1 public-key recovery per
//! transaction), spread over the machine's cores for blocks large enough to pay for the threads.
//! [`with_senders`] overlaps it with execution: helper threads recover ahead while the caller
//! executes in order, and the caller recovers itself whenever it catches up with them.

use crate::primitives::{Address, SignedTransaction};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Below this many transactions a block is recovered on the calling thread.
const PARALLEL_FROM: usize = 32;

/// Every transaction's sender, in order, on up to `threads` threads; the first failure is
/// returned with its index.
pub fn recover_senders(
    txs: &[SignedTransaction],
    threads: usize,
) -> Result<Vec<Address>, (usize, String)> {
    let recover = |offset: usize, chunk: &[SignedTransaction]| {
        chunk
            .iter()
            .enumerate()
            .map(|(i, tx)| tx.recover_sender().map_err(|e| (offset + i, e.to_string())))
            .collect::<Result<Vec<_>, _>>()
    };
    let threads = threads.max(1);
    if threads == 1 || txs.len() < PARALLEL_FROM {
        return recover(0, txs);
    }
    let size = txs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = txs
            .chunks(size)
            .enumerate()
            .map(|(i, chunk)| scope.spawn(move || recover(i * size, chunk)))
            .collect();
        let mut out = Vec::with_capacity(txs.len());
        for handle in handles {
            let part = handle.join().map_err(|_| (0, "recovery thread panicked".to_string()))?;
            out.extend(part?);
        }
        Ok(out)
    })
}

/// Runs `work` with a function giving each transaction's sender by index (`Err((index, why))` for
/// a bad signature), recovered by `threads - 1` helper threads running ahead of the caller and by
/// the caller itself when nothing is ready. Helpers stop when `work` returns.
pub(super) fn with_senders<R>(
    txs: &[SignedTransaction],
    threads: usize,
    work: impl FnOnce(&dyn Fn(usize) -> Result<Address, (usize, String)>) -> R,
) -> R {
    let slots: Vec<OnceLock<Result<Address, String>>> =
        txs.iter().map(|_| OnceLock::new()).collect();
    let next = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    // Claims the next unrecovered transaction and recovers it; false when none is left.
    let recover_next = || {
        let i = next.fetch_add(1, Ordering::SeqCst);
        let Some(tx) = txs.get(i) else { return false };
        let _ = slots[i].set(tx.recover_sender().map_err(|e| e.to_string()));
        true
    };
    let sender = |i: usize| -> Result<Address, (usize, String)> {
        let mut waited = 0u32;
        loop {
            if let Some(r) = slots[i].get() {
                return r.clone().map_err(|e| (i, e));
            }
            // Rather than wait for a helper, recover the next unclaimed one (maybe `i` itself).
            if recover_next() {
                continue;
            }
            if waited < 1_000 {
                // Nothing left to claim: a helper is finishing `i`, a few tens of microseconds.
                waited += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    };
    let helpers = if txs.len() < PARALLEL_FROM { 0 } else { threads.saturating_sub(1) };
    std::thread::scope(|scope| {
        for _ in 0..helpers {
            scope.spawn(|| {
                while !done.load(Ordering::SeqCst) {
                    if !recover_next() {
                        break;
                    }
                }
            });
        }
        let out = work(&sender);
        done.store(true, Ordering::SeqCst);
        out
    })
}

/// The cores this machine offers.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{
        Bytes, PrivateKey, Signature, Transaction, TxKind, TxType, B256, U256,
    };

    fn txs(n: usize) -> (Vec<SignedTransaction>, Vec<Address>) {
        (0..n)
            .map(|i| {
                let key = PrivateKey::from_bytes(&B256::with_last_byte(i as u8 + 1)).unwrap();
                let tx = Transaction {
                    tx_type: TxType::Eip1559,
                    chain_id: Some(1),
                    nonce: i as u64,
                    max_priority_fee_per_gas: U256::from(1),
                    max_fee_per_gas: U256::from(2),
                    gas_limit: 21_000,
                    to: TxKind::Call(Address::ZERO),
                    value: U256::ZERO,
                    input: Bytes::new(),
                    access_list: vec![],
                };
                (tx.sign(&key), key.address())
            })
            .unzip()
    }

    #[test]
    fn parallel_recovery_equals_serial_and_names_the_bad_one() {
        let (mut txs, senders) = txs(100);
        assert_eq!(recover_senders(&txs, 1).unwrap(), senders);
        assert_eq!(recover_senders(&txs, 4).unwrap(), senders);
        assert_eq!(recover_senders(&txs, 7).unwrap(), senders);
        let bad = txs[57].clone();
        txs[57] = SignedTransaction::new(bad.tx, Signature { r: U256::ZERO, ..bad.signature });
        assert_eq!(recover_senders(&txs, 4).unwrap_err().0, 57);
        assert_eq!(recover_senders(&txs, 1).unwrap_err().0, 57);
    }

    #[test]
    fn pipelined_recovery_gives_every_sender_in_order_and_stops_at_the_bad_one() {
        let (mut txs, senders) = txs(100);
        for threads in [1, 2, 4] {
            let got = with_senders(&txs, threads, |sender| {
                (0..txs.len()).map(sender).collect::<Result<Vec<_>, _>>()
            });
            assert_eq!(got.unwrap(), senders, "{threads} threads");
        }
        let bad = txs[57].clone();
        txs[57] = SignedTransaction::new(bad.tx, Signature { r: U256::ZERO, ..bad.signature });
        let seen = with_senders(&txs, 4, |sender| {
            let mut seen = 0;
            for i in 0..txs.len() {
                if let Err((index, _)) = sender(i) {
                    return (seen, index);
                }
                seen += 1;
            }
            (seen, usize::MAX)
        });
        assert_eq!(seen, (57, 57), "57 good senders, then the bad one is named");
    }
}
