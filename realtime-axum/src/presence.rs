//! A stream's place in the presence of its channels: joined before its first frame (all
//! channels or none), held by the stream's body, left when the connection ends, after a
//! linger that absorbs the browser client's reconnects.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::StatusCode;
use realtime_core::channel::ChannelName;
use realtime_core::presence::{MAX_PRESENCE_TTL, MIN_PRESENCE_TTL};
use realtime_core::{Events, PresenceGuard, Realtime};
use tokio_util::sync::CancellationToken;

use crate::error::RequestError;

/// Joins `member` with `info` in the presence of each of `channels`, concurrently, and
/// returns a guard per channel, or the refusal of the first error and no guard: the channels joined
/// before a failure leave again (their guards drop). The joins run in a task of their
/// own, so a request cancelled mid-join (the client went away) still ends with every
/// guard dropped, never with a backend join whose guard nobody holds.
///
/// `ttl` is clamped to what the core accepts. Refusals: a bad member id 400, info that
/// breaks its schema 422 (naming the event `presence.joined` and the path), storage
/// unreachable 503.
pub(crate) async fn join_all<E: Events>(
    realtime: &Realtime<E>,
    member: String,
    info: E::Presence,
    channels: Vec<ChannelName>,
    ttl: Duration,
) -> Result<Vec<PresenceGuard>, RequestError> {
    let ttl = ttl.clamp(MIN_PRESENCE_TTL, MAX_PRESENCE_TTL);
    let joins: Vec<_> = channels
        .into_iter()
        .map(|channel| {
            let presence = realtime.channel(channel).presence();
            let member = member.clone();
            let info = info.clone();
            async move { presence.join(member, info, ttl).await }
        })
        .collect();
    let task = tokio::spawn(async move {
        let mut guards = Vec::with_capacity(joins.len());
        let mut failure = None;
        for joined in futures::future::join_all(joins).await {
            match joined {
                Ok(guard) => guards.push(guard),
                Err(error) => {
                    failure.get_or_insert(error);
                }
            }
        }
        match failure {
            None => Ok(guards),
            // `guards` drop here: the channels joined leave.
            Some(error) => Err(error),
        }
    });
    match task.await {
        Ok(Ok(guards)) => Ok(guards),
        Ok(Err(error)) => {
            tracing::warn!(%error, "stream refused: the presence join failed");
            Err(RequestError::from(&error))
        }
        Err(error) => {
            tracing::error!(%error, "the presence join task failed");
            Err(RequestError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the presence join failed",
            ))
        }
    }
}

/// The presence guards of one stream, kept until the stream's body is dropped, then for
/// [`linger`](crate::SseConfig::presence_linger) more (unless the endpoint is shutting
/// down, or `max` streams linger already). Boxed, so a stream without presence pays one
/// word.
#[derive(Debug)]
pub(crate) struct StreamPresence(Option<Box<Held>>);

struct Held {
    guards: Vec<PresenceGuard>,
    linger: Duration,
    lingering: Arc<AtomicUsize>,
    max_lingering: usize,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("guards", &self.guards)
            .field("linger", &self.linger)
            .finish_non_exhaustive()
    }
}

impl StreamPresence {
    pub(crate) fn new(
        guards: Vec<PresenceGuard>,
        linger: Duration,
        lingering: Arc<AtomicUsize>,
        max_lingering: usize,
        shutdown: CancellationToken,
    ) -> Self {
        Self(Some(Box::new(Held {
            guards,
            linger,
            lingering,
            max_lingering,
            shutdown,
        })))
    }

    /// A stream in no presence.
    pub(crate) fn none() -> Self {
        Self(None)
    }
}

/// Takes a lingering place until dropped.
struct LingerSlot(Arc<AtomicUsize>);

impl LingerSlot {
    fn try_take(lingering: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        lingering
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
                (count < max).then_some(count + 1)
            })
            .ok()
            .map(|_| Self(Arc::clone(lingering)))
    }
}

impl Drop for LingerSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for StreamPresence {
    fn drop(&mut self) {
        let Some(held) = self.0.take() else {
            return;
        };
        // Dropping a guard leaves (in the background); keeping it keeps the heartbeats.
        let Held {
            guards,
            linger,
            lingering,
            max_lingering,
            shutdown,
        } = *held;
        if guards.is_empty() || linger.is_zero() || shutdown.is_cancelled() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(slot) = LingerSlot::try_take(&lingering, max_lingering) else {
            tracing::debug!(
                max = max_lingering,
                "too many streams linger in presence; this one leaves at once"
            );
            return;
        };
        runtime.spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(linger) => {}
                () = shutdown.cancelled() => {}
            }
            drop(guards);
            drop(slot);
        });
    }
}
