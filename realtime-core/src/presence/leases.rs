//! The connections this process holds in channels' presence, and the heartbeat task that
//! keeps them alive: per channel, one backend call per interval for all of its
//! connections (for Redis: one script call), not one per member.
//!
//! One task per [`Realtime`](crate::Realtime) handle (shared by its clones), started with
//! the first connection or watcher and stopped when the handle's last clone is dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::backend::{Backend, PresenceJoin, PresenceLease};
use crate::channel_name::ChannelName;
use crate::util::{lock, now_ms};

/// How often a channel that this process watches ([`Presence::changes`]) but holds no
/// connection in is swept, so that members of a process that died are announced as
/// gone: within their TTL plus this.
///
/// [`Presence::changes`]: crate::Presence::changes
pub const WATCH_SWEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Heartbeats of different channels in flight at once; the others wait their turn.
const CONCURRENT_HEARTBEATS: usize = 32;

/// Leaves started by dropped guards that may run at once; past it, a dropped guard's
/// connection is left to expire by its TTL.
pub(crate) const MAX_PENDING_LEAVES: usize = 1_024;

/// A failed heartbeat is tried again this soon (or at the channel's interval, if shorter).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// One connection's lease: what is needed to refresh it, or to join it again when it
/// expired meanwhile (the process stalled past its TTL).
#[derive(Debug)]
struct Lease {
    member: String,
    record: Arc<str>,
    ttl: Duration,
}

#[derive(Debug)]
struct ChannelLeases {
    connections: HashMap<Arc<str>, Lease>,
    watchers: usize,
    due: Instant,
}

impl ChannelLeases {
    fn new(due: Instant) -> Self {
        Self {
            connections: HashMap::new(),
            watchers: 0,
            due,
        }
    }

    /// A third of the shortest TTL, so that two heartbeats can fail before a connection
    /// expires; [`WATCH_SWEEP_INTERVAL`] for a channel that is only watched.
    fn interval(&self) -> Duration {
        self.connections
            .values()
            .map(|lease| lease.ttl / 3)
            .min()
            .unwrap_or(WATCH_SWEEP_INTERVAL)
            .max(Duration::from_millis(100))
    }

    fn is_unused(&self) -> bool {
        self.connections.is_empty() && self.watchers == 0
    }
}

/// The presence connections and watchers of one `Realtime` handle.
pub(crate) struct Leases {
    backend: Arc<dyn Backend>,
    /// The prefix of this handle's connection ids: random, so ids never meet across
    /// processes (or handles).
    token: String,
    next_connection: AtomicU64,
    channels: Mutex<HashMap<ChannelName, ChannelLeases>>,
    /// Wakes the heartbeat task for a new lease or watcher (its own `Arc`: the waiting
    /// task holds no strong reference to the leases, so dropping the handle stops it).
    wake: Arc<Notify>,
    task: Mutex<Option<AbortHandle>>,
    pub(crate) pending_leaves: AtomicUsize,
}

impl std::fmt::Debug for Leases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leases")
            .field("token", &self.token)
            .field("channels", &lock(&self.channels).len())
            .finish_non_exhaustive()
    }
}

impl Drop for Leases {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }
}

/// A random 64-bit token: `RandomState` is seeded from the OS per process, and each
/// instance differs.
fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u64(now_ms());
    format!("{:016x}", hasher.finish())
}

impl Leases {
    pub(crate) fn new(backend: Arc<dyn Backend>) -> Self {
        Self {
            backend,
            token: random_token(),
            next_connection: AtomicU64::new(1),
            channels: Mutex::new(HashMap::new()),
            wake: Arc::new(Notify::new()),
            task: Mutex::new(None),
            pending_leaves: AtomicUsize::new(0),
        }
    }

    pub(crate) fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// A connection id no other connection (of any process) has.
    pub(crate) fn new_connection_id(&self) -> Arc<str> {
        let n = self.next_connection.fetch_add(1, Ordering::Relaxed);
        Arc::from(format!("{}:{n}", self.token))
    }

    /// Keeps `connection` alive from now on.
    pub(crate) fn hold(
        self: &Arc<Self>,
        channel: &ChannelName,
        connection: Arc<str>,
        member: String,
        record: Arc<str>,
        ttl: Duration,
    ) {
        {
            let mut channels = lock(&self.channels);
            let leases = channels
                .entry(channel.clone())
                .or_insert_with(|| ChannelLeases::new(Instant::now() + ttl / 3));
            leases.connections.insert(
                connection,
                Lease {
                    member,
                    record,
                    ttl,
                },
            );
            leases.due = leases.due.min(Instant::now() + leases.interval());
        }
        self.ensure_task();
        self.wake.notify_one();
    }

    /// Stops keeping `connection` alive; whether it was held.
    pub(crate) fn release(&self, channel: &ChannelName, connection: &str) -> bool {
        let mut channels = lock(&self.channels);
        let Some(leases) = channels.get_mut(channel) else {
            return false;
        };
        let held = leases.connections.remove(connection).is_some();
        if leases.is_unused() {
            channels.remove(channel);
        }
        held
    }

