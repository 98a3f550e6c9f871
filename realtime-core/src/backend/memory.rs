//! The embedded backend: history and live feeds in this process's memory.
//!
//! The default for demos, tests and single-process apps. History is bounded per channel
//! ([`MemoryOptions::max_len`]) and can expire after the channel's last emit
//! ([`MemoryOptions::expire_after`]), the way the Redis layout trims and expires streams.

use std::collections::{HashMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::broadcast;
use tokio::time::Instant;

mod presence;

use super::presence::{JoinOutcome, PresenceJoin, PresenceLeave};
use super::{
    Appended, Backend, BackendError, BoxFuture, FailureKind, Feed, FeedItem, LeaveOutcome,
    RawEntry, ReadRange,
};
use crate::cursor::Cursor;
use crate::util::{lock, now_ms};

/// Settings of the embedded backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryOptions {
    /// Entries kept per channel; the oldest are dropped on append. Default 10,000.
    pub max_len: Option<usize>,
    /// A channel's history is dropped this long after its last emit. Default: never.
    pub expire_after: Option<Duration>,
    /// Entries a live feed may fall behind before it must catch up from history.
    /// Default 1,024.
    pub feed_capacity: usize,
}

impl Default for MemoryOptions {
    fn default() -> Self {
        Self {
            max_len: Some(10_000),
            expire_after: None,
            feed_capacity: 1_024,
        }
    }
}

impl MemoryOptions {
    /// Keeps at most `max_len` entries per channel (`None`: unbounded).
    pub fn max_len(mut self, max_len: impl Into<Option<usize>>) -> Self {
        self.max_len = max_len.into();
        self
    }

    /// Drops a channel's history `after` its last emit.
    pub fn expire_after(mut self, after: impl Into<Option<Duration>>) -> Self {
        self.expire_after = after.into();
        self
    }
}

/// The embedded in-memory backend. Cheap to clone; clones share the same data.
#[derive(Clone, Debug, Default)]
pub struct MemoryBackend {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    options: MemoryOptions,
    logs: Mutex<Logs>,
}

#[derive(Debug)]
struct Logs {
    by_channel: HashMap<Arc<str>, ChannelLog>,
    /// Idempotency keys used within their window, by channel and key: the id each one
    /// stored and when it is forgotten. Bounded by the keyed emits of one window; expired
    /// keys go at the next sweep.
    remembered: HashMap<(Arc<str>, Box<str>), Remembered>,
    /// The members present per channel; a channel without connections is removed.
    presence: HashMap<Arc<str>, presence::ChannelPresence>,
    last_sweep: Instant,
}

#[derive(Debug)]
struct Remembered {
    id: Cursor,
    until: Instant,
    /// What was stored with the key ([`content_digest`]).
    digest: u64,
}

/// A digest of an entry's event and data, to tell a retry from another event under the
/// same key. (In-process only, so the standard hasher with its fixed keys does.)
fn content_digest(event: &str, data: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    (event, data).hash(&mut hasher);
    hasher.finish()
}

impl Default for Logs {
    fn default() -> Self {
        Self {
            by_channel: HashMap::new(),
            remembered: HashMap::new(),
            presence: HashMap::new(),
            last_sweep: Instant::now(),
        }
    }
}

#[derive(Debug)]
struct ChannelLog {
    entries: VecDeque<RawEntry>,
    /// Kept when entries are trimmed or expire, so ids never go back.
    last_id: Option<Cursor>,
    last_append: Instant,
    live: Option<broadcast::Sender<RawEntry>>,
}

impl ChannelLog {
    fn new() -> Self {
        Self {
            entries: VecDeque::new(),
            last_id: None,
            last_append: Instant::now(),
            live: None,
        }
    }

    fn expire(&mut self, expire_after: Option<Duration>, now: Instant) {
        if expire_after.is_some_and(|ttl| now.duration_since(self.last_append) >= ttl) {
            self.entries.clear();
        }
    }

    fn has_listeners(&self) -> bool {
        self.live
            .as_ref()
            .is_some_and(|sender| sender.receiver_count() > 0)
    }
}

const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
const FORGET_MARGIN_MS: u64 = 60_000;

