//! The in-process fan-out: one upstream feed per channel, however many subscribers.
//!
//! A channel's first subscriber opens a [`Tap`]: the backend's live feed for the channel
//! and a task (the pump) that decodes and validates each entry once, then broadcasts it as
//! a shared [`Delivery`]. Later subscribers of the channel join the same broadcast. When the
//! last one goes, the tap closes and the backend's subscription with it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{OnceCell, broadcast};
use tokio::task::AbortHandle;

use crate::backend::{Backend, BackendError, FailureKind, Feed, FeedItem, RawEntry, ReadRange};
use crate::catalog::Catalog;
use crate::cursor::Cursor;
use crate::envelope::{Delivery, Envelope};
use crate::events::{EventKind, Events};
use crate::metrics;
use crate::util::{Backoff, lock, now_ms};

/// Entries read per request when catching up from history.
pub(crate) const CATCH_UP_PAGE: usize = 1_000;

/// Counters shared by every part of one `Realtime` handle.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) rejected: AtomicU64,
    pub(crate) catch_ups: AtomicU64,
}

/// Decodes a stored entry once; on failure counts and logs it (with channel, id and
/// event) and returns `None`, so one bad entry never breaks a subscription.
pub(crate) fn decode_or_report<E: Events>(
    catalog: &Catalog,
    counters: &Counters,
    channel: &Arc<str>,
    entry: &RawEntry,
) -> Option<Delivery<E>> {
    match catalog.decode::<E>(entry) {
        Ok((event, data_json)) => Some(Delivery::new(
            Envelope {
                id: entry.id,
                channel: Arc::clone(channel),
                event,
            },
            data_json,
        )),
        Err(error) => {
            counters.rejected.fetch_add(1, Ordering::Relaxed);
            metrics::increment(&metrics::STORED_ENTRIES_REJECTED_KEY, 1);
            crate::totals::rejected(1);
            tracing::warn!(
                channel = &**channel,
                id = %entry.id,
                event = &*entry.event,
                %error,
                "stored entry rejected: it does not match the event schema"
            );
            None
        }
    }
}

type TapMap<E> = Mutex<HashMap<Arc<str>, Weak<Tap<E>>>>;

/// The fan-out of one event set over one backend.
pub(crate) struct Hub<E: Events> {
    backend: Arc<dyn Backend>,
    catalog: Arc<Catalog>,
    counters: Arc<Counters>,
    capacity: usize,
    taps: Arc<TapMap<E>>,
}

impl<E: Events> std::fmt::Debug for Hub<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("backend", &self.backend.name())
            .field("capacity", &self.capacity)
            .field("live_channels", &self.live_channels())
            .finish()
    }
}

/// A subscriber's place in a channel's fan-out.
pub(crate) struct Registration<E: Events> {
    /// Keeps the channel's tap open.
    pub(crate) tap: Arc<Tap<E>>,
    /// Every delivery broadcast after the registration.
    pub(crate) receiver: broadcast::Receiver<Arc<Delivery<E>>>,
    /// The id of the last entry broadcast before the registration.
    pub(crate) last: Option<Cursor>,
}

/// One channel's upstream feed and broadcast.
pub(crate) struct Tap<E: Events> {
    channel: Arc<str>,
    shared: Arc<TapShared<E>>,
    /// The outcome of opening the feed, shared by every attach that waited for it.
    ready: OnceCell<Result<(), StartFailure>>,
    pump: Mutex<Option<AbortHandle>>,
    taps: Weak<TapMap<E>>,
}

struct TapShared<E> {
    sender: broadcast::Sender<Arc<Delivery<E>>>,
    /// The id of the last entry broadcast (or skipped as invalid).
    last: Mutex<Option<Cursor>>,
}

