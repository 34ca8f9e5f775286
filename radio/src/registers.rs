//! Cumulative energy registers → Wh per interval, for meters that count energy themselves (Linky
//! BASE/HCHC/HCHP/EAST/EAIT, DSMR 1.8.x/2.8.x, Modbus import/export kWh, Shelly totals): the Wh
//! of an interval is the register's value at its end minus its value at its start, each edge
//! interpolated linearly on reception time between the readings around it. Whole Wh are taken at
//! each edge from the interpolated register, so the intervals' Wh add up exactly to the
//! register's growth, across gaps and (the state being serialisable) restarts. A register that
//! goes down (a meter change, a counter reset) or grows faster than any household can draw is a
//! new baseline, counted, never a negative or huge reading.

use serde::{Deserialize, Serialize};

/// Fastest plausible growth of a household's register: 100 kW (a heat pump, an induction hob and
/// two car chargers at once stay under it), in Wh per hour.
pub const MAX_POWER_W: u64 = 100_000;

/// Readings this close to the last one are a burst (a backlog read after a restart, a reader's
/// buffer): they share its moment, and the newest register stands for it. Frames read one by one
/// from a backlog would otherwise each be stamped "now" with an older register, and an interval
/// edge interpolated towards the oldest would read low (what a kill -9 showed under load).
pub const BURST_MS: u64 = 250;

/// Why a register reading was taken as a new baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebase {
    /// The register went down: a meter change or a counter reset.
    WentDown {
        /// Its last value, Wh.
        from: u64,
        /// Its new value, Wh.
        to: u64,
    },
    /// It grew faster than [`MAX_POWER_W`]: a different meter, or a misread that passed the
    /// checks.
    TooFast {
        /// Its last value, Wh.
        from: u64,
        /// Its new value, Wh.
        to: u64,
    },
}

/// One register's running state (serialisable: a restart loses nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterIntegrator {
    /// The reading before the last: reception time (ms) and continuous register (Wh).
    pub previous: Option<(u64, u64)>,
    /// The last reading, as `previous`.
    pub last: Option<(u64, u64)>,
    /// Added to the meter's raw register to keep it continuous across rebases, Wh.
    pub offset: i64,
    /// The continuous register at the last interval edge taken, Wh (whole).
    pub taken_through: Option<u64>,
    /// Rebases so far.
    pub rebases: u64,
}

/// `value + offset`, never below zero.
fn continuous(value: u64, offset: i64) -> u64 {
    (i128::from(value) + i128::from(offset)).clamp(0, i128::from(u64::MAX)) as u64
}

impl RegisterIntegrator {
    /// Adds the meter's raw register `raw_wh` received at `at_ms`. A reading not after the last
    /// is ignored; a rebase is returned (and counted) when the register went down or grew too
    /// fast, and no energy is counted across it.
    pub fn add(&mut self, at_ms: u64, raw_wh: u64) -> Option<Rebase> {
        let mut rebase = None;
        if let Some((t, last)) = self.last {
            if at_ms <= t {
                return None;
            }
            let raw_last = continuous(last, -self.offset);
            // A burst's readings are milliseconds apart: judged over the burst's span at least.
            let elapsed_ms = u128::from((at_ms - t).max(BURST_MS));
            let limit = u128::from(MAX_POWER_W) * elapsed_ms / 3_600_000 + 1;
            if raw_wh < raw_last {
                rebase = Some(Rebase::WentDown { from: raw_last, to: raw_wh });
            } else if u128::from(raw_wh - raw_last) > limit {
                rebase = Some(Rebase::TooFast { from: raw_last, to: raw_wh });
            }
            if rebase.is_some() {
                // Continue the register from where it was: nothing counted across the jump.
                self.offset = last as i64 - raw_wh as i64;
                self.rebases += 1;
                self.previous = None;
                self.last = Some((at_ms, last));
                return rebase;
            }
            if at_ms - t < BURST_MS {
                self.last = Some((t, continuous(raw_wh, self.offset)));
                return None;
            }
        }
        self.previous = self.last;
        self.last = Some((at_ms, continuous(raw_wh, self.offset)));
        rebase
    }

    /// The meter's own (raw) register at the last reading.
    pub fn last_raw(&self) -> Option<u64> {
        self.last.map(|(_, v)| continuous(v, -self.offset))
    }

    /// The continuous register at `edge_ms`, interpolated, if a reading is at or before it.
    fn at(&self, edge_ms: u64) -> Option<u64> {
        match (self.previous, self.last) {
            (_, Some((t, v))) if t <= edge_ms => Some(v),
            (Some((t0, v0)), Some((t1, v1))) if t0 <= edge_ms => {
                let share = u128::from(v1 - v0) * u128::from(edge_ms - t0) / u128::from(t1 - t0);
                Some(v0 + share as u64)
            }
            _ => None,
        }
    }

