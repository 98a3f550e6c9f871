//! The connections this process holds in channels' presence, and the heartbeat task that
//! keeps them alive. Per channel, the handle's connections share one **lease**; a
//! heartbeat refreshes the lease, one backend call of constant cost (for Redis: one script
//! call) per channel and interval, whatever the number of members.
//!
//! When a lease is found gone (the process stalled past its TTL and another process swept
//! it), or must be given up (a leave failed, so a connection that should be gone is still
//! under it), the channel gets a new lease and every connection is joined again under it;
//! the old lease expires and takes what is left under it.
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

use super::departures::{self, FailedLeave};
use crate::backend::{Backend, JoinOutcome, PresenceJoin};
use crate::channel_name::ChannelName;
use crate::metrics;
use crate::util::{lock, now_ms};

/// How often a channel that this handle watches ([`Presence::changes`]) but holds no
/// connection in is swept, so that members of a process that died are announced as
/// gone: within their TTL plus this.
///
/// [`Presence::changes`]: crate::Presence::changes
pub const WATCH_SWEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Heartbeats of different channels in flight at once; the others wait their turn.
const CONCURRENT_HEARTBEATS: usize = 32;

/// Joins in flight at once when a channel's connections are joined again under a new
/// lease.
const CONCURRENT_REJOINS: usize = 16;

/// Leaves started by dropped guards that may run at once; past it, a dropped guard's
/// channel gets a new lease (see the module documentation).
pub(crate) const MAX_PENDING_LEAVES: usize = 1_024;

/// A failed heartbeat is tried again this soon (or at the channel's interval, if shorter).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// What is needed to join a connection again under a new lease.
#[derive(Debug, Clone)]
struct Held {
    member: String,
    record: Arc<str>,
    ttl: Duration,
}

#[derive(Debug)]
struct ChannelLeases {
    /// The lease every connection of this handle in the channel is (to be) held under.
    lease: Arc<str>,
    /// Whether the connections must be joined again under `lease` at the next heartbeat
    /// (it replaced one that was gone or given up).
    rejoin: bool,
    connections: HashMap<Arc<str>, Held>,
    watchers: usize,
    due: Instant,
}

impl ChannelLeases {
    /// A third of the shortest TTL, so that two heartbeats can fail before the lease
    /// expires; [`WATCH_SWEEP_INTERVAL`] for a channel that is only watched.
    fn interval(&self) -> Duration {
        self.ttl()
            .map_or(WATCH_SWEEP_INTERVAL, |ttl| ttl / 3)
            .max(Duration::from_millis(100))
    }

    /// The lease's TTL: the shortest of its connections'.
    fn ttl(&self) -> Option<Duration> {
        self.connections.values().map(|held| held.ttl).min()
    }

    fn is_unused(&self) -> bool {
        self.connections.is_empty() && self.watchers == 0
    }
}

/// The presence connections and watchers of one `Realtime` handle.
pub(crate) struct Leases {
    backend: Arc<dyn Backend>,
    /// The prefix of this handle's connection and lease ids: random, so ids never meet
    /// across processes (or handles).
    token: String,
    next_id: AtomicU64,
    channels: Mutex<HashMap<ChannelName, ChannelLeases>>,
    /// Wakes the heartbeat task for a new channel or an urgent heartbeat (its own `Arc`:
    /// the waiting task holds no strong reference to the leases, so dropping the handle
    /// stops it).
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
        // What was still held stops being kept alive here (it expires with its lease).
        let held = self.held();
        if held > 0 {
            metrics::PRESENCE_CONNECTIONS_GAUGE.add(-(held as i64));
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

/// Why a connection could not be held.
pub(crate) enum HoldError {
    /// The channel's lease changed while the connection joined: join again under this one.
    LeaseChanged(Arc<str>),
}

impl Leases {
    pub(crate) fn new(backend: Arc<dyn Backend>) -> Self {
        Self {
            backend,
            token: random_token(),
            next_id: AtomicU64::new(1),
            channels: Mutex::new(HashMap::new()),
            wake: Arc::new(Notify::new()),
            task: Mutex::new(None),
            pending_leaves: AtomicUsize::new(0),
        }
    }

    pub(crate) fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    fn next_id(&self, separator: char) -> Arc<str> {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        Arc::from(format!("{}{separator}{n}", self.token))
    }

    /// A connection id no other connection (of any process) has.
    pub(crate) fn new_connection_id(&self) -> Arc<str> {
        self.next_id(':')
    }

    fn entry<'a>(
        &self,
        channels: &'a mut HashMap<ChannelName, ChannelLeases>,
        channel: &ChannelName,
    ) -> &'a mut ChannelLeases {
        channels
            .entry(channel.clone())
            .or_insert_with(|| ChannelLeases {
                lease: self.next_id('.'),
                rejoin: false,
                connections: HashMap::new(),
                watchers: 0,
                due: Instant::now() + WATCH_SWEEP_INTERVAL,
            })
    }

