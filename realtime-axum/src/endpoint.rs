//! The endpoint's shared state: [`RealtimeSse`] (built by [`RealtimeSseBuilder`]) holds
//! the handle, the configuration, the hooks and the open-stream count that every handler
//! uses; the handlers (and its `router`) are in `handlers`. It decides
//! which origins may read and write (CORS).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::response::Response;
use http::header::{self, HeaderValue};
use http::{HeaderMap, StatusCode};
use realtime_core::channel::ChannelName;
use realtime_core::{Events, Realtime, SubscribeBuilder};
use tokio_util::sync::CancellationToken;

use crate::admission::Admission;
use crate::auth::{Access, AuthRequest, Authorize};
use crate::config::{AllowOrigin, EmitConfig, FirstReplayHook, SseConfig};
use crate::error::RequestError;
use crate::query::ChannelRequest;

/// The realtime HTTP endpoint for one event set: `GET` streams events to browsers over
/// Server-Sent Events, wire-compatible with `@upstash/realtime`'s client; `POST` (when
/// enabled) emits validated events. Cheap to clone.
///
/// ```
/// use realtime_axum::{RealtimeSse, allow_channels};
/// use realtime_core::{Events, Realtime, SubscribeBuilder};
///
/// #[derive(Events, Clone, Debug, PartialEq)]
/// enum AppEvent {
///     #[event("notification.alert")]
///     Alert(String),
/// }
///
/// #[derive(Clone)]
/// struct User { id: String }
///
/// let rt = Realtime::<AppEvent>::memory();
/// let sse = RealtimeSse::builder(rt)
///     .authorize(allow_channels(|user: &User, channel: &str| channel == format!("user-{}", user.id)))
///     .build();
/// let app: axum::Router = sse.router("/api/realtime");
/// // On shutdown: `sse.shutdown()` sends `reconnect` to every open stream and ends it.
/// # let _ = app;
/// ```
pub struct RealtimeSse<E: Events> {
    shared: Arc<Shared<E>>,
}

impl<E: Events> Clone for RealtimeSse<E> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<E: Events> std::fmt::Debug for RealtimeSse<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealtimeSse")
            .field("config", &self.shared.config)
            .field("open_streams", &self.open_streams())
            .finish_non_exhaustive()
    }
}

pub(crate) struct Shared<E: Events> {
    pub(crate) realtime: Realtime<E>,
    pub(crate) config: SseConfig,
    pub(crate) authorize: Option<Box<dyn Authorize<E::Presence>>>,
    pub(crate) first_replay: Option<FirstReplayHook<E>>,
    pub(crate) emit: Option<EmitConfig>,
    /// Whether `<path>/history` is served.
    pub(crate) history: bool,
    pub(crate) open: Arc<AtomicUsize>,
    /// The rate new streams are admitted at, if bounded.
    pub(crate) admission: Option<Admission>,
    /// Streams whose presence outlives them now (see `SseConfig::presence_linger`).
    pub(crate) lingering: Arc<AtomicUsize>,
    pub(crate) shutdown: CancellationToken,
}

/// Configures a [`RealtimeSse`]; made by [`RealtimeSse::builder`].
pub struct RealtimeSseBuilder<E: Events> {
    realtime: Realtime<E>,
    config: SseConfig,
    authorize: Option<Box<dyn Authorize<E::Presence>>>,
    first_replay: Option<FirstReplayHook<E>>,
    emit: Option<EmitConfig>,
    history: bool,
}

