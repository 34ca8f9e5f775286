//! Sealing on the node: when the next block is due (with `period > 0` every period after its
//! parent; with `period = 0`, in dev, as soon as transactions wait, at most one block per
//! [`INSTANT_BLOCK_GAP`] unless the last one was full; empty blocks only with
//! `--seal-empty`, to spare SD cards), whether this signer may seal it (turn, recent signatures,
//! Clique's out-of-turn wiggle), building it from the pool with a pending vote, committing it,
//! dropping transactions that can never be included, and the loop that does it ([`run_sealer`]).

use super::{lock, Node, SealError};
use crate::chain::Chain;
use crate::primitives::{Address, Header, B256};
use crate::sealer::build_block;
use crate::txpool::AccountState;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

impl Node {
    /// How long until the next block is due; `None` when it waits for transactions.
    pub fn seal_delay(&self) -> Option<Duration> {
        self.inner.config.signer.as_ref()?;
        let head = self.head();
        let (period, seal_empty) = self.sealing_rules(head.number + 1);
        // Only ready transactions are work: a queued one waits for its nonce gap to close.
        let has_work = seal_empty || self.pool_has_ready();
        if period == 0 {
            return has_work.then_some(Duration::ZERO);
        }
        let due = head.timestamp + period;
        let wait = match self.inner.config.clock {
            Some(_) => Duration::from_secs(due.saturating_sub(self.now())),
            None => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
                Duration::from_secs(due).saturating_sub(now)
            }
        };
        (has_work || wait > Duration::ZERO).then_some(wait)
    }

    /// Seals a block if this node is an authorized signer, its turn allows and there is work.
    /// Returns the new head.
    pub fn seal_if_due(&self) -> Result<Option<Header>, SealError> {
        let Some(key) = self.inner.config.signer.clone() else { return Ok(None) };
        let started = Instant::now();
        let now = self.now();
        let mut chain = lock(&self.inner.chain);
        let head = chain.head().clone();
        let number = head.number + 1;
        let snapshot = chain.snapshot();
        if !snapshot.signers.contains(&key.address())
            || snapshot.recently_signed(number, &key.address())
        {
            return Ok(None);
        }
        let (period, seal_empty) = self.rules_in(&chain, number);
        let timestamp = now.max(head.timestamp + period);
        if timestamp > now {
            if head.timestamp > now {
                drop(chain);
                self.warn_about_clock();
            }
            return Ok(None);
        }
        if self.upgrade_forbids_sealing(number, timestamp) {
            drop(chain);
            self.warn_about_upgrade();
            return Ok(None);
        }
        if !self.inner.clock.report(now, head.timestamp).may_seal() {
            drop(chain);
            self.warn_about_clock();
            return Ok(None);
        }
        // Out of turn, wait a random while so the in-turn signer's block usually wins.
        if !snapshot.in_turn(number, &key.address()) {
            let mut wiggle = lock(&self.inner.wiggle);
            let ready = match *wiggle {
                Some((hash, at)) if hash == head.hash() => at,
                _ => {
                    let at = Instant::now() + random_wiggle(snapshot.signers.len());
                    *wiggle = Some((head.hash(), at));
                    at
                }
            };
            if Instant::now() < ready {
                return Ok(None);
            }
        }
        let candidates = {
            let pool = lock(&self.inner.pool);
            pool.best(&self.inner.store, crate::consensus::next_base_fee(chain.config(), &head))
        };
        if candidates.is_empty() && !seal_empty && lock(&self.inner.proposals).is_empty() {
            return Ok(None);
        }
        // Stamped no earlier than the moment its transactions were chosen: one that arrived after
        // `now` was read (this thread descheduled on a busy board) may rest on a time another
        // board's head already showed: a meter's interval just over, which the contract checks
        // against the block's time (`IntervalNotOver`).
        // The block is checked against that moment too: against `now`, read before, a block
        // stamped later is "in the future" and the seal fails.
        let chosen_at = self.now().max(now);
        let timestamp = timestamp.max(chosen_at);
        let vote = self.pick_vote(&chain);
        let mut built = build_block(&chain, &key, timestamp, &candidates, vote)?;
        for (hash, reason) in &built.invalid {
            tracing::debug!(target: "daisee::sealer", %hash, "left out: {reason}");
        }
        if built.block.transactions.is_empty() && !seal_empty {
            self.drop_invalid(&built.invalid);
            return Ok(None);
        }
        built.insert_into(&mut chain, chosen_at, started)?;
        metrics::histogram!("daisee_seal_seconds").record(started.elapsed().as_secs_f64());
        let new_head = chain.head().clone();
        drop(chain);
        self.after_new_head(&new_head)?;
        self.drop_invalid(&built.invalid);
        Ok(Some(new_head))
    }

    /// The period and empty-block rule for block `number` (the chain's transitions win over
    /// this board's `--seal-empty`).
    fn sealing_rules(&self, number: u64) -> (u64, bool) {
        self.rules_in(&lock(&self.inner.chain), number)
    }

    fn rules_in(&self, chain: &Chain, number: u64) -> (u64, bool) {
        let clique = chain.clique();
        let empty = clique.empty_blocks_at(number).unwrap_or(self.inner.config.seal_empty);
        (clique.period_at(number), empty)
    }

    /// A proposal that still makes sense on the head (geth picks one at random; we rotate).
    fn pick_vote(&self, chain: &Chain) -> Option<(Address, bool)> {
        let snapshot = chain.snapshot();
        let number = chain.head().number + 1;
        if number.is_multiple_of(snapshot.epoch) {
            return None;
        }
        let proposals = lock(&self.inner.proposals);
        let valid: Vec<(Address, bool)> = proposals
            .iter()
            .filter(|(a, auth)| snapshot.signers.contains(*a) != **auth)
            .map(|(a, auth)| (*a, *auth))
            .collect();
        (!valid.is_empty()).then(|| valid[(number as usize) % valid.len()])
    }

    /// Transactions that can never be included (e.g. funds gone), or that execution refused in
    /// several blocks in a row, leave the pool (and the journal at its next rewrite).
    fn drop_invalid(&self, invalid: &[(B256, String)]) {
        let mut pool = lock(&self.inner.pool);
        for (hash, reason) in invalid {
            let store = &self.inner.store;
            let still_valid = pool.get(hash).is_some_and(|p| {
                let (nonce, balance) = store.nonce_and_balance(&p.sender);
                p.tx.tx.nonce >= nonce && balance >= crate::txpool::max_cost(&p.tx)
            });
            let struck_out = pool.strike(hash);
            if (!still_valid || struck_out) && pool.remove(hash).is_some() {
                tracing::warn!(target: "daisee::txpool", %hash, "dropped: {reason}");
            }
        }
    }
}

