//! The chat's routes over a real socket: the name cookie, private rooms (403), message
//! validation (422, nothing stored), history, and the SSE stream carrying the messages.

use std::time::Duration;

use chat::{ChatConfig, ChatEvent};
use example_support::testing::TestClient;
use realtime_core::Realtime;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn start() -> TestClient {
    TestClient::start(chat::app(Realtime::<ChatEvent>::memory(), None).router).await
}

/// The app with pages that leave the moment they close (no linger).
async fn start_without_linger() -> TestClient {
    let config = ChatConfig {
        presence_linger: Duration::ZERO,
        ..ChatConfig::default()
    };
    TestClient::start(chat::app_with(Realtime::<ChatEvent>::memory(), config).router).await
}

/// Chooses `name` and returns the cookie the server set.
async fn sign_in(server: &TestClient, name: &str) -> String {
    server.sign_in("/api/name", json!({ "name": name })).await
}

#[tokio::test]
async fn the_name_cookie_is_set_once_and_needed_everywhere() {
    let server = start().await;
    let (status, body) = server.get(None, "/api/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("choose a name"),
        "{body}"
    );
    let (status, _) = server.get(None, "/api/rooms").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let cookie = sign_in(&server, "ada").await;
    assert_eq!(cookie, "chat_name=ada");
    let (status, body) = server.get(Some(&cookie), "/api/me").await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "name": "ada" })));

    let response = server
        .http()
        .post(server.url("/api/name"))
        .json(&json!({ "name": "no spaces; please" }))
        .send()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.headers().get("set-cookie").is_none());

    let (status, rooms) = server.get(Some(&cookie), "/api/rooms").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = rooms
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|room| room["room"].as_str())
        .collect();
    assert_eq!(names, ["general", "random"]);
}

