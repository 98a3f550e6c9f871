//! [`serve`]: like `axum::serve`, with a lean path for event streams and a time limit on
//! every step of a connection.
//!
//! hyper gives every HTTP/1 connection an 8 KiB read buffer and an 8 KiB write buffer for
//! its whole life. That is nothing for ordinary requests and most of the cost of an idle
//! SSE connection, which lives for minutes and sends a few hundred bytes now and then. So
//! [`serve`] answers `GET` requests that accept `text/event-stream` itself: it reads the
//! head, runs the request through the app's router (every layer, so authentication and
//! extensions work as usual), and writes the event stream straight to the socket, chunk
//! by chunk, with no buffer of its own. Every other request goes to hyper unchanged.
//!
//! Modules: `head` decides the path from the first bytes, `lean` and `hyper_path` serve
//! it, `io` enforces the read and write time limits on the socket, `conn` tracks which
//! connections are idle so the oldest can be closed when descriptors run out, `accept`
//! backs off failed accepts.

mod accept;
mod config;
mod conn;
mod head;
mod hyper_path;
mod io;
mod lean;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::{DEFAULT_EVENT_STREAM_SEND_BUFFER, ServeConfig};

use accept::AcceptBackoff;
use conn::{Connection, Connections};
use head::{HeadVerdict, LeanHead, MAX_LEAN_HEAD};
use io::ConnIo;

/// At `max_connections` with no idle connection to close, how often the accept loop looks
/// again (it also wakes as soon as a connection closes).
const FULL_RECHECK: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` until the future is dropped, or until the signal given
/// to [`Serve::with_graceful_shutdown`] completes.
///
/// Use it instead of `axum::serve` to hold many event streams cheaply; the router is the
/// same. Handlers can read `ConnectInfo<SocketAddr>` on both paths.
///
/// Every connection is bounded in time ([`ServeConfig`] has the defaults): a client must
/// send its request head within [`header_read_timeout`](Serve::header_read_timeout) and
/// its body within [`body_read_timeout`](Serve::body_read_timeout) (else `408`); a
/// keep-alive connection is closed after [`idle_timeout`](Serve::idle_timeout) without a
/// request; a response (an event stream or any other) whose client accepts no byte for
/// [`write_stall_timeout`](Serve::write_stall_timeout) is cut, and an event-stream client
/// then reconnects with its cursor and misses nothing. When file descriptors run out (or
/// [`max_connections`](Serve::max_connections) is reached), the connection idle for the
/// longest is closed to make room, and failed accepts back off from 1 ms to 1 s with a
/// warning at most once a second. After the shutdown signal, open connections get
/// [`shutdown_grace`](Serve::shutdown_grace) to finish; then the rest are closed and the
/// future returns.
///
/// ```no_run
/// use std::time::Duration;
/// use realtime_axum::RealtimeSse;
/// use realtime_core::{Events, Realtime};
///
/// #[derive(Events, Clone, Debug, PartialEq)]
/// enum AppEvent {
///     #[event("notification.alert")]
///     Alert(String),
/// }
///
/// # #[tokio::main] async fn main() -> std::io::Result<()> {
/// let sse = RealtimeSse::new(Realtime::<AppEvent>::memory());
/// let app = sse.router("/api/realtime");
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// realtime_axum::serve(listener, app)
///     .write_stall_timeout(Duration::from_secs(20)) // every bound has a safe default
///     .with_graceful_shutdown(async move {
///         let _ = tokio::signal::ctrl_c().await;
///         sse.shutdown(); // streams get `reconnect`; the rest get the grace period
///     })
///     .await
/// # }
/// ```
pub fn serve(listener: TcpListener, router: Router) -> Serve {
    Serve {
        listener,
        router,
        signal: Box::pin(std::future::pending()),
        config: ServeConfig::default(),
    }
}

/// The server future made by [`serve`]; `.await` it.
#[must_use = "a server does nothing until it is awaited"]
pub struct Serve {
    listener: TcpListener,
    router: Router,
    signal: Pin<Box<dyn Future<Output = ()> + Send>>,
    config: ServeConfig,
}

