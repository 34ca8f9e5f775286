//! Transactions into the node: local ones (validated, journaled before their hash is
//! answered), ones heard from peers, the journal restored at start and kept compact, and what
//! the pool holds.

use super::{lock, Node};
use crate::chain::ChainError;
use crate::primitives::{Address, SignedTransaction, B256};
use crate::state::StoreError;
use crate::txpool::{check_stateless, PoolError, Restored};

impl Node {
    /// Pools what the journal file (and an earlier version's journal in the database) held,
    /// then rewrites the file with what was kept.
    pub(super) fn restore_journal(&self, restored: Restored) -> Result<(), ChainError> {
        let store = &self.inner.store;
        if let Some(why) = &restored.stopped {
            tracing::warn!(target: "daisee::txpool", "pool journal read up to {why}: the rest is dropped");
        }
        let legacy = store.legacy_journal()?;
        let mut pool = lock(&self.inner.pool);
        let (mut kept, mut dropped) = (0, 0);
        for tx in legacy.into_iter().chain(restored.txs) {
            let hash = tx.hash();
            let added = tx
                .recover_sender()
                .map_err(|e| PoolError::InvalidSender(e.to_string()))
                .and_then(|sender| pool.add(tx, sender, true, store));
            match added {
                Ok(_) => kept += 1,
                Err(e) => {
                    tracing::debug!(target: "daisee::txpool", %hash, "journal entry dropped: {e}");
                    dropped += 1;
                }
            }
        }
        if let Some(journal) = &self.inner.journal {
            journal.rewrite(pool.locals())?;
        }
        drop(pool);
        store.clear_legacy_journal()?;
        if kept + dropped > 0 {
            tracing::info!(target: "daisee::txpool", kept, dropped, "restored local transactions");
        }
        Ok(())
    }

    /// Rewrites the journal with the pool's own transactions once most of its records are
    /// stale (included, replaced, dropped).
    pub(super) fn compact_journal(&self) {
        let Some(journal) = &self.inner.journal else { return };
        let pool = lock(&self.inner.pool);
        if journal.is_mostly_stale(pool.local_count()) {
            if let Err(e) = journal.rewrite(pool.locals()) {
                tracing::warn!(target: "daisee::txpool", "{e}");
            }
        }
    }

    /// Pool contents: `(pending, queued)` by sender and nonce.
    #[allow(clippy::type_complexity)]
    pub fn pool_content(
        &self,
    ) -> (
        std::collections::BTreeMap<Address, std::collections::BTreeMap<u64, crate::txpool::PoolTx>>,
        std::collections::BTreeMap<Address, std::collections::BTreeMap<u64, crate::txpool::PoolTx>>,
    ) {
        lock(&self.inner.pool).content(&self.inner.store)
    }

    /// Up to `max` of this node's own pending transactions (ready to be mined, submitted here
    /// over RPC or by its services) that entered the pool more than `older_than` ago, oldest
    /// first: what the network gossips again. Only the board a transaction entered by sends it
    /// again — it keeps it in its journal across restarts; every board sending every waiting
    /// transaction again would multiply the traffic by the number of boards.
    pub fn waiting_pending(
        &self,
        older_than: std::time::Duration,
        max: usize,
    ) -> Vec<SignedTransaction> {
        let (pending, _) = self.pool_content();
        let now = std::time::Instant::now();
        let mut waiting: Vec<crate::txpool::PoolTx> = pending
            .into_values()
            .flat_map(std::collections::BTreeMap::into_values)
            .filter(|p| p.local && now.duration_since(p.added) > older_than)
            .collect();
        waiting.sort_by_key(|p| p.added);
        waiting.into_iter().take(max).map(|p| (*p.tx).clone()).collect()
    }

    /// Validates and pools a transaction given in its canonical encoding.
    pub fn submit_raw(&self, bytes: &[u8]) -> Result<B256, PoolError> {
        let tx = SignedTransaction::decode(bytes).map_err(|e| PoolError::Decode(e.to_string()))?;
        self.submit(tx)
    }

    /// The checks that need no pool: chain id, size, fees, gas; returns the sender.
    fn admit(&self, tx: &SignedTransaction) -> Result<Address, PoolError> {
        let head = self.head();
        let min_price = self.inner.config.pool.min_gas_price;
        check_stateless(tx, self.inner.chain_id, head.gas_limit, min_price)?;
        tx.recover_sender().map_err(|e| PoolError::InvalidSender(e.to_string()))
    }

    /// Pools a transaction heard from a peer (not journaled: its sender's node keeps it).
    pub fn submit_remote(&self, tx: SignedTransaction) -> Result<B256, PoolError> {
        // A transaction heard again (several peers relay it) costs a lookup, not a recovery.
        if lock(&self.inner.pool).get(&tx.hash()).is_some() {
            return Err(PoolError::AlreadyKnown);
        }
        let sender = self.admit(&tx)?;
        let added = lock(&self.inner.pool).add(tx, sender, false, &self.inner.store)?;
        self.inner.pool_notify.notify_one();
        Ok(added.hash)
    }

