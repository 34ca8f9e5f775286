//! Where samples come from, behind one trait: the radio on SPI ([`radio`]), the 2016 Arduino
//! serial bridge ([`serial`]), simulated households ([`sim`]), recorded files ([`replay`]) and
//! the meters households own ([`meters`]: Linky TIC, DSMR P1; [`modbus`]: DIN-rail meters;
//! [`shelly`]: Shelly meters and plugs on the LAN; [`mqtt`]: meters publishing on a broker).
//! Frame sources share [`FrameFilter`]: decryption, checks and the timer rule, with counters.

pub mod emulated;
pub mod meters;
pub mod modbus;
pub mod mqtt;
mod polled;
pub mod radio;
pub mod replay;
pub mod serial;
pub mod shelly;
pub mod sim;
pub mod threaded;

use crate::frame::{FrameError, Measurement, SensorKey};
use crate::timer::{TimerRule, TimerVerdict};
use std::time::{SystemTime, UNIX_EPOCH};

/// One sample, stamped on reception: a power, and for meters that count energy themselves, their
/// cumulative registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Reception time, ms since the Unix epoch (on the source's clock).
    pub at_ms: u64,
    /// Power, W.
    pub power_w: u16,
    /// The sensor's battery, mV, when it reports one.
    pub battery_mv: Option<u16>,
    /// The meter's energy registers, when it has them: energy then comes from their
    /// differences ([`crate::registers`]), not from integrating the power.
    pub registers: Option<Registers>,
}

/// A meter's cumulative energy registers, Wh since its installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registers {
    /// Drawn from the grid (or, for a production meter, produced).
    pub import_wh: u64,
    /// Returned to the grid, when the meter counts it.
    pub export_wh: Option<u64>,
}

/// Why a source cannot deliver.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The device or file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The radio failed.
    #[error("radio: {0}")]
    Radio(String),
    /// A recorded file has a bad line.
    #[error("line {line}: {reason}")]
    Replay {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// What a source dropped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceStats {
    /// Samples delivered.
    pub accepted: u64,
    /// Frames failing the zero-padding check (wrong key, corrupted, misaligned).
    pub corrupt: u64,
    /// Frames with implausible values.
    pub implausible: u64,
    /// Duplicates and replays (timer not increasing).
    pub duplicates: u64,
    /// Sensor reboots detected.
    pub reboots: u64,
    /// Radio FIFO overflows (frames possibly lost) and bytes skipped on a serial line.
    pub overruns: u64,
    /// Requests a polled meter (Modbus, Shelly) did not answer in time, and silences of a
    /// broker's topic.
    pub timeouts: u64,
    /// Requests a polled meter answered with an error (a Modbus exception, an HTTP error), and
    /// connections a broker refused.
    pub refused: u64,
}

/// A sensor's samples.
pub trait Source: Send {
    /// What arrived since the last call; returns quickly (at most a short device timeout).
    fn poll(&mut self) -> Result<Vec<Sample>, SourceError>;
    /// What kind of source this is, as the config names it (`radio`, `tic`, `mqtt`…).
    fn kind(&self) -> &'static str;
    /// Whether it reads a device or the network on the wall clock, blocking up to a timeout (the
    /// meter service then reads it on its own thread: [`threaded::Threaded`]).
    fn live(&self) -> bool {
        false
    }
    /// The source's clock, ms since the Unix epoch: the wall clock, or simulated time.
    fn now_ms(&self) -> u64;
    /// The frame filter of a frame source (`None` for sources that deliver samples directly).
    fn filter(&self) -> Option<&FrameFilter> {
        None
    }
    /// The same, to change.
    fn filter_mut(&mut self) -> Option<&mut FrameFilter> {
        None
    }
    /// Counters of what was dropped.
    fn stats(&self) -> SourceStats {
        self.filter().map(|f| f.stats).unwrap_or_default()
    }
    /// The timer rule's state, to persist (frame sources only).
    fn timer_rule(&self) -> Option<TimerRule> {
        self.filter().map(|f| f.timer)
    }
    /// Restores a persisted timer rule.
    fn restore_timer_rule(&mut self, rule: TimerRule) {
        if let Some(f) = self.filter_mut() {
            f.timer = rule;
        }
    }
    /// After a restart: the sample at `last_ms` was already counted, with `registers` (the
    /// meter's raw registers then, for register meters); simulated sources continue from there,
    /// live ones have nothing to do.
    fn resume_after(&mut self, _last_ms: u64, _registers: Option<Registers>) {}
}

/// Milliseconds since the Unix epoch on the wall clock.
pub fn wall_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Frames → samples: decryption, checks, the timer rule and counters.
#[derive(Debug, Default)]
pub struct FrameFilter {
    key: SensorKey,
    /// The timer rule (persisted by the meter service).
    pub timer: TimerRule,
    /// Counters.
    pub stats: SourceStats,
}

impl FrameFilter {
    /// A filter with the sensor's key.
    pub fn new(key: SensorKey) -> Self {
        Self { key, timer: TimerRule::default(), stats: SourceStats::default() }
    }

    /// The key.
    pub fn key(&self) -> &SensorKey {
        &self.key
    }

    /// One frame received at `at_ms`: a sample, or `None` (counted) when it must be dropped.
    pub fn frame(&mut self, frame: &[u8], at_ms: u64) -> Option<Sample> {
        self.decoded(Measurement::decode(frame, &self.key), at_ms)
    }

    /// A frame already decoded (by a serial stream) received at `at_ms`.
    pub fn decoded(
        &mut self,
        decoded: Result<Measurement, FrameError>,
        at_ms: u64,
    ) -> Option<Sample> {
        let m = match decoded {
            Ok(m) => m,
            Err(FrameError::Padding | FrameError::Length(_)) => {
                self.stats.corrupt += 1;
                tracing::debug!(target: "daisee::meter", "corrupt frame dropped");
                return None;
            }
            Err(e) => {
                self.stats.implausible += 1;
                tracing::warn!(target: "daisee::meter", "frame dropped: {e}");
                return None;
            }
        };
        match self.timer.check_at(m.timer_ms, at_ms) {
            TimerVerdict::Accept => {}
            TimerVerdict::Jump => {
                self.stats.implausible += 1;
                tracing::warn!(target: "daisee::meter", timer = m.timer_ms, last = self.timer.last, "frame dropped: its timer jumped further than time did (forged or corrupt)");
                return None;
            }
            TimerVerdict::Rebooted => {
                self.stats.reboots += 1;
                tracing::info!(target: "daisee::meter", timer = m.timer_ms, "sensor rebooted");
            }
            TimerVerdict::Duplicate | TimerVerdict::PossibleReboot => {
                self.stats.duplicates += 1;
                return None;
            }
        }
        self.stats.accepted += 1;
        Some(Sample { at_ms, power_w: m.power_w, battery_mv: Some(m.battery_mv), registers: None })
    }
}
