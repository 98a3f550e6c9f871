//! Presence over the SSE endpoint, on both backends: browser connections that the
//! presence hook names become members while their stream is open, every connection on the
//! channel receives `presence.joined` / `presence.left` as ordinary event frames with
//! stream ids, two tabs of one user are one member, and `<path>/members` lists the
//! members, authorized like the stream. And a process holding members killed with
//! SIGKILL: its members are gone within the TTL, each announced once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test panics

use std::time::Duration;

use axum::response::IntoResponse;
use http::StatusCode;
use realtime_axum::{AuthRequest, RealtimeSse};
use realtime_core::backend::conformance::{RoomEvent, Visitor};
use realtime_core::channel::ChannelName;
use realtime_core::{Member, Realtime};
use realtime_tests::sse::{SseClient, TestServer};
use realtime_tests::{BackendKind, StorageOptions, TestEvent, for_each_backend};
use serde_json::{Value, json};

for_each_backend!(
    stream_connections_are_members_and_everyone_sees_joins_and_leaves,
    the_members_route_is_authorized_like_the_stream,
);

/// The endpoint of the tests: the user is the `x-user` header; rooms (`room-*`) track
/// presence, other channels do not; `room-private` is refused to everyone but `ada`.
async fn endpoint(kind: BackendKind) -> (RealtimeSse<RoomEvent>, TestServer) {
    let backend = kind.open(StorageOptions::default()).await;
    let sse = RealtimeSse::builder(Realtime::<RoomEvent>::with_backend(backend))
        .authorize(|request: AuthRequest| {
            let user = request
                .headers()
                .get("x-user")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let private = request.channels.iter().any(|c| c == "room-private");
            async move {
                match user {
                    None => Err(StatusCode::UNAUTHORIZED.into_response()),
                    Some(user) if private && user != "ada" => {
                        Err(StatusCode::FORBIDDEN.into_response())
                    }
                    Some(_) => Ok(()),
                }
            }
        })
        .presence(|request: &AuthRequest, channel: &ChannelName| {
            let user = request.headers().get("x-user")?.to_str().ok()?;
            channel.starts_with("room-").then(|| Member {
                id: user.to_owned(),
                info: Visitor {
                    name: user.to_uppercase(),
                },
            })
        })
        .build();
    let server = TestServer::serve(&sse).await;
    (sse, server)
}

async fn connect(server: &TestServer, user: &str, query: &str) -> SseClient {
    let request = reqwest::Client::new()
        .get(server.url(&format!("/api/realtime?{query}")))
        .header("x-user", user);
    let client = SseClient::connect_with(request).await;
    assert_eq!(client.status, 200, "{user} connects");
    client
}

