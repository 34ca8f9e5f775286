//! The transaction pool: validated transactions by sender and nonce, ready ("pending") or
//! waiting for a nonce gap to close ("queued"); replacement with a fee bump; and the order in
//! which the sealer takes them.
//!
//! Nobody can take it over: each account may keep [`PoolConfig::account_ready`] transactions in
//! its next nonces and [`PoolConfig::account_waiting`] beyond them, all accounts together
//! [`PoolConfig::max_waiting`] waiting and [`PoolConfig::max_total`] in all, of which
//! [`PoolConfig::own_reserve`] only the node's own accounts (signer, meters, market agent,
//! unlocked accounts) may use; they are exempt from the per-account limits and never evicted.
//! A full pool evicts a waiting transaction first, then the cheapest account's last one, never
//! opening a nonce gap. Waiting transactions expire after [`PoolConfig::waiting_lifetime`].

mod expiry;
mod journal;
mod validate;

pub use expiry::EXPIRY_SCAN_EVERY;
pub use journal::{Journal, JournalError, Restored, JOURNAL_FILE};
pub use validate::{check_stateless, check_valid, intrinsic_gas, max_cost, PoolError, MAX_TX_SIZE};

use crate::primitives::{Address, SignedTransaction, B256, U256};
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Limits and prices of the pool.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Nonces ahead of an account's state nonce it may fill in any order (the node's own
    /// accounts excepted).
    pub account_ready: usize,
    /// Transactions an account may keep beyond that window (own accounts excepted); an account
    /// keeps `account_ready + account_waiting` in all.
    pub account_waiting: usize,
    /// Waiting transactions kept in all.
    pub max_waiting: usize,
    /// Transactions kept in all.
    pub max_total: usize,
    /// Part of `max_total` that only the node's own accounts may fill.
    pub own_reserve: usize,
    /// How long a waiting transaction is kept.
    pub waiting_lifetime: Duration,
    /// Blocks in a row a ready transaction may be refused by execution before it is dropped.
    pub max_strikes: u8,
    /// Lowest fee cap accepted, in wei per gas.
    pub min_gas_price: u128,
    /// Fee increase a replacement needs, in percent.
    pub price_bump_percent: u128,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            account_ready: 64,
            account_waiting: 64,
            max_waiting: 1024,
            max_total: 4096,
            own_reserve: 1024,
            waiting_lifetime: Duration::from_secs(3 * 3600),
            max_strikes: 3,
            min_gas_price: 1,
            price_bump_percent: 10,
        }
    }
}

/// A pooled transaction.
#[derive(Debug, Clone)]
pub struct PoolTx {
    /// The transaction.
    pub tx: Arc<SignedTransaction>,
    /// Its recovered sender.
    pub sender: Address,
    /// Submitted to this node over RPC or by its services (journaled).
    pub local: bool,
    /// When it entered the pool.
    pub added: Instant,
    /// Blocks in a row whose execution refused it.
    pub strikes: u8,
}

impl PoolTx {
    /// A transaction entering the pool now.
    pub fn new(tx: SignedTransaction, sender: Address, local: bool) -> Self {
        Self { tx: Arc::new(tx), sender, local, added: Instant::now(), strikes: 0 }
    }
}

/// The sender state the pool checks against.
pub trait AccountState {
    /// `(nonce, balance)` of `address` at the head.
    fn nonce_and_balance(&self, address: &Address) -> (u64, U256);
}

/// The outcome of adding a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// Its hash.
    pub hash: B256,
    /// The transaction it replaced, if any.
    pub replaced: Option<B256>,
    /// A transaction evicted to make room, if any.
    pub evicted: Option<B256>,
}

/// The pool.
#[derive(Debug, Default)]
pub struct TxPool {
    config: PoolConfig,
    /// The node's own accounts.
    own: HashSet<Address>,
    senders: HashMap<Address, BTreeMap<u64, PoolTx>>,
    by_hash: HashMap<B256, (Address, u64)>,
    /// How many of them are local (what the journal keeps), counted as they come and go.
    local_count: usize,
    /// When [`TxPool::expire_due`] last scanned.
    expiry_scanned: Option<Instant>,
}

