//! A DIN-rail meter on an RS485 adapter, read over Modbus RTU: every `every` its import (and
//! export) energy registers and its power, as a sample carrying the registers. A meter that does
//! not answer, answers with an exception, or whose answer fails its CRC is counted and said in
//! the log (once a minute at most), never turned into a reading.

use super::polled::{power_w, Schedule, Warner};
use super::{wall_ms, Registers, Sample, Source, SourceError, SourceStats};
use crate::modbus::{self, ModbusError, RegisterMap};
use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a slave has to answer (an SDM answers within 100 ms; USB adapters add latency).
pub const ANSWER_TIMEOUT: Duration = Duration::from_millis(1000);

/// The settings of one Modbus meter.
#[derive(Debug, Clone)]
pub struct ModbusSettings {
    /// The RS485 adapter, e.g. `/dev/ttyUSB0`.
    pub path: PathBuf,
    /// 1200 to 115200; Eastron meters ship at 9600 (some at 2400).
    pub baud: u32,
    /// The meter's address on the bus, 1..=247.
    pub slave: u8,
    /// Where the meter keeps its values.
    pub map: RegisterMap,
    /// Function 0x04 (input registers, Eastron) or 0x03 (holding registers).
    pub function: u8,
    /// How often the meter is read.
    pub every: Duration,
}

/// A Modbus meter.
#[derive(Debug)]
pub struct ModbusSource {
    port: File,
    settings: ModbusSettings,
    schedule: Schedule,
    stats: SourceStats,
    warner: Warner,
}

impl ModbusSource {
    /// Opens the adapter (8N1) for the meter `settings` describe.
    pub fn open(settings: ModbusSettings) -> Result<Self, SourceError> {
        if !(1..=247).contains(&settings.slave) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("Modbus slave address {} (1 to 247)", settings.slave),
            )
            .into());
        }
        Ok(Self {
            port: crate::serial::open_at(&settings.path, settings.baud, false)?,
            schedule: Schedule::new(settings.every),
            settings,
            stats: SourceStats::default(),
            warner: Warner::default(),
        })
    }

    /// One request and its answer: the registers, or `None` when the meter gave none (no answer
    /// in time, an exception, a bad CRC: counted and said).
    fn transact(&mut self, first: u16, count: u16) -> Result<Option<Vec<u16>>, SourceError> {
        let s = &self.settings;
        // Whatever is left of an earlier answer is not this one's.
        let _ = nix::sys::termios::tcflush(&self.port, nix::sys::termios::FlushArg::TCIFLUSH);
        self.port.write_all(&modbus::request(s.slave, s.function, first, count))?;
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        let mut answer = Vec::with_capacity(5 + 2 * usize::from(count));
        let mut buf = [0u8; 256];
        loop {
            match modbus::answer_len(&answer) {
                Some(len) if answer.len() >= len => {
                    answer.truncate(len);
                    break;
                }
                _ if Instant::now() >= deadline => {
                    self.stats.timeouts += 1;
                    let s = &self.settings;
                    let said = format!(
                        "no answer from slave {} within {} ms: check the wiring (A/B), the \
                         address, the speed ({} Bd) and that the meter is powered",
                        s.slave,
                        ANSWER_TIMEOUT.as_millis(),
                        s.baud
                    );
                    self.warn(&said);
                    return Ok(None);
                }
                _ => {}
            }
            // Reads return after 100 ms without bytes (the port's VTIME).
            match self.port.read(&mut buf) {
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        let s = &self.settings;
        match modbus::registers(&answer, s.slave, s.function, count) {
            Ok(words) => Ok(Some(words)),
            Err(e) => {
                match e {
                    ModbusError::Exception { .. } => self.stats.refused += 1,
                    ModbusError::Crc | ModbusError::Malformed(_) => self.stats.corrupt += 1,
                }
                self.warn(&e.to_string());
                Ok(None)
            }
        }
    }

    /// A float32 at `register`, when the meter gave one.
    fn read_float(&mut self, register: u16) -> Result<Option<f32>, SourceError> {
        Ok(self.transact(register, 2)?.and_then(|words| modbus::float32(&words)))
    }

    fn warn(&mut self, what: &str) {
        if self.warner.now() {
            tracing::warn!(target: "daisee::meter", path = %self.settings.path.display(), "Modbus meter: {what}");
        }
    }

    /// Reads the meter once: a sample when every energy register answered plausibly.
    fn read(&mut self) -> Result<Option<Sample>, SourceError> {
        let map = self.settings.map;
        let Some(import) = self.read_float(map.import)? else { return Ok(None) };
        let export = match map.export {
            Some(register) => match self.read_float(register)? {
                Some(kwh) => Some(kwh),
                None => return Ok(None),
            },
            None => None,
        };
        let power = match map.power {
            Some(register) => self.read_float(register)?,
            None => None,
        };
        let at_ms = wall_ms();
        let import_wh = modbus::kwh_to_wh(import);
        let export_wh = export.map(modbus::kwh_to_wh);
        let (Some(import_wh), None | Some(Some(_))) = (import_wh, export_wh) else {
            self.stats.implausible += 1;
            self.warn(&format!("implausible energy registers {import} / {export:?} kWh"));
            return Ok(None);
        };
        self.stats.accepted += 1;
        let power_w = power_w(power.map(f64::from));
        let registers = Registers { import_wh, export_wh: export_wh.flatten() };
        Ok(Some(Sample { at_ms, power_w, battery_mv: None, registers: Some(registers) }))
    }
}

impl Source for ModbusSource {
    fn kind(&self) -> &'static str {
        "modbus"
    }

    fn live(&self) -> bool {
        true
    }

    fn poll(&mut self) -> Result<Vec<Sample>, SourceError> {
        if !self.schedule.due() {
            return Ok(Vec::new());
        }
        Ok(self.read()?.into_iter().collect())
    }

    fn now_ms(&self) -> u64 {
        wall_ms()
    }

    fn stats(&self) -> SourceStats {
        self.stats
    }
}
