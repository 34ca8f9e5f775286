//! Samples → interval readings. Intervals sit on a grid (multiples of the interval since the
//! epoch); a sample at time t belongs to the interval ending at the first grid point ≥ t. An
//! interval closes once the sources' clock has passed its end; an interval in which no sensor
//! delivered anything is not reported (a gap, counted) and the next reading covers it.

use super::Direction;
use daisee_radio::{Integrator, RegisterIntegrator, Sample, TimerRule};
use serde::{Deserialize, Serialize};

/// One sensor's running state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensorState {
    /// Energy integration, with the carried remainder.
    pub integrator: Integrator,
    /// The frame timer rule (frame sources).
    pub timer: Option<TimerRule>,
    /// The 2016 bridge's number for the open interval: the sum of the watt samples
    /// (`compat_sum_watts`, DzScripts v0.2), kept for side-by-side checks, never sent.
    #[serde(default)]
    pub compat_sum_w: u64,
    /// The same for the last closed interval.
    #[serde(default)]
    pub last_compat_sum_w: u64,
    /// A meter with energy registers: drawn and returned (once it sent them).
    #[serde(default)]
    pub registers: Option<(RegisterIntegrator, RegisterIntegrator)>,
}

/// A meter's state between samples: everything needed to lose nothing across a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterState {
    /// End (ms) of the open interval; 0 before the first sample.
    pub open_end_ms: u64,
    /// Samples in the open interval.
    pub samples_in_open: u64,
    /// Per sensor, in configuration order.
    pub sensors: Vec<SensorState>,
    /// Intervals without any sample, so far.
    pub gaps: u64,
    /// Long silences of a sensor that were not interpolated.
    pub sensor_gaps: u64,
    /// Register readings taken as a new baseline (a meter change, a counter reset, a jump).
    #[serde(default)]
    pub rebases: u64,
    /// Samples newer than what every sensor has delivered: held until the others catch up, so
    /// an interval never closes while a slower sensor may still deliver into it. Not persisted:
    /// a restart resumes each source after its last integrated sample.
    #[serde(skip)]
    pub held: Vec<(usize, Sample)>,
}

/// One closed interval, to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    /// End of the interval, unix seconds.
    pub interval_end: u64,
    /// Energy produced, Wh.
    pub produced_wh: u64,
    /// Energy consumed, Wh.
    pub consumed_wh: u64,
}

impl MeterState {
    /// Integrates newly polled samples (one list per sensor, each in time order) up to `now_ms`,
    /// the time up to which every sensor has delivered, and closes every interval complete by
    /// then, returning the readings to report.
    pub fn advance(
        &mut self,
        interval_ms: u64,
        directions: &[Direction],
        polled: Vec<Vec<Sample>>,
        now_ms: u64,
    ) -> Vec<Reading> {
        self.sensors.resize(directions.len(), SensorState::default());
        let mut events: Vec<(usize, Sample)> = std::mem::take(&mut self.held);
        events.extend(
            polled
                .into_iter()
                .enumerate()
                .flat_map(|(i, samples)| samples.into_iter().map(move |s| (i, s))),
        );
        events.sort_by_key(|(_, s)| s.at_ms);
        let ready = events.partition_point(|(_, s)| s.at_ms <= now_ms);
        self.held = events.split_off(ready);
        let mut out = Vec::new();
        for (sensor, sample) in events {
            if self.open_end_ms == 0 {
                self.open_end_ms = sample.at_ms.div_ceil(interval_ms).max(1) * interval_ms;
            }
            // Registers first: an interval edge before this reading is interpolated up to it.
            if let Some(registers) = sample.registers {
                let (drawn, returned) = self.sensors[sensor].registers.get_or_insert_default();
                let mut rebased = drawn.add(sample.at_ms, registers.import_wh);
                if let Some(export) = registers.export_wh {
                    rebased = rebased.or(returned.add(sample.at_ms, export));
                }
                if let Some(rebase) = rebased {
                    self.rebases += 1;
                    tracing::warn!(target: "daisee::meter", ?rebase, "energy register taken as a new baseline: a meter change, a counter reset or a misread (nothing counted across it)");
                }
            }
            while sample.at_ms > self.open_end_ms {
                out.extend(self.close(interval_ms, directions));
            }
            let state = &mut self.sensors[sensor];
            if sample.registers.is_some() {
                // Energy comes from the registers; the last sample is kept for the status and
                // for a restart (where the source resumes).
                if state.integrator.last.is_none_or(|(t, _)| sample.at_ms > t) {
                    state.integrator.last = Some((sample.at_ms, sample.power_w));
                }
            } else if state.integrator.add(sample.at_ms, sample.power_w).is_some() {
                self.sensor_gaps += 1;
            }
            state.compat_sum_w += daisee_radio::compat_sum_watts(
                &[f64::from(sample.power_w)],
                daisee_radio::Bridge::V02,
            );
            self.samples_in_open += 1;
        }
        while self.open_end_ms != 0 && now_ms >= self.open_end_ms {
            out.extend(self.close(interval_ms, directions));
        }
        out
    }

    fn close(&mut self, interval_ms: u64, directions: &[Direction]) -> Option<Reading> {
        let end = self.open_end_ms;
        self.open_end_ms += interval_ms;
        if std::mem::take(&mut self.samples_in_open) == 0 {
            self.gaps += 1;
            return None;
        }
        let mut reading = Reading { interval_end: end / 1000, produced_wh: 0, consumed_wh: 0 };
        for (state, direction) in self.sensors.iter_mut().zip(directions) {
            state.last_compat_sum_w = std::mem::take(&mut state.compat_sum_w);
            let (wh, returned_wh) = match &mut state.registers {
                Some((drawn, returned)) => (drawn.take_until(end), returned.take_until(end)),
                None => (state.integrator.take_wh(), 0),
            };
            match direction {
                Direction::Production => reading.produced_wh += wh,
                Direction::Consumption => reading.consumed_wh += wh,
                Direction::Grid => {
                    reading.consumed_wh += wh;
                    reading.produced_wh += returned_wh;
                }
            }
        }
        Some(reading)
    }

