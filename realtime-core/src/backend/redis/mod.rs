//! The Redis backend: history in Redis Streams, live delivery over pub/sub, on one Redis
//! or on a Redis Cluster.
//!
//! - Commands go over one multiplexed, auto-reconnecting connection (on a cluster, one per
//!   master, each command to the master of its channel's slot); concurrent emits pipeline
//!   on it.
//! - An emit is one round trip and atomic: a Lua script appends to the stream (`XADD`,
//!   trimmed to `MAXLEN` when configured), refreshes its `EXPIRE`, and publishes the
//!   entry with its id, so publish order is stream order and a live message always
//!   carries its id. With [`Durability::Replicated`], a `WAIT` follows on the same
//!   connection (one per batch of concurrent emits; on a cluster one per master for
//!   the batches it answered meanwhile) and the emit succeeds only once replicas have
//!   the entry.
//! - Live delivery uses ONE pub/sub connection for the whole process (on a cluster, one
//!   per master, with sharded pub/sub: `SSUBSCRIBE` / `SPUBLISH`), whatever the number of
//!   channels and subscribers. It is pinged every second and replaced when a reply takes
//!   over 2 s; while it is down, its channels' feeds read their streams at a steady pace
//!   (every 250 ms, at most 1,000 streams per second), and when it is back they catch up
//!   from the streams (see [`FeedItem::Resync`](crate::backend::FeedItem::Resync)).
//!
//! ```no_run
//! use realtime_core::backend::redis::{KeyLayout, RedisBackend, RedisOptions};
//! # async fn demo() -> Result<(), realtime_core::backend::BackendError> {
//! let options = RedisOptions::default().max_len(10_000).key_layout(KeyLayout::Reference);
//! let backend = RedisBackend::connect_with("redis://127.0.0.1:6379", options).await?;
//! // A cluster: any of its masters as seeds, the rest is discovered.
//! let seeds = ["redis://127.0.0.1:7101", "redis://127.0.0.1:7102"];
//! let cluster = RedisBackend::connect_cluster(&seeds, RedisOptions::default()).await?;
//! // Either, from one URL (`redis://...` or `redis+cluster://host:port,host:port`).
//! let backend = RedisBackend::connect_url("redis+cluster://127.0.0.1:7101", RedisOptions::default()).await?;
//! # Ok(()) }
//! ```

mod cluster;
mod commands;
mod emit;
mod health;
mod layout;
mod presence;
mod pubsub;
mod replica_shortage;
mod replica_wait;

use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManagerConfig;

pub use layout::{DEFAULT_KEY_PREFIX, KeyLayout};

/// Fault injection for this crate's tests (`testing` feature); not part of the API.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod testing {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    static RESUBSCRIBED_UNTIL_LIVE_MS: AtomicU64 = AtomicU64::new(0);

    /// Makes every pub/sub reconnect of this process (to one Redis, or to a cluster's
    /// master) wait `window` between resubscribing its channels (their messages already
    /// flow) and marking them live: widens a window that is otherwise microseconds long.
    /// `Duration::ZERO` ends it.
    pub fn widen_resubscribe_window(window: Duration) {
        let ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        RESUBSCRIBED_UNTIL_LIVE_MS.store(ms, Ordering::SeqCst);
    }

    pub(super) fn resubscribe_window() -> Duration {
        Duration::from_millis(RESUBSCRIBED_UNTIL_LIVE_MS.load(Ordering::SeqCst))
    }
}

use super::{
    Appended, Backend, BackendError, BackendHealth, BoxFuture, FailureKind, Feed, JoinOutcome,
    LeaveOutcome, PresenceJoin, PresenceLeave, RawEntry, ReadRange,
};
use crate::cursor::Cursor;
use cluster::ClusterCommands;
use commands::{Commands, Outcome, command_failure};
use pubsub::PubSub;

const BACKEND: &str = "redis";

