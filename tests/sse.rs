//! The SSE endpoint over a real socket with a real HTTP client, on both backends: the
//! exact bytes of frames and headers, channels and cursors, replay without duplicates,
//! keepalive, `reconnect`, shutdown, authorization, limits and the emit route.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test panics

use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use realtime_axum::{
    AllowOrigin, AuthRequest, ChannelRequest, EmitConfig, FirstReplay, RealtimeSse, allow_channels,
};
use realtime_core::{Cursor, History, Realtime};
use realtime_tests::sse::{SseClient, TestServer, frame_json};
use realtime_tests::{BackendKind, PrivateRedis, StorageOptions, TestEvent, for_each_backend};
use serde_json::{Value, json};

for_each_backend!(
    headers_and_frames_are_byte_compatible_with_the_reference,
    several_channels_share_one_connection_and_are_deduplicated,
    replay_after_an_id_then_live_without_duplicates,
    replay_after_a_bare_millisecond,
    connecting_during_a_burst_delivers_every_event_exactly_once,
    pings_arrive_at_the_keepalive_interval,
    the_stream_ends_with_reconnect_at_the_max_duration,
    shutdown_sends_reconnect_to_every_stream_and_refuses_new_ones,
    authorization_refuses_before_any_subscription,
    allow_channels_checks_each_channel_for_the_signed_in_user,
    bad_input_and_limits_get_clear_400s_and_503s,
    the_emit_route_validates_and_answers_with_the_right_status,
    frames_carry_the_data_as_written_typed_or_posted,
    cors_origins_can_be_restricted,
    a_browsers_own_reconnect_gets_204_so_the_client_sends_fresh_cursors,
    first_replay_decides_per_channel_what_a_new_client_gets,
    a_cursor_past_every_id_means_nothing_missed_then_live,
);

async fn realtime(kind: BackendKind) -> Realtime<TestEvent> {
    Realtime::with_backend(kind.open(StorageOptions::default()).await)
}

fn message(text: &str) -> TestEvent {
    TestEvent::Message {
        author: "ada".into(),
        text: text.into(),
    }
}

fn tick_of(frame: &Value) -> u64 {
    assert_eq!(frame["event"], "counter.tick", "{frame}");
    frame["data"].as_u64().unwrap()
}

async fn headers_and_frames_are_byte_compatible_with_the_reference(kind: BackendKind) {
    // Both servers: `realtime_axum::serve` (the lean stream path) and plain `axum::serve`.
    for lean in [true, false] {
        let rt = realtime(kind).await;
        let sse = RealtimeSse::new(rt.clone());
        let server = if lean {
            TestServer::serve(&sse).await
        } else {
            TestServer::start_with_axum_serve(sse.router("/api/realtime")).await
        };
        check_bytes(&rt, &server).await;
    }
}

async fn check_bytes(rt: &Realtime<TestEvent>, server: &TestServer) {
    let mut client = SseClient::connect(&server.url("/api/realtime")).await;
    assert_eq!(client.status, StatusCode::OK);
    for (name, value) in [
        ("content-type", "text/event-stream"),
        ("cache-control", "no-cache"),
        ("access-control-allow-origin", "*"),
        ("access-control-allow-headers", "Cache-Control"),
        ("x-accel-buffering", "no"),
    ] {
        assert_eq!(
            client.headers.get(name).map(|v| v.to_str().unwrap()),
            Some(value),
            "{name}"
        );
    }
    // One `id:` block first (no data: the client sees no message), so that a browser's
    // own reconnect announces itself with `Last-Event-ID`.
    let id_block = client.next_raw().await.unwrap();
    assert!(
        id_block.starts_with("id: ")
            && id_block.ends_with("\n\n")
            && !id_block.trim_end().contains('\n'),
        "{id_block:?}"
    );
    // No channel parameter: the `default` channel; it is empty, so no cursor yet.
    assert_eq!(
        client.next_raw().await.unwrap(),
        "data: {\"type\":\"connected\",\"channel\":\"default\"}\n\n"
    );
    let id = rt.emit(&message("hi \"there\"\nnext line")).await.unwrap();
    assert_eq!(
        client.next_raw().await.unwrap(),
        format!(
            "data: {{\"id\":\"{id}\",\"data\":{{\"author\":\"ada\",\"text\":\"hi \\\"there\\\"\\nnext line\"}},\"event\":\"chat.message\",\"channel\":\"default\"}}\n\n"
        )
    );
    let id = rt.emit(&TestEvent::Tick(7)).await.unwrap();
    assert_eq!(
        client.next_raw().await.unwrap(),
        format!(
            "data: {{\"id\":\"{id}\",\"data\":7,\"event\":\"counter.tick\",\"channel\":\"default\"}}\n\n"
        )
    );
    // A new connection to a channel with history gets its cursor in `connected`.
    let mut second = SseClient::connect(&server.url("/api/realtime?channel=default")).await;
    assert!(second.next_raw().await.unwrap().starts_with("id: "));
    assert_eq!(
        second.next_raw().await.unwrap(),
        format!("data: {{\"type\":\"connected\",\"channel\":\"default\",\"cursor\":\"{id}\"}}\n\n")
    );
}

