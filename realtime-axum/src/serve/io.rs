//! The socket of a connection, with its time limits enforced where the bytes move: a read
//! fails once the connection's read deadline passes (or it was shed) while it waits for a
//! request head, and a write fails once the socket has accepted no byte for the write-stall
//! timeout. Both paths (lean and hyper) read and write through it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use futures::FutureExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use super::conn::Connection;

/// A connection's socket; timers are allocated only when first needed.
#[derive(Debug)]
pub(crate) struct ConnIo {
    stream: TcpStream,
    connection: Arc<Connection>,
    /// Bytes already read (the first head, when it goes to hyper), read again first.
    unread: Bytes,
    read_timer: Option<Pin<Box<Sleep>>>,
    write_timer: Option<Pin<Box<Sleep>>>,
    /// A write is pending and `write_timer` counts since when.
    write_stalled: bool,
}

impl ConnIo {
    pub(crate) fn new(stream: TcpStream, connection: Arc<Connection>) -> Self {
        Self {
            stream,
            connection,
            unread: Bytes::new(),
            read_timer: None,
            write_timer: None,
            write_stalled: false,
        }
    }

    pub(crate) fn connection(&self) -> &Arc<Connection> {
        &self.connection
    }

    pub(crate) fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Puts bytes back in front of the socket's, for the next reader.
    pub(crate) fn unread(&mut self, bytes: Bytes) {
        self.unread = bytes;
    }

    /// A stream's connection has no read deadline any more: frees its timer.
    pub(crate) fn drop_read_timer(&mut self) {
        self.read_timer = None;
    }

    /// Pending on a read: fails when the connection was shed or its read deadline passed.
    fn poll_read_limits(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        self.connection.register_waker(cx.waker());
        if self.connection.is_shed() {
            return Poll::Ready(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "closed: idle while the server needed room or was shutting down",
            ));
        }
        let Some((deadline, why)) = self.connection.read_deadline() else {
            return Poll::Pending;
        };
        let timer = match &mut self.read_timer {
            Some(timer) => {
                if timer.deadline() != deadline {
                    timer.as_mut().reset(deadline);
                }
                timer
            }
            None => self
                .read_timer
                .insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        match timer.poll_unpin(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                why.timeout_message(),
            )),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Pending on a write: fails once the socket has taken no byte for the stall timeout.
    fn poll_write_stall(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if !self.write_stalled {
            self.write_stalled = true;
            let deadline = Instant::now() + self.connection.config.write_stall_timeout;
            match &mut self.write_timer {
                Some(timer) => timer.as_mut().reset(deadline),
                None => self.write_timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
        }
        match self.write_timer.as_mut().map(|timer| timer.poll_unpin(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client accepted no byte within the write stall timeout",
            )),
            _ => Poll::Pending,
        }
    }

    fn wrote<T>(
        &mut self,
        result: Poll<io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<T>> {
        match result {
            Poll::Ready(result) => {
                self.write_stalled = false;
                Poll::Ready(result)
            }
            Poll::Pending => self.poll_write_stall(cx).map(Err),
        }
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.unread.is_empty() {
            let n = this.unread.len().min(buf.remaining());
            buf.put_slice(&this.unread[..n]);
            this.unread.advance(n);
            return Poll::Ready(Ok(()));
        }
        if this.connection.is_shed() {
            return this.poll_read_limits(cx).map(Err);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.connection.bytes_read();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => this.poll_read_limits(cx).map(Err),
        }
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.wrote(result, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.wrote(result, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_flush(cx);
        this.wrote(result, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_shutdown(cx);
        this.wrote(result, cx)
    }
}
