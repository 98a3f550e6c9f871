//! The typed handle: [`Realtime<E>`].

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::Value;

use std::time::Duration;

use crate::backend::{Backend, MemoryBackend};
use crate::catalog::Catalog;
use crate::channel::Channel;
use crate::channel_name::{ChannelName, IntoChannelName};
use crate::cursor::Cursor;
use crate::envelope::Envelope;
use crate::error::Result;
use crate::events::Events;
use crate::history::History;
use crate::hub::{Counters, Hub};
use crate::idempotency::DEFAULT_IDEMPOTENCY_WINDOW;
use crate::metrics::Outcome;
use crate::presence::leases::Leases;
use crate::presence::records::CheckedRecords;
use crate::shared::Core;
use crate::subscription::SubscribeBuilder;

/// The number of messages a subscriber may fall behind the in-process fan-out before it
/// catches up from history, unless set with [`RealtimeBuilder::fanout_capacity`].
pub const DEFAULT_FANOUT_CAPACITY: usize = 1_024;

/// The typed entry point: emit, read history and subscribe, on any channel.
///
/// Cheap to clone (an `Arc` inside); clones share the backend, the compiled validators and
/// the in-process fan-out.
///
/// ```
/// use futures::StreamExt;
/// use realtime_core::{Events, History, Realtime};
///
/// #[derive(Events, Clone, Debug, PartialEq)]
/// enum AppEvent {
///     #[event("notification.alert")]
///     Alert(String),
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> realtime_core::Result<()> {
/// let rt = Realtime::<AppEvent>::memory();
/// let mut alerts = rt.subscribe([AppEventKind::Alert]).await?;
/// let id = rt.emit(&AppEvent::Alert("hello".into())).await?;
///
/// let received = alerts.next().await.expect("the alert");
/// assert_eq!((received.id, received.event), (id, AppEvent::Alert("hello".into())));
/// assert_eq!(rt.history(History::last(10)).await?.len(), 1);
/// # Ok(()) }
/// ```
pub struct Realtime<E: Events> {
    core: Arc<Core<E>>,
}

impl<E: Events> Clone for Realtime<E> {
    fn clone(&self) -> Self {
        Self {
            core: Arc::clone(&self.core),
        }
    }
}

impl<E: Events> std::fmt::Debug for Realtime<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Realtime")
            .field("events", &E::TYPE_NAME)
            .field("backend", &self.core.backend.name())
            .field("hub", &self.core.hub)
            .finish()
    }
}

impl<E: Events> Realtime<E> {
    /// A handle on the embedded in-memory backend with default options
    /// ([`MemoryOptions`](crate::backend::MemoryOptions)).
    pub fn memory() -> Self {
        Self::builder(MemoryBackend::new()).build()
    }

    /// A handle on Redis at `url` (e.g. `redis://127.0.0.1:6379`, or a cluster:
    /// `redis+cluster://host:port,host:port`) with default
    /// [`RedisOptions`](crate::backend::redis::RedisOptions): streams and pub/sub channels
    /// under the `realtime:` key prefix.
    ///
    /// # Errors
    /// When the URL is malformed or Redis cannot be reached.
    #[cfg(feature = "redis")]
    pub async fn redis(url: &str) -> Result<Self> {
        let options = crate::backend::redis::RedisOptions::default();
        let backend = crate::backend::redis::RedisBackend::connect_url(url, options).await?;
        Ok(Self::with_backend(backend))
    }

    /// A handle on a Redis Cluster, found from `seeds` (`redis://` URLs of some of its
    /// nodes), with default [`RedisOptions`](crate::backend::redis::RedisOptions); see
    /// [`RedisBackend::connect_cluster`](crate::backend::redis::RedisBackend::connect_cluster).
    ///
    /// ```no_run
    /// # #[derive(realtime_core::Events, Clone, Debug)]
    /// # enum AppEvent { #[event("chat.message")] Message { text: String } }
    /// # async fn demo() -> realtime_core::Result<()> {
    /// use realtime_core::Realtime;
    /// let realtime = Realtime::<AppEvent>::redis_cluster(&[
    ///     "redis://10.0.0.1:6379",
    ///     "redis://10.0.0.2:6379",
    /// ])
    /// .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// When a URL is malformed or no seed answers.
    #[cfg(feature = "redis")]
    pub async fn redis_cluster(seeds: &[&str]) -> Result<Self> {
        let options = crate::backend::redis::RedisOptions::default();
        let backend = crate::backend::redis::RedisBackend::connect_cluster(seeds, options).await?;
        Ok(Self::with_backend(backend))
    }

