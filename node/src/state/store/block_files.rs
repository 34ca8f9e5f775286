//! Block files: block bodies and receipts appended to flat files beside the database, with only
//! a 21-byte pointer in sled. Written once and never rewritten: in sled's tree a value lives in
//! a leaf of up to 16 entries that is written again whole each time the leaf is consolidated or
//! split, so a block body of 54 KB was written to the card three to four times over (as
//! go-ethereum keeps old blocks in its "freezer" and reth in its static files).
//!
//! Files are `blocks/00000000.dat`, `00000001.dat`… in the database's directory, each at most
//! [`FILE_MAX`] bytes. A pointer is `[0x00][file u32][offset u64][length u32][crc32 u32]`, big
//! endian; the tag byte cannot start an RLP list, so a value stored inline by an earlier version
//! (or because it is small) is told apart from a pointer. The data is synced to disk before the
//! batch that holds its pointer is applied, so a pointer never outlives a power cut its data did
//! not; a crash between the two leaves unreferenced bytes at a file's end, which later appends
//! pass over.

use super::{keys, Store, StoreError};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// First byte of a pointer (an RLP list starts at 0xc0).
const TAG: u8 = 0x00;
/// Bytes of a pointer.
const POINTER_LEN: usize = 21;
/// Values shorter than this stay in sled (an empty block's body is one byte).
const MIN_OUTSIDE: usize = 1024;
/// A file is closed for appends past this size and the next one started.
const FILE_MAX: u64 = 256 * 1024 * 1024;
/// Changeset files are smaller: they are deleted once every changeset in them is pruned.
const CHANGESET_FILE_MAX: u64 = 4 * 1024 * 1024;
/// Longest value a pointer may name (a block's body is bounded by its gas far below this).
const MAX_VALUE: u32 = 64 * 1024 * 1024;

/// A write that failed: the disk, not the data (the node stops sealing until it is fixed).
fn write_failed(what: &'static str, path: &Path, source: std::io::Error) -> StoreError {
    StoreError::BlockFile { what, path: path.to_path_buf(), source }
}

fn failed(what: &str, path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("block file {}: {what}: {e}", path.display()))
}

/// Where one value lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pointer {
    file: u32,
    offset: u64,
    len: u32,
    crc: u32,
}

impl Pointer {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(POINTER_LEN);
        out.push(TAG);
        out.extend_from_slice(&self.file.to_be_bytes());
        out.extend_from_slice(&self.offset.to_be_bytes());
        out.extend_from_slice(&self.len.to_be_bytes());
        out.extend_from_slice(&self.crc.to_be_bytes());
        out
    }

    /// `None`: the value is not a pointer (it is the data itself).
    fn decode(raw: &[u8]) -> Result<Option<Self>, StoreError> {
        if raw.first() != Some(&TAG) {
            return Ok(None);
        }
        if raw.len() != POINTER_LEN {
            return Err(StoreError::Corrupt(format!("block file pointer of {} bytes", raw.len())));
        }
        let u32_at = |i: usize| u32::from_be_bytes(raw[i..i + 4].try_into().expect("4 bytes"));
        let offset = u64::from_be_bytes(raw[5..13].try_into().expect("8 bytes"));
        let pointer = Self { file: u32_at(1), offset, len: u32_at(13), crc: u32_at(17) };
        if pointer.len > MAX_VALUE {
            return Err(StoreError::Corrupt(format!(
                "block file pointer of {} bytes",
                pointer.len
            )));
        }
        Ok(Some(pointer))
    }
}

/// The file being appended to.
struct Appending {
    id: u32,
    file: File,
    len: u64,
    /// Appended since the last sync.
    dirty: bool,
}

/// The block files of one database (shared by the store's clones).
pub(crate) struct BlockFiles {
    dir: PathBuf,
    /// [`FILE_MAX`] (smaller in tests).
    file_max: u64,
    appending: Mutex<Option<Appending>>,
    readers: Mutex<HashMap<u32, Arc<File>>>,
}

