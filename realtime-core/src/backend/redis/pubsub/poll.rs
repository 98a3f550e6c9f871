//! Delivery while a channel's pub/sub connection is down: its feeds are told to resync at
//! a steady pace, so that their readers read the channel's stream over the command
//! connection (never a blocking command there: it would stall every emit).

use std::sync::Weak;
use std::time::Duration;

use tokio::time::sleep;

use super::RouteTable;
use crate::util::lock;

/// While a channel is not live, its feeds are told to resync at least this often...
const POLL_EVERY: Duration = Duration::from_millis(250);
/// ...but the process reads at most this many streams per second in all: with more
/// channels down the interval grows (1,000 channels: 1 s; 10,000: 10 s).
const POLL_READS_PER_SECOND: u64 = 1_000;

/// How long the poller waits between two rounds over `channels` channels.
fn poll_interval(channels: usize) -> Duration {
    let channels = u64::try_from(channels).unwrap_or(u64::MAX);
    let spread = Duration::from_micros(channels.saturating_mul(1_000_000 / POLL_READS_PER_SECOND));
    spread.max(POLL_EVERY)
}

/// Tells every feed of a channel that no connection delivers (not live) to resync, at a
/// pace that keeps the stream reads of the whole process bounded (see [`poll_interval`]).
/// A feed whose reader has not yet taken its queued items is skipped: it is busy catching
/// up, and at most one poll waits in any queue. Ends with the routes (when the backend is
/// dropped).
pub(super) async fn poll_channels_not_live(routes: Weak<RouteTable>) {
    let mut polled = 0;
    loop {
        let Some(routes) = routes.upgrade() else {
            return;
        };
        let not_live = {
            let mut routes = lock(&routes);
            let mut not_live = 0;
            for entry in routes.values_mut().filter(|entry| !entry.live) {
                not_live += 1;
                for route in entry.routes.iter_mut().filter(|route| route.is_idle()) {
                    route.resync();
                }
            }
            not_live
        };
        drop(routes);
        if not_live != polled {
            if polled == 0 {
                tracing::info!(
                    channels = not_live,
                    "redis pub/sub down for some channels: reading their streams instead"
                );
            }
            polled = not_live;
        }
        sleep(poll_interval(not_live)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_interval_grows_with_the_channels_past_a_thousand_reads_per_second() {
        assert_eq!(poll_interval(0), Duration::from_millis(250));
        assert_eq!(poll_interval(250), Duration::from_millis(250));
        assert_eq!(poll_interval(1_000), Duration::from_secs(1));
        assert_eq!(poll_interval(10_000), Duration::from_secs(10));
        assert_eq!(poll_interval(usize::MAX), Duration::from_micros(u64::MAX));
    }
}
