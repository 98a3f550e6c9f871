//! Live delivery of the Redis backend: the pub/sub connections a process shares among all
//! its channels and subscribers, and the routing of their messages to feeds.
//!
//! A control task owns the connections: it subscribes a channel when its first feed opens
//! and unsubscribes it when its last feed closes. On a single Redis there is one
//! connection ([`single`]: `SUBSCRIBE`); on a cluster, one per master that owns subscribed
//! channels ([`sharded`]: `SSUBSCRIBE`). When a connection is lost (or, on a cluster, a
//! channel's slot moves away) its channels are marked not live: the control task
//! resubscribes them (on the new owner) with back-off and then sends each of their feeds
//! a [`FeedItem::Resync`], so that readers catch up from the streams. Meanwhile a poller
//! task ([`poll`]) sends their feeds a `Resync` at a steady pace: readers then read their
//! streams over the command connection, so delivery goes on, a little later.
//!
//! Per connection, a dispatcher task routes its messages to the feeds of their channel and
//! a pinger task declares it lost when a PING goes unanswered.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};

use super::cluster::ClusterCommands;
use super::layout::{Incoming, parse_published_all};
use ::metrics::{Key, Label};

use crate::backend::{BackendError, Feed, FeedItem};
use crate::metrics;
use crate::util::lock;
use poll::poll_channels_not_live;

mod poll;
mod sharded;
mod single;

const BACKEND: &str = "redis";
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A PING goes out this long after the previous reply...
const PING_EVERY: Duration = Duration::from_secs(1);
/// ...and a connection that has not answered a PING, (S)SUBSCRIBE or (S)UNSUBSCRIBE
/// within this long is dropped: a connection that silently died is noticed within
/// `PING_EVERY + REPLY_TIMEOUT` (3 s).
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);

/// The metrics of one flavour of pub/sub connection ([`metrics::MODE`] label).
struct ConnectionMetrics {
    reconnects: Key,
    /// Connections lost since the process started (for [`PubSub::health`]).
    lost: AtomicU64,
    connections: &'static metrics::StateGauge,
}

impl ConnectionMetrics {
    const fn new(mode: &'static [Label; 1], connections: &'static metrics::StateGauge) -> Self {
        Self {
            reconnects: Key::from_static_parts(metrics::PUBSUB_RECONNECTS, mode),
            lost: AtomicU64::new(0),
            connections,
        }
    }

    /// A connection was lost: it is being replaced.
    fn lost(&self) {
        self.lost.fetch_add(1, Ordering::Relaxed);
        metrics::increment(&self.reconnects, 1);
    }

    /// A connection opened (`1`) or closed (`-1`).
    fn open(&self, delta: i64) {
        self.connections.add(delta);
    }
}

static SINGLE: [Label; 1] = [Label::from_static_parts(
    metrics::MODE,
    metrics::MODE_SINGLE,
)];
static SHARDED: [Label; 1] = [Label::from_static_parts(
    metrics::MODE,
    metrics::MODE_SHARDED,
)];
static SINGLE_METRICS: ConnectionMetrics =
    ConnectionMetrics::new(&SINGLE, &metrics::PUBSUB_CONNECTIONS_SINGLE_GAUGE);
static SHARDED_METRICS: ConnectionMetrics =
    ConnectionMetrics::new(&SHARDED, &metrics::PUBSUB_CONNECTIONS_SHARDED_GAUGE);

/// A handle on the pub/sub connections; the control task stops when it is dropped.
#[derive(Debug)]
pub(super) struct PubSub {
    control: mpsc::UnboundedSender<Control>,
    next_id: AtomicU64,
    capacity: usize,
    routes: Routes,
}

/// What the control task is asked to do, by feeds and by the tasks of its connections.
enum Control {
    Listen {
        channel: String,
        route: Route,
        /// Answered once the route is in place (and subscribed, when connected).
        reply: oneshot::Sender<()>,
    },
    Unlisten {
        channel: String,
        id: u64,
    },
    /// The connection of this generation is dead.
    Lost {
        generation: u64,
        reason: &'static str,
    },
    /// The server unsubscribed `channel` from the connection of this generation by itself
    /// (on a cluster: its slot moved to another master).
    Dropped {
        generation: u64,
        channel: String,
    },
}

