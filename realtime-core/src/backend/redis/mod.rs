//! The Redis backend: history in Redis Streams, live delivery over pub/sub.
//!
//! - Commands go over one multiplexed, auto-reconnecting connection; concurrent emits
//!   pipeline on it.
//! - An emit is one round trip and atomic: a Lua script appends to the stream (`XADD`,
//!   trimmed to `MAXLEN` when configured), refreshes its `EXPIRE`, and `PUBLISH`es the
//!   entry with its id, so publish order is stream order and a live message always
//!   carries its id.
//! - Live delivery uses ONE pub/sub connection for the whole process, whatever the number
//!   of channels and subscribers. It is pinged every second and replaced when a reply takes
//!   over 2 s; while it is down, every feed reads its stream at a steady pace (every
//!   250 ms, at most 1,000 streams per second), and when it is back every feed catches up
//!   from the streams (see [`FeedItem::Resync`](crate::backend::FeedItem::Resync)).
//!
//! ```no_run
//! use realtime_core::backend::redis::{KeyLayout, RedisBackend, RedisOptions};
//! # async fn demo() -> Result<(), realtime_core::backend::BackendError> {
//! let options = RedisOptions::default().max_len(10_000).key_layout(KeyLayout::Reference);
//! let backend = RedisBackend::connect_with("redis://127.0.0.1:6379", options).await?;
//! # Ok(()) }
//! ```

mod layout;
mod pubsub;

use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use layout::{DEFAULT_KEY_PREFIX, KeyLayout};

use super::{Appended, Backend, BackendError, BoxFuture, FailureKind, Feed, RawEntry, ReadRange};
use crate::cursor::Cursor;
use pubsub::PubSub;

const BACKEND: &str = "redis";

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
    /// seconds, at least 1); default: never.
    pub expire_after: Option<Duration>,
    /// The limit on one command's reply and on connecting; default 5 s.
    pub command_timeout: Duration,
    /// Live messages a feed may buffer before it must catch up from the stream;
    /// default 1,024.
    pub feed_capacity: usize,
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

    /// Sets the limit on one command and on connecting.
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }
}

/// Appends, expires and publishes in one atomic step, at most once per idempotency key;
/// its keys and arguments are named at the top of the file.
const EMIT_SCRIPT: &str = include_str!("emit.lua");

/// The Redis backend. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct RedisBackend {
    shared: Arc<Shared>,
}

struct Shared {
    commands: ConnectionManager,
    pubsub: PubSub,
    options: RedisOptions,
    emit: redis::Script,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("options", &self.shared.options)
            .finish_non_exhaustive()
    }
}

/// A failure with Redis's own words in the message (e.g. `WRONGTYPE ...`), and the error
/// as its source.
fn failure(message: impl Into<String>, source: redis::RedisError) -> BackendError {
    let message = format!("{}: {source}", message.into());
    BackendError::with_source(BACKEND, message, source)
}

/// What a failed command tells about its effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Redis answered with an error: the command ran and failed, or was refused.
    Answered,
    /// The command never reached Redis (it could not connect).
    NotSent,
    /// The connection was lost with the command in flight: it may or may not have run.
    /// A fresh connection may work at once.
    LostInFlight,
    /// No answer in time: it may or may not have run. Redis is stalled or cut off, so
    /// repeating it at once would only wait again.
    TimedOut,
}

impl Outcome {
    fn of(error: &redis::RedisError) -> Self {
        if is_answer(error) {
            Outcome::Answered
        } else if error.is_timeout() {
            Outcome::TimedOut
        } else if error.is_connection_refusal() {
            Outcome::NotSent
        } else {
            Outcome::LostInFlight
        }
    }

    /// Whether a command that failed this way is sent once more on a fresh connection:
    /// when it never reached Redis, or when it may have run but running it twice changes
    /// nothing (a read, or an emit with an idempotency key).
    fn repeat(self, repeatable: bool) -> bool {
        match self {
            Outcome::NotSent => true,
            Outcome::LostInFlight => repeatable,
            Outcome::Answered | Outcome::TimedOut => false,
        }
    }

    /// What the failure means for the caller of a write (`changes`) or a read.
    fn failure_kind(self, changes: bool) -> FailureKind {
        match self {
            Outcome::LostInFlight | Outcome::TimedOut if changes => FailureKind::OutcomeUnknown,
            _ => FailureKind::Unavailable,
        }
    }
}

/// Whether Redis itself answered with an error (rather than the connection failing).
fn is_answer(error: &redis::RedisError) -> bool {
    matches!(
        error.kind(),
        redis::ErrorKind::Server(_) | redis::ErrorKind::Extension
    ) || error.code().is_some()
}

/// A failed command, in words that say what it means for the caller: a key of another
/// type is a lasting refusal (without Redis's internals); a timeout or a connection lost
/// in flight leaves a write's outcome unknown; the rest is a passing unavailability.
fn command_failure(
    message: String,
    channel: &str,
    source: redis::RedisError,
    kind: FailureKind,
) -> BackendError {
    if source.code() == Some("WRONGTYPE") {
        let message = format!(
            "{message}: the key of channel `{channel}` holds data that is not an event \
             stream (written by something else); this will not succeed on retry"
        );
        return BackendError::with_source(BACKEND, message, source).kind(FailureKind::Refused);
    }
    failure(message, source).kind(kind)
}