impl MemoryBackend {
    /// A backend with default options.
    pub fn new() -> Self {
        Self::with_options(MemoryOptions::default())
    }

    /// A backend with these options.
    pub fn with_options(options: MemoryOptions) -> Self {
        Self {
            shared: Arc::new(Shared {
                options,
                logs: Mutex::new(Logs::default()),
            }),
        }
    }

    /// The options in force.
    pub fn options(&self) -> &MemoryOptions {
        &self.shared.options
    }

    /// The number of open live feeds of `channel`.
    pub fn listener_count(&self, channel: &str) -> usize {
        self.logs()
            .by_channel
            .get(channel)
            .and_then(|log| log.live.as_ref())
            .map_or(0, broadcast::Sender::receiver_count)
    }

    /// Locks the logs (every update is a single push or pop: see [`lock`]).
    fn logs(&self) -> MutexGuard<'_, Logs> {
        lock(&self.shared.logs)
    }

    fn append_now(&self, channel: &str, event: &str, data: &str) -> Cursor {
        let now = Instant::now();
        let mut logs = self.logs();
        self.append_locked(&mut logs, channel, event, data, now)
    }

    /// Checks the key and appends under one lock, so two emits with the same key can
    /// never both append.
    fn append_once_now(
        &self,
        channel: &str,
        event: &str,
        data: &str,
        key: &str,
        window: Duration,
    ) -> Result<Appended, BackendError> {
        let now = Instant::now();
        let mut logs = self.logs();
        let remembered_key: (Arc<str>, Box<str>) = (Arc::from(channel), Box::from(key));
        let digest = content_digest(event, data);
        if let Some(remembered) = logs.remembered.get(&remembered_key) {
            if remembered.until > now {
                if remembered.digest != digest {
                    return Err(key_reused(channel, key, remembered.id));
                }
                return Ok(Appended {
                    id: remembered.id,
                    replayed: true,
                });
            }
        }
        let id = self.append_locked(&mut logs, channel, event, data, now);
        let until = now + window;
        logs.remembered
            .insert(remembered_key, Remembered { id, until, digest });
        Ok(Appended {
            id,
            replayed: false,
        })
    }

    fn append_locked(
        &self,
        logs: &mut Logs,
        channel: &str,
        event: &str,
        data: &str,
        now: Instant,
    ) -> Cursor {
        let options = &self.shared.options;
        if now.duration_since(logs.last_sweep) >= SWEEP_INTERVAL {
            logs.last_sweep = now;
            sweep(&mut logs.by_channel, options.expire_after, now);
            logs.remembered
                .retain(|_, remembered| remembered.until > now);
            presence::forget_retired(&mut logs.presence, now);
        }
        let log = match logs.by_channel.get_mut(channel) {
            Some(log) => log,
            None => logs
                .by_channel
                .entry(Arc::from(channel))
                .or_insert_with(ChannelLog::new),
        };
        log.expire(options.expire_after, now);
        let id = Cursor::next(log.last_id, now_ms());
        let entry = RawEntry {
            id,
            event: Arc::from(event),
            data: Arc::from(data),
            lenient: false,
        };
        log.last_id = Some(id);
        log.last_append = now;
        if let Some(live) = &log.live {
            // Sent under the lock, so that feeds see entries in id order.
            let _no_listener_is_fine = live.send(entry.clone());
        }
        log.entries.push_back(entry);
        if let Some(max_len) = options.max_len {
            while log.entries.len() > max_len {
                log.entries.pop_front();
            }
        }
        id
    }

    fn read_now(&self, channel: &str, range: ReadRange) -> Vec<RawEntry> {
        let mut logs = self.logs();
        let Some(log) = logs.by_channel.get_mut(channel) else {
            return Vec::new();
        };
        log.expire(self.shared.options.expire_after, Instant::now());
        let entries = &log.entries;
        let first = match range.start {
            Bound::Included(start) => entries.partition_point(|entry| entry.id < start),
            Bound::Excluded(start) => entries.partition_point(|entry| entry.id <= start),
            Bound::Unbounded => 0,
        };
        let end = match range.end {
            Bound::Included(end) => entries.partition_point(|entry| entry.id <= end),
            Bound::Excluded(end) => entries.partition_point(|entry| entry.id < end),
            Bound::Unbounded => entries.len(),
        };
        if first >= end {
            return Vec::new();
        }
        let count = (end - first).min(range.limit);
        let skip = if range.newest_first {
            end - count
        } else {
            first
        };
        entries.range(skip..skip + count).cloned().collect()
    }

    fn listen_now(&self, channel: &str) -> Feed {
        let capacity = self.shared.options.feed_capacity.max(1);
        let mut logs = self.logs();
        let log = logs
            .by_channel
            .entry(Arc::from(channel))
            .or_insert_with(ChannelLog::new);
        let receiver = match &log.live {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = broadcast::channel(capacity);
                log.live = Some(sender);
                receiver
            }
        };
        futures::stream::unfold(receiver, |mut receiver| async move {
            match receiver.recv().await {
                Ok(entry) => Some((FeedItem::Entry(entry), receiver)),
                Err(broadcast::error::RecvError::Lagged(_)) => Some((FeedItem::Resync, receiver)),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        })
        .boxed()
    }
}