impl<E: Events> std::fmt::Debug for RealtimeSseBuilder<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealtimeSseBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<E: Events> RealtimeSseBuilder<E> {
    /// Replaces the whole configuration.
    pub fn config(mut self, config: SseConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets the `ping` interval.
    pub fn keepalive(mut self, every: Duration) -> Self {
        self.config.keepalive = every;
        self
    }

    /// Ends each stream with a `reconnect` frame 2 s before `max` (at least after 1 s).
    pub fn max_duration(mut self, max: Duration) -> Self {
        self.config.max_duration = Some(max);
        self
    }

    /// Sets the most channels per connection.
    pub fn max_channels(mut self, max: usize) -> Self {
        self.config.max_channels = max;
        self
    }

    /// Sets the most open streams.
    pub fn max_streams(mut self, max: usize) -> Self {
        self.config.max_streams = max;
        self
    }

    /// Sets the most new streams admitted per second: see
    /// [`SseConfig::max_stream_opens_per_second`].
    pub fn max_stream_opens_per_second(mut self, max: u32) -> Self {
        self.config.max_stream_opens_per_second = Some(max);
        self
    }

    /// Sets the TTL of the streams' presence connections (clamped to 1 s..=1 h): see
    /// [`SseConfig::presence_ttl`].
    pub fn presence_ttl(mut self, ttl: Duration) -> Self {
        self.config.presence_ttl = ttl;
        self
    }

    /// Sets how long a stream's presence outlives it: see
    /// [`SseConfig::presence_linger`].
    pub fn presence_linger(mut self, linger: Duration) -> Self {
        self.config.presence_linger = linger;
        self
    }

    /// Sets the CORS origins.
    pub fn allow_origin(mut self, allow: AllowOrigin) -> Self {
        self.config.allow_origin = allow;
        self
    }

    /// Checks every stream request (and members request) before any storage work; its
    /// [`Access`] may make a stream a member of its channels' presence.
    pub fn authorize(mut self, hook: impl Authorize<E::Presence>) -> Self {
        self.authorize = Some(Box::new(hook));
        self
    }

    /// Decides where the subscription of a client that has seen nothing on a channel yet
    /// starts: the hook gets the parsed request of each such channel (no `last_ack_`, or
    /// a bare millisecond time) and its subscription (`subscribe_all()`, live), and
    /// returns the subscription to open, e.g. with [`with_history`], [`since`] or
    /// [`with_history_of`] set. [`FirstReplay`](crate::FirstReplay) has ready-made answers. Without a hook the
    /// client gets what it asks for. A client resuming after an event id always gets
    /// exactly what followed that id: the hook is not asked.
    ///
    /// ```
    /// use realtime_axum::{ChannelRequest, FirstReplay, RealtimeSse};
    /// use realtime_core::{Events, Realtime, SubscribeBuilder};
    ///
    /// #[derive(Events, Clone, Debug, PartialEq)]
    /// enum AppEvent {
    ///     #[event("job.progress")]
    ///     Progress(u8),
    ///     #[event("chat.message")]
    ///     Message(String),
    ///     #[event("chat.joined")]
    ///     Joined(String),
    /// }
    ///
    /// let sse = RealtimeSse::builder(Realtime::<AppEvent>::memory())
    ///     .first_replay(|request: &ChannelRequest, subscription: SubscribeBuilder<AppEvent>| {
    ///         if request.name.starts_with("job-") {
    ///             // A page opened (or reloaded) mid-job gets the job's whole story.
    ///             FirstReplay::All.apply(request, subscription)
    ///         } else if request.name.starts_with("room-") {
    ///             // A room opens on its newest 50 messages, with the notices among them.
    ///             let recent = subscription.with_history_of(50, [AppEventKind::Message]);
    ///             match request.last_ack {
    ///                 Some(position) => recent.since(position),
    ///                 None => recent,
    ///             }
    ///         } else {
    ///             subscription // live only
    ///         }
    ///     })
    ///     .build();
    /// # let _ = sse;
    /// ```
    ///
    /// [`with_history`]: realtime_core::SubscribeBuilder::with_history
    /// [`with_history_of`]: realtime_core::SubscribeBuilder::with_history_of
    /// [`since`]: realtime_core::SubscribeBuilder::since
    pub fn first_replay(
        mut self,
        hook: impl Fn(&ChannelRequest, SubscribeBuilder<E>) -> SubscribeBuilder<E>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.first_replay = Some(Box::new(hook));
        self
    }

    /// Enables the typed emit route (`POST` on the same path).
    pub fn emit_route(mut self, emit: EmitConfig) -> Self {
        self.emit = Some(emit);
        self
    }

    /// Serves a channel's stored events at `<path>/history?channel=<name>` (`GET`),
    /// authorized by the stream's hook like the stream itself (which can replay the same
    /// events from any cursor), bounded to 1,000 events per request. The
    /// `@realtime-rs/client` reads it for `history()` and for subscriptions that start
    /// with history. See `docs/guide/client.md` for the query and the answers.
    pub fn history_route(mut self) -> Self {
        self.history = true;
        self
    }

    /// Builds the endpoint.
    pub fn build(self) -> RealtimeSse<E> {
        RealtimeSse {
            shared: Arc::new(Shared {
                admission: self.config.max_stream_opens_per_second.map(Admission::new),
                realtime: self.realtime,
                config: self.config,
                authorize: self.authorize,
                first_replay: self.first_replay,
                emit: self.emit,
                history: self.history,
                open: Arc::new(AtomicUsize::new(0)),
                lingering: Arc::new(AtomicUsize::new(0)),
                shutdown: CancellationToken::new(),
            }),
        }
    }
}

impl<E: Events> RealtimeSse<E> {
    /// Starts configuring an endpoint for `realtime`.
    pub fn builder(realtime: Realtime<E>) -> RealtimeSseBuilder<E> {
        RealtimeSseBuilder {
            realtime,
            config: SseConfig::default(),
            authorize: None,
            first_replay: None,
            emit: None,
            history: false,
        }
    }