/// One feed's place in the routing table.
#[derive(Debug)]
struct Route {
    id: u64,
    sender: mpsc::Sender<FeedItem>,
    /// A message could not be queued: the feed gets a `Resync` as soon as there is room.
    lagged: bool,
}

impl Route {
    fn deliver(&mut self, item: FeedItem) {
        if self.lagged {
            if self.sender.try_send(FeedItem::Resync).is_err() {
                return;
            }
            self.lagged = false;
        }
        if self.sender.try_send(item).is_err() {
            self.lagged = true;
        }
    }

    /// Queues a `Resync` now if there is room, else before the next delivery.
    fn resync(&mut self) {
        self.lagged = self.sender.try_send(FeedItem::Resync).is_err();
    }

    /// Whether the feed's reader has taken everything queued for it.
    fn is_idle(&self) -> bool {
        self.sender.capacity() == self.sender.max_capacity()
    }
}

/// The feeds of one channel, and whether a connection delivers its messages.
#[derive(Debug, Default)]
struct ChannelRoutes {
    routes: Vec<Route>,
    /// Subscribed on a live connection. While not, the poller makes its feeds read the
    /// stream, and messages that arrive anyway (a connection's dispatcher runs before
    /// the control task marks its channels live) are not delivered: one queued ahead of
    /// the feed's catch-up would move it past the entries it missed. They are in the
    /// stream, and the catch-up queued when the channel goes live reads them.
    live: bool,
}

impl ChannelRoutes {
    fn deliver(&mut self, item: &FeedItem) {
        for route in &mut self.routes {
            route.deliver(item.clone());
        }
    }

    /// Marks the channel live (subscribed, maybe after a gap): every feed catches up from
    /// the stream before the first message delivered from now on. The only way a channel
    /// goes live.
    fn resume(&mut self) {
        self.live = true;
        self.routes.iter_mut().for_each(Route::resync);
    }
}

/// Each channel's routes.
type RouteTable = Mutex<HashMap<String, ChannelRoutes>>;
type Routes = Arc<RouteTable>;

/// Adds a route; returns whether it is the channel's first.
fn add_route(routes: &RouteTable, channel: &str, route: Route) -> bool {
    let mut routes = lock(routes);
    let entry = routes.entry(channel.to_owned()).or_default();
    entry.routes.push(route);
    entry.routes.len() == 1
}

/// Removes a route; returns whether its channel has no route left.
fn remove_route(routes: &RouteTable, channel: &str, id: u64) -> bool {
    let mut routes = lock(routes);
    let Some(entry) = routes.get_mut(channel) else {
        return false;
    };
    entry.routes.retain(|route| route.id != id);
    let now_empty = entry.routes.is_empty();
    if now_empty {
        routes.remove(channel);
    }
    now_empty
}

/// Delivers a pub/sub payload (one live message or a batch of them) to the feeds of
/// `channel`. Something unreadable makes them resync from the stream.
fn route_payload(routes: &RouteTable, channel: &str, payload: &[u8]) {
    let messages = parse_published_all(payload);
    let mut routes = lock(routes);
    let Some(entry) = routes.get_mut(channel).filter(|entry| entry.live) else {
        return;
    };
    for incoming in messages {
        if let Incoming::Malformed(reason) = &incoming {
            tracing::warn!(
                channel,
                reason,
                "unreadable pub/sub message; feeds will resync from the stream"
            );
        }
        if let Some(item) = incoming.into_feed_item() {
            entry.deliver(&item);
        }
    }
}

fn report(control: &mpsc::WeakUnboundedSender<Control>, message: Control) {
    if let Some(control) = control.upgrade() {
        let _stopped_is_fine = control.send(message);
    }
}

fn report_lost(
    control: &mpsc::WeakUnboundedSender<Control>,
    generation: u64,
    reason: &'static str,
) {
    report(control, Control::Lost { generation, reason });
}

