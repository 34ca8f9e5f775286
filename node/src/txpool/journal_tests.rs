//! The journal file: read back in order, torn and corrupt tails cut, bounded reads, rewrites.

use super::*;
use crate::primitives::{Address, Bytes, PrivateKey, Transaction, TxKind, TxType, B256, U256};

fn tx(nonce: u64) -> SignedTransaction {
    let key = PrivateKey::from_bytes(&B256::repeat_byte(7)).unwrap();
    Transaction {
        tx_type: TxType::Eip1559,
        chain_id: Some(31337),
        nonce,
        max_priority_fee_per_gas: U256::from(1),
        max_fee_per_gas: U256::from(1_000_000_000u64),
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(9)),
        value: U256::from(1),
        input: Bytes::new(),
        access_list: vec![],
    }
    .sign(&key)
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("daisee-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.join(JOURNAL_FILE)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A journal in `dir` holding the transactions of `nonces`, closed.
fn write(dir: &Dir, nonces: std::ops::Range<u64>) {
    let (journal, _) = Journal::open(&dir.0).unwrap();
    for n in nonces {
        journal.append(&tx(n)).unwrap();
    }
}

fn nonces(restored: &Restored) -> Vec<u64> {
    restored.txs.iter().map(|t| t.tx.nonce).collect()
}

#[test]
fn transactions_come_back_in_the_order_they_were_written() {
    let dir = Dir::new("order");
    let (journal, restored) = Journal::open(&dir.0).unwrap();
    assert!(restored.txs.is_empty() && restored.stopped.is_none());
    for n in [3, 1, 2] {
        journal.append(&tx(n)).unwrap();
    }
    drop(journal);
    let (_, restored) = Journal::open(&dir.0).unwrap();
    assert_eq!(nonces(&restored), vec![3, 1, 2]);
    assert_eq!(restored.txs[0], tx(3));
    assert!(restored.stopped.is_none());
}

#[test]
fn a_torn_last_record_is_cut_and_later_records_are_kept() {
    let dir = Dir::new("torn");
    write(&dir, 0..3);
    let len = std::fs::metadata(dir.file()).unwrap().len();
    OpenOptions::new().write(true).open(dir.file()).unwrap().set_len(len - 5).unwrap();
    let (journal, restored) = Journal::open(&dir.0).unwrap();
    assert_eq!(nonces(&restored), vec![0, 1]);
    assert!(restored.stopped.as_deref().unwrap().contains("torn"), "{:?}", restored.stopped);
    journal.append(&tx(9)).unwrap();
    drop(journal);
    let (_, restored) = Journal::open(&dir.0).unwrap();
    assert_eq!(nonces(&restored), vec![0, 1, 9], "the record after the cut is aligned");
    assert!(restored.stopped.is_none());
}

#[test]
fn a_record_failing_its_checksum_ends_the_reading() {
    let dir = Dir::new("crc");
    write(&dir, 0..3);
    let mut bytes = std::fs::read(dir.file()).unwrap();
    let second = HEADER + tx(0).encoded().len() + HEADER + 3;
    bytes[second] ^= 0xff;
    std::fs::write(dir.file(), &bytes).unwrap();
    let (_, restored) = Journal::open(&dir.0).unwrap();
    assert_eq!(nonces(&restored), vec![0]);
    assert!(restored.stopped.as_deref().unwrap().contains("checksum"));
}

#[test]
fn a_huge_length_or_garbage_is_refused_before_anything_is_allocated() {
    let dir = Dir::new("garbage");
    let mut bytes = u32::MAX.to_le_bytes().to_vec();
    bytes.extend_from_slice(&[0; 4]);
    std::fs::write(dir.file(), &bytes).unwrap();
    let (_, restored) = Journal::open(&dir.0).unwrap();
    assert!(restored.txs.is_empty());
    assert!(restored.stopped.as_deref().unwrap().contains("4294967295 bytes"));
    // Random bytes: nothing read, no panic, and the file is usable again.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..100_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    std::fs::write(dir.file(), &noise).unwrap();
    let (journal, restored) = Journal::open(&dir.0).unwrap();
    assert!(restored.txs.is_empty() && restored.stopped.is_some());
    journal.append(&tx(4)).unwrap();
    drop(journal);
    assert_eq!(nonces(&Journal::open(&dir.0).unwrap().1), vec![4]);
}

#[test]
fn a_record_that_is_not_a_transaction_is_skipped_and_the_next_one_read() {
    let dir = Dir::new("undecodable");
    let junk = b"not a transaction";
    let mut bytes = (junk.len() as u32).to_le_bytes().to_vec();
    bytes.extend_from_slice(&crc32fast::hash(junk).to_le_bytes());
    bytes.extend_from_slice(junk);
    bytes.extend_from_slice(&record(&tx(5)));
    std::fs::write(dir.file(), &bytes).unwrap();
    let (_, restored) = Journal::open(&dir.0).unwrap();
    assert_eq!(nonces(&restored), vec![5]);
    assert!(restored.stopped.is_none());
}

#[test]
fn a_mostly_stale_file_is_rewritten_with_the_live_transactions() {
    let dir = Dir::new("rewrite");
    let (journal, _) = Journal::open(&dir.0).unwrap();
    let txs: Vec<_> = (0..1100).map(tx).collect();
    for t in &txs {
        journal.append(t).unwrap();
    }
    assert!(!journal.is_mostly_stale(40), "1,100 records for 40 live: within the slack");
    assert!(journal.is_mostly_stale(30));
    journal.rewrite(&txs[1090..]).unwrap();
    assert!(!journal.is_mostly_stale(0));
    journal.append(&tx(5000)).unwrap();
    drop(journal);
    let (_, restored) = Journal::open(&dir.0).unwrap();
    assert_eq!(nonces(&restored), (1090..1100).chain([5000]).collect::<Vec<_>>());
    assert!(!dir.0.join("txpool.journal.new").exists());
}

#[test]
fn records_are_on_disk_within_a_second_without_being_asked() {
    let dir = Dir::new("sync");
    let (journal, _) = Journal::open(&dir.0).unwrap();
    journal.append(&tx(1)).unwrap();
    assert!(journal.lock().dirty);
    std::thread::sleep(SYNC_EVERY * 3);
    assert!(!journal.lock().dirty, "the syncer thread synced it");
}