/// When an emit counts as done.
///
/// Redis replicates asynchronously: a master acknowledges a write before any replica has
/// it, so if the master dies before replicating, a failover loses the newest acknowledged
/// emits. [`Replicated`](Durability::Replicated) closes that window at the price of a wait
/// for the replicas before an emit returns, shared by the emits that go together
/// (figures in `docs/benchmarks.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// Done when the master has the entry (Redis's default).
    #[default]
    Master,
    /// Done when at least `replicas` replicas also have it (`WAIT`), within `timeout`.
    /// Otherwise the emit fails with [`FailureKind::OutcomeUnknown`]: it is stored and
    /// was delivered live, but a failover may lose it; retry with an idempotency key.
    ///
    /// A master whose `WAIT` counted fewer replicas than asked (after a failover, the
    /// promoted replica has none until one attaches) is refused further emits before
    /// anything is stored, with [`FailureKind::Unavailable`], until `INFO replication`
    /// (asked at most once a second) shows enough replicas: as Redis's
    /// `min-replicas-to-write`, so that a retry loop ends.
    Replicated {
        /// How many replicas must have the entry.
        replicas: u32,
        /// How long to wait for them.
        timeout: Duration,
    },
}

/// How `MAXLEN` trims a stream on append.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Trim {
    /// `MAXLEN = n`: exactly `n` entries are kept (the reference's behaviour).
    #[default]
    Exact,
    /// `MAXLEN ~ n`: at least `n` entries are kept; Redis trims whole nodes, which is
    /// much cheaper on long streams.
    Approximate,
}

/// Settings of the Redis backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisOptions {
    /// Where channels live; default: streams and pub/sub channels under `realtime:`.
    pub key_layout: KeyLayout,
    /// Entries kept per channel (`XADD MAXLEN`); default: unbounded.
    pub max_len: Option<usize>,
    /// How `max_len` trims.
    pub trim: Trim,
    /// A channel's stream expires this long after its last emit (`EXPIRE`, whole
    /// seconds, at least 1), at most 1 s later (a process refreshes a channel's TTL at
    /// most once per second); default: never.
    pub expire_after: Option<Duration>,
    /// The limit on one command's reply and on connecting; default 5 s.
    pub command_timeout: Duration,
    /// Live messages a feed may buffer before it must catch up from the stream;
    /// default 1,024.
    pub feed_capacity: usize,
    /// When an emit counts as done; default: when the master has it.
    pub durability: Durability,
    /// Whether concurrent emits share script calls (group commit); default: yes. Off,
    /// every emit is its own script call (for comparison in benchmarks).
    pub group_commit: bool,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            key_layout: KeyLayout::default(),
            max_len: None,
            trim: Trim::Exact,
            expire_after: None,
            command_timeout: Duration::from_secs(5),
            feed_capacity: 1_024,
            durability: Durability::Master,
            group_commit: true,
        }
    }
}

impl RedisOptions {
    /// Sets where channels live.
    pub fn key_layout(mut self, layout: KeyLayout) -> Self {
        self.key_layout = layout;
        self
    }

    /// Puts streams and pub/sub channels under `prefix`.
    pub fn key_prefix(self, prefix: impl Into<String>) -> Self {
        self.key_layout(KeyLayout::Prefixed(prefix.into()))
    }

    /// Keeps at most `max_len` entries per channel.
    pub fn max_len(mut self, max_len: impl Into<Option<usize>>) -> Self {
        self.max_len = max_len.into();
        self
    }

    /// Sets how `max_len` trims.
    pub fn trim(mut self, trim: Trim) -> Self {
        self.trim = trim;
        self
    }

    /// Expires a channel's stream `after` its last emit.
    pub fn expire_after(mut self, after: impl Into<Option<Duration>>) -> Self {
        self.expire_after = after.into();
        self
    }

    /// Sets whether concurrent emits share script calls (group commit).
    pub fn group_commit(mut self, on: bool) -> Self {
        self.group_commit = on;
        self
    }

    /// Sets when an emit counts as done.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Sets the limit on one command and on connecting.
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }
}

/// Appends, expires and publishes in one atomic step, at most once per idempotency key;
/// its keys and arguments are named at the top of the file (the backend writes its
/// settings into the text: `emit::EmitScript`).
const EMIT_SCRIPT: &str = include_str!("emit.lua");

/// The emit of batches of one event that need nothing else (most emits): `emit.lua`'s
/// work with fewer arguments (see `emit::EmitScript`).
const EMIT_ONE_EVENT_SCRIPT: &str = include_str!("emit_one_event.lua");

/// The Redis backend. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct RedisBackend {
    shared: Arc<Shared>,
}

struct Shared {
    commands: Commands,
    /// Whether `commands` go to a cluster: keys are hash-tagged, live messages sharded.
    cluster: bool,
    pubsub: PubSub,
    options: RedisOptions,
    emit: emit::EmitScript,
    group: emit::GroupCommit,
    replica_waits: replica_wait::ReplicaWaits,
    replica_shortages: replica_shortage::ReplicaShortages,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("options", &self.shared.options)
            .finish_non_exhaustive()
    }
}

