//! Who's online across server processes: two `chat` binaries on one Redis (and on a Redis
//! Cluster), with a 3 s presence TTL; ada's page streams from the first, bob's from the
//! second. The first is killed with SIGKILL (it cleans up nothing): bob's stream receives
//! `presence.left` for ada, sent by the survivor once ada's connection expired, and bob
//! stays listed. The time it took is printed (`cargo test -- --nocapture`), not asserted.
//!
//! Needs Redis at `REDIS_URL` (default `redis://127.0.0.1:6379`) and a Redis Cluster at
//! `REDIS_CLUSTER_URL` (default: the one `scripts/cluster start` brings up).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::time::{Duration, Instant};

use example_support::browser_test::ExampleServer;
use example_support::testing::{EventStream, TestClient};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The presence TTL of both servers.
const TTL_SECS: u64 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_servers_members_leave_within_the_ttl_over_redis() {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    killed_servers_members_leave(&redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_servers_members_leave_within_the_ttl_over_a_redis_cluster() {
    let cluster = std::env::var("REDIS_CLUSTER_URL").unwrap_or_else(|_| {
        "redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103".to_owned()
    });
    killed_servers_members_leave(&cluster).await;
}

/// A fresh key prefix: this run's rooms and members only, whatever earlier runs left.
fn unique_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    format!("chat-presence-{}-{nanos}:", std::process::id())
}

/// Starts a `chat` server on `redis` under `prefix`, without a frontend.
async fn server(redis: &str, prefix: &str) -> ExampleServer {
    let ttl = TTL_SECS.to_string();
    let envs = [
        ("REDIS_URL", redis.to_owned()),
        ("REDIS_PREFIX", prefix.to_owned()),
        ("PRESENCE_TTL_SECS", ttl),
        (
            "CHAT_WEB_DIR",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/no-frontend").to_owned(),
        ),
    ];
    tokio::task::spawn_blocking(move || {
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        ExampleServer::start(env!("CARGO_BIN_EXE_chat"), "chat", &envs)
    })
    .await
    .unwrap()
}

fn online(name: &str) -> Value {
    json!({ "member": name, "info": { "name": name } })
}

/// The member ids of the `presence.*` events `stream` has received so far, in order.
fn changes(frames: &[Value], event: &str) -> Vec<String> {
    frames
        .iter()
        .filter(|frame| frame["event"] == event)
        .filter_map(|frame| frame["data"]["member"].as_str().map(str::to_owned))
        .collect()
}

async fn room_stream(server: &TestClient, name: &str) -> EventStream {
    let cookie = format!("chat_name={name}");
    let mut stream = server.stream(Some(&cookie), "channel=room-general").await;
    assert_eq!(stream.status(), StatusCode::OK);
    stream.wait_for("connected", 1).await;
    stream
}

async fn killed_servers_members_leave(redis: &str) {
    let prefix = unique_prefix();
    let mut first = server(redis, &prefix).await;
    let second = server(redis, &prefix).await;
    let (a, b) = (
        TestClient::connect(&first.url),
        TestClient::connect(&second.url),
    );

    let _ada = room_stream(&a, "ada").await;
    let mut bob = room_stream(&b, "bob").await;
    // Each server lists both, whichever holds the connection.
    for server in [&a, &b] {
        let (status, members) = server
            .get(
                Some("chat_name=bob"),
                "/api/realtime/presence?channel=room-general",
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(members, json!([online("ada"), online("bob")]));
    }

    first.kill();
    let killed = Instant::now();
    let frames = bob
        .events_until(|frames| !changes(frames, "presence.left").is_empty())
        .await;
    let elapsed = killed.elapsed();
    println!("ada left {elapsed:?} after her server was killed (TTL {TTL_SECS} s)");
    assert_eq!(changes(&frames, "presence.left"), ["ada"], "{}", bob.seen());
    // The room's history replays ada's join, then bob's own comes live.
    assert_eq!(
        changes(&frames, "presence.joined"),
        ["ada", "bob"],
        "{}",
        bob.seen()
    );
    let (_, members) = b
        .get(
            Some("chat_name=bob"),
            "/api/realtime/presence?channel=room-general",
        )
        .await;
    assert_eq!(members, json!([online("bob")]));
    // Bob's heartbeats go on: he is still listed well past the TTL.
    tokio::time::sleep(Duration::from_secs(TTL_SECS + 1)).await;
    let (_, members) = b
        .get(
            Some("chat_name=bob"),
            "/api/realtime/presence?channel=room-general",
        )
        .await;
    assert_eq!(members, json!([online("bob")]));
}
