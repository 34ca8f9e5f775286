//! Block files: large bodies and receipts leave sled and come back whole — after a reopen, from
//! a backup, past a torn append — and damage is reported as corruption, never as wrong bytes.

use super::block_files::BlockFiles;
use super::*;
use crate::bench::workload::{self, Workload};
use crate::chain::Chain;
use crate::sealer::build_block;
use crate::txpool::PoolTx;
use std::path::PathBuf;

/// A directory removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let unique = format!("daisee-block-files-{name}-{}", std::process::id());
        let path = std::env::temp_dir().join(unique);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn assert_corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>, needle: &str) {
    match result {
        Err(StoreError::Corrupt(message)) => assert!(message.contains(needle), "{message}"),
        other => panic!("expected corruption mentioning {needle:?}, got {other:?}"),
    }
}

/// Opens the store again once the closed one's background threads have let go of sled's lock.
fn reopen(dir: &Path) -> Store {
    for _ in 0..100 {
        match Store::open(dir) {
            Ok(store) => return store,
            Err(e) if e.to_string().contains("could not acquire lock") => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            Err(e) => panic!("{e}"),
        }
    }
    panic!("the database's lock was never released")
}

fn dat_files(dir: &Path) -> Vec<(String, u64)> {
    let mut out: Vec<_> = std::fs::read_dir(dir.join("blocks"))
        .unwrap()
        .flatten()
        .map(|e| (e.file_name().into_string().unwrap(), e.metadata().unwrap().len()))
        .collect();
    out.sort();
    out
}

#[test]
fn a_block_of_readings_is_kept_in_the_files_and_read_back_after_reopening() {
    let dir = Dir::new("chain");
    let keys = workload::accounts(4);
    let genesis = workload::genesis(&keys).unwrap();
    let (hash, block, receipts) = {
        let store = Store::open(&dir.0).unwrap();
        store.init_genesis(&genesis).unwrap();
        let mut chain = Chain::open(store.clone()).unwrap();
        let pool: Vec<PoolTx> = workload::transactions(Workload::ReportReading, &keys, 40)
            .into_iter()
            .map(|tx| {
                let sender = tx.recover_sender().unwrap();
                PoolTx::new(tx, sender, true)
            })
            .collect();
        let now = crate::node::unix_now();
        let mut built = build_block(&chain, &keys[0], now, &pool, None).unwrap();
        let (block, receipts) = (built.block.clone(), built.receipts.clone());
        built.insert_into(&mut chain, now, std::time::Instant::now()).unwrap();
        let hash = block.header.hash();
        let raw = store.tree_get(&keys::hashed(keys::BODY, &hash)).unwrap().unwrap();
        assert_eq!(raw.len(), 21, "a body of 40 readings is a pointer in sled");
        (hash, block, receipts)
    };
    let files = dat_files(&dir.0);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].1 > 10_000, "body and receipts appended: {files:?}");

    let store = reopen(&dir.0);
    assert_eq!(store.block(&hash).unwrap().unwrap(), block);
    let stored = store.receipts(&hash).unwrap().unwrap();
    assert_eq!(stored.len(), receipts.len());
    assert!(stored.iter().zip(&receipts).all(|(a, b)| a.logs == b.logs && a.success));
    let stats = store.stats().unwrap();
    assert!(stats["blocks: bodies"].bytes > 8_000, "stats count the bytes in the files");
    // The genesis body (one byte) stayed in sled.
    let genesis_hash = store.genesis_hash().unwrap();
    let raw = store.tree_get(&keys::hashed(keys::BODY, &genesis_hash)).unwrap().unwrap();
    assert_eq!(raw.as_ref(), &[0xc0]);
}

