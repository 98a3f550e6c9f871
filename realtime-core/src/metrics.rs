//! The metrics the framework records, named in one place.
//!
//! Everything is recorded through the [`metrics`] facade, so the app chooses the
//! exporter (Prometheus, StatsD, OpenTelemetry, ...) by installing a recorder at startup;
//! without one every recording is a no-op that allocates nothing. Call [`describe`] once,
//! after installing the recorder, to give each metric its help text and unit.
//!
//! ```
//! use realtime_core::metrics;
//!
//! // After installing a recorder, e.g. metrics_exporter_prometheus::PrometheusBuilder:
//! metrics::describe();
//! assert_eq!(metrics::EMITS, "realtime_emits_total");
//! ```
//!
//! Labels have bounded values: event names (declared by the app's event set), outcomes,
//! close reasons, HTTP statuses, pub/sub modes. Channel names are never a label: they are
//! chosen by clients, unbounded, and would make a new time series per channel. Spans of
//! the `tracing` crate carry them instead (`emit`, `subscribe`, `sse_stream`).
//!
//! What each metric means, the alerts worth setting and a dashboard: `docs/guide/operating.md`.

use ::metrics::{
    Key, Label, Level, Metadata, Unit, describe_counter, describe_gauge, describe_histogram,
};

use std::sync::Mutex;

use crate::error::Error;
use crate::util::lock;

pub use crate::totals::{LAG_BUCKETS_MS, ProcessTotals};

/// Counter, labels [`EVENT`] and [`OUTCOME`]: emits by event and outcome
/// ([`OUTCOME_OK`], [`OUTCOME_INVALID`], [`OUTCOME_BAD_REQUEST`],
/// [`OUTCOME_STORAGE_ERROR`], [`OUTCOME_UNKNOWN`], [`OUTCOME_ERROR`]). An emit to several
/// channels ([`Realtime::emit_to`](crate::Realtime::emit_to)) counts once per channel.
pub const EMITS: &str = "realtime_emits_total";
/// Histogram, seconds: how long an emit that reached storage took (validation, store and
/// publish), whatever its outcome.
pub const EMIT_DURATION: &str = "realtime_emit_duration_seconds";
/// Counter, label [`EVENT`]: messages handed to the in-process fan-out, once per message
/// per process however many subscribers it has (read from the live feed or caught up from
/// history).
pub const DELIVERIES: &str = "realtime_deliveries_total";
/// Histogram, seconds: from the emit (the millisecond in the message's id) to its hand-over
/// to the in-process fan-out, once per message per process. Millisecond resolution; across
/// machines it includes their clock difference.
pub const DELIVERY_LAG: &str = "realtime_delivery_lag_seconds";
/// Counter: times a subscriber fell behind the in-process fan-out (more than
/// `fanout_capacity` messages) and caught up from history.
pub const CATCH_UPS: &str = "realtime_catch_ups_total";
/// Counter: times a channel's shared feed was told to resync (its live queue overflowed,
/// the pub/sub connection came back, or a poll while it was down) and read from history.
pub const FEED_RESYNCS: &str = "realtime_feed_resyncs_total";
/// Counter: stored entries read (live, replayed, in history queries) that were not
/// delivered because their event name is unknown or their data breaks the schema.
pub const STORED_ENTRIES_REJECTED: &str = "realtime_stored_entries_rejected_total";
/// Counter, label [`MODE`]: Redis pub/sub connections lost (each is replaced with back-off;
/// its channels are polled meanwhile).
pub const PUBSUB_RECONNECTS: &str = "realtime_pubsub_reconnects_total";
/// Gauge, label [`MODE`]: open Redis pub/sub connections (one per process on one Redis;
/// one per master with subscribed channels on a cluster).
pub const PUBSUB_CONNECTIONS: &str = "realtime_pubsub_connections";
/// Gauge: event streams (SSE) open now.
pub const SSE_OPEN_STREAMS: &str = "realtime_sse_open_streams";
/// Counter: event streams (SSE) opened.
pub const SSE_STREAMS_OPENED: &str = "realtime_sse_streams_opened_total";
/// Counter, label [`REASON`]: event streams (SSE) closed, by why
/// ([`CLOSED_CLIENT_GONE`], [`CLOSED_SHUTDOWN`], [`CLOSED_MAX_DURATION`],
/// [`CLOSED_FEED_ENDED`]).
pub const SSE_STREAMS_CLOSED: &str = "realtime_sse_streams_closed_total";
/// Counter: event frames written to event streams, one per message per connection.
pub const SSE_EVENTS_SENT: &str = "realtime_sse_events_sent_total";
/// Counter, labels [`ROUTE`] (`stream`, `emit`) and [`STATUS`]: requests the endpoint
/// refused, by HTTP status (400 bad query, 401/403 from the authorization hook, 503 too
/// many streams or shutting down, 422 invalid event, ...; 204 for a stale automatic
/// reconnect told to come back with fresh cursors).
pub const HTTP_REFUSED: &str = "realtime_http_refused_total";
/// Gauge: presence connections this process holds (kept alive by its heartbeats): one per
/// `PresenceGuard`, so a member with two tabs on this process counts twice. Summed over
/// the processes it is the app's presence load; the members of one channel are
/// `Presence::members`.
pub const PRESENCE_CONNECTIONS: &str = "realtime_presence_connections";