#[tokio::test]
async fn messages_are_validated_and_nothing_refused_is_stored() {
    let server = start().await;
    let ada = sign_in(&server, "ada").await;
    let path = "/api/rooms/general/messages";

    let (status, body) = server
        .post(Some(&ada), path, json!({ "text": "hello" }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, body) = server.post(Some(&ada), path, json!({ "text": "" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"], "the message is empty");
    assert_eq!(
        (&body["path"], &body["rule"]),
        (&json!("/text"), &json!("minLength"))
    );

    let long = "é".repeat(501);
    let (status, body) = server.post(Some(&ada), path, json!({ "text": long })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"],
        "the message is too long: at most 500 characters"
    );
    assert_eq!(body["rule"], "maxLength");

    // 500 characters (1,000 bytes) is at the limit, and allowed.
    let (status, _) = server
        .post(Some(&ada), path, json!({ "text": "é".repeat(500) }))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, history) = server.get(Some(&ada), "/api/rooms/general/history").await;
    assert_eq!(status, StatusCode::OK);
    let texts: Vec<usize> = history
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            entry["data"]["text"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .count()
        })
        .collect();
    assert_eq!(
        texts,
        [5, 500],
        "only the valid messages are stored: {history}"
    );

    let (status, body) = server
        .post(
            Some(&ada),
            "/api/rooms/nowhere/messages",
            json!({ "text": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

/// Ada writes `m0` to `m59` in `random`, each after a typing notice; her cookie.
async fn sixty_messages_in_random(server: &TestClient) -> String {
    let ada = sign_in(server, "ada").await;
    for n in 0..60 {
        server
            .post(Some(&ada), "/api/rooms/random/typing", json!({}))
            .await;
        let (status, _) = server
            .post(
                Some(&ada),
                "/api/rooms/random/messages",
                json!({ "text": format!("m{n}") }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    ada
}

#[tokio::test]
async fn history_is_the_last_fifty_in_order() {
    let server = start().await;
    let ada = sixty_messages_in_random(&server).await;
    let (_, history) = server.get(Some(&ada), "/api/rooms/random/history").await;
    let entries = history.as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 50);
    assert_eq!(entries[0]["data"]["text"], "m10");
    assert_eq!(entries[49]["data"]["text"], "m59");
    assert_eq!(entries[49]["event"], "chat.message");
    assert_eq!(entries[49]["data"]["author"], "ada");
    assert_eq!(entries[49]["data"]["room"], "random");

    // `before` (a millisecond, inclusive) cuts the history where the page's replay starts.
    let first_ms: u64 = entries[0]["id"]
        .as_str()
        .and_then(|id| id.split('-').next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_default();
    let (_, earlier) = server
        .get(
            Some(&ada),
            &format!("/api/rooms/random/history?before={}", first_ms - 1),
        )
        .await;
    assert!(
        earlier
            .as_array()
            .into_iter()
            .flatten()
            .all(|entry| entry["id"].as_str() < entries[0]["id"].as_str()),
        "{earlier}"
    );
    let (_, none) = server
        .get(Some(&ada), "/api/rooms/random/history?before=0")
        .await;
    assert_eq!(none, json!([]));
}

#[tokio::test]
async fn private_rooms_refuse_names_not_invited() {
    let server = start().await;
    let ada = sign_in(&server, "ada").await;
    let bob = sign_in(&server, "bob").await;
    let eve = sign_in(&server, "eve").await;

    let (status, body) = server
        .post(
            Some(&ada),
            "/api/rooms",
            json!({ "room": "secret", "private": true, "members": ["bob"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["members"], json!(["ada", "bob"]));
    let (status, _) = server
        .post(Some(&eve), "/api/rooms", json!({ "room": "secret" }))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = server
        .post(Some(&eve), "/api/rooms", json!({ "room": "bad name!" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, _) = server
        .post(
            Some(&bob),
            "/api/rooms/secret/messages",
            json!({ "text": "psst" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // Eve sees that the room exists, but may not read or write it.
    let (_, rooms) = server.get(Some(&eve), "/api/rooms").await;
    let secret = rooms
        .as_array()
        .into_iter()
        .flatten()
        .find(|room| room["room"] == "secret")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (&secret["private"], &secret["canRead"]),
        (&json!(true), &json!(false))
    );

    let (status, body) = server.get(Some(&eve), "/api/rooms/secret/history").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["error"],
        "`secret` is a private room: only invited names may read it, and `eve` is not invited"
    );
    let (status, _) = server
        .post(
            Some(&eve),
            "/api/rooms/secret/messages",
            json!({ "text": "hi" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The event stream refuses too, before it starts, with the same message.
    let (status, body) = server
        .get(
            Some(&eve),
            "/api/realtime?channel=room-general&channel=room-secret",
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("private room"),
        "{body}"
    );
    let (status, _) = server.get(None, "/api/realtime?channel=room-general").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = server.get(Some(&eve), "/api/realtime?channel=other").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, history) = server.get(Some(&bob), "/api/rooms/secret/history").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history[0]["data"]["text"], "psst");
}

#[tokio::test]
async fn the_event_stream_carries_messages_typing_and_who_is_online() {
    let server = start_without_linger().await;
    let ada = sign_in(&server, "ada").await;
    let bob = sign_in(&server, "bob").await;

    let mut stream = server
        .stream(Some(&bob), "channel=room-general&channel=typing-general")
        .await;
    assert_eq!(stream.status(), StatusCode::OK);
    // Wait until both subscriptions are live.
    stream.wait_for("connected", 2).await;
    // Bob's own page is online in the room (not in the typing channel).
    stream.wait_for("presence.joined", 1).await;

    // Ada's page opens the room (two tabs: one member), she types and writes, and closes both.
    let mut tabs = Vec::new();
    for _ in 0..2 {
        let mut tab = server.stream(Some(&ada), "channel=room-general").await;
        tab.wait_for("connected", 1).await;
        tabs.push(tab);
    }
    let (_, online) = server
        .get(Some(&bob), "/api/realtime/presence?channel=room-general")
        .await;
    assert_eq!(
        online,
        json!([
            { "member": "ada", "info": { "name": "ada" } },
            { "member": "bob", "info": { "name": "bob" } },
        ])
    );
    for (path, body) in [
        ("typing", json!({})),
        ("messages", json!({ "text": "hello bob" })),
        ("messages", json!({ "text": "" })),
    ] {
        server
            .post(Some(&ada), &format!("/api/rooms/general/{path}"), body)
            .await;
    }
    stream.wait_for("hello bob", 1).await;
    drop(tabs);

    let frames = stream
        .events_until(|frames| frames.iter().any(|frame| frame["event"] == "presence.left"))
        .await;
    let seen = stream.seen();
    let events = |channel: &str| -> Vec<(String, Value)> {
        frames
            .iter()
            .filter(|frame| frame["channel"] == channel)
            .filter_map(|frame| Some((frame["event"].as_str()?.to_owned(), frame["data"].clone())))
            .collect()
    };
    let online = |name: &str| json!({ "member": name, "info": { "name": name } });
    assert_eq!(
        events("room-general"),
        [
            ("presence.joined".to_owned(), online("bob")),
            ("presence.joined".to_owned(), online("ada")),
            (
                "chat.message".to_owned(),
                json!({ "room": "general", "author": "ada", "text": "hello bob" })
            ),
            ("presence.left".to_owned(), online("ada")),
        ],
        "{seen}"
    );
    // Typing notices have their own channel, so they never crowd messages out of history.
    assert_eq!(
        events("typing-general"),
        [(
            "chat.typing".to_owned(),
            json!({ "room": "general", "author": "ada" })
        )],
        "{seen}"
    );
    let (_, online_now) = server
        .get(Some(&bob), "/api/realtime/presence?channel=room-general")
        .await;
    assert_eq!(online_now, json!([online("bob")]));
}

#[tokio::test]
async fn who_is_online_is_authorized_like_the_stream() {
    let server = start().await;
    let ada = sign_in(&server, "ada").await;
    let eve = sign_in(&server, "eve").await;
    let (status, _) = server
        .post(
            Some(&ada),
            "/api/rooms",
            json!({ "room": "secret", "private": true }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let route = "/api/realtime/presence?channel=room-secret";
    let (status, body) = server.get(None, route).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = server.get(Some(&eve), route).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("private room"),
        "{body}"
    );
    let (status, body) = server.get(Some(&ada), route).await;
    assert_eq!((status, body), (StatusCode::OK, json!([])));
}

/// Reads SSE frames until `done` holds for the user events seen.
async fn read_events(
    server: &TestClient,
    cookie: &str,
    query: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let mut stream = server.stream(Some(cookie), query).await;
    assert_eq!(stream.status(), StatusCode::OK);
    stream.events_until(done).await
}

#[tokio::test]
async fn joining_a_room_replays_its_last_fifty_messages_through_the_stream() {
    let server = start().await;
    let ada = sixty_messages_in_random(&server).await;
    // What the browser client sends for a channel it has no cursor for: the millisecond
    // its page connected (here: now). The room replays its last 50 messages anyway; the
    // typing channel replays nothing.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or_default();
    let query = format!(
        "channel=room-random&channel=typing-random&last_ack_room-random={now}&last_ack_typing-random={now}"
    );
    let events = read_events(&server, &ada, &query, |events| {
        events.iter().any(|event| event["data"]["text"] == "m59")
    })
    .await;
    let texts: Vec<&str> = events
        .iter()
        .filter_map(|event| event["data"]["text"].as_str())
        .collect();
    let expected: Vec<String> = (10..60).map(|n| format!("m{n}")).collect();
    assert_eq!(texts, expected);
    assert!(
        events.iter().all(|event| event["channel"] == "room-random"),
        "{events:?}"
    );

    // A client resuming from an id gets what follows it, and nothing earlier.
    let m57 = events[47]["id"].as_str().unwrap_or_default().to_owned();
    let query = format!("channel=room-random&last_ack_room-random={m57}");
    let resumed = read_events(&server, &ada, &query, |events| {
        events.iter().any(|event| event["data"]["text"] == "m59")
    })
    .await;
    let texts: Vec<&str> = resumed
        .iter()
        .filter_map(|event| event["data"]["text"].as_str())
        .collect();
    assert_eq!(texts, ["m58", "m59"]);
}

#[tokio::test]
async fn rooms_and_invitations_are_bounded() {
    let server = start().await;
    let ada = sign_in(&server, "ada").await;
    let crowd: Vec<String> = (0..chat::MAX_MEMBERS)
        .map(|n| format!("guest{n}"))
        .collect();
    let (status, body) = server
        .post(
            Some(&ada),
            "/api/rooms",
            json!({ "room": "crowded", "private": true, "members": crowd }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("at most 50 names"),
        "{body}"
    );

    for n in 0..chat::MAX_ROOMS {
        let (status, body) = server
            .post(Some(&ada), "/api/rooms", json!({ "room": format!("r{n}") }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "room {n}: {body}");
    }
    let (status, body) = server
        .post(Some(&ada), "/api/rooms", json!({ "room": "one-more" }))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("500 rooms"),
        "{body}"
    );
    let (_, rooms) = server.get(Some(&ada), "/api/rooms").await;
    let listed = rooms.as_array().map_or(0, Vec::len);
    assert_eq!(
        listed,
        chat::MAX_ROOMS + 2,
        "every created room is still listed"
    );
}
