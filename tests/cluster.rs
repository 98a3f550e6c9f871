//! The Redis backend on a real Redis Cluster, under faults: a master killed (failover, in
//! both durability modes), a slot moved to another master (resharding), a master frozen
//! for 10 s (SIGSTOP), each while events stream to subscribers on channels of every shard.
//! Plus the shape of the traffic: sharded pub/sub only, one pub/sub connection per master
//! per process, channels spread over every master.
//!
//! Each fault test runs two backends, as two server processes would: one holds every
//! subscription, the other emits. Every subscriber counts what it lost (stored entries it
//! never received), what it got twice and what came out of order; every emit the emitter
//! saw acknowledged is checked against the streams afterwards. Each test prints its
//! figures (`--nocapture` shows them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use realtime_core::backend::redis::{Durability, RedisBackend, RedisOptions};
use realtime_core::backend::{Backend, FailureKind, ReadRange};
use realtime_core::{Cursor, Error, Realtime};
use realtime_tests::cluster::PrivateCluster;
use realtime_tests::{TestEvent, redis_cluster_url, unique_prefix};

/// Each channel gets an emit this often (12 channels: 600 emits/s in all).
const EMIT_EVERY: Duration = Duration::from_millis(20);
/// Channels per master, and subscribers per channel: 12 channels, 60 subscribers.
const CHANNELS_PER_MASTER: usize = 4;
const SUBSCRIBERS_PER_CHANNEL: usize = 5;
/// How long a subscriber may take to catch up once emits stop.
const CATCH_UP: Duration = Duration::from_secs(30);

/// One private cluster at a time: six nodes and 600 emits/s fill this machine's two cores,
/// and the latency checks must not measure another test's load.
static ONE_CLUSTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn backend(url: &str, prefix: &str, durability: Durability) -> RedisBackend {
    let options = RedisOptions::default()
        .key_prefix(prefix)
        .expire_after(Duration::from_secs(600))
        .durability(durability);
    RedisBackend::connect_url(url, options)
        .await
        .unwrap_or_else(|error| panic!("the Redis Cluster at {url}: {error}"))
}

/// Channel names whose slots are owned by each master in turn, `per_master` per master,
/// with the port of the master owning each.
async fn channels_on_every_master(
    cluster: &PrivateCluster,
    backend: &RedisBackend,
    per_master: usize,
) -> Vec<(String, u16)> {
    let masters = cluster.masters().await;
    let mut taken: HashMap<u16, usize> = HashMap::new();
    let mut channels = Vec::new();
    for index in 0.. {
        if channels.len() == masters.len() * per_master {
            break;
        }
        let name = format!("room-{index}");
        let slot = cluster.key_slot(&backend.stream_key(&name)).await;
        let master = cluster.master_of_slot(slot).await;
        let count = taken.entry(master).or_default();
        if *count < per_master {
            *count += 1;
            channels.push((name, master));
        }
    }
    channels
}

/// One received tick: its id, its number, and when it arrived.
type Received = (Cursor, u32, Instant);

/// An emit the emitter saw acknowledged (or not), with when it was sent.
#[derive(Debug, Clone)]
struct Emitted {
    n: u32,
    sent: Instant,
    outcome: Result<Cursor, FailureKind>,
}

/// Subscribers on one backend and paced emitters on another, over `channels`.
struct Traffic {
    channels: Vec<String>,
    received: Vec<(String, Arc<Mutex<Vec<Received>>>)>,
    emitted: HashMap<String, Arc<Mutex<Vec<Emitted>>>>,
    stop_emitting: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    emitters: Vec<tokio::task::JoinHandle<()>>,
}

