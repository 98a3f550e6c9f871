//! The lean path: one event-stream request answered with our own HTTP/1 writer, the body
//! written chunk by chunk straight to the socket, with no buffer kept between writes.

use std::io::IoSlice;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use http::{Method, Request, Version};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tower_service::Service;

use super::head::LeanHead;
use super::io::ConnIo;

/// The most frames written in one `writev`.
const MAX_BATCH: usize = 32;

/// A routed request: the response head's bytes and the body to stream.
pub(super) struct Routed {
    head: String,
    body: Body,
    /// Whether the response is an event stream (not a refusal or another answer).
    is_stream: bool,
}

/// Runs the request through the router. Awaited boxed, so that the router's future (large)
/// is freed before the stream starts: the connection task keeps only what streaming needs.
pub(super) async fn route(head: LeanHead, remote: SocketAddr, mut router: Router) -> Routed {
    let mut request = Request::new(Body::empty());
    *request.method_mut() = Method::GET;
    *request.uri_mut() = head.uri;
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = head.headers;
    request.extensions_mut().insert(ConnectInfo(remote));
    let response: Response = match router.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let mut response_head = format!("HTTP/1.1 {}\r\n", parts.status);
    for (name, value) in &parts.headers {
        if name == http::header::CONNECTION
            || name == http::header::TRANSFER_ENCODING
            || name == http::header::CONTENT_LENGTH
        {
            continue;
        }
        response_head.push_str(name.as_str());
        response_head.push_str(": ");
        response_head.push_str(&String::from_utf8_lossy(value.as_bytes()));
        response_head.push_str("\r\n");
    }
    let is_stream = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/event-stream"));
    response_head.push_str(if is_stream {
        "connection: keep-alive\r\n"
    } else {
        "connection: close\r\n"
    });
    response_head.push_str("transfer-encoding: chunked\r\n\r\n");
    Routed {
        head: response_head,
        body,
        is_stream,
    }
}

/// Writes the response: head, then the body chunk by chunk; then closes the connection.
pub(super) async fn stream(mut io: ConnIo, routed: Routed) -> std::io::Result<()> {
    let Routed {
        head,
        body,
        is_stream,
    } = routed;
    if is_stream {
        bound_send_buffer(&io);
    }
    io.write_all(head.as_bytes()).await?;
    drop(head);

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
                    // Fails after `write_stall_timeout` if the client stopped reading.
                    write_chunks(&mut io, &batch).await?;
                    batch.clear();
                    if ended {
                        break;
                    }
                }
                Some(Err(error)) => return Err(std::io::Error::other(error)),
                None => break,
            },
            closed = client_closed(io.stream()) => {
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
    io.write_all(b"0\r\n\r\n").await?;
    io.shutdown().await
}

/// Sets the stream socket's send buffer ([`ServeConfig::event_stream_send_buffer`]), so a
/// client that stops reading holds a bounded amount of kernel memory.
///
/// [`ServeConfig::event_stream_send_buffer`]: super::ServeConfig::event_stream_send_buffer
fn bound_send_buffer(io: &ConnIo) {
    let Some(size) = io.connection().config.event_stream_send_buffer else {
        return;
    };
    if let Err(error) = socket2::SockRef::from(io.stream()).set_send_buffer_size(size) {
        tracing::debug!(%error, size, "could not set an event stream's send buffer");
    }
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
async fn write_chunks(io: &mut ConnIo, chunks: &[Bytes]) -> std::io::Result<()> {
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
        let written = io.write_vectored(parts).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut parts, written);
    }
    Ok(())
}
