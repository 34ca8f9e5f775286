//! An emulated utility meter, to try a meter source without the hardware (`daisee dev
//! --dev.meter-source tic|p1`): a simulated household's power is counted into an energy
//! register as the meter would, written out as the frames that meter sends (a Linky's TIC in
//! standard mode, a DSMR 5 telegram with its CRC), and read back through the real decoders, so
//! what reaches the chain went through the same parsing as a real meter's bytes.

use super::{Registers, Sample, Source, SourceError, SourceStats};
use crate::dsmr::P1Decoder;
use crate::energy::Integrator;
use crate::tic::{TicDecoder, TicMode};
use std::fmt::Write as _;

/// Which meter to emulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emulated {
    /// A Linky in standard mode (TIC at 9600 Bd).
    Tic,
    /// A DSMR 5 meter's P1 port.
    P1,
}

/// A simulated household seen through an emulated meter's frames.
pub struct EmulatedMeter {
    inner: Box<dyn Source>,
    format: Emulated,
    /// Power integrated into whole Wh, moved to the register as they complete.
    integrator: Integrator,
    register_wh: u64,
    tic: TicDecoder,
    p1: P1Decoder,
    accepted: u64,
}

impl std::fmt::Debug for EmulatedMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatedMeter").field("format", &self.format).finish_non_exhaustive()
    }
}

/// A Linky's standard-mode frame: its address, the total drawn (`EAST`), the first tariff's
/// index (`EASF01`) and the apparent power (`SINSTS`).
pub fn tic_standard_frame(adsc: &str, east_wh: u64, sinsts_va: u64) -> Vec<u8> {
    let sets = [
        ("ADSC", adsc.to_string()),
        ("VTIC", "02".to_string()),
        ("NGTF", "      BASE      ".to_string()),
        ("EAST", format!("{east_wh:09}")),
        ("EASF01", format!("{east_wh:09}")),
        ("SINSTS", format!("{sinsts_va:05}")),
    ];
    let mut frame = vec![0x02];
    for (label, data) in sets {
        let set = format!("{label}\t{data}\t");
        frame.push(b'\n');
        frame.extend_from_slice(set.as_bytes());
        frame.push(crate::tic::checksum(set.as_bytes()));
        frame.push(b'\r');
    }
    frame.push(0x03);
    frame
}

/// A DSMR 5 telegram: equipment id, the drawn registers (tariff 1 carries it all), power, CRC.
pub fn dsmr5_telegram(id: &str, drawn_wh: u64, power_w: u64) -> Vec<u8> {
    let kwh = |wh: u64| format!("{:06}.{:03}", wh / 1000, wh % 1000);
    let mut t = String::new();
    let _ = write!(
        t,
        "/EMU5\\2DAISEE-DEV\r\n\r\n1-3:0.2.8(50)\r\n0-0:96.1.1({id})\r\n1-0:1.8.1({}*kWh)\r\n\
         1-0:1.8.2(000000.000*kWh)\r\n1-0:2.8.1(000000.000*kWh)\r\n1-0:2.8.2(000000.000*kWh)\r\n\
         1-0:1.7.0({:02}.{:03}*kW)\r\n!",
        kwh(drawn_wh),
        power_w / 1000,
        power_w % 1000
    );
    let crc = crc::Crc::<u16>::new(&crc::CRC_16_ARC).checksum(t.as_bytes());
    let _ = write!(t, "{crc:04X}\r\n");
    t.into_bytes()
}

impl EmulatedMeter {
    /// `inner` (a simulated household) seen through a `format` meter, its register starting at
    /// `register_wh`.
    pub fn new(inner: Box<dyn Source>, format: Emulated, register_wh: u64) -> Self {
        Self {
            inner,
            format,
            integrator: Integrator::default(),
            register_wh,
            tic: TicDecoder::new(Some(TicMode::Standard)),
            p1: P1Decoder::default(),
            accepted: 0,
        }
    }