impl Traffic {
    async fn start(
        subscriber: &Realtime<TestEvent>,
        emitter: &Realtime<TestEvent>,
        channels: &[String],
    ) -> Self {
        let mut received = Vec::new();
        let mut tasks = Vec::new();
        for channel in channels {
            for _ in 0..SUBSCRIBERS_PER_CHANNEL {
                let mut subscription = subscriber
                    .channel(channel.as_str())
                    .subscribe_all()
                    .await
                    .expect("subscribing works while the cluster is healthy");
                let log = Arc::new(Mutex::new(Vec::new()));
                received.push((channel.clone(), Arc::clone(&log)));
                tasks.push(tokio::spawn(async move {
                    while let Some(envelope) = subscription.next().await {
                        if let TestEvent::Tick(n) = envelope.event {
                            log.lock().unwrap().push((envelope.id, n, Instant::now()));
                        }
                    }
                }));
            }
        }
        let stop_emitting = Arc::new(AtomicBool::new(false));
        let mut emitted = HashMap::new();
        let mut emitters = Vec::new();
        for channel in channels {
            let log = Arc::new(Mutex::new(Vec::new()));
            emitted.insert(channel.clone(), Arc::clone(&log));
            let handle = emitter.channel(channel.as_str());
            let stop = Arc::clone(&stop_emitting);
            emitters.push(tokio::spawn(async move {
                let mut ticks = tokio::time::interval(EMIT_EVERY);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    ticks.tick().await;
                    let sent = Instant::now();
                    let outcome = match handle.emit(&TestEvent::Tick(n)).await {
                        Ok(id) => Ok(id),
                        Err(Error::Backend(error)) => Err(error.failure_kind()),
                        Err(Error::OutcomeUnknown { source, .. }) => Err(source.failure_kind()),
                        Err(other) => panic!("emit {n}: {other}"),
                    };
                    log.lock().unwrap().push(Emitted { n, sent, outcome });
                    n += 1;
                }
            }));
        }
        Self {
            channels: channels.to_vec(),
            received,
            emitted,
            stop_emitting,
            tasks,
            emitters,
        }
    }

    /// Stops the emitters, waits until every subscriber has every stored entry (or
    /// [`CATCH_UP`] passed), and counts.
    async fn finish(self, store: &RedisBackend) -> Report {
        self.stop_emitting.store(true, Ordering::Relaxed);
        for emitter in self.emitters {
            emitter.await.unwrap();
        }
        let mut stored: HashMap<String, Vec<Cursor>> = HashMap::new();
        for channel in &self.channels {
            let entries = store
                .read(channel, ReadRange::after(None, 1_000_000))
                .await
                .expect("the streams are readable after the fault");
            stored.insert(
                channel.clone(),
                entries.iter().map(|entry| entry.id).collect(),
            );
        }
        let deadline = Instant::now() + CATCH_UP;
        loop {
            let complete = self.received.iter().all(|(channel, log)| {
                let got: HashSet<Cursor> = log.lock().unwrap().iter().map(|r| r.0).collect();
                stored[channel].iter().all(|id| got.contains(id))
            });
            if complete || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for task in &self.tasks {
            task.abort();
        }
        let mut report = Report::default();
        for (channel, log) in &self.received {
            let log = log.lock().unwrap();
            let stored_ids: HashSet<Cursor> = stored[channel].iter().copied().collect();
            let mut seen = HashSet::new();
            let mut last: Option<Cursor> = None;
            for (id, _, _) in log.iter() {
                if !seen.insert(*id) {
                    report.duplicated += 1;
                }
                if last.is_some_and(|last| *id <= last) {
                    report.out_of_order += 1;
                }
                last = Some(*id);
                if !stored_ids.contains(id) {
                    report.received_not_stored += 1;
                }
            }
            report.lost += stored_ids.difference(&seen).count();
            report.delivered += log.len();
        }
        for (channel, log) in &self.emitted {
            let stored_ids: HashSet<Cursor> = stored[channel].iter().copied().collect();
            for emitted in log.lock().unwrap().iter() {
                match emitted.outcome {
                    Ok(id) if stored_ids.contains(&id) => report.acknowledged += 1,
                    Ok(id) => {
                        report.acknowledged += 1;
                        report
                            .acknowledged_lost
                            .push(format!("{channel} tick {} ({id})", emitted.n));
                    }
                    Err(kind) => *report.failed.entry(format!("{kind:?}")).or_default() += 1,
                }
            }
        }
        report.emitted = self.emitted;
        report.received = self.received;
        report
    }
}

#[derive(Default)]
struct Report {
    acknowledged: usize,
    /// Emits that failed, by kind (none of them was acknowledged).
    failed: HashMap<String, usize>,
    /// Acknowledged emits missing from the stream after the fault.
    acknowledged_lost: Vec<String>,
    delivered: usize,
    /// Over all subscribers: stored entries never received, entries received twice or out
    /// of order, and entries received that the stream no longer holds.
    lost: usize,
    duplicated: usize,
    out_of_order: usize,
    received_not_stored: usize,
    emitted: HashMap<String, Arc<Mutex<Vec<Emitted>>>>,
    received: Vec<(String, Arc<Mutex<Vec<Received>>>)>,
}

