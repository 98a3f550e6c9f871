//! Small helpers that several modules share: a lock that survives poisoning, the wall
//! clock in milliseconds, and the doubling back-off of retry loops.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Locks `mutex`, using the data even if another thread panicked while holding the lock.
///
/// Every critical section in this crate is a plain read, insert or removal: a panic
/// cannot leave the data half updated, so a poisoned lock is still consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Milliseconds since the Unix epoch (0 for a clock before it).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

/// The waits of a retry loop: `first`, doubling up to `max`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Backoff {
    #[cfg_attr(not(feature = "redis"), allow(dead_code))] // read by `reset`
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// The back-off of reads that must not give up (catch-up from history): 100 ms
    /// doubling to 5 s.
    pub(crate) const READS: Backoff =
        Backoff::new(Duration::from_millis(100), Duration::from_secs(5));

    pub(crate) const fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max,
            next: first,
        }
    }

    /// The wait before the next attempt; each call doubles the following one.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// Starts again from the first wait (after a success).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))] // the pub/sub reconnect loop
    pub(crate) fn reset(&mut self) {
        self.next = self.first;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_maximum_and_resets() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(500));
        let waits: Vec<u128> = (0..5).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 500, 500]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(100));
    }
}
