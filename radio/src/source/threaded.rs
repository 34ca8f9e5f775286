//! A live source read on its own thread: each sample is stamped when its bytes arrive, whatever
//! the thread that takes the samples is doing (waiting for the database while a block commits,
//! reading another sensor's slow device), and a meter that stops answering (a Modbus timeout, an
//! unreachable Shelly) never holds up the others.
//!
//! The reader polls the source in a loop and sends what each poll gave; after sending, it
//! publishes the time up to which it has read everything. [`Threaded::poll`] reads that time
//! first and drains the channel second, so every sample stamped up to [`Threaded::now_ms`] has
//! been taken: an interval closed at that time has all its samples.

use super::{Sample, Source, SourceError, SourceStats};
use crate::timer::TimerRule;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Polls whose samples may wait for the taker (a few minutes of a source polled ten times a
/// second that delivers every time); beyond, the reader waits and the device's own buffer holds.
const BACKLOG: usize = 2_048;
/// After a failed poll (a device unplugged), the reader waits this long before the next.
const AFTER_ERROR: Duration = Duration::from_secs(1);

/// What the reader shares besides the samples.
#[derive(Debug, Default)]
struct Shared {
    stats: SourceStats,
    timer: Option<TimerRule>,
}

/// A source read on its own thread.
#[derive(Debug)]
pub struct Threaded {
    kind: &'static str,
    samples: Receiver<Result<Vec<Sample>, SourceError>>,
    read_until: Arc<AtomicU64>,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    /// Everything taken is complete up to here (ms since the epoch, on the source's clock).
    now_ms: u64,
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Threaded {
    /// Starts reading `source` on a thread named after its kind.
    pub fn spawn(mut source: Box<dyn Source>) -> std::io::Result<Self> {
        let kind = source.kind();
        let (send, samples) = sync_channel(BACKLOG);
        let read_until = Arc::new(AtomicU64::new(source.now_ms()));
        let shared =
            Arc::new(Mutex::new(Shared { stats: source.stats(), timer: source.timer_rule() }));
        let stop = Arc::new(AtomicBool::new(false));
        let (until, state, stopping) = (read_until.clone(), shared.clone(), stop.clone());
        std::thread::Builder::new().name(format!("daisee-{kind}")).spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let polled = source.poll();
                let now = source.now_ms();
                let failed = polled.is_err();
                {
                    let mut s = lock(&state);
                    s.stats = source.stats();
                    s.timer = source.timer_rule();
                }
                let nothing = matches!(&polled, Ok(v) if v.is_empty());
                if !nothing {
                    match send.try_send(polled) {
                        Ok(()) => {}
                        Err(TrySendError::Full(polled)) => {
                            if send.send(polled).is_err() {
                                return;
                            }
                        }
                        Err(TrySendError::Disconnected(_)) => return,
                    }
                }
                // Published after the send: what was read up to `now` is in the channel.
                until.store(now, Ordering::SeqCst);
                if failed {
                    std::thread::sleep(AFTER_ERROR);
                }
            }
        })?;
        let now_ms = read_until.load(Ordering::SeqCst);
        Ok(Self { kind, samples, read_until, shared, stop, now_ms })
    }
}

impl Source for Threaded {
    fn poll(&mut self) -> Result<Vec<Sample>, SourceError> {
        // The time first, the samples second: nothing stamped before that time is left behind.
        let until = self.read_until.load(Ordering::SeqCst);
        let mut out = Vec::new();
        let mut error = None;
        while let Ok(polled) = self.samples.try_recv() {
            match polled {
                Ok(samples) => out.extend(samples),
                Err(e) => error = Some(e),
            }
        }
        self.now_ms = self.now_ms.max(until);
        match error {
            Some(e) if out.is_empty() => Err(e),
            _ => Ok(out),
        }
    }

    fn kind(&self) -> &'static str {
        self.kind
    }

    fn now_ms(&self) -> u64 {
        self.now_ms
    }

    fn stats(&self) -> SourceStats {
        lock(&self.shared).stats
    }

    fn timer_rule(&self) -> Option<TimerRule> {
        lock(&self.shared).timer
    }
}

impl Drop for Threaded {
    fn drop(&mut self) {
        // The reader ends after its current poll (a device read returns within its timeout).
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A source that takes `slow` to poll and delivers one sample stamped when it read it.
    struct Slow {
        slow: Duration,
        read: u64,
    }

    impl Source for Slow {
        fn poll(&mut self) -> Result<Vec<Sample>, SourceError> {
            std::thread::sleep(self.slow);
            self.read += 1;
            let at_ms = super::super::wall_ms();
            Ok(vec![Sample { at_ms, power_w: 1, battery_mv: None, registers: None }])
        }
        fn kind(&self) -> &'static str {
            "slow"
        }
        fn now_ms(&self) -> u64 {
            super::super::wall_ms()
        }
        fn stats(&self) -> SourceStats {
            SourceStats { accepted: self.read, ..Default::default() }
        }
    }

    #[test]
    fn a_slow_device_does_not_hold_up_the_taker_and_nothing_before_now_is_left_behind() {
        let mut source =
            Threaded::spawn(Box::new(Slow { slow: Duration::from_millis(30), read: 0 })).unwrap();
        let mut taken = Vec::new();
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(600) {
            let took = Instant::now();
            taken.extend(source.poll().unwrap());
            assert!(took.elapsed() < Duration::from_millis(20), "poll waits for nobody");
            // Every sample stamped up to now_ms has been taken.
            let now = source.now_ms();
            std::thread::sleep(Duration::from_millis(45));
            let late: Vec<_> = source.poll().unwrap();
            assert!(late.iter().all(|s| s.at_ms > now), "a sample before {now} came late");
            taken.extend(late);
        }
        assert!(taken.len() >= 8, "{}", taken.len());
        assert!(taken.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        assert!(source.stats().accepted >= taken.len() as u64);
        assert_eq!(source.kind(), "slow");
    }
}