/// A failure with Redis's own words in the message (e.g. `WRONGTYPE ...`), and the error
/// as its source; what it means for the caller as for a read ([`commands::failure_kind`]).
fn failure(message: impl Into<String>, source: redis::RedisError) -> BackendError {
    let message = format!("{}: {source}", message.into());
    let kind = commands::failure_kind(&source, false);
    BackendError::with_source(BACKEND, message, source).kind(kind)
}

/// A URL that cannot be parsed: the same on every retry.
fn invalid_url(url: &str, source: redis::RedisError) -> BackendError {
    failure(format!("invalid Redis URL `{url}`"), source).kind(FailureKind::Refused)
}

/// The command connections' settings: replies and connecting bounded by
/// `command_timeout`, two reconnection attempts per command.
fn manager_config(options: &RedisOptions) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(options.command_timeout))
        .set_response_timeout(Some(options.command_timeout))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(1))
}

/// `url`'s settings with RESP3: a command connection then learns of a dropped connection
/// at once (a disconnect push) and reconnects before the next command, instead of failing
/// that command with "broken pipe".
fn resp3(url: &str) -> Result<redis::ConnectionInfo, BackendError> {
    let client = redis::Client::open(url).map_err(|source| invalid_url(url, source))?;
    let info = client.get_connection_info().clone();
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(redis::ProtocolVersion::RESP3);
    Ok(info.set_redis_settings(settings))
}

fn check_options(options: &RedisOptions) -> Result<(), BackendError> {
    options
        .key_layout
        .check()
        .map_err(|message| BackendError::new(BACKEND, message).kind(FailureKind::Refused))
}

