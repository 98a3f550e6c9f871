//! The metrics the chat serves at `GET /metrics`, read after a scripted scenario over a real
//! socket: emits by outcome, deliveries, frames sent, streams opened and closed by reason,
//! refused requests by status, the presence connections a stream holds.
//!
//! The process has one recorder, shared by every app in it: the numbers are checked as
//! differences between a scrape before the scenario and one after.

use chat::ChatEvent;
use example_support::testing::{PATIENCE, Scrape, TestClient};
use realtime_core::Realtime;
use realtime_core::metrics::{
    DELIVERIES, DELIVERY_LAG, EMIT_DURATION, EMITS, HTTP_REFUSED, PRESENCE_CONNECTIONS,
    SSE_EVENTS_SENT, SSE_OPEN_STREAMS, SSE_STREAMS_CLOSED, SSE_STREAMS_OPENED,
};
use reqwest::StatusCode;
use serde_json::json;

const MESSAGES: usize = 3;

/// The change of one metric between two scrapes.
fn delta(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.value(name, labels) - before.value(name, labels)
}

/// Scrapes until `metric` (with `labels`) has grown by `by` since `before`: the server
/// notices a closed connection a moment after the client closes it.
async fn scrape_until(
    server: &TestClient,
    before: &Scrape,
    metric: &str,
    labels: &[(&str, &str)],
    by: f64,
) -> Scrape {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let now = server.metrics().await;
        if delta(before, &now, metric, labels) >= by {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{metric} {labels:?} did not grow by {by} within {PATIENCE:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_scripted_session_shows_in_the_exported_metrics() {
    let app = chat::app(Realtime::<ChatEvent>::memory(), None);
    let sse = app.sse.clone();
    let server = TestClient::start(app.router).await;
    let before = server.metrics().await;
    let ada = server.sign_in("/api/name", json!({ "name": "ada" })).await;

    // One stream, three messages, one refused by the schema.
    let mut stream = server.stream(Some(&ada), "channel=room-general").await;
    assert_eq!(stream.status(), StatusCode::OK);
    stream.wait_for("\"connected\"", 1).await;
    let path = "/api/rooms/general/messages";
    for n in 0..MESSAGES {
        let (status, body) = server
            .post(Some(&ada), path, json!({ "text": format!("m{n}") }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, _) = server.post(Some(&ada), path, json!({ "text": "" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The stream is ada's connection in the room's presence: its own `presence.joined`
    // comes first, then the messages.
    let is_message = |event: &&serde_json::Value| event["event"] == "chat.message";
    let events = stream
        .events_until(|events| events.iter().filter(is_message).count() == MESSAGES)
        .await;
    assert_eq!(events.len(), MESSAGES + 1);
    assert_eq!(events[0]["event"], "presence.joined");

    let open = server.metrics().await;
    let message = [("event", "chat.message")];
    assert_eq!(delta(&before, &open, SSE_OPEN_STREAMS, &[]), 1.0);
    assert_eq!(delta(&before, &open, SSE_STREAMS_OPENED, &[]), 1.0);
    assert_eq!(
        delta(
            &before,
            &open,
            EMITS,
            &[("event", "chat.message"), ("outcome", "ok")]
        ),
        3.0
    );
    assert_eq!(
        delta(
            &before,
            &open,
            EMITS,
            &[("event", "chat.message"), ("outcome", "invalid")]
        ),
        1.0
    );
    assert_eq!(delta(&before, &open, EMITS, &[]), 4.0, "no other emit");
    // The refused emit never reached storage: it has no duration.
    let count = |name: &str| format!("{name}_count");
    assert_eq!(delta(&before, &open, &count(EMIT_DURATION), &[]), 3.0);
    // One subscriber: each message handed to the fan-out once, and written once.
    assert_eq!(delta(&before, &open, DELIVERIES, &message), 3.0);
    let joined = [("event", "presence.joined")];
    assert_eq!(delta(&before, &open, DELIVERIES, &joined), 1.0);
    assert_eq!(delta(&before, &open, &count(DELIVERY_LAG), &[]), 4.0);
    assert_eq!(delta(&before, &open, SSE_EVENTS_SENT, &[]), 4.0);
    assert_eq!(delta(&before, &open, PRESENCE_CONNECTIONS, &[]), 1.0);

    // Refusals, each with its status: a bad channel name, no cookie, a foreign channel.
    for (query, cookie, status) in [
        (
            "channel=room%20general",
            Some(ada.as_str()),
            StatusCode::BAD_REQUEST,
        ),
        ("channel=room-general", None, StatusCode::UNAUTHORIZED),
        (
            "channel=not-chat",
            Some(ada.as_str()),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let refused = server.stream(cookie, query).await;
        assert_eq!(refused.status(), status, "{query}");
    }

    // The client goes away; a second stream ends with the shutdown, after which new
    // streams are refused.
    drop(stream);
    let gone = [("reason", "client_gone")];
    scrape_until(&server, &before, SSE_STREAMS_CLOSED, &gone, 1.0).await;
    let mut second = server.stream(Some(&ada), "channel=room-general").await;
    second.wait_for("\"connected\"", 1).await;
    sse.shutdown();
    second.wait_for("\"reconnect\"", 1).await;
    let refused = server.stream(Some(&ada), "channel=room-general").await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let shutdown = [("reason", "shutdown")];
    let after = scrape_until(&server, &before, SSE_STREAMS_CLOSED, &shutdown, 1.0).await;

    assert_eq!(delta(&before, &after, SSE_STREAMS_OPENED, &[]), 2.0);
    assert_eq!(delta(&before, &after, SSE_STREAMS_CLOSED, &gone), 1.0);
    assert_eq!(delta(&before, &after, SSE_STREAMS_CLOSED, &shutdown), 1.0);
    assert_eq!(delta(&before, &after, SSE_STREAMS_CLOSED, &[]), 2.0);
    assert_eq!(delta(&before, &after, SSE_OPEN_STREAMS, &[]), 0.0);
    for (status, times) in [("400", 1.0), ("401", 1.0), ("403", 1.0), ("503", 1.0)] {
        let labels = [("route", "stream"), ("status", status)];
        assert_eq!(
            delta(&before, &after, HTTP_REFUSED, &labels),
            times,
            "{status}"
        );
    }
    assert_eq!(delta(&before, &after, HTTP_REFUSED, &[]), 4.0);
    // The second stream replayed the join and the three messages from history: written
    // again, but handed to the fan-out only once. (It opened while the first one's
    // presence lingered: ada's second connection, not announced; the `presence.left`
    // comes after both are gone, when no stream is left to write it.)
    assert_eq!(delta(&before, &after, SSE_EVENTS_SENT, &[]), 8.0);
    assert_eq!(delta(&before, &after, DELIVERIES, &message), 3.0);
    assert_eq!(delta(&before, &after, DELIVERIES, &joined), 1.0);
    // Both connections are let go with the shutdown.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while delta(&before, &server.metrics().await, PRESENCE_CONNECTIONS, &[]) != 0.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the presence connections were not let go"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