impl<E: Events> Hub<E> {
    pub(crate) fn new(
        backend: Arc<dyn Backend>,
        catalog: Arc<Catalog>,
        counters: Arc<Counters>,
        capacity: usize,
    ) -> Self {
        Self {
            backend,
            catalog,
            counters,
            capacity: capacity.max(1),
            taps: Arc::default(),
        }
    }

    /// The number of channels with an open upstream feed.
    pub(crate) fn live_channels(&self) -> usize {
        lock(&self.taps)
            .values()
            .filter(|tap| tap.strong_count() > 0)
            .count()
    }

    /// Every channel with an open upstream feed: its name, its subscribers now and the
    /// id of the last entry it broadcast, in no particular order.
    #[cfg(feature = "inspect")]
    pub(crate) fn channels(&self) -> Vec<(Arc<str>, usize, Option<Cursor>)> {
        let taps: Vec<Arc<Tap<E>>> = lock(&self.taps)
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        taps.iter()
            .map(|tap| {
                let last = *lock(&tap.shared.last);
                (
                    Arc::clone(&tap.channel),
                    tap.shared.sender.receiver_count(),
                    last,
                )
            })
            .collect()
    }

    /// Joins the fan-out of `channel`, opening its upstream feed if needed. When this
    /// returns, every entry appended afterwards reaches the registration.
    pub(crate) async fn attach(&self, channel: &str) -> Result<Registration<E>, BackendError> {
        let tap = self.tap(channel);
        let ready = tap.ready.get_or_init(|| self.start(&tap)).await;
        if let Err(failure) = ready {
            let error =
                BackendError::new(self.backend.name(), failure.message.clone()).kind(failure.kind);
            self.forget(&tap);
            return Err(error);
        }
        // Subscribing and reading `last` under the lock the pump publishes under: the
        // registration sees exactly the entries after `last`.
        let last = lock(&tap.shared.last);
        let receiver = tap.shared.sender.subscribe();
        let last_id = *last;
        drop(last);
        Ok(Registration {
            tap,
            receiver,
            last: last_id,
        })
    }

    fn tap(&self, channel: &str) -> Arc<Tap<E>> {
        let mut taps = lock(&self.taps);
        if let Some(tap) = taps.get(channel).and_then(Weak::upgrade) {
            return tap;
        }
        let (sender, _) = broadcast::channel(self.capacity);
        let channel: Arc<str> = Arc::from(channel);
        let tap = Arc::new(Tap {
            channel: Arc::clone(&channel),
            shared: Arc::new(TapShared {
                sender,
                last: Mutex::new(None),
            }),
            ready: OnceCell::new(),
            pump: Mutex::new(None),
            taps: Arc::downgrade(&self.taps),
        });
        taps.insert(channel, Arc::downgrade(&tap));
        tap
    }

    /// Drops a tap that failed to start from the map, so that the next attach retries.
    fn forget(&self, tap: &Arc<Tap<E>>) {
        let mut taps = lock(&self.taps);
        if taps
            .get(&tap.channel)
            .is_some_and(|entry| std::ptr::eq(entry.as_ptr(), Arc::as_ptr(tap)))
        {
            taps.remove(&tap.channel);
        }
    }

    async fn start(&self, tap: &Arc<Tap<E>>) -> Result<(), StartFailure> {
        let channel = &tap.channel;
        let feed = self
            .backend
            .listen(channel)
            .await
            .map_err(StartFailure::from)?;
        // The feed is live: anything newer than the current newest entry reaches it.
        let newest = self
            .backend
            .read(channel, ReadRange::newest(1))
            .await
            .map_err(StartFailure::from)?;
        *lock(&tap.shared.last) = newest.last().map(|entry| entry.id);
        let pump = Pump {
            channel: Arc::clone(channel),
            shared: Arc::clone(&tap.shared),
            backend: Arc::clone(&self.backend),
            catalog: Arc::clone(&self.catalog),
            counters: Arc::clone(&self.counters),
        };
        let handle = tokio::spawn(pump.run(feed)).abort_handle();
        *lock(&tap.pump) = Some(handle);
        tracing::debug!(channel = &**channel, "channel feed opened");
        Ok(())
    }
}

