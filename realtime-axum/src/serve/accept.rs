//! What the accept loop does when `accept` fails: wait longer each time, log rarely.

use std::io;
use std::time::Duration;

use tokio::time::Instant;

/// The first wait after a failed accept; it doubles up to [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_millis(1);
const MAX_DELAY: Duration = Duration::from_secs(1);
/// Failures are logged at most this often, with how many there were.
const LOG_EVERY: Duration = Duration::from_secs(1);

/// `EMFILE` and `ENFILE`: the process or the system is out of file descriptors (the same
/// numbers on Linux, macOS and the BSDs).
const EMFILE: i32 = 24;
const ENFILE: i32 = 23;

/// Whether `error` means no descriptor is left for a new connection.
pub(crate) fn out_of_descriptors(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(EMFILE | ENFILE))
}

/// Whether `error` concerns only the connection being accepted (the peer gave up before
/// accept): the next accept may succeed at once.
pub(crate) fn only_this_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

/// Exponential backoff between failed accepts, with rate-limited warnings.
#[derive(Debug)]
pub(crate) struct AcceptBackoff {
    delay: Duration,
    unlogged_failures: u64,
    last_log: Option<Instant>,
}

impl AcceptBackoff {
    pub(crate) fn new() -> Self {
        Self {
            delay: FIRST_DELAY,
            unlogged_failures: 0,
            last_log: None,
        }
    }

    /// Records a failure; how long to wait before the next accept.
    pub(crate) fn failed(&mut self, error: &io::Error) -> Duration {
        self.unlogged_failures += 1;
        let now = Instant::now();
        if self
            .last_log
            .is_none_or(|logged| now.duration_since(logged) >= LOG_EVERY)
        {
            tracing::warn!(
                %error,
                failures = self.unlogged_failures,
                "accept failed; backing off (failures counted since the last warning)"
            );
            self.unlogged_failures = 0;
            self.last_log = Some(now);
        }
        let delay = self.delay;
        self.delay = (self.delay * 2).min(MAX_DELAY);
        delay
    }

    pub(crate) fn succeeded(&mut self) {
        self.delay = FIRST_DELAY;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_a_millisecond_to_a_second_and_resets_on_success() {
        let mut backoff = AcceptBackoff::new();
        let error = io::Error::from_raw_os_error(EMFILE);
        assert!(out_of_descriptors(&error));
        let waits: Vec<Duration> = (0..12).map(|_| backoff.failed(&error)).collect();
        assert_eq!(waits[0], Duration::from_millis(1));
        assert_eq!(waits[1], Duration::from_millis(2));
        assert_eq!(waits[11], MAX_DELAY);
        backoff.succeeded();
        assert_eq!(backoff.failed(&error), FIRST_DELAY);
    }
}
