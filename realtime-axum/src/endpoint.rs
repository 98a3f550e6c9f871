//! The endpoint: configuration, the SSE handler, the optional emit route, the router.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{HeaderMap, StatusCode};
use realtime_core::history::MAX_HISTORY_LIMIT;
use realtime_core::{Events, Position, Realtime};
use tokio_util::sync::CancellationToken;

use crate::auth::{AuthRequest, Authorize};
use crate::emit::{EmitConfig, emit_handler};
use crate::error::RequestError;
use crate::frame::SseFrame;
use crate::query::{ChannelRequest, parse_query};
use crate::stream::{ConnectionStream, OpenStream};

/// Which origins may read the stream from a browser (CORS).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AllowOrigin {
    /// `Access-Control-Allow-Origin: *`, as the reference sends. Browsers then refuse
    /// credentialed (`withCredentials`) cross-origin streams.
    #[default]
    Any,
    /// Only these origins (e.g. `https://app.example.com`); the request's origin is echoed
    /// with `Access-Control-Allow-Credentials: true`, so cookies work cross-origin.
    List(Vec<String>),
}

/// Settings of the SSE endpoint. The defaults are safe for a public endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
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
}

impl Default for SseConfig {
    fn default() -> Self {
        Self {
            keepalive: Duration::from_secs(30),
            max_duration: None,
            max_channels: 32,
            max_streams: 10_000,
            allow_origin: AllowOrigin::Any,
            refuse_stale_reconnects: true,
        }
    }
}

/// The realtime HTTP endpoint for one event set: `GET` streams events to browsers over
/// Server-Sent Events, wire-compatible with `@upstash/realtime`'s client; `POST` (when
/// enabled) emits validated events. Cheap to clone.
///
/// ```
/// use realtime_axum::{RealtimeSse, allow_channels};
/// use realtime_core::{Events, Realtime};
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
    config: SseConfig,
    authorize: Option<Box<dyn Authorize>>,
    first_replay: Option<Box<dyn FirstReplayPolicy>>,
    pub(crate) emit: Option<EmitConfig>,
    open: Arc<AtomicUsize>,
    shutdown: CancellationToken,
}

/// Configures a [`RealtimeSse`]; made by [`RealtimeSse::builder`].
pub struct RealtimeSseBuilder<E: Events> {
    realtime: Realtime<E>,
    config: SseConfig,
    authorize: Option<Box<dyn Authorize>>,
    first_replay: Option<Box<dyn FirstReplayPolicy>>,
    emit: Option<EmitConfig>,
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

    /// Sets the CORS origins.
    pub fn allow_origin(mut self, allow: AllowOrigin) -> Self {
        self.config.allow_origin = allow;
        self
    }

    /// Checks every stream request before any storage work.
    pub fn authorize(mut self, hook: impl Authorize) -> Self {
        self.authorize = Some(Box::new(hook));
        self
    }

    /// Decides, per channel, what a client that has seen nothing on it yet is sent before
    /// live events; by default what it asks for (see [`FirstReplay`]).
    ///
    /// ```
    /// use realtime_axum::{FirstReplay, RealtimeSse};
    /// use realtime_core::{Events, Realtime};
    ///
    /// #[derive(Events, Clone, Debug, PartialEq)]
    /// enum JobEvent {
    ///     #[event("job.progress")]
    ///     Progress(u8),
    /// }
    ///
    /// // A page opened (or reloaded) in the middle of a job gets the job's whole story;
    /// // other channels stay as the client asks.
    /// let sse = RealtimeSse::builder(Realtime::<JobEvent>::memory())
    ///     .first_replay(|channel: &str| {
    ///         if channel.starts_with("job-") { FirstReplay::All } else { FirstReplay::AsAsked }
    ///     })
    ///     .build();
    /// # let _ = sse;
    /// ```
    pub fn first_replay(
        mut self,
        policy: impl Fn(&str) -> FirstReplay + Send + Sync + 'static,
    ) -> Self {
        self.first_replay = Some(Box::new(policy));
        self
    }