/// Seals `blocks` blocks of `per_block` readings from as many accounts.
fn seal_readings(chain: &mut Chain, keys: &[crate::primitives::PrivateKey], blocks: usize) {
    let all = workload::transactions(Workload::ReportReading, keys, blocks * keys.len());
    for txs in all.chunks(keys.len()) {
        let pool: Vec<PoolTx> = txs
            .iter()
            .map(|tx| PoolTx::new(tx.clone(), tx.recover_sender().unwrap(), true))
            .collect();
        let now = crate::node::unix_now();
        let mut built = build_block(chain, &keys[0], now, &pool, None).unwrap();
        assert_eq!(built.block.transactions.len(), pool.len());
        built.insert_into(chain, now, std::time::Instant::now()).unwrap();
    }
}

#[test]
fn changeset_files_holding_only_pruned_changesets_are_deleted() {
    let dir = Dir::new("changesets");
    let keys = workload::accounts(12);
    let mut store = Store::open(&dir.0).unwrap();
    store.init_genesis(&workload::genesis(&keys).unwrap()).unwrap();
    // Small changeset files, so that a few hundred blocks fill several.
    let changesets = dir.0.join("changesets");
    store.files = Some(Arc::new(block_files::StoreFiles {
        blocks: BlockFiles::open(dir.0.join("blocks")).unwrap(),
        changesets: BlockFiles::with_file_max(changesets.clone(), 16 * 1024).unwrap(),
    }));
    let mut chain = Chain::open(store.clone()).unwrap();
    let kept = 2 * super::super::history::HISTORY_BLOCKS as usize;
    seal_readings(&mut chain, &keys, kept + 20);
    let head = store.head().unwrap().number;
    let raw = store.tree_get(&keys::numbered(keys::CHANGESET, head)).unwrap().unwrap();
    assert_eq!(raw.len(), 21, "a changeset of 12 readings is a pointer in sled");

    let mut names: Vec<String> = std::fs::read_dir(&changesets)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(!names.contains(&"00000000.dat".to_string()), "the first file went: {names:?}");
    let size: u64 =
        names.iter().map(|n| std::fs::metadata(changesets.join(n)).unwrap().len()).sum();
    let first_kept = head - kept as u64 + 1;
    assert!(store.tree_get(&keys::numbered(keys::CHANGESET, first_kept - 1)).unwrap().is_none());
    let kept_bytes = store.stats().unwrap()["changesets (reorgs, history)"].bytes;
    assert!(
        size <= kept_bytes + 2 * 16 * 1024,
        "{size} bytes in {names:?}: more than the kept changesets' {kept_bytes} and a file"
    );
    // Every kept changeset still reads: state 128 blocks back, and the head reverted.
    let before = store.account_at(&keys[1].address(), head - 128).unwrap().unwrap().unwrap();
    assert_eq!(before.nonce, head - 128, "{before:?}");
    assert_eq!(store.revert_head().unwrap().number, head - 1);
}

#[test]
fn appends_pass_over_a_torn_tail_and_files_roll_over() {
    let dir = Dir::new("torn");
    let files = BlockFiles::open(dir.0.join("blocks")).unwrap();
    let first = files.append(&[1; 3000]).unwrap();
    files.sync().unwrap();
    drop(files);
    // A crash after an append whose pointer never reached sled leaves bytes nothing names.
    let path = dir.0.join("blocks").join("00000000.dat");
    let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    std::io::Write::write_all(&mut file, &[9; 777]).unwrap();

    let files = BlockFiles::with_file_max(dir.0.join("blocks"), 8_000).unwrap();
    let second = files.append(&[2; 3000]).unwrap();
    let third = files.append(&[3; 3000]).unwrap();
    files.sync().unwrap();
    let read = |p: &[u8]| BlockFiles::resolve(Some(&files), sled::IVec::from(p));
    assert_eq!(read(&first).unwrap(), vec![1; 3000]);
    assert_eq!(read(&second).unwrap(), vec![2; 3000]);
    assert_eq!(read(&third).unwrap(), vec![3; 3000]);
    assert_eq!(
        dat_files(&dir.0),
        [("00000000.dat".to_string(), 6777), ("00000001.dat".to_string(), 3000)],
        "the third value did not fit the first file's 8,000 bytes"
    );
    // A value that is not a pointer is itself.
    assert_eq!(read(&[0xc1, 0x80]).unwrap(), vec![0xc1, 0x80]);
}