    /// An endpoint with the default configuration and no authorization.
    pub fn new(realtime: Realtime<E>) -> Self {
        Self::builder(realtime).build()
    }

    /// The number of streams open now.
    pub fn open_streams(&self) -> usize {
        self.shared.open.load(Ordering::Acquire)
    }

    /// Sends `reconnect` to every open stream and ends it; new streams get 503. Call it
    /// from the shutdown signal of `axum::serve(..).with_graceful_shutdown(..)`, which
    /// otherwise waits for streams that never end.
    pub fn shutdown(&self) {
        self.shared.shutdown.cancel();
    }

    pub(crate) fn shared(&self) -> &Shared<E> {
        &self.shared
    }

    /// Runs the authorization hook, if any.
    pub(crate) async fn authorize<P: Send + 'static>(
        &self,
        hook: Option<&dyn Authorize<P>>,
        parts: http::request::Parts,
        channels: Vec<ChannelName>,
    ) -> Result<Access<P>, Response> {
        match hook {
            None => Ok(Access::allow()),
            Some(hook) => hook.authorize(AuthRequest { parts, channels }).await,
        }
    }

    /// Whether a request with these headers may change state: it has no `Origin` (not
    /// from a browser, or a same-origin `GET`), comes from the page's own origin, or from
    /// an origin that [`AllowOrigin`] allows.
    pub(crate) fn origin_allowed(&self, request: &HeaderMap) -> bool {
        let Some(origin) = request.get(header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        match &self.shared.config.allow_origin {
            AllowOrigin::Any => true,
            AllowOrigin::List(origins) => {
                origins.iter().any(|allowed| allowed == origin) || is_same_origin(origin, request)
            }
        }
    }

    /// The CORS headers for a request with these headers.
    pub(crate) fn cors_headers(&self, request: &HeaderMap) -> HeaderMap {
        let mut headers = HeaderMap::new();
        match &self.shared.config.allow_origin {
            AllowOrigin::Any => {
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                );
            }
            AllowOrigin::List(origins) => {
                headers.insert(header::VARY, HeaderValue::from_static("Origin"));
                let origin = request.get(header::ORIGIN).and_then(|origin| {
                    let text = origin.to_str().ok()?;
                    origins
                        .iter()
                        .any(|allowed| allowed == text)
                        .then(|| origin.clone())
                });
                if let Some(origin) = origin {
                    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                    headers.insert(
                        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                        HeaderValue::from_static("true"),
                    );
                }
            }
        }
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Cache-Control"),
        );
        headers
    }
}

/// The 403 for a request from an origin that [`AllowOrigin`] does not allow.
pub(crate) fn origin_refused() -> RequestError {
    RequestError::new(
        StatusCode::FORBIDDEN,
        "requests from this origin are not allowed (see the endpoint's allow_origin)",
    )
}

/// Whether `origin` (`scheme://host[:port]`) names the host the request was sent to.
fn is_same_origin(origin: &str, request: &HeaderMap) -> bool {
    let Some(authority) = origin.split_once("://").map(|(_, authority)| authority) else {
        return false;
    };
    request
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .is_some_and(|host| host.eq_ignore_ascii_case(authority))
}
