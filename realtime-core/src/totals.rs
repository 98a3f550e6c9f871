//! The process's own running totals of what the metrics count, readable without an
//! exporter: [`metrics::totals`](crate::metrics::totals) takes a snapshot, and two
//! snapshots a second apart give rates (the inspector page of `realtime-axum` draws its
//! charts from them).
//!
//! Each is a relaxed atomic increment beside the recording through the `metrics` facade,
//! whether or not a recorder is installed.

use std::sync::atomic::{AtomicU64, Ordering};

/// The upper bounds, in milliseconds, of the delivery-lag buckets of
/// [`ProcessTotals::delivery_lag_ms`]; the last bucket counts everything above the last
/// bound.
pub const LAG_BUCKETS_MS: [u64; 12] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000];

/// A snapshot of the process's totals since it started, over every `Realtime` handle.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ProcessTotals {
    /// Emits stored and published (once per channel of a multi-channel emit).
    pub emits: u64,
    /// Emits refused or failed (invalid, bad request, storage error, outcome unknown).
    pub emits_failed: u64,
    /// Messages handed to the in-process fan-out (once per message per process).
    pub deliveries: u64,
    /// Subscribers that fell behind the fan-out, and feeds told to resync, each caught
    /// up from history.
    pub catch_ups: u64,
    /// Stored entries not delivered: unknown event or data that breaks the schema.
    pub rejected: u64,
    /// Event streams (SSE) open now.
    pub open_streams: i64,
    /// Deliveries counted by lag, one count per bucket of [`LAG_BUCKETS_MS`] and one
    /// above the last bound.
    pub delivery_lag_ms: Vec<u64>,
}

struct Totals {
    emits: AtomicU64,
    emits_failed: AtomicU64,
    deliveries: AtomicU64,
    catch_ups: AtomicU64,
    rejected: AtomicU64,
    lag: [AtomicU64; LAG_BUCKETS_MS.len() + 1],
}

static TOTALS: Totals = Totals {
    emits: AtomicU64::new(0),
    emits_failed: AtomicU64::new(0),
    deliveries: AtomicU64::new(0),
    catch_ups: AtomicU64::new(0),
    rejected: AtomicU64::new(0),
    lag: [const { AtomicU64::new(0) }; LAG_BUCKETS_MS.len() + 1],
};

/// The totals now, with `open_streams` (a gauge the metrics module keeps).
pub(crate) fn snapshot(open_streams: i64) -> ProcessTotals {
    let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    ProcessTotals {
        emits: read(&TOTALS.emits),
        emits_failed: read(&TOTALS.emits_failed),
        deliveries: read(&TOTALS.deliveries),
        catch_ups: read(&TOTALS.catch_ups),
        rejected: read(&TOTALS.rejected),
        open_streams,
        delivery_lag_ms: TOTALS.lag.iter().map(read).collect(),
    }
}

pub(crate) fn emitted(ok: bool) {
    let counter = if ok {
        &TOTALS.emits
    } else {
        &TOTALS.emits_failed
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn delivered(lag_ms: u64) {
    TOTALS.deliveries.fetch_add(1, Ordering::Relaxed);
    let bucket = LAG_BUCKETS_MS
        .iter()
        .position(|bound| lag_ms <= *bound)
        .unwrap_or(LAG_BUCKETS_MS.len());
    TOTALS.lag[bucket].fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn caught_up() {
    TOTALS.catch_ups.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn rejected(count: u64) {
    TOTALS.rejected.fetch_add(count, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lag_is_counted_in_the_first_bucket_that_holds_it() {
        let before = snapshot(0).delivery_lag_ms;
        delivered(0);
        delivered(3);
        delivered(60_000);
        let after = snapshot(0).delivery_lag_ms;
        let grown: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
        // Other tests of the crate may deliver meanwhile: each bucket grew at least this.
        assert!(grown[0] >= 1 && grown[2] >= 1 && grown[LAG_BUCKETS_MS.len()] >= 1);
    }
}
