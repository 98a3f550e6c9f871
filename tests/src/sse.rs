//! A real HTTP server and a real SSE client over a loopback socket.

use std::net::SocketAddr;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use realtime_axum::{RealtimeSse, ServeConfig};
use realtime_core::Events;

/// An axum server on a free loopback port, stopped when dropped.
#[derive(Debug)]
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Serves `router` on a free port with `realtime_axum::serve` (event streams take
    /// its lean path).
    pub async fn start(router: axum::Router) -> Self {
        Self::start_with_config(router, ServeConfig::default()).await
    }

    /// Serves `router` on a free port with `realtime_axum::serve` and these bounds.
    pub async fn start_with_config(router: axum::Router, config: ServeConfig) -> Self {
        let listener = Self::listener().await;
        let addr = listener.local_addr().expect("a bound address");
        let task = tokio::spawn(async move {
            let _ = realtime_axum::serve(listener, router).config(config).await;
        });
        Self { addr, task }
    }

    /// Serves `router` on a free port with plain `axum::serve` (hyper for everything).
    pub async fn start_with_axum_serve(router: axum::Router) -> Self {
        let listener = Self::listener().await;
        let addr = listener.local_addr().expect("a bound address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { addr, task }
    }

    async fn listener() -> tokio::net::TcpListener {
        tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port")
    }

    /// Serves the endpoint at `/api/realtime`.
    pub async fn serve<E: Events>(sse: &RealtimeSse<E>) -> Self {
        Self::start(sse.router("/api/realtime")).await
    }

    /// The URL of `path_and_query` on this server.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An open SSE response, read frame by frame.
pub struct SseClient {
    /// The response's status.
    pub status: reqwest::StatusCode,
    /// The response's headers.
    pub headers: reqwest::header::HeaderMap,
    body: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: Vec<u8>,
}

impl std::fmt::Debug for SseClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseClient")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// How long a test waits for a frame before failing.
pub const FRAME_PATIENCE: Duration = Duration::from_secs(10);

impl SseClient {
    /// Sends `GET url` as a browser's `EventSource` does (`Accept: text/event-stream`)
    /// and keeps the response open.
    pub async fn connect(url: &str) -> Self {
        Self::connect_with(reqwest::Client::new().get(url)).await
    }

    /// Sends the request and keeps the response open.
    pub async fn connect_with(request: reqwest::RequestBuilder) -> Self {
        let request = request.header("accept", "text/event-stream");
        let response = tokio::time::timeout(FRAME_PATIENCE, request.send())
            .await
            .unwrap_or_else(|_| panic!("no response head within {FRAME_PATIENCE:?}"))
            .expect("the server answers");
        Self {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.bytes_stream().boxed(),
            buffer: Vec::new(),
        }
    }

    /// The next frame's raw bytes (`data: ...\n\n`), or `None` when the stream ended.
    pub async fn next_raw(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|pair| pair == b"\n\n") {
                let frame: Vec<u8> = self.buffer.drain(..end + 2).collect();
                return Some(String::from_utf8(frame).expect("frames are UTF-8"));
            }
            match tokio::time::timeout(FRAME_PATIENCE, self.body.next()).await {
                Err(_) => panic!("no frame within {FRAME_PATIENCE:?}"),
                Ok(None) => {
                    assert!(
                        self.buffer.is_empty(),
                        "stream ended inside a frame: {:?}",
                        String::from_utf8_lossy(&self.buffer)
                    );
                    return None;
                }
                Ok(Some(chunk)) => self
                    .buffer
                    .extend_from_slice(&chunk.expect("the body reads")),
            }
        }
    }

    /// The next data frame's JSON, skipping pings and `id:` blocks.
    pub async fn next_json(&mut self) -> serde_json::Value {
        loop {
            let raw = self.next_raw().await.expect("another frame");
            if raw.starts_with("id: ") {
                continue;
            }
            let json = frame_json(&raw);
            if json["type"] != "ping" {
                return json;
            }
        }
    }

    /// The whole rest of the body (the response is a refusal, or the stream ends).
    pub async fn rest(mut self) -> String {
        let mut text = String::from_utf8(std::mem::take(&mut self.buffer)).expect("UTF-8");
        while let Some(chunk) = tokio::time::timeout(FRAME_PATIENCE, self.body.next())
            .await
            .expect("the body ends")
        {
            text.push_str(&String::from_utf8_lossy(&chunk.expect("the body reads")));
        }
        text
    }
}

/// The JSON of one raw frame, checking its form: `data: <one line>\n\n`.
pub fn frame_json(raw: &str) -> serde_json::Value {
    let line = raw
        .strip_prefix("data: ")
        .and_then(|rest| rest.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("not a data frame: {raw:?}"));
    assert!(!line.contains('\n'), "a frame is one line: {raw:?}");
    serde_json::from_str(line)
        .unwrap_or_else(|error| panic!("frame is not JSON ({error}): {raw:?}"))
}