impl RedisBackend {
    /// Connects with default options.
    ///
    /// # Errors
    /// When the URL is malformed or Redis cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, BackendError> {
        Self::connect_with(url, RedisOptions::default()).await
    }

    /// Connects with `options`.
    ///
    /// # Errors
    /// When the URL is malformed or Redis cannot be reached.
    pub async fn connect_with(url: &str, options: RedisOptions) -> Result<Self, BackendError> {
        options
            .key_layout
            .check()
            .map_err(|message| BackendError::new(BACKEND, message).kind(FailureKind::Refused))?;
        let client = redis::Client::open(url)
            .map_err(|source| failure(format!("invalid Redis URL `{url}`"), source))?;
        // RESP3 on the command connection: the manager then learns of a dropped connection
        // at once (a disconnect push) and reconnects before the next command, instead of
        // failing that command with "broken pipe".
        let info = client.get_connection_info().clone();
        let resp3 = info
            .redis_settings()
            .clone()
            .set_protocol(redis::ProtocolVersion::RESP3);
        let commands_client = redis::Client::open(info.set_redis_settings(resp3))
            .map_err(|source| failure(format!("invalid Redis URL `{url}`"), source))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.command_timeout))
            .set_response_timeout(Some(options.command_timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let commands = commands_client
            .get_connection_manager_with_config(config)
            .await
            .map_err(|source| failure(format!("cannot connect to Redis at `{url}`"), source))?;
        let pubsub = PubSub::start(client, options.command_timeout, options.feed_capacity);
        Ok(Self {
            shared: Arc::new(Shared {
                commands,
                pubsub,
                options,
                emit: redis::Script::new(EMIT_SCRIPT),
            }),
        })
    }

    /// The options in force.
    pub fn options(&self) -> &RedisOptions {
        &self.shared.options
    }

    /// The stream key of `channel` under this backend's layout.
    pub fn stream_key(&self, channel: &str) -> String {
        self.shared.options.key_layout.stream_key(channel)
    }

    /// The pub/sub channel of `channel` under this backend's layout.
    pub fn pubsub_channel(&self, channel: &str) -> String {
        self.shared.options.key_layout.pubsub_channel(channel)
    }

    /// Runs the emit script; with `once`, at most once per idempotency key.
    async fn append_entry(
        &self,
        channel: &str,
        event: &str,
        data: &str,
        once: Option<(&str, Duration)>,
    ) -> Result<Appended, BackendError> {
        let options = &self.shared.options;
        let layout = &options.key_layout;
        let max_len = options.max_len.map_or(0, |n| n.max(1));
        let trim = match options.trim {
            Trim::Exact => "=",
            Trim::Approximate => "~",
        };
        let expire = options
            .expire_after
            .map_or(0, |after| after.as_secs().max(1));
        let mut invocation = self.shared.emit.key(layout.stream_key(channel));
        if let Some((key, _)) = once {
            invocation.key(layout.idempotency_key(channel, key));
        }
        let window_ms = once.map_or(0, |(_, window)| {
            u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1)
        });
        invocation
            .arg(data)
            .arg(event)
            .arg(channel)
            .arg(layout.pubsub_channel(channel))
            .arg(layout::published_prefix(channel, event, data))
            .arg(max_len)
            .arg(trim)
            .arg(expire)
            .arg(window_ms);
        // See `Outcome::repeat`: at most one more attempt, only when it cannot duplicate.
        let mut retried = false;
        let (id, replayed): (String, i64) = loop {
            let mut connection = self.shared.commands.clone();
            match invocation.invoke_async(&mut connection).await {
                Ok(reply) => break reply,
                Err(source) => {
                    let outcome = Outcome::of(&source);
                    if !retried && outcome.repeat(once.is_some()) {
                        retried = true;
                        tracing::debug!(channel, error = %source, "emit sent once more on a fresh connection");
                        continue;
                    }
                    return Err(command_failure(
                        format!("emit to channel `{channel}` failed"),
                        channel,
                        source,
                        outcome.failure_kind(true),
                    ));
                }
            }
        };
        let id = id.parse().map_err(|_| {
            BackendError::new(BACKEND, format!("XADD returned a malformed id `{id}`"))
        })?;
        Ok(Appended {
            id,
            replayed: replayed != 0,
        })
    }

    async fn read_entries(
        &self,
        channel: &str,
        range: ReadRange,
    ) -> Result<Vec<RawEntry>, BackendError> {
        let start = bound_arg(range.start, "-");
        let end = bound_arg(range.end, "+");
        let mut command = if range.newest_first {
            let mut command = redis::cmd("XREVRANGE");
            command.arg(self.stream_key(channel)).arg(end).arg(start);
            command
        } else {
            let mut command = redis::cmd("XRANGE");
            command.arg(self.stream_key(channel)).arg(start).arg(end);
            command
        };
        command.arg("COUNT").arg(range.limit.max(1));
        // Reads change nothing: one lost with its connection is sent once more.
        let mut retried = false;
        let reply: redis::Value = loop {
            let mut connection = self.shared.commands.clone();
            match command.query_async(&mut connection).await {
                Ok(reply) => break reply,
                Err(source) => {
                    let outcome = Outcome::of(&source);
                    if !retried && outcome.repeat(true) {
                        retried = true;
                        continue;
                    }
                    return Err(command_failure(
                        format!("reading channel `{channel}` failed"),
                        channel,
                        source,
                        outcome.failure_kind(false),
                    ));
                }
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
            let appended = self.append_entry(channel, event, data, None).await?;
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
        Box::pin(self.append_entry(channel, event, data, Some((key, window))))
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
}
