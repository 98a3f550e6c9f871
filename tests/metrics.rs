//! The core's metrics, read from the Prometheus recorder of the examples after a scripted
//! scenario against a private redis-server: emits by outcome, a stored entry that breaks
//! the schema, a subscriber that falls behind, a lost pub/sub connection, Redis down; and
//! on a private Redis Cluster, a lost shard connection.
//!
//! The process has one recorder, shared by the tests of this binary: the numbers are
//! checked as differences between a scrape before and one after, and each test checks
//! only series the other does not touch (the Redis test's unlabelled counters, `mode`
//! and events are its own).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::time::Duration;

use example_support::testing::Scrape;
use futures::StreamExt;
use realtime_core::backend::Backend;
use realtime_core::backend::redis::{RedisBackend, RedisOptions};
use realtime_core::metrics::{
    CATCH_UPS, DELIVERIES, EMITS, FEED_RESYNCS, PUBSUB_CONNECTIONS, PUBSUB_RECONNECTS,
    STORED_ENTRIES_REJECTED,
};
use realtime_core::{Error, History, Realtime};
use realtime_tests::cluster::PrivateCluster;
use realtime_tests::{PATIENCE, PrivateRedis, TestEvent};

fn scrape() -> Scrape {
    let recorder = example_support::metrics::recorder().expect("the only recorder");
    Scrape::parse(&recorder.render())
}

fn delta(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.value(name, labels) - before.value(name, labels)
}

