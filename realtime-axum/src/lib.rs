//! The HTTP side of realtime-core: an axum endpoint that streams events to browsers over
//! Server-Sent Events, speaking the wire protocol of `@upstash/realtime` 1.1.0, so its
//! unmodified browser client (`RealtimeProvider`, `useRealtime`) works against a Rust
//! server by pointing `api.url` at it.
//!
//! ```no_run
//! use realtime_axum::RealtimeSse;
//! use realtime_core::{Events, Realtime};
//!
//! #[derive(Events, Clone, Debug, PartialEq)]
//! enum AppEvent {
//!     #[event("notification.alert")]
//!     Alert(String),
//! }
//!
//! # #[tokio::main] async fn main() -> std::io::Result<()> {
//! let rt = Realtime::<AppEvent>::memory();
//! let sse = RealtimeSse::new(rt.clone());
//! let app = sse.router("/api/realtime");
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app)
//!     .with_graceful_shutdown(async move {
//!         let _ = tokio::signal::ctrl_c().await;
//!         sse.shutdown(); // open streams get `reconnect`, then end
//!     })
//!     .await
//! # }
//! ```
//!
//! What a connection gets (`GET /api/realtime?channel=a&channel=b&last_ack_a=<id>`):
//! one `connected` frame per channel once its subscription is live, then the events stored
//! after each channel's `last_ack_` (an id or a bare millisecond), then live events, every
//! one exactly once and in order per channel, with a `ping` frame every
//! [`keepalive`](SseConfig::keepalive). Frames are `data: <json>\n\n`; each event's frame is
//! encoded once per process and shared by every connection on its channel. Before the
//! frames comes one SSE `id: <ms>` block with no data, which the reference does not send:
//! the browser sends it back when its `EventSource` reconnects by itself with stale cursors,
//! and that request gets 204 so that the client reconnects with fresh ones
//! ([`refuse_stale_reconnects`](SseConfig::refuse_stale_reconnects) turns both off).
//!
//! Presence: when the event set declares it, the authorization hook may answer
//! [`Access::presence`] to make the stream a member of some of its channels (joined
//! before the first frame, left when the connection ends, after
//! [`presence_linger`](SseConfig::presence_linger)); `GET <path>/presence?channel=<c>`
//! lists a channel's members, authorized by the same hook. See `docs/guide/presence-sse.md`.
//!
//! Refusals happen before the stream starts, as JSON `{ "error": "..." }`: 400 for a bad
//! channel name, too many channels or a malformed `last_ack_`; the authorization hook's own
//! response (e.g. 401/403); 503 past [`max_streams`](SseConfig::max_streams), while shutting
//! down, or when storage is unreachable as the stream opens (a client retries). Once a
//! stream is open, a storage outage is invisible to the client: the server resubscribes and
//! catches up from history, and the client receives what it missed.

mod admission;
mod auth;
mod config;
mod endpoint;
mod error;
mod frame;
mod handlers;
#[cfg(feature = "inspector")]
pub mod inspector;
mod metrics;
mod presence;
mod query;
mod serve;
mod stream;

pub use auth::{Access, AllowChannels, AuthFuture, AuthRequest, Authorize, allow_channels, cookie};
pub use config::{
    AllowOrigin, DEFAULT_EMIT_BODY_LIMIT, DEFAULT_PRESENCE_LINGER, EmitConfig, FirstReplay,
    SseConfig,
};
pub use endpoint::{RealtimeSse, RealtimeSseBuilder};
pub use error::{RETRY_AFTER_SECS, RequestError};
pub use query::ChannelRequest;
pub use serve::{DEFAULT_EVENT_STREAM_SEND_BUFFER, Serve, ServeConfig, serve};
