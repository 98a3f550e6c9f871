//! Subscriptions: a channel's events as a `Stream`, without gaps or duplicates.
//!
//! A subscription joins the channel's fan-out first, then replays history (if asked),
//! then follows the live broadcast, skipping ids it has already passed. A subscriber that
//! falls behind the broadcast reads what it missed from history and goes on. So every
//! entry still in history is delivered once, in id order, across replay, live and
//! catch-up.

use std::collections::VecDeque;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use tokio::sync::broadcast;
use tracing::Instrument;

use crate::backend::{Backend, RawEntry, ReadRange};
use crate::catalog::Catalog;
use crate::channel_name::{ChannelName, InvalidChannelName};
use crate::cursor::{Cursor, Position};
use crate::envelope::{Delivery, Envelope};
use crate::error::{Error, Result};
use crate::events::{EventKind, Events, KindFilter};
use crate::history::MAX_HISTORY_LIMIT;
use crate::hub::{CATCH_UP_PAGE, Counters, Tap, decode_or_report};
use crate::metrics;
use crate::shared::Core;
use crate::util::Backoff;

/// The most entries [`SubscribeBuilder::with_history_of`] looks back through for the
/// events it counts.
pub const MAX_HISTORY_LOOK_BACK: usize = 10 * CATCH_UP_PAGE;

/// Where a subscription starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    /// Events emitted from now on.
    Live,
    /// The newest `n` stored events, then live.
    Newest(usize),
    /// Everything strictly after this stored cursor, which must still exist.
    After(Cursor),
    /// Everything strictly after this position, whether or not it is stored.
    Since(Position),
    /// The newest `n` stored events or everything after the position, whichever starts
    /// earlier.
    NewestOrSince(usize, Position),
}

/// A subscription being set up; `.await` it. Made by [`Channel::subscribe`](crate::Channel::subscribe).
///
/// ```
/// # use realtime_core::{Events, Realtime};
/// # #[derive(Events, Clone, Debug, PartialEq)]
/// # enum AppEvent { #[event("chat.message")] Message(String), #[event("chat.typing")] Typing }
/// # async fn demo(rt: Realtime<AppEvent>) -> realtime_core::Result<()> {
/// use futures::StreamExt;
///
/// let room = rt.channel("room-1");
/// let mut messages = room.subscribe([AppEventKind::Message]).with_history(50).await?;
/// while let Some(envelope) = messages.next().await {
///     println!("{} {:?}", envelope.id, envelope.event);
/// }
/// # Ok(()) }
/// ```
#[must_use = "a subscription does nothing until it is awaited"]
pub struct SubscribeBuilder<E: Events> {
    core: Arc<Core<E>>,
    channel: Result<ChannelName, InvalidChannelName>,
    filter: KindFilter,
    start: Start,
    /// The kinds that count toward the limit of `with_history` (`None`: every kind).
    history_kinds: Option<KindFilter>,
}

impl<E: Events> std::fmt::Debug for SubscribeBuilder<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscribeBuilder")
            .field("channel", &self.channel)
            .field("filter", &self.filter)
            .field("start", &self.start)
            .finish_non_exhaustive()
    }
}

impl<E: Events> SubscribeBuilder<E> {
    pub(crate) fn new(
        core: Arc<Core<E>>,
        channel: Result<ChannelName, InvalidChannelName>,
        filter: KindFilter,
    ) -> Self {
        Self {
            core,
            channel,
            filter,
            start: Start::Live,
            history_kinds: None,
        }
    }

    /// Like [`with_history`](Self::with_history), counting only events of `kinds`: starts
    /// just before the newest `limit` stored events of those kinds, and delivers from there
    /// every event the subscription's own filter lets through (so other kinds in between
    /// come too). A chat room joined with its newest 50 messages and the notices among
    /// them:
    ///
    /// ```
    /// # use realtime_core::{Events, Realtime};
    /// # #[derive(Events, Clone, Debug, PartialEq)]
    /// # enum ChatEvent { #[event("chat.message")] Message(String), #[event("chat.joined")] Joined(String) }
    /// # async fn demo(rt: Realtime<ChatEvent>) -> realtime_core::Result<()> {
    /// let room = rt.channel("room-1");
    /// let joined = room.subscribe_all().with_history_of(50, [ChatEventKind::Message]).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// It looks back at most [`MAX_HISTORY_LOOK_BACK`] entries for them.
    pub fn with_history_of(
        mut self,
        limit: usize,
        kinds: impl IntoIterator<Item = E::Kind>,
    ) -> Self {
        self.history_kinds = Some(KindFilter::of(kinds));
        self.with_history(limit)
    }