/// Gauge: Redis masters this process found short of replicas for
/// `Durability::Replicated` (a `WAIT` counted fewer than asked, and `INFO replication`
/// has not shown enough attached since): replicated emits to them are refused (503,
/// nothing stored). Above 0 after a failover until a replica attaches to the new master.
pub const REPLICA_SHORTAGES: &str = "realtime_replica_shortages";

/// Label: the event name, as declared by the event set (`(unknown)` for an emit naming
/// no event of the set).
pub const EVENT: &str = "event";
/// Label: how an emit ended.
pub const OUTCOME: &str = "outcome";
/// Label: why an event stream closed.
pub const REASON: &str = "reason";
/// Label: which route refused a request, `stream` (`GET`) or `emit` (`POST`).
pub const ROUTE: &str = "route";
/// Label: the HTTP status of a refusal, e.g. `400`.
pub const STATUS: &str = "status";
/// Label: the Redis pub/sub flavour, [`MODE_SINGLE`] or [`MODE_SHARDED`].
pub const MODE: &str = "mode";

/// [`EVENT`] of an emit whose event name is not one of the event set.
pub const UNKNOWN_EVENT: &str = "(unknown)";
/// [`OUTCOME`]: stored and published.
pub const OUTCOME_OK: &str = "ok";
/// [`OUTCOME`]: refused by the schema (unknown event, data that breaks the schema or does
/// not decode); nothing stored.
pub const OUTCOME_INVALID: &str = "invalid";
/// [`OUTCOME`]: a bad channel name or idempotency key, or a key reused for another event;
/// nothing stored.
pub const OUTCOME_BAD_REQUEST: &str = "bad_request";
/// [`OUTCOME`]: storage failed or refused; nothing stored.
pub const OUTCOME_STORAGE_ERROR: &str = "storage_error";
/// [`OUTCOME`]: sent to storage without an answer: it may have been stored.
pub const OUTCOME_UNKNOWN: &str = "outcome_unknown";
/// [`OUTCOME`]: anything else (an event that does not serialize, a schema that does not
/// compile).
pub const OUTCOME_ERROR: &str = "error";
/// [`REASON`]: the client went away, or the server closed the connection (a write stall,
/// the end of the shutdown grace period).
pub const CLOSED_CLIENT_GONE: &str = "client_gone";
/// [`REASON`]: the endpoint shut down and sent `reconnect`.
pub const CLOSED_SHUTDOWN: &str = "shutdown";
/// [`REASON`]: the stream reached its maximum duration and sent `reconnect`.
pub const CLOSED_MAX_DURATION: &str = "max_duration";
/// [`REASON`]: every channel's feed ended (the backend stopped) and the stream sent an
/// error frame.
pub const CLOSED_FEED_ENDED: &str = "feed_ended";
/// [`MODE`]: `SUBSCRIBE` on one Redis.
pub const MODE_SINGLE: &str = "single";
/// [`MODE`]: `SSUBSCRIBE` on a Redis Cluster.
pub const MODE_SHARDED: &str = "sharded";