#[test]
fn damaged_or_missing_block_files_are_reported_as_corruption() {
    let dir = Dir::new("damaged");
    let files = BlockFiles::open(dir.0.join("blocks")).unwrap();
    let pointer = files.append(&[5; 2000]).unwrap();
    files.sync().unwrap();
    let path = dir.0.join("blocks").join("00000000.dat");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let fresh = BlockFiles::open(dir.0.join("blocks")).unwrap();
    let read = |files: &BlockFiles, p: &[u8]| BlockFiles::resolve(Some(files), sled::IVec::from(p));
    assert_corrupt(read(&fresh, &pointer), "checksum");

    std::fs::write(&path, &bytes[..1500]).unwrap();
    let fresh = BlockFiles::open(dir.0.join("blocks")).unwrap();
    assert_corrupt(read(&fresh, &pointer), "reading 2000 at 0");
    std::fs::remove_file(&path).unwrap();
    let fresh = BlockFiles::open(dir.0.join("blocks")).unwrap();
    assert_corrupt(read(&fresh, &pointer), "opening");

    assert_corrupt(read(&fresh, &pointer[..20]), "pointer of 20 bytes");
    let mut huge = pointer.clone();
    huge[13..17].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_corrupt(read(&fresh, &huge), "pointer of 4294967295 bytes");
    assert_corrupt(BlockFiles::resolve(None, sled::IVec::from(&pointer[..])), "temporary");
}

#[test]
fn a_backup_carries_the_bytes_and_a_restore_puts_them_back_in_the_files() {
    let (a, b) = (Dir::new("dump-a"), Dir::new("dump-b"));
    let source = Store::open(&a.0).unwrap();
    let key = keys::hashed(keys::RECEIPTS, &B256::repeat_byte(4));
    let value: Vec<u8> = [vec![0xf9, 0x0b, 0xb8], vec![7; 3000]].concat();
    let mut batch = sled::Batch::default();
    batch.insert(key.clone(), source.stored_value(&key, value.clone()).unwrap());
    source.sync_files().unwrap();
    source.tree.apply_batch(batch).unwrap();

    let mut dump = Vec::new();
    source.dump(&mut dump).unwrap();
    assert!(dump.windows(value.len()).any(|w| w == value), "the dump holds the bytes");
    let restored = Store::open(&b.0).unwrap();
    restored.load(&mut dump.as_slice()).unwrap();
    assert_eq!(restored.tree_get(&key).unwrap().unwrap().len(), 21, "back in the files");
    assert_eq!(restored.value_at(&key).unwrap(), Some(value));
}

#[test]
fn a_database_of_a_newer_format_is_refused_and_an_older_one_marked() {
    let dir = Dir::new("schema");
    let keys = workload::accounts(2);
    let key = keys::meta("schema");
    {
        let store = Store::open(&dir.0).unwrap();
        assert!(store.tree_get(&key).unwrap().is_none(), "an empty database is not marked");
        store.init_genesis(&workload::genesis(&keys).unwrap()).unwrap();
        assert_eq!(store.tree_get(&key).unwrap().unwrap().as_ref(), schema::SCHEMA.to_be_bytes());
        // As a database from before the marker.
        store.tree.remove(&key).unwrap();
        store.flush().unwrap();
    }
    {
        let store = reopen(&dir.0);
        assert_eq!(store.tree_get(&key).unwrap().unwrap().as_ref(), schema::SCHEMA.to_be_bytes());
        store.tree.insert(&key, &7u32.to_be_bytes()).unwrap();
        store.flush().unwrap();
    }
    let refused = (0..100)
        .map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            Store::open(&dir.0)
        })
        .find(|r| !matches!(r, Err(StoreError::Sled(_))))
        .expect("the lock was released");
    match refused {
        Err(e @ StoreError::NewerSchema { found: 7, supported: schema::SCHEMA }) => {
            assert!(e.to_string().contains("restore a backup"), "{e}")
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
}
