//! What only the Redis backend does: the reference's byte formats, data written by others,
//! several processes over one Redis, one pub/sub connection, and surviving a killed pub/sub
//! connection and a Redis restart. What every backend must do is the conformance suite (`conformance.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test panics

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;
use realtime_core::backend::redis::{KeyLayout, RedisBackend, RedisOptions, Trim};
use realtime_core::{Cursor, Error, Events, History, Realtime};
use realtime_tests::{
    PATIENCE, PrivateRedis, TestEvent, assert_quiet, raw_connection, redis_backend, redis_url,
    take, unique_prefix,
};

/// Events shaped like the reference's documentation examples.
#[derive(Events, Clone, Debug, PartialEq)]
enum RefEvent {
    #[event("notification.alert")]
    Alert(String),
    #[event("chat.message")]
    Message { text: String, n: u32 },
    #[event("counter.tick")]
    Tick(u32),
    #[event("flag.set")]
    Flag(bool),
    #[event("code.sent")]
    Code(String),
}

/// A channel name no other test uses, for the reference layout (bare keys).
fn unique_channel(name: &str) -> String {
    format!(
        "{name}-{}",
        unique_prefix().replace(':', "-").trim_end_matches('-')
    )
}

async fn reference_backend() -> RedisBackend {
    let options = RedisOptions::default()
        .key_layout(KeyLayout::Reference)
        .expire_after(Duration::from_secs(600));
    RedisBackend::connect_with(&redis_url(), options)
        .await
        .unwrap()
}

/// Subscribes a raw pub/sub connection, returning its message stream.
async fn raw_subscriber(url: &str, channel: &str) -> redis::aio::PubSubStream {
    let client = redis::Client::open(url).unwrap();
    let (mut sink, stream) = client.get_async_pubsub().await.unwrap().split();
    sink.subscribe(channel).await.unwrap();
    // The sink must outlive the test's reads; leaking it keeps the subscription open.
    std::mem::forget(sink);
    stream
}

async fn next_payload(stream: &mut redis::aio::PubSubStream) -> String {
    let message = tokio::time::timeout(PATIENCE, stream.next())
        .await
        .unwrap()
        .unwrap();
    String::from_utf8(message.get_payload_bytes().to_vec()).unwrap()
}

async fn raw_fields(url: &str, key: &str) -> Vec<(String, Vec<String>)> {
    let mut connection = raw_connection(url).await;
    let reply: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
        .arg(key)
        .arg("-")
        .arg("+")
        .query_async(&mut connection)
        .await
        .unwrap();
    reply
}

#[tokio::test]
async fn reference_layout_writes_the_reference_bytes() {
    let channel = unique_channel("room");
    let rt = Realtime::<RefEvent>::with_backend(reference_backend().await);
    let mut published = raw_subscriber(&redis_url(), &channel).await;
    let room = rt.channel(channel.clone());

    let alert = room
        .emit(&RefEvent::Alert("hi \"you\" / ü".into()))
        .await
        .unwrap();
    let message = room
        .emit(&RefEvent::Message {
            text: "hello".into(),
            n: 7,
        })
        .await
        .unwrap();

    assert_eq!(
        next_payload(&mut published).await,
        format!(
            r#"{{"data":"hi \"you\" / ü","event":"notification.alert","channel":"{channel}","id":"{alert}"}}"#
        )
    );
    assert_eq!(
        next_payload(&mut published).await,
        format!(
            r#"{{"data":{{"text":"hello","n":7}},"event":"chat.message","channel":"{channel}","id":"{message}"}}"#
        )
    );
    // The stream key is the bare channel name; fields in the reference's order; data is
    // always JSON text (a string keeps its quotes), its keys in declaration order as the
    // reference's `JSON.stringify` keeps an object's.
    let entries = raw_fields(&redis_url(), &channel).await;
    assert_eq!(
        entries,
        [
            (
                alert.to_string(),
                vec![
                    "data".into(),
                    r#""hi \"you\" / ü""#.into(),
                    "event".into(),
                    "notification.alert".into(),
                    "channel".into(),
                    channel.clone()
                ],
            ),
            (
                message.to_string(),
                vec![
                    "data".into(),
                    r#"{"text":"hello","n":7}"#.into(),
                    "event".into(),
                    "chat.message".into(),
                    "channel".into(),
                    channel.clone()
                ],
            ),
        ]
    );
}