/// The number of a file named `00000042.dat`.
fn file_id(name: &str) -> Option<u32> {
    let id = name.strip_suffix(".dat")?;
    (id.len() == 8).then(|| id.parse().ok()).flatten()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl BlockFiles {
    /// The block files under `dir` (created when missing; nothing is opened until needed).
    pub(crate) fn open(dir: PathBuf) -> Result<Self, StoreError> {
        Self::with_file_max(dir, FILE_MAX)
    }

    pub(super) fn with_file_max(dir: PathBuf, file_max: u64) -> Result<Self, StoreError> {
        std::fs::create_dir_all(&dir).map_err(|e| write_failed("creating", &dir, e))?;
        Ok(Self { dir, file_max, appending: Mutex::new(None), readers: Mutex::default() })
    }

    fn path(&self, id: u32) -> PathBuf {
        self.dir.join(format!("{id:08}.dat"))
    }

    /// The highest-numbered file, if any.
    fn last_id(&self) -> Result<Option<u32>, StoreError> {
        let entries =
            std::fs::read_dir(&self.dir).map_err(|e| write_failed("listing", &self.dir, e))?;
        Ok(entries.flatten().filter_map(|e| file_id(&e.file_name().to_string_lossy())).max())
    }

    fn start(&self, id: u32) -> Result<Appending, StoreError> {
        let path = self.path(id);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| write_failed("opening", &path, e))?;
        let len =
            file.metadata().map_err(|e| write_failed("reading the length of", &path, e))?.len();
        Ok(Appending { id, file, len, dirty: false })
    }

    /// Appends `bytes` and returns the pointer to store in their place (not yet synced: see
    /// [`Self::sync`]).
    pub(crate) fn append(&self, bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
        let len = u32::try_from(bytes.len())
            .ok()
            .filter(|len| *len <= MAX_VALUE)
            .ok_or_else(|| StoreError::Corrupt(format!("a value of {} bytes", bytes.len())))?;
        let mut appending = lock(&self.appending);
        if appending.is_none() {
            *appending = Some(self.start(self.last_id()?.unwrap_or(0))?);
        }
        let full =
            appending.as_ref().is_some_and(|a| a.len > 0 && a.len + u64::from(len) > self.file_max);
        if full {
            let next = appending.as_ref().map_or(0, |a| a.id + 1);
            self.sync_locked(&mut appending)?;
            *appending = Some(self.start(next)?);
        }
        let current = appending.as_mut().expect("started above");
        let pointer =
            Pointer { file: current.id, offset: current.len, len, crc: crc32fast::hash(bytes) };
        if let Err(e) = current.file.write_all(bytes) {
            // A short write leaves bytes of unknown length: find the end again next time.
            let path = self.path(current.id);
            *appending = None;
            return Err(write_failed("appending to", &path, e));
        }
        current.len += u64::from(len);
        current.dirty = true;
        Ok(pointer.encode())
    }

    fn sync_locked(&self, appending: &mut Option<Appending>) -> Result<(), StoreError> {
        if let Some(current) = appending.as_mut().filter(|a| a.dirty) {
            current
                .file
                .sync_data()
                .map_err(|e| write_failed("syncing", &self.path(current.id), e))?;
            current.dirty = false;
        }
        Ok(())
    }

    /// Puts everything appended so far on disk (before the batch naming it is applied).
    pub(crate) fn sync(&self) -> Result<(), StoreError> {
        self.sync_locked(&mut lock(&self.appending))
    }

    /// Deletes the files numbered below `file` (never the one being appended to).
    pub(crate) fn remove_before(&self, file: u32) -> Result<(), StoreError> {
        let appending = lock(&self.appending).as_ref().map(|a| a.id);
        let entries =
            std::fs::read_dir(&self.dir).map_err(|e| write_failed("listing", &self.dir, e))?;
        for id in entries.flatten().filter_map(|e| file_id(&e.file_name().to_string_lossy())) {
            if id < file && Some(id) != appending {
                lock(&self.readers).remove(&id);
                let path = self.path(id);
                std::fs::remove_file(&path).map_err(|e| write_failed("removing", &path, e))?;
            }
        }
        Ok(())
    }

    fn reader(&self, id: u32) -> Result<Arc<File>, StoreError> {
        let mut readers = lock(&self.readers);
        if let Some(file) = readers.get(&id) {
            return Ok(file.clone());
        }
        let path = self.path(id);
        let file = Arc::new(File::open(&path).map_err(|e| failed("opening", &path, e))?);
        readers.insert(id, file.clone());
        Ok(file)
    }

    /// The value a stored `raw` stands for: itself, or the bytes its pointer names (checked
    /// against the pointer's CRC).
    pub(crate) fn resolve(files: Option<&Self>, raw: sled::IVec) -> Result<Vec<u8>, StoreError> {
        let Some(pointer) = Pointer::decode(&raw)? else { return Ok(raw.to_vec()) };
        let Some(files) = files else {
            return Err(StoreError::Corrupt("a block file pointer in a temporary database".into()));
        };
        let path = files.path(pointer.file);
        let mut out = vec![0; pointer.len as usize];
        files.reader(pointer.file)?.read_exact_at(&mut out, pointer.offset).map_err(|e| {
            failed(&format!("reading {} at {}", pointer.len, pointer.offset), &path, e)
        })?;
        if crc32fast::hash(&out) != pointer.crc {
            return Err(failed("checksum", &path, format!("bytes at {} damaged", pointer.offset)));
        }
        Ok(out)
    }

    /// The length of the value `raw` stands for, without reading it (stats).
    pub(crate) fn value_len(raw: &[u8]) -> usize {
        match Pointer::decode(raw) {
            Ok(Some(pointer)) => pointer.len as usize,
            _ => raw.len(),
        }
    }
}