    /// Enables the typed emit route (`POST` on the same path).
    pub fn emit_route(mut self, emit: EmitConfig) -> Self {
        self.emit = Some(emit);
        self
    }

    /// Builds the endpoint.
    pub fn build(self) -> RealtimeSse<E> {
        RealtimeSse {
            shared: Arc::new(Shared {
                realtime: self.realtime,
                config: self.config,
                authorize: self.authorize,
                first_replay: self.first_replay,
                emit: self.emit,
                open: Arc::new(AtomicUsize::new(0)),
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
        }
    }

    /// An endpoint with the default configuration and no authorization.
    pub fn new(realtime: Realtime<E>) -> Self {
        Self::builder(realtime).build()
    }

    /// A router serving the stream at `path` (`GET`), the emit route (`POST`) when
    /// enabled, and CORS preflights (`OPTIONS`).
    pub fn router<S: Clone + Send + Sync + 'static>(&self, path: &str) -> Router<S> {
        let mut route = get(stream_handler::<E>).options(preflight_handler::<E>);
        if self.shared.emit.is_some() {
            route = route.post(emit_handler::<E>);
        }
        Router::new().route(path, route).with_state(self.clone())
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
    pub(crate) async fn authorize(
        &self,
        hook: Option<&dyn Authorize>,
        parts: http::request::Parts,
        channels: Vec<String>,
    ) -> Result<(), Response> {
        match hook {
            None => Ok(()),
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

/// `OPTIONS`: a browser's preflight before a cross-origin request (a `POST` with a JSON
/// body, or headers beyond the simple ones). Allowed origins get the methods and headers
/// the endpoint takes; others get 403 without CORS headers, so the browser stops there.
async fn preflight_handler<E: Events>(
    State(sse): State<RealtimeSse<E>>,
    request: Request,
) -> Response {
    if !sse.origin_allowed(request.headers()) {
        return origin_refused().into_response();
    }
    let mut headers = sse.cors_headers(request.headers());
    let methods = if sse.shared.emit.is_some() {
        "GET, POST, OPTIONS"
    } else {
        "GET, OPTIONS"
    };
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(methods),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Cache-Control, Content-Type, Idempotency-Key, Authorization"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    (StatusCode::NO_CONTENT, headers).into_response()
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

/// `GET`: the event stream.
async fn stream_handler<E: Events>(
    State(sse): State<RealtimeSse<E>>,
    request: Request,
) -> Response {
    let cors = sse.cors_headers(request.headers());
    let mut response = match open_stream(&sse, request).await {
        Ok(response) => response,
        Err(response) => response,
    };
    response.headers_mut().extend(cors);
    response
}

async fn open_stream<E: Events>(
    sse: &RealtimeSse<E>,
    request: Request,
) -> Result<Response, Response> {
    let shared = sse.shared();
    let config = &shared.config;
    let query = request.uri().query().unwrap_or_default().to_owned();
    if config.refuse_stale_reconnects && request.headers().contains_key(LAST_EVENT_ID) {
        tracing::debug!(
            "automatic reconnect with stale cursors: 204, the client reconnects with fresh ones"
        );
        return Err(StatusCode::NO_CONTENT.into_response());
    }
    let channels = parse_query(&query, config.max_channels).map_err(IntoResponse::into_response)?;
    if shared.shutdown.is_cancelled() {
        return Err(
            RequestError::unavailable("the server is shutting down; retry shortly").into_response(),
        );
    }
    let open = OpenStream::try_open(&shared.open, config.max_streams).ok_or_else(|| {
        tracing::warn!(
            max = config.max_streams,
            "stream refused: too many open streams"
        );
        RequestError::unavailable(format!(
            "too many open streams (at most {}); retry later",
            config.max_streams
        ))
        .into_response()
    })?;
    let (parts, _body) = request.into_parts();
    let names: Vec<String> = channels
        .iter()
        .map(|channel| channel.name.clone())
        .collect();
    sse.authorize(shared.authorize.as_deref(), parts, names)
        .await?;

    let subscriptions = channels
        .iter()
        .map(|channel| subscribe(&shared.realtime, channel, shared.first_replay.as_deref()));
    let deliveries = futures::future::try_join_all(subscriptions)
        .await
        .map_err(|error| {
            tracing::warn!(%error, "stream refused: storage failed");
            RequestError::from(&error).into_response()
        })?;
    let mut prelude = VecDeque::with_capacity(channels.len() + 1);
    if config.refuse_stale_reconnects {
        prelude.push_back(Bytes::from(format!("id: {}\n\n", crate::frame::now_ms())));
    }
    prelude.extend(
        channels
            .iter()
            .zip(&deliveries)
            .map(|(channel, deliveries)| {
                SseFrame::Connected {
                    channel: &channel.name,
                    cursor: deliveries.start(),
                }
                .to_bytes()
            }),
    );
    let deadline = config.max_duration.map(|max| {
        max.saturating_sub(Duration::from_secs(2))
            .max(Duration::from_secs(1))
    });
    let body = ConnectionStream::new(
        prelude,
        deliveries,
        config.keepalive,
        deadline,
        shared.shutdown.clone().cancelled_owned(),
        open,
    );
    tracing::debug!(channels = ?channels.iter().map(|c| &c.name).collect::<Vec<_>>(), "stream opened");
    Ok((sse_headers(), Body::from_stream(body)).into_response())
}

async fn subscribe<E: Events>(
    realtime: &Realtime<E>,
    request: &ChannelRequest,
    first_replay: Option<&dyn FirstReplayPolicy>,
) -> realtime_core::Result<realtime_core::Deliveries<E>> {
    let subscription = realtime.channel(request.name.clone()).subscribe_all();
    // A client without an event id for the channel has seen nothing on it yet.
    let seen_nothing = !matches!(request.last_ack, Some(Position::Cursor(_)));
    let replay = match first_replay {
        Some(policy) if seen_nothing => policy.replay(&request.name),
        _ => FirstReplay::AsAsked,
    };
    match (replay, request.last_ack) {
        (FirstReplay::All, _) => subscription.since(Position::Millis(0)).deliveries().await,
        (FirstReplay::Newest(0) | FirstReplay::AsAsked, None) => subscription.deliveries().await,
        (FirstReplay::Newest(0) | FirstReplay::AsAsked, Some(position)) => {
            subscription.since(position).deliveries().await
        }
        (FirstReplay::Newest(newest), asked) => {
            let subscription = subscription.with_history(newest.min(MAX_HISTORY_LIMIT));
            match asked {
                // Nothing the client asked for is skipped when more than `newest` came after it.
                Some(position) => subscription.since(position).deliveries().await,
                None => subscription.deliveries().await,
            }
        }
    }
}

/// What a client that has seen nothing on a channel yet is replayed before live events:
/// it sent no `last_ack_<channel>`, or a bare millisecond time (the browser client sends
/// `Date.now()` the first time it asks for a channel, so a page that was just opened, or
/// reloaded, gets only what happens from then on). A client resuming after an event id
/// always gets exactly what followed that id. Set per channel with
/// [`RealtimeSseBuilder::first_replay`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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

/// A per-channel [`FirstReplay`] decision; any `Fn(&str) -> FirstReplay` is one.
trait FirstReplayPolicy: Send + Sync + 'static {
    fn replay(&self, channel: &str) -> FirstReplay;
}

impl<F> FirstReplayPolicy for F
where
    F: Fn(&str) -> FirstReplay + Send + Sync + 'static,
{
    fn replay(&self, channel: &str) -> FirstReplay {
        self(channel)
    }
}

const LAST_EVENT_ID: &str = "last-event-id";

fn sse_headers() -> [(header::HeaderName, HeaderValue); 4] {
    [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::CONNECTION, HeaderValue::from_static("keep-alive")),
        // nginx and similar proxies must not buffer the stream.
        (
            header::HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        ),
    ]
}
