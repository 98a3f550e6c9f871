//! Shared helpers of the integration tests: the backends that the conformance suite runs
//! against, a private Redis and a private Redis Cluster for fault tests ([`cluster`]), and
//! (from the suite) the test event set.

#![allow(clippy::expect_used, clippy::panic)] // test helpers fail the test loudly

pub mod client_events;
pub mod cluster;
pub mod proxy;
pub mod server;
pub mod sse;

/// The README's Rust examples, compiled and run as doctests (this crate depends on every
/// crate of the workspace).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme {}

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use realtime_core::backend::redis::{RedisBackend, RedisOptions};
use realtime_core::backend::{Backend, MemoryBackend, MemoryOptions};

pub use realtime_core::backend::conformance::{
    PATIENCE, StorageOptions, TestEvent, TestEventKind, assert_quiet, take,
};
/// The backends the conformance suite runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// The embedded in-memory backend.
    Memory,
    /// Redis at [`redis_url`], each store under its own key prefix.
    Redis,
    /// The Redis Cluster at [`redis_cluster_url`], each store under its own key prefix.
    RedisCluster,
}

/// The Redis the tests use: `REDIS_URL`, by default the local one.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The Redis Cluster the tests use: `REDIS_CLUSTER_URL`, by default the local one that
/// `scripts/cluster start` brings up.
pub fn redis_cluster_url() -> String {
    std::env::var("REDIS_CLUSTER_URL").unwrap_or_else(|_| {
        "redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103".to_owned()
    })
}

/// Connects a Redis Cluster backend under a fresh prefix.
pub async fn redis_cluster_backend(options: RedisOptions) -> RedisBackend {
    let options = options.key_prefix(unique_prefix());
    let url = redis_cluster_url();
    RedisBackend::connect_url(&url, options)
        .await
        .unwrap_or_else(|error| {
            panic!("the Redis Cluster at {url} is needed for this test (scripts/cluster start): {error}")
        })
}

/// A key prefix no other test (or test run) uses.
pub fn unique_prefix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("test:{}:{nanos}:{n}:", std::process::id())
}

/// How long test streams live in Redis after their last emit, unless a case says
/// otherwise: long enough for any test, short enough not to pile up.
pub const TEST_STREAM_LIFETIME: Duration = Duration::from_secs(600);

/// Connects a Redis backend under a fresh prefix.
pub async fn redis_backend(options: RedisOptions) -> RedisBackend {
    let options = options.key_prefix(unique_prefix());
    RedisBackend::connect_with(&redis_url(), options)
        .await
        .unwrap_or_else(|error| panic!("Redis at {} is needed for this test: {error}", redis_url()))
}

impl BackendKind {
    /// Opens a fresh, isolated store of this kind.
    pub async fn open(self, options: StorageOptions) -> Arc<dyn Backend> {
        match self {
            BackendKind::Memory => {
                let defaults = MemoryOptions::default();
                Arc::new(MemoryBackend::with_options(MemoryOptions {
                    max_len: options.max_len.or(defaults.max_len),
                    expire_after: options.expire_after,
                    feed_capacity: options.feed_capacity.unwrap_or(defaults.feed_capacity),
                }))
            }
            BackendKind::Redis | BackendKind::RedisCluster => {
                let defaults = RedisOptions::default();
                let options = RedisOptions {
                    max_len: options.max_len,
                    expire_after: options.expire_after.or(Some(TEST_STREAM_LIFETIME)),
                    feed_capacity: options.feed_capacity.unwrap_or(defaults.feed_capacity),
                    ..defaults
                };
                if self == BackendKind::Redis {
                    Arc::new(redis_backend(options).await)
                } else {
                    Arc::new(redis_cluster_backend(options).await)
                }
            }
        }
    }
}

/// Runs each listed `async fn case(kind: BackendKind)` once per backend, as
/// `<backend>::<case>` tests.
#[macro_export]
macro_rules! for_each_backend {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($crate::BackendKind::Memory).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($crate::BackendKind::Redis).await;
                }
            )*
        }
    };
}

/// A redis-server of a test's own, on a free port, that the test may kill and restart
/// (the shared Redis is never stopped). Killed when dropped.
#[derive(Debug)]
pub struct PrivateRedis {
    port: u16,
    child: Option<std::process::Child>,
}

impl PrivateRedis {
    /// Starts a server on a free port and waits until it answers.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("a free port");
        let mut server = Self { port, child: None };
        server.restart().await;
        server
    }

    /// The server's address.
    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (no shutdown, nothing persisted).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// (Re)starts the server on the same port and waits until it answers.
    pub async fn restart(&mut self) {
        self.kill();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            // DEBUG SLEEP stalls the server for fault tests (refused on the shared Redis).
            .args(["--enable-debug-command", "local"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed for this test");
        self.child = Some(child);
        let client = redis::Client::open(self.url()).expect("a valid URL");
        for _ in 0..100 {
            if let Ok(mut connection) = client.get_multiplexed_async_connection().await {
                if redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
                    .is_ok()
                {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server on port {} did not start", self.port);
    }

    /// A plain connection for raw commands.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        raw_connection(&self.url()).await
    }

    /// Cuts every pub/sub connection (`CLIENT KILL TYPE pubsub`); how many were cut.
    pub async fn kill_pubsub_connections(&self) -> i64 {
        let mut admin = self.connection().await;
        redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("pubsub")
            .query_async(&mut admin)
            .await
            .expect("CLIENT KILL TYPE pubsub")
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing is answered.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused server (SIGCONT); it answers what queued up meanwhile.
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("the server is running");
        let status = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill {signal} failed");
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A plain connection to `url` for raw commands.
pub async fn raw_connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("a valid URL")
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|error| panic!("Redis at {url}: {error}"))
}