    /// A handle on `backend` with default settings.
    pub fn with_backend(backend: impl Backend) -> Self {
        Self::builder(backend).build()
    }

    /// Starts configuring a handle on `backend`.
    pub fn builder(backend: impl Backend) -> RealtimeBuilder<E> {
        RealtimeBuilder {
            backend: Arc::new(backend),
            fanout_capacity: DEFAULT_FANOUT_CAPACITY,
            idempotency_window: DEFAULT_IDEMPOTENCY_WINDOW,
            max_presence_info: crate::presence::DEFAULT_MAX_PRESENCE_INFO,
            _events: std::marker::PhantomData,
        }
    }

    /// A handle on the channel called `name`: a [`ChannelName`] (checked already), or a
    /// string, checked here once; with a bad name every operation of the handle fails
    /// with [`Error::InvalidChannel`](crate::Error::InvalidChannel).
    pub fn channel(&self, name: impl IntoChannelName) -> Channel<E> {
        Channel::new(Arc::clone(&self.core), name)
    }

    fn default_channel(&self) -> Channel<E> {
        self.channel(ChannelName::default_channel())
    }

    /// Emits to the `default` channel. See [`Channel::emit`].
    ///
    /// # Errors
    /// As [`Channel::emit`].
    pub async fn emit(&self, event: &E) -> Result<Cursor> {
        self.default_channel().emit(event).await
    }

    /// Emits untyped input to the `default` channel. See [`Channel::emit_json`].
    ///
    /// # Errors
    /// As [`Channel::emit_json`].
    pub async fn emit_json(&self, event: &str, data: Value) -> Result<Cursor> {
        self.default_channel().emit_json(event, data).await
    }

    /// Emits one event to several channels, validating and encoding it once; returns the
    /// ids in the order of `channels`. Every name is checked before anything is written;
    /// a backend failure part-way leaves the earlier channels written.
    ///
    /// # Errors
    /// As [`Channel::emit`].
    pub async fn emit_to<I>(&self, channels: I, event: &E) -> Result<Vec<Cursor>>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let kind = Some(event.kind());
        let checked = async {
            let channels = channels
                .into_iter()
                .map(ChannelName::new)
                .collect::<Result<Vec<_>, _>>()?;
            let prepared = self.core.prepare(event)?;
            Ok((channels, prepared))
        };
        // A refusal before anything is written counts as one emit; each append as one.
        let (channels, prepared) = checked.await.inspect_err(|error| {
            self.core.record(kind, Outcome::of_error(error), None);
        })?;
        let appends = channels.iter().map(|channel| {
            let append = self.core.append(channel, &prepared, None);
            self.core.recorded(channel, kind, append)
        });
        futures::future::try_join_all(appends).await
    }

    /// Reads the history of the `default` channel. See [`Channel::history`].
    ///
    /// # Errors
    /// As [`Channel::history`].
    pub async fn history(&self, query: History) -> Result<Vec<Envelope<E>>> {
        self.default_channel().history(query).await
    }

    /// Subscribes to the `default` channel. See [`Channel::subscribe`].
    pub fn subscribe(&self, kinds: impl IntoIterator<Item = E::Kind>) -> SubscribeBuilder<E> {
        self.default_channel().subscribe(kinds)
    }

    /// Subscribes to every event of the `default` channel.
    pub fn subscribe_all(&self) -> SubscribeBuilder<E> {
        self.default_channel().subscribe_all()
    }

    /// The shared state, for [`inspect`](crate::inspect).
    #[cfg(feature = "inspect")]
    pub(crate) fn core(&self) -> &Arc<Core<E>> {
        &self.core
    }

    /// Counters of this handle (and its clones).
    pub fn stats(&self) -> Stats {
        Stats {
            rejected: self.core.counters.rejected.load(Ordering::Relaxed),
            catch_ups: self.core.counters.catch_ups.load(Ordering::Relaxed),
            live_channels: self.core.hub.live_channels(),
            listened_channels: self.core.backend.listened_channels(),
            presence_connections: self.core.presence.held(),
        }
    }
}