impl TxPool {
    /// An empty pool.
    pub fn new(config: PoolConfig) -> Self {
        Self { config, ..Default::default() }
    }

    /// An empty pool that keeps room for the node's `own` accounts.
    pub fn with_own(config: PoolConfig, own: impl IntoIterator<Item = Address>) -> Self {
        Self { config, own: own.into_iter().collect(), ..Default::default() }
    }

    /// Whether `address` is one of the node's own accounts.
    pub fn is_own(&self, address: &Address) -> bool {
        self.own.contains(address)
    }

    /// Number of pooled transactions.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// The node's own transactions (what the journal keeps).
    pub fn locals(&self) -> impl Iterator<Item = &SignedTransaction> {
        self.senders.values().flat_map(BTreeMap::values).filter(|p| p.local).map(|p| &*p.tx)
    }

    /// How many of the pooled transactions are local (`locals().count()`, kept as a count).
    pub fn local_count(&self) -> usize {
        self.local_count
    }

    /// Whether an account has a transaction ready at its state nonce: work for the sealer
    /// (`counts().0 > 0`, without counting every account).
    pub fn has_ready(&self, state: &impl AccountState) -> bool {
        self.senders.iter().any(|(sender, queue)| {
            let (nonce, _) = state.nonce_and_balance(sender);
            queue.contains_key(&nonce)
        })
    }