    /// Starts with the newest `limit` stored events (1 to
    /// [`MAX_HISTORY_LIMIT`]), then goes live. Combined with [`since`](Self::since), in
    /// either order: the newest `limit` events, or everything after the position when that
    /// starts earlier, so nothing after the position is skipped.
    pub fn with_history(mut self, limit: usize) -> Self {
        self.start = match self.start {
            Start::Since(position) | Start::NewestOrSince(_, position) => {
                Start::NewestOrSince(limit, position)
            }
            _ => Start::Newest(limit),
        };
        self
    }

    /// Starts strictly after `cursor`, which must still be stored: awaiting fails with
    /// [`Error::CursorUnavailable`] when it was trimmed, expired or never written.
    pub fn after(mut self, cursor: Cursor) -> Self {
        self.start = Start::After(cursor);
        self
    }

    /// Starts strictly after `position` (a cursor or a bare millisecond time, as browsers
    /// send), replaying whatever is stored after it; never fails for a missing cursor.
    /// Combined with [`with_history`](Self::with_history): see there.
    pub fn since(mut self, position: impl Into<Position>) -> Self {
        let position = position.into();
        self.start = match self.start {
            Start::Newest(limit) | Start::NewestOrSince(limit, _) => {
                Start::NewestOrSince(limit, position)
            }
            _ => Start::Since(position),
        };
        self
    }

    /// Opens the subscription as a stream of shared [`Delivery`] values: the form a
    /// transport uses to send each message's pre-encoded frame to many connections.
    ///
    /// # Errors
    /// As awaiting the builder.
    pub async fn deliveries(self) -> Result<Deliveries<E>> {
        let follower = Follower::start(self).await?;
        Ok(Deliveries {
            start: follower.start,
            inner: follower.into_stream().boxed(),
        })
    }
}

impl<E: Events> IntoFuture for SubscribeBuilder<E> {
    type Output = Result<Subscription<E>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let follower = Follower::start(self).await?;
            Ok(Subscription {
                channel: Arc::clone(&follower.channel),
                inner: follower
                    .into_stream()
                    .map(|delivery| delivery.envelope().clone())
                    .boxed(),
            })
        })
    }
}

/// A live subscription to one channel: a `Stream` of typed [`Envelope`]s in id order.
/// Dropping it unsubscribes (the channel's upstream feed closes with its last subscriber).
pub struct Subscription<E> {
    channel: Arc<str>,
    inner: BoxStream<'static, Envelope<E>>,
}

impl<E> Subscription<E> {
    /// The channel this subscription follows.
    pub fn channel(&self) -> &str {
        &self.channel
    }
}

impl<E> std::fmt::Debug for Subscription<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl<E> Stream for Subscription<E> {
    type Item = Envelope<E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

/// Like [`Subscription`], but yields the shared [`Delivery`] of each message.
pub struct Deliveries<E> {
    start: Option<Cursor>,
    inner: BoxStream<'static, Arc<Delivery<E>>>,
}

impl<E> Deliveries<E> {
    /// Where delivery began: every entry after this id is delivered (none when the
    /// channel was empty). A client that reconnects with it misses nothing.
    pub fn start(&self) -> Option<Cursor> {
        self.start
    }
}

impl<E> std::fmt::Debug for Deliveries<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliveries").finish_non_exhaustive()
    }
}

impl<E> Stream for Deliveries<E> {
    type Item = Arc<Delivery<E>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

/// The state machine behind a subscription.
struct Follower<E: Events> {
    channel: Arc<str>,
    backend: Arc<dyn Backend>,
    catalog: Arc<Catalog>,
    counters: Arc<Counters>,
    filter: KindFilter,
    /// Keeps the channel's fan-out open while the subscription lives.
    _tap: Arc<Tap<E>>,
    live: broadcast::Receiver<Arc<Delivery<E>>>,
    /// Every entry up to this id has been delivered or passed over.
    last: Option<Cursor>,
    /// Replayed deliveries not yet yielded (already filtered).
    pending: VecDeque<Arc<Delivery<E>>>,
    /// Whether history after `last` must be read before the live broadcast.
    behind: bool,
    /// `last` before the replay: where delivery began.
    start: Option<Cursor>,
}

impl<E: Events> Follower<E> {
    /// Joins the fan-out and reads the start, in a `subscribe` span.
    async fn start(builder: SubscribeBuilder<E>) -> Result<Self> {
        let channel = match &builder.channel {
            Ok(name) => name.as_str(),
            Err(invalid) => invalid.name.as_str(),
        };
        let span = tracing::debug_span!("subscribe", channel);
        Self::open(builder).instrument(span).await
    }

