//! The 2016 Arduino bridge (spec §4): 57600 baud, each radio payload written as 16 raw bytes
//! with no framing. [`FrameStream`] cuts the byte stream into frames by the zero-padding check,
//! so a 0x0A byte, a partial read or line noise never loses a frame; [`open`] sets a tty raw.

use crate::frame::{decrypt, FrameError, Measurement, SensorKey, FRAME_LEN};
use std::fs::File;
use std::path::Path;

/// Bytes to frames, resynchronising on the zero padding of the decrypted block.
#[derive(Debug)]
pub struct FrameStream {
    key: SensorKey,
    buffer: Vec<u8>,
    /// Bytes skipped to find frame boundaries (noise, partial frames).
    pub skipped: u64,
}

impl FrameStream {
    /// A stream decrypting with `key`.
    pub fn new(key: SensorKey) -> Self {
        Self { key, buffer: Vec::new(), skipped: 0 }
    }

    /// Adds bytes as they arrived; returns each complete frame found, decoded (a frame whose
    /// padding is right but whose values are implausible comes out as its error).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<Measurement, FrameError>> {
        self.buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut start = 0;
        while self.buffer.len() - start >= FRAME_LEN {
            let window = &self.buffer[start..start + FRAME_LEN];
            let padded = decrypt(window, &self.key).is_ok_and(|p| p[10..].iter().all(|b| *b == 0));
            if padded {
                out.push(Measurement::decode(window, &self.key));
                start += FRAME_LEN;
            } else {
                start += 1;
                self.skipped += 1;
            }
        }
        self.buffer.drain(..start);
        out
    }
}

/// Opens a serial device raw (no line discipline, no echo) at 57600 8N1, with reads that
/// return after 100 ms when nothing arrives.
pub fn open(path: &Path) -> std::io::Result<File> {
    open_at(path, 57_600, false)
}

