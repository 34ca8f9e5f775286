//! The transaction pool: validated transactions by sender and nonce, ready ("pending") or
//! waiting for a nonce gap to close ("queued"); replacement with a fee bump; limits with eviction
//! of the cheapest remote transaction; and the order in which the sealer takes them.

mod validate;

pub use validate::{check_stateless, intrinsic_gas, max_cost, PoolError, MAX_TX_SIZE};

use crate::primitives::{Address, SignedTransaction, B256, U256};
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;

/// Limits and prices of the pool.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Transactions kept per sender.
    pub max_per_sender: usize,
    /// Transactions kept in all.
    pub max_total: usize,
    /// Lowest fee cap accepted, in wei per gas.
    pub min_gas_price: u128,
    /// Fee increase a replacement needs, in percent.
    pub price_bump_percent: u128,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self { max_per_sender: 1024, max_total: 8192, min_gas_price: 1, price_bump_percent: 10 }
    }
}

/// A pooled transaction.
#[derive(Debug, Clone)]
pub struct PoolTx {
    /// The transaction.
    pub tx: Arc<SignedTransaction>,
    /// Its recovered sender.
    pub sender: Address,
    /// Submitted to this node (journaled, never evicted).
    pub local: bool,
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
    senders: HashMap<Address, BTreeMap<u64, PoolTx>>,
    by_hash: HashMap<B256, (Address, u64)>,
}

impl TxPool {
    /// An empty pool.
    pub fn new(config: PoolConfig) -> Self {
        Self { config, ..Default::default() }
    }

    /// Number of pooled transactions.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
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
        if self.by_hash.contains_key(&hash) {
            return Err(PoolError::AlreadyKnown);
        }
        let (next, balance) = state.nonce_and_balance(&sender);
        let nonce = tx.tx.nonce;
        if nonce < next {
            return Err(PoolError::NonceTooLow { next, nonce });
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
            if tx.tx.max_fee_per_gas < bump(o.max_fee_per_gas)
                || tx.tx.max_priority_fee_per_gas < bump(o.max_priority_fee_per_gas)
            {
                return Err(PoolError::ReplacementUnderpriced);
            }
        } else if queue.map_or(0, BTreeMap::len) >= self.config.max_per_sender {
            return Err(PoolError::AccountLimit(self.config.max_per_sender));
        }
        let replaced = replacing.map(|old| old.tx.hash());
        let mut evicted = None;
        if replaced.is_none() && self.len() >= self.config.max_total {
            let victim = self.cheapest_remote().ok_or(PoolError::Full)?;
            let victim_fee = self.get(&victim).map_or(0, |p| p.tx.tx.max_fee_per_gas);
            if local || tx.tx.max_fee_per_gas > victim_fee {
                self.remove(&victim);
                evicted = Some(victim);
            } else {
                return Err(PoolError::Full);
            }
        }
        if let Some(old) = replaced {
            self.by_hash.remove(&old);
        }
        self.by_hash.insert(hash, (sender, nonce));
        let entry = PoolTx { tx: Arc::new(tx), sender, local };
        self.senders.entry(sender).or_default().insert(nonce, entry);
        Ok(Added { hash, replaced, evicted })
    }

    fn cheapest_remote(&self) -> Option<B256> {
        self.senders
            .values()
            .flat_map(BTreeMap::values)
            .filter(|p| !p.local)
            .min_by_key(|p| p.tx.tx.max_fee_per_gas)
            .map(|p| p.tx.hash())
    }

    /// Removes a transaction by hash.
    pub fn remove(&mut self, hash: &B256) -> Option<PoolTx> {
        let (sender, nonce) = self.by_hash.remove(hash)?;
        let queue = self.senders.get_mut(&sender)?;
        let removed = queue.remove(&nonce);
        if queue.is_empty() {
            self.senders.remove(&sender);
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

    /// Counts of `(pending, queued)` transactions.
    pub fn counts(&self, state: &impl AccountState) -> (usize, usize) {
        let mut pending = 0;
        for sender in self.senders.keys() {
            let (nonce, _) = state.nonce_and_balance(sender);
            pending += (self.pending_nonce(sender, nonce) - nonce) as usize;
        }
        (pending, self.len() - pending)
    }

    /// Every pooled transaction split into `(pending, queued)`, by sender and nonce.
    #[allow(clippy::type_complexity)]
    pub fn content(
        &self,
        state: &impl AccountState,
    ) -> (BTreeMap<Address, BTreeMap<u64, PoolTx>>, BTreeMap<Address, BTreeMap<u64, PoolTx>>) {
        let (mut pending, mut queued) = (BTreeMap::new(), BTreeMap::new());
        for (sender, queue) in &self.senders {
            let (nonce, _) = state.nonce_and_balance(sender);
            let ready = self.pending_nonce(sender, nonce);
            for (n, p) in queue {
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
                if base_fee.is_some_and(|b| p.tx.tx.max_fee_per_gas < u128::from(b)) {
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
