//! The storage boundary: what a backend (embedded memory, Redis) provides to the typed API.
//!
//! A backend is untyped. It stores entries (an id, an event name, the data as JSON text) in
//! one ordered log per channel, reads ranges of it, and offers a live feed per channel. The
//! typed layer above it validates, decodes, fans out and makes delivery gapless, the same
//! way for every backend.

use std::future::Future;
use std::ops::Bound;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;

use crate::cursor::Cursor;

#[cfg(feature = "testing")]
pub mod conformance;
mod health;
pub mod memory;
pub mod presence;
#[cfg(feature = "redis")]
pub mod redis;

pub use health::{BackendHealth, NodeHealth, PubSubHealth};
pub use memory::{MemoryBackend, MemoryOptions};
pub use presence::{JoinOutcome, LeaveOutcome, PresenceJoin, PresenceLeave};

/// A boxed, `Send` future, as backend methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One stored entry of a channel, as the backend holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEntry {
    /// The entry's id; ids grow strictly within a channel.
    pub id: Cursor,
    /// The event name, as written (it may be unknown to this event set).
    pub event: Arc<str>,
    /// The data as text: JSON, or for entries written by the reference implementation,
    /// possibly a bare string (see [`RawEntry::lenient`]).
    pub data: Arc<str>,
    /// Whether `data` may be plain text rather than JSON: the reference writes strings,
    /// numbers and booleans unquoted, so `123` may be the string `"123"`. The decoder then
    /// lets the event's schema decide.
    pub lenient: bool,
}

/// One item of a live feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedItem {
    /// An entry appended to the channel, in id order.
    Entry(RawEntry),
    /// The feed may have missed entries (it lagged, or its connection dropped and came
    /// back); the reader catches up from the stored log.
    Resync,
}

/// A live feed of one channel. Dropping it ends the backend's subscription to the channel.
pub type Feed = BoxStream<'static, FeedItem>;

/// Which entries of a channel to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadRange {
    /// The lower bound.
    pub start: Bound<Cursor>,
    /// The upper bound.
    pub end: Bound<Cursor>,
    /// At most this many entries.
    pub limit: usize,
    /// Take the newest entries of the range instead of the oldest (the result is still in
    /// ascending id order).
    pub newest_first: bool,
}

impl ReadRange {
    /// The oldest `limit` entries strictly after `after` (all entries when `None`).
    pub fn after(after: Option<Cursor>, limit: usize) -> Self {
        Self {
            start: after.map_or(Bound::Unbounded, Bound::Excluded),
            end: Bound::Unbounded,
            limit,
            newest_first: false,
        }
    }

    /// The oldest `limit` entries from `start` on, `start` included.
    pub fn from_included(start: Cursor, limit: usize) -> Self {
        Self {
            start: Bound::Included(start),
            end: Bound::Unbounded,
            limit,
            newest_first: false,
        }
    }

    /// The newest `limit` entries.
    pub fn newest(limit: usize) -> Self {
        Self {
            start: Bound::Unbounded,
            end: Bound::Unbounded,
            limit,
            newest_first: true,
        }
    }

    /// Whether `id` lies inside the bounds (the limit aside).
    pub fn contains(&self, id: Cursor) -> bool {
        let above = match self.start {
            Bound::Included(start) => id >= start,
            Bound::Excluded(start) => id > start,
            Bound::Unbounded => true,
        };
        let below = match self.end {
            Bound::Included(end) => id <= end,
            Bound::Excluded(end) => id < end,
            Bound::Unbounded => true,
        };
        above && below
    }
}

/// What a backend failure means for the caller: whether the request may have taken
/// effect, and whether retrying can help.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FailureKind {
    /// The backend could not be reached, or refused for a passing reason (loading,
    /// failover, out of memory): nothing was written. Retrying later can succeed.
    #[default]
    Unavailable,
    /// The request was sent but no answer came (a timeout, a connection lost with the
    /// request in flight): it may or may not have taken effect. Retry an emit only with
    /// an idempotency key, which makes the retry return the original id.
    OutcomeUnknown,
    /// The backend refused the request for a reason that retrying will not fix (e.g. the
    /// channel's key holds data of another type). Nothing was written.
    Refused,
    /// An idempotent append ([`Backend::append_once`]) whose key was used on the channel
    /// within the window for a different event or data: nothing was written. A key names
    /// one event; a new event needs a new key.
    KeyReused,
}