async fn members(server: &TestServer, user: &str, channel: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(server.url(&format!("/api/realtime/members?channel={channel}")))
        .header("x-user", user)
        .send()
        .await
        .unwrap();
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

/// The next frame that is not `connected`.
async fn next_event(client: &mut SseClient) -> Value {
    loop {
        let frame = client.next_json().await;
        if frame["type"] != "connected" {
            return frame;
        }
    }
}

fn assert_change(frame: &Value, event: &str, member: &str) {
    assert_eq!(frame["event"], event, "{frame}");
    assert_eq!(frame["channel"], "room-1", "{frame}");
    assert_eq!(
        frame["data"],
        json!({"member": member, "info": {"name": member.to_uppercase()}}),
        "{frame}"
    );
    let id = frame["id"].as_str().unwrap();
    assert!(
        id.parse::<realtime_core::Cursor>().is_ok(),
        "a stream id: {id}"
    );
}

async fn stream_connections_are_members_and_everyone_sees_joins_and_leaves(kind: BackendKind) {
    let (_sse, server) = endpoint(kind).await;
    let mut ada = connect(&server, "ada", "channel=room-1&channel=lobby").await;
    assert_change(&next_event(&mut ada).await, "presence.joined", "ada");

    let mut bob = connect(&server, "bob", "channel=room-1").await;
    assert_change(&next_event(&mut bob).await, "presence.joined", "bob");
    assert_change(&next_event(&mut ada).await, "presence.joined", "bob");
    let (status, listed) = members(&server, "ada", "room-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed,
        json!({"channel": "room-1", "members": [
            {"member": "ada", "info": {"name": "ADA"}},
            {"member": "bob", "info": {"name": "BOB"}},
        ]})
    );
    let (_, lobby) = members(&server, "ada", "lobby").await;
    assert_eq!(
        lobby["members"],
        json!([]),
        "the lobby does not track presence"
    );

    // A second tab of bob is the same member: nothing announced when it opens or closes.
    let bob_tab = connect(&server, "bob", "channel=room-1").await;
    drop(bob_tab);
    drop(bob);
    assert_change(&next_event(&mut ada).await, "presence.left", "bob");
    let (_, listed) = members(&server, "ada", "room-1").await;
    assert_eq!(listed["members"].as_array().unwrap().len(), 1);
    let quiet = tokio::time::timeout(Duration::from_millis(300), ada.next_json()).await;
    assert!(quiet.is_err(), "nothing more: {quiet:?}");
}

async fn the_members_route_is_authorized_like_the_stream(kind: BackendKind) {
    let (_sse, server) = endpoint(kind).await;
    let _ada = connect(&server, "ada", "channel=room-private").await;
    let (status, listed) = members(&server, "ada", "room-private").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["members"][0]["member"], "ada");
    let (status, _) = members(&server, "bob", "room-private").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let response = reqwest::Client::new()
        .get(server.url("/api/realtime/members?channel=room-private"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "no user");
    let (status, body) = members(&server, "ada", "bad%20name").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let response = reqwest::Client::new()
        .get(server.url("/api/realtime/members?channel=room-1&channel=room-2"))
        .header("x-user", "ada")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "one channel at a time");

    // An event set without presence has no members route.
    let plain = RealtimeSse::new(Realtime::<TestEvent>::with_backend(
        kind.open(StorageOptions::default()).await,
    ));
    let plain = TestServer::serve(&plain).await;
    let response = reqwest::get(plain.url("/api/realtime/members?channel=room-1"))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

/// A real process (`presence-member`) joins members over Redis and is killed with
/// SIGKILL: no leave is sent. Its lease expires after the TTL; a process following the
/// channel's changes (this test) sweeps it and announces each member gone exactly once,
/// while a member of a live process stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_members_of_a_killed_process_are_gone_within_the_ttl_and_announced_once() {
    use futures::StreamExt;
    use std::process::Stdio;
    use tokio::io::AsyncBufReadExt;

    const MEMBERS: usize = 5;
    let ttl = Duration::from_secs(2);
    let prefix = realtime_tests::unique_prefix();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_presence-member"))
        .args(["--redis", &realtime_tests::redis_url(), "--prefix", &prefix])
        .args(["--channel", "room-1", "--members", &MEMBERS.to_string()])
        .args(["--ttl-ms", &ttl.as_millis().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the presence-member binary runs");
    let backend = realtime_core::backend::redis::RedisBackend::connect_with(
        &realtime_tests::redis_url(),
        realtime_core::backend::redis::RedisOptions::default().key_prefix(&prefix),
    )
    .await
    .unwrap();
    let rt = Realtime::<RoomEvent>::with_backend(backend);
    let room = rt.channel("room-1").presence();
    let mut changes = room.changes().await.unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the child joins in time")
        .unwrap();
    assert_eq!(ready.as_deref(), Some(format!("joined {MEMBERS}").as_str()));
    let survivor = room
        .join(
            "survivor",
            Visitor {
                name: "Stays".into(),
            },
            ttl,
        )
        .await
        .unwrap();
    assert_eq!(room.members().await.unwrap().len(), MEMBERS + 1);
    for _ in 0..=MEMBERS {
        let joined = tokio::time::timeout(Duration::from_secs(10), changes.next()).await;
        assert!(
            matches!(joined, Ok(Some(realtime_core::PresenceChange::Joined(_)))),
            "{joined:?}"
        );
    }

    let pid = child.id().expect("the child runs");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let killed_at = std::time::Instant::now();
    let _ = child.wait().await;

    // Within the TTL plus one sweep of this process (its heartbeat, every ttl / 3, sweeps
    // the channel), plus a margin for a loaded machine.
    let mut gone = std::collections::BTreeSet::new();
    let limit = ttl + ttl / 3 + Duration::from_secs(3);
    while gone.len() < MEMBERS {
        let left = tokio::time::timeout(limit.saturating_sub(killed_at.elapsed()), changes.next())
            .await
            .unwrap_or_else(|_| panic!("only {gone:?} left within {limit:?} of the kill"));
        match left {
            Some(realtime_core::PresenceChange::Left(member)) => {
                assert!(
                    gone.insert(member.id.clone()),
                    "{} announced twice",
                    member.id
                );
            }
            other => panic!("unexpected change {other:?}"),
        }
    }
    assert!(
        killed_at.elapsed() >= ttl / 2,
        "not before the lease could expire"
    );
    let extra = tokio::time::timeout(Duration::from_secs(1), changes.next()).await;
    assert!(extra.is_err(), "announced once: {extra:?}");
    assert_eq!(
        room.members().await.unwrap(),
        [Member {
            id: "survivor".into(),
            info: Visitor {
                name: "Stays".into()
            }
        }]
    );
    let history = rt
        .channel("room-1")
        .history(realtime_core::History::new())
        .await
        .unwrap();
    let departures = history
        .iter()
        .filter(|envelope| {
            matches!(
                envelope.event,
                RoomEvent::Presence(realtime_core::PresenceChange::Left(_))
            )
        })
        .count();
    assert_eq!(
        departures, MEMBERS,
        "one presence.left per member in the stream"
    );
    drop(survivor);
}