    /// One sample of the household → the meter's frame → what the decoder read from it.
    fn through_meter(&mut self, sample: Sample) -> Option<Sample> {
        self.integrator.add(sample.at_ms, sample.power_w);
        self.register_wh += self.integrator.take_wh();
        let power = u64::from(sample.power_w);
        let registers = match self.format {
            Emulated::Tic => {
                let frame = tic_standard_frame("021528603314", self.register_wh, power);
                let decoded = self.tic.push(&frame).pop()?.energy()?;
                Registers { import_wh: decoded.imported_wh, export_wh: decoded.exported_wh }
            }
            Emulated::P1 => {
                let telegram = dsmr5_telegram("4530303331303033", self.register_wh, power);
                let decoded = self.p1.push(&telegram).pop()?.energy()?;
                Registers { import_wh: decoded.imported_wh, export_wh: decoded.exported_wh }
            }
        };
        self.accepted += 1;
        Some(Sample { registers: Some(registers), battery_mv: None, ..sample })
    }
}

impl Source for EmulatedMeter {
    fn kind(&self) -> &'static str {
        match self.format {
            Emulated::Tic => "tic (emulated)",
            Emulated::P1 => "p1 (emulated)",
        }
    }

    fn poll(&mut self) -> Result<Vec<Sample>, SourceError> {
        let samples = self.inner.poll()?;
        Ok(samples.into_iter().filter_map(|s| self.through_meter(s)).collect())
    }

    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }

    fn stats(&self) -> SourceStats {
        let (corrupt, overruns) = match self.format {
            Emulated::Tic => {
                let s = self.tic.stats;
                (s.bad_checksums + s.malformed, s.partial_frames + s.noise_bytes)
            }
            Emulated::P1 => {
                let s = self.p1.stats;
                (s.bad_crc + s.malformed, s.partial + s.noise_bytes)
            }
        };
        SourceStats { accepted: self.accepted, corrupt, overruns, ..Default::default() }
    }

    /// Continues the household after `last_ms` and the register from where it was.
    fn resume_after(&mut self, last_ms: u64, registers: Option<Registers>) {
        self.inner.resume_after(last_ms, None);
        if let Some(r) = registers {
            self.register_wh = r.import_wh;
        }
        self.integrator = Integrator::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::sim::{Profile, SimClock, SimSensor};

    #[test]
    fn frames_written_here_pass_the_real_decoders() {
        let frame = tic_standard_frame("021528603314", 6_231_973, 1_250);
        let decoded = TicDecoder::new(Some(TicMode::Standard)).push(&frame).pop().unwrap();
        assert_eq!(decoded.energy().unwrap().imported_wh, 6_231_973);
        assert_eq!(decoded.power_va(), Some(1_250));
        let telegram = dsmr5_telegram("4530303331303033", 4_169_415, 433);
        let decoded = P1Decoder::default().push(&telegram).pop().unwrap();
        assert!(decoded.crc_checked);
        assert_eq!(decoded.energy().unwrap().imported_wh, 4_169_415);
    }

    #[test]
    fn the_register_grows_with_the_households_energy_and_resumes_after_a_restart() {
        for format in [Emulated::Tic, Emulated::P1] {
            let clock = SimClock::accelerated(1_700_000_000_000, 3600.0);
            let sim = SimSensor::new(Profile::Load { base_w: 400 }, 7, clock);
            let mut meter = EmulatedMeter::new(Box::new(sim), format, 1_000_000);
            let mut last = None;
            for _ in 0..20 {
                for s in meter.poll().unwrap() {
                    last = Some(s);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let last = last.expect("samples");
            let register = last.registers.unwrap().import_wh;
            assert!(register > 1_000_000, "{format:?}: {register}");
            assert_eq!(meter.stats().corrupt, 0);
            let sim = SimSensor::new(Profile::Load { base_w: 400 }, 7, clock);
            let mut again = EmulatedMeter::new(Box::new(sim), format, 0);
            again.resume_after(last.at_ms, last.registers);
            let next = (0..50)
                .find_map(|_| {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    again.poll().unwrap().into_iter().next()
                })
                .unwrap();
            assert!(next.at_ms > last.at_ms);
            assert!(next.registers.unwrap().import_wh >= register, "no rebase after a restart");
        }
    }
}