impl Report {
    fn print(&self, what: &str) {
        println!(
            "{what}: {} emits acknowledged, failed {:?}, {} deliveries; per subscriber in all: \
             {} lost, {} duplicated, {} out of order, {} received but not stored; acknowledged \
             emits lost: {} {:?}",
            self.acknowledged,
            self.failed,
            self.delivered,
            self.lost,
            self.duplicated,
            self.out_of_order,
            self.received_not_stored,
            self.acknowledged_lost.len(),
            self.acknowledged_lost,
        );
    }

    fn assert_exactly_once_in_order(&self) {
        assert_eq!(self.duplicated, 0, "no event may arrive twice");
        assert_eq!(self.out_of_order, 0, "events must arrive in id order");
        assert_eq!(
            self.lost, 0,
            "every stored event must reach every subscriber"
        );
        assert!(self.acknowledged > 0 && self.delivered > 0);
    }

    /// Emit-to-receive latencies of ticks sent in `window` on `channels`.
    fn latencies(&self, channels: &[String], window: (Instant, Instant)) -> Vec<Duration> {
        let mut latencies = Vec::new();
        for (channel, log) in &self.received {
            if !channels.contains(channel) {
                continue;
            }
            let sent: HashMap<u32, Instant> = self.emitted[channel]
                .lock()
                .unwrap()
                .iter()
                .filter(|emitted| emitted.sent >= window.0 && emitted.sent <= window.1)
                .map(|emitted| (emitted.n, emitted.sent))
                .collect();
            for (_, n, at) in log.lock().unwrap().iter() {
                if let Some(sent) = sent.get(n) {
                    latencies.push(at.saturating_duration_since(*sent));
                }
            }
        }
        latencies.sort();
        latencies
    }
}

fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() - 1) * percent / 100]
}

/// A private cluster, a subscriber backend and an emitter backend over it, and channels
/// on every master.
struct Setup {
    cluster: PrivateCluster,
    subscriber: Realtime<TestEvent>,
    emitter: Realtime<TestEvent>,
    store: RedisBackend,
    channels: Vec<(String, u16)>,
    /// Last, so that it is released after the cluster is gone.
    _one_cluster: tokio::sync::MutexGuard<'static, ()>,
}

async fn setup(durability: Durability) -> Setup {
    let one_cluster = ONE_CLUSTER.lock().await;
    let cluster = PrivateCluster::start().await;
    let prefix = unique_prefix();
    let store = backend(&cluster.url(), &prefix, Durability::Master).await;
    let subscriber =
        Realtime::with_backend(backend(&cluster.url(), &prefix, Durability::Master).await);
    let emitter = Realtime::with_backend(backend(&cluster.url(), &prefix, durability).await);
    let channels = channels_on_every_master(&cluster, &store, CHANNELS_PER_MASTER).await;
    Setup {
        cluster,
        subscriber,
        emitter,
        store,
        channels,
        _one_cluster: one_cluster,
    }
}

fn names(channels: &[(String, u16)]) -> Vec<String> {
    channels.iter().map(|(name, _)| name.clone()).collect()
}

async fn failover_under_load(durability: Durability) -> Report {
    let mut setup = setup(durability).await;
    let traffic = Traffic::start(&setup.subscriber, &setup.emitter, &names(&setup.channels)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (victim_channel, _) = &setup.channels[0];
    let slot = setup
        .cluster
        .key_slot(&setup.store.stream_key(victim_channel))
        .await;
    let started = Instant::now();
    let (old, new) = setup.cluster.kill_master_and_wait_for_failover(slot).await;
    println!(
        "master {old} killed; replica {new} took over in {:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    traffic.finish(&setup.store).await
}

/// The master of one shard is killed (SIGKILL) while 60 subscribers on 12 channels, 4 per
/// shard, receive 600 emits/s. Its replica takes over; every subscriber gets every stored
/// event exactly once, in order. Replication is asynchronous, so acknowledged emits the
/// master had not replicated may be lost with it: they are listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_master_fails_over_without_duplicates_or_reordering() {
    let report = failover_under_load(Durability::Master).await;
    report.print("failover, default durability");
    report.assert_exactly_once_in_order();
}

/// As above with `Durability::Replicated`: an acknowledged emit is on a replica, so none
/// is lost by the failover.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_replicated_durability_a_failover_loses_no_acknowledged_emit() {
    let report = failover_under_load(Durability::Replicated {
        replicas: 1,
        timeout: Duration::from_secs(1),
    })
    .await;
    report.print("failover, replicated durability");
    report.assert_exactly_once_in_order();
    assert!(
        report.acknowledged_lost.is_empty(),
        "acknowledged emits lost: {:?}",
        report.acknowledged_lost
    );
}

