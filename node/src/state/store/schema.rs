//! The database's format version, so that a binary never works on a database written by a newer
//! one in a form it cannot read. Absent in databases from before it (they read as version 1's);
//! 1: receipts stored without their bloom, large bodies, receipts and changesets in files beside
//! sled; 2: storage kept once, by hashed slot (the plain-slot table is removed at opening, and
//! changesets may carry a third list, the wiped slots by hash). An older binary than this module
//! cannot check it: downgrading means restoring a backup taken before the upgrade
//! (docs/operating.md).

use super::{keys, Store, StoreError};

/// The format this binary writes and the newest it reads.
pub(crate) const SCHEMA: u32 = 2;
const KEY: &str = "schema";

impl Store {
    /// Brings a database of an older format to this binary's, at opening and after a restore:
    /// the mark first (so that an older binary refuses a half-upgraded database), then the
    /// storage index of format 1, then the removal of the plain-slot table of format 1. Each
    /// step is redone after a crash.
    pub(crate) fn upgrade_format(&self) -> Result<(), StoreError> {
        self.check_schema()?;
        self.ensure_hashed_storage()?;
        self.drop_plain_storage()
    }

    /// Refuses a database of a newer format; marks an initialised one of an older format (or
    /// none) as this binary's, as it is about to write in this binary's format.
    pub(crate) fn check_schema(&self) -> Result<(), StoreError> {
        let stored = match self.tree.get(keys::meta(KEY))? {
            Some(raw) => Some(u32::from_be_bytes(raw.as_ref().try_into().map_err(|_| {
                StoreError::Corrupt(format!("schema version of {} bytes", raw.len()))
            })?)),
            None => None,
        };
        if let Some(found) = stored.filter(|found| *found > SCHEMA) {
            return Err(StoreError::NewerSchema { found, supported: SCHEMA });
        }
        if stored != Some(SCHEMA) && self.tree.get(keys::meta("genesis"))?.is_some() {
            self.tree.insert(keys::meta(KEY), &SCHEMA.to_be_bytes())?;
            self.flush()?;
        }
        Ok(())
    }

    /// Marks a database being initialised with this binary's format.
    pub(crate) fn mark_schema(batch: &mut sled::Batch) {
        batch.insert(keys::meta(KEY), &SCHEMA.to_be_bytes()[..]);
    }
}