#[tokio::test]
async fn prefixed_layout_keeps_channels_under_the_prefix() {
    let prefix = unique_prefix();
    let backend = RedisBackend::connect_with(
        &redis_url(),
        RedisOptions::default()
            .key_prefix(prefix.clone())
            .expire_after(Duration::from_secs(600)),
    )
    .await
    .unwrap();
    let rt = Realtime::<TestEvent>::with_backend(backend);
    let mut published = raw_subscriber(&redis_url(), &format!("{prefix}lobby")).await;
    let id = rt.channel("lobby").emit(&TestEvent::Tick(3)).await.unwrap();
    assert_eq!(
        next_payload(&mut published).await,
        // Only our servers read this layout: the channel is the pub/sub channel's.
        format!(r#"{{"data":3,"event":"counter.tick","id":"{id}"}}"#)
    );
    let entries = raw_fields(&redis_url(), &format!("{prefix}lobby")).await;
    assert_eq!(entries.len(), 1);
    let mut connection = raw_connection(&redis_url()).await;
    let bare: i64 = redis::cmd("EXISTS")
        .arg("lobby")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(bare, 0, "nothing is written outside the prefix");
}

#[tokio::test]
async fn max_len_trims_and_expiry_is_refreshed_in_the_same_step() {
    for (trim, expected_max) in [(Trim::Exact, 3), (Trim::Approximate, 1_000)] {
        let prefix = unique_prefix();
        let options = RedisOptions::default()
            .key_prefix(prefix.clone())
            .max_len(3)
            .trim(trim)
            .expire_after(Duration::from_secs(120));
        let rt = Realtime::<TestEvent>::with_backend(
            RedisBackend::connect_with(&redis_url(), options)
                .await
                .unwrap(),
        );
        for n in 0..10 {
            rt.emit(&TestEvent::Tick(n)).await.unwrap();
        }
        let mut connection = raw_connection(&redis_url()).await;
        let key = format!("{prefix}default");
        let length: usize = redis::cmd("XLEN")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!((3..=expected_max).contains(&length), "{trim:?}: {length}");
        let ttl: i64 = redis::cmd("TTL")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        // `expire_after` plus the 1 s a process may wait before refreshing it again.
        assert!((100..=121).contains(&ttl), "TTL {ttl}");
    }
}

#[tokio::test]
async fn entries_written_by_the_reference_decode_with_the_schema() {
    let channel = unique_channel("ref-writer");
    let rt = Realtime::<RefEvent>::with_backend(reference_backend().await);
    let room = rt.channel(channel.clone());
    let mut live = room.subscribe_all().await.unwrap();
    let mut connection = raw_connection(&redis_url()).await;
    // What the reference's emit does: XADD with data as plain text for strings, numbers
    // and booleans, then PUBLISH the JSON message with the id.
    let written: [(&str, &str, serde_json::Value); 5] = [
        (
            "notification.alert",
            "hi there",
            serde_json::json!("hi there"),
        ),
        ("code.sent", "123", serde_json::json!("123")),
        ("counter.tick", "5", serde_json::json!(5)),
        ("flag.set", "true", serde_json::json!(true)),
        (
            "chat.message",
            r#"{"text":"x","n":2}"#,
            serde_json::json!({"text": "x", "n": 2}),
        ),
    ];
    for (event, stored, data) in &written {
        let id: String = redis::cmd("XADD")
            .arg(&channel)
            .arg("*")
            .arg("data")
            .arg(*stored)
            .arg("event")
            .arg(*event)
            .arg("channel")
            .arg(&channel)
            .query_async(&mut connection)
            .await
            .unwrap();
        let message =
            serde_json::json!({ "data": data, "event": event, "channel": channel, "id": id });
        let _: i64 = redis::cmd("PUBLISH")
            .arg(&channel)
            .arg(message.to_string())
            .query_async(&mut connection)
            .await
            .unwrap();
    }
    // The reference's keepalive goes through the same pub/sub channel: not an event.
    let _: i64 = redis::cmd("PUBLISH")
        .arg(&channel)
        .arg(r#"{"type":"ping","timestamp":1732712345678}"#)
        .query_async(&mut connection)
        .await
        .unwrap();
    let expected = [
        RefEvent::Alert("hi there".into()),
        RefEvent::Code("123".into()),
        RefEvent::Tick(5),
        RefEvent::Flag(true),
        RefEvent::Message {
            text: "x".into(),
            n: 2,
        },
    ];
    let received: Vec<RefEvent> = take(&mut live, 5)
        .await
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    assert_eq!(received, expected);
    let history: Vec<RefEvent> = room
        .history(History::new())
        .await
        .unwrap()
        .into_iter()
        .map(|envelope| envelope.event)
        .collect();
    assert_eq!(
        history, expected,
        "the stream's plain-text data decodes like the live JSON"
    );
    assert_eq!(rt.stats().rejected, 0);
}

#[tokio::test]
async fn malformed_entries_are_counted_and_the_subscription_goes_on() {
    let backend =
        redis_backend(RedisOptions::default().expire_after(Duration::from_secs(600))).await;
    let key = backend.stream_key("messy");
    let pubsub_channel = backend.pubsub_channel("messy");
    let rt = Realtime::<TestEvent>::with_backend(backend);
    let room = rt.channel("messy");
    let mut live = room.subscribe_all().await.unwrap();
    let mut connection = raw_connection(&redis_url()).await;
    let bad_entries: [&[(&str, &str)]; 4] = [
        &[("event", "counter.tick")],                    // no data
        &[("data", "1")],                                // no event
        &[("data", "{oops"), ("event", "counter.tick")], // not JSON
        &[("data", "1"), ("event", "counter.reset")],    // unknown event
    ];
    for fields in bad_entries {
        let mut command = redis::cmd("XADD");
        command.arg(&key).arg("*");
        for (field, value) in fields {
            command.arg(*field).arg(*value);
        }
        let _: String = command.query_async(&mut connection).await.unwrap();
    }
    // A garbled live message makes the feed catch up from the stream instead.
    let _: i64 = redis::cmd("PUBLISH")
        .arg(&pubsub_channel)
        .arg("garbage")
        .query_async(&mut connection)
        .await
        .unwrap();
    let good = room.emit(&TestEvent::Tick(9)).await.unwrap();
    assert_eq!(take(&mut live, 1).await, [(good, TestEvent::Tick(9))]);
    assert_quiet(&mut live).await;
    assert_eq!(rt.stats().rejected, 4, "{:?}", rt.stats());
    let history = room.history(History::new()).await.unwrap();
    assert_eq!(history.len(), 1);
}

#[tokio::test]
async fn two_processes_over_one_redis_see_each_others_events() {
    let options = RedisOptions::default()
        .key_prefix(unique_prefix())
        .expire_after(Duration::from_secs(600));
    // Two backends: separate command and pub/sub connections, as two processes have.
    let a = Realtime::<TestEvent>::with_backend(
        RedisBackend::connect_with(&redis_url(), options.clone())
            .await
            .unwrap(),
    );
    let b = Realtime::<TestEvent>::with_backend(
        RedisBackend::connect_with(&redis_url(), options)
            .await
            .unwrap(),
    );
    let mut on_a = a.channel("room").subscribe_all().await.unwrap();
    let mut on_b = b.channel("room").subscribe_all().await.unwrap();
    let from_a = a.channel("room").emit(&TestEvent::Tick(1)).await.unwrap();
    let from_b = b.channel("room").emit(&TestEvent::Tick(2)).await.unwrap();
    let expected = [(from_a, TestEvent::Tick(1)), (from_b, TestEvent::Tick(2))];
    assert_eq!(take(&mut on_a, 2).await, expected);
    assert_eq!(take(&mut on_b, 2).await, expected);
    let resumed = b
        .channel("room")
        .subscribe_all()
        .after(from_a)
        .await
        .unwrap();
    let mut resumed = resumed;
    assert_eq!(take(&mut resumed, 1).await, [(from_b, TestEvent::Tick(2))]);
}

async fn pubsub_clients(connection: &mut redis::aio::MultiplexedConnection) -> usize {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(connection)
        .await
        .unwrap();
    list.lines().filter(|line| !line.trim().is_empty()).count()
}

async fn subscribers_of(connection: &mut redis::aio::MultiplexedConnection, channel: &str) -> i64 {
    let reply: (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async(connection)
        .await
        .unwrap();
    reply.1
}

#[tokio::test]
async fn one_pubsub_connection_serves_every_channel_and_subscriber() {
    let server = PrivateRedis::start().await;
    let backend = RedisBackend::connect_with(&server.url(), RedisOptions::default())
        .await
        .unwrap();
    // Two handles (two event sets) on one backend still share its one connection.
    let first = Realtime::<TestEvent>::with_backend(backend.clone());
    let second = Realtime::<RefEvent>::with_backend(backend.clone());
    let mut subscriptions = Vec::new();
    for room in ["a", "b", "c"] {
        for _ in 0..20 {
            subscriptions.push(first.channel(room).subscribe_all().await.unwrap());
        }
    }
    let other = second.channel("a").subscribe_all().await.unwrap();
    let mut connection = server.connection().await;
    assert_eq!(pubsub_clients(&mut connection).await, 1);
    for room in ["a", "b", "c"] {
        assert_eq!(
            subscribers_of(&mut connection, &backend.pubsub_channel(room)).await,
            1,
            "{room}"
        );
    }
    for subscription in &mut subscriptions[..20] {
        first.channel("a").emit(&TestEvent::Tick(1)).await.unwrap();
        assert_eq!(take(subscription, 1).await.len(), 1);
    }
    drop(subscriptions);
    drop(other);
    let mut remaining = 1;
    for _ in 0..50 {
        remaining = subscribers_of(&mut connection, &backend.pubsub_channel("a")).await;
        if remaining == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(remaining, 0, "UNSUBSCRIBE once the last subscriber is gone");
}

/// Emits ticks `range` one by one with a short pause, returning the ids of those stored.
async fn emit_ticks(rt: &Realtime<TestEvent>, range: std::ops::Range<u32>) -> Vec<(Cursor, u32)> {
    let mut stored = Vec::new();
    for n in range {
        if let Ok(id) = rt.channel("survivor").emit(&TestEvent::Tick(n)).await {
            stored.push((id, n));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    stored
}

fn ticks_of(received: Vec<(Cursor, TestEvent)>) -> Vec<(Cursor, u32)> {
    received
        .into_iter()
        .map(|(id, event)| match event {
            TestEvent::Tick(n) => (id, n),
            other => panic!("expected a tick, got {other:?}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_pubsub_connection_loses_nothing() {
    let server = PrivateRedis::start().await;
    let backend = RedisBackend::connect_with(&server.url(), RedisOptions::default())
        .await
        .unwrap();
    let rt = Realtime::<TestEvent>::with_backend(backend);
    let mut subscription = rt.channel("survivor").subscribe_all().await.unwrap();
    let emitter = {
        let rt = rt.clone();
        tokio::spawn(async move { emit_ticks(&rt, 0..400).await })
    };
    let mut connection = server.connection().await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(120)).await;
        let killed: i64 = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("pubsub")
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(killed, 1);
    }
    let stored = emitter.await.unwrap();
    assert_eq!(
        stored.len(),
        400,
        "emits go over the command connection, untouched"
    );
    let received = ticks_of(take(&mut subscription, stored.len()).await);
    assert_eq!(received, stored, "every event, in order, once");
    assert_quiet(&mut subscription).await;
    assert!(rt.stats().catch_ups >= 4, "{:?}", rt.stats());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_loses_nothing_that_is_still_stored() {
    let mut server = PrivateRedis::start().await;
    let options = RedisOptions::default().command_timeout(Duration::from_millis(500));
    let backend = RedisBackend::connect_with(&server.url(), options)
        .await
        .unwrap();
    let rt = Realtime::<TestEvent>::with_backend(backend);
    let mut subscription = rt.channel("survivor").subscribe_all().await.unwrap();

    let before = emit_ticks(&rt, 0..50).await;
    assert_eq!(ticks_of(take(&mut subscription, 50).await), before);

    server.kill();
    let error = rt
        .channel("survivor")
        .emit(&TestEvent::Tick(999))
        .await
        .unwrap_err();
    // Unavailable, or outcome unknown when it went out on the connection that died.
    assert!(
        matches!(error, Error::Backend(_) | Error::OutcomeUnknown { .. }),
        "an emit to a dead Redis fails: {error}"
    );
    server.restart().await;

    // The command connection and the pub/sub connection both come back by themselves;
    // emits that fail while they do are reported as failures, never as stored.
    let after = emit_ticks(&rt, 50..250).await;
    assert!(
        after.len() > 100,
        "most emits after the restart succeed: {}",
        after.len()
    );
    let received = ticks_of(take(&mut subscription, after.len()).await);
    assert_eq!(
        received, after,
        "every stored event after the restart, in order, once"
    );
    assert_quiet(&mut subscription).await;
    let ids: BTreeSet<Cursor> = received.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), after.len());
    assert!(
        rt.stats().catch_ups >= 1,
        "the feed resynced: {:?}",
        rt.stats()
    );
}

#[tokio::test]
async fn a_subscription_fails_clearly_when_redis_is_unreachable() {
    let mut server = PrivateRedis::start().await;
    let options = RedisOptions::default().command_timeout(Duration::from_millis(300));
    let rt = Realtime::<TestEvent>::with_backend(
        RedisBackend::connect_with(&server.url(), options)
            .await
            .unwrap(),
    );
    server.kill();
    let error = rt.channel("x").subscribe_all().await.unwrap_err();
    assert!(matches!(error, Error::Backend(_)), "{error}");
    assert!(error.to_string().contains("redis"), "{error}");
    let error = rt.channel("x").history(History::new()).await.unwrap_err();
    assert!(matches!(error, Error::Backend(_)), "{error}");
    // Once Redis is back, the same handle works again.
    server.restart().await;
    let mut subscription = None;
    for _ in 0..50 {
        if let Ok(ok) = rt.channel("x").subscribe_all().await {
            subscription = Some(ok);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut subscription = subscription.expect("subscribing works again after the restart");
    let mut id = None;
    for _ in 0..50 {
        if let Ok(ok) = rt.channel("x").emit(&TestEvent::Tick(1)).await {
            id = Some(ok);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id = id.expect("emitting works again after the restart");
    assert_eq!(take(&mut subscription, 1).await, [(id, TestEvent::Tick(1))]);
}

#[tokio::test]
async fn realtime_redis_connects_with_the_prefixed_layout() {
    let rt = Realtime::<TestEvent>::redis(&redis_url()).await.unwrap();
    let channel = unique_channel("convenience");
    let id = rt
        .channel(channel.clone())
        .emit(&TestEvent::Tick(1))
        .await
        .unwrap();
    let entries = raw_fields(&redis_url(), &format!("realtime:{channel}")).await;
    assert_eq!(
        entries.first().map(|(entry_id, _)| entry_id.clone()),
        Some(id.to_string())
    );
    let mut connection = raw_connection(&redis_url()).await;
    let _: i64 = redis::cmd("DEL")
        .arg(format!("realtime:{channel}"))
        .query_async(&mut connection)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emit_that_redis_refuses_fails_alone_among_concurrent_emits() {
    let rt = Realtime::<RefEvent>::with_backend(reference_backend().await);
    let taken = unique_channel("taken");
    let good = unique_channel("good");
    let mut connection = raw_connection(&redis_url()).await;
    let _: () = redis::cmd("SET")
        .arg(&taken)
        .arg("not a stream")
        .arg("EX")
        .arg(600)
        .query_async(&mut connection)
        .await
        .unwrap();
    // Many emits at once on one multiplexed connection; the one Redis refuses (WRONGTYPE)
    // must not take the others down, nor be reported as stored.
    let emits = (0..100u32).map(|n| {
        let channel = if n == 50 { taken.clone() } else { good.clone() };
        let rt = rt.clone();
        async move { rt.channel(channel).emit(&RefEvent::Tick(n)).await }
    });
    let results = futures::future::join_all(emits).await;
    for (n, result) in results.iter().enumerate() {
        if n == 50 {
            let error = result.as_ref().unwrap_err();
            let Error::Backend(backend) = error else {
                panic!("expected a backend refusal, got {error}");
            };
            assert_eq!(
                backend.failure_kind(),
                realtime_core::backend::FailureKind::Refused,
                "a key of another type is a lasting refusal: {error}"
            );
            assert!(error.to_string().contains("not an event stream"), "{error}");
        } else {
            assert!(result.is_ok(), "emit {n}: {result:?}");
        }
    }
    let stored = rt
        .channel(good.clone())
        .history(History::new().limit(1_000))
        .await
        .unwrap();
    assert_eq!(stored.len(), 99);
    let _: i64 = redis::cmd("DEL")
        .arg(&good)
        .query_async(&mut connection)
        .await
        .unwrap();
}

/// A process refreshes a channel's TTL at most once per second; a stream deleted and
/// recreated within that second still gets its TTL, from the emit that recreates it.
#[tokio::test]
async fn a_stream_recreated_within_the_refresh_second_still_expires() {
    let prefix = unique_prefix();
    let options = RedisOptions::default()
        .key_prefix(prefix.clone())
        .expire_after(Duration::from_secs(120));
    let rt = Realtime::<TestEvent>::with_backend(
        RedisBackend::connect_with(&redis_url(), options)
            .await
            .unwrap(),
    );
    let mut connection = raw_connection(&redis_url()).await;
    let key = format!("{prefix}default");
    rt.emit(&TestEvent::Tick(1)).await.unwrap();
    redis::cmd("DEL")
        .arg(&key)
        .query_async::<()>(&mut connection)
        .await
        .unwrap();
    rt.emit(&TestEvent::Tick(2)).await.unwrap();
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!((100..=121).contains(&ttl), "TTL {ttl}");
}

/// Integers beyond 64 bits, stored as their digits.
#[derive(Events, Clone, Debug, PartialEq)]
enum WideEvent {
    #[event("wide.id")]
    Id(u128),
}

#[tokio::test]
async fn integers_beyond_64_bits_reach_history_and_live_subscribers_through_redis() {
    let backend =
        redis_backend(RedisOptions::default().expire_after(Duration::from_secs(600))).await;
    let rt = Realtime::<WideEvent>::with_backend(backend);
    let room = rt.channel("wide");
    let mut live = room.subscribe_all().await.unwrap();
    let event = WideEvent::Id(u128::from(u64::MAX) + 1);
    room.emit(&event).await.unwrap();
    let received = tokio::time::timeout(PATIENCE, live.next())
        .await
        .expect("the event arrives live")
        .unwrap();
    assert_eq!(received.event, event);
    let stored = room.history(History::new()).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].event, event);
}