/// A slot holding live channels moves to another master while events stream: keys move
/// first (emits are sent on with ASK meanwhile), then the slot is handed over, and the old
/// master unsubscribes the slot's channels. Nothing is lost, duplicated or reordered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_moved_under_load_loses_nothing() {
    let setup = setup(Durability::Master).await;
    let traffic = Traffic::start(&setup.subscriber, &setup.emitter, &names(&setup.channels)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (moving, from) = &setup.channels[0];
    let slot = setup
        .cluster
        .key_slot(&setup.store.stream_key(moving))
        .await;
    let to = setup
        .cluster
        .masters()
        .await
        .into_iter()
        .find(|port| port != from)
        .unwrap();
    let migration = setup.cluster.begin_migration(slot, to).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let moved = migration.move_keys().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    migration.finish().await;
    println!("slot {slot} ({moving}, {moved} keys) moved from {from} to {to}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(setup.cluster.master_of_slot(slot).await, to);
    let report = traffic.finish(&setup.store).await;
    report.print("resharding");
    report.assert_exactly_once_in_order();
    assert!(report.acknowledged_lost.is_empty());
    assert!(
        report.failed.is_empty(),
        "no emit may fail: {:?}",
        report.failed
    );
}

/// One master frozen for 10 s (SIGSTOP; its replica takes over meanwhile): the other
/// shards' channels keep their latency, and afterwards every subscriber of every channel
/// has every stored event exactly once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_master_does_not_slow_the_other_shards() {
    let setup = setup(Durability::Master).await;
    let all = names(&setup.channels);
    let traffic = Traffic::start(&setup.subscriber, &setup.emitter, &all).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let frozen = setup.channels[0].1;
    let others: Vec<String> = setup
        .channels
        .iter()
        .filter(|(_, master)| *master != frozen)
        .map(|(name, _)| name.clone())
        .collect();
    let before = Instant::now();
    setup.cluster.pause(frozen);
    tokio::time::sleep(Duration::from_secs(10)).await;
    setup.cluster.resume(frozen);
    let after = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let report = traffic.finish(&setup.store).await;
    report.print("one master frozen for 10 s");
    let calm = report.latencies(&others, (before - Duration::from_secs(2), before));
    let during = report.latencies(&others, (before, after));
    println!(
        "other shards' latency before: p50 {:?} p99 {:?}; while frozen: p50 {:?} p99 {:?} max {:?} ({} deliveries)",
        percentile(&calm, 50),
        percentile(&calm, 99),
        percentile(&during, 50),
        percentile(&during, 99),
        during.last().copied().unwrap_or_default(),
        during.len()
    );
    assert!(during.len() > 1_000, "the other shards kept flowing");
    // A stalled shard would show seconds (the 5 s command timeout, the 2-3 s dead-peer
    // detection); normal latency on this machine is a few milliseconds.
    assert!(
        percentile(&during, 99) < Duration::from_millis(500),
        "the other shards' p99 rose while one master was frozen"
    );
    report.assert_exactly_once_in_order();
}

/// Channels spread over every master; a subscriber process holds one pub/sub connection
/// per master whatever its number of channels and feeds; emits use `SPUBLISH`, never the
/// cluster-wide `PUBLISH`; two processes (backends) see each other's events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_delivery_is_sharded_with_one_connection_per_master() {
    let setup = setup(Durability::Master).await;
    let all = names(&setup.channels);
    let masters: HashSet<u16> = setup.channels.iter().map(|(_, master)| *master).collect();
    assert_eq!(masters.len(), 3, "channels on all three masters");
    let traffic = Traffic::start(&setup.subscriber, &setup.emitter, &all).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for master in &masters {
        let mut connection = setup.cluster.connection(*master).await;
        let clients: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(&mut connection)
            .await
            .unwrap();
        let shard_subscribers: Vec<&str> = clients
            .lines()
            .filter(|line| {
                line.split(' ')
                    .any(|field| field.starts_with("ssub=") && field != "ssub=0")
            })
            .collect();
        assert_eq!(
            shard_subscribers.len(),
            1,
            "master {master}: one pub/sub connection for {} subscribers: {shard_subscribers:?}",
            CHANNELS_PER_MASTER * SUBSCRIBERS_PER_CHANNEL
        );
        let channels: Vec<String> = redis::cmd("PUBSUB")
            .arg("SHARDCHANNELS")
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(
            channels.len(),
            CHANNELS_PER_MASTER,
            "master {master}: {channels:?}"
        );
        let stats: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!(
            !stats.contains("cmdstat_publish:"),
            "master {master} ran a global PUBLISH:\n{stats}"
        );
        assert!(
            stats.contains("cmdstat_spublish:"),
            "master {master}:\n{stats}"
        );
    }
    let report = traffic.finish(&setup.store).await;
    report.print("healthy cluster");
    report.assert_exactly_once_in_order();
    assert!(report.failed.is_empty());
}