/// A failure of the storage backend.
#[derive(Debug, thiserror::Error)]
#[error("storage backend `{backend}` failed: {message}")]
pub struct BackendError {
    backend: &'static str,
    message: String,
    kind: FailureKind,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl BackendError {
    /// A failure of `backend`, described by `message`; [`FailureKind::Unavailable`]
    /// unless changed with [`kind`](Self::kind).
    pub fn new(backend: &'static str, message: impl Into<String>) -> Self {
        Self {
            backend,
            message: message.into(),
            kind: FailureKind::Unavailable,
            source: None,
        }
    }

    /// A failure of `backend` caused by `source`.
    pub fn with_source(
        backend: &'static str,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            source: Some(Box::new(source)),
            ..Self::new(backend, message)
        }
    }

    /// Sets what the failure means for the caller.
    #[must_use]
    pub fn kind(mut self, kind: FailureKind) -> Self {
        self.kind = kind;
        self
    }

    /// What the failure means for the caller.
    pub fn failure_kind(&self) -> FailureKind {
        self.kind
    }

    /// The description, without the backend's name.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The result of an idempotent append ([`Backend::append_once`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The entry's id: the new entry's, or the original's for a repeated key.
    pub id: Cursor,
    /// Whether the key had been used within the window, so nothing was appended.
    pub replayed: bool,
}

/// Storage and live delivery of raw entries, one ordered log per channel.
///
/// Implementations must keep three promises that gapless delivery rests on:
/// ids grow strictly within a channel; a feed yields entries in id order; and an entry
/// appended after [`listen`](Backend::listen) returned is either yielded by the feed or
/// announced by a [`FeedItem::Resync`].
pub trait Backend: Send + Sync + 'static {
    /// A short name for logs and errors, e.g. `"memory"`.
    fn name(&self) -> &'static str;

    /// Appends an entry and publishes it to the channel's feeds; returns its id.
    fn append<'a>(
        &'a self,
        channel: &'a str,
        event: &'a str,
        data: &'a str,
    ) -> BoxFuture<'a, Result<Cursor, BackendError>>;

    /// Appends an entry unless `key` was used on the channel within `window`, atomically:
    /// a retry with the same key, event and data returns the original id instead of
    /// appending again; the same key with another event or data is refused with
    /// [`FailureKind::KeyReused`] (so a backend keeps a digest of what it stored with the
    /// key).
    ///
    /// The default refuses: a backend that cannot make the check and the append one step
    /// must not pretend to.
    fn append_once<'a>(
        &'a self,
        channel: &'a str,
        event: &'a str,
        data: &'a str,
        key: &'a str,
        window: Duration,
    ) -> BoxFuture<'a, Result<Appended, BackendError>> {
        let _ = (channel, event, data, key, window);
        let error = BackendError::new(self.name(), "idempotent emits are not supported")
            .kind(FailureKind::Refused);
        Box::pin(std::future::ready(Err(error)))
    }

    /// Reads stored entries, in ascending id order.
    fn read<'a>(
        &'a self,
        channel: &'a str,
        range: ReadRange,
    ) -> BoxFuture<'a, Result<Vec<RawEntry>, BackendError>>;

    /// Opens a live feed of the channel; it is live when the future resolves.
    fn listen<'a>(&'a self, channel: &'a str) -> BoxFuture<'a, Result<Feed, BackendError>>;

    /// The number of channels with at least one open feed, i.e. the upstream
    /// subscriptions the backend holds (for Redis: the channels `SUBSCRIBE`d on its
    /// pub/sub connection). It must return to zero once every feed is dropped, however
    /// early: [`Stats::listened_channels`](crate::Stats::listened_channels) reports it so
    /// that tests and operators can check that nothing leaks. Default: 0 (not tracked).
    fn listened_channels(&self) -> usize {
        0
    }

    /// The backend's state now, for people looking at it (the inspector page): its kind,
    /// its nodes and their roles, its pub/sub connections. Default: the kind is
    /// [`name`](Backend::name), nothing else is known.
    fn health(&self) -> BoxFuture<'_, BackendHealth> {
        let health = BackendHealth {
            kind: self.name().to_owned(),
            ..BackendHealth::default()
        };
        Box::pin(std::future::ready(health))
    }

    /// Sweeps the channel (see [`presence`]), then adds the connection under its lease
    /// (creating the lease, or extending it to at least `ttl` from now) and stores the
    /// member's record; appends `presence.joined` when it is the member's first connection.
    /// Joining a connection that is present changes only the record; joining under a
    /// retired lease changes nothing ([`JoinOutcome::LeaseGone`]). Default: refused (no
    /// presence support).
    fn presence_join<'a>(
        &'a self,
        channel: &'a str,
        join: PresenceJoin<'a>,
    ) -> BoxFuture<'a, Result<JoinOutcome, BackendError>> {
        let _ = (channel, join);
        Box::pin(std::future::ready(Err(presence_unsupported(self.name()))))
    }

    /// A heartbeat: sweeps the channel, then sets the lease's expiry to `ttl` from now,
    /// in one step whatever the number of connections under it (for Redis: one script
    /// call). Returns `false` when the lease is gone (it expired and was swept, or started
    /// to be): its connections are not present any more, and the caller joins them again
    /// under a new lease.
    fn presence_refresh<'a>(
        &'a self,
        channel: &'a str,
        lease: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, BackendError>> {
        let _ = (channel, lease, ttl);
        Box::pin(std::future::ready(Err(presence_unsupported(self.name()))))
    }

    /// Sweeps the channel, then removes the connection; appends `presence.left` when it
    /// was its member's last connection, and says what it did
    /// ([`LeaveOutcome::NotFound`] when the connection is not under the lease).
    fn presence_leave<'a>(
        &'a self,
        channel: &'a str,
        leave: PresenceLeave<'a>,
    ) -> BoxFuture<'a, Result<LeaveOutcome, BackendError>> {
        let _ = (channel, leave);
        Box::pin(std::future::ready(Err(presence_unsupported(self.name()))))
    }

    /// Sweeps the channel, then returns the record of every present member, in no
    /// particular order.
    fn presence_members<'a>(
        &'a self,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, BackendError>> {
        let _ = channel;
        Box::pin(std::future::ready(Err(presence_unsupported(self.name()))))
    }
}