    /// The lease to join `channel` under (a new channel gets one).
    pub(crate) fn lease_for(&self, channel: &ChannelName) -> Arc<str> {
        let mut channels = lock(&self.channels);
        Arc::clone(&self.entry(&mut channels, channel).lease)
    }

    /// `lease` was found gone: the channel's lease from now on (a new one, unless another
    /// caller replaced it already). Every connection is joined again under it at the next
    /// heartbeat, which is due at once.
    pub(crate) fn replace_lease(&self, channel: &ChannelName, gone: &str) -> Arc<str> {
        let replaced = {
            let mut channels = lock(&self.channels);
            let entry = self.entry(&mut channels, channel);
            if &*entry.lease == gone {
                entry.lease = self.next_id('.');
                entry.rejoin = !entry.connections.is_empty();
                entry.due = Instant::now();
            }
            Arc::clone(&entry.lease)
        };
        self.wake.notify_one();
        replaced
    }

    /// Drops the channel's entry if nothing uses it (a join that failed made it).
    pub(crate) fn forget_if_unused(&self, channel: &ChannelName) {
        let mut channels = lock(&self.channels);
        if channels.get(channel).is_some_and(ChannelLeases::is_unused) {
            channels.remove(channel);
        }
    }

    /// Keeps `connection`, joined under `lease`, alive from now on.
    ///
    /// # Errors
    /// [`HoldError::LeaseChanged`] when the channel's lease was replaced meanwhile: the
    /// connection is under a lease that is gone, and must join again under the new one.
    pub(crate) fn hold(
        self: &Arc<Self>,
        channel: &ChannelName,
        lease: &str,
        connection: Arc<str>,
        held: (String, Arc<str>, Duration),
    ) -> Result<(), HoldError> {
        let (member, record, ttl) = held;
        {
            let mut channels = lock(&self.channels);
            let entry = self.entry(&mut channels, channel);
            if &*entry.lease != lease {
                return Err(HoldError::LeaseChanged(Arc::clone(&entry.lease)));
            }
            let held = Held {
                member,
                record,
                ttl,
            };
            if entry.connections.insert(connection, held).is_none() {
                metrics::PRESENCE_CONNECTIONS_GAUGE.add(1);
            }
            entry.due = entry.due.min(Instant::now() + entry.interval());
        }
        self.ensure_task();
        self.wake.notify_one();
        Ok(())
    }

    /// Stops keeping `connection` alive; the lease it is under and its member's record,
    /// when it was held.
    pub(crate) fn release(
        &self,
        channel: &ChannelName,
        connection: &str,
    ) -> Option<(Arc<str>, Arc<str>)> {
        let mut channels = lock(&self.channels);
        let entry = channels.get_mut(channel)?;
        let held = entry.connections.remove(connection)?;
        metrics::PRESENCE_CONNECTIONS_GAUGE.add(-1);
        let lease = Arc::clone(&entry.lease);
        if entry.is_unused() {
            channels.remove(channel);
        }
        Some((lease, held.record))
    }

