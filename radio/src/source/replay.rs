//! Recorded frames played back: one line per frame, `<unix ms> <32 hex digits>`, `#` comments.
//! Time runs from the first line's stamp, `speed` times as fast as the wall clock, and frames go
//! through the same filter as live ones, so a recording of a real sensor tests the whole path.

use super::sim::SimClock;
use super::{FrameFilter, Sample, Source, SourceError};
use crate::frame::SensorKey;
use std::path::Path;

/// A recorded sensor.
#[derive(Debug)]
pub struct ReplaySource {
    frames: Vec<(u64, Vec<u8>)>,
    next: usize,
    clock: SimClock,
    filter: FrameFilter,
}

impl ReplaySource {
    /// Parses a recording; every bad line is an error naming it.
    pub fn parse(text: &str, key: SensorKey, speed: f64) -> Result<Self, SourceError> {
        let mut frames = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: &str| SourceError::Replay { line: i + 1, reason: reason.into() };
            let (at, frame) = line
                .split_once(char::is_whitespace)
                .ok_or_else(|| bad("expected `<ms> <hex frame>`"))?;
            let at: u64 = at.parse().map_err(|_| bad("timestamp is not a number of ms"))?;
            let frame = frame.trim();
            if frame.len() != 32 {
                return Err(bad("a frame is 32 hex digits"));
            }
            let bytes = (0..16)
                .map(|j| u8::from_str_radix(&frame[2 * j..2 * j + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| bad("frame is not hex"))?;
            if frames.last().is_some_and(|(last, _)| at < *last) {
                return Err(bad("timestamps go backwards"));
            }
            frames.push((at, bytes));
        }
        let start = frames.first().map(|(t, _)| *t).unwrap_or(0);
        Ok(Self {
            frames,
            next: 0,
            clock: SimClock::accelerated(start, speed),
            filter: FrameFilter::new(key),
        })
    }

    /// Reads and parses a recording file.
    pub fn open(path: &Path, key: SensorKey, speed: f64) -> Result<Self, SourceError> {
        Self::parse(&std::fs::read_to_string(path)?, key, speed)
    }

    /// Whether every frame was played.
    pub fn finished(&self) -> bool {
        self.next == self.frames.len()
    }
}

impl Source for ReplaySource {
    fn kind(&self) -> &'static str {
        "replay"
    }

    fn poll(&mut self) -> Result<Vec<Sample>, SourceError> {
        let now = self.clock.now_ms();
        let mut out = Vec::new();
        while let Some((at, frame)) = self.frames.get(self.next).filter(|(at, _)| *at <= now) {
            let (at, frame) = (*at, frame.clone());
            self.next += 1;
            out.extend(self.filter.frame(&frame, at));
        }
        Ok(out)
    }

    fn now_ms(&self) -> u64 {
        match self.frames.get(self.next) {
            Some((at, _)) => self.clock.now_ms().min(at.saturating_sub(1)),
            None => self.clock.now_ms(),
        }
    }

    fn filter(&self) -> Option<&FrameFilter> {
        Some(&self.filter)
    }

    fn filter_mut(&mut self) -> Option<&mut FrameFilter> {
        Some(&mut self.filter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_plays_through_the_filter() {
        let text = "# two frames and a replay\n\
            1000 fccdc821803a23102210f95f90ef9811\n\
            9500 6e90be0a5195822fee2f6a40ca13181c\n\
            18000 066b1bf818b60c4f778b4400355c2c0a\n";
        let mut source = ReplaySource::parse(text, SensorKey::default(), 1.0e9).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let samples = source.poll().unwrap();
        assert_eq!(samples.iter().map(|s| s.at_ms).collect::<Vec<_>>(), [1000, 9500]);
        assert_eq!(source.stats().duplicates, 1, "timer 8603 after 8629");
        assert!(source.finished());
    }

    #[test]
    fn bad_lines_are_named() {
        let err = ReplaySource::parse("1000 zz\n", SensorKey::default(), 1.0).unwrap_err();
        assert_eq!(err.to_string(), "line 1: a frame is 32 hex digits");
        let err = ReplaySource::parse(
            "5 fccdc821803a23102210f95f90ef9811\n1 fccdc821803a23102210f95f90ef9811",
            SensorKey::default(),
            1.0,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "line 2: timestamps go backwards");
    }
}