/// The error of the presence methods of a backend that does not implement them.
fn presence_unsupported(backend: &'static str) -> BackendError {
    BackendError::new(backend, "presence is not supported by this backend")
        .kind(FailureKind::Refused)
}

/// A shared backend is a backend, so one store can serve several handles (and tests can
/// hand out `Arc<dyn Backend>`).
impl<B: Backend + ?Sized> Backend for Arc<B> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn append<'a>(
        &'a self,
        channel: &'a str,
        event: &'a str,
        data: &'a str,
    ) -> BoxFuture<'a, Result<Cursor, BackendError>> {
        (**self).append(channel, event, data)
    }

    fn append_once<'a>(
        &'a self,
        channel: &'a str,
        event: &'a str,
        data: &'a str,
        key: &'a str,
        window: Duration,
    ) -> BoxFuture<'a, Result<Appended, BackendError>> {
        (**self).append_once(channel, event, data, key, window)
    }

    fn read<'a>(
        &'a self,
        channel: &'a str,
        range: ReadRange,
    ) -> BoxFuture<'a, Result<Vec<RawEntry>, BackendError>> {
        (**self).read(channel, range)
    }

    fn listen<'a>(&'a self, channel: &'a str) -> BoxFuture<'a, Result<Feed, BackendError>> {
        (**self).listen(channel)
    }

    fn listened_channels(&self) -> usize {
        (**self).listened_channels()
    }

    fn health(&self) -> BoxFuture<'_, BackendHealth> {
        (**self).health()
    }

    fn presence_join<'a>(
        &'a self,
        channel: &'a str,
        join: PresenceJoin<'a>,
    ) -> BoxFuture<'a, Result<JoinOutcome, BackendError>> {
        (**self).presence_join(channel, join)
    }

    fn presence_refresh<'a>(
        &'a self,
        channel: &'a str,
        lease: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, BackendError>> {
        (**self).presence_refresh(channel, lease, ttl)
    }

    fn presence_leave<'a>(
        &'a self,
        channel: &'a str,
        leave: PresenceLeave<'a>,
    ) -> BoxFuture<'a, Result<LeaveOutcome, BackendError>> {
        (**self).presence_leave(channel, leave)
    }

    fn presence_members<'a>(
        &'a self,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, BackendError>> {
        (**self).presence_members(channel)
    }
}