    /// Validates, journals and pools a local transaction; returns its hash once the journal
    /// file holds it (see `txpool::Journal` for what that survives).
    pub fn submit(&self, tx: SignedTransaction) -> Result<B256, PoolError> {
        // A board whose database refuses writes cannot seal nor keep what it would accept.
        if let Some(problem) = self.write_failure() {
            return Err(PoolError::Journal(problem));
        }
        let sender = self.admit(&tx)?;
        let mut pool = lock(&self.inner.pool);
        let journal_copy = self.inner.journal.as_ref().map(|_| tx.clone());
        let added = pool.add(tx, sender, true, &self.inner.store)?;
        // Appended under the pool's lock: a rewrite of the journal sees the pool and the file
        // agree (replaced and evicted transactions leave the file at its next rewrite).
        if let (Some(journal), Some(copy)) = (&self.inner.journal, journal_copy) {
            if let Err(e) = journal.append(&copy) {
                pool.remove(&added.hash);
                drop(pool);
                self.note_write_failure("a transaction could not be journaled", &e);
                return Err(PoolError::Journal(e.to_string()));
            }
        }
        drop(pool);
        self.inner.pool_notify.notify_one();
        let _ = self.inner.new_txs.send(added.hash);
        tracing::debug!(target: "daisee::txpool", hash = %added.hash, %sender, "pooled transaction");
        Ok(added.hash)
    }

    /// The next nonce for `address`, counting its ready pooled transactions.
    pub fn pending_nonce(&self, address: &Address) -> Result<u64, StoreError> {
        let nonce = self.inner.store.account(address)?.map_or(0, |a| a.nonce);
        Ok(lock(&self.inner.pool).pending_nonce(address, nonce))
    }

    /// A pooled transaction by hash.
    pub fn pooled(&self, hash: &B256) -> Option<(SignedTransaction, Address)> {
        lock(&self.inner.pool).get(hash).map(|p| ((*p.tx).clone(), p.sender))
    }

    /// Whether a pooled transaction is ready to be sealed.
    pub fn pool_has_ready(&self) -> bool {
        lock(&self.inner.pool).has_ready(&self.inner.store)
    }

    /// `(pending, queued)` pool counts.
    pub fn pool_counts(&self) -> (usize, usize) {
        lock(&self.inner.pool).counts(&self.inner.store)
    }
}

#[cfg(test)]
mod tests {
    use super::journal_tests::transfer;
    use crate::community::{community_genesis, dev_spec};
    use crate::node::{Node, NodeConfig};
    use crate::primitives::{PrivateKey, B256};
    use crate::state::Store;
    use std::time::Duration;

    /// A node on a fresh dev chain whose account is funded.
    fn dev_node() -> (PrivateKey, Node) {
        let key = PrivateKey::from_bytes(&B256::repeat_byte(1)).unwrap();
        let spec = dev_spec(std::slice::from_ref(&key), 0);
        let store = Store::temporary().unwrap();
        store.init_genesis(&community_genesis(&spec).unwrap()).unwrap();
        (key, Node::new(store, NodeConfig::default()).unwrap())
    }

    #[test]
    fn only_ready_transactions_that_waited_are_gossiped_again_oldest_first() {
        let (key, node) = dev_node();
        let (first, gap, second) = (transfer(&key, 0), transfer(&key, 2), transfer(&key, 1));
        node.submit(first.clone()).unwrap();
        node.submit(gap.clone()).unwrap();
        let ready: Vec<B256> =
            node.waiting_pending(Duration::ZERO, 10).iter().map(|t| t.hash()).collect();
        assert_eq!(ready, vec![first.hash()], "nonce 2 waits for 1: not ready, not gossiped");
        assert!(node.waiting_pending(Duration::from_secs(60), 10).is_empty(), "too recent");
        std::thread::sleep(Duration::from_millis(5));
        node.submit(second.clone()).unwrap();
        let oldest: Vec<B256> =
            node.waiting_pending(Duration::ZERO, 2).iter().map(|t| t.hash()).collect();
        assert_eq!(oldest, vec![first.hash(), gap.hash()], "at most 2, oldest first");
    }

    #[test]
    fn transactions_heard_from_peers_are_left_to_the_board_they_entered_by() {
        let (key, node) = dev_node();
        let heard = transfer(&key, 0);
        node.submit_remote(heard.clone()).unwrap();
        assert!(node.waiting_pending(Duration::ZERO, 10).is_empty(), "not ours to send again");
        assert!(matches!(
            node.submit_remote(heard.clone()),
            Err(crate::txpool::PoolError::AlreadyKnown)
        ));
        node.submit(transfer(&key, 1)).unwrap();
        assert_eq!(node.waiting_pending(Duration::ZERO, 10).len(), 1, "ours");
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod journal_tests;
