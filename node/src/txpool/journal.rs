//! The pool journal: the node's own transactions (sent to it over RPC or by its services) in an
//! append-only file beside the database, as geth's `transactions.rlp`, so that they survive a
//! restart until a block includes them.
//!
//! A submission is written to the file before its hash is answered: the kernel holds it, so it
//! survives the node's crash (a panic, `kill -9`, the OOM killer). The file is synced to the disk
//! by a background thread at most [`SYNC_EVERY`] after a write, and on drop: a power cut loses at
//! most that last second of submissions, which their sender (a wallet, a script, a meter's
//! outbox) still holds. Nothing is removed in place: when most records are stale (included,
//! replaced, dropped) the file is rewritten from the pool's own transactions and renamed over.
//!
//! A record is the transaction's length (u32, little-endian), the CRC-32 of its bytes and its
//! canonical encoding. Reading stops at the first record that is torn (a write cut by the crash)
//! or fails its checksum, with a warning: what follows it cannot be trusted to be aligned.

use crate::primitives::SignedTransaction;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// The journal's file name in the database directory.
pub const JOURNAL_FILE: &str = "txpool.journal";

/// How long a written record may stay unsynced.
pub(crate) const SYNC_EVERY: Duration = Duration::from_secs(1);

/// Records read back at most (the pool holds a few thousand; a file beyond that is not ours).
pub(crate) const MAX_RECORDS: usize = 65_536;

/// Records beyond twice the live ones (and at least this many) before the file is rewritten.
const STALE_SLACK: u64 = 1024;

const HEADER: usize = 8;

/// Errors of the journal file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Reading, writing or syncing the file failed (a full disk, a failing card).
    #[error("pool journal {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// The append-only journal of the node's own transactions.
#[derive(Debug)]
pub struct Journal {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    file: File,
    /// The file's length: a failed append is cut back to it.
    len: u64,
    records: u64,
    dirty: bool,
}

/// What was read back from a journal file.
#[derive(Debug, Default)]
pub struct Restored {
    /// The transactions, in the order they were written.
    pub txs: Vec<SignedTransaction>,
    /// Why reading stopped early, if it did (a torn or corrupt record, too many records).
    pub stopped: Option<String>,
    /// The length of the records read whole.
    good_bytes: u64,
}

impl Journal {
    /// Opens (or creates) the journal in `dir` and reads back what it holds. The file is not
    /// trusted: records are bounded by [`crate::txpool::MAX_TX_SIZE`] and [`MAX_RECORDS`].
    pub fn open(dir: &Path) -> Result<(Self, Restored), JournalError> {
        let path = dir.join(JOURNAL_FILE);
        let io = |source| JournalError::Io { path: path.clone(), source };
        let restored = match File::open(&path) {
            Ok(file) => read_records(file).map_err(io)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Restored::default(),
            Err(e) => return Err(io(e)),
        };
        let file = OpenOptions::new().create(true).append(true).open(&path).map_err(io)?;
        if restored.stopped.is_some() {
            // Later records go after the last good one, not after what could not be read.
            file.set_len(restored.good_bytes).map_err(io)?;
        }
        let len = file.metadata().map_err(io)?.len();
        let inner = Inner { path, file, len, records: restored.txs.len() as u64, dirty: false };
        let journal = Self { inner: Arc::new(Mutex::new(inner)) };
        spawn_syncer(Arc::downgrade(&journal.inner));
        Ok((journal, restored))
    }

    /// Appends `tx`; on error the file is cut back, so a later record is never misaligned.
    pub fn append(&self, tx: &SignedTransaction) -> Result<(), JournalError> {
        let record = record(tx);
        let mut inner = self.lock();
        let Inner { file, len, path, .. } = &mut *inner;
        if let Err(source) = file.write_all(&record) {
            let _ = file.set_len(*len);
            return Err(JournalError::Io { path: path.clone(), source });
        }
        inner.len += record.len() as u64;
        inner.records += 1;
        inner.dirty = true;
        Ok(())
    }

    /// Syncs what was written to the disk (a no-op when nothing was).
    pub fn sync(&self) -> Result<(), JournalError> {
        self.lock().sync()
    }

