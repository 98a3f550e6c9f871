//! The chat's metrics as its own binary exports them on Redis, read with **one** scrape
//! after a scripted session: every count since start-up is there, and the gauges of the
//! process's state (open streams, presence and pub/sub connections) are right in absolute
//! terms, not only as differences between two scrapes.
//!
//! Needs Redis at `REDIS_URL` (default `redis://127.0.0.1:6379`; `scripts/test` starts one).

use example_support::browser_test::ExampleServer;
use example_support::testing::{PATIENCE, Scrape, TestClient};
use realtime_core::metrics::{
    EMITS, HTTP_REFUSED, PRESENCE_CONNECTIONS, PUBSUB_CONNECTIONS, SSE_OPEN_STREAMS,
    SSE_STREAMS_CLOSED, SSE_STREAMS_OPENED,
};
use reqwest::StatusCode;
use serde_json::json;

const MESSAGES: usize = 3;

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

#[tokio::test]
async fn one_scrape_after_a_session_shows_every_count_and_state_since_start_up() {
    let prefix = format!("test:chat-metrics:{}:", std::process::id());
    let redis = redis_url();
    let server = ExampleServer::start(
        env!("CARGO_BIN_EXE_chat"),
        "chat",
        &[
            ("REDIS_URL", redis.as_str()),
            ("REDIS_PREFIX", prefix.as_str()),
            ("CHAT_WEB_DIR", "/nonexistent"),
        ],
    );
    let client = TestClient::connect(&server.url);
    let ada = client.sign_in("/api/name", json!({ "name": "ada" })).await;

    // A stream (ada's presence connection in the room), messages, one refused request.
    let mut stream = client.stream(Some(&ada), "channel=room-general").await;
    assert_eq!(stream.status(), StatusCode::OK);
    stream.wait_for("\"connected\"", 1).await;
    for n in 0..MESSAGES {
        let (status, body) = client
            .post(
                Some(&ada),
                "/api/rooms/general/messages",
                json!({ "text": format!("m{n}") }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let is_message = |event: &&serde_json::Value| event["event"] == "chat.message";
    stream
        .events_until(|events| events.iter().filter(is_message).count() == MESSAGES)
        .await;
    let unsigned = client.stream(None, "channel=room-general").await;
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);

    // The first scrape of the process.
    let first = client.metrics().await;
    let message_ok = [("event", "chat.message"), ("outcome", "ok")];
    assert_eq!(first.value(EMITS, &message_ok), MESSAGES as f64);
    assert_eq!(first.value(SSE_STREAMS_OPENED, &[]), 1.0);
    assert_eq!(first.value(SSE_OPEN_STREAMS, &[]), 1.0);
    assert_eq!(first.value(PRESENCE_CONNECTIONS, &[]), 1.0);
    assert_eq!(
        first.value(PUBSUB_CONNECTIONS, &[("mode", "single")]),
        1.0,
        "the pub/sub connection is up"
    );
    let unauthorized = [("route", "stream"), ("status", "401")];
    assert_eq!(first.value(HTTP_REFUSED, &unauthorized), 1.0);

    // The stream goes: the gauges return to 0, not below.
    drop(stream);
    let closed = scrape_until(
        &client,
        "the stream closed and its presence let go",
        |now| {
            now.value(SSE_STREAMS_CLOSED, &[("reason", "client_gone")]) == 1.0
                && now.value(PRESENCE_CONNECTIONS, &[]) == 0.0
        },
    )
    .await;
    assert_eq!(closed.value(SSE_OPEN_STREAMS, &[]), 0.0);
    assert_eq!(closed.value(PUBSUB_CONNECTIONS, &[("mode", "single")]), 1.0);
}

/// Scrapes until `done` holds, failing after a presence linger and [`PATIENCE`].
async fn scrape_until(client: &TestClient, what: &str, done: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = tokio::time::Instant::now() + PATIENCE + realtime_axum::DEFAULT_PRESENCE_LINGER;
    loop {
        let now = client.metrics().await;
        if done(&now) {
            return now;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