async fn several_channels_share_one_connection_and_are_deduplicated(kind: BackendKind) {
    let rt = realtime(kind).await;
    let sse = RealtimeSse::new(rt.clone());
    let server = TestServer::serve(&sse).await;
    let url = server.url("/api/realtime?channel=room%3A1&channel=b&channel=room%3A1");
    let mut client = SseClient::connect(&url).await;
    assert_eq!(
        client.next_json().await,
        json!({"type": "connected", "channel": "room:1"})
    );
    assert_eq!(
        client.next_json().await,
        json!({"type": "connected", "channel": "b"})
    );
    rt.channel("c").emit(&TestEvent::Tick(0)).await.unwrap();
    rt.channel("room:1")
        .emit(&TestEvent::Tick(1))
        .await
        .unwrap();
    rt.channel("b").emit(&TestEvent::Tick(2)).await.unwrap();
    rt.channel("room:1")
        .emit(&TestEvent::Tick(3))
        .await
        .unwrap();
    let mut got = Vec::new();
    for _ in 0..3 {
        let frame = client.next_json().await;
        got.push((
            frame["channel"].as_str().unwrap().to_owned(),
            tick_of(&frame),
        ));
    }
    got.sort_by_key(|(_, n)| *n);
    assert_eq!(
        got,
        [("room:1".into(), 1), ("b".into(), 2), ("room:1".into(), 3)]
    );
    assert_eq!(rt.stats().live_channels, 2, "one feed per channel, shared");
}

async fn replay_after_an_id_then_live_without_duplicates(kind: BackendKind) {
    let rt = realtime(kind).await;
    let room = rt.channel("room");
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(room.emit(&TestEvent::Tick(n)).await.unwrap());
    }
    let sse = RealtimeSse::new(rt.clone());
    let server = TestServer::serve(&sse).await;
    let mut client = SseClient::connect(&server.url(&format!(
        "/api/realtime?channel=room&last_ack_room={}",
        ids[1]
    )))
    .await;
    assert_eq!(
        client.next_json().await,
        json!({"type": "connected", "channel": "room", "cursor": ids[1].to_string()})
    );
    for (n, id) in ids.iter().enumerate().skip(2) {
        let frame = client.next_json().await;
        assert_eq!(
            (frame["id"].as_str().unwrap(), tick_of(&frame)),
            (id.to_string().as_str(), n as u64)
        );
    }
    let live = room.emit(&TestEvent::Tick(5)).await.unwrap();
    let frame = client.next_json().await;
    assert_eq!(
        (frame["id"].as_str().unwrap(), tick_of(&frame)),
        (live.to_string().as_str(), 5)
    );
}

