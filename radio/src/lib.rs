//! Daisee's meter hardware and its data, independent of any chain: the nRF24L01+ driver
//! (embedded-hal 1.0, with a simulated chip), CitizenWatt frames (AES-128, checks, the timer
//! rule), the 2016 Arduino serial bridge with resynchronisation, simulated households, recorded
//! replays, the power → energy integration, and the meters households own: Linky TIC ([`tic`])
//! and DSMR P1 ([`dsmr`]) decoders, Modbus RTU ([`modbus`]) for DIN-rail meters. Data flows:
//! source → [`Sample`] → [`Integrator`].

pub mod dsmr;
pub mod energy;
pub mod frame;
pub mod modbus;
pub mod nrf24;
pub mod registers;
pub mod serial;
pub mod smarty;
pub mod source;
pub mod tic;
pub mod timer;

pub use energy::{compat_sum_watts, Bridge, Gap, Integrator};
pub use frame::{FrameError, Measurement, SensorKey};
pub use registers::{Rebase, RegisterIntegrator};
pub use source::{Registers, Sample, Source, SourceError, SourceStats};
pub use timer::{TimerRule, TimerVerdict};

/// A delay for real hardware (std sleeps).
#[derive(Debug, Default, Clone, Copy)]
pub struct StdDelay;

impl embedded_hal::delay::DelayNs for StdDelay {
    fn delay_ns(&mut self, ns: u32) {
        std::thread::sleep(std::time::Duration::from_nanos(u64::from(ns)));
    }
}