/// Clique's out-of-turn delay: up to 500 ms per signer in `signers/2 + 1`.
fn random_wiggle(signers: usize) -> Duration {
    let max_ms = (signers as u64 / 2 + 1) * 500;
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    Duration::from_millis(u64::from_le_bytes(bytes) % max_ms.max(1))
}

/// With period 0, the least time between the end of one block's sealing and the next: a
/// transaction sent to an idle node is still sealed at once, one sent meanwhile waits at most
/// this long.
pub(super) const INSTANT_BLOCK_GAP: Duration = Duration::from_millis(10);

/// Whether `header`'s block used nine tenths of its gas or more: the pool held more than a
/// block, so the next one is sealed without [`INSTANT_BLOCK_GAP`].
fn nearly_full(header: &Header) -> bool {
    header.gas_used >= header.gas_limit / 10 * 9
}

/// Runs the sealing loop until `shutdown` turns true.
pub async fn run_sealer(node: Node, mut shutdown: watch::Receiver<bool>) {
    // After an attempt that sealed nothing (transactions not yet includable, or not our turn),
    // wait a little rather than spin.
    let mut idle = false;
    loop {
        let delay = node.seal_delay();
        let delay = if idle { delay.map(|d| d.max(Duration::from_millis(250))) } else { delay };
        let wake = node.pool_changed();
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = wake => {}
            _ = tokio::time::sleep(delay.unwrap_or(Duration::from_secs(3600))) => {}
        }
        if *shutdown.borrow() {
            break;
        }
        let sealing = node.clone();
        let outcome = tokio::task::spawn_blocking(move || sealing.seal_if_due()).await;
        idle = matches!(outcome, Ok(Ok(None)));
        match outcome {
            Ok(Ok(Some(head))) => {
                node.clear_write_failure();
                if node.sealing_rules(head.number + 1).0 == 0 && !nearly_full(&head) {
                    // With period 0 a block follows its transactions at once. Under a stream
                    // of submissions that meant a block, and its fixed costs (roots, commit,
                    // flush, notifications), for every transaction or two: a short pause lets
                    // the next block take whatever arrives meanwhile. After a full block
                    // there is nothing to gather: the pool already holds the next one.
                    tokio::select! {
                        _ = shutdown.changed() => break,
                        _ = tokio::time::sleep(INSTANT_BLOCK_GAP) => {}
                    }
                }
            }
            Ok(Ok(None)) => {}
            // The database refuses writes (full disk): no block it cannot store; say so once a
            // minute and try again later, rather than every second.
            Ok(Err(e)) => match e.store_error().filter(|s| super::is_write_failure(s)) {
                Some(store) => {
                    node.note_write_failure(
                        "sealing stopped, the block could not be stored",
                        store,
                    );
                    tokio::select! {
                        _ = shutdown.changed() => break,
                        _ = tokio::time::sleep(super::WRITE_RETRY) => {}
                    }
                }
                None => {
                    tracing::error!(target: "daisee::sealer", "sealing failed: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
            Err(e) => tracing::error!(target: "daisee::sealer", "sealing task panicked: {e}"),
        }
    }
    tracing::info!(target: "daisee::sealer", "sealer stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_block_with_nine_tenths_of_its_gas_used_skips_the_pause() {
        let header = |used| Header { gas_limit: 30_000_000, gas_used: used, ..Header::default() };
        assert!(nearly_full(&header(29_911_624)));
        assert!(nearly_full(&header(27_000_000)));
        assert!(!nearly_full(&header(26_999_999)));
        assert!(!nearly_full(&header(4_400_000)));
    }
}