/// Gives every metric its help text and unit in the installed recorder, and writes the
/// gauges of the process's state (open streams, connections) as they are now. Call it once
/// after installing the recorder (the Prometheus exporter writes the help as `# HELP`
/// lines); calling it without a recorder does nothing.
pub fn describe() {
    describe_counter!(EMITS, Unit::Count, "Emits by event and outcome");
    describe_histogram!(
        EMIT_DURATION,
        Unit::Seconds,
        "Time of an emit that reached storage: validate, store and publish"
    );
    describe_counter!(
        DELIVERIES,
        Unit::Count,
        "Messages handed to the in-process fan-out, once per message per process"
    );
    describe_histogram!(
        DELIVERY_LAG,
        Unit::Seconds,
        "From an emit (its id's millisecond) to its hand-over to the in-process fan-out"
    );
    describe_counter!(
        CATCH_UPS,
        Unit::Count,
        "Subscribers that fell behind the fan-out and caught up from history"
    );
    describe_counter!(
        FEED_RESYNCS,
        Unit::Count,
        "Channel feeds told to resync and read from history"
    );
    describe_counter!(
        STORED_ENTRIES_REJECTED,
        Unit::Count,
        "Stored entries not delivered: unknown event or data that breaks the schema"
    );
    describe_counter!(
        PUBSUB_RECONNECTS,
        Unit::Count,
        "Redis pub/sub connections lost and replaced"
    );
    describe_gauge!(
        PUBSUB_CONNECTIONS,
        Unit::Count,
        "Open Redis pub/sub connections"
    );
    describe_gauge!(SSE_OPEN_STREAMS, Unit::Count, "Event streams open now");
    describe_counter!(SSE_STREAMS_OPENED, Unit::Count, "Event streams opened");
    describe_counter!(
        SSE_STREAMS_CLOSED,
        Unit::Count,
        "Event streams closed, by reason"
    );
    describe_counter!(
        SSE_EVENTS_SENT,
        Unit::Count,
        "Event frames written to event streams, one per message per connection"
    );
    describe_counter!(
        HTTP_REFUSED,
        Unit::Count,
        "Requests refused by the realtime endpoint, by route and HTTP status"
    );
    describe_gauge!(
        REPLICA_SHORTAGES,
        Unit::Count,
        "Redis masters short of replicas for Durability::Replicated: emits to them refused"
    );
    describe_gauge!(
        PRESENCE_CONNECTIONS,
        Unit::Count,
        "Presence connections held by this process (one per PresenceGuard)"
    );
    for gauge in STATE_GAUGES {
        gauge.publish();
    }
}

/// The process's totals now (over every `Realtime` handle), readable without a recorder:
/// two snapshots a second apart give rates.
///
/// ```
/// let before = realtime_core::metrics::totals();
/// let after = realtime_core::metrics::totals();
/// assert!(after.emits >= before.emits);
/// assert_eq!(after.delivery_lag_ms.len(), realtime_core::metrics::LAG_BUCKETS_MS.len() + 1);
/// ```
pub fn totals() -> ProcessTotals {
    crate::totals::snapshot(SSE_OPEN_STREAMS_GAUGE.level())
}

/// Where the framework's own recordings say they come from.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// Adds `by` to the counter `key` in the installed recorder (nothing without one).
///
/// The keys are built once (static, or per event set in [`EventKeys`]), so a recording
/// neither hashes nor allocates; the `metrics` macros would build the key on every call.
pub(crate) fn increment(key: &Key, by: u64) {
    ::metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA).increment(by));
}

/// Records `value` in the histogram `key`.
pub(crate) fn record(key: &Key, value: f64) {
    ::metrics::with_recorder(|recorder| recorder.register_histogram(key, &METADATA).record(value));
}

/// A gauge of the process's state now (connections, open streams), right whenever it is
/// read: its level is kept in the process and written whole to the recorder at every
/// change, and again by [`describe`]. Increments and decrements sent to a recorder
/// installed after some of them would leave it off (even negative) for the process's
/// life.
#[derive(Debug)]
pub struct StateGauge {
    key: Key,
    /// The level, and whether it ever changed (a gauge nothing touched is not written, so
    /// e.g. a memory backend exports no pub/sub connections at all rather than 0).
    level: Mutex<(i64, bool)>,
}