impl PubSub {
    /// Live delivery from one Redis: one `SUBSCRIBE` connection for the process.
    pub(super) fn start(client: redis::Client, connect_timeout: Duration, capacity: usize) -> Self {
        Self::with_task(capacity, |routes, control| {
            tokio::spawn(single::run(client, connect_timeout, routes, control))
        })
    }

    /// Live delivery from a cluster: one `SSUBSCRIBE` connection per master that owns
    /// subscribed channels.
    pub(super) fn start_sharded(
        cluster: ClusterCommands,
        connect_timeout: Duration,
        capacity: usize,
    ) -> Self {
        Self::with_task(capacity, |routes, control| {
            tokio::spawn(sharded::run(cluster, connect_timeout, routes, control))
        })
    }

    fn with_task(
        capacity: usize,
        spawn: impl FnOnce(Routes, Channels) -> tokio::task::JoinHandle<()>,
    ) -> Self {
        let (control, commands) = mpsc::unbounded_channel();
        let routes = Routes::default();
        spawn(
            Arc::clone(&routes),
            Channels {
                commands,
                control: control.downgrade(),
            },
        );
        tokio::spawn(poll_channels_not_live(Arc::downgrade(&routes)));
        Self {
            control,
            next_id: AtomicU64::new(0),
            capacity: capacity.max(2),
            routes,
        }
    }

    /// The channels with at least one feed: those subscribed (or to be resubscribed when
    /// their connection is back).
    pub(super) fn subscribed_channels(&self) -> usize {
        lock(&self.routes).len()
    }

    /// The state of the process's pub/sub connections of this flavour (`sharded` on a
    /// cluster), and this handle's subscribed channels.
    pub(super) fn health(&self, sharded: bool) -> crate::backend::PubSubHealth {
        let (mode, metrics) = if sharded {
            (metrics::MODE_SHARDED, &SHARDED_METRICS)
        } else {
            (metrics::MODE_SINGLE, &SINGLE_METRICS)
        };
        crate::backend::PubSubHealth {
            mode: mode.to_owned(),
            connections: metrics.connections.level(),
            reconnects: metrics.lost.load(Ordering::Relaxed),
            channels: self.subscribed_channels(),
        }
    }

    /// Opens a feed of the pub/sub channel `channel`; live when this returns: by pub/sub
    /// when its connection is up, else by polling until it is back (then a `Resync`).
    pub(super) async fn listen(&self, channel: String) -> Result<Feed, BackendError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(self.capacity);
        let (reply, answer) = oneshot::channel();
        let route = Route {
            id,
            sender,
            lagged: false,
        };
        let stopped = || BackendError::new(BACKEND, "the pub/sub task has stopped");
        // The guard exists before the route does: if the caller gives up (its future is
        // dropped) at any await below, the guard's `Unlisten` follows the `Listen` in the
        // control queue and the route, with its subscription, is released.
        let guard = FeedGuard {
            control: self.control.clone(),
            channel: channel.clone(),
            id,
        };
        self.control
            .send(Control::Listen {
                channel,
                route,
                reply,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?;
        Ok(
            futures::stream::unfold((receiver, guard), |(mut receiver, guard)| async move {
                let item = receiver.recv().await?;
                Some((item, (receiver, guard)))
            })
            .boxed(),
        )
    }
}

/// The control task's ends of its queue: it reads `commands` and hands `control` (weak, so
/// that the task ends with the last handle) to the tasks it starts.
struct Channels {
    commands: mpsc::UnboundedReceiver<Control>,
    control: mpsc::WeakUnboundedSender<Control>,
}

/// Closes a feed's route when the feed is dropped.
struct FeedGuard {
    control: mpsc::UnboundedSender<Control>,
    channel: String,
    id: u64,
}

impl Drop for FeedGuard {
    fn drop(&mut self) {
        let _stopped_is_fine = self.control.send(Control::Unlisten {
            channel: std::mem::take(&mut self.channel),
            id: self.id,
        });
    }
}
