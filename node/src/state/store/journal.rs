//! The pool journal: local transactions kept in the store until included, made durable with a
//! group commit (concurrent submissions share one flush).

use super::{keys, JournalTicket, Store, StoreError};
use crate::primitives::{SignedTransaction, B256};

impl Store {
    /// Journals a local transaction so that it survives a restart until included. The write is
    /// durable once [`Store::wait_durable`] returns for the ticket given back.
    pub fn journal_insert(&self, tx: &SignedTransaction) -> Result<JournalTicket, StoreError> {
        self.tree.insert(keys::hashed(keys::POOL_JOURNAL, &tx.hash()), tx.encoded())?;
        Ok(self.durability.written())
    }

    /// Returns once the journal write of `ticket` is on disk. Concurrent callers share one flush
    /// (group commit): the first flushes everything written so far, the others find it done.
    pub fn wait_durable(&self, ticket: JournalTicket) -> Result<(), StoreError> {
        self.durability.wait(ticket, || self.flush())
    }

    /// Drops a transaction from the journal (replaced or evicted).
    pub fn journal_remove(&self, hash: &B256) -> Result<(), StoreError> {
        self.tree.remove(keys::hashed(keys::POOL_JOURNAL, hash))?;
        Ok(())
    }

    /// Every journaled transaction; undecodable entries are dropped with a warning.
    pub fn journal_all(&self) -> Result<Vec<SignedTransaction>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree.scan_prefix([keys::POOL_JOURNAL]) {
            let (k, v) = item?;
            match SignedTransaction::decode(&v) {
                Ok(tx) => out.push(tx),
                Err(e) => {
                    tracing::warn!(target: "daisee::store", "dropping unreadable journal entry: {e}");
                    self.tree.remove(k)?;
                }
            }
        }
        Ok(out)
    }
}
