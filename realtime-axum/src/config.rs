//! Configuration: the settings of the SSE endpoint and of the emit route, all with safe
//! defaults.

use std::time::Duration;

use realtime_core::history::MAX_HISTORY_LIMIT;
use realtime_core::{DEFAULT_PRESENCE_TTL, Events, Position, SubscribeBuilder};

use crate::auth::Authorize;
use crate::query::ChannelRequest;

/// Which origins may read the stream from a browser (CORS).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllowOrigin {
    /// `Access-Control-Allow-Origin: *`, as the reference sends. Browsers then refuse
    /// credentialed (`withCredentials`) cross-origin streams.
    #[default]
    Any,
    /// Only these origins (e.g. `https://app.example.com`); the request's origin is echoed
    /// with `Access-Control-Allow-Credentials: true`, so cookies work cross-origin.
    List(Vec<String>),
}

/// The default [`SseConfig::presence_linger`].
pub const DEFAULT_PRESENCE_LINGER: Duration = Duration::from_secs(5);

/// Settings of the SSE endpoint. The defaults are safe for a public endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SseConfig {
    /// The interval of `ping` frames. The browser client reconnects after 75 s without a
    /// frame, so keep it well below; default 30 s.
    pub keepalive: Duration,
    /// End each stream with a `reconnect` frame after this long (2 s earlier, as the
    /// reference does), for hosts that cut long responses; default: never.
    pub max_duration: Option<Duration>,
    /// The most channels one connection may ask for; default 32.
    pub max_channels: usize,
    /// The most streams open at once; past it new connections get 503; default 10,000.
    pub max_streams: usize,
    /// The most new streams admitted per second (a token bucket holding one second's
    /// worth); past it new connections get 503 with `Retry-After`, before the
    /// authorization hook runs. Spreads the reconnects of a restart or a deploy; default
    /// none (no limit).
    pub max_stream_opens_per_second: Option<u32>,
    /// CORS origins; default `*`.
    pub allow_origin: AllowOrigin,
    /// Makes browsers reconnect with fresh cursors; default on.
    ///
    /// After a dropped connection, a browser's `EventSource` reconnects by itself to the
    /// URL it first used, whose `last_ack_` cursors are stale: the replay would repeat
    /// events the page already has. So each stream starts with an SSE `id:` block (no
    /// data: the client sees no message), which the browser sends back as `Last-Event-ID`
    /// on such a reconnect; that request gets 204, the `EventSource` closes, and the
    /// `@upstash/realtime` client reconnects itself with the cursors it has seen.
    pub refuse_stale_reconnects: bool,
    /// The TTL of a stream's presence connections ([`Access::presence`]): how long after
    /// this process dies its connections stay listed. Clamped to 1 s..=1 h; default 30 s.
    ///
    /// [`Access::presence`]: crate::Access::presence
    pub presence_ttl: Duration,
    /// How long a stream's presence outlives the stream: the browser client closes its
    /// connection and opens another whenever its channel list changes, and after network
    /// errors, so a member that comes back within this time is not announced as gone
    /// and back. Not on shutdown: streams then leave at once. At most `max_streams`
    /// connections linger at once; past that, a connection leaves at once. Default 5 s.
    pub presence_linger: Duration,
}

impl Default for SseConfig {
    fn default() -> Self {
        Self {
            keepalive: Duration::from_secs(30),
            max_duration: None,
            max_channels: 32,
            max_streams: 10_000,
            max_stream_opens_per_second: None,
            allow_origin: AllowOrigin::Any,
            refuse_stale_reconnects: true,
            presence_ttl: DEFAULT_PRESENCE_TTL,
            presence_linger: DEFAULT_PRESENCE_LINGER,
        }
    }
}

/// A ready-made answer for [`RealtimeSseBuilder::first_replay`]: what a client that has
/// seen nothing on a channel yet is replayed before live events. It sent no
/// `last_ack_<channel>`, or a bare millisecond time (the browser client sends `Date.now()`
/// the first time it asks for a channel, so a page that was just opened, or reloaded, gets
/// only what happens from then on).
///
/// [`RealtimeSseBuilder::first_replay`]: crate::RealtimeSseBuilder::first_replay
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FirstReplay {
    /// What the client asks for: the events stored after its time, or none without one.
    /// The reference's behaviour, and the default.
    #[default]
    AsAsked,
    /// The newest `n` stored events (at most 1,000; 0: what the client asks for), or
    /// everything after the client's time when more than `n` came after it.
    Newest(usize),
    /// Every event the channel still stores (its history length and expiry bound it).
    All,
}

impl FirstReplay {
    /// Sets where `subscription` starts for `request`.
    pub fn apply<E: Events>(
        self,
        request: &ChannelRequest,
        subscription: SubscribeBuilder<E>,
    ) -> SubscribeBuilder<E> {
        match (self, request.last_ack) {
            (FirstReplay::All, _) => subscription.since(Position::Millis(0)),
            (FirstReplay::Newest(0) | FirstReplay::AsAsked, None) => subscription,
            (FirstReplay::Newest(0) | FirstReplay::AsAsked, Some(position)) => {
                subscription.since(position)
            }
            (FirstReplay::Newest(newest), asked) => {
                let subscription = subscription.with_history(newest.min(MAX_HISTORY_LIMIT));
                match asked {
                    // Nothing the client asked for is skipped when more than `newest`
                    // came after it.
                    Some(position) => subscription.since(position),
                    None => subscription,
                }
            }
        }
    }
}

/// Decides where a subscription of a client that has seen nothing on its channel starts:
/// see [`RealtimeSseBuilder::first_replay`](crate::RealtimeSseBuilder::first_replay).
pub(crate) type FirstReplayHook<E> =
    Box<dyn Fn(&ChannelRequest, SubscribeBuilder<E>) -> SubscribeBuilder<E> + Send + Sync>;

/// The default body limit of the emit route.
pub const DEFAULT_EMIT_BODY_LIMIT: usize = 64 * 1024;

/// Settings of the emit route; enable it with
/// [`RealtimeSseBuilder::emit_route`](crate::RealtimeSseBuilder::emit_route).
pub struct EmitConfig {
    pub(crate) body_limit: usize,
    pub(crate) authorize: Option<Box<dyn Authorize>>,
}

impl std::fmt::Debug for EmitConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmitConfig")
            .field("body_limit", &self.body_limit)
            .field("authorize", &self.authorize.is_some())
            .finish()
    }
}

impl Default for EmitConfig {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_EMIT_BODY_LIMIT,
            authorize: None,
        }
    }
}

impl EmitConfig {
    /// The route with a 64 KiB body limit and no authorization: anyone who can reach it
    /// can emit valid events, so give it a hook unless the network is trusted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Refuses bodies larger than `bytes` with 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Checks each emit (the hook sees the one channel written to) before anything else.
    pub fn authorize(mut self, hook: impl Authorize) -> Self {
        self.authorize = Some(Box::new(hook));
        self
    }
}
