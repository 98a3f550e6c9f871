//! [`serve`]: like `axum::serve`, with a lean path for event streams.
//!
//! hyper gives every HTTP/1 connection an 8 KiB read buffer and an 8 KiB write buffer for
//! its whole life. That is nothing for ordinary requests and most of the cost of an idle
//! SSE connection, which lives for minutes and sends a few hundred bytes now and then. So
//! [`serve`] answers `GET` requests that accept `text/event-stream` itself: it parses the
//! head, runs the request through the app's router (every layer, so authentication and
//! extensions work as usual), and writes the event stream straight to the socket, chunk
//! by chunk, with no buffer of its own. Every other request, and any request it cannot
//! read at once, goes to hyper unchanged.

use std::future::{Future, IntoFuture};
use std::io::IoSlice;
use std::net::SocketAddr;
use std::pin::Pin;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use http::{HeaderName, HeaderValue, Method, Request, Version};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower_service::Service;

/// The largest request head the lean path reads; larger heads go to hyper.
const MAX_LEAN_HEAD: usize = 8 * 1024;
const MAX_HEADERS: usize = 64;
/// The most frames written in one `writev`.
const MAX_BATCH: usize = 32;
/// How long a new connection may take to send its request head.
const HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves `router` on `listener` until the future is dropped, or until the signal given
/// to [`Serve::with_graceful_shutdown`] completes.
///
/// Use it instead of `axum::serve` to hold many event streams cheaply; the router is the
/// same. Handlers can read `ConnectInfo<SocketAddr>` on both paths.
///
/// ```no_run
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
///     .with_graceful_shutdown(async move {
///         let _ = tokio::signal::ctrl_c().await;
///         sse.shutdown();
///     })
///     .await
/// # }
/// ```
pub fn serve(listener: TcpListener, router: Router) -> Serve {
    Serve {
        listener,
        router,
        signal: Box::pin(std::future::pending()),
    }
}

/// The server future made by [`serve`]; `.await` it.
#[must_use = "a server does nothing until it is awaited"]
pub struct Serve {
    listener: TcpListener,
    router: Router,
    signal: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl std::fmt::Debug for Serve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .finish_non_exhaustive()
    }
}

impl Serve {
    /// Stops accepting when `signal` completes, lets hyper connections finish their
    /// requests, and returns once every connection has closed. Event streams end when
    /// [`RealtimeSse::shutdown`](crate::RealtimeSse::shutdown) is called, so call it in
    /// `signal`.
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.signal = Box::pin(signal);
        self
    }

    async fn run(self) -> std::io::Result<()> {
        let Serve {
            listener,
            router,
            mut signal,
        } = self;
        let stopping = CancellationToken::new();
        let tracker = tokio_util::task::TaskTracker::new();
        loop {
            let (stream, remote) = tokio::select! {
                () = &mut signal => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let router = router.clone();
            let stopping = stopping.clone();
            tracker.spawn(async move {
                if let Err(error) = connection(stream, remote, router, stopping).await {
                    tracing::debug!(%remote, %error, "connection ended with an error");
                }
            });
        }
        drop(listener);
        stopping.cancel();
        tracker.close();
        tracker.wait().await;
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
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    stopping: CancellationToken,
) -> std::io::Result<()> {
    // Nagle stays on: a lone event still leaves at once (nothing is in flight), and under
    // load the kernel coalesces frames into fewer packets, which is most of the cost.
    let _ = &stream;
    // A client that connects and says nothing is dropped, as hyper drops one that stalls
    // in its head.
    if tokio::time::timeout(HEAD_TIMEOUT, stream.readable())
        .await
        .is_err()
    {
        return Ok(());
    }
    match lean_request(&stream, remote).await {
        Some((request, head_len)) => lean(stream, head_len, request, router).await,
        None => with_hyper(stream, remote, router, stopping).await,
    }
}

/// Peeks at the first request: a complete `GET` head asking for `text/event-stream`,
/// without a body or an upgrade, becomes a request for the lean path.
async fn lean_request(stream: &TcpStream, remote: SocketAddr) -> Option<(Request<Body>, usize)> {
    let mut buffer = vec![0u8; MAX_LEAN_HEAD];
    let peeked = stream.peek(&mut buffer).await.ok()?;
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(head_len) = parsed.parse(&buffer[..peeked]).ok()? else {
        return None;
    };
    if parsed.method != Some("GET") || parsed.version != Some(1) {
        return None;
    }
    let wants_stream = parsed.headers.iter().any(|header| {
        header.name.eq_ignore_ascii_case("accept")
            && std::str::from_utf8(header.value)
                .is_ok_and(|value| value.contains("text/event-stream"))
    });
    let has_body_or_upgrade = parsed.headers.iter().any(|header| {
        ["content-length", "transfer-encoding", "upgrade", "expect"]
            .iter()
            .any(|name| header.name.eq_ignore_ascii_case(name))
    });
    if !wants_stream || has_body_or_upgrade {
        return None;
    }
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(parsed.path?)
        .version(Version::HTTP_11);
    for header in parsed.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(header.value).ok()?;
        request = request.header(name, value);
    }
    let mut request = request.body(Body::empty()).ok()?;
    request.extensions_mut().insert(ConnectInfo(remote));
    Some((request, head_len))
}