    /// Whether the file holds many more records than the `live` transactions it keeps.
    pub fn is_mostly_stale(&self, live: usize) -> bool {
        self.lock().records > 2 * live as u64 + STALE_SLACK
    }

    /// Replaces the file's contents with `live`: written beside, synced, renamed over.
    pub fn rewrite<'a>(
        &self,
        live: impl IntoIterator<Item = &'a SignedTransaction>,
    ) -> Result<(), JournalError> {
        let mut inner = self.lock();
        let tmp = inner.path.with_extension("journal.new");
        let io = |source| JournalError::Io { path: tmp.clone(), source };
        let mut out = std::io::BufWriter::new(File::create(&tmp).map_err(io)?);
        let mut records = 0u64;
        for tx in live {
            out.write_all(&record(tx)).map_err(io)?;
            records += 1;
        }
        let file = out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        drop(file);
        std::fs::rename(&tmp, &inner.path).map_err(io)?;
        if let Some(dir) = inner.path.parent() {
            // The rename itself is durable once the directory is synced (best effort).
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        let path = inner.path.clone();
        let reopen = |source| JournalError::Io { path: path.clone(), source };
        inner.file = OpenOptions::new().append(true).open(&path).map_err(reopen)?;
        inner.len = inner.file.metadata().map_err(reopen)?.len();
        inner.records = records;
        inner.dirty = false;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Inner {
    fn sync(&mut self) -> Result<(), JournalError> {
        if self.dirty {
            self.file
                .sync_data()
                .map_err(|source| JournalError::Io { path: self.path.clone(), source })?;
            self.dirty = false;
        }
        Ok(())
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        if let Err(e) = self.sync() {
            tracing::warn!(target: "daisee::txpool", "{e}");
        }
    }
}

/// Syncs the journal every [`SYNC_EVERY`] while it is dirty; ends when the journal is dropped.
fn spawn_syncer(journal: Weak<Mutex<Inner>>) {
    let spawned = std::thread::Builder::new().name("pool-journal".into()).spawn(move || loop {
        std::thread::sleep(SYNC_EVERY);
        let Some(inner) = journal.upgrade() else { return };
        let mut inner = inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(e) = inner.sync() {
            tracing::warn!(target: "daisee::txpool", "{e}");
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(target: "daisee::txpool", "no journal sync thread ({e}): synced on drop only");
    }
}

fn record(tx: &SignedTransaction) -> Vec<u8> {
    let bytes = tx.encoded();
    let mut record = Vec::with_capacity(HEADER + bytes.len());
    record.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    record.extend_from_slice(&crc32fast::hash(bytes).to_le_bytes());
    record.extend_from_slice(bytes);
    record
}

fn read_records(file: File) -> std::io::Result<Restored> {
    let mut reader = BufReader::new(file);
    let mut restored = Restored::default();
    let mut header = [0u8; HEADER];
    let mut at = 0u64;
    loop {
        if restored.txs.len() == MAX_RECORDS {
            restored.stopped = Some(format!("more than {MAX_RECORDS} records"));
            break;
        }
        match read_full(&mut reader, &mut header)? {
            0 => break,
            HEADER => {}
            _ => {
                restored.stopped = Some(format!("a torn record at byte {at}"));
                break;
            }
        }
        let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
        if len > super::MAX_TX_SIZE {
            restored.stopped = Some(format!("a record of {len} bytes at byte {at}"));
            break;
        }
        let mut bytes = vec![0u8; len];
        if read_full(&mut reader, &mut bytes)? < len {
            restored.stopped = Some(format!("a torn record at byte {at}"));
            break;
        }
        if crc32fast::hash(&bytes) != crc {
            restored.stopped = Some(format!("a record failing its checksum at byte {at}"));
            break;
        }
        match SignedTransaction::decode(&bytes) {
            Ok(tx) => restored.txs.push(tx),
            Err(e) => {
                tracing::warn!(target: "daisee::txpool", "journal record at byte {at} skipped: {e}")
            }
        }
        at += (HEADER + len) as u64;
    }
    restored.good_bytes = at;
    Ok(restored)
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
