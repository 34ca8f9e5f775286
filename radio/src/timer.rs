//! The sensor timer rule (spec §3.4): a frame is accepted only when its `millis()` timer is
//! strictly above the last accepted one (an exact replay or a duplicate is dropped). A drop to a
//! small value is held: when the next frame counts up from it while staying below the old
//! counter, the sensor rebooted and the series restarts there; when the next frame continues the
//! old series, the small value was noise or a replay and is dropped. An unconfirmed frame never
//! counts, so a reboot costs one sample.
//!
//! A timer can only run as fast as time: a frame whose timer moved further than the time since
//! the last accepted frame (plus [`JUMP_SLACK_MS`] and 1 % drift) is a forgery or a corrupt
//! frame and is dropped ([`TimerVerdict::Jump`]), so one forged frame with a huge timer cannot
//! make every genuine frame after it look like a duplicate.

use serde::{Deserialize, Serialize};

/// Timers below this (ms) after a drop look like a freshly booted sensor.
pub const REBOOT_BELOW_MS: u32 = 60_000;
/// Upstream's wrap threshold: past 49 days any timer is accepted, letting `millis()` wrap.
pub const WRAP_AFTER_MS: u32 = 4_233_600_000;

/// Timer advance tolerated beyond the receive clock's (ms): frames batched in the radio FIFO or
/// a serial buffer, a stalled node; one forged frame mutes a sensor for at most this long.
pub const JUMP_SLACK_MS: u64 = 30_000;

/// What the rule says of one timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerVerdict {
    /// A new measurement.
    Accept,
    /// The same or an older timer: a duplicate or a replay.
    Duplicate,
    /// A small timer after a larger one: held until the next frame says whether it rebooted.
    PossibleReboot,
    /// The sensor rebooted: this frame is a new measurement and the series restarts from it.
    Rebooted,
    /// The timer moved further than time did since the last accepted frame.
    Jump,
}

/// Per-sensor timer state (persisted with the meter).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerRule {
    /// Last accepted timer (0: none yet).
    pub last: u32,
    /// A small timer seen after a larger one, waiting for confirmation.
    pub held: Option<u32>,
    /// When (receive clock, ms) the last timer was accepted (0: unknown).
    #[serde(default)]
    pub last_at: u64,
}

impl TimerRule {
    /// Judges the next timer, received at `at_ms`: the strict rule, then the jump rule.
    pub fn check_at(&mut self, timer: u32, at_ms: u64) -> TimerVerdict {
        let jumped = self.last != 0
            && self.last < WRAP_AFTER_MS
            && self.last_at != 0
            && at_ms >= self.last_at
            && timer > self.last
            && u64::from(timer - self.last) > {
                let elapsed = at_ms - self.last_at;
                elapsed + elapsed / 100 + JUMP_SLACK_MS
            };
        if jumped {
            return TimerVerdict::Jump;
        }
        let verdict = self.check(timer);
        if matches!(verdict, TimerVerdict::Accept | TimerVerdict::Rebooted) || at_ms < self.last_at
        {
            self.last_at = at_ms;
        }
        verdict
    }

    /// Judges the next timer by the strict rule alone (no receive time).
    pub fn check(&mut self, timer: u32) -> TimerVerdict {
        if let Some(held) = self.held.take() {
            if timer > held && timer < self.last {
                self.last = timer;
                return TimerVerdict::Rebooted;
            }
        }
        if self.last == 0 || self.last >= WRAP_AFTER_MS || timer > self.last {
            self.last = timer;
            return TimerVerdict::Accept;
        }
        if timer < REBOOT_BELOW_MS && timer < self.last {
            self.held = Some(timer);
            return TimerVerdict::PossibleReboot;
        }
        TimerVerdict::Duplicate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TimerVerdict::*;

    #[test]
    fn a_forged_jump_is_dropped_and_does_not_mute_the_sensor() {
        let mut rule = TimerRule::default();
        let t0 = 1_700_000_000_000u64;
        assert_eq!(rule.check_at(10_000, t0), Accept);
        assert_eq!(rule.check_at(18_000, t0 + 8_000), Accept);
        // A forged frame claims the timer is a day ahead.
        assert_eq!(rule.check_at(86_400_000, t0 + 9_000), Jump);
        // The genuine sensor goes on, unmuted.
        assert_eq!(rule.check_at(26_000, t0 + 16_000), Accept);
        assert_eq!(rule.check_at(34_100, t0 + 24_000), Accept, "clock jitter within the slack");
        // After the node was off for an hour, the sensor's timer advanced by an hour too.
        assert_eq!(rule.check_at(34_100 + 3_600_000, t0 + 24_000 + 3_600_000), Accept);
        // The receive clock stepped back: no judgement possible, the strict rule decides.
        assert_eq!(rule.check_at(3_700_000, t0), Accept);
        assert_eq!(rule.check_at(3_708_000, t0 + 8_000), Accept);
    }

    #[test]
    fn spec_8b_4_strict_rule() {
        let mut rule = TimerRule::default();
        let verdicts: Vec<_> = [1000, 9000, 9000, 500, 17000].map(|t| rule.check(t)).to_vec();
        // 500 is held as a possible reboot; 17000 does not confirm it (not counting up from 500).
        assert_eq!(verdicts, [Accept, Accept, Duplicate, PossibleReboot, Accept]);
    }

    #[test]
    fn a_confirmed_reboot_is_accepted() {
        let mut rule = TimerRule { last: 3_000_000, held: None, last_at: 0 };
        assert_eq!(rule.check(400), PossibleReboot);
        assert_eq!(rule.check(9000), Rebooted);
        assert_eq!(rule.check(17_500), Accept);
        assert_eq!(rule.check(17_500), Duplicate);
    }

    #[test]
    fn the_counter_may_wrap_after_49_days() {
        let mut rule = TimerRule { last: WRAP_AFTER_MS + 5, held: None, last_at: 0 };
        assert_eq!(rule.check(100_000), Accept);
        assert_eq!(rule.check(99_000), Duplicate);
    }
}