    async fn open(builder: SubscribeBuilder<E>) -> Result<Self> {
        let SubscribeBuilder {
            core,
            channel,
            filter,
            start,
            history_kinds,
        } = builder;
        let channel = channel?;
        if let Start::Newest(limit) | Start::NewestOrSince(limit, _) = start {
            if limit == 0 || limit > MAX_HISTORY_LIMIT {
                return Err(Error::InvalidLimit {
                    limit,
                    max: MAX_HISTORY_LIMIT,
                });
            }
        }
        let registration = core.hub.attach(&channel).await?;
        let mut follower = Follower {
            channel: Arc::clone(channel.shared()),
            backend: Arc::clone(&core.backend),
            catalog: Arc::clone(&core.catalog),
            counters: Arc::clone(&core.counters),
            filter,
            _tap: registration.tap,
            live: registration.receiver,
            last: registration.last,
            pending: VecDeque::new(),
            behind: false,
            start: None,
        };
        match start {
            Start::Live => follower.start = follower.last,
            Start::Newest(limit) => {
                let (entries, _) = follower
                    .newest_entries(limit, history_kinds.as_ref())
                    .await?;
                follower.start_with(&entries);
            }
            Start::After(cursor) => {
                let first = follower
                    .backend
                    .read(&follower.channel, ReadRange::from_included(cursor, 1))
                    .await?;
                if first.first().map(|entry| entry.id) != Some(cursor) {
                    return Err(Error::CursorUnavailable {
                        channel: follower.channel.to_string(),
                        cursor,
                    });
                }
                follower.last = Some(cursor);
                follower.start = follower.last;
                follower.read_page().await?;
            }
            Start::Since(position) => follower.start_since(position).await?,
            Start::NewestOrSince(limit, position) => {
                let (entries, whole_history) = follower
                    .newest_entries(limit, history_kinds.as_ref())
                    .await?;
                // Either they are everything stored, or they reach back to the position;
                // otherwise entries after the position might lie before them.
                let reach_back = whole_history
                    || entries
                        .first()
                        .is_some_and(|oldest| oldest.id <= position.as_start());
                if reach_back {
                    follower.start_with(&entries);
                } else {
                    follower.start_since(position).await?;
                }
            }
        }
        Ok(follower)
    }

    /// The newest stored entries, back to the `limit`-th newest one of `counted` kinds
    /// (every kind when `None`), looking back at most [`MAX_HISTORY_LOOK_BACK`] entries;
    /// and whether they are the channel's whole history.
    async fn newest_entries(
        &self,
        limit: usize,
        counted: Option<&KindFilter>,
    ) -> Result<(Vec<RawEntry>, bool)> {
        let Some(counted) = counted else {
            let entries = self
                .backend
                .read(&self.channel, ReadRange::newest(limit))
                .await?;
            let whole_history = entries.len() < limit;
            return Ok((entries, whole_history));
        };
        // Pages from the newest backwards, newest page first.
        let mut pages: Vec<Vec<RawEntry>> = Vec::new();
        let (mut found, mut read) = (0, 0);
        let mut before: Option<Cursor> = None;
        let whole_history = loop {
            let range = ReadRange {
                start: std::ops::Bound::Unbounded,
                end: before.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded),
                limit: CATCH_UP_PAGE,
                newest_first: true,
            };
            let mut page = self.backend.read(&self.channel, range).await?;
            let exhausted = page.len() < CATCH_UP_PAGE;
            read += page.len();
            before = page.first().map(|entry| entry.id);
            // Cut the page at the `limit`-th counted entry, scanning from its newest end.
            let mut keep_from = None;
            for (index, entry) in page.iter().enumerate().rev() {
                let counts = E::Kind::from_name(&entry.event)
                    .is_some_and(|kind| counted.contains_index(kind.index()));
                found += usize::from(counts);
                if found == limit {
                    keep_from = Some(index);
                    break;
                }
            }
            if let Some(index) = keep_from {
                page.drain(..index);
                pages.push(page);
                break false;
            }
            pages.push(page);
            if exhausted {
                break true;
            }
            if read >= MAX_HISTORY_LOOK_BACK {
                break false;
            }
        };
        let entries = pages.into_iter().rev().flatten().collect();
        Ok((entries, whole_history))
    }

    /// Starts with `entries`, the newest stored ones.
    fn start_with(&mut self, entries: &[RawEntry]) {
        let newest = entries.last().map(|entry| entry.id);
        self.start = match entries.first() {
            Some(oldest) => oldest.id.predecessor(),
            None => self.last,
        };
        self.queue(entries);
        self.last = self.last.max(newest);
    }