/// Scrapes until `done` holds, failing after [`PATIENCE`].
async fn scrape_until(what: &str, done: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let now = scrape();
        if done(&now) {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn tick(n: u32) -> TestEvent {
    TestEvent::Tick(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_scenario_on_redis_shows_in_the_exported_metrics() {
    let before = scrape();
    let mut redis = PrivateRedis::start().await;
    let backend = RedisBackend::connect_with(&redis.url(), RedisOptions::default())
        .await
        .expect("the private Redis answers");
    // A fan-out of one message: a subscriber that does not read falls behind at once.
    let rt = Realtime::<TestEvent>::builder(backend.clone())
        .fanout_capacity(1)
        .build();
    let channel = rt.channel("metrics");
    let single = [("mode", "single")];

    // A subscriber that reads, and one that does not (yet).
    let mut reader = channel.subscribe_all().await.unwrap();
    let mut sleeper = channel.subscribe_all().await.unwrap();
    let connected = scrape();
    assert_eq!(delta(&before, &connected, PUBSUB_CONNECTIONS, &single), 1.0);
    for n in 0..3 {
        channel.emit(&tick(n)).await.unwrap();
        assert_eq!(reader.next().await.map(|e| e.event), Some(tick(n)));
    }
    let too_long = TestEvent::Message {
        author: "ada".into(),
        text: "x".repeat(281),
    };
    assert!(matches!(
        channel.emit(&too_long).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        channel
            .emit_json("no.such.event", serde_json::json!(1))
            .await,
        Err(Error::UnknownEvent(_))
    ));
    // The sleeper lost its place in the fan-out: it catches up from history, once.
    for n in 0..3 {
        assert_eq!(sleeper.next().await.map(|e| e.event), Some(tick(n)));
    }

    // An entry written by someone else that breaks the schema: counted when read.
    backend
        .append("metrics", "counter.tick", "\"not a number\"")
        .await
        .unwrap();
    assert_eq!(channel.history(History::last(10)).await.unwrap().len(), 3);
    // It was also published: the fan-out rejects it once, whatever its subscribers.
    let after_emits = scrape_until("the bad entry rejected twice", |now| {
        delta(&before, now, STORED_ENTRIES_REJECTED, &[]) >= 2.0
    })
    .await;
    assert_eq!(
        delta(&before, &after_emits, STORED_ENTRIES_REJECTED, &[]),
        2.0
    );

    let tick_ok = [("event", "counter.tick"), ("outcome", "ok")];
    assert_eq!(delta(&before, &after_emits, EMITS, &tick_ok), 3.0);
    let message_invalid = [("event", "chat.message"), ("outcome", "invalid")];
    assert_eq!(delta(&before, &after_emits, EMITS, &message_invalid), 1.0);
    let unknown_invalid = [("event", "(unknown)"), ("outcome", "invalid")];
    assert_eq!(delta(&before, &after_emits, EMITS, &unknown_invalid), 1.0);
    assert_eq!(
        delta(
            &before,
            &after_emits,
            DELIVERIES,
            &[("event", "counter.tick")]
        ),
        3.0,
        "once per message for both subscribers"
    );
    assert_eq!(
        delta(&before, &after_emits, CATCH_UPS, &[]),
        1.0,
        "the sleeper only"
    );

    // The pub/sub connection is killed: one reconnect, the feed resyncs, and the
    // connection count is back to one.
    assert_eq!(redis.kill_pubsub_connections().await, 1);
    let resumed = scrape_until("a reconnect and a resync", |now| {
        delta(&before, now, PUBSUB_RECONNECTS, &single) == 1.0
            && delta(&before, now, PUBSUB_CONNECTIONS, &single) == 1.0
            && delta(&before, now, FEED_RESYNCS, &[]) >= 1.0
    })
    .await;
    assert_eq!(delta(&before, &resumed, PUBSUB_RECONNECTS, &single), 1.0);
    channel.emit(&tick(3)).await.unwrap();
    assert_eq!(reader.next().await.map(|e| e.event), Some(tick(3)));

    // Redis goes away: the emit fails, counted by how.
    redis.kill();
    let failed = channel.emit(&tick(4)).await.unwrap_err();
    let outcome = match failed {
        Error::OutcomeUnknown { .. } => "outcome_unknown",
        Error::Backend(_) => "storage_error",
        other => panic!("an emit with Redis down failed with {other}"),
    };
    let down = scrape();
    let labels = [("event", "counter.tick"), ("outcome", outcome)];
    assert_eq!(delta(&before, &down, EMITS, &labels), 1.0);
    assert_eq!(delta(&before, &down, EMITS, &tick_ok), 4.0);
}

/// The id of the one connection of the process subscribed to shard channels, and the
/// master it is on.
async fn shard_subscriber(cluster: &PrivateCluster) -> Option<(u16, String)> {
    for master in cluster.masters().await {
        let mut connection = cluster.connection(master).await;
        let clients: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(&mut connection)
            .await
            .unwrap();
        let subscribed = clients.lines().find(|line| {
            line.split(' ')
                .any(|field| field.starts_with("ssub=") && field != "ssub=0")
        });
        if let Some(line) = subscribed {
            let id = line
                .split(' ')
                .find_map(|field| field.strip_prefix("id="))
                .expect("CLIENT LIST has ids");
            return Some((master, id.to_owned()));
        }
    }
    None
}

/// On a cluster (sharded pub/sub, a private cluster of this test): the connection to a
/// master counts while open; killed, it counts as a reconnect and is replaced. Only
/// `mode="sharded"` and `chat.typing` series are checked, which the other test of this
/// binary does not touch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_shard_connection_shows_as_a_sharded_reconnect() {
    let before = scrape();
    let cluster = PrivateCluster::start_with(3, 0).await;
    let backend = RedisBackend::connect_url(&cluster.url(), RedisOptions::default())
        .await
        .expect("the private cluster answers");
    let channel = Realtime::<TestEvent>::with_backend(backend).channel("metrics-sharded");
    let sharded = [("mode", "sharded")];
    let typing = |who: &str| TestEvent::Typing(who.to_owned());

    let mut subscription = channel.subscribe_all().await.unwrap();
    let connected = scrape_until("one shard connection", |now| {
        delta(&before, now, PUBSUB_CONNECTIONS, &sharded) == 1.0
    })
    .await;
    assert_eq!(delta(&before, &connected, PUBSUB_RECONNECTS, &sharded), 0.0);
    channel.emit(&typing("ada")).await.unwrap();
    assert_eq!(
        subscription.next().await.map(|e| e.event),
        Some(typing("ada"))
    );

    let (master, id) = shard_subscriber(&cluster)
        .await
        .expect("a connection subscribed to the channel");
    let mut admin = cluster.connection(master).await;
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(&id)
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(killed, 1);
    let replaced = scrape_until("a sharded reconnect", |now| {
        delta(&before, now, PUBSUB_RECONNECTS, &sharded) == 1.0
            && delta(&before, now, PUBSUB_CONNECTIONS, &sharded) == 1.0
    })
    .await;
    assert_eq!(delta(&before, &replaced, PUBSUB_RECONNECTS, &sharded), 1.0);
    // Subscribed again: a new emit arrives.
    tokio::time::timeout(PATIENCE, async {
        while shard_subscriber(&cluster)
            .await
            .is_none_or(|(_, new)| new == id)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("resubscribed within the patience");
    channel.emit(&typing("bob")).await.unwrap();
    assert_eq!(
        subscription.next().await.map(|e| e.event),
        Some(typing("bob"))
    );
    let after = scrape();
    let typing_ok = [("event", "chat.typing"), ("outcome", "ok")];
    assert_eq!(delta(&before, &after, EMITS, &typing_ok), 2.0);
}
