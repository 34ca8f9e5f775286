//! This board's clock against the chain's: a Raspberry Pi has no real-time clock, so after a
//! power cut it may boot in 1970 or with the time it last saved, until NTP answers (and a
//! community LAN may have no internet). A board whose clock is behind its head cannot seal (its
//! next block would be older than the head) and refuses its peers' newest blocks as "in the
//! future"; one whose clock is ahead of its peers' would seal blocks they refuse. Either way it
//! says so — log (once a minute), `daisee_status`, metric, dashboard — bans nobody for it, does
//! not seal what the others would refuse, and carries on by itself once the clock is right.

use serde::Serialize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How far ahead of its peers' clocks (median) a board may be and still seal, s: a block that far
/// in their future waits at most that long before they take it.
pub const AHEAD_TOLERANCE: i64 = 5;
/// No clock can be right before this (2025-12-01T00:00Z, before this software existed): a board
/// that boots in 1970 knows its clock is wrong even with no peer to compare with, as systemd's
/// `TIME_EPOCH`.
pub const EARLIEST_PLAUSIBLE: u64 = 1_764_547_200;
/// A clock problem is logged at most this often.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// What the board knows of its clock.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ClockReport {
    /// This board's time, unix s.
    pub now: u64,
    /// The head's timestamp.
    pub head_timestamp: u64,
    /// How far the head is in this board's future, s (0: it is not).
    pub behind_head: u64,
    /// The peers' clocks minus this board's (median, s), when peers told.
    pub peers_offset: Option<i64>,
    /// What is wrong and what to do, if anything.
    pub problem: Option<String>,
}

impl ClockReport {
    /// This board's clock is ahead of its peers' by more than the tolerance.
    pub fn ahead_of_peers(&self) -> bool {
        self.peers_offset.is_some_and(|o| -o > AHEAD_TOLERANCE)
    }

    /// Whether the board may seal: a clock before [`EARLIEST_PLAUSIBLE`] or off from its
    /// peers' by more than the tolerance either way would seal blocks the others refuse or fork.
    pub fn may_seal(&self) -> bool {
        self.now >= EARLIEST_PLAUSIBLE
            && self.peers_offset.is_none_or(|o| o.abs() <= AHEAD_TOLERANCE)
    }
}

/// The peers' time and when a problem was last logged.
#[derive(Default)]
pub(super) struct Clock {
    /// The peers' time (unix s) at an instant of the monotonic clock: carried forward by the
    /// monotonic clock, it shows a jump of this board's wall clock at once, not at the next
    /// status round.
    peers_time: Mutex<Option<(Instant, i64)>>,
    warned: Mutex<Option<Instant>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Clock {
    pub(super) fn set_peers_offset(&self, offset: Option<i64>, now: u64) {
        *lock(&self.peers_time) = offset.map(|o| (Instant::now(), now as i64 + o));
    }

    pub(super) fn report(&self, now: u64, head_timestamp: u64) -> ClockReport {
        let peers_offset = lock(&self.peers_time)
            .map(|(at, time)| time + at.elapsed().as_secs() as i64 - now as i64);
        let behind_head = head_timestamp.saturating_sub(now);
        let mut report =
            ClockReport { now, head_timestamp, behind_head, peers_offset, problem: None };
        report.problem = if now < EARLIEST_PLAUSIBLE {
            Some(format!(
                "this board's clock says {now} s after 1970, before this software existed: it is wrong \
                 (a Raspberry Pi has no real-time clock): check NTP; the board does not seal until it is right"
            ))
        } else if let Some(offset) = peers_offset.filter(|o| *o > AHEAD_TOLERANCE) {
            Some(format!(
                "this board's clock is {offset} s behind its peers' (the chain's head is {behind_head} s in its future): \
                 check NTP or the real-time clock; it syncs and seals again by itself once the clock is right"
            ))
        } else if behind_head > 0 {
            Some(format!(
                "this board's clock is {behind_head} s behind the chain's head: check NTP or the real-time clock; \
                 it seals again by itself once the clock has caught up"
            ))
        } else if report.ahead_of_peers() {
            Some(format!(
                "this board's clock is {} s ahead of its peers': it does not seal (they would refuse its blocks) \
                 until NTP sets it right",
                -peers_offset.unwrap_or_default()
            ))
        } else {
            None
        };
        report
    }

    /// Logs `report`'s problem, at most once a minute.
    pub(super) fn warn(&self, report: &ClockReport) {
        let Some(problem) = &report.problem else { return };
        let mut warned = lock(&self.warned);
        if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            tracing::warn!(target: "daisee::clock", "{problem}");
            *warned = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behind_ahead_and_right() {
        let clock = Clock::default();
        let t = EARLIEST_PLAUSIBLE + 1_000_000;
        assert_eq!(clock.report(t, t - 5).problem, None);
        assert!(clock.report(t, t - 5).may_seal());
        let behind = clock.report(t, t + 999_990);
        assert_eq!(behind.behind_head, 999_990);
        assert!(behind.problem.as_deref().is_some_and(|p| p.contains("behind the chain's head")));
        let in_1970 = clock.report(1000, 0);
        assert!(!in_1970.may_seal(), "a clock in 1970 is wrong even with a genesis at 0");
        assert!(in_1970
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("before this software existed")));
        clock.set_peers_offset(Some(-3600), t);
        let ahead = clock.report(t, t - 5);
        assert!(ahead.ahead_of_peers() && !ahead.may_seal());
        assert!(ahead.problem.as_deref().is_some_and(|p| p.contains("3600 s ahead")));
        clock.set_peers_offset(Some(-AHEAD_TOLERANCE), t);
        assert!(clock.report(t, t - 5).may_seal(), "a few seconds are tolerated");
        clock.set_peers_offset(Some(86_400), t);
        let late = clock.report(t, t - 5);
        assert!(!late.may_seal());
        assert!(late.problem.as_deref().is_some_and(|p| p.contains("behind its peers'")));
    }
}
