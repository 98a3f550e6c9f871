//! The bounds [`serve`](super::serve) puts on every connection.

use std::time::Duration;

/// The default [`ServeConfig::event_stream_send_buffer`]: 64 KiB.
pub const DEFAULT_EVENT_STREAM_SEND_BUFFER: usize = 64 * 1024;

/// How long a connection may take at each step, and how many may be open.
///
/// Every default is safe for a public server; set them with the builder methods of
/// [`Serve`](super::Serve) or pass a whole config to [`Serve::config`](super::Serve::config).
///
/// ```
/// use std::time::Duration;
/// use realtime_axum::ServeConfig;
///
/// let mut config = ServeConfig::default();
/// config.write_stall_timeout = Duration::from_secs(10);
/// # let _ = config;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeConfig {
    /// How long a client may take to send a whole request head: from accept for the first
    /// request, from its first byte for the next requests of a keep-alive connection.
    /// Past it the connection is closed. Default 5 s.
    pub header_read_timeout: Duration,
    /// How long a client may take to send a whole request body, from the end of its head.
    /// Past it the handler's body read fails and the client gets `408 Request Timeout`
    /// and a close. Default 30 s.
    pub body_read_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request after a response.
    /// Past it the connection is closed. Default 60 s.
    pub idle_timeout: Duration,
    /// How long a socket may accept no byte of a response (an event stream or any other)
    /// while there is something to write. Past it the connection is closed; an event
    /// stream's client reconnects with its cursor and loses nothing. Default 30 s.
    pub write_stall_timeout: Duration,
    /// The kernel send buffer of an event stream's socket (`SO_SNDBUF`; Linux doubles
    /// it for its bookkeeping), set when the stream starts. A client that stops reading
    /// holds at most this much kernel memory of its stream before the socket accepts no
    /// more and [`write_stall_timeout`](Self::write_stall_timeout) starts counting; left
    /// to the kernel (`None`), the buffer grows up to `net.ipv4.tcp_wmem`'s maximum (4 MiB
    /// by default), so that 10,000 such clients could take 40 GiB. Default
    /// [`DEFAULT_EVENT_STREAM_SEND_BUFFER`] (64 KiB): a few seconds of a busy stream.
    pub event_stream_send_buffer: Option<usize>,
    /// After the shutdown signal, how long open connections get to finish. Past it every
    /// remaining connection is closed and the server future returns. Default 10 s.
    pub shutdown_grace: Duration,
    /// The most connections open at once. At the limit, the connection idle for the
    /// longest (no request in flight) is closed to make room; with none idle, new
    /// connections wait in the listen backlog. `None` (the default): only the process's
    /// descriptor limit, where the same shedding happens.
    pub max_connections: Option<usize>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(5),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            write_stall_timeout: Duration::from_secs(30),
            event_stream_send_buffer: Some(DEFAULT_EVENT_STREAM_SEND_BUFFER),
            shutdown_grace: Duration::from_secs(10),
            max_connections: None,
        }
    }
}