    /// A pooled transaction by hash.
    pub fn get(&self, hash: &B256) -> Option<&PoolTx> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.senders.get(sender)?.get(nonce)
    }

    /// Adds a transaction whose sender is `sender`, after the stateful checks (nonce, funds,
    /// replacement, limits). Stateless checks are [`check_stateless`]'s.
    pub fn add(
        &mut self,
        tx: SignedTransaction,
        sender: Address,
        local: bool,
        state: &impl AccountState,
    ) -> Result<Added, PoolError> {
        let hash = tx.hash();
        // The state first: a transaction mined a moment ago, not yet pruned from the pool, is
        // answered "nonce too low" (the truth) rather than "already known".
        let (next, balance) = state.nonce_and_balance(&sender);
        let nonce = tx.tx.nonce;
        if nonce < next {
            return Err(PoolError::NonceTooLow { next, nonce });
        }
        if self.by_hash.contains_key(&hash) {
            return Err(PoolError::AlreadyKnown);
        }
        let cost = max_cost(&tx);
        if balance < cost {
            return Err(PoolError::InsufficientFunds { balance, cost });
        }
        let queue = self.senders.get(&sender);
        let replacing = queue.and_then(|q| q.get(&nonce));
        if let Some(old) = replacing {
            let bump = |old: u128| old.saturating_mul(100 + self.config.price_bump_percent) / 100;
            let o = &old.tx.tx;
            if tx.tx.fee_cap() < bump(o.fee_cap()) || tx.tx.tip_cap() < bump(o.tip_cap()) {
                return Err(PoolError::ReplacementUnderpriced);
            }
        }
        let replaced = replacing.map(|old| old.tx.hash());
        let own = self.own.contains(&sender);
        let ready_until = self.pending_nonce(&sender, next);
        let waiting = nonce > ready_until;
        if replaced.is_none() && !own {
            // An account keeps `account_ready + account_waiting` in all, and at most
            // `account_waiting` beyond the next `account_ready` nonces. Nonces just ahead count as
            // ready-to-be: a batch's calls run concurrently and may arrive out of order.
            let queued = queue.map_or(0, BTreeMap::len);
            let cap = self.config.account_ready + self.config.account_waiting;
            if queued >= cap {
                return Err(PoolError::AccountLimit(cap));
            }
            let window = next.saturating_add(self.config.account_ready as u64);
            let far = queue.map_or(0, |q| q.range(window..).count());
            if nonce >= window && far >= self.config.account_waiting {
                return Err(PoolError::AccountLimit(self.config.account_waiting));
            }
        }
        let mut evicted = None;
        if replaced.is_none() {
            evicted = self.make_room(&tx, own, waiting, state)?;
        }
        if let Some(old) = replaced {
            self.by_hash.remove(&old);
        }
        self.by_hash.insert(hash, (sender, nonce));
        let entry = PoolTx::new(tx, sender, local);
        self.local_count += usize::from(local);
        if let Some(old) = self.senders.entry(sender).or_default().insert(nonce, entry) {
            self.local_count -= usize::from(old.local);
        }
        Ok(Added { hash, replaced, evicted })
    }

    /// Frees a slot for a new transaction when a limit is reached; returns what it evicted.
    fn make_room(
        &mut self,
        tx: &SignedTransaction,
        own: bool,
        waiting: bool,
        state: &impl AccountState,
    ) -> Result<Option<B256>, PoolError> {
        let foreign = self.len() - self.own_count();
        let total_full = self.len() >= self.config.max_total;
        let foreign_full =
            !own && foreign >= self.config.max_total.saturating_sub(self.config.own_reserve);
        // Counting waiting transactions reads every sender's nonce: only when it could matter.
        let waiting_full = waiting
            && !own
            && self.len() >= self.config.max_waiting
            && self.waiting_count(state) >= self.config.max_waiting;
        if !(total_full || foreign_full || waiting_full) {
            return Ok(None);
        }
        // A newcomer that waits never pushes anything out: it is refused.
        if waiting && !own {
            return Err(PoolError::Full);
        }
        // Else the oldest waiting transaction goes first, then the cheapest account's last one
        // if the newcomer pays more (or is the node's own).
        let victim = self.oldest_waiting(state).or_else(|| {
            let cheapest = self.cheapest_tail()?;
            let fee = self.get(&cheapest).map_or(0, |p| p.tx.tx.fee_cap());
            (own || tx.tx.fee_cap() > fee).then_some(cheapest)
        });
        let victim = victim.ok_or(PoolError::Full)?;
        self.remove(&victim);
        Ok(Some(victim))
    }

    fn own_count(&self) -> usize {
        self.own.iter().filter_map(|a| self.senders.get(a)).map(BTreeMap::len).sum()
    }

    /// Waiting transactions of accounts other than the node's own.
    fn waiting_count(&self, state: &impl AccountState) -> usize {
        self.senders
            .iter()
            .filter(|(a, _)| !self.own.contains(*a))
            .map(|(a, q)| {
                let (next, _) = state.nonce_and_balance(a);
                q.len() - (self.pending_nonce(a, next) - next) as usize
            })
            .sum()
    }

    /// The oldest waiting transaction of an account other than the node's own (the last of its
    /// account, so no gap opens).
    fn oldest_waiting(&self, state: &impl AccountState) -> Option<B256> {
        self.senders
            .iter()
            .filter(|(a, _)| !self.own.contains(*a))
            .filter_map(|(a, q)| {
                let (next, _) = state.nonce_and_balance(a);
                let ready_until = self.pending_nonce(a, next);
                let (_, last) = q.last_key_value()?;
                (last.tx.tx.nonce > ready_until).then_some(last)
            })
            .min_by_key(|p| p.added)
            .map(|p| p.tx.hash())
    }

    /// The last transaction of the account whose last transaction pays the least.
    fn cheapest_tail(&self) -> Option<B256> {
        self.senders
            .iter()
            .filter(|(a, _)| !self.own.contains(*a))
            .filter_map(|(_, q)| q.last_key_value().map(|(_, p)| p))
            .min_by_key(|p| p.tx.tx.fee_cap())
            .map(|p| p.tx.hash())
    }

    /// Counts one more block whose execution refused `hash`; returns whether it has now been
    /// refused [`PoolConfig::max_strikes`] times (and should go).
    pub fn strike(&mut self, hash: &B256) -> bool {
        let Some((sender, nonce)) = self.by_hash.get(hash).copied() else { return false };
        let Some(p) = self.senders.get_mut(&sender).and_then(|q| q.get_mut(&nonce)) else {
            return false;
        };
        p.strikes = p.strikes.saturating_add(1);
        p.strikes >= self.config.max_strikes
    }

    /// Removes a transaction by hash.
    pub fn remove(&mut self, hash: &B256) -> Option<PoolTx> {
        let (sender, nonce) = self.by_hash.remove(hash)?;
        let queue = self.senders.get_mut(&sender)?;
        let removed = queue.remove(&nonce);
        if queue.is_empty() {
            self.senders.remove(&sender);
        }
        if let Some(p) = &removed {
            self.local_count -= usize::from(p.local);
        }
        removed
    }

    /// Drops every transaction whose nonce the head state has passed (included, or replaced by
    /// another transaction with the same nonce). Returns their hashes.
    pub fn prune(&mut self, state: &impl AccountState) -> Vec<B256> {
        let mut gone = Vec::new();
        for (sender, queue) in &mut self.senders {
            let (next, _) = state.nonce_and_balance(sender);
            let keep = queue.split_off(&next);
            gone.extend(queue.values().map(|p| p.tx.hash()));
            self.local_count -= queue.values().filter(|p| p.local).count();
            *queue = keep;
        }
        self.senders.retain(|_, q| !q.is_empty());
        for hash in &gone {
            self.by_hash.remove(hash);
        }
        gone
    }

    /// The nonce the sender's next transaction should use: the state nonce plus its ready run.
    pub fn pending_nonce(&self, sender: &Address, state_nonce: u64) -> u64 {
        let mut next = state_nonce;
        if let Some(queue) = self.senders.get(sender) {
            while queue.contains_key(&next) {
                next += 1;
            }
        }
        next
    }

    /// Counts of `(pending, queued)` transactions. Transactions whose nonce the state has already
    /// passed (included in a block that [`Self::prune`] has not seen yet) are neither.
    pub fn counts(&self, state: &impl AccountState) -> (usize, usize) {
        let (mut pending, mut queued) = (0, 0);
        for (sender, queue) in &self.senders {
            let (nonce, _) = state.nonce_and_balance(sender);
            let ready = (self.pending_nonce(sender, nonce) - nonce) as usize;
            pending += ready;
            queued += queue.range(nonce..).count() - ready;
        }
        (pending, queued)
    }

    /// Every pooled transaction split into `(pending, queued)`, by sender and nonce (those the
    /// state has passed left out, as in [`Self::counts`]).
    #[allow(clippy::type_complexity)]
    pub fn content(
        &self,
        state: &impl AccountState,
    ) -> (BTreeMap<Address, BTreeMap<u64, PoolTx>>, BTreeMap<Address, BTreeMap<u64, PoolTx>>) {
        let (mut pending, mut queued) = (BTreeMap::new(), BTreeMap::new());
        for (sender, queue) in &self.senders {
            let (nonce, _) = state.nonce_and_balance(sender);
            let ready = self.pending_nonce(sender, nonce);
            for (n, p) in queue.range(nonce..) {
                let side = if *n < ready { &mut pending } else { &mut queued };
                side.entry(*sender).or_insert_with(BTreeMap::new).insert(*n, p.clone());
            }
        }
        (pending, queued)
    }

    /// Ready transactions in the order a block should take them: each sender's in nonce order,
    /// senders interleaved by the tip they pay at `base_fee`, highest first; transactions whose
    /// fee cap is below the base fee wait.
    pub fn best(&self, state: &impl AccountState, base_fee: Option<u64>) -> Vec<PoolTx> {
        let mut runs: Vec<Vec<&PoolTx>> = Vec::new();
        for (sender, queue) in &self.senders {
            let (mut next, _) = state.nonce_and_balance(sender);
            let mut run = Vec::new();
            while let Some(p) = queue.get(&next) {
                if base_fee.is_some_and(|b| p.tx.tx.fee_cap() < u128::from(b)) {
                    break;
                }
                run.push(p);
                next += 1;
            }
            if !run.is_empty() {
                run.reverse();
                runs.push(run);
            }
        }
        let tip = |p: &PoolTx| {
            let price = p.tx.tx.effective_gas_price(base_fee);
            price - u128::from(base_fee.unwrap_or(0)).min(price)
        };
        let mut heap: BinaryHeap<(u128, std::cmp::Reverse<usize>)> = runs
            .iter()
            .enumerate()
            .filter_map(|(i, run)| run.last().map(|p| (tip(p), std::cmp::Reverse(i))))
            .collect();
        let mut out = Vec::with_capacity(self.len());
        while let Some((_, std::cmp::Reverse(i))) = heap.pop() {
            if let Some(p) = runs[i].pop() {
                out.push(p.clone());
            }
            if let Some(next) = runs[i].last() {
                heap.push((tip(next), std::cmp::Reverse(i)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vector_tests;
