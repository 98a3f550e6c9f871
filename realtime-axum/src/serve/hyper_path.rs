//! Every request that is not a lean event stream: hyper's HTTP/1, as `axum::serve` would
//! run it, with the request body bounded in time and the connection told when a request
//! starts and when its response is written (so its idle timeout runs only in between).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::FutureExt;
use http::{Request, StatusCode};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tower_service::Service;

use super::conn::Connection;
use super::io::ConnIo;

/// Hands the connection to hyper; on `stopping`, lets the request in flight finish.
pub(super) async fn serve(
    io: ConnIo,
    remote: SocketAddr,
    router: Router,
    stopping: CancellationToken,
) -> std::io::Result<()> {
    let connection = Arc::clone(io.connection());
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let connection = Arc::clone(&connection);
        let mut router = router.clone();
        connection.request_started();
        let deadline = Instant::now() + connection.config.body_read_timeout;
        let mut request = request.map(|body| {
            Body::new(TimedBody {
                body,
                deadline,
                timer: None,
                connection: Arc::clone(&connection),
            })
        });
        request.extensions_mut().insert(ConnectInfo(remote));
        async move {
            let response = match router.call(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let response = if connection.body_timed_out() {
                body_timeout_response(connection.config.body_read_timeout)
            } else {
                response
            };
            let upgraded = response.status() == StatusCode::SWITCHING_PROTOCOLS;
            Ok::<_, std::convert::Infallible>(response.map(|body| TrackedBody {
                body,
                connection,
                upgraded,
            }))
        }
    });
    // Header read timeouts are the connection's own (see `ConnIo`): hyper's would also
    // cut keep-alive connections at the header timeout instead of the idle timeout.
    let connection = hyper::server::conn::http1::Builder::new()
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(io), service)
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

/// `408 Request Timeout`, closing the connection (the rest of the body is never read).
fn body_timeout_response(timeout: Duration) -> Response {
    let body = serde_json::json!({
        "error": format!("the request body did not arrive within {} ms", timeout.as_millis())
    });
    (
        StatusCode::REQUEST_TIMEOUT,
        [(http::header::CONNECTION, "close")],
        axum::Json(body),
    )
        .into_response()
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error(transparent)]
    Hyper(#[from] hyper::Error),
    #[error("the request body did not arrive within the body read timeout")]
    TimedOut,
}

/// A request body that fails once its deadline passes.
struct TimedBody {
    body: Incoming,
    deadline: Instant,
    timer: Option<Pin<Box<Sleep>>>,
    connection: Arc<Connection>,
}

impl TimedBody {
    fn timed_out(&mut self) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.connection.mark_body_timed_out();
        Poll::Ready(Some(Err(BodyError::TimedOut)))
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline && !this.body.is_end_stream() {
            return this.timed_out();
        }
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|frame| frame.map_err(BodyError::from))),
            Poll::Pending => {
                let deadline = this.deadline;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match timer.poll_unpin(cx) {
                    Poll::Ready(()) => this.timed_out(),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A response body that tells the connection when it has been written (hyper drops it).
struct TrackedBody {
    body: Body,
    connection: Arc<Connection>,
    /// A `101`: the connection now belongs to the upgrade, with no idle timeout.
    upgraded: bool,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for TrackedBody {
    fn drop(&mut self) {
        if !self.upgraded {
            self.connection.response_finished();
        }
    }
}