impl RedisBackend {
    /// Connects with default options.
    ///
    /// # Errors
    /// When the URL is malformed or Redis cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, BackendError> {
        Self::connect_with(url, RedisOptions::default()).await
    }

    /// Connects to one Redis with `options`.
    ///
    /// # Errors
    /// When the URL is malformed or Redis cannot be reached.
    pub async fn connect_with(url: &str, options: RedisOptions) -> Result<Self, BackendError> {
        check_options(&options)?;
        let client = redis::Client::open(url).map_err(|source| invalid_url(url, source))?;
        let commands_client =
            redis::Client::open(resp3(url)?).map_err(|source| invalid_url(url, source))?;
        let commands = commands_client
            .get_connection_manager_with_config(manager_config(&options))
            .await
            .map_err(|source| failure(format!("cannot connect to Redis at `{url}`"), source))?;
        let pubsub = PubSub::start(client, options.command_timeout, options.feed_capacity);
        Ok(Self::assemble(
            Commands::Single(commands),
            false,
            pubsub,
            options,
        ))
    }

    /// Connects to a Redis Cluster with `options`. `seeds` are `redis://` URLs of some of
    /// its nodes (one that answers is enough; credentials are taken from the first); the
    /// others are discovered with `CLUSTER SLOTS`.
    ///
    /// Keys are hash-tagged ([`KeyLayout::cluster_stream_key`]) and live messages use
    /// sharded pub/sub (Redis 7).
    ///
    /// # Errors
    /// When a URL is malformed or no seed answers.
    pub async fn connect_cluster(
        seeds: &[impl AsRef<str>],
        options: RedisOptions,
    ) -> Result<Self, BackendError> {
        check_options(&options)?;
        let infos = seeds
            .iter()
            .map(|url| resp3(url.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let cluster = ClusterCommands::connect(&infos, manager_config(&options))
            .await
            .map_err(|message| {
                BackendError::new(
                    BACKEND,
                    format!("cannot connect to the Redis Cluster: {message}"),
                )
            })?;
        let pubsub = PubSub::start_sharded(
            cluster.clone(),
            options.command_timeout,
            options.feed_capacity,
        );
        Ok(Self::assemble(
            Commands::Cluster(cluster),
            true,
            pubsub,
            options,
        ))
    }

    /// Connects to one Redis (`redis://...`) or to a cluster
    /// (`redis+cluster://[user:password@]host:port[,host:port...]`), with `options`.
    ///
    /// # Errors
    /// When the URL is malformed or Redis cannot be reached.
    pub async fn connect_url(url: &str, options: RedisOptions) -> Result<Self, BackendError> {
        match cluster::seed_urls(url) {
            None => Self::connect_with(url, options).await,
            Some(Ok(seeds)) => Self::connect_cluster(&seeds, options).await,
            Some(Err(message)) => {
                Err(BackendError::new(BACKEND, message).kind(FailureKind::Refused))
            }
        }
    }

    fn assemble(commands: Commands, cluster: bool, pubsub: PubSub, options: RedisOptions) -> Self {
        Self {
            shared: Arc::new(Shared {
                commands,
                emit: emit::EmitScript::new(&options, cluster),
                cluster,
                pubsub,
                options,
                group: emit::GroupCommit::default(),
                replica_waits: replica_wait::ReplicaWaits::default(),
                replica_shortages: replica_shortage::ReplicaShortages::default(),
            }),
        }
    }

    /// The options in force.
    pub fn options(&self) -> &RedisOptions {
        &self.shared.options
    }

    /// Whether this backend talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.shared.cluster
    }

    /// The stream key of `channel` under this backend's layout.
    pub fn stream_key(&self, channel: &str) -> String {
        let layout = &self.shared.options.key_layout;
        if self.shared.cluster {
            layout.cluster_stream_key(channel)
        } else {
            layout.stream_key(channel)
        }
    }

    /// The pub/sub channel of `channel` under this backend's layout (on a cluster, a
    /// shard channel: `SPUBLISH` / `SSUBSCRIBE`).
    pub fn pubsub_channel(&self, channel: &str) -> String {
        self.stream_key(channel)
    }

    fn idempotency_key(&self, channel: &str, key: &str) -> String {
        let layout = &self.shared.options.key_layout;
        if self.shared.cluster {
            layout.cluster_idempotency_key(channel, key)
        } else {
            layout.idempotency_key(channel, key)
        }
    }

    async fn read_entries(
        &self,
        channel: &str,
        range: ReadRange,
    ) -> Result<Vec<RawEntry>, BackendError> {
        if holds_no_id(&range) {
            // Redis refuses such a range (`invalid start ID for the interval`) rather than
            // answer it with nothing; nothing is what is in it.
            return Ok(Vec::new());
        }
        let key = self.stream_key(channel);
        let start = bound_arg(range.start, "-");
        let end = bound_arg(range.end, "+");
        let mut command = if range.newest_first {
            let mut command = redis::cmd("XREVRANGE");
            command.arg(&key).arg(end).arg(start);
            command
        } else {
            let mut command = redis::cmd("XRANGE");
            command.arg(&key).arg(start).arg(end);
            command
        };
        command.arg("COUNT").arg(range.limit.max(1));
        let mut pipeline = redis::pipe();
        pipeline.ignore_errors().add_command(command);
        let failed = || format!("reading channel `{channel}` failed");
        // Reads change nothing: one lost with its connection is sent once more.
        let mut retried = false;
        let reply = loop {
            match self.shared.commands.send(&key, &pipeline).await {
                Ok(replies) => break replies.into_iter().next(),
                Err(source) => {
                    let outcome = Outcome::of(&source);
                    if !retried && outcome.repeat(true) {
                        retried = true;
                        continue;
                    }
                    return Err(command_failure(failed(), channel, source, false));
                }
            }
        };
        let reply = match reply {
            Some(Ok(reply)) => reply,
            Some(Err(source)) => {
                return Err(command_failure(failed(), channel, source, false));
            }
            None => {
                return Err(BackendError::new(
                    BACKEND,
                    format!("{}: no reply", failed()),
                ));
            }
        };
        let lenient = self.shared.options.key_layout.is_lenient();
        let mut entries = parse_entries(channel, reply, lenient)?;
        if range.newest_first {
            entries.reverse();
        }
        Ok(entries)
    }
}

/// Whether no stream id can lie in `range`: strictly after the largest id, or strictly
/// before the smallest.
fn holds_no_id(range: &ReadRange) -> bool {
    range.start == Bound::Excluded(Cursor::MAX) || range.end == Bound::Excluded(Cursor::MIN)
}

fn bound_arg(bound: Bound<Cursor>, unbounded: &str) -> String {
    match bound {
        Bound::Included(cursor) => cursor.to_string(),
        Bound::Excluded(cursor) => format!("({cursor}"),
        Bound::Unbounded => unbounded.to_owned(),
    }
}