/// Why a channel's feed could not be opened (kept to answer every waiting subscriber).
#[derive(Clone, Debug)]
struct StartFailure {
    message: String,
    kind: FailureKind,
}

impl From<BackendError> for StartFailure {
    fn from(error: BackendError) -> Self {
        Self {
            message: error.message().to_owned(),
            kind: error.failure_kind(),
        }
    }
}

impl<E: Events> Drop for Tap<E> {
    fn drop(&mut self) {
        if let Some(pump) = lock(&self.pump).take() {
            pump.abort();
            tracing::debug!(channel = &*self.channel, "channel feed closed");
        }
        if let Some(taps) = self.taps.upgrade() {
            let mut taps = lock(&taps);
            if taps
                .get(&self.channel)
                .is_some_and(|entry| entry.strong_count() == 0)
            {
                taps.remove(&self.channel);
            }
        }
    }
}

/// The task that moves one channel's feed into its broadcast.
struct Pump<E> {
    channel: Arc<str>,
    shared: Arc<TapShared<E>>,
    backend: Arc<dyn Backend>,
    catalog: Arc<Catalog>,
    counters: Arc<Counters>,
}

impl<E: Events> Pump<E> {
    async fn run(self, mut feed: Feed) {
        while let Some(item) = feed.next().await {
            match item {
                FeedItem::Entry(entry) => self.publish(&entry),
                FeedItem::Resync => self.catch_up().await,
            }
        }
        tracing::warn!(
            channel = &*self.channel,
            "the backend closed the channel feed; its subscribers receive nothing more"
        );
    }

    fn last(&self) -> Option<Cursor> {
        *lock(&self.shared.last)
    }

    fn publish(&self, entry: &RawEntry) {
        if self.last().is_some_and(|last| entry.id <= last) {
            return;
        }
        let delivery = decode_or_report::<E>(&self.catalog, &self.counters, &self.channel, entry);
        let mut last = lock(&self.shared.last);
        *last = Some(entry.id);
        if let Some(delivery) = delivery {
            tracing::debug!(channel = &*self.channel, id = %entry.id, event = &*entry.event, "fan-out");
            self.record(&delivery);
            let _no_subscriber_is_fine = self.shared.sender.send(Arc::new(delivery));
        }
    }

    /// Counts a message handed to the fan-out, and the time since its emit (the id's
    /// millisecond; a clock behind the emitter's counts as no time).
    fn record(&self, delivery: &Delivery<E>) {
        let envelope = delivery.envelope();
        self.catalog.keys().delivery(envelope.event.kind().index());
        let lag_ms = now_ms().saturating_sub(envelope.id.ms());
        crate::totals::delivered(lag_ms);
        let lag = Duration::from_millis(lag_ms);
        metrics::record(&metrics::DELIVERY_LAG_KEY, lag.as_secs_f64());
    }

    /// Reads what the feed missed from history, retrying with back-off while the backend
    /// is unreachable (the feed keeps buffering meanwhile).
    async fn catch_up(&self) {
        self.counters.catch_ups.fetch_add(1, Ordering::Relaxed);
        metrics::increment(&metrics::FEED_RESYNCS_KEY, 1);
        crate::totals::caught_up();
        let mut backoff = Backoff::READS;
        loop {
            match self
                .backend
                .read(&self.channel, ReadRange::after(self.last(), CATCH_UP_PAGE))
                .await
            {
                Ok(entries) => {
                    let page_was_full = entries.len() == CATCH_UP_PAGE;
                    for entry in &entries {
                        self.publish(entry);
                    }
                    if !page_was_full {
                        return;
                    }
                }
                Err(error) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(channel = &*self.channel, %error, retry_in = ?delay, "catch-up from history failed");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}
