//! Presence over the SSE endpoint, over a real socket, on both backends: a stream whose
//! authorization hook names a member joins the presence of its channels and leaves when
//! the connection ends; two tabs of one member are one member; a reconnect within the
//! linger is not announced; a join that fails refuses the stream and leaves nothing
//! behind; the members route answers exactly who is there, authorized like the stream.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test panics

use std::time::Duration;

use axum::response::IntoResponse;
use http::StatusCode;
use realtime_axum::{Access, AuthRequest, RealtimeSse, RealtimeSseBuilder};
use realtime_core::Realtime;
use realtime_core::backend::conformance::{RoomEvent, Visitor};
use realtime_tests::sse::{SseClient, TestServer};
use realtime_tests::{BackendKind, StorageOptions, TestEvent, for_each_backend};
use serde_json::{Value, json};

for_each_backend!(
    a_stream_joins_its_channels_and_carries_its_own_join,
    two_tabs_of_one_member_are_one_member_joined_once_and_left_once,
    a_connection_dropped_mid_stream_leaves_on_both_servers,
    a_reconnect_within_the_linger_is_not_announced_and_shutdown_leaves_at_once,
    past_max_streams_lingering_a_closed_stream_leaves_at_once,
    a_join_that_fails_refuses_the_stream_and_leaves_nothing,
    the_members_route_is_exact_and_authorized_like_the_stream,
    an_oversized_presence_info_is_refused_by_join_and_by_the_stream,
);

async fn realtime(kind: BackendKind) -> Realtime<RoomEvent> {
    Realtime::with_backend(kind.open(StorageOptions::default()).await)
}

/// The hook of these tests: `x-user: <id>` (and `x-name`, the info's name, default the
/// id) is a member in the `room-*` channels it opens; no `x-user` reads anonymously;
/// `private-*` channels are refused (403); `x-deny: 1` is refused (401).
fn endpoint(rt: &Realtime<RoomEvent>) -> RealtimeSseBuilder<RoomEvent> {
    RealtimeSse::builder(rt.clone())
        .presence_linger(Duration::ZERO)
        .authorize(|request: AuthRequest| async move {
            let header = |name: &str| {
                request
                    .headers()
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned)
            };
            if header("x-deny").is_some() {
                return Err((StatusCode::UNAUTHORIZED, "who are you?").into_response());
            }
            if let Some(channel) = request.channels.iter().find(|c| c.starts_with("private-")) {
                let refusal = format!("`{channel}` is private");
                return Err((StatusCode::FORBIDDEN, refusal).into_response());
            }
            let Some(user) = header("x-user") else {
                return Ok(Access::allow());
            };
            let name = header("x-name").unwrap_or_else(|| user.clone());
            let rooms: Vec<_> = request
                .channels
                .iter()
                .filter(|channel| channel.starts_with("room-"))
                .cloned()
                .collect();
            Ok(Access::presence(user, Visitor { name }, rooms))
        })
}

/// A stream of `user` on `channels`, past its `connected` frames.
async fn tab(server: &TestServer, user: &str, channels: &[&str]) -> SseClient {
    let query: Vec<String> = channels.iter().map(|c| format!("channel={c}")).collect();
    let url = server.url(&format!("/api/realtime?{}", query.join("&")));
    let mut client =
        SseClient::connect_with(reqwest::Client::new().get(url).header("x-user", user)).await;
    assert_eq!(client.status, StatusCode::OK);
    for _ in channels {
        assert_eq!(client.next_json().await["type"], "connected");
    }
    client
}

/// An anonymous stream of `channel`, past its `connected` frame: it sees every change.
async fn observer(server: &TestServer, channel: &str) -> SseClient {
    let mut client =
        SseClient::connect(&server.url(&format!("/api/realtime?channel={channel}"))).await;
    assert_eq!(client.status, StatusCode::OK);
    assert_eq!(client.next_json().await["type"], "connected");
    client
}

/// `(event, data)` of the next event frame.
async fn next_event(client: &mut SseClient) -> (String, Value) {
    let frame = client.next_json().await;
    (
        frame["event"].as_str().unwrap_or_default().to_owned(),
        frame["data"].clone(),
    )
}

fn change(member: &str, name: &str) -> Value {
    json!({ "member": member, "info": { "name": name } })
}

/// Emits a message to `channel` and checks that it is the next event `client` gets:
/// whatever presence entry came before it would have arrived first.
async fn expect_only_marker(
    rt: &Realtime<RoomEvent>,
    client: &mut SseClient,
    channel: &str,
    text: &str,
) {
    rt.channel(channel)
        .emit(&RoomEvent::Message(text.into()))
        .await
        .unwrap();
    assert_eq!(
        next_event(client).await,
        ("room.message".to_owned(), json!(text))
    );
}