/// Hands the connection to hyper, as `axum::serve` would.
async fn with_hyper(
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    stopping: CancellationToken,
) -> std::io::Result<()> {
    let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
        let mut router = router.clone();
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(remote));
        async move { router.call(request).await }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stopping.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    result.map_err(std::io::Error::other)
}

/// Answers one request: head, then the body chunk by chunk; then closes the connection.
async fn lean(
    mut stream: TcpStream,
    head_len: usize,
    request: Request<Body>,
    mut router: Router,
) -> std::io::Result<()> {
    // The head was only peeked at: consume it now.
    let mut consumed = vec![0u8; head_len];
    tokio::io::AsyncReadExt::read_exact(&mut stream, &mut consumed).await?;
    drop(consumed);
    let response: Response = match router.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let mut head = format!("HTTP/1.1 {}\r\n", parts.status);
    for (name, value) in &parts.headers {
        if name == http::header::CONNECTION
            || name == http::header::TRANSFER_ENCODING
            || name == http::header::CONTENT_LENGTH
        {
            continue;
        }
        head.push_str(name.as_str());
        head.push_str(": ");
        head.push_str(&String::from_utf8_lossy(value.as_bytes()));
        head.push_str("\r\n");
    }
    let is_stream = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/event-stream"));
    head.push_str(if is_stream {
        "connection: keep-alive\r\n"
    } else {
        "connection: close\r\n"
    });
    head.push_str("transfer-encoding: chunked\r\n\r\n");
    stream.write_all(head.as_bytes()).await?;
    drop(head);
    drop(parts);

    let mut chunks = body.into_data_stream();
    let mut batch: Vec<Bytes> = Vec::new();
    loop {
        tokio::select! {
            chunk = chunks.next() => match chunk {
                Some(Ok(chunk)) => {
                    // Whatever else is ready goes out in the same `writev`: under load a
                    // connection writes once per wake-up, not once per frame.
                    batch.push(chunk);
                    let mut ended = false;
                    while batch.len() < MAX_BATCH {
                        match chunks.next().now_or_never() {
                            Some(Some(Ok(chunk))) => batch.push(chunk),
                            Some(Some(Err(error))) => return Err(std::io::Error::other(error)),
                            Some(None) => {
                                ended = true;
                                break;
                            }
                            None => break,
                        }
                    }
                    write_chunks(&mut stream, &batch).await?;
                    batch.clear();
                    if ended {
                        break;
                    }
                }
                Some(Err(error)) => return Err(std::io::Error::other(error)),
                None => break,
            },
            closed = client_closed(&stream) => {
                if closed {
                    return Ok(());
                }
            }
        }
        // An idle stream keeps no batch buffer.
        if batch.capacity() > MAX_BATCH {
            batch = Vec::new();
        }
    }
    stream.write_all(b"0\r\n\r\n").await?;
    stream.shutdown().await
}

/// Waits until the client sends something: `true` when it closed the connection. Anything
/// it sends on a stream (it should send nothing) is read and dropped.
async fn client_closed(stream: &TcpStream) -> bool {
    if stream.readable().await.is_err() {
        return true;
    }
    let mut scratch = [0u8; 64];
    match stream.try_read(&mut scratch) {
        Ok(0) => true,
        Ok(_) => false,
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(_) => true,
    }
}

/// Writes chunks of a chunked body (`<size in hex>\r\n<data>\r\n` each) with as few
/// `writev` calls as the socket allows.
async fn write_chunks(stream: &mut TcpStream, chunks: &[Bytes]) -> std::io::Result<()> {
    let sizes: Vec<String> = chunks
        .iter()
        .map(|chunk| format!("{:x}\r\n", chunk.len()))
        .collect();
    let mut parts: Vec<IoSlice<'_>> = Vec::with_capacity(chunks.len() * 3);
    for (size, chunk) in sizes.iter().zip(chunks) {
        if chunk.is_empty() {
            continue; // an empty chunk would end the body
        }
        parts.extend([
            IoSlice::new(size.as_bytes()),
            IoSlice::new(chunk),
            IoSlice::new(b"\r\n"),
        ]);
    }
    let mut parts: &mut [IoSlice<'_>] = &mut parts;
    while !parts.is_empty() {
        let written = stream.write_vectored(parts).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut parts, written);
    }
    Ok(())
}
