//! Reading an SSE response as a test does: the raw text so far, the next data frame, or
//! the event frames once a condition holds; a stream that stalls fails after [`PATIENCE`].

use futures::StreamExt;
use futures::stream::BoxStream;
use reqwest::StatusCode;
use serde_json::Value;

use super::PATIENCE;

/// An open event stream.
pub struct EventStream {
    status: StatusCode,
    body: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    /// Everything received so far.
    seen: String,
    /// Where [`next_frame`](Self::next_frame) has read up to in `seen`.
    read: usize,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("EventStream")
            .field("status", &self.status)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    pub(super) fn new(response: reqwest::Response) -> Self {
        Self {
            status: response.status(),
            body: response.bytes_stream().boxed(),
            seen: String::new(),
            read: 0,
        }
    }

    /// The response's status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body read as JSON, for a refused stream (`null` when it is not JSON).
    pub async fn error_body(mut self) -> Value {
        while let Some(Ok(chunk)) = self.body.next().await {
            self.seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        serde_json::from_str(&self.seen).unwrap_or(Value::Null)
    }

    /// Everything received so far, as text.
    pub fn seen(&self) -> &str {
        &self.seen
    }

    /// Reads until `needle` has come `count` times in all.
    pub async fn wait_for(&mut self, needle: &str, count: usize) {
        while self.seen.matches(needle).count() < count {
            self.receive().await;
        }
    }

    /// The next `data:` frame's JSON, skipping pings and frames that start with `id:`.
    pub async fn next_frame(&mut self) -> Value {
        loop {
            if let Some(end) = self.seen[self.read..].find("\n\n") {
                let frame = &self.seen[self.read..self.read + end];
                self.read += end + 2;
                let Some(data) = frame.strip_prefix("data: ") else {
                    continue;
                };
                let json: Value = serde_json::from_str(data.trim_end()).unwrap_or_else(|error| {
                    panic!("a data frame that is not JSON: {error}: {data}")
                });
                if json["type"] != "ping" {
                    return json;
                }
                continue;
            }
            self.receive().await;
        }
    }

    /// Reads until `done` holds for the event frames received so far (data frames with an
    /// `event`, pings left out), and returns them.
    pub async fn events_until(&mut self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        loop {
            let events: Vec<Value> = self
                .seen
                .split("\n\n")
                .filter_map(|frame| frame.strip_prefix("data: "))
                .filter_map(|json| serde_json::from_str::<Value>(json).ok())
                .filter(|frame| frame.get("event").is_some_and(|event| event != "ping"))
                .collect();
            if done(&events) {
                return events;
            }
            self.receive().await;
        }
    }

    /// Appends the next chunk to `seen`; a stall, an error or the end fails the test.
    async fn receive(&mut self) {
        let chunk = tokio::time::timeout(PATIENCE, self.body.next())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "nothing arrived within {PATIENCE:?}; so far: {:?}",
                    self.seen
                )
            });
        match chunk {
            Some(Ok(bytes)) => self.seen.push_str(&String::from_utf8_lossy(&bytes)),
            Some(Err(error)) => panic!("the stream failed: {error}; so far: {:?}", self.seen),
            None => panic!("the stream ended; so far: {:?}", self.seen),
        }
    }
}