/// Whether the value under `key` may be a pointer: a body, receipts or a changeset.
pub(crate) fn may_point(key: &[u8]) -> bool {
    matches!(key.first().copied(), Some(keys::BODY | keys::RECEIPTS | keys::CHANGESET))
}

impl Store {
    /// The files that hold large values of the table of `key`, if it has any.
    fn files_for(&self, key: &[u8]) -> Option<&BlockFiles> {
        let files = self.files.as_deref()?;
        match key.first().copied()? {
            keys::BODY | keys::RECEIPTS => Some(&files.blocks),
            keys::CHANGESET => Some(&files.changesets),
            _ => None,
        }
    }

    /// What to store under `key` for `bytes`: a pointer into the files of its table when the
    /// value is large and the table has files (bodies, receipts, changesets of a database with a
    /// directory), else the bytes themselves. Sync the files before applying the batch.
    pub(crate) fn stored_value(&self, key: &[u8], bytes: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        match self.files_for(key) {
            Some(files) if bytes.len() >= MIN_OUTSIDE => files.append(&bytes),
            _ => Ok(bytes),
        }
    }

    /// The value a stored `raw` under `key` stands for (read through its pointer if it is one).
    pub(crate) fn resolved(&self, key: &[u8], raw: sled::IVec) -> Result<Vec<u8>, StoreError> {
        match may_point(key) {
            true => BlockFiles::resolve(self.files_for(key), raw),
            false => Ok(raw.to_vec()),
        }
    }

    /// The value under `key`, read through its pointer if it has one.
    pub(crate) fn value_at(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.tree_get(key)?.map(|raw| self.resolved(key, raw)).transpose()
    }

    /// Syncs appended values: call before applying the batch that points at them.
    pub(crate) fn sync_files(&self) -> Result<(), StoreError> {
        match self.files.as_deref() {
            Some(files) => files.blocks.sync().and_then(|()| files.changesets.sync()),
            None => Ok(()),
        }
    }

    /// The changeset file the changeset under `key` lies in, if it lies in one.
    pub(crate) fn changeset_file(&self, key: &[u8]) -> Result<Option<u32>, StoreError> {
        match self.tree_get(key)? {
            Some(raw) => Ok(Pointer::decode(&raw)?.map(|p| p.file)),
            None => Ok(None),
        }
    }

    /// Deletes the changeset files before `file`: every changeset in them is pruned (changesets
    /// are appended in block order, and those of older blocks removed first).
    pub(crate) fn remove_changeset_files_before(&self, file: u32) -> Result<(), StoreError> {
        self.files.as_deref().map_or(Ok(()), |files| files.changesets.remove_before(file))
    }
}

/// The files of one database: bodies and receipts (kept), changesets (pruned by file).
pub(crate) struct StoreFiles {
    pub(crate) blocks: BlockFiles,
    pub(crate) changesets: BlockFiles,
}

impl StoreFiles {
    /// The files of the database in `dir`: `blocks/` and `changesets/`.
    pub(crate) fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            blocks: BlockFiles::open(dir.join("blocks"))?,
            changesets: BlockFiles::with_file_max(dir.join("changesets"), CHANGESET_FILE_MAX)?,
        })
    }
}
