//! The sensor timer rule (spec §3.4): a frame is accepted only when its `millis()` timer is
//! strictly above the last accepted one (an exact replay or a duplicate is dropped). A drop to a
//! small value is held: when the next frame counts up from it while staying below the old
//! counter, the sensor rebooted and the series restarts there; when the next frame continues the
//! old series, the small value was noise or a replay and is dropped. An unconfirmed frame never
//! counts, so a reboot costs one sample.

use serde::{Deserialize, Serialize};

/// Timers below this (ms) after a drop look like a freshly booted sensor.
pub const REBOOT_BELOW_MS: u32 = 60_000;
/// Upstream's wrap threshold: past 49 days any timer is accepted, letting `millis()` wrap.
pub const WRAP_AFTER_MS: u32 = 4_233_600_000;

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
}

/// Per-sensor timer state (persisted with the meter).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerRule {
    /// Last accepted timer (0: none yet).
    pub last: u32,
    /// A small timer seen after a larger one, waiting for confirmation.
    pub held: Option<u32>,
}

impl TimerRule {
    /// Judges the next timer.
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
    fn spec_8b_4_strict_rule() {
        let mut rule = TimerRule::default();
        let verdicts: Vec<_> = [1000, 9000, 9000, 500, 17000].map(|t| rule.check(t)).to_vec();
        // 500 is held as a possible reboot; 17000 does not confirm it (not counting up from 500).
        assert_eq!(verdicts, [Accept, Accept, Duplicate, PossibleReboot, Accept]);
    }

    #[test]
    fn a_confirmed_reboot_is_accepted() {
        let mut rule = TimerRule { last: 3_000_000, held: None };
        assert_eq!(rule.check(400), PossibleReboot);
        assert_eq!(rule.check(9000), Rebooted);
        assert_eq!(rule.check(17_500), Accept);
        assert_eq!(rule.check(17_500), Duplicate);
    }

    #[test]
    fn the_counter_may_wrap_after_49_days() {
        let mut rule = TimerRule { last: WRAP_AFTER_MS + 5, held: None };
        assert_eq!(rule.check(100_000), Accept);
        assert_eq!(rule.check(99_000), Duplicate);
    }
}