async fn replay_after_a_bare_millisecond(kind: BackendKind) {
    let rt = realtime(kind).await;
    let room = rt.channel("room");
    let first = room.emit(&TestEvent::Tick(0)).await.unwrap();
    room.emit(&TestEvent::Tick(1)).await.unwrap();
    let sse = RealtimeSse::new(rt.clone());
    let server = TestServer::serve(&sse).await;
    let before = first.ms() - 1;
    let mut client = SseClient::connect(&server.url(&format!(
        "/api/realtime?channel=room&last_ack_room={before}"
    )))
    .await;
    assert_eq!(client.next_json().await["type"], "connected");
    assert_eq!(tick_of(&client.next_json().await), 0);
    assert_eq!(tick_of(&client.next_json().await), 1);
    // `Date.now()` on first connect, a client clock ahead of the server's: live events
    // still arrive.
    let ahead = first.ms() + 3_600_000;
    let mut client = SseClient::connect(
        &server.url(&format!("/api/realtime?channel=room&last_ack_room={ahead}")),
    )
    .await;
    assert_eq!(client.next_json().await["type"], "connected");
    room.emit(&TestEvent::Tick(2)).await.unwrap();
    assert_eq!(tick_of(&client.next_json().await), 2);
}

async fn connecting_during_a_burst_delivers_every_event_exactly_once(kind: BackendKind) {
    let rt = realtime(kind).await;
    let sse = RealtimeSse::new(rt.clone());
    let server = TestServer::serve(&sse).await;
    let total = 500u64;
    let emitter = {
        let rt = rt.clone();
        tokio::spawn(async move {
            for n in 0..total {
                rt.channel("burst")
                    .emit(&TestEvent::Tick(n as u32))
                    .await
                    .unwrap();
                if n % 20 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut client =
        SseClient::connect(&server.url("/api/realtime?channel=burst&last_ack_burst=0")).await;
    assert_eq!(client.next_json().await["type"], "connected");
    let mut seen = Vec::new();
    let mut last_id: Option<Cursor> = None;
    while seen.len() < total as usize {
        let frame = client.next_json().await;
        let id: Cursor = frame["id"].as_str().unwrap().parse().unwrap();
        assert!(last_id.is_none_or(|last| id > last), "ids grow");
        last_id = Some(id);
        seen.push(tick_of(&frame));
    }
    emitter.await.unwrap();
    assert_eq!(seen, (0..total).collect::<Vec<_>>());
}

async fn pings_arrive_at_the_keepalive_interval(kind: BackendKind) {
    let rt = realtime(kind).await;
    let sse = RealtimeSse::builder(rt)
        .keepalive(Duration::from_millis(200))
        .build();
    let server = TestServer::serve(&sse).await;
    let mut client = SseClient::connect(&server.url("/api/realtime")).await;
    assert!(client.next_raw().await.unwrap().starts_with("id: "));
    assert_eq!(
        frame_json(&client.next_raw().await.unwrap())["type"],
        "connected"
    );
    let started = Instant::now();
    let mut pings = Vec::new();
    for _ in 0..4 {
        let frame = frame_json(&client.next_raw().await.unwrap());
        assert_eq!(frame["type"], "ping", "{frame}");
        assert!(frame["timestamp"].as_u64().unwrap() > 1_700_000_000_000);
        pings.push(started.elapsed());
    }
    let total = pings[3];
    assert!(
        total >= Duration::from_millis(700) && total < Duration::from_millis(1_600),
        "{pings:?}"
    );
}

async fn the_stream_ends_with_reconnect_at_the_max_duration(kind: BackendKind) {
    let rt = realtime(kind).await;
    // 3 s max: the reference sends `reconnect` 2 s before, so after about 1 s.
    let sse = RealtimeSse::builder(rt)
        .max_duration(Duration::from_secs(3))
        .build();
    let server = TestServer::serve(&sse).await;
    let started = Instant::now();
    let mut client = SseClient::connect(&server.url("/api/realtime")).await;
    assert_eq!(client.next_json().await["type"], "connected");
    let frame = client.next_json().await;
    assert_eq!(frame["type"], "reconnect", "{frame}");
    assert!(frame["timestamp"].is_u64());
    assert!(
        client.next_raw().await.is_none(),
        "the stream ends after `reconnect`"
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert_eq!(sse.open_streams(), 0);
}

async fn shutdown_sends_reconnect_to_every_stream_and_refuses_new_ones(kind: BackendKind) {
    let rt = realtime(kind).await;
    let sse = RealtimeSse::new(rt);
    let server = TestServer::serve(&sse).await;
    let mut clients = Vec::new();
    for channel in ["a", "b", "c"] {
        let mut client =
            SseClient::connect(&server.url(&format!("/api/realtime?channel={channel}"))).await;
        assert_eq!(client.next_json().await["type"], "connected");
        clients.push(client);
    }
    assert_eq!(sse.open_streams(), 3);
    sse.shutdown();
    for client in &mut clients {
        assert_eq!(client.next_json().await["type"], "reconnect");
        assert!(client.next_raw().await.is_none());
    }
    let refused = SseClient::connect(&server.url("/api/realtime")).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers.get("retry-after").unwrap(), "2");
    assert!(refused.rest().await.contains("shutting down"));
}

async fn authorization_refuses_before_any_subscription(kind: BackendKind) {
    let rt = realtime(kind).await;
    let sse = RealtimeSse::builder(rt.clone())
        .authorize(|request: AuthRequest| async move {
            if request
                .channels
                .iter()
                .any(|channel| channel.starts_with("secret"))
            {
                Err((StatusCode::FORBIDDEN, "no secrets for you").into_response())
            } else {
                Ok(())
            }
        })
        .build();
    let server = TestServer::serve(&sse).await;
    let refused =
        SseClient::connect(&server.url("/api/realtime?channel=public&channel=secret-1")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.headers.get("access-control-allow-origin").unwrap(),
        "*"
    );
    assert_eq!(refused.rest().await, "no secrets for you");
    assert_eq!(rt.stats().live_channels, 0, "no subscription was opened");
    assert_eq!(sse.open_streams(), 0);
    let mut allowed = SseClient::connect(&server.url("/api/realtime?channel=public")).await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(allowed.next_json().await["type"], "connected");
}

#[derive(Clone)]
struct User {
    id: String,
}

/// A stand-in for an auth layer: `x-user: <id>` becomes the signed-in user.
async fn sign_in(mut request: Request, next: Next) -> Response {
    let user = request
        .headers()
        .get("x-user")
        .and_then(|value| value.to_str().ok())
        .map(|id| User { id: id.to_owned() });
    if let Some(user) = user {
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

async fn allow_channels_checks_each_channel_for_the_signed_in_user(kind: BackendKind) {
    let rt = realtime(kind).await;
    let sse = RealtimeSse::builder(rt)
        .authorize(allow_channels(|user: &User, channel: &str| {
            channel == "lobby" || channel == format!("user-{}", user.id)
        }))
        .build();
    let router = sse
        .router("/api/realtime")
        .layer(axum::middleware::from_fn(sign_in));
    let server = TestServer::start(router).await;
    let client = reqwest::Client::new();
    let url = server.url("/api/realtime?channel=lobby&channel=user-1");

    let mut mine = SseClient::connect_with(client.get(&url).header("x-user", "1")).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.next_json().await["channel"], "lobby");

    let theirs = SseClient::connect_with(client.get(&url).header("x-user", "2")).await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    assert_eq!(
        serde_json::from_str::<Value>(&theirs.rest().await).unwrap(),
        json!({"error": "not allowed to access channel `user-1`"})
    );
    let anonymous = SseClient::connect(&url).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn error_of(client: SseClient) -> (StatusCode, String) {
    let status = client.status;
    let body: Value = serde_json::from_str(&client.rest().await).unwrap();
    (status, body["error"].as_str().unwrap().to_owned())
}

async fn bad_input_and_limits_get_clear_400s_and_503s(kind: BackendKind) {
    let rt = realtime(kind).await;
    let sse = RealtimeSse::builder(rt.clone())
        .max_channels(2)
        .max_streams(1)
        .build();
    let server = TestServer::serve(&sse).await;
    let long = "x".repeat(129);
    let cases = [
        (
            "/api/realtime?channel=a%20b".to_owned(),
            "invalid channel name `a b`: expected only ASCII letters, digits and `-_.:@/`",
        ),
        (
            format!("/api/realtime?channel={long}"),
            "it is longer than 128 bytes",
        ),
        (
            "/api/realtime?channel=a&channel=b&channel=c".to_owned(),
            "too many channels: at most 2 per connection",
        ),
        (
            "/api/realtime?channel=a&last_ack_a=1-2-3".to_owned(),
            "`last_ack_a`: malformed cursor `1-2-3`",
        ),
        (
            "/api/realtime?channel=a&last_ack_a=soon".to_owned(),
            "or a bare millisecond value",
        ),
    ];
    for (path, expected) in cases {
        let (status, error) = error_of(SseClient::connect(&server.url(&path)).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(error.contains(expected), "{path}: {error}");
    }
    assert_eq!(rt.stats().live_channels, 0);
    let mut first = SseClient::connect(&server.url("/api/realtime")).await;
    assert_eq!(first.next_json().await["type"], "connected");
    let refused = SseClient::connect(&server.url("/api/realtime")).await;
    assert_eq!(refused.headers.get("retry-after").unwrap(), "2");
    let (status, error) = error_of(refused).await;
    assert_eq!(
        (status, error.as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many open streams (at most 1); retry later"
        )
    );
    drop(first);
    // The place frees when the client goes away.
    let mut freed = false;
    for _ in 0..50 {
        let client = SseClient::connect(&server.url("/api/realtime")).await;
        if client.status == StatusCode::OK {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(freed);
}

/// A restart's reconnects are let in at the admission rate: one second's worth at once,
/// the rest refused with 503 and `Retry-After` before any work (no authorization, no
/// subscription), then more as the bucket refills.
#[tokio::test]
async fn new_streams_past_the_admission_rate_get_503_until_the_bucket_refills() {
    let rt = Realtime::<TestEvent>::memory();
    let authorized = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = authorized.clone();
    let sse = RealtimeSse::builder(rt.clone())
        .max_stream_opens_per_second(5)
        .authorize(move |_request: AuthRequest| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Ok::<_, Response>(()) }
        })
        .build();
    let server = TestServer::serve(&sse).await;
    let mut open = Vec::new();
    let mut refused = Vec::new();
    for _ in 0..12 {
        let client = SseClient::connect(&server.url("/api/realtime?channel=a")).await;
        if client.status == StatusCode::OK {
            open.push(client);
        } else {
            refused.push(client);
        }
    }
    // Five at once; a sixth only if the 12 connects took over 200 ms.
    assert!((5..=6).contains(&open.len()), "{} admitted", open.len());
    assert_eq!(
        authorized.load(std::sync::atomic::Ordering::SeqCst),
        open.len()
    );
    let one = refused.pop().unwrap();
    assert_eq!(one.headers.get("retry-after").unwrap(), "2");
    let (status, error) = error_of(one).await;
    assert_eq!(
        (status, error.as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many new streams (at most 5 a second); retry later"
        )
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = SseClient::connect(&server.url("/api/realtime?channel=a")).await;
    assert_eq!(later.status, StatusCode::OK, "the bucket refilled");
}

async fn the_emit_route_validates_and_answers_with_the_right_status(kind: BackendKind) {
    let rt = realtime(kind).await;
    let emit = EmitConfig::new()
        .body_limit(1_024)
        .authorize(|request: AuthRequest| async move {
            match request.headers().get("authorization") {
                Some(value) if value == "Bearer writer" => Ok(()),
                _ => Err(StatusCode::UNAUTHORIZED.into_response()),
            }
        });
    let sse = RealtimeSse::builder(rt.clone()).emit_route(emit).build();
    let server = TestServer::serve(&sse).await;
    let url = server.url("/api/realtime");
    let client = reqwest::Client::new();
    let post = |body: String| {
        client
            .post(&url)
            .header("authorization", "Bearer writer")
            .header("content-type", "application/json")
            .body(body)
    };

    let response = post(json!({"channel": "room", "event": "chat.message", "data": {"author": "ada", "text": "hi"}}).to_string()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let id: Cursor = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let stored = rt.channel("room").history(History::new()).await.unwrap();
    assert_eq!((stored[0].id, &stored[0].event), (id, &message("hi")));

    let response = post(json!({"event": "counter.tick", "data": 4}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "no channel: `default`");
    assert_eq!(rt.history(History::new()).await.unwrap().len(), 1);

    let response = post("{not json".to_owned()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .starts_with("malformed body")
    );

    let response = post(json!({"event": "chat.nope", "data": 1}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.json::<Value>().await.unwrap();
    assert_eq!(
        (body["event"].as_str(), body["path"].as_str()),
        (Some("chat.nope"), Some(""))
    );
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("expected one of: chat.message")
    );

    let response = post(
        json!({"channel": "room", "event": "chat.message", "data": {"author": "ada", "text": ""}})
            .to_string(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.json::<Value>().await.unwrap();
    assert_eq!(
        (
            body["event"].as_str(),
            body["path"].as_str(),
            body["rule"].as_str()
        ),
        (Some("chat.message"), Some("/text"), Some("minLength"))
    );

    let response = post(json!({"event": "counter.tick", "data": "x".repeat(2_000)}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let response =
        post(json!({"channel": "bad name", "event": "counter.tick", "data": 1}).to_string())
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let response = client
        .post(&url)
        .header("content-type", "application/json")
        .body(json!({"event": "counter.tick", "data": 1}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "the route's own hook"
    );
    assert_eq!(
        rt.channel("room")
            .history(History::new())
            .await
            .unwrap()
            .len(),
        1,
        "refusals store nothing"
    );
}

async fn frames_carry_the_data_as_written_typed_or_posted(kind: BackendKind) {
    let rt = realtime(kind).await;
    let sse = RealtimeSse::builder(rt.clone())
        .emit_route(EmitConfig::new())
        .build();
    let server = TestServer::serve(&sse).await;
    let mut client = SseClient::connect(&server.url("/api/realtime?channel=wire")).await;
    assert!(client.next_raw().await.unwrap().starts_with("id: "));
    assert_eq!(
        client.next_raw().await.unwrap(),
        "data: {\"type\":\"connected\",\"channel\":\"wire\"}\n\n"
    );
    let frame = |id: Cursor, data: &str| {
        format!(
            "data: {{\"id\":\"{id}\",\"data\":{data},\"event\":\"sensor.reading\",\"channel\":\"wire\"}}\n\n"
        )
    };

    // Typed: the fields in declaration order, the f32 as serde writes it.
    let reading = TestEvent::Reading {
        station: "north".into(),
        celsius: 0.1,
    };
    let id = rt.channel("wire").emit(&reading).await.unwrap();
    assert_eq!(
        client.next_raw().await.unwrap(),
        frame(id, r#"{"station":"north","celsius":0.1}"#)
    );

    // Posted: the client's key order and number spelling, on one line.
    let body = "{\"channel\": \"wire\", \"event\": \"sensor.reading\",\n \"data\": { \"celsius\": 2.50, \"station\": \"south\" }}";
    let response = reqwest::Client::new()
        .post(server.url("/api/realtime"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let id: Cursor = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        client.next_raw().await.unwrap(),
        frame(id, r#"{"celsius":2.50,"station":"south"}"#)
    );
    let stored = rt.channel("wire").history(History::new()).await.unwrap();
    assert_eq!(
        stored.last().map(|envelope| (envelope.id, &envelope.event)),
        Some((
            id,
            &TestEvent::Reading {
                station: "south".into(),
                celsius: 2.5
            }
        ))
    );
}

async fn cors_origins_can_be_restricted(kind: BackendKind) {
    let rt = realtime(kind).await;
    let sse = RealtimeSse::builder(rt)
        .allow_origin(AllowOrigin::List(vec!["https://app.example".into()]))
        .build();
    let server = TestServer::serve(&sse).await;
    let client = reqwest::Client::new();
    let url = server.url("/api/realtime");
    let allowed =
        SseClient::connect_with(client.get(&url).header("origin", "https://app.example")).await;
    assert_eq!(
        allowed.headers.get("access-control-allow-origin").unwrap(),
        "https://app.example"
    );
    assert_eq!(
        allowed
            .headers
            .get("access-control-allow-credentials")
            .unwrap(),
        "true"
    );
    let other =
        SseClient::connect_with(client.get(&url).header("origin", "https://evil.example")).await;
    assert!(other.headers.get("access-control-allow-origin").is_none());
}

async fn a_browsers_own_reconnect_gets_204_so_the_client_sends_fresh_cursors(kind: BackendKind) {
    let rt = realtime(kind).await;
    let sse = RealtimeSse::new(rt.clone());
    let server = TestServer::serve(&sse).await;
    let client = reqwest::Client::new();
    let url = server.url("/api/realtime?channel=room&last_ack_room=0");
    let stale =
        SseClient::connect_with(client.get(&url).header("last-event-id", "1732712345678")).await;
    assert_eq!(stale.status, StatusCode::NO_CONTENT);
    assert_eq!(
        rt.stats().live_channels,
        0,
        "no subscription for a stale reconnect"
    );
    let mut config = realtime_axum::SseConfig::default();
    config.refuse_stale_reconnects = false;
    let lenient = RealtimeSse::builder(rt).config(config).build();
    let server = TestServer::serve(&lenient).await;
    let url = server.url("/api/realtime?channel=room&last_ack_room=0");
    let mut accepted = SseClient::connect_with(client.get(&url).header("last-event-id", "1")).await;
    assert_eq!(accepted.status, StatusCode::OK);
    assert_eq!(
        accepted.next_raw().await.unwrap(),
        "data: {\"type\":\"connected\",\"channel\":\"room\"}\n\n",
        "no `id:` block when off"
    );
}

#[tokio::test]
async fn storage_unreachable_when_a_client_connects_is_a_503() {
    let mut server = PrivateRedis::start().await;
    let options = realtime_core::backend::redis::RedisOptions::default()
        .command_timeout(Duration::from_millis(300));
    let backend = realtime_core::backend::redis::RedisBackend::connect_with(&server.url(), options)
        .await
        .unwrap();
    let rt = Realtime::<TestEvent>::with_backend(backend);
    let sse = RealtimeSse::new(rt);
    let http = TestServer::serve(&sse).await;
    server.kill();
    let refused = SseClient::connect(&http.url("/api/realtime?channel=a")).await;
    assert_eq!(refused.headers.get("retry-after").unwrap(), "2");
    let (status, error) = error_of(refused).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(error.starts_with("storage unavailable: "), "{error}");
    assert_eq!(sse.open_streams(), 0);
}

#[tokio::test]
async fn serve_passes_connect_info_on_both_paths_and_answers_plain_responses() {
    use axum::extract::ConnectInfo;
    let app = axum::Router::new().route(
        "/who",
        axum::routing::get(
            |ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>| async move {
                format!("hello {}", addr.ip())
            },
        ),
    );
    let server = TestServer::start(app).await;
    let client = reqwest::Client::new();
    // A stream request whose answer is not a stream: the lean path writes it and closes.
    let lean = client
        .get(server.url("/who"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(lean.status(), StatusCode::OK);
    assert_eq!(lean.text().await.unwrap(), "hello 127.0.0.1");
    // Anything else is hyper's, with keep-alive.
    for _ in 0..2 {
        let plain = client.get(server.url("/who")).send().await.unwrap();
        assert_eq!(plain.text().await.unwrap(), "hello 127.0.0.1");
    }
    let missing = client
        .get(server.url("/nothing"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// Reads frames until each of `channels` has delivered tick `live` (emitted live by the
/// test); the ticks per channel, in order, before it.
async fn ticks_until(client: &mut SseClient, channels: &[&str], live: u64) -> Vec<Vec<u64>> {
    let mut ticks = vec![Vec::new(); channels.len()];
    let mut done = 0;
    while done < channels.len() {
        let frame = client.next_json().await;
        if frame["type"] == "connected" {
            continue;
        }
        let at = channels
            .iter()
            .position(|channel| frame["channel"] == *channel)
            .unwrap_or_else(|| panic!("a frame of another channel: {frame}"));
        match tick_of(&frame) {
            tick if tick == live => done += 1,
            tick => ticks[at].push(tick),
        }
    }
    ticks
}

async fn first_replay_decides_per_channel_what_a_new_client_gets(kind: BackendKind) {
    let rt = realtime(kind).await;
    let (mut job_ids, mut recent_ids) = (Vec::new(), Vec::new());
    for n in 0..3 {
        job_ids.push(rt.channel("job-7").emit(&TestEvent::Tick(n)).await.unwrap());
        recent_ids.push(
            rt.channel("recent")
                .emit(&TestEvent::Tick(n))
                .await
                .unwrap(),
        );
        rt.channel("room").emit(&TestEvent::Tick(n)).await.unwrap();
    }
    let sse = RealtimeSse::builder(rt.clone())
        .first_replay(|request: &ChannelRequest, subscription| {
            let replay = match request.name.as_str() {
                "recent" => FirstReplay::Newest(2),
                job if job.starts_with("job-") => FirstReplay::All,
                _ => FirstReplay::AsAsked,
            };
            replay.apply(request, subscription)
        })
        .build();
    let server = TestServer::serve(&sse).await;
    let channels = ["job-7", "recent", "room"];
    let emit_live = |tick: u32| {
        let rt = rt.clone();
        async move {
            for channel in channels {
                rt.channel(channel)
                    .emit(&TestEvent::Tick(tick))
                    .await
                    .unwrap();
            }
        }
    };

    // A page opened now (`Date.now()` for every channel): the job's whole story, the
    // newest two of `recent`, nothing of `room`.
    // A millisecond after the last emit: the reference replays ids after `<now>-0`, so an
    // entry of the same millisecond would count as newer.
    tokio::time::sleep(Duration::from_millis(3)).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let mut client = SseClient::connect(&server.url(&format!(
        "/api/realtime?channel=job-7&channel=recent&channel=room\
         &last_ack_job-7={now}&last_ack_recent={now}&last_ack_room={now}"
    )))
    .await;
    assert_eq!(
        client.next_json().await,
        json!({"type": "connected", "channel": "job-7", "cursor": "0-0"})
    );
    emit_live(100).await;
    assert_eq!(
        ticks_until(&mut client, &channels, 100).await,
        [vec![0, 1, 2], vec![1, 2], vec![]]
    );

    // No `last_ack_` at all is also a client that has seen nothing.
    let mut client = SseClient::connect(&server.url("/api/realtime?channel=job-7")).await;
    emit_live(101).await;
    assert_eq!(
        ticks_until(&mut client, &["job-7"], 101).await,
        [vec![0, 1, 2, 100]]
    );

    // `Newest(2)` for a client whose time is older than the newest two: everything after
    // its time, so nothing it asked for is skipped.
    let before = recent_ids[0].ms() - 1;
    let mut client = SseClient::connect(&server.url(&format!(
        "/api/realtime?channel=recent&last_ack_recent={before}"
    )))
    .await;
    emit_live(102).await;
    assert_eq!(
        ticks_until(&mut client, &["recent"], 102).await,
        [vec![0, 1, 2, 100, 101]]
    );

    // A client resuming after an id gets exactly what followed it: the policy is not asked.
    let mut client = SseClient::connect(&server.url(&format!(
        "/api/realtime?channel=job-7&last_ack_job-7={}",
        job_ids[1]
    )))
    .await;
    emit_live(103).await;
    assert_eq!(
        ticks_until(&mut client, &["job-7"], 103).await,
        [vec![2, 100, 101, 102]]
    );
}

async fn a_cursor_past_every_id_means_nothing_missed_then_live(kind: BackendKind) {
    let past_everything = Cursor::MAX.to_string();
    for lean in [true, false] {
        let rt = realtime(kind).await;
        let stored = rt.channel("stored");
        let newest = stored.emit(&TestEvent::Tick(0)).await.unwrap();
        let sse = RealtimeSse::new(rt.clone());
        let server = if lean {
            TestServer::serve(&sse).await
        } else {
            TestServer::start_with_axum_serve(sse.router("/api/realtime")).await
        };
        // An empty channel, and one with an entry: no replay, the newest stored entry as
        // the cursor, then the events emitted from now on (whose ids lie below the
        // client's cursor).
        for (channel, cursor) in [("empty", None), ("stored", Some(newest))] {
            let url = server.url(&format!(
                "/api/realtime?channel={channel}&last_ack_{channel}={past_everything}"
            ));
            let mut client = SseClient::connect(&url).await;
            assert_eq!(client.status, StatusCode::OK, "lean {lean}, {channel}");
            let mut connected = json!({"type": "connected", "channel": channel});
            if let Some(cursor) = cursor {
                connected["cursor"] = json!(cursor.to_string());
            }
            assert_eq!(client.next_json().await, connected, "lean {lean}");
            let live = rt.channel(channel).emit(&TestEvent::Tick(1)).await.unwrap();
            let frame = client.next_json().await;
            assert_eq!(
                frame["id"],
                json!(live.to_string()),
                "lean {lean}, {channel}"
            );
            assert_eq!(tick_of(&frame), 1);
        }
    }
}