    /// A leave failed: the lease is given up ([`give_up_lease`](Self::give_up_lease)) and
    /// the leave is tried again in the background until its departure is confirmed
    /// ([`departures`](super::departures)), unless [`MAX_PENDING_LEAVES`] are in flight
    /// already. `admitted`: the caller holds one of those places already.
    pub(crate) fn leave_failed(self: &Arc<Self>, failed: FailedLeave, admitted: bool) {
        self.give_up_lease(&failed.channel, &failed.lease);
        self.confirm_departure(failed, admitted, false);
    }

    /// Makes sure storage announces `left`'s departure (see [`departures`]): in the
    /// background, at once when `now`, counted among the [`MAX_PENDING_LEAVES`]
    /// (`admitted`: the caller holds one of those places already).
    pub(crate) fn confirm_departure(
        self: &Arc<Self>,
        failed: FailedLeave,
        admitted: bool,
        now: bool,
    ) {
        let admitted = admitted || self.admit_pending_leave();
        let runtime = tokio::runtime::Handle::try_current();
        let Ok(runtime) = runtime else {
            if admitted {
                self.pending_leaves.fetch_sub(1, Ordering::AcqRel);
            }
            return;
        };
        if !admitted {
            tracing::warn!(
                channel = failed.channel.as_str(),
                member = failed.member,
                "presence departure not confirmed (too many in flight): a connection still stored expires with its lease, announced by the next sweep of the channel"
            );
            return;
        }
        let leases = Arc::downgrade(self);
        let backend = Arc::downgrade(&self.backend);
        runtime.spawn(async move {
            departures::confirm_until_done(backend, failed, now).await;
            if let Some(leases) = leases.upgrade() {
                leases.pending_leaves.fetch_sub(1, Ordering::AcqRel);
            }
        });
    }

