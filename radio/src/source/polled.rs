//! What the sources that ask a device (Modbus, Shelly) or listen to a broker (MQTT) share: a
//! schedule of readings, a warning said at most once a minute, and a power in W from a float.

use std::time::{Duration, Instant};

/// A failure is said at most this often.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Readings every `every`, the first at once.
#[derive(Debug)]
pub(crate) struct Schedule {
    every: Duration,
    next_at: Instant,
}

impl Schedule {
    pub(crate) fn new(every: Duration) -> Self {
        Self { every, next_at: Instant::now() }
    }

    /// Whether a reading is due now (then the next is scheduled); if not, waits a little (at
    /// most 100 ms, as a device read would) and says no.
    pub(crate) fn due(&mut self) -> bool {
        let now = Instant::now();
        if now < self.next_at {
            std::thread::sleep((self.next_at - now).min(Duration::from_millis(100)));
            return false;
        }
        self.next_at = now + self.every;
        true
    }
}

/// A warning logged at most once a minute.
#[derive(Debug, Default)]
pub(crate) struct Warner {
    warned: Option<Instant>,
}

impl Warner {
    /// Whether to say it now.
    pub(crate) fn now(&mut self) -> bool {
        let say = self.warned.is_none_or(|at| at.elapsed() >= WARN_EVERY);
        if say {
            self.warned = Some(Instant::now());
        }
        say
    }
}

/// A power a meter gave as a float (negative when returning), as a sample's W.
pub(crate) fn power_w(watts: Option<f64>) -> u16 {
    watts.filter(|p| p.is_finite()).map_or(0, |p| p.abs().min(65_535.0) as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_is_due_at_once_then_every_period_and_warnings_once_a_minute() {
        let mut s = Schedule::new(Duration::from_millis(150));
        assert!(s.due());
        assert!(!s.due());
        std::thread::sleep(Duration::from_millis(160));
        assert!(s.due());
        let mut w = Warner::default();
        assert!(w.now());
        assert!(!w.now());
        assert_eq!(power_w(Some(-850.4)), 850);
        assert_eq!(power_w(Some(f64::NAN)), 0);
        assert_eq!(power_w(Some(1e9)), 65_535);
        assert_eq!(power_w(None), 0);
    }
}