    /// The last sample time of each sensor (where simulated sources resume).
    pub fn last_samples(&self) -> Vec<Option<u64>> {
        self.sensors.iter().map(|s| s.integrator.last.map(|(t, _)| t)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::*;

    fn s(at_ms: u64, power_w: u16) -> Sample {
        Sample { at_ms, power_w, battery_mv: None, registers: None }
    }

    fn r(at_ms: u64, import_wh: u64, export_wh: u64) -> Sample {
        let registers = Some(daisee_radio::Registers { import_wh, export_wh: Some(export_wh) });
        Sample { at_ms, power_w: 0, battery_mv: None, registers }
    }

    #[test]
    fn a_grid_meter_gives_both_directions_from_its_registers() {
        let mut m = MeterState::default();
        // Drawing 1 Wh/s and returning 2 Wh/s, a register reading every 10 s from 55 s.
        let readings: Vec<_> =
            (0..=13).map(|i| r(55_000 + i * 10_000, 5_000 + i * 10, 9_000 + i * 20)).collect();
        let out = m.advance(60_000, &[Grid], vec![readings], 185_000);
        assert_eq!(
            out,
            [
                Reading { interval_end: 60, produced_wh: 0, consumed_wh: 0 },
                Reading { interval_end: 120, produced_wh: 120, consumed_wh: 60 },
                Reading { interval_end: 180, produced_wh: 120, consumed_wh: 60 },
            ]
        );
        // A new meter (registers from zero): a baseline, not a negative or huge reading.
        let out =
            m.advance(60_000, &[Grid], vec![vec![r(190_000, 7, 3), r(230_000, 47, 83)]], 240_000);
        assert_eq!(m.rebases, 1);
        assert_eq!(out, [Reading { interval_end: 240, produced_wh: 10 + 80, consumed_wh: 5 + 40 }]);
    }

    #[test]
    fn intervals_close_on_the_grid_with_both_directions() {
        let mut m = MeterState::default();
        let dirs = [Production, Consumption];
        // 3600 W produced and 1800 W consumed, sampled every 10 s, 60 s intervals.
        let prod: Vec<_> = (0..=12).map(|i| s(60_000 + i * 10_000, 3600)).collect();
        let cons: Vec<_> = (0..=12).map(|i| s(60_000 + i * 10_000, 1800)).collect();
        let out = m.advance(60_000, &dirs, vec![prod, cons], 180_000);
        // The first sample opens the interval ending at 60 s (it is on the grid); its energy
        // starts with the next segment.
        assert_eq!(
            out,
            [
                Reading { interval_end: 60, produced_wh: 0, consumed_wh: 0 },
                Reading { interval_end: 120, produced_wh: 60, consumed_wh: 30 },
                Reading { interval_end: 180, produced_wh: 60, consumed_wh: 30 },
            ]
        );
        assert_eq!(m.open_end_ms, 240_000);
        // The 2016 bridge would have sent the sum of the six samples of the last minute.
        assert_eq!(
            (m.sensors[0].last_compat_sum_w, m.sensors[1].last_compat_sum_w),
            (6 * 3600, 6 * 1800)
        );
    }

    #[test]
    fn an_empty_interval_is_a_gap_and_the_next_reading_covers_it() {
        let mut m = MeterState::default();
        let out = m.advance(60_000, &[Consumption], vec![vec![s(1_000, 100)]], 1_000);
        assert!(out.is_empty(), "interval not over yet");
        let out = m.advance(60_000, &[Consumption], vec![vec![]], 200_000);
        assert_eq!(out, [Reading { interval_end: 60, produced_wh: 0, consumed_wh: 0 }]);
        assert_eq!(m.gaps, 2);
        let out = m.advance(60_000, &[Consumption], vec![vec![s(230_000, 100)]], 240_000);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].interval_end, 240);
        assert_eq!(m.sensor_gaps, 1, "229 s of silence is not interpolated");
    }

    #[test]
    fn a_sensor_ahead_of_the_others_is_held_until_they_catch_up() {
        let mut m = MeterState::default();
        let dirs = [Production, Consumption];
        m.advance(60_000, &dirs, vec![vec![s(0, 100)], vec![s(0, 100)]], 0);
        // The consumption sensor is already past the boundary; production has delivered only
        // up to 50 s, so the interval ending at 60 s must stay open.
        let out =
            m.advance(60_000, &dirs, vec![vec![s(50_000, 100)], vec![s(70_000, 100)]], 50_000);
        assert!(out.is_empty());
        assert_eq!(m.held.len(), 1);
        let out =
            m.advance(60_000, &dirs, vec![vec![s(59_000, 100), s(68_000, 100)], vec![]], 70_000);
        assert_eq!(out, [Reading { interval_end: 60, produced_wh: 1, consumed_wh: 0 }]);
        assert!(m.held.is_empty());
    }

    #[test]
    fn state_round_trips_through_json_between_samples() {
        let mut m = MeterState::default();
        m.advance(60_000, &[Consumption], vec![vec![s(1_000, 100), s(9_000, 120)]], 9_000);
        let back: MeterState = serde_json::from_slice(&serde_json::to_vec(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.last_samples(), [Some(9_000)]);
    }
}