/// Counters of a [`Realtime`] handle. The process-wide metrics
/// ([`metrics`](crate::metrics)) count the same things, and more, for an exporter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Stored entries that were not delivered because their event name was unknown or
    /// their data did not match the schema (each is also logged with channel and id).
    pub rejected: u64,
    /// Times a feed or a subscriber fell behind and caught up from history (while the
    /// Redis pub/sub connection is down, every poll of a channel's stream counts).
    pub catch_ups: u64,
    /// Channels with an open upstream feed (channels with at least one subscriber).
    pub live_channels: usize,
    /// Channels the backend holds a subscription for ([`Backend::listened_channels`]:
    /// for Redis, the channels subscribed on the pub/sub connection). Shared by every
    /// handle on the same backend; back to zero when no subscriber is left.
    pub listened_channels: usize,
    /// Presence connections this handle keeps alive with its heartbeats (joined and not
    /// yet left), over every channel.
    pub presence_connections: usize,
}

/// Configures a [`Realtime`] handle; made by [`Realtime::builder`].
pub struct RealtimeBuilder<E> {
    backend: Arc<dyn Backend>,
    fanout_capacity: usize,
    idempotency_window: Duration,
    max_presence_info: usize,
    _events: std::marker::PhantomData<fn() -> E>,
}

impl<E> std::fmt::Debug for RealtimeBuilder<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealtimeBuilder")
            .field("backend", &self.backend.name())
            .field("fanout_capacity", &self.fanout_capacity)
            .field("idempotency_window", &self.idempotency_window)
            .field("max_presence_info", &self.max_presence_info)
            .finish()
    }
}

impl<E: Events> RealtimeBuilder<E> {
    /// How many messages a subscriber may fall behind the in-process fan-out before it
    /// catches up from history instead (default [`DEFAULT_FANOUT_CAPACITY`]).
    pub fn fanout_capacity(mut self, capacity: usize) -> Self {
        self.fanout_capacity = capacity.max(1);
        self
    }

    /// How long an idempotency key is remembered per channel (default
    /// [`DEFAULT_IDEMPOTENCY_WINDOW`], 5 minutes; at least 1 ms): within it, an emit
    /// with a key already used returns the original id (see
    /// [`Channel::emit_with_key`]).
    pub fn idempotency_window(mut self, window: Duration) -> Self {
        self.idempotency_window = window.max(Duration::from_millis(1));
        self
    }

    /// The largest presence info a member may join with, in bytes of its JSON (default
    /// [`DEFAULT_MAX_PRESENCE_INFO`](crate::presence::DEFAULT_MAX_PRESENCE_INFO), 4 KiB):
    /// every `presence.joined` carries it to every subscriber of the channel, and
    /// [`Presence::members`](crate::presence::Presence::members) lists it for every member.
    /// A larger one is refused with [`Error::PresenceInfoTooLarge`](crate::Error::PresenceInfoTooLarge).
    pub fn max_presence_info(mut self, bytes: usize) -> Self {
        self.max_presence_info = bytes;
        self
    }

    /// Builds the handle. The validators of `E` are compiled on first use per process.
    pub fn build(self) -> Realtime<E> {
        let catalog = Catalog::of::<E>();
        let counters = Arc::new(Counters::default());
        let hub = Hub::new(
            Arc::clone(&self.backend),
            Arc::clone(&catalog),
            Arc::clone(&counters),
            self.fanout_capacity,
        );
        let presence = Arc::new(Leases::new(Arc::clone(&self.backend)));
        Realtime {
            core: Arc::new(Core {
                presence,
                presence_records: CheckedRecords::default(),
                backend: self.backend,
                catalog,
                counters,
                hub,
                idempotency_window: self.idempotency_window,
                max_presence_info: self.max_presence_info,
            }),
        }
    }
}
