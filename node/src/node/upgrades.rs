//! Chain upgrades as the running board sees them: its fork id for peers, what the peers'
//! fork ids say about its own schedule, and the state "the community upgraded and this board did
//! not", in which it stops sealing at the upgrade (rather than sealing blocks the upgraded boards
//! refuse, forking off silently), says what to do, and bans nobody for it.

use super::{lock, Node};
use crate::genesis::{fork_is_time, ForkAgreement, ForkFilter, ForkId, ForkMismatch};
use serde::Serialize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An upgrade problem is logged at most this often.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// What the board knows of upgrades it lacks.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeReport {
    /// A fork (block number, or unix time above geth's threshold) that peers schedule and this
    /// board's chain config does not.
    pub peers_schedule: Option<u64>,
    /// Set once this board has met a block or peer past an upgrade it lacks: it no longer seals.
    pub stopped: Option<String>,
    /// What is wrong and what to do, if anything.
    pub problem: Option<String>,
}

/// The fork filter and what peers said.
pub(super) struct Upgrades {
    filter: ForkFilter,
    report: Mutex<UpgradeReport>,
    warned: Mutex<Option<Instant>>,
}

const WHAT_TO_DO: &str = "get the community's new genesis file, stop the node, run \
     `daisee init --upgrade FILE --datadir DIR` and start it again";

impl Upgrades {
    pub(super) fn new(filter: ForkFilter) -> Self {
        Self { filter, report: Mutex::default(), warned: Mutex::default() }
    }
}

/// Whether a block at (`number`, `time`) passes `fork` (a block number or a timestamp).
fn passes(fork: u64, number: u64, time: u64) -> bool {
    if fork_is_time(fork) {
        time >= fork
    } else {
        number >= fork
    }
}

impl Node {
    /// This board's fork id at its head.
    pub fn fork_id(&self) -> ForkId {
        let head = self.head();
        self.inner.upgrades.filter.id(head.number, head.timestamp)
    }

    /// What the board knows of upgrades it lacks.
    pub fn upgrades(&self) -> UpgradeReport {
        lock(&self.inner.upgrades.report).clone()
    }

    /// Checks a peer's fork id (the network calls this on each status). `Err` means the peer
    /// cannot follow this chain or this board cannot follow the peer's: disconnect, ban nobody.
    /// Only a peer that proved it runs a signer (`signer`) can make this board stop sealing: any
    /// LAN neighbour can claim a fork schedule.
    pub fn check_peer_fork(
        &self,
        peer: &str,
        id: ForkId,
        signer: bool,
    ) -> Result<(), ForkMismatch> {
        let head = self.head();
        let verdict = self.inner.upgrades.filter.check(head.number, head.timestamp, id);
        if !signer {
            if verdict != Ok(ForkAgreement::Same) {
                tracing::debug!(target: "daisee::net", %peer, "a peer that proved no signer announces another fork schedule: ignored");
            }
            return verdict.map(|_| ());
        }
        match verdict {
            Ok(ForkAgreement::Same) => {}
            Ok(ForkAgreement::PeerSchedules(fork)) => {
                let problem = format!(
                    "peers schedule an upgrade at {} that this board's chain config lacks: it \
                     will stop sealing there; before then, {WHAT_TO_DO}",
                    describe(fork)
                );
                let mut report = lock(&self.inner.upgrades.report);
                report.peers_schedule = Some(fork);
                report.problem.get_or_insert(problem);
            }
            Ok(ForkAgreement::PeerLacks(fork)) => {
                tracing::debug!(target: "daisee::chain", %peer, "peer has not scheduled the upgrade at {}", describe(fork));
            }
            Err(ForkMismatch::LocalIncompatibleOrStale) => self.stop_for_upgrade(format!(
                "peer {peer} has passed an upgrade this board's chain config lacks"
            )),
            Err(ForkMismatch::RemoteStale) => {
                tracing::warn!(target: "daisee::net", %peer, "peer has not taken the upgrade this chain passed: it cannot follow the chain until its operator upgrades it");
            }
        }
        self.warn_about_upgrade();
        verdict.map(|_| ())
    }

    /// The chain moved past an upgrade this board lacks (a block with a later fork's fields, or
    /// a peer's fork id): stop sealing and say so.
    pub fn stop_for_upgrade(&self, why: String) {
        let mut report = lock(&self.inner.upgrades.report);
        if report.stopped.is_none() {
            report.problem = Some(format!("{why}; this board stopped sealing: {WHAT_TO_DO}"));
            report.stopped = Some(why);
            *lock(&self.inner.upgrades.warned) = None;
        }
    }

    /// Whether sealing a block at (`number`, `time`) would cross an upgrade this board lacks.
    pub(super) fn upgrade_forbids_sealing(&self, number: u64, time: u64) -> bool {
        let report = lock(&self.inner.upgrades.report);
        report.stopped.is_some()
            || report.peers_schedule.is_some_and(|fork| passes(fork, number, time))
    }

    /// Logs the upgrade problem, if any (at most once a minute).
    pub fn warn_about_upgrade(&self) {
        let Some(problem) = self.upgrades().problem else { return };
        let mut warned = lock(&self.inner.upgrades.warned);
        if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            *warned = Some(Instant::now());
            tracing::error!(target: "daisee::chain", "{problem}");
        }
    }
}

fn describe(fork: u64) -> String {
    if fork_is_time(fork) {
        let at =
            jiff::Timestamp::from_second(fork as i64).map_or(fork.to_string(), |t| t.to_string());
        format!("time {fork} ({at})")
    } else {
        format!("block {fork}")
    }
}
