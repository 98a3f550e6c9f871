//! The rate at which new event streams are admitted ([`SseConfig::max_stream_opens_per_second`]):
//! a token bucket that refills at that rate and holds one second of it, so that the
//! thousands of clients a restart sends back at once are let in at a rate the server (and
//! its authorization hook, and Redis) can take; the rest get a 503 with `Retry-After` and
//! come back later.
//!
//! [`SseConfig::max_stream_opens_per_second`]: crate::SseConfig::max_stream_opens_per_second

use std::sync::Mutex;
use std::time::Instant;

/// A token bucket: `per_second` tokens a second, at most `per_second` saved.
#[derive(Debug)]
pub(crate) struct Admission {
    per_second: f64,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl Admission {
    /// A bucket that starts full (a restarted server admits one second's worth at once).
    pub(crate) fn new(per_second: u32) -> Self {
        let per_second = f64::from(per_second.max(1));
        Self {
            per_second,
            bucket: Mutex::new(Bucket {
                tokens: per_second,
                refilled: Instant::now(),
            }),
        }
    }

    /// Takes a token if there is one: whether a new stream may open now.
    pub(crate) fn try_admit(&self) -> bool {
        // A poisoned lock only means another thread panicked mid-update of two numbers:
        // the numbers are still usable.
        let mut bucket = self
            .bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let earned = now.duration_since(bucket.refilled).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + earned).min(self.per_second);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_full_bucket_admits_one_second_of_opens_then_refills_at_the_rate() {
        let admission = Admission::new(10);
        let admitted = (0..25).filter(|_| admission.try_admit()).count();
        assert_eq!(admitted, 10, "a second's worth at once");
        std::thread::sleep(Duration::from_millis(250));
        let later = (0..25).filter(|_| admission.try_admit()).count();
        // (At least 250 ms passed; a busy machine may have let more pass, never a refill
        // past one second's worth.)
        assert!(
            (2..=10).contains(&later),
            "a quarter of a second's worth or more after 250 ms: {later}"
        );
    }

    #[test]
    fn a_rate_of_zero_still_admits_one_a_second() {
        let admission = Admission::new(0);
        assert!(admission.try_admit());
        assert!(!admission.try_admit());
    }
}