async fn members(server: &TestServer, channel: &str) -> Value {
    let response = reqwest::get(server.url(&format!("/api/realtime/presence?channel={channel}")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Waits until this process holds `count` presence connections (a dropped stream's
/// guard is released as the server notices the closed socket).
async fn until_held(rt: &Realtime<RoomEvent>, count: usize) {
    let deadline = tokio::time::Instant::now() + realtime_tests::PATIENCE;
    while rt.stats().presence_connections != count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} connections held, not {count}",
            rt.stats().presence_connections
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn a_stream_joins_its_channels_and_carries_its_own_join(kind: BackendKind) {
    let rt = realtime(kind).await;
    let sse = endpoint(&rt).build();
    let server = TestServer::serve(&sse).await;
    let mut lobby = observer(&server, "lobby").await;
    // A member in `room-a` only: `lobby` is not a room.
    let mut ada = tab(&server, "ada", &["room-a", "lobby"]).await;
    assert_eq!(
        next_event(&mut ada).await,
        ("presence.joined".to_owned(), change("ada", "ada")),
        "the stream is subscribed before it joins, so it carries its own join"
    );
    assert_eq!(
        members(&server, "room-a").await,
        json!([change("ada", "ada")])
    );
    assert_eq!(members(&server, "lobby").await, json!([]));
    expect_only_marker(&rt, &mut lobby, "lobby", "nobody joined the lobby").await;
    assert_eq!(rt.stats().presence_connections, 1);
}

async fn two_tabs_of_one_member_are_one_member_joined_once_and_left_once(kind: BackendKind) {
    let rt = realtime(kind).await;
    let sse = endpoint(&rt).build();
    let server = TestServer::serve(&sse).await;
    let mut room = observer(&server, "room-1").await;

    let first = tab(&server, "ada", &["room-1"]).await;
    assert_eq!(
        next_event(&mut room).await,
        ("presence.joined".to_owned(), change("ada", "ada"))
    );
    let second = tab(&server, "ada", &["room-1"]).await;
    expect_only_marker(&rt, &mut room, "room-1", "after the second tab").await;
    assert_eq!(
        members(&server, "room-1").await,
        json!([change("ada", "ada")])
    );
    assert_eq!(rt.stats().presence_connections, 2);

    drop(first);
    until_held(&rt, 1).await;
    assert_eq!(
        members(&server, "room-1").await,
        json!([change("ada", "ada")]),
        "the other tab is still open"
    );
    drop(second);
    assert_eq!(
        next_event(&mut room).await,
        ("presence.left".to_owned(), change("ada", "ada"))
    );
    // Both leaves were stored before the one that announced it: nothing else comes.
    expect_only_marker(&rt, &mut room, "room-1", "after both tabs").await;
    assert_eq!(members(&server, "room-1").await, json!([]));
    assert_eq!(rt.stats().presence_connections, 0);
}

async fn a_connection_dropped_mid_stream_leaves_on_both_servers(kind: BackendKind) {
    for lean in [true, false] {
        let rt = realtime(kind).await;
        let sse = endpoint(&rt).build();
        let server = if lean {
            TestServer::serve(&sse).await
        } else {
            TestServer::start_with_axum_serve(sse.router("/api/realtime")).await
        };
        let mut room = observer(&server, "room-1").await;
        let mut bob = tab(&server, "bob", &["room-1"]).await;
        assert_eq!(next_event(&mut room).await.0, "presence.joined");
        // Mid-stream: bob has read his own join and a message, and more is coming.
        assert_eq!(next_event(&mut bob).await.0, "presence.joined");
        rt.channel("room-1")
            .emit(&RoomEvent::Message("one".into()))
            .await
            .unwrap();
        assert_eq!(next_event(&mut bob).await.1, json!("one"));
        assert_eq!(next_event(&mut room).await.1, json!("one"));
        drop(bob);
        assert_eq!(
            next_event(&mut room).await,
            ("presence.left".to_owned(), change("bob", "bob")),
            "lean path: {lean}"
        );
        assert_eq!(members(&server, "room-1").await, json!([]));
        assert_eq!(sse.open_streams(), 1, "only the observer is left");
    }
}

async fn a_reconnect_within_the_linger_is_not_announced_and_shutdown_leaves_at_once(
    kind: BackendKind,
) {
    let rt = realtime(kind).await;
    // Longer than the test: only the reconnect (or shutdown) can end it.
    let sse = endpoint(&rt)
        .presence_linger(Duration::from_secs(600))
        .build();
    let server = TestServer::serve(&sse).await;
    let changes_rt = rt.clone();
    let mut changes = changes_rt
        .channel("room-1")
        .presence()
        .changes()
        .await
        .unwrap();

    let first = tab(&server, "ada", &["room-1"]).await;
    let joined = tokio::time::timeout(
        realtime_tests::PATIENCE,
        futures::StreamExt::next(&mut changes),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(joined.is_joined() && joined.member().id == "ada");
    // The browser client closes its connection and opens another (its channels changed).
    drop(first);
    let _second = tab(&server, "ada", &["room-1", "room-2"]).await;
    let mut room = observer(&server, "room-1").await;
    expect_only_marker(&rt, &mut room, "room-1", "after the reconnect").await;
    assert_eq!(
        members(&server, "room-1").await,
        json!([change("ada", "ada")])
    );
    assert_eq!(
        members(&server, "room-2").await,
        json!([change("ada", "ada")])
    );

    // Shutdown: open streams end, lingering ones too, and every member leaves now.
    sse.shutdown();
    let left = tokio::time::timeout(
        realtime_tests::PATIENCE,
        futures::StreamExt::next(&mut changes),
    )
    .await
    .expect("ada leaves room-1 at shutdown, not after the linger")
    .unwrap();
    assert!(!left.is_joined() && left.member().id == "ada", "{left:?}");
    assert!(
        rt.channel("room-1")
            .presence()
            .members()
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        rt.channel("room-2")
            .presence()
            .members()
            .await
            .unwrap()
            .is_empty()
    );
}

async fn past_max_streams_lingering_a_closed_stream_leaves_at_once(kind: BackendKind) {
    let rt = realtime(kind).await;
    // Two streams open at once, and so two lingering at once, at most.
    let sse = endpoint(&rt)
        .presence_linger(Duration::from_secs(600))
        .max_streams(2)
        .build();
    let server = TestServer::serve(&sse).await;
    let mut room = observer(&server, "room-1").await;
    for user in ["ada", "bob", "eve"] {
        let tab = tab(&server, user, &["room-1"]).await;
        assert_eq!(
            next_event(&mut room).await,
            ("presence.joined".to_owned(), change(user, user))
        );
        drop(tab);
        // The place is free again before the next tab connects.
        let deadline = tokio::time::Instant::now() + realtime_tests::PATIENCE;
        while sse.open_streams() != 1 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the closed stream is still open"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    // ada and bob linger; eve found no lingering place left.
    assert_eq!(
        next_event(&mut room).await,
        ("presence.left".to_owned(), change("eve", "eve"))
    );
    expect_only_marker(&rt, &mut room, "room-1", "ada and bob linger").await;
    assert_eq!(
        members(&server, "room-1").await,
        json!([change("ada", "ada"), change("bob", "bob")])
    );
}

async fn a_join_that_fails_refuses_the_stream_and_leaves_nothing(kind: BackendKind) {
    let rt = realtime(kind).await;
    let sse = endpoint(&rt).build();
    let server = TestServer::serve(&sse).await;
    let url = server.url("/api/realtime?channel=room-1&channel=room-2");

    // Info that breaks its schema (a name of at most 40 characters): 422 naming the path.
    let long_name = "n".repeat(41);
    let refused = SseClient::connect_with(
        reqwest::Client::new()
            .get(&url)
            .header("x-user", "ada")
            .header("x-name", &long_name),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = serde_json::from_str(&refused.rest().await).unwrap();
    assert_eq!(
        (&body["event"], &body["path"]),
        (&json!("presence.joined"), &json!("/info/name")),
        "{body}"
    );
    assert_eq!(body["rule"], "maxLength");

    // A member id with a control character: 400 saying what a member id is.
    let refused =
        SseClient::connect_with(reqwest::Client::new().get(&url).header("x-user", "a\tb")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_str(&refused.rest().await).unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("expected 1 to 256 bytes without control characters"),
        "{body}"
    );

    assert_eq!(sse.open_streams(), 0);
    assert_eq!(
        rt.stats().presence_connections,
        0,
        "no guard outlives a refused stream"
    );
    assert_eq!(members(&server, "room-1").await, json!([]));
    assert_eq!(members(&server, "room-2").await, json!([]));
    let history = rt
        .channel("room-1")
        .history(realtime_core::History::last(10))
        .await
        .unwrap();
    assert!(history.is_empty(), "nothing was announced: {history:?}");
}

async fn the_members_route_is_exact_and_authorized_like_the_stream(kind: BackendKind) {
    let rt = realtime(kind).await;
    let sse = endpoint(&rt).build();
    let server = TestServer::serve(&sse).await;
    let ada_1 = tab(&server, "ada", &["room-1"]).await;
    let client = reqwest::Client::new();
    let bob = SseClient::connect_with(
        client
            .get(server.url("/api/realtime?channel=room-1"))
            .header("x-user", "bob")
            .header("x-name", "Bob \"the builder\""),
    )
    .await;
    assert_eq!(bob.status, StatusCode::OK);
    let _ada_2 = tab(&server, "ada", &["room-1", "room-2"]).await;

    let response = client
        .get(server.url("/api/realtime/presence?channel=room-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert_eq!(
        response.text().await.unwrap(),
        r#"[{"member":"ada","info":{"name":"ada"}},{"member":"bob","info":{"name":"Bob \"the builder\""}}]"#
    );
    assert_eq!(
        members(&server, "room-2").await,
        json!([change("ada", "ada")])
    );
    drop(ada_1);
    assert_eq!(
        members(&server, "room-2").await,
        json!([change("ada", "ada")])
    );

    let status_and_error = |request: reqwest::RequestBuilder| async move {
        let response = request.send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    };
    let route = |query: &str| server.url(&format!("/api/realtime/presence{query}"));
    assert_eq!(
        status_and_error(client.get(route("?channel=room-1")).header("x-deny", "1")).await,
        (StatusCode::UNAUTHORIZED, "who are you?".to_owned())
    );
    assert_eq!(
        status_and_error(client.get(route("?channel=private-1"))).await,
        (StatusCode::FORBIDDEN, "`private-1` is private".to_owned())
    );
    let expected =
        json!({ "error": "expected `?channel=<name>`, one channel per request" }).to_string();
    for query in ["", "?channel=room-1&channel=room-2"] {
        assert_eq!(
            status_and_error(client.get(route(query))).await,
            (StatusCode::BAD_REQUEST, expected.clone()),
            "{query}"
        );
    }
    let (status, error) = status_and_error(client.get(route("?channel=a%20b"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error.contains("invalid channel name `a b`"), "{error}");
}

#[tokio::test]
async fn an_event_set_without_presence_has_no_members_route() {
    let sse = RealtimeSse::new(Realtime::<TestEvent>::memory());
    let server = TestServer::serve(&sse).await;
    let response = reqwest::get(server.url("/api/realtime/presence?channel=a"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// An event set whose presence info has no size rule of its own (any string).
#[derive(realtime_core::Events, Clone, Debug, PartialEq)]
enum Board {
    #[event("board.note")]
    Note(String),
    #[event(presence)]
    Presence(realtime_core::PresenceChange<String>),
}

async fn an_oversized_presence_info_is_refused_by_join_and_by_the_stream(kind: BackendKind) {
    let backend = kind.open(StorageOptions::default()).await;
    let rt = Realtime::<Board>::with_backend(std::sync::Arc::clone(&backend));
    let ttl = Duration::from_secs(30);

    // The join API: the default bound, 4 KiB of JSON (a string's two quotes included).
    let board = rt.channel("board").presence();
    let at_bound = "i".repeat(realtime_core::presence::DEFAULT_MAX_PRESENCE_INFO - 2);
    let held = board.join("ada", at_bound, ttl).await.unwrap();
    let too_large = "i".repeat(8 * 1024 * 1024);
    let error = board.join("bob", too_large, ttl).await.unwrap_err();
    assert!(
        matches!(
            error,
            realtime_core::Error::PresenceInfoTooLarge { size, max: 4096, .. } if size == 8 * 1024 * 1024 + 2
        ),
        "{error}"
    );
    assert!(error.to_string().contains("at most 4096"), "{error}");
    let listed: Vec<String> = board
        .members()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(listed, ["ada"], "nothing stored for bob");
    held.leave().await.unwrap();

    // A bound of the app's own, and the SSE path: the hook's info (`x-info-len` bytes) is
    // refused with 413 before anything is stored or announced.
    let bounded = Realtime::<Board>::builder(backend)
        .max_presence_info(64)
        .build();
    let sse = RealtimeSse::builder(bounded.clone())
        .authorize(|request: AuthRequest| async move {
            let length = request
                .headers()
                .get("x-info-len")
                .and_then(|value| value.to_str().ok()?.parse().ok())
                .unwrap_or(0);
            Ok::<_, axum::response::Response>(Access::presence(
                "ada".to_owned(),
                "i".repeat(length),
                request.channels.clone(),
            ))
        })
        .build();
    let server = TestServer::serve(&sse).await;
    let url = server.url("/api/realtime?channel=room-1");
    let stream = |length: usize| {
        SseClient::connect_with(
            reqwest::Client::new()
                .get(&url)
                .header("x-info-len", length.to_string()),
        )
    };
    let refused = stream(63).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = serde_json::from_str(&refused.rest().await).unwrap();
    let text = body["error"].as_str().unwrap();
    assert!(
        text.contains("65 bytes") && text.contains("at most 64"),
        "{text}"
    );
    let room = bounded.channel("room-1");
    assert!(room.presence().members().await.unwrap().is_empty());
    assert!(
        room.history(realtime_core::History::new())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(sse.open_streams(), 0);

    let mut accepted = stream(62).await;
    assert_eq!(accepted.status, StatusCode::OK);
    assert_eq!(accepted.next_json().await["type"], "connected");
}
