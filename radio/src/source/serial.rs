//! The 2016 Arduino serial bridge as a source: raw 16-byte frames on a tty at 57600 baud.

use super::{wall_ms, FrameFilter, Sample, Source, SourceError};
use crate::frame::SensorKey;
use crate::serial::{open, FrameStream};
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Frames from an Arduino bridge on a serial port.
#[derive(Debug)]
pub struct SerialSource {
    port: File,
    stream: FrameStream,
    filter: FrameFilter,
}

impl SerialSource {
    /// Opens `path` (e.g. `/dev/ttyACM0`).
    pub fn open(path: &Path, key: SensorKey) -> Result<Self, SourceError> {
        Ok(Self {
            port: open(path)?,
            stream: FrameStream::new(key.clone()),
            filter: FrameFilter::new(key),
        })
    }
}

impl Source for SerialSource {
    fn kind(&self) -> &'static str {
        "serial"
    }

    fn live(&self) -> bool {
        true
    }

    fn poll(&mut self) -> Result<Vec<Sample>, SourceError> {
        let mut buf = [0u8; 256];
        let n = match self.port.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e.into()),
        };
        let now = wall_ms();
        let frames = self.stream.push(&buf[..n]);
        self.filter.stats.overruns = self.stream.skipped;
        Ok(frames.into_iter().filter_map(|f| self.filter.decoded(f, now)).collect())
    }

    fn now_ms(&self) -> u64 {
        wall_ms()
    }

    fn filter(&self) -> Option<&FrameFilter> {
        Some(&self.filter)
    }

    fn filter_mut(&mut self) -> Option<&mut FrameFilter> {
        Some(&mut self.filter)
    }
}