    /// Sweeps `channel` every [`WATCH_SWEEP_INTERVAL`] (at least) until [`unwatch`](Self::unwatch).
    pub(crate) fn watch(self: &Arc<Self>, channel: &ChannelName) {
        {
            let mut channels = lock(&self.channels);
            let leases = channels
                .entry(channel.clone())
                .or_insert_with(|| ChannelLeases::new(Instant::now() + WATCH_SWEEP_INTERVAL));
            leases.watchers += 1;
        }
        self.ensure_task();
        self.wake.notify_one();
    }

    pub(crate) fn unwatch(&self, channel: &ChannelName) {
        let mut channels = lock(&self.channels);
        if let Some(leases) = channels.get_mut(channel) {
            leases.watchers = leases.watchers.saturating_sub(1);
            if leases.is_unused() {
                channels.remove(channel);
            }
        }
    }

    /// The number of connections held, over every channel.
    pub(crate) fn held(&self) -> usize {
        lock(&self.channels)
            .values()
            .map(|leases| leases.connections.len())
            .sum()
    }

    fn ensure_task(self: &Arc<Self>) {
        let mut task = lock(&self.task);
        if task.as_ref().is_some_and(|task| !task.is_finished()) {
            return;
        }
        let weak = Arc::downgrade(self);
        *task = Some(tokio::spawn(heartbeat_loop(weak)).abort_handle());
    }

    /// Takes the channels whose heartbeat is due (moving their next one an interval on)
    /// and says when the next one is due.
    fn take_due(&self, now: Instant) -> (Vec<DueChannel>, Option<Instant>) {
        let mut channels = lock(&self.channels);
        let mut due = Vec::new();
        for (name, leases) in channels.iter_mut() {
            if leases.due <= now {
                leases.due = now + leases.interval();
                due.push(DueChannel {
                    channel: name.clone(),
                    leases: leases
                        .connections
                        .iter()
                        .map(|(connection, lease)| {
                            (Arc::clone(connection), lease.member.clone(), lease.ttl)
                        })
                        .collect(),
                });
            }
        }
        let next = channels.values().map(|leases| leases.due).min();
        (due, next)
    }

    /// One channel's heartbeat: refresh every connection in one backend call, then join
    /// again the ones that had expired (announcing them again).
    async fn beat(&self, due: DueChannel) {
        let leases: Vec<PresenceLease<'_>> = due
            .leases
            .iter()
            .map(|(connection, member, ttl)| PresenceLease {
                connection,
                member,
                ttl: *ttl,
            })
            .collect();
        let missing = match self.backend.presence_refresh(&due.channel, &leases).await {
            Ok(missing) => missing,
            Err(error) => {
                tracing::warn!(channel = due.channel.as_str(), %error, connections = leases.len(), "presence heartbeat failed; retrying soon");
                self.retry_soon(&due.channel);
                return;
            }
        };
        for connection in missing {
            let lease = {
                let channels = lock(&self.channels);
                channels
                    .get(&due.channel)
                    .and_then(|leases| leases.connections.get(connection.as_str()))
                    .map(|lease| (lease.member.clone(), Arc::clone(&lease.record), lease.ttl))
            };
            // Released meanwhile: nothing to bring back.
            let Some((member, record, ttl)) = lease else {
                continue;
            };
            tracing::info!(
                channel = due.channel.as_str(),
                member,
                "presence connection had expired (heartbeats late); joining again"
            );
            let join = PresenceJoin {
                connection: &connection,
                member: &member,
                record: &record,
                ttl,
            };
            if let Err(error) = self.backend.presence_join(&due.channel, join).await {
                tracing::warn!(channel = due.channel.as_str(), member, %error, "joining again failed; retrying soon");
                self.retry_soon(&due.channel);
            }
        }
    }

    fn retry_soon(&self, channel: &ChannelName) {
        let mut channels = lock(&self.channels);
        if let Some(leases) = channels.get_mut(channel) {
            let soon = Instant::now() + RETRY_AFTER_FAILURE.min(leases.interval());
            leases.due = leases.due.min(soon);
        }
    }
}

struct DueChannel {
    channel: ChannelName,
    leases: Vec<(Arc<str>, String, Duration)>,
}

/// Beats every due channel, then sleeps until the next is due or a new lease wakes it.
/// Ends when the handle (its `Leases`) is gone.
async fn heartbeat_loop(leases: Weak<Leases>) {
    loop {
        let next = {
            let Some(leases) = leases.upgrade() else {
                return;
            };
            let (due, next) = leases.take_due(Instant::now());
            futures::stream::iter(due)
                .for_each_concurrent(CONCURRENT_HEARTBEATS, |channel| leases.beat(channel))
                .await;
            next
        };
        let Some(strong) = leases.upgrade() else {
            return;
        };
        let notify = Arc::clone(&strong.wake);
        drop(strong);
        let wake = notify.notified();
        match next {
            Some(at) => {
                let _woken_or_due = tokio::time::timeout_at(at, wake).await;
            }
            None => wake.await,
        }
    }
}
