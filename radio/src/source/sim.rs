//! Simulated sensors for households that have none (what the seed did with a Wio Link):
//! deterministic for a seed and a time, so a restart or a second board sees the same power.
//! Solar panels follow the sun over the day with passing clouds; household load is a base, a
//! fridge cycling, appliances now and then, an evening peak, and noise. Time may run faster
//! than the wall clock for tests.

use super::{wall_ms, Sample, Source, SourceError, SourceStats};
use std::time::Instant;

/// The sensor's nominal period, ms (with jitter, as the AVR watchdog gives).
const PERIOD_MS: u64 = 8_500;
/// Most samples one poll returns (accelerated clocks catch up over several polls).
const MAX_PER_POLL: usize = 5_000;

/// What a simulated sensor measures.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Profile {
    /// Photovoltaic production with this peak (W).
    Solar {
        /// Peak power at solar noon on a clear day.
        peak_w: u16,
    },
    /// Household consumption around this base load (W).
    Load {
        /// Always-on consumption.
        base_w: u16,
    },
}

/// A clock that may run `speed` times faster than the wall clock, from `start_ms`.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    start_ms: u64,
    started: Instant,
    speed: f64,
}

impl SimClock {
    /// The wall clock.
    pub fn wall() -> Self {
        Self { start_ms: wall_ms(), started: Instant::now(), speed: 1.0 }
    }

    /// A clock starting at `start_ms` and running `speed` times as fast as the wall clock.
    pub fn accelerated(start_ms: u64, speed: f64) -> Self {
        Self { start_ms, started: Instant::now(), speed: speed.max(1.0) }
    }

    /// Now on this clock, ms since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        if self.speed == 1.0 {
            return wall_ms();
        }
        self.start_ms + (self.started.elapsed().as_secs_f64() * 1000.0 * self.speed) as u64
    }
}

fn mix(mut x: u64) -> u64 {
    // splitmix64
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A uniform number in [0, 1) for (seed, stream, slot).
fn unit(seed: u64, stream: u64, slot: u64) -> f64 {
    (mix(seed ^ mix(stream ^ mix(slot))) >> 11) as f64 / (1u64 << 53) as f64
}

impl Profile {
    /// Power at `t_ms` for `seed`: the same inputs always give the same watts.
    pub fn power_at(&self, seed: u64, t_ms: u64) -> u16 {
        let hour = (t_ms % 86_400_000) as f64 / 3_600_000.0;
        let noise = 1.0 + (unit(seed, 1, t_ms / 1000) - 0.5) * 0.06;
        let watts = match *self {
            Profile::Solar { peak_w } => {
                if !(6.0..20.0).contains(&hour) {
                    0.0
                } else {
                    let sun = (std::f64::consts::PI * (hour - 6.0) / 14.0).sin();
                    let cloud = 0.35 + 0.65 * unit(seed, 2, t_ms / 600_000);
                    f64::from(peak_w) * sun * cloud * noise
                }
            }
            Profile::Load { base_w } => {
                let fridge_phase = unit(seed, 3, 0) * 2_700_000.0;
                let fridge = if ((t_ms as f64 + fridge_phase) % 2_700_000.0) < 1_200_000.0 {
                    110.0
                } else {
                    0.0
                };
                let slot = t_ms / 900_000;
                let in_slot = t_ms % 900_000;
                let kettle =
                    if unit(seed, 4, slot) < 0.12 && in_slot < 180_000 { 2000.0 } else { 0.0 };
                let washer = if unit(seed, 5, slot / 4) < 0.08 { 500.0 } else { 0.0 };
                let evening = if (18.0..22.5).contains(&hour) { 350.0 } else { 0.0 };
                (f64::from(base_w) + fridge + kettle + washer + evening) * noise
            }
        };
        watts.clamp(0.0, 23_000.0) as u16
    }
}

/// A simulated sensor.
#[derive(Debug)]
pub struct SimSensor {
    profile: Profile,
    seed: u64,
    clock: SimClock,
    next_ms: u64,
    stats: SourceStats,
}

impl SimSensor {
    /// A sensor on `clock` whose first sample is at the clock's start.
    pub fn new(profile: Profile, seed: u64, clock: SimClock) -> Self {
        let next_ms = clock.start_ms;
        Self { profile, seed, clock, next_ms, stats: SourceStats::default() }
    }

    fn period_after(&self, t_ms: u64) -> u64 {
        PERIOD_MS - 300 + (unit(self.seed, 6, t_ms) * 600.0) as u64
    }
}

impl Source for SimSensor {
    fn kind(&self) -> &'static str {
        "sim"
    }

    fn poll(&mut self) -> Result<Vec<Sample>, SourceError> {
        let now = self.clock.now_ms();
        let mut out = Vec::new();
        while self.next_ms <= now && out.len() < MAX_PER_POLL {
            let at_ms = self.next_ms;
            let power_w = self.profile.power_at(self.seed, at_ms);
            out.push(Sample { at_ms, power_w, battery_mv: Some(3300), registers: None });
            self.next_ms += self.period_after(at_ms);
        }
        self.stats.accepted += out.len() as u64;
        Ok(out)
    }

    /// Samples are complete up to here: the clock, or just before the next sample still due.
    fn now_ms(&self) -> u64 {
        self.clock.now_ms().min(self.next_ms.saturating_sub(1))
    }

    fn stats(&self) -> SourceStats {
        self.stats
    }

    /// Continues after the sample counted at `last_ms`; an accelerated clock restarts there.
    fn resume_after(&mut self, last_ms: u64, _registers: Option<super::Registers>) {
        if self.clock.speed != 1.0 {
            self.clock = SimClock::accelerated(last_ms, self.clock.speed);
        }
        self.next_ms = last_ms + self.period_after(last_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOON: u64 = 1_750_000_000_000 - 1_750_000_000_000 % 86_400_000 + 12 * 3_600_000;

    #[test]
    fn the_same_seed_and_time_give_the_same_watts() {
        let solar = Profile::Solar { peak_w: 3000 };
        assert_eq!(solar.power_at(7, NOON), solar.power_at(7, NOON));
        assert_eq!(solar.power_at(7, NOON - 12 * 3_600_000), 0, "no sun at midnight");
        assert!(solar.power_at(7, NOON) > 900);
        let load = Profile::Load { base_w: 250 };
        let day: Vec<u16> = (0..96).map(|i| load.power_at(3, NOON + i * 900_000)).collect();
        assert!(day.iter().all(|w| *w >= 230), "never under the base load");
        assert!(day.iter().any(|w| *w > 1500), "a kettle now and then");
    }

    #[test]
    fn an_accelerated_sensor_resumes_where_it_stopped() {
        let clock = SimClock::accelerated(NOON, 1.0e6);
        let profile = Profile::Load { base_w: 300 };
        let mut first = SimSensor::new(profile, 9, clock);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let a = first.poll().unwrap();
        assert!(a.len() > 100);
        let last = a.last().unwrap().at_ms;
        let mut again = SimSensor::new(profile, 9, SimClock::accelerated(NOON, 1.0e6));
        again.resume_after(last, None);
        std::thread::sleep(std::time::Duration::from_millis(1));
        let b = again.poll().unwrap();
        assert!(b[0].at_ms > last && b[0].at_ms - last < 9_000);
    }
}