/// Drops expired histories, and forgets channels that nobody listens to once their history
/// is gone and the clock is well past their last id (so a later first id still grows).
fn sweep(logs: &mut HashMap<Arc<str>, ChannelLog>, expire_after: Option<Duration>, now: Instant) {
    let now_ms = now_ms();
    logs.retain(|_, log| {
        log.expire(expire_after, now);
        let clock_is_past = log
            .last_id
            .is_none_or(|last| now_ms > last.ms().saturating_add(FORGET_MARGIN_MS));
        !log.entries.is_empty() || log.has_listeners() || !clock_is_past
    });
}

impl Backend for MemoryBackend {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn append<'a>(
        &'a self,
        channel: &'a str,
        event: &'a str,
        data: &'a str,
    ) -> BoxFuture<'a, Result<Cursor, BackendError>> {
        let id = self.append_now(channel, event, data);
        Box::pin(async move { Ok(id) })
    }

    fn append_once<'a>(
        &'a self,
        channel: &'a str,
        event: &'a str,
        data: &'a str,
        key: &'a str,
        window: Duration,
    ) -> BoxFuture<'a, Result<Appended, BackendError>> {
        let appended = self.append_once_now(channel, event, data, key, window);
        Box::pin(async move { appended })
    }

    fn read<'a>(
        &'a self,
        channel: &'a str,
        range: ReadRange,
    ) -> BoxFuture<'a, Result<Vec<RawEntry>, BackendError>> {
        let entries = self.read_now(channel, range);
        Box::pin(async move { Ok(entries) })
    }

    fn listen<'a>(&'a self, channel: &'a str) -> BoxFuture<'a, Result<Feed, BackendError>> {
        let feed = self.listen_now(channel);
        Box::pin(async move { Ok(feed) })
    }

    fn listened_channels(&self) -> usize {
        self.logs()
            .by_channel
            .values()
            .filter(|log| log.has_listeners())
            .count()
    }

    fn presence_join<'a>(
        &'a self,
        channel: &'a str,
        join: PresenceJoin<'a>,
    ) -> BoxFuture<'a, Result<JoinOutcome, BackendError>> {
        let joined = self.presence_join_now(channel, join);
        Box::pin(std::future::ready(Ok(joined)))
    }

    fn presence_refresh<'a>(
        &'a self,
        channel: &'a str,
        lease: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, BackendError>> {
        let present = self.presence_refresh_now(channel, lease, ttl);
        Box::pin(std::future::ready(Ok(present)))
    }

    fn presence_leave<'a>(
        &'a self,
        channel: &'a str,
        leave: PresenceLeave<'a>,
    ) -> BoxFuture<'a, Result<LeaveOutcome, BackendError>> {
        let left = self.presence_leave_now(channel, leave);
        Box::pin(std::future::ready(Ok(left)))
    }

    fn presence_members<'a>(
        &'a self,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, BackendError>> {
        let members = self.presence_members_now(channel);
        Box::pin(std::future::ready(Ok(members)))
    }
}

