//! The meters households own, read on a serial port: a Linky's customer port (TIC, through a
//! USB TIC reader) and a DSMR meter's P1 port (through a P1 cable). Each frame with its energy
//! registers becomes a sample carrying them (energy then comes from their differences, exact);
//! frames dropped by the decoders are counted in the source's stats.

use super::{wall_ms, Registers, Sample, Source, SourceError, SourceStats};
use crate::dsmr::P1Decoder;
use crate::serial::open_at;
use crate::smarty::SmartyDecryptor;
use crate::tic::{TicDecoder, TicMode};
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Reads at most this much per poll.
const READ_CHUNK: usize = 4096;

fn read_some(port: &mut File) -> Result<Vec<u8>, SourceError> {
    let mut buf = vec![0u8; READ_CHUNK];
    let n = match port.read(&mut buf) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => 0,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
        Err(e) => return Err(e.into()),
    };
    buf.truncate(n);
    Ok(buf)
}

/// Frames read with their registers, and frames without them. When one read brings several
/// frames (a backlog after a restart, a reader's buffer), all are counted and only the newest
/// is a sample: it is the register as it stands at the reception time they all share.
#[derive(Debug, Default)]
struct Counted {
    accepted: u64,
    without_energy: u64,
}

impl Counted {
    /// A sample of a frame's `registers` (counted as without energy if it has none) and power.
    fn sample(&mut self, at_ms: u64, registers: Option<Registers>, power_w: u64) -> Option<Sample> {
        let Some(registers) = registers else {
            self.without_energy += 1;
            return None;
        };
        self.accepted += 1;
        let power_w = u16::try_from(power_w).unwrap_or(u16::MAX);
        Some(Sample { at_ms, power_w, battery_mv: None, registers: Some(registers) })
    }

    /// The source's stats from these counts and the decoder's.
    fn stats(&self, corrupt: u64, overruns: u64) -> SourceStats {
        SourceStats {
            accepted: self.accepted,
            corrupt,
            implausible: self.without_energy,
            overruns,
            ..Default::default()
        }
    }
}

/// Undecodable bytes after which `auto` tries the other speed (~2 s at 9600 Bd, ~17 s at 1200).
const AUTO_SWITCH_BYTES: usize = 2048;

/// A Linky (or older Enedis electronic meter) on a TIC reader.
#[derive(Debug)]
pub struct TicSource {
    port: File,
    path: std::path::PathBuf,
    decoder: TicDecoder,
    /// Auto mode: the speed is found by trying 9600 then 1200 Bd.
    auto: bool,
    baud: u32,
    /// Bytes read since the last decoded frame.
    since_frame: usize,
    counted: Counted,
}

impl TicSource {
    /// Opens `path` for `mode` (`None`: auto — 9600 Bd (standard) first, 1200 Bd (historique)
    /// when nothing decodes, and back).
    pub fn open(path: &Path, mode: Option<TicMode>) -> Result<Self, SourceError> {
        let baud = if mode == Some(TicMode::Historique) { 1200 } else { 9600 };
        Ok(Self {
            port: open_at(path, baud, true)?,
            path: path.to_path_buf(),
            decoder: TicDecoder::new(mode),
            auto: mode.is_none(),
            baud,
            since_frame: 0,
            counted: Counted::default(),
        })
    }

    /// The speed the port is read at.
    pub fn baud(&self) -> u32 {
        self.baud
    }

    /// Auto mode: a stream that decodes into nothing is the wrong speed; try the other one.
    fn maybe_switch(&mut self, bytes: usize, frames: usize) -> Result<(), SourceError> {
        self.since_frame = if frames > 0 { 0 } else { self.since_frame + bytes };
        if self.auto && self.since_frame >= AUTO_SWITCH_BYTES {
            let other = if self.baud == 9600 { 1200 } else { 9600 };
            tracing::info!(target: "daisee::meter", path = %self.path.display(), "TIC: nothing decodes at {} Bd, trying {other} Bd", self.baud);
            self.port = open_at(&self.path, other, true)?;
            self.baud = other;
            self.since_frame = 0;
            self.decoder.stats.baud_switches += 1;
        }
        Ok(())
    }
}

impl Source for TicSource {
    fn kind(&self) -> &'static str {
        "tic"
    }

    fn live(&self) -> bool {
        true
    }

    fn poll(&mut self) -> Result<Vec<Sample>, SourceError> {
        let bytes = read_some(&mut self.port)?;
        let at_ms = wall_ms();
        let frames = self.decoder.push(&bytes);
        self.maybe_switch(bytes.len(), frames.len())?;
        Ok(frames
            .into_iter()
            .filter_map(|frame| {
                let registers = frame
                    .energy()
                    .map(|e| Registers { import_wh: e.imported_wh, export_wh: e.exported_wh });
                // Apparent power (VA) stands for power: shown, never integrated.
                self.counted.sample(at_ms, registers, frame.power_va().unwrap_or(0))
            })
            .last()
            .into_iter()
            .collect())
    }

    fn now_ms(&self) -> u64 {
        wall_ms()
    }

    fn stats(&self) -> SourceStats {
        let s = self.decoder.stats;
        self.counted.stats(s.bad_checksums + s.malformed, s.partial_frames + s.noise_bytes)
    }
}

/// A DSMR meter on a P1 cable.
#[derive(Debug)]
pub struct P1Source {
    port: File,
    /// Luxembourg's Smarty: telegrams arrive encrypted with the meter's key.
    smarty: Option<SmartyDecryptor>,
    decoder: P1Decoder,
    counted: Counted,
}

