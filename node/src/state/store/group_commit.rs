//! Group commit: many writers, one flush. Each write takes a ticket after it reached sled; a
//! writer that needs its write on disk waits for a flush that began after its ticket. The first
//! waiter flushes for everyone written so far; the others, blocked meanwhile, find their ticket
//! covered and return without flushing again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// A write's place in the order of writes, to wait on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct JournalTicket(u64);

/// Writes made and writes known durable.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    written: AtomicU64,
    durable: Mutex<u64>,
}

impl GroupCommit {
    /// A ticket for a write that has just been made.
    pub(crate) fn written(&self) -> JournalTicket {
        JournalTicket(self.written.fetch_add(1, Ordering::SeqCst) + 1)
    }

    /// Returns once `ticket` is durable, calling `flush` at most once for a whole group.
    pub(crate) fn wait<E>(
        &self,
        ticket: JournalTicket,
        flush: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        let mut durable = self.durable.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if *durable >= ticket.0 {
            return Ok(());
        }
        // Everything written before this point is covered by the flush below.
        let covered = self.written.load(Ordering::SeqCst);
        flush()?;
        *durable = covered;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    #[test]
    fn one_flush_covers_every_earlier_write() {
        let group = GroupCommit::default();
        let tickets: Vec<_> = (0..5).map(|_| group.written()).collect();
        let flushes = AtomicUsize::new(0);
        let flush = || -> Result<(), ()> {
            flushes.fetch_add(1, Ordering::SeqCst);
            Ok(())
        };
        group.wait(tickets[2], flush).expect("flush");
        for t in &tickets {
            group.wait(*t, flush).expect("flush");
        }
        assert_eq!(flushes.load(Ordering::SeqCst), 1);
        // A later write needs a new flush.
        let late = group.written();
        group.wait(late, flush).expect("flush");
        assert_eq!(flushes.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_failed_flush_covers_nothing() {
        let group = GroupCommit::default();
        let ticket = group.written();
        assert!(group.wait(ticket, || Err("disk full")).is_err());
        let mut flushed = false;
        group
            .wait(ticket, || {
                flushed = true;
                Ok::<(), ()>(())
            })
            .expect("flush");
        assert!(flushed, "the write is flushed again after a failure");
    }

    #[test]
    fn concurrent_writers_all_return_durable() {
        let group = Arc::new(GroupCommit::default());
        let flushes = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (group, flushes) = (group.clone(), flushes.clone());
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        let ticket = group.written();
                        group
                            .wait(ticket, || {
                                flushes.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(std::time::Duration::from_micros(200));
                                Ok::<(), ()>(())
                            })
                            .expect("flush");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("writer");
        }
        // Every writer returned, and no flush ran for nothing.
        let n = flushes.load(Ordering::SeqCst);
        assert!(n <= 800, "{n} flushes for 800 writes");
        assert_eq!(*group.durable.lock().expect("lock"), 800);
    }
}
