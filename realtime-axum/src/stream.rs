//! One browser connection's body: `connected` frames, then the channels' events (replay,
//! then live) merged, keepalive pings, and the `reconnect` frame that ends the stream at
//! the maximum duration or on shutdown. Each stream counts in the endpoint's metrics while
//! it lives and says why it closed, in its `sse_stream` span. It holds the connection's
//! presence, if any.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::stream::SelectAll;
use futures::{FutureExt, Stream, StreamExt};
use realtime_core::{Deliveries, Events};
use tokio::time::{Interval, Sleep};
use tokio_util::sync::WaitForCancellationFutureOwned;
use tracing::Span;

use crate::frame::{SseFrame, event_frame, now_ms};
use crate::metrics::{self, CloseReason};
use crate::presence::StreamPresence;

/// Counts a stream as open until it is dropped (the client went away or it ended).
#[derive(Debug)]
pub(crate) struct OpenStream {
    open: Arc<AtomicUsize>,
}

impl OpenStream {
    /// Takes a place if fewer than `max` streams are open.
    pub(crate) fn try_open(open: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
            (count < max).then_some(count + 1)
        })
        .ok()
        .map(|_| Self {
            open: Arc::clone(open),
        })
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Why the stream is ending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Open,
    /// The `reconnect` frame was sent; the next poll ends the stream.
    Ending,
    Done,
}

/// The body of one SSE response.
pub(crate) struct ConnectionStream<E> {
    /// Frames to send before anything else (`connected` per channel).
    prelude: VecDeque<Bytes>,
    deliveries: SelectAll<Deliveries<E>>,
    deliveries_ended: bool,
    keepalive: Interval,
    deadline: Option<Pin<Box<Sleep>>>,
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    state: State,
    /// Why the stream ends; until it ends by itself, the client went away.
    reason: CloseReason,
    /// The stream's lifetime, with its channels.
    span: Span,
    _kept: Kept,
}

/// What a stream holds while it lives, given back when its body is dropped (the
/// connection ended): its place among the open streams, and its connection's presence.
/// Only their drops matter.
#[allow(dead_code)]
pub(crate) struct Kept {
    pub(crate) open: OpenStream,
    pub(crate) presence: StreamPresence,
}

impl<E: Events> ConnectionStream<E> {
    pub(crate) fn new(
        prelude: VecDeque<Bytes>,
        deliveries: Vec<Deliveries<E>>,
        keepalive: Duration,
        deadline: Option<Duration>,
        shutdown: WaitForCancellationFutureOwned,
        kept: Kept,
        span: Span,
    ) -> Self {
        let keepalive = keepalive.max(Duration::from_millis(10));
        let mut keepalive =
            tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
        keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            prelude,
            deliveries: futures::stream::select_all(deliveries),
            deliveries_ended: false,
            keepalive,
            deadline: deadline.map(|after| Box::pin(tokio::time::sleep(after))),
            shutdown: Box::pin(shutdown),
            state: State::Open,
            reason: CloseReason::ClientGone,
            span,
            _kept: kept,
        }
        .opened()
    }

    fn opened(self) -> Self {
        metrics::stream_opened();
        self.span.in_scope(|| tracing::debug!("stream opened"));
        self
    }

    /// Sends `reconnect`: the next poll ends the stream. (Takes the fields it changes, so
    /// that the span can stay entered meanwhile.)
    fn end_with_reconnect(
        state: &mut State,
        reason: &mut CloseReason,
        why: CloseReason,
    ) -> Poll<Option<Result<Bytes, Infallible>>> {
        *state = State::Ending;
        *reason = why;
        let frame = SseFrame::Reconnect {
            timestamp: now_ms(),
        };
        Poll::Ready(Some(Ok(frame.to_bytes())))
    }
}

impl<E: Events> Stream for ConnectionStream<E> {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.state {
            State::Open => {}
            State::Ending => {
                this.state = State::Done;
                return Poll::Ready(None);
            }
            State::Done => return Poll::Ready(None),
        }
        if let Some(frame) = this.prelude.pop_front() {
            return Poll::Ready(Some(Ok(frame)));
        }
        let _entered = this.span.enter();
        if this.shutdown.poll_unpin(cx).is_ready() {
            return Self::end_with_reconnect(
                &mut this.state,
                &mut this.reason,
                CloseReason::Shutdown,
            );
        }
        if let Some(deadline) = &mut this.deadline {
            if deadline.poll_unpin(cx).is_ready() {
                return Self::end_with_reconnect(
                    &mut this.state,
                    &mut this.reason,
                    CloseReason::MaxDuration,
                );
            }
        }
        if !this.deliveries_ended {
            match this.deliveries.poll_next_unpin(cx) {
                Poll::Ready(Some(delivery)) => {
                    metrics::event_sent();
                    return Poll::Ready(Some(Ok(event_frame(&delivery))));
                }
                Poll::Ready(None) => {
                    // Only when every channel's feed closed (the backend shut down):
                    // tell the client, and let it reconnect.
                    this.deliveries_ended = true;
                    let frame = SseFrame::Error {
                        error: "the event feed closed",
                    };
                    this.state = State::Ending;
                    this.reason = CloseReason::FeedEnded;
                    return Poll::Ready(Some(Ok(frame.to_bytes())));
                }
                Poll::Pending => {}
            }
        }
        if this.keepalive.poll_tick(cx).is_ready() {
            let frame = SseFrame::Ping {
                timestamp: now_ms(),
            };
            return Poll::Ready(Some(Ok(frame.to_bytes())));
        }
        Poll::Pending
    }
}

impl<E> Drop for ConnectionStream<E> {
    fn drop(&mut self) {
        metrics::stream_closed(self.reason);
        let reason = self.reason.label();
        self.span
            .in_scope(|| tracing::debug!(reason, "stream closed"));
    }
}