/// The refusal of a key used within the window for another event or data.
fn key_reused(channel: &str, key: &str, original: Cursor) -> BackendError {
    BackendError::new(
        "memory",
        format!(
            "key `{key}` of channel `{channel}` stored entry {original}, with another event or data"
        ),
    )
    .kind(FailureKind::KeyReused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(entries: &[RawEntry]) -> Vec<Cursor> {
        entries.iter().map(|entry| entry.id).collect()
    }

    #[tokio::test]
    async fn ranges_follow_xrange_bounds_and_limits() {
        let backend = MemoryBackend::new();
        let mut written = Vec::new();
        for n in 0..10 {
            written.push(backend.append("c", "e", &n.to_string()).await.unwrap());
        }
        let all = backend
            .read("c", ReadRange::after(None, 100))
            .await
            .unwrap();
        assert_eq!(ids(&all), written);
        let after_third = backend
            .read("c", ReadRange::after(Some(written[2]), 3))
            .await
            .unwrap();
        assert_eq!(ids(&after_third), written[3..6]);
        let newest = backend.read("c", ReadRange::newest(4)).await.unwrap();
        assert_eq!(ids(&newest), written[6..]);
        let inclusive = ReadRange {
            start: Bound::Included(written[1]),
            end: Bound::Included(written[4]),
            limit: 100,
            newest_first: false,
        };
        assert_eq!(
            ids(&backend.read("c", inclusive).await.unwrap()),
            written[1..=4]
        );
        assert!(
            backend
                .read("other", ReadRange::newest(5))
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn append_trims_to_max_len() {
        let backend = MemoryBackend::with_options(MemoryOptions::default().max_len(3));
        for n in 0..5 {
            backend.append("c", "e", &n.to_string()).await.unwrap();
        }
        let kept = backend
            .read("c", ReadRange::after(None, 100))
            .await
            .unwrap();
        let data: Vec<&str> = kept.iter().map(|entry| &*entry.data).collect();
        assert_eq!(data, ["2", "3", "4"]);
    }

    #[tokio::test(start_paused = true)]
    async fn history_expires_after_the_last_emit_but_ids_keep_growing() {
        let backend = MemoryBackend::with_options(
            MemoryOptions::default().expire_after(Duration::from_secs(10)),
        );
        let first = backend.append("c", "e", "1").await.unwrap();
        tokio::time::advance(Duration::from_secs(6)).await;
        backend.append("c", "e", "2").await.unwrap();
        tokio::time::advance(Duration::from_secs(6)).await;
        // 12 s after the first emit but 6 s after the last: everything is kept.
        assert_eq!(
            backend
                .read("c", ReadRange::newest(10))
                .await
                .unwrap()
                .len(),
            2
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(
            backend
                .read("c", ReadRange::newest(10))
                .await
                .unwrap()
                .is_empty()
        );
        let after_expiry = backend.append("c", "e", "3").await.unwrap();
        assert!(after_expiry > first);
    }

    #[tokio::test]
    async fn feeds_see_appends_in_order_and_dropping_them_unsubscribes() {
        let backend = MemoryBackend::new();
        let mut feed = backend.listen("c").await.unwrap();
        assert_eq!(backend.listener_count("c"), 1);
        let a = backend.append("c", "e", "1").await.unwrap();
        let b = backend.append("c", "e", "2").await.unwrap();
        let got: Vec<Cursor> = feed
            .by_ref()
            .take(2)
            .map(|item| match item {
                FeedItem::Entry(entry) => entry.id,
                FeedItem::Resync => Cursor::MIN,
            })
            .collect()
            .await;
        assert_eq!(got, [a, b]);
        drop(feed);
        assert_eq!(backend.listener_count("c"), 0);
    }

    #[tokio::test]
    async fn a_lagging_feed_is_told_to_resync() {
        let backend = MemoryBackend::with_options(MemoryOptions {
            feed_capacity: 2,
            ..MemoryOptions::default()
        });
        let mut feed = backend.listen("c").await.unwrap();
        for n in 0..5 {
            backend.append("c", "e", &n.to_string()).await.unwrap();
        }
        assert_eq!(feed.next().await, Some(FeedItem::Resync));
    }
}