    /// Starts strictly after `position`, reading the first page of what follows it.
    async fn start_since(&mut self, position: Position) -> Result<()> {
        // A cursor past everything this process has broadcast may lie past the stream's
        // newest entry too (a bogus cursor, or one from before a restart that lost the
        // stream). The newest entry is read before the page, so an entry appended in
        // between is newer than it and reaches the live feed.
        let beyond_broadcast = match (position, self.last) {
            (Position::Cursor(cursor), Some(newest)) => cursor > newest,
            (Position::Cursor(_), None) => true,
            (Position::Millis(_), _) => false,
        };
        let newest_stored = if beyond_broadcast {
            let newest = self
                .backend
                .read(&self.channel, ReadRange::newest(1))
                .await?;
            Some(newest.last().map(|entry| entry.id))
        } else {
            None
        };
        self.last = match position {
            // The client has seen this id: nothing at or before it is sent again, whatever
            // the shared feed has broadcast so far (it may lag behind the stream, e.g.
            // while the backend's live connection is down).
            Position::Cursor(cursor) => Some(cursor),
            // A bare time comes from a client that has seen nothing on the channel. A time
            // past the newest broadcast entry (a browser clock ahead of the server's) must
            // not hide the live events that come before it, so it is clamped to that entry.
            Position::Millis(_) => self.last.map(|newest| newest.min(position.as_start())),
        };
        self.start = self.last;
        self.read_page().await?;
        // A cursor past the newest stored entry means nothing was missed; it must not
        // hide what is emitted from now on (whose ids lie below it), so the subscription
        // goes on from the newest entry, the cursor `connected` then reports.
        if let (Position::Cursor(cursor), Some(newest)) = (position, newest_stored) {
            let nothing_after = self.last == Some(cursor);
            if nothing_after && newest.is_none_or(|newest| newest < cursor) {
                self.last = newest;
                self.start = newest;
            }
        }
        Ok(())
    }

    /// Decodes entries and queues those the filter lets through.
    fn queue(&mut self, entries: &[RawEntry]) {
        for entry in entries {
            let Some(delivery) =
                decode_or_report::<E>(&self.catalog, &self.counters, &self.channel, entry)
            else {
                continue;
            };
            if self
                .filter
                .contains_index(delivery.envelope().event.kind().index())
            {
                self.pending.push_back(Arc::new(delivery));
            }
        }
    }

    /// Reads and queues one page of history after `last`.
    async fn read_page(&mut self) -> Result<()> {
        let entries = self
            .backend
            .read(&self.channel, ReadRange::after(self.last, CATCH_UP_PAGE))
            .await?;
        self.behind = entries.len() == CATCH_UP_PAGE;
        self.queue(&entries);
        if let Some(newest) = entries.last() {
            self.last = Some(newest.id);
        }
        Ok(())
    }

    /// Like [`read_page`](Self::read_page), retrying with back-off while the backend is
    /// unreachable: a subscription waits rather than skip entries.
    async fn catch_up(&mut self) {
        let mut backoff = Backoff::READS;
        while let Err(error) = self.read_page().await {
            let delay = backoff.next_delay();
            tracing::warn!(channel = &*self.channel, %error, retry_in = ?delay, "subscriber catch-up failed");
            tokio::time::sleep(delay).await;
        }
    }

    async fn next(&mut self) -> Option<Arc<Delivery<E>>> {
        loop {
            if let Some(delivery) = self.pending.pop_front() {
                return Some(delivery);
            }
            if self.behind {
                self.catch_up().await;
                continue;
            }
            match self.live.recv().await {
                Ok(delivery) => {
                    let id = delivery.id();
                    if self.last.is_some_and(|last| id <= last) {
                        continue;
                    }
                    self.last = Some(id);
                    if self
                        .filter
                        .contains_index(delivery.envelope().event.kind().index())
                    {
                        return Some(delivery);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    self.counters.catch_ups.fetch_add(1, Ordering::Relaxed);
                    metrics::increment(&metrics::CATCH_UPS_KEY, 1);
                    crate::totals::caught_up();
                    tracing::debug!(
                        channel = &*self.channel,
                        missed,
                        "subscriber fell behind; catching up from history"
                    );
                    self.behind = true;
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    fn into_stream(self) -> impl Stream<Item = Arc<Delivery<E>>> + Send + 'static {
        futures::stream::unfold(self, |mut follower| async move {
            let delivery = follower.next().await?;
            Some((delivery, follower))
        })
    }
}
