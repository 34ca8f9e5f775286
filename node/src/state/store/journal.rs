//! The pool journal of earlier versions, kept in the database (one entry per transaction, each
//! submission flushed): read once at start and cleared, the transactions moving to the journal
//! file (`txpool::Journal`).

use super::{keys, Store, StoreError};
use crate::primitives::SignedTransaction;

impl Store {
    /// Every transaction an earlier version journaled in the database; undecodable entries are
    /// dropped with a warning.
    pub fn legacy_journal(&self) -> Result<Vec<SignedTransaction>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree.scan_prefix([keys::POOL_JOURNAL]) {
            let (_, v) = item?;
            match SignedTransaction::decode(&v) {
                Ok(tx) => out.push(tx),
                Err(e) => {
                    tracing::warn!(target: "daisee::store", "dropping unreadable journal entry: {e}")
                }
            }
        }
        Ok(out)
    }

    /// Removes the earlier versions' journal entries (once their transactions are elsewhere).
    pub fn clear_legacy_journal(&self) -> Result<usize, StoreError> {
        let mut batch = sled::Batch::default();
        let mut cleared = 0;
        for item in self.tree.scan_prefix([keys::POOL_JOURNAL]) {
            batch.remove(item?.0);
            cleared += 1;
        }
        if cleared > 0 {
            self.tree.apply_batch(batch)?;
            self.flush()?;
        }
        Ok(cleared)
    }

    /// Journals `tx` in the database as earlier versions did (for the upgrade's test).
    #[cfg(test)]
    pub(crate) fn legacy_journal_insert(&self, tx: &SignedTransaction) -> Result<(), StoreError> {
        self.tree.insert(keys::hashed(keys::POOL_JOURNAL, &tx.hash()), tx.encoded())?;
        Ok(())
    }
}
