//! Channel churn against a server in its own process (`e2e-server`, over a private
//! redis-server): clients open and close streams on thousands of distinct channels
//! (`user-<n>`), some dropped before their response head, while events are emitted to
//! them. Afterwards the server's subscriptions (its own counters and Redis's `PUBSUB
//! CHANNELS`) are back to zero and its memory (VmRSS) back near what it was after a
//! warm-up round of the same load.
//!
//! `CHURN_SECS` sets the measured round's length (default 60); the warm-up lasts a
//! quarter of it. The figures are printed (`--nocapture` shows them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use realtime_core::Realtime;
use realtime_core::backend::redis::{RedisBackend, RedisOptions};
use realtime_tests::sse::SseClient;
use realtime_tests::{PATIENCE, PrivateRedis, TestEvent, unique_prefix};
use tokio::io::AsyncWriteExt;

/// Channels the clients pick from...
const CHANNELS: u64 = 5_000;
/// ...one time in four among the first few, where the events go.
const HOT_CHANNELS: u64 = 20;
/// Clients churning at once.
const CLIENTS: u64 = 64;
/// Memory the measured round may add to the warm-up's, beyond noise: a leak of a route,
/// a tap or a task per channel (thousands of channels, many connections each) exceeds it.
const RSS_MARGIN_KB: u64 = 16 * 1024;

