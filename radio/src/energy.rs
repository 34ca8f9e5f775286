//! Power samples → energy (spec §3.5): the trapezoid rule on reception timestamps, exact to the
//! last W·ms, with whole Wh taken out per interval and the rest carried over. A gap longer than
//! [`MAX_GAP_MS`] is not interpolated: the sample before it counts for one nominal sensor period
//! and the gap is reported. [`compat_sum_watts`] reproduces the 2016 bridge's number.

use serde::{Deserialize, Serialize};

/// Longest silence that is still interpolated.
pub const MAX_GAP_MS: u64 = 60_000;
/// How long one sample stands for when its neighbour is missing (the sensor's ~8.5 s period).
pub const NOMINAL_PERIOD_MS: u64 = 8_500;
/// Accumulator units (2·W·ms, the trapezoid's sum of ends times duration) in one Wh.
const UNITS_PER_WH: u128 = 2 * 3_600_000;

/// A stretch of time with no samples that was not interpolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// Last sample before it (ms).
    pub from_ms: u64,
    /// First sample after it (ms).
    pub to_ms: u64,
}

/// Running energy of one sensor. Serialisable so a restart loses nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integrator {
    /// The last sample: reception time (ms) and power (W).
    pub last: Option<(u64, u16)>,
    /// Energy not yet taken, in 2·W·ms.
    pub pending: u128,
}

impl Integrator {
    /// Adds a sample received at `at_ms`. A sample not after the last one is ignored.
    pub fn add(&mut self, at_ms: u64, power_w: u16) -> Option<Gap> {
        let mut gap = None;
        match self.last {
            Some((t, _)) if at_ms <= t => return None,
            Some((t, p)) if at_ms - t > MAX_GAP_MS => {
                self.pending += 2 * u128::from(p) * u128::from(NOMINAL_PERIOD_MS);
                gap = Some(Gap { from_ms: t, to_ms: at_ms });
            }
            Some((t, p)) => {
                self.pending += (u128::from(p) + u128::from(power_w)) * u128::from(at_ms - t);
            }
            None => {}
        }
        self.last = Some((at_ms, power_w));
        gap
    }

    /// Whole milli-Wh integrated so far (not taken).
    pub fn pending_mwh(&self) -> u64 {
        (self.pending * 1000 / UNITS_PER_WH) as u64
    }

    /// Takes the whole Wh integrated so far; the remainder stays for the next interval.
    pub fn take_wh(&mut self) -> u64 {
        let wh = self.pending / UNITS_PER_WH;
        self.pending -= wh * UNITS_PER_WH;
        wh as u64
    }
}

/// Which 2016 bridge to imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bridge {
    /// DzScripts v0.1: Σ int(W / 100).
    V01,
    /// DzScripts v0.2: Σ int(W).
    V02,
}

/// The number the 2016 bridge sent for a window of samples: a sum of watts, not energy
/// (≈ 424 × the real Wh at the sensor's period). For side-by-side checks only.
pub fn compat_sum_watts(samples_w: &[f64], bridge: Bridge) -> u64 {
    samples_w
        .iter()
        .map(|w| match bridge {
            Bridge::V01 => (w / 100.0) as u64,
            Bridge::V02 => *w as u64,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_8b_5_energy_example() {
        let mut e = Integrator::default();
        for (t, w) in [(0, 460), (9_000, 470), (18_000, 480)] {
            assert_eq!(e.add(t, w), None);
        }
        assert_eq!(e.pending_mwh(), 2350);
        assert_eq!(e.take_wh(), 2);
        assert_eq!(e.pending_mwh(), 350, "the remainder carries over");
        assert_eq!(compat_sum_watts(&[460.0, 470.0, 480.0], Bridge::V02), 1410);
        assert_eq!(compat_sum_watts(&[460.0, 470.0, 480.0], Bridge::V01), 12);
    }

    #[test]
    fn remainders_add_up_across_intervals() {
        // 1000 W for an hour in 9 s steps, taken every minute: exactly 1000 Wh in total.
        let mut e = Integrator::default();
        let mut total = 0;
        for i in 0..=400u64 {
            e.add(i * 9_000, 1000);
            if i % 7 == 0 {
                total += e.take_wh();
            }
        }
        total += e.take_wh();
        assert_eq!(total, 1000);
        assert_eq!(e.pending, 0);
    }

    #[test]
    fn a_long_gap_is_reported_not_invented() {
        let mut e = Integrator::default();
        e.add(0, 1000);
        let gap = e.add(3_600_000, 1000);
        assert_eq!(gap, Some(Gap { from_ms: 0, to_ms: 3_600_000 }));
        // One nominal period of 1000 W, not an hour of it.
        assert_eq!(e.pending_mwh(), 1000 * 8_500 / 3_600);
        assert_eq!(e.add(3_600_000, 5), None, "a repeated timestamp is ignored");
        assert_eq!(e.add(100, 5), None, "an older sample is ignored");
    }
}