impl P1Source {
    /// Opens `path` at `baud`: 115200 8N1 for DSMR 4 and 5; 9600 7E1 for DSMR 2.2 and 3; with
    /// `smarty_key`, telegrams are decrypted first.
    pub fn open(path: &Path, baud: u32, smarty_key: Option<[u8; 16]>) -> Result<Self, SourceError> {
        Ok(Self {
            port: open_at(path, baud, baud == 9600)?,
            smarty: smarty_key.as_ref().map(SmartyDecryptor::new),
            decoder: P1Decoder::default(),
            counted: Counted::default(),
        })
    }
}

impl Source for P1Source {
    fn kind(&self) -> &'static str {
        "p1"
    }

    fn live(&self) -> bool {
        true
    }

    fn poll(&mut self) -> Result<Vec<Sample>, SourceError> {
        let bytes = read_some(&mut self.port)?;
        let at_ms = wall_ms();
        let telegrams = match &mut self.smarty {
            Some(smarty) => {
                smarty.push(&bytes).iter().flat_map(|plain| self.decoder.push(plain)).collect()
            }
            None => self.decoder.push(&bytes),
        };
        Ok(telegrams
            .into_iter()
            .filter_map(|telegram| {
                let registers = telegram
                    .energy()
                    .map(|e| Registers { import_wh: e.imported_wh, export_wh: e.exported_wh });
                // Power drawn (1-0:1.7.0, kW): shown, never integrated.
                let drawn_w =
                    telegram.objects.get("1-0:1.7.0").and_then(|v| v.first()).and_then(|v| {
                        crate::dsmr::parse_wh(&format!("{}*kWh", v.strip_suffix("*kW")?))
                    });
                self.counted.sample(at_ms, registers, drawn_w.unwrap_or(0))
            })
            .last()
            .into_iter()
            .collect())
    }

    fn now_ms(&self) -> u64 {
        wall_ms()
    }

    fn stats(&self) -> SourceStats {
        let s = self.decoder.stats;
        let e = self.smarty.as_ref().map(|d| d.stats).unwrap_or_default();
        self.counted.stats(
            s.bad_crc + s.malformed + e.bad_tags + e.malformed,
            s.partial + s.noise_bytes + e.noise_bytes,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Polls `source` until it delivers a sample (each poll waits up to 100 ms for bytes).
    fn first_sample(source: &mut dyn Source) -> Sample {
        for _ in 0..20 {
            if let Some(s) = source.poll().unwrap().into_iter().next() {
                return s;
            }
        }
        panic!("no sample: {:?}", source.stats());
    }

    #[test]
    fn a_dsmr5_telegram_through_a_pseudo_terminal_is_a_sample_with_its_registers() {
        let pty = nix::pty::openpty(None, None).unwrap();
        let path = nix::unistd::ttyname(&pty.slave).unwrap();
        let mut source = P1Source::open(&path, 115_200, None).unwrap();
        let mut master = File::from(pty.master);
        // Noise and a telegram cut short, then the one recorded from an Iskra AM550.
        master.write_all(b"\x00\x7f/ISK5\\2M550T-1012\r\n1-0:1.8.1(0").unwrap();
        master.write_all(crate::dsmr::tests::DSMR5.as_bytes()).unwrap();
        let sample = first_sample(&mut source);
        let registers = Registers { import_wh: 3_432_829 + 3_224_632, export_wh: Some(0) };
        assert_eq!(sample.registers, Some(registers));
        assert_eq!(sample.power_w, 433);
        let stats = source.stats();
        assert_eq!((stats.accepted, stats.overruns), (1, 3), "{stats:?}");
    }

    #[test]
    fn a_smarty_frame_through_a_pseudo_terminal_is_decrypted_then_read() {
        let pty = nix::pty::openpty(None, None).unwrap();
        let path = nix::unistd::ttyname(&pty.slave).unwrap();
        let key = crate::smarty::parse_key(crate::smarty::tests::KEY);
        let mut source = P1Source::open(&path, 115_200, key).unwrap();
        let mut master = File::from(pty.master);
        master.write_all(&crate::smarty::tests::frame()).unwrap();
        let sample = first_sample(&mut source);
        let registers = Registers { import_wh: 6_545_766, export_wh: Some(0) };
        assert_eq!(sample.registers, Some(registers));
    }

    #[test]
    fn auto_mode_tries_the_other_speed_when_nothing_decodes() {
        let pty = nix::pty::openpty(None, None).unwrap();
        let path = nix::unistd::ttyname(&pty.slave).unwrap();
        let mut source = TicSource::open(&path, None).unwrap();
        let mut master = File::from(pty.master);
        assert_eq!(source.baud(), 9600);
        // What a 1200 Bd meter looks like read at 9600 Bd: bytes that never make a frame.
        master.write_all(&vec![0x7e; AUTO_SWITCH_BYTES + 10]).unwrap();
        for _ in 0..10 {
            source.poll().unwrap();
        }
        assert_eq!(source.baud(), 1200);
        master.write_all(&crate::tic::tests::frame(&crate::tic::tests::HCHP)).unwrap();
        assert!(first_sample(&mut source).registers.is_some());
        assert_eq!(source.baud(), 1200, "a speed that decodes is kept");
    }

    #[test]
    fn a_historique_linky_through_a_pseudo_terminal_is_a_sample_with_its_index() {
        let pty = nix::pty::openpty(None, None).unwrap();
        let path = nix::unistd::ttyname(&pty.slave).unwrap();
        let mut source = TicSource::open(&path, Some(TicMode::Historique)).unwrap();
        let mut master = File::from(pty.master);
        master.write_all(&crate::tic::tests::frame(&crate::tic::tests::HCHP)).unwrap();
        let sample = first_sample(&mut source);
        let registers = Registers { import_wh: 1_096_011 + 2_784_502, export_wh: None };
        assert_eq!(sample.registers, Some(registers));
        assert_eq!(sample.power_w, 180);
    }
}