impl StateGauge {
    const fn new(key: Key) -> Self {
        Self {
            key,
            level: Mutex::new((0, false)),
        }
    }

    /// Adds `delta` (negative to subtract) and writes the new level to the recorder.
    pub fn add(&self, delta: i64) {
        // Held while writing, so concurrent changes reach the recorder in their order.
        let mut level = lock(&self.level);
        *level = (level.0 + delta, true);
        self.write(level.0);
    }

    /// The level now.
    pub fn level(&self) -> i64 {
        lock(&self.level).0
    }

    /// Writes the level to the recorder, if it ever changed.
    fn publish(&self) {
        let level = lock(&self.level);
        if level.1 {
            self.write(level.0);
        }
    }

    #[allow(clippy::cast_precision_loss)] // levels are far below 2^52
    fn write(&self, level: i64) {
        ::metrics::with_recorder(|recorder| {
            recorder
                .register_gauge(&self.key, &METADATA)
                .set(level as f64);
        });
    }
}

static MODE_SINGLE_LABELS: [Label; 1] = [Label::from_static_parts(MODE, MODE_SINGLE)];
static MODE_SHARDED_LABELS: [Label; 1] = [Label::from_static_parts(MODE, MODE_SHARDED)];

/// The level of [`SSE_OPEN_STREAMS`] (changed by the SSE endpoint of `realtime-axum`).
pub static SSE_OPEN_STREAMS_GAUGE: StateGauge =
    StateGauge::new(Key::from_static_name(SSE_OPEN_STREAMS));
/// The level of [`PRESENCE_CONNECTIONS`].
pub(crate) static PRESENCE_CONNECTIONS_GAUGE: StateGauge =
    StateGauge::new(Key::from_static_name(PRESENCE_CONNECTIONS));
/// The level of [`PUBSUB_CONNECTIONS`] on one Redis.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) static PUBSUB_CONNECTIONS_SINGLE_GAUGE: StateGauge = StateGauge::new(
    Key::from_static_parts(PUBSUB_CONNECTIONS, &MODE_SINGLE_LABELS),
);
/// The level of [`PUBSUB_CONNECTIONS`] on a Redis Cluster.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) static PUBSUB_CONNECTIONS_SHARDED_GAUGE: StateGauge = StateGauge::new(
    Key::from_static_parts(PUBSUB_CONNECTIONS, &MODE_SHARDED_LABELS),
);

/// The level of [`REPLICA_SHORTAGES`].
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) static REPLICA_SHORTAGES_GAUGE: StateGauge =
    StateGauge::new(Key::from_static_name(REPLICA_SHORTAGES));

/// Every state gauge, written again by [`describe`].
static STATE_GAUGES: [&StateGauge; 5] = [
    &REPLICA_SHORTAGES_GAUGE,
    &SSE_OPEN_STREAMS_GAUGE,
    &PRESENCE_CONNECTIONS_GAUGE,
    &PUBSUB_CONNECTIONS_SINGLE_GAUGE,
    &PUBSUB_CONNECTIONS_SHARDED_GAUGE,
];

pub(crate) static EMIT_DURATION_KEY: Key = Key::from_static_name(EMIT_DURATION);
pub(crate) static DELIVERY_LAG_KEY: Key = Key::from_static_name(DELIVERY_LAG);
pub(crate) static CATCH_UPS_KEY: Key = Key::from_static_name(CATCH_UPS);
pub(crate) static FEED_RESYNCS_KEY: Key = Key::from_static_name(FEED_RESYNCS);
pub(crate) static STORED_ENTRIES_REJECTED_KEY: Key = Key::from_static_name(STORED_ENTRIES_REJECTED);

/// How an emit ended, as the [`OUTCOME`] label says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Invalid,
    BadRequest,
    StorageError,
    Unknown,
    Error,
}