/// The shared cluster (`scripts/cluster start`) serves the backend too: a quick check that
/// `REDIS_CLUSTER_URL` works end to end, as the examples use it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_cluster_serves_emits_and_subscriptions() {
    let prefix = unique_prefix();
    let rt = Realtime::<TestEvent>::with_backend(
        backend(&redis_cluster_url(), &prefix, Durability::Master).await,
    );
    let room = rt.channel("room-1");
    let mut subscription = room.subscribe_all().await.unwrap();
    let id = room.emit(&TestEvent::Tick(7)).await.unwrap();
    let envelope = tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((envelope.id, envelope.event), (id, TestEvent::Tick(7)));
}

/// The `calls` of one command in a node's `INFO commandstats` (0 when never called).
async fn command_calls(cluster: &PrivateCluster, port: u16, command: &str) -> u64 {
    let mut connection = cluster.connection(port).await;
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut connection)
        .await
        .unwrap();
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |calls| calls.parse().unwrap())
}

/// With `Durability::Replicated` on a cluster, concurrent emits over many channels (so
/// many slots, each slot its own batches) share each master's `WAIT`s: far fewer `WAIT`s
/// than script calls, where one per batch would make as many. Every emit is acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_replicated_durability_one_wait_covers_a_masters_concurrent_batches() {
    const EMITTERS: usize = 64;
    const EMITS_EACH: usize = 40;
    const CHANNELS: usize = 500;
    let _one_cluster = ONE_CLUSTER.lock().await;
    let cluster = PrivateCluster::start().await;
    let prefix = unique_prefix();
    let durability = Durability::Replicated {
        replicas: 1,
        timeout: Duration::from_secs(2),
    };
    let emitter =
        Realtime::<TestEvent>::with_backend(backend(&cluster.url(), &prefix, durability).await);
    let masters = cluster.masters().await;
    let mut before = Vec::new();
    for &port in &masters {
        before.push((
            command_calls(&cluster, port, "wait").await,
            command_calls(&cluster, port, "evalsha").await
                + command_calls(&cluster, port, "eval").await,
        ));
    }
    let tasks: Vec<_> = (0..EMITTERS)
        .map(|task| {
            let emitter = emitter.clone();
            tokio::spawn(async move {
                for n in 0..EMITS_EACH {
                    let channel = format!("room-{}", (task * EMITS_EACH + n) % CHANNELS);
                    emitter
                        .channel(&channel)
                        .emit(&TestEvent::Tick(u32::try_from(n).unwrap()))
                        .await
                        .unwrap_or_else(|error| panic!("emit to {channel}: {error}"));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let (mut waits, mut scripts) = (0, 0);
    for (&port, (waits_before, scripts_before)) in masters.iter().zip(before) {
        waits += command_calls(&cluster, port, "wait").await - waits_before;
        scripts += command_calls(&cluster, port, "evalsha").await
            + command_calls(&cluster, port, "eval").await
            - scripts_before;
    }
    println!(
        "{} acknowledged emits: {scripts} script calls, {waits} WAITs on {} masters",
        EMITTERS * EMITS_EACH,
        masters.len()
    );
    assert!(waits > 0, "no WAIT was sent");
    assert!(
        waits * 2 < scripts,
        "{waits} WAITs for {scripts} script calls: the masters' batches did not share them"
    );
}

/// Replicated emits whose callers give up while their master is frozen (SIGSTOP) give
/// back both their slot's turn and their master's `WAIT`: once the master is back, the
/// next emit to it is answered and acknowledged by its replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicated_emits_abandoned_in_flight_leave_no_master_stuck() {
    let _one_cluster = ONE_CLUSTER.lock().await;
    let cluster = PrivateCluster::start().await;
    let prefix = unique_prefix();
    let options = RedisOptions::default()
        .key_prefix(&prefix)
        .command_timeout(Duration::from_secs(3))
        .durability(Durability::Replicated {
            replicas: 1,
            timeout: Duration::from_secs(2),
        });
    let emitter = RedisBackend::connect_url(&cluster.url(), options)
        .await
        .unwrap();
    let slot = cluster.key_slot(&emitter.stream_key("room")).await;
    let master = cluster.master_of_slot(slot).await;
    emitter.append("room", "counter.tick", "0").await.unwrap();
    cluster.pause(master);
    for n in 1..=8 {
        let abandoned = tokio::time::timeout(
            Duration::from_millis(50),
            emitter.append("room", "counter.tick", &n.to_string()),
        )
        .await;
        assert!(
            abandoned.is_err(),
            "the master is frozen: emit {n} cannot be answered"
        );
    }
    cluster.resume(master);
    let next = tokio::time::timeout(
        Duration::from_secs(10),
        emitter.append("room", "counter.tick", "9"),
    )
    .await
    .expect("the master's lane and WAIT serve the next emit once it answers");
    next.unwrap();
}

/// A master's reconnected sharded pub/sub connection delivers messages before the control
/// task has marked its channels live (widened here to 300 ms by the `testing` hook):
/// they must not reach a feed ahead of its catch-up. The shard connections are killed
/// while an emitter runs; the subscriber gets every acknowledged emit once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_of_a_reconnecting_shard_connection_do_not_overtake_the_catch_up() {
    use realtime_core::backend::redis::testing::widen_resubscribe_window;
    let _one_cluster = ONE_CLUSTER.lock().await;
    let cluster = PrivateCluster::start_with(3, 0).await;
    let prefix = unique_prefix();
    let rt = Realtime::<TestEvent>::with_backend(
        backend(&cluster.url(), &prefix, Durability::Master).await,
    );
    let room = rt.channel("room");
    let mut subscription = room.subscribe_all().await.unwrap();
    widen_resubscribe_window(Duration::from_millis(300));
    let emitter = tokio::spawn({
        let room = room.clone();
        async move {
            let mut acknowledged = Vec::new();
            for n in 0..300 {
                acknowledged.push(room.emit(&TestEvent::Tick(n)).await.unwrap());
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            acknowledged
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut killed = 0;
    for master in cluster.masters().await {
        let mut admin = cluster.connection(master).await;
        let count: i64 = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("pubsub")
            .query_async(&mut admin)
            .await
            .unwrap();
        killed += count;
    }
    assert!(
        killed >= 1,
        "the shard connection of the channel's master was killed"
    );
    let acknowledged = emitter.await.unwrap();
    widen_resubscribe_window(Duration::ZERO);
    let mut received = Vec::new();
    while received.last() != acknowledged.last() {
        let envelope = tokio::time::timeout(Duration::from_secs(10), subscription.next())
            .await
            .unwrap_or_else(|_| panic!("{} of {} events", received.len(), acknowledged.len()))
            .expect("the subscription stays open");
        received.push(envelope.id);
    }
    assert_eq!(
        received, acknowledged,
        "every emit delivered once, in order"
    );
}

/// `Durability::Replicated { replicas: 1 }`, a master killed and **not** restarted: the
/// promoted replica has no replica of its own. Emits to its channels must get a
/// terminating answer: after at most a few "outcome unknown" (stored, not replicated: the
/// failover had to be learnt), a quick refusal (`Unavailable`, 503 over HTTP) with nothing
/// stored, on every retry, rather than a 504 that a keyed retry loop never gets past.
/// Every acknowledged emit is on the new master (it had it as a replica); the other
/// shards go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicated_emits_to_a_master_left_without_replicas_are_refused_before_storing() {
    let mut setup = setup(Durability::Replicated {
        replicas: 1,
        timeout: Duration::from_secs(1),
    })
    .await;
    let (victim, victim_master) = setup.channels[0].clone();
    let (other, _) = setup
        .channels
        .iter()
        .find(|(_, master)| *master != victim_master)
        .cloned()
        .unwrap();
    let room = setup.emitter.channel(victim.as_str());
    let mut acknowledged = Vec::new();
    for n in 0..5 {
        acknowledged.push((n, room.emit(&TestEvent::Tick(n)).await.unwrap()));
    }
    let slot = setup
        .cluster
        .key_slot(&setup.store.stream_key(&victim))
        .await;
    let (old, new) = setup.cluster.kill_master_and_wait_for_failover(slot).await;
    println!("master {old} killed (not restarted); replica {new} took over");

    let mut unknown = 0;
    let mut refused = Vec::new();
    let mut slowest_refusal = Duration::ZERO;
    let deadline = Instant::now() + Duration::from_secs(20);
    for n in 5.. {
        if refused.len() >= 10 || Instant::now() > deadline {
            break;
        }
        let started = Instant::now();
        let outcome = tokio::time::timeout(Duration::from_secs(10), room.emit(&TestEvent::Tick(n)))
            .await
            .expect("every emit gets an answer");
        match outcome {
            Ok(id) => acknowledged.push((n, id)),
            Err(Error::OutcomeUnknown { .. }) => unknown += 1,
            Err(Error::Backend(error)) if error.failure_kind() == FailureKind::Unavailable => {
                if error.message().contains("replicas") {
                    slowest_refusal = slowest_refusal.max(started.elapsed());
                    refused.push(n);
                }
            }
            Err(other) => panic!("emit {n}: {other}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "after the failover: {unknown} outcome unknown, {} refused (slowest {slowest_refusal:?}), {} acknowledged in all",
        refused.len(),
        acknowledged.len()
    );
    assert_eq!(
        refused.len(),
        10,
        "emits are refused, not left unknown forever"
    );
    assert!(
        unknown <= 3,
        "{unknown} outcome unknown before the refusals"
    );
    assert!(
        slowest_refusal < Duration::from_secs(2),
        "{slowest_refusal:?}"
    );

    let stored: Vec<u32> = setup
        .store
        .read(&victim, ReadRange::after(None, 1_000))
        .await
        .unwrap()
        .iter()
        .map(|entry| entry.data.parse().unwrap())
        .collect();
    for n in &refused {
        assert!(!stored.contains(n), "refused emit {n} was stored");
    }
    for (n, id) in &acknowledged {
        assert!(stored.contains(n), "acknowledged emit {n} ({id}) lost");
    }
    // Another shard, with its replica, is not affected.
    setup
        .emitter
        .channel(other.as_str())
        .emit(&TestEvent::Tick(0))
        .await
        .unwrap();
}

/// Presence on the shard whose master is killed (SIGKILL, its replica promoted): members
/// held by a live process, a TTL longer than the failover. An observer reading the channel
/// as a page does sees no presence event for the members that stay (no `left` then
/// `joined` flap); `members()` answers either an error (while no master serves the slot)
/// or the full list, never a partial one; a member that leaves during the failover gets
/// exactly one `presence.left` once the new master answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_on_a_failed_over_shard_stays_put_and_a_leave_meanwhile_is_announced_once() {
    use realtime_core::backend::conformance::{RoomEvent, Visitor};
    let mut setup = setup(Durability::Master).await;
    let (channel, _) = setup.channels[0].clone();
    let options = RedisOptions {
        key_layout: setup.store.options().key_layout.clone(),
        ..RedisOptions::default()
    }
    .command_timeout(Duration::from_millis(500));
    let observer = Realtime::<RoomEvent>::with_backend(
        RedisBackend::connect_url(&setup.cluster.url(), options.clone())
            .await
            .unwrap(),
    );
    let holder = Realtime::<RoomEvent>::with_backend(
        RedisBackend::connect_url(&setup.cluster.url(), options)
            .await
            .unwrap(),
    );
    let ttl = Duration::from_secs(10);
    let mut page = observer
        .channel(channel.as_str())
        .subscribe_all()
        .await
        .unwrap();
    let presence = holder.channel(channel.as_str()).presence();
    let visitor = |name: &str| Visitor { name: name.into() };
    let _ada = presence.join("ada", visitor("Ada"), ttl).await.unwrap();
    let bob = presence.join("bob", visitor("Bob"), ttl).await.unwrap();
    let _cy = presence.join("cy", visitor("Cy"), ttl).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let envelope = tokio::time::timeout(Duration::from_secs(5), page.next())
            .await
            .expect("the joins arrive")
            .unwrap();
        if let RoomEvent::Presence(change) = envelope.event {
            seen.push((change.is_joined(), change.member().id.clone()));
        }
    }
    // Replicated before the kill (the joins are a second old by now).
    tokio::time::sleep(Duration::from_secs(1)).await;

    let slot = setup
        .cluster
        .key_slot(&setup.store.stream_key(&channel))
        .await;
    let listing = {
        let observer = observer.clone();
        let channel = channel.clone();
        tokio::spawn(async move {
            let mut answers = Vec::new();
            let until = Instant::now() + Duration::from_secs(12);
            while Instant::now() < until {
                let listed = observer
                    .channel(channel.as_str())
                    .presence()
                    .members()
                    .await;
                answers.push(listed.map(|members| {
                    members
                        .into_iter()
                        .map(|member| member.id)
                        .collect::<Vec<_>>()
                }));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            answers
        })
    };
    let killed = Instant::now();
    let kill = setup.cluster.kill_master_and_wait_for_failover(slot);
    let (leave_during, (old, new)) = tokio::join!(
        async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            drop(bob);
        },
        kill
    );
    let () = leave_during;
    println!(
        "master {old} killed; replica {new} took over in {:?}",
        killed.elapsed()
    );

    let mut after = Vec::new();
    let until = tokio::time::Instant::now() + Duration::from_secs(15);
    while let Ok(Some(envelope)) = tokio::time::timeout_at(until, page.next()).await {
        if let RoomEvent::Presence(change) = envelope.event {
            after.push((change.is_joined(), change.member().id.clone()));
        }
    }
    println!("presence events after the kill: {after:?}");
    assert_eq!(
        after,
        [(false, "bob".to_owned())],
        "bob's left once, nothing else"
    );

    let answers = listing.await.unwrap();
    let errors = answers.iter().filter(|answer| answer.is_err()).count();
    let full = ["ada", "bob", "cy"].map(str::to_owned).to_vec();
    let stayed = ["ada", "cy"].map(str::to_owned).to_vec();
    for answer in answers.iter().flatten() {
        assert!(
            answer == &full || answer == &stayed,
            "members() answered {answer:?}"
        );
    }
    println!(
        "members() during and after: {} answers, {errors} errors",
        answers.len()
    );
    let members: Vec<String> = observer
        .channel(channel.as_str())
        .presence()
        .members()
        .await
        .unwrap()
        .into_iter()
        .map(|member| member.id)
        .collect();
    assert_eq!(members, stayed);
}

/// The inspector's health view reads `Backend::health`: every node of the cluster with its
/// role, its master or replicas and its state, and the sharded pub/sub connections; after
/// a master is killed, its replica is listed as master and the dead node as failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_report_lists_every_node_and_follows_a_failover() {
    let _one = ONE_CLUSTER.lock().await;
    let mut cluster = PrivateCluster::start().await;
    let prefix = unique_prefix();
    let backend = backend(&cluster.url(), &prefix, Durability::Master).await;
    let masters = cluster.masters().await;
    let report = backend.health().await;
    assert_eq!(report.kind, "redis-cluster");
    assert!(report.error.is_none(), "{:?}", report.error);
    let listed_masters: Vec<&str> = report
        .nodes
        .iter()
        .filter(|node| node.role == "master")
        .map(|node| node.address.as_str())
        .collect();
    let expected: Vec<String> = masters
        .iter()
        .map(|port| format!("127.0.0.1:{port}"))
        .collect();
    let mut sorted_expected = expected.clone();
    sorted_expected.sort();
    assert_eq!(listed_masters, sorted_expected, "{report:#?}");
    for &master in &masters {
        let replica = format!("127.0.0.1:{}", cluster.replica_of(master).await);
        let node = report
            .nodes
            .iter()
            .find(|node| node.address == replica)
            .unwrap();
        assert_eq!((node.role.as_str(), node.state.as_str()), ("replica", "ok"));
        assert_eq!(
            node.master.as_deref(),
            Some(format!("127.0.0.1:{master}").as_str())
        );
        let master_node = report
            .nodes
            .iter()
            .find(|node| node.address == format!("127.0.0.1:{master}"))
            .unwrap();
        assert_eq!(master_node.replicas, [replica]);
    }
    assert_eq!(
        report.pubsub.as_ref().map(|pubsub| pubsub.mode.as_str()),
        Some("sharded")
    );

    let slot = cluster.key_slot(&backend.stream_key("health")).await;
    let (old_master, new_master) = cluster.kill_master_and_wait_for_failover(slot).await;
    // The other masters' views of the dead node settle within the cluster's node timeout.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let report = backend.health().await;
        let role = |port: u16| {
            report
                .nodes
                .iter()
                .find(|node| node.address == format!("127.0.0.1:{port}"))
                .map(|node| (node.role.clone(), node.state.clone()))
        };
        let promoted = role(new_master).is_some_and(|(role, _)| role == "master");
        let failed = role(old_master).is_some_and(|(_, state)| state != "ok");
        if promoted && failed {
            break;
        }
        assert!(Instant::now() < deadline, "after the failover: {report:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
