//! Presence benchmark: 10,000 members on one channel of a Redis.
//!
//! ```sh
//! cargo bench -p realtime-core --features redis --bench presence
//! ```
//!
//! Runs its own `redis-server` (on a free port, killed at the end), so that `INFO
//! commandstats` counts this benchmark's commands alone. What it measures:
//!
//! 1. **Heartbeat cost**: 10,000 members joined with a 3 s TTL (a heartbeat per channel
//!    every second), held by one handle, then by two handles ("processes") of 5,000 each;
//!    the script calls Redis counted over 10 s (`cmdstat_evalsha` + `cmdstat_eval`),
//!    reported per heartbeat interval and channel, against the 10,000 per interval of one
//!    command per member; and the Redis time one heartbeat call takes (`usec` / `calls`).
//! 2. **`members()` of the 10,000-member channel** (sweep, fetch, schema check, decode,
//!    sort), against two baselines measured in the same run, alternating: a plain `HVALS`
//!    of the same records key over a raw connection (the bytes alone), and the backend's
//!    untyped `presence_members` (the script, without decoding).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use realtime_core::backend::Backend;
use realtime_core::backend::redis::{RedisBackend, RedisOptions};
use realtime_core::{PresenceChange, PresenceGuard, Realtime};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The median of `values` (0 when empty).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        len if len % 2 == 1 => values[len / 2],
        len => (values[len / 2 - 1] + values[len / 2]) / 2.0,
    }
}

/// A fresh key prefix, `bench:<pid>:<nanos>:`.
fn unique_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("bench:{}:{nanos}:", std::process::id())
}

/// What each member tells about itself: a realistic small record.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Debug)]
struct UserInfo {
    #[schemars(length(min = 1, max = 40))]
    name: String,
    avatar: String,
}

#[derive(realtime_core::Events, Clone, Debug)]
enum RoomEvent {
    #[event("room.message")]
    Message(String),
    #[event(presence)]
    Presence(PresenceChange<UserInfo>),
}

const MEMBERS: usize = 10_000;
const CHANNEL: &str = "big-room";
const TTL: Duration = Duration::from_secs(3);
/// A third of the TTL: how often each handle beats per channel.
const INTERVAL: Duration = Duration::from_secs(1);
const COUNT_FOR: Duration = Duration::from_secs(10);
const MEMBER_RUNS: usize = 30;

/// A redis-server of the benchmark's own; killed when dropped.
struct PrivateRedis {
    port: u16,
    child: std::process::Child,
}