impl Outcome {
    const ALL: [Outcome; 6] = [
        Outcome::Ok,
        Outcome::Invalid,
        Outcome::BadRequest,
        Outcome::StorageError,
        Outcome::Unknown,
        Outcome::Error,
    ];

    pub(crate) fn of<T>(result: &Result<T, Error>) -> Self {
        result.as_ref().map_or_else(Self::of_error, |_| Outcome::Ok)
    }

    pub(crate) fn of_error(error: &Error) -> Self {
        match error {
            Error::UnknownEvent(_) | Error::Decode(_) | Error::Invalid(_) => Outcome::Invalid,
            Error::InvalidChannel(_)
            | Error::InvalidIdempotencyKey(_)
            | Error::IdempotencyKeyReused { .. } => Outcome::BadRequest,
            Error::Backend(_) => Outcome::StorageError,
            Error::OutcomeUnknown { .. } => Outcome::Unknown,
            _ => Outcome::Error,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => OUTCOME_OK,
            Outcome::Invalid => OUTCOME_INVALID,
            Outcome::BadRequest => OUTCOME_BAD_REQUEST,
            Outcome::StorageError => OUTCOME_STORAGE_ERROR,
            Outcome::Unknown => OUTCOME_UNKNOWN,
            Outcome::Error => OUTCOME_ERROR,
        }
    }

    /// Whether the emit got as far as storage (its duration is recorded).
    pub(crate) fn reached_storage(self) -> bool {
        matches!(self, Outcome::Ok | Outcome::StorageError | Outcome::Unknown)
    }
}

/// The keys labelled with an event name, built once per event set: index `i` is the event
/// of [`EventKind::index`](crate::EventKind::index) `i`; the last emit row is
/// [`UNKNOWN_EVENT`].
pub(crate) struct EventKeys {
    emits: Vec<[Key; Outcome::ALL.len()]>,
    deliveries: Vec<Key>,
}

impl std::fmt::Debug for EventKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventKeys")
            .field("events", &self.deliveries.len())
            .finish()
    }
}

impl EventKeys {
    pub(crate) fn new(names: &'static [&'static str]) -> Self {
        let labelled = |name: &'static str, event: &'static str, more: Option<Label>| {
            let mut labels = vec![Label::from_static_parts(EVENT, event)];
            labels.extend(more);
            Key::from_parts(name, labels)
        };
        let emits = names
            .iter()
            .chain([&UNKNOWN_EVENT])
            .map(|event| {
                Outcome::ALL.map(|outcome| {
                    labelled(
                        EMITS,
                        event,
                        Some(Label::from_static_parts(OUTCOME, outcome.label())),
                    )
                })
            })
            .collect();
        let deliveries = names
            .iter()
            .map(|event| labelled(DELIVERIES, event, None))
            .collect();
        Self { emits, deliveries }
    }

    /// Counts an emit of the event at `index` (`None`: a name the set does not have).
    pub(crate) fn emit(&self, index: Option<usize>, outcome: Outcome) {
        let row = index
            .and_then(|index| self.emits.get(index))
            .or_else(|| self.emits.last());
        if let Some(row) = row {
            increment(&row[outcome as usize], 1);
        }
    }

    /// Counts a message of the event at `index` handed to the fan-out.
    pub(crate) fn delivery(&self, index: usize) {
        if let Some(key) = self.deliveries.get(index) {
            increment(key, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_index_their_own_label() {
        for (position, outcome) in Outcome::ALL.iter().enumerate() {
            assert_eq!(*outcome as usize, position);
        }
    }

    #[test]
    fn event_keys_carry_the_event_and_outcome() {
        let keys = EventKeys::new(&["chat.message", "chat.joined"]);
        let labels = |key: &Key| {
            key.labels()
                .map(|label| format!("{}={}", label.key(), label.value()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            labels(&keys.emits[1][Outcome::Invalid as usize]),
            ["event=chat.joined", "outcome=invalid"]
        );
        assert_eq!(
            labels(&keys.emits[2][Outcome::Ok as usize]),
            ["event=(unknown)", "outcome=ok"]
        );
        assert_eq!(labels(&keys.deliveries[0]), ["event=chat.message"]);
        assert_eq!(keys.deliveries[0].name(), DELIVERIES);
    }
}