impl std::fmt::Debug for Serve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Serve {
    /// Stops accepting when `signal` completes, closes idle connections, lets the others
    /// finish for up to [`shutdown_grace`](Self::shutdown_grace), then closes what is left
    /// and returns. Event streams end when
    /// [`RealtimeSse::shutdown`](crate::RealtimeSse::shutdown) is called, so call it in
    /// `signal`.
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.signal = Box::pin(signal);
        self
    }

    /// Replaces every bound at once.
    pub fn config(mut self, config: ServeConfig) -> Self {
        self.config = config;
        self
    }

    /// How long a client may take to send a whole request head (default 5 s): from
    /// accept for the first request, from its first byte for later keep-alive requests.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_read_timeout = timeout;
        self
    }

    /// How long a client may take to send a whole request body, from the end of its head
    /// (default 30 s); past it the client gets `408` and the connection closes.
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.body_read_timeout = timeout;
        self
    }

    /// How long a keep-alive connection may wait for its next request (default 60 s).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// How long a socket may accept no byte of a pending response before the connection
    /// is closed (default 30 s).
    pub fn write_stall_timeout(mut self, timeout: Duration) -> Self {
        self.config.write_stall_timeout = timeout;
        self
    }

    /// The kernel send buffer of each event stream's socket (default 64 KiB; `None`:
    /// the kernel's own, which grows to `net.ipv4.tcp_wmem`'s maximum): see
    /// [`ServeConfig::event_stream_send_buffer`].
    pub fn event_stream_send_buffer(mut self, bytes: impl Into<Option<usize>>) -> Self {
        self.config.event_stream_send_buffer = bytes.into();
        self
    }

    /// How long connections get to finish after the shutdown signal (default 10 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.config.shutdown_grace = grace;
        self
    }

    /// The most connections open at once (default: no limit but the descriptor limit);
    /// at the limit the oldest idle connection is closed to make room.
    pub fn max_connections(mut self, max: impl Into<Option<usize>>) -> Self {
        self.config.max_connections = max.into();
        self
    }

    async fn run(self) -> std::io::Result<()> {
        let Serve {
            listener,
            router,
            mut signal,
            config,
        } = self;
        let config = Arc::new(config);
        let connections = Arc::new(Connections::default());
        // `stopping`: finish what is in flight; `closing`: the grace period is over.
        let stopping = CancellationToken::new();
        let closing = CancellationToken::new();
        let tracker = TaskTracker::new();
        let mut backoff = AcceptBackoff::new();
        loop {
            if config
                .max_connections
                .is_some_and(|max| connections.open() >= max)
            {
                connections.shed_oldest_idle();
                tokio::select! {
                    () = &mut signal => break,
                    () = connections.one_closed() => {}
                    () = tokio::time::sleep(FULL_RECHECK) => {}
                }
                continue;
            }
            let (stream, remote) = tokio::select! {
                () = &mut signal => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) if accept::only_this_connection(&error) => continue,
                    Err(error) => {
                        if accept::out_of_descriptors(&error) {
                            connections.shed_oldest_idle();
                        }
                        let wait = backoff.failed(&error);
                        tokio::select! {
                            () = &mut signal => break,
                            () = tokio::time::sleep(wait) => continue,
                        }
                    }
                },
            };
            backoff.succeeded();
            let io = ConnIo::new(stream, Connection::accepted(&connections, &config));
            let router = router.clone();
            let stopping = stopping.clone();
            let closing = closing.clone();
            tracker.spawn(async move {
                tokio::select! {
                    result = connection(io, remote, router, stopping) => {
                        if let Err(error) = result {
                            tracing::debug!(%remote, %error, "connection ended with an error");
                        }
                    }
                    () = closing.cancelled() => {
                        tracing::debug!(%remote, "connection closed: the shutdown grace period is over");
                    }
                }
            });
        }
        drop(listener);
        stopping.cancel();
        connections.close_idle();
        tracker.close();
        if tokio::time::timeout(config.shutdown_grace, tracker.wait())
            .await
            .is_err()
        {
            tracing::info!(
                open = tracker.len(),
                grace = ?config.shutdown_grace,
                "connections still open after the shutdown grace period; closing them"
            );
            closing.cancel();
            tracker.wait().await;
        }
        Ok(())
    }
}

impl IntoFuture for Serve {
    type Output = std::io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

async fn connection(
    mut io: ConnIo,
    remote: SocketAddr,
    router: Router,
    stopping: CancellationToken,
) -> std::io::Result<()> {
    // Nagle stays on: a lone event still leaves at once (nothing is in flight), and under
    // load the kernel coalesces frames into fewer packets, which is most of the cost.
    match first_head(&mut io).await? {
        FirstHead::Lean(head) => {
            io.connection().request_started();
            io.drop_read_timer();
            let routed = Box::pin(lean::route(head, remote, router)).await;
            lean::stream(io, routed).await
        }
        FirstHead::Hyper(read) => {
            io.unread(read.into());
            // Boxed: hyper's connection state is large, and a task is as large as its
            // largest branch; unboxed, every idle lean stream would carry its size.
            Box::pin(hyper_path::serve(io, remote, router, stopping)).await
        }
        FirstHead::Closed => Ok(()),
    }
}

/// What the first bytes of a connection turned out to be.
enum FirstHead {
    Lean(LeanHead),
    /// For hyper, with the bytes read so far.
    Hyper(Vec<u8>),
    /// The client closed the connection before a whole head.
    Closed,
}

/// Reads until the first request's path is known. Fails when the head is not complete
/// within the header read timeout (enforced by `ConnIo`) or the connection is shed.
async fn first_head(io: &mut ConnIo) -> std::io::Result<FirstHead> {
    // Most heads fit; the buffer grows up to the lean limit and is freed right after.
    let mut buffer = vec![0u8; 1024];
    let mut filled = 0;
    loop {
        if filled == buffer.len() {
            buffer.resize((buffer.len() * 2).min(MAX_LEAN_HEAD), 0);
        }
        let read = io.read(&mut buffer[filled..]).await?;
        if read == 0 {
            return Ok(FirstHead::Closed);
        }
        filled += read;
        match head::read_head(&buffer[..filled]) {
            HeadVerdict::Lean(head) => return Ok(FirstHead::Lean(head)),
            HeadVerdict::Hyper => {
                buffer.truncate(filled);
                return Ok(FirstHead::Hyper(buffer));
            }
            HeadVerdict::Incomplete => {}
        }
    }
}
