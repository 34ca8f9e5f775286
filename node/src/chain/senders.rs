//! Sender recovery for a block: the floor of import (one secp256k1 public-key recovery per
//! transaction), spread over the machine's cores for blocks large enough to pay for the threads.

use crate::primitives::{Address, SignedTransaction};

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
                    max_priority_fee_per_gas: 1,
                    max_fee_per_gas: 2,
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
}