impl PrivateRedis {
    async fn start() -> Result<Self, BoxError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()?;
        let server = Self { port, child };
        for _ in 0..100 {
            if let Ok(mut connection) = server.connection().await {
                if redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
                    .is_ok()
                {
                    return Ok(server);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("redis-server did not start".into())
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn connection(&self) -> Result<redis::aio::MultiplexedConnection, BoxError> {
        let client = redis::Client::open(self.url())?;
        Ok(client.get_multiplexed_async_connection().await?)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Script calls so far, and the microseconds Redis spent in them.
async fn script_calls(
    connection: &mut redis::aio::MultiplexedConnection,
) -> Result<(u64, u64), BoxError> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(connection)
        .await?;
    let mut calls = 0;
    let mut usec = 0;
    for line in info.lines() {
        let Some((name, stats)) = line.split_once(':') else {
            continue;
        };
        if name != "cmdstat_evalsha" && name != "cmdstat_eval" {
            continue;
        }
        for field in stats.split(',') {
            match field.split_once('=') {
                Some(("calls", value)) => calls += value.parse::<u64>()?,
                Some(("usec", value)) => usec += value.parse::<u64>()?,
                _ => {}
            }
        }
    }
    Ok((calls, usec))
}

async fn join_all(
    rt: &Realtime<RoomEvent>,
    ids: std::ops::Range<usize>,
) -> Result<Vec<PresenceGuard>, BoxError> {
    let presence = rt.channel(CHANNEL).presence();
    let joins = futures::stream::iter(ids)
        .map(|n| {
            let presence = presence.clone();
            async move {
                let info = UserInfo {
                    name: format!("User {n}"),
                    avatar: format!("https://example.com/avatars/{n}.png"),
                };
                presence.join(format!("user-{n}"), info, TTL).await
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    Ok(joins.into_iter().collect::<Result<Vec<_>, _>>()?)
}

async fn connect(server: &PrivateRedis, prefix: &str) -> Result<RedisBackend, BoxError> {
    let options = RedisOptions::default().key_prefix(prefix);
    Ok(RedisBackend::connect_with(&server.url(), options).await?)
}

/// Heartbeat script calls per interval and channel while `handles` hold the members.
async fn heartbeat_cost(
    admin: &mut redis::aio::MultiplexedConnection,
    label: &str,
) -> Result<(), BoxError> {
    // Let the first beats after the joins pass.
    tokio::time::sleep(INTERVAL * 2).await;
    let (before, usec_before) = script_calls(admin).await?;
    tokio::time::sleep(COUNT_FOR).await;
    let (after, usec_after) = script_calls(admin).await?;
    let usec = (usec_after - usec_before) as f64 / (after - before).max(1) as f64;
    let intervals = COUNT_FOR.as_secs_f64() / INTERVAL.as_secs_f64();
    let per_interval = (after - before) as f64 / intervals;
    println!(
        "{label:<34} {:>6} calls in {COUNT_FOR:?} = {per_interval:>5.2} per interval and channel \
         (one command per member: {MEMBERS}; ratio {:.5}); Redis time per \
         heartbeat call {usec:.0} µs",
        after - before,
        per_interval / MEMBERS as f64,
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), BoxError> {
    let server = PrivateRedis::start().await?;
    let mut admin = server.connection().await?;
    let prefix = unique_prefix();
    let backend = connect(&server, &prefix).await?;
    let rt = Realtime::<RoomEvent>::with_backend(backend.clone());

    println!(
        "# presence: {MEMBERS} members on one channel, TTL {TTL:?}, heartbeat every {INTERVAL:?}\n"
    );
    let started = Instant::now();
    let guards = join_all(&rt, 0..MEMBERS).await?;
    let took = started.elapsed();
    println!(
        "joins: {MEMBERS} in {:.2} s ({:.0} joins/s, 64 at a time)\n",
        took.as_secs_f64(),
        MEMBERS as f64 / took.as_secs_f64()
    );

    heartbeat_cost(&mut admin, "one handle, 10,000 members").await?;
    // Half the members move to a second handle: two "processes" on the channel.
    let second = Realtime::<RoomEvent>::with_backend(connect(&server, &prefix).await?);
    // Completion order is not join order: pick the moved members by id.
    let (moved, guards): (Vec<PresenceGuard>, Vec<PresenceGuard>) =
        guards.into_iter().partition(|guard| {
            let n: usize = guard
                .member()
                .trim_start_matches("user-")
                .parse()
                .unwrap_or(0);
            n >= MEMBERS / 2
        });
    for guard in moved {
        guard.leave().await?;
    }
    let second_guards = join_all(&second, MEMBERS / 2..MEMBERS).await?;
    heartbeat_cost(&mut admin, "two handles, 5,000 members each").await?;

    let presence = rt.channel(CHANNEL).presence();
    let records_key = format!("{prefix}{CHANNEL}#presence:records");
    let mut typed = Vec::new();
    let mut untyped = Vec::new();
    let mut hvals = Vec::new();
    for run in 0..MEMBER_RUNS + 3 {
        let started = Instant::now();
        let members = presence.members().await?;
        let typed_time = started.elapsed();
        assert_eq!(members.len(), MEMBERS);
        let started = Instant::now();
        let records = backend.presence_members(CHANNEL).await?;
        let untyped_time = started.elapsed();
        assert_eq!(records.len(), MEMBERS);
        let started = Instant::now();
        let raw: Vec<String> = redis::cmd("HVALS")
            .arg(&records_key)
            .query_async(&mut admin)
            .await?;
        let hvals_time = started.elapsed();
        assert_eq!(raw.len(), MEMBERS);
        if run >= 3 {
            typed.push(typed_time.as_secs_f64() * 1e3);
            untyped.push(untyped_time.as_secs_f64() * 1e3);
            hvals.push(hvals_time.as_secs_f64() * 1e3);
        }
    }
    let (typed, untyped, hvals) = (median(typed), median(untyped), median(hvals));
    println!("\nmembers() of {MEMBERS} members, median of {MEMBER_RUNS} runs (alternating):");
    println!("  baseline HVALS of the records key     {hvals:>7.2} ms   1.00x");
    println!(
        "  backend.presence_members (script)     {untyped:>7.2} ms   {:.2}x",
        untyped / hvals
    );
    println!(
        "  presence.members() (checked, typed)   {typed:>7.2} ms   {:.2}x",
        typed / hvals
    );

    drop(second_guards);
    drop(guards);
    Ok(())
}