/// The server process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(redis: &PrivateRedis, prefix: &str, plain_axum: bool) -> Self {
        let root = std::env::temp_dir().join(format!("realtime-churn-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("index.html"), "<!doctype html>").unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_e2e-server"));
        command
            .args([
                "serve",
                "--port",
                &port.to_string(),
                "--redis",
                &redis.url(),
            ])
            .args(["--prefix", prefix, "--static"])
            .arg(&root)
            .arg("--exit-with-parent");
        if plain_axum {
            command.arg("--plain-axum");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the e2e-server binary runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("listening on"), "e2e-server said {line:?}");
        Self { child, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The server's resident memory, in kB.
    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/<pid>/status")
    }

    async fn stats(&self) -> serde_json::Value {
        reqwest::get(self.url("/stats"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the churn did.
#[derive(Debug, Default)]
struct Counts {
    streams: AtomicU64,
    dropped_early: AtomicU64,
    events: AtomicU64,
    emits: AtomicU64,
}

/// A small deterministic generator: the load must not depend on a seed nobody sees.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// One client until `until`: a stream on a random channel, held 0-300 ms (reading what
/// comes), then closed; one request in five is dropped right after it is sent instead
/// (before or after its response head, whichever comes first).
async fn churn(server_url: String, addr: String, seed: u64, until: Instant, counts: Arc<Counts>) {
    let mut random = Lcg(seed);
    let client = reqwest::Client::new();
    while Instant::now() < until {
        let n = if random.below(4) == 0 {
            random.below(HOT_CHANNELS)
        } else {
            random.below(CHANNELS)
        };
        let channel = format!("user-{n}");
        if random.below(5) == 0 {
            let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let request = format!(
                "GET /api/realtime?channel={channel} HTTP/1.1\r\nhost: test\r\n\
                 accept: text/event-stream\r\n\r\n"
            );
            let _ = socket.write_all(request.as_bytes()).await;
            tokio::time::sleep(Duration::from_micros(random.below(2_000))).await;
            drop(socket);
            counts.dropped_early.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let mut stream = SseClient::connect_with(
            client.get(format!("{server_url}/api/realtime?channel={channel}")),
        )
        .await;
        assert_eq!(stream.status, reqwest::StatusCode::OK);
        assert_eq!(stream.next_json().await["type"], "connected");
        counts.streams.fetch_add(1, Ordering::Relaxed);
        let hold = Duration::from_millis(random.below(300));
        while let Ok(frame) = tokio::time::timeout(hold, stream.next_json()).await {
            assert_eq!(frame["event"], "counter.tick", "{frame}");
            counts.events.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Emits a tick to a random hot channel every 20 ms until `until`.
async fn emit(rt: Realtime<TestEvent>, until: Instant, counts: Arc<Counts>) {
    let mut random = Lcg(u64::MAX);
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    while Instant::now() < until {
        ticker.tick().await;
        let channel = format!("user-{}", random.below(HOT_CHANNELS));
        rt.channel(channel).emit(&TestEvent::Tick(1)).await.unwrap();
        counts.emits.fetch_add(1, Ordering::Relaxed);
    }
}

async fn round(server: &Server, rt: &Realtime<TestEvent>, length: Duration) -> Arc<Counts> {
    let counts = Arc::new(Counts::default());
    let until = Instant::now() + length;
    let addr = format!("127.0.0.1:{}", server.port);
    let clients = (0..CLIENTS).map(|n| {
        tokio::spawn(churn(
            server.url(""),
            addr.clone(),
            n + 1,
            until,
            Arc::clone(&counts),
        ))
    });
    let emitter = tokio::spawn(emit(rt.clone(), until, Arc::clone(&counts)));
    for client in futures::future::join_all(clients).await {
        client.unwrap();
    }
    emitter.await.unwrap();
    counts
}

/// Waits until the server holds no stream and no subscription, on its side and Redis's.
async fn wait_until_idle(server: &Server, redis: &PrivateRedis) {
    let mut admin = redis.connection().await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let stats = server.stats().await;
        let subscribed: Vec<String> = redis::cmd("PUBSUB")
            .arg("CHANNELS")
            .query_async(&mut admin)
            .await
            .unwrap();
        let idle = stats["live_channels"] == 0
            && stats["listened_channels"] == 0
            && stats["open_streams"] == 0
            && subscribed.is_empty();
        if idle {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not idle {PATIENCE:?} after the churn: {stats}, {} channels subscribed on Redis",
            subscribed.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_churn_returns_subscriptions_and_memory_to_baseline_on_realtime_serve() {
    churn_returns_to_baseline(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_churn_returns_subscriptions_and_memory_to_baseline_on_axum_serve() {
    churn_returns_to_baseline(true).await;
}

async fn churn_returns_to_baseline(plain_axum: bool) {
    let length = Duration::from_secs(
        std::env::var("CHURN_SECS")
            .ok()
            .and_then(|secs| secs.parse().ok())
            .unwrap_or(60),
    );
    let redis = PrivateRedis::start().await;
    let prefix = unique_prefix();
    let server = Server::start(&redis, &prefix, plain_axum);
    let backend =
        RedisBackend::connect_with(&redis.url(), RedisOptions::default().key_prefix(&prefix))
            .await
            .unwrap();
    let rt = Realtime::<TestEvent>::with_backend(backend);

    let started_rss = server.rss_kb();
    let warm_up = round(&server, &rt, length / 4).await;
    wait_until_idle(&server, &redis).await;
    let baseline_rss = server.rss_kb();

    let counts = round(&server, &rt, length).await;
    wait_until_idle(&server, &redis).await;
    let after_rss = server.rss_kb();
    eprintln!(
        "{} churn {length:?} over {CHANNELS} channels, {CLIENTS} clients: {} streams, {} dropped \
         before the head, {} events received, {} emitted (warm-up: {} streams); \
         RSS {started_rss} kB at start, {baseline_rss} kB after the warm-up, {after_rss} kB after",
        if plain_axum {
            "axum::serve"
        } else {
            "realtime_axum::serve"
        },
        counts.streams.load(Ordering::Relaxed),
        counts.dropped_early.load(Ordering::Relaxed),
        counts.events.load(Ordering::Relaxed),
        counts.emits.load(Ordering::Relaxed),
        warm_up.streams.load(Ordering::Relaxed),
    );
    assert!(
        counts.streams.load(Ordering::Relaxed) > 1_000,
        "the churn opened thousands of streams"
    );
    assert!(
        after_rss <= baseline_rss + RSS_MARGIN_KB,
        "memory returns near its warm-up level: {after_rss} kB after, {baseline_rss} kB before"
    );
}