    /// Takes the Wh up to the interval edge `edge_ms` (call it once the reading after the edge,
    /// if any, was added). The first edge only sets the baseline.
    pub fn take_until(&mut self, edge_ms: u64) -> u64 {
        let Some(now) = self.at(edge_ms) else { return 0 };
        let wh = self.taken_through.map_or(0, |before| now.saturating_sub(before));
        self.taken_through = Some(self.taken_through.map_or(now, |before| before.max(now)));
        wh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edge_between_two_readings_is_interpolated_and_the_total_is_exact() {
        let mut r = RegisterIntegrator::default();
        r.add(0, 1_000_000);
        assert_eq!(r.take_until(0), 0, "the first edge is the baseline");
        // 60 Wh between 50 s and 70 s: the edge at 60 s takes half of it.
        assert_eq!(r.add(50_000, 1_000_050), None);
        assert_eq!(r.add(70_000, 1_000_110), None);
        assert_eq!(r.take_until(60_000), 80);
        r.add(130_000, 1_000_170);
        assert_eq!(r.take_until(120_000), 80);
        // Whatever the edges, the intervals add up to the register's growth.
        assert_eq!(r.take_until(180_000), 10);
        assert_eq!(80 + 80 + 10, 1_000_170 - 1_000_000);
    }

    #[test]
    fn a_gap_gives_its_energy_to_the_interval_where_the_register_shows_it() {
        let mut r = RegisterIntegrator::default();
        r.add(10_000, 500);
        r.take_until(60_000);
        // Silent for three intervals, then the register has grown by 3 kWh.
        assert_eq!(r.take_until(120_000), 0);
        assert_eq!(r.take_until(180_000), 0);
        r.add(250_000, 3_500);
        // Interpolated from 10 s to 250 s across the edges at 240 s and 300 s.
        assert_eq!(r.take_until(240_000), 2_875);
        assert_eq!(r.take_until(300_000), 125);
    }

    #[test]
    fn a_meter_change_or_a_misread_is_a_new_baseline_never_a_reading() {
        let mut r = RegisterIntegrator::default();
        r.add(0, 9_000_000);
        r.take_until(0);
        r.add(10_000, 9_000_010);
        // A new meter starts from zero.
        assert_eq!(r.add(20_000, 3), Some(Rebase::WentDown { from: 9_000_010, to: 3 }));
        r.add(30_000, 13);
        assert_eq!(r.take_until(60_000), 10 + 10, "10 Wh before the change, 10 after");
        // A jump no household can draw in 10 s (1 MWh): a misread, not energy.
        assert!(matches!(r.add(40_000, 1_000_013), Some(Rebase::TooFast { .. })));
        r.add(50_000, 1_000_023);
        assert_eq!(r.take_until(120_000), 10);
        assert_eq!(r.rebases, 2);
        // A new meter whose register is far above the old one's: still nothing counted across.
        let mut r = RegisterIntegrator::default();
        r.add(0, 100);
        r.take_until(0);
        assert!(matches!(r.add(10_000, 5_000_000), Some(Rebase::TooFast { .. })));
        r.add(20_000, 5_000_010);
        assert_eq!(r.take_until(60_000), 10);
    }

    #[test]
    fn intervals_always_add_up_to_the_growth() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..200 {
            let mut r = RegisterIntegrator::default();
            let (mut t, mut v) = (next(1_000_000), next(100_000_000));
            let start = v;
            r.add(t, v);
            let mut edge = t.div_ceil(60_000) * 60_000;
            r.take_until(edge);
            let mut total = 0;
            for _ in 0..100 {
                let dt = 1 + next(200_000);
                t += dt;
                v += next(dt * MAX_POWER_W / 3_600_000 / 4 + 1);
                assert_eq!(r.add(t, v), None);
                while edge + 60_000 <= t {
                    edge += 60_000;
                    total += r.take_until(edge);
                }
            }
            total += r.take_until(t.div_ceil(60_000) * 60_000 + 60_000);
            assert_eq!(total, v - start);
        }
    }

    #[test]
    fn a_burst_of_backlogged_readings_is_one_moment_with_the_newest_register() {
        let mut r = RegisterIntegrator::default();
        r.add(0, 1_000);
        r.take_until(0);
        r.add(10_000, 1_030);
        // The board was down from 10 s; at 20 s it reads the frames the meter sent meanwhile
        // (a second apart, 3 Wh each), one read each, a millisecond apart: the newest is the
        // register at 20 s, and the burst is no implausible jump.
        for (i, register) in [1_033u64, 1_036, 1_039, 1_042].iter().enumerate() {
            assert_eq!(r.add(20_000 + i as u64, *register), None);
        }
        assert_eq!(r.last, Some((20_000, 1_042)));
        // The edge at 15 s is halfway from 10 s: 36 Wh (the stale first frame would give 31).
        assert_eq!(r.take_until(15_000), 36);
        assert_eq!(r.take_until(20_000), 6);
        assert_eq!(r.rebases, 0);
    }

    #[test]
    fn the_state_survives_a_restart() {
        let mut r = RegisterIntegrator::default();
        r.add(0, 100);
        r.take_until(0);
        r.add(30_000, 130);
        let saved = serde_json::to_string(&r).unwrap();
        let mut back: RegisterIntegrator = serde_json::from_str(&saved).unwrap();
        back.add(90_000, 190);
        assert_eq!(back.take_until(60_000), 60);
        assert_eq!(back.add(90_000, 500), None, "a repeated time is ignored");
        assert_eq!(back.add(80_000, 500), None, "an older reading is ignored");
    }
}