/// Opens a serial device raw at `baud` (1200 to 115200), 8N1 or, with
/// `seven_even`, 7E1 (Linky TIC, DSMR 2.2/3), with reads that return after 100 ms when nothing
/// arrives.
pub fn open_at(path: &Path, baud: u32, seven_even: bool) -> std::io::Result<File> {
    use nix::sys::termios::{self, BaudRate, ControlFlags, SetArg, SpecialCharacterIndices};
    let speed = match baud {
        1200 => BaudRate::B1200,
        2400 => BaudRate::B2400,
        4800 => BaudRate::B4800,
        9600 => BaudRate::B9600,
        19_200 => BaudRate::B19200,
        38_400 => BaudRate::B38400,
        57_600 => BaudRate::B57600,
        115_200 => BaudRate::B115200,
        other => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("unsupported baud rate {other} (1200, 2400, 4800, 9600, 19200, 38400, 57600 or 115200)"),
            ))
        }
    };
    let file = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
    let mut t = termios::tcgetattr(&file).map_err(std::io::Error::from)?;
    termios::cfmakeraw(&mut t);
    termios::cfsetspeed(&mut t, speed).map_err(std::io::Error::from)?;
    t.control_chars[SpecialCharacterIndices::VMIN as usize] = 0;
    t.control_chars[SpecialCharacterIndices::VTIME as usize] = 1;
    let raw = t.clone();
    if seven_even {
        t.control_flags.remove(ControlFlags::CSIZE);
        t.control_flags.insert(ControlFlags::CS7 | ControlFlags::PARENB);
        t.control_flags.remove(ControlFlags::PARODD);
    }
    match termios::tcsetattr(&file, SetArg::TCSANOW, &t) {
        Ok(()) => {}
        // A device that cannot do 7E1 (a pseudo-terminal, some adapters) refuses when nothing
        // else changed: read it 8N1, the decoders drop the parity bit themselves.
        Err(nix::errno::Errno::EINVAL) if seven_even => {
            tracing::debug!(target: "daisee::meter", path = %path.display(), "7E1 refused, reading 8N1");
            termios::tcsetattr(&file, SetArg::TCSANOW, &raw).map_err(std::io::Error::from)?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn frame(timer_ms: u32) -> [u8; 16] {
        Measurement { power_w: 460, voltage_v: 240, battery_mv: 3285, timer_ms }
            .encode(&SensorKey::default())
    }

    /// A small deterministic generator for chunk sizes.
    fn chunk_sizes(seed: u64) -> impl Iterator<Item = usize> {
        let mut x = seed;
        std::iter::from_fn(move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Some((x % 9) as usize + 1)
        })
    }

    #[test]
    fn spec_8b_2_vectors_hold() {
        assert_eq!(hex::encode(frame(8629)), "6e90be0a5195822fee2f6a40ca13181c");
        assert_eq!(hex::encode(frame(8603)), "066b1bf818b60c4f778b4400355c2c0a");
    }

    #[test]
    fn garbage_and_0x0a_bytes_in_random_chunks_lose_no_frame() {
        let mut stream: Vec<u8> = vec![0x0A, 0x37, 0xFF];
        for t in [8617, 8629, 8603] {
            stream.extend_from_slice(&frame(t));
        }
        for seed in 1..50 {
            let mut decoder = FrameStream::new(SensorKey::default());
            let (mut out, mut at) = (Vec::new(), 0);
            for size in chunk_sizes(seed) {
                if at >= stream.len() {
                    break;
                }
                let end = (at + size).min(stream.len());
                out.extend(decoder.push(&stream[at..end]));
                at = end;
            }
            let timers: Vec<u32> = out.into_iter().map(|m| m.unwrap().timer_ms).collect();
            assert_eq!(timers, [8617, 8629, 8603], "seed {seed}");
            assert_eq!(decoder.skipped, 3);
        }
    }

    #[test]
    fn a_seven_bit_port_opens_again_after_a_restart() {
        // A pseudo-terminal cannot do 7E1; the second opening (a board restarting) used to fail.
        let pty = nix::pty::openpty(None, None).unwrap();
        let path = nix::unistd::ttyname(&pty.slave).unwrap();
        drop(open_at(&path, 1200, true).unwrap());
        drop(open_at(&path, 1200, true).unwrap());
        assert!(open_at(&path, 300, true).is_err());
    }

    #[test]
    fn frames_arrive_through_a_pseudo_terminal_in_random_chunks() {
        use crate::source::{serial::SerialSource, Source};
        let pty = nix::pty::openpty(None, None).unwrap();
        let path = nix::unistd::ttyname(&pty.slave).unwrap();
        let mut source = SerialSource::open(&path, SensorKey::default()).unwrap();
        let mut master = File::from(pty.master);
        let mut bytes = vec![0x55, 0x0A, 0xC3];
        for t in [8617, 8629, 8603] {
            bytes.extend_from_slice(&frame(t));
        }
        let writer = std::thread::spawn(move || {
            let mut at = 0;
            for size in chunk_sizes(7) {
                if at >= bytes.len() {
                    break;
                }
                let end = (at + size).min(bytes.len());
                master.write_all(&bytes[at..end]).unwrap();
                at = end;
                std::thread::sleep(std::time::Duration::from_millis(size as u64 % 4));
            }
            master
        });
        let mut timers = Vec::new();
        for _ in 0..100 {
            timers.extend(source.poll().unwrap().into_iter().map(|s| s.power_w));
            let stats = source.stats();
            if stats.accepted + stats.duplicates == 3 {
                break;
            }
        }
        let _master = writer.join().unwrap();
        // 8603 comes after 8629: the timer rule drops it as a replay.
        assert_eq!(timers, [460, 460]);
        let stats = source.stats();
        assert_eq!((stats.accepted, stats.duplicates, stats.overruns), (2, 1, 3));
    }
}