    /// Takes one of the [`MAX_PENDING_LEAVES`] places of leaves in flight, if one is free.
    pub(crate) fn admit_pending_leave(&self) -> bool {
        self.pending_leaves
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
                (count < MAX_PENDING_LEAVES).then_some(count + 1)
            })
            .is_ok()
    }

    /// A leave could not be sent or failed: the connection may still be under the
    /// channel's lease. The lease is given up (it expires with whatever is under it) and
    /// the other connections join again under a new one.
    pub(crate) fn give_up_lease(&self, channel: &ChannelName, lease: &str) {
        let replaced = {
            let mut channels = lock(&self.channels);
            match channels.get_mut(channel) {
                Some(entry) if &*entry.lease == lease => {
                    entry.lease = self.next_id('.');
                    entry.rejoin = !entry.connections.is_empty();
                    entry.due = Instant::now();
                    true
                }
                _ => false,
            }
        };
        if replaced {
            tracing::warn!(
                channel = channel.as_str(),
                "presence lease given up after a failed leave; the other connections join again under a new one"
            );
            self.wake.notify_one();
        }
    }

    /// Sweeps `channel` every [`WATCH_SWEEP_INTERVAL`] (at least) until
    /// [`unwatch`](Self::unwatch).
    pub(crate) fn watch(self: &Arc<Self>, channel: &ChannelName) {
        {
            let mut channels = lock(&self.channels);
            self.entry(&mut channels, channel).watchers += 1;
        }
        self.ensure_task();
        self.wake.notify_one();
    }

    pub(crate) fn unwatch(&self, channel: &ChannelName) {
        let mut channels = lock(&self.channels);
        if let Some(entry) = channels.get_mut(channel) {
            entry.watchers = entry.watchers.saturating_sub(1);
            if entry.is_unused() {
                channels.remove(channel);
            }
        }
    }

    /// The number of connections held, over every channel.
    pub(crate) fn held(&self) -> usize {
        lock(&self.channels)
            .values()
            .map(|entry| entry.connections.len())
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
    fn take_due(&self, now: Instant) -> (Vec<Due>, Option<Instant>) {
        let mut channels = lock(&self.channels);
        let mut due = Vec::new();
        for (name, entry) in channels.iter_mut() {
            if entry.due > now || entry.is_unused() {
                continue;
            }
            entry.due = now + entry.interval();
            let rejoin = std::mem::take(&mut entry.rejoin).then(|| {
                entry
                    .connections
                    .iter()
                    .map(|(connection, held)| (Arc::clone(connection), held.clone()))
                    .collect()
            });
            due.push(Due {
                channel: name.clone(),
                lease: Arc::clone(&entry.lease),
                ttl: entry.ttl(),
                rejoin,
            });
        }
        let next = channels.values().map(|entry| entry.due).min();
        (due, next)
    }

    /// One channel's heartbeat: refresh the lease (or, with no connection, only sweep),
    /// or join every connection again under a new lease.
    async fn beat(&self, due: Due) {
        let channel = due.channel.as_str();
        if let Some(connections) = due.rejoin {
            self.rejoin(&due.channel, &due.lease, connections).await;
            return;
        }
        // A watched channel without connections: refreshing a lease that holds nothing
        // sweeps the channel and changes nothing else.
        let ttl = due.ttl.unwrap_or(WATCH_SWEEP_INTERVAL);
        match self
            .backend
            .presence_refresh(channel, &due.lease, ttl)
            .await
        {
            Ok(true) => {}
            Ok(false) if due.ttl.is_none() => {}
            Ok(false) => {
                tracing::info!(
                    channel,
                    "presence lease had expired (heartbeats late); joining again under a new one"
                );
                self.replace_lease(&due.channel, &due.lease);
            }
            Err(error) => {
                tracing::warn!(channel, %error, "presence heartbeat failed; retrying soon");
                self.retry_soon(&due.channel);
            }
        }
    }

    /// Joins `connections` again under `lease`.
    async fn rejoin(
        &self,
        channel: &ChannelName,
        lease: &Arc<str>,
        connections: Vec<(Arc<str>, Held)>,
    ) {
        let outcomes = futures::stream::iter(connections)
            .map(|(connection, held)| async move {
                let join = PresenceJoin {
                    lease,
                    connection: &connection,
                    member: &held.member,
                    record: &held.record,
                    ttl: held.ttl,
                };
                self.backend.presence_join(channel, join).await
            })
            .buffer_unordered(CONCURRENT_REJOINS)
            .collect::<Vec<_>>()
            .await;
        if outcomes
            .iter()
            .any(|outcome| matches!(outcome, Ok(JoinOutcome::LeaseGone)))
        {
            self.replace_lease(channel, lease);
            return;
        }
        if outcomes.iter().any(Result::is_err) {
            tracing::warn!(
                channel = channel.as_str(),
                "joining again under a new presence lease failed; retrying soon"
            );
            let mut channels = lock(&self.channels);
            if let Some(entry) = channels.get_mut(channel) {
                if Arc::ptr_eq(&entry.lease, lease) {
                    entry.rejoin = true;
                }
            }
            drop(channels);
            self.retry_soon(channel);
        }
    }

    fn retry_soon(&self, channel: &ChannelName) {
        let mut channels = lock(&self.channels);
        if let Some(entry) = channels.get_mut(channel) {
            let soon = Instant::now() + RETRY_AFTER_FAILURE.min(entry.interval());
            entry.due = entry.due.min(soon);
        }
    }
}

/// A channel whose heartbeat is due.
struct Due {
    channel: ChannelName,
    lease: Arc<str>,
    /// The lease's TTL; `None` for a channel that is only watched.
    ttl: Option<Duration>,
    /// The connections to join again under `lease`, when it is new.
    rejoin: Option<Vec<(Arc<str>, Held)>>,
}

/// Beats every due channel, then sleeps until the next is due or something wakes it.
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