/// Reads an `XRANGE` reply: `[[id, [field, value, ...]], ...]`. Entries whose id is
/// malformed are skipped with a warning; missing fields become empty strings, which the
/// typed layer rejects (and counts) as unknown events or invalid data.
fn parse_entries(
    channel: &str,
    reply: redis::Value,
    lenient: bool,
) -> Result<Vec<RawEntry>, BackendError> {
    let redis::Value::Array(items) = reply else {
        return Err(BackendError::new(
            BACKEND,
            format!("unexpected XRANGE reply for `{channel}`: {reply:?}"),
        ));
    };
    let mut entries = Vec::with_capacity(items.len());
    for item in items {
        let redis::Value::Array(parts) = item else {
            continue;
        };
        let mut parts = parts.into_iter();
        let (Some(id), Some(redis::Value::Array(fields))) = (parts.next(), parts.next()) else {
            continue;
        };
        let Some(id) = text(&id).and_then(|id| id.parse::<Cursor>().ok()) else {
            tracing::warn!(channel, ?id, "stream entry with a malformed id skipped");
            continue;
        };
        let mut event = None;
        let mut data = None;
        for pair in fields.chunks(2) {
            match (
                pair.first().and_then(text).as_deref(),
                pair.get(1).and_then(text),
            ) {
                (Some("event"), Some(value)) => event = Some(value),
                (Some("data"), Some(value)) => data = Some(value),
                _ => {}
            }
        }
        entries.push(RawEntry {
            id,
            event: Arc::from(event.unwrap_or_default()),
            data: Arc::from(data.unwrap_or_default()),
            lenient,
        });
    }
    Ok(entries)
}

fn text(value: &redis::Value) -> Option<String> {
    match value {
        redis::Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        redis::Value::SimpleString(text) => Some(text.clone()),
        redis::Value::Int(number) => Some(number.to_string()),
        _ => None,
    }
}

impl Backend for RedisBackend {
    fn name(&self) -> &'static str {
        BACKEND
    }

    fn append<'a>(
        &'a self,
        channel: &'a str,
        event: &'a str,
        data: &'a str,
    ) -> BoxFuture<'a, Result<Cursor, BackendError>> {
        Box::pin(async move {
            let appended = self
                .append_entry(emit::Entry {
                    channel: channel.into(),
                    event: event.into(),
                    data: data.into(),
                    once: None,
                })
                .await?;
            Ok(appended.id)
        })
    }

    fn append_once<'a>(
        &'a self,
        channel: &'a str,
        event: &'a str,
        data: &'a str,
        key: &'a str,
        window: Duration,
    ) -> BoxFuture<'a, Result<Appended, BackendError>> {
        Box::pin(self.append_entry(emit::Entry {
            channel: channel.into(),
            event: event.into(),
            data: data.into(),
            once: Some((key.into(), window)),
        }))
    }

    fn read<'a>(
        &'a self,
        channel: &'a str,
        range: ReadRange,
    ) -> BoxFuture<'a, Result<Vec<RawEntry>, BackendError>> {
        Box::pin(self.read_entries(channel, range))
    }

    fn listen<'a>(&'a self, channel: &'a str) -> BoxFuture<'a, Result<Feed, BackendError>> {
        Box::pin(self.shared.pubsub.listen(self.pubsub_channel(channel)))
    }

    fn listened_channels(&self) -> usize {
        self.shared.pubsub.subscribed_channels()
    }

    fn health(&self) -> BoxFuture<'_, BackendHealth> {
        Box::pin(async move {
            let shared = &self.shared;
            let nodes = health::nodes(&shared.commands, shared.cluster).await;
            let kind = if shared.cluster {
                "redis-cluster"
            } else {
                "redis"
            };
            let mut report = health::assemble(kind, nodes);
            report.pubsub = Some(shared.pubsub.health(shared.cluster));
            report
        })
    }

    fn presence_join<'a>(
        &'a self,
        channel: &'a str,
        join: PresenceJoin<'a>,
    ) -> BoxFuture<'a, Result<JoinOutcome, BackendError>> {
        Box::pin(self.presence_join_entry(channel, join))
    }

    fn presence_refresh<'a>(
        &'a self,
        channel: &'a str,
        lease: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, BackendError>> {
        Box::pin(self.presence_refresh_lease(channel, lease, ttl))
    }

    fn presence_leave<'a>(
        &'a self,
        channel: &'a str,
        leave: PresenceLeave<'a>,
    ) -> BoxFuture<'a, Result<LeaveOutcome, BackendError>> {
        Box::pin(self.presence_leave_entry(channel, leave))
    }

    fn presence_members<'a>(
        &'a self,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, BackendError>> {
        Box::pin(self.presence_member_records(channel))
    }
}
