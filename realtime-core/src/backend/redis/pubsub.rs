//! The one pub/sub connection of a Redis backend, shared by every channel and subscriber.
//!
//! A control task owns the connection: it SUBSCRIBEs a channel when its first feed opens
//! and UNSUBSCRIBEs when its last feed closes, and when the connection is lost reconnects
//! with back-off, resubscribes every channel and sends each feed a [`FeedItem::Resync`] so
//! that readers catch up from the streams. Per connection, a dispatcher task routes its
//! messages to the feeds of their channel and a pinger task declares it lost when a PING
//! goes unanswered. While there is no connection, a poller task sends every feed a
//! `Resync` at a steady pace: readers then read their streams over the command connection,
//! so delivery goes on, a little later, until pub/sub is back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use redis::aio::{PubSubSink, PubSubStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use tokio::time::{Instant, sleep, sleep_until, timeout};

use super::layout::parse_published;
use crate::backend::{BackendError, Feed, FeedItem};
use crate::util::{Backoff, lock};
use poll::poll_while_disconnected;

mod poll;

const BACKEND: &str = "redis";
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A PING goes out this long after the previous reply...
const PING_EVERY: Duration = Duration::from_secs(1);
/// ...and a connection that has not answered a PING, SUBSCRIBE or UNSUBSCRIBE within this
/// long is dropped: a connection that silently died is noticed within
/// `PING_EVERY + REPLY_TIMEOUT` (3 s).
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);
/// A handle on the shared pub/sub connection; the control task stops when it is dropped.
#[derive(Debug)]
pub(super) struct PubSub {
    control: mpsc::UnboundedSender<Control>,
    next_id: AtomicU64,
    capacity: usize,
    routes: Routes,
}

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
    Lost {
        generation: u64,
        reason: &'static str,
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

/// Each channel's routes.
type RouteTable = Mutex<HashMap<String, Vec<Route>>>;
type Routes = Arc<RouteTable>;

fn error(message: impl Into<String>, source: redis::RedisError) -> BackendError {
    BackendError::with_source(BACKEND, message, source)
}

impl PubSub {
    pub(super) fn start(client: redis::Client, connect_timeout: Duration, capacity: usize) -> Self {
        let (control, commands) = mpsc::unbounded_channel();
        let routes = Routes::default();
        let connected = Arc::new(AtomicBool::new(false));
        let task = ControlTask {
            client,
            connect_timeout,
            routes: Arc::clone(&routes),
            connected: Arc::clone(&connected),
            link: None,
            generation: 0,
            control: control.downgrade(),
            backoff: Backoff::new(MIN_BACKOFF, MAX_BACKOFF),
            retry_at: None,
        };
        tokio::spawn(task.run(commands));
        tokio::spawn(poll_while_disconnected(Arc::downgrade(&routes), connected));
        Self {
            control,
            next_id: AtomicU64::new(0),
            capacity: capacity.max(2),
            routes,
        }
    }

    /// The channels with at least one feed: those subscribed on the connection (or to be
    /// resubscribed when it comes back).
    pub(super) fn subscribed_channels(&self) -> usize {
        lock(&self.routes).len()
    }

    /// Opens a feed of the pub/sub channel `channel`; live when this returns: by pub/sub
    /// when the connection is up, else by polling until it is back (then a `Resync`).
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
        // control queue and the route, with its SUBSCRIBE, is released.
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

/// The live connection: its sink and the tasks reading and pinging it.
struct Link {
    sink: PubSubSink,
    dispatcher: AbortHandle,
    pinger: AbortHandle,
    generation: u64,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.dispatcher.abort();
        self.pinger.abort();
    }
}

struct ControlTask {
    client: redis::Client,
    connect_timeout: Duration,
    routes: Routes,
    /// Whether `link` is up; read by the poller.
    connected: Arc<AtomicBool>,
    link: Option<Link>,
    generation: u64,
    control: mpsc::WeakUnboundedSender<Control>,
    backoff: Backoff,
    /// When to try reconnecting; `None` while connected or idle.
    retry_at: Option<Instant>,
}

impl ControlTask {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Control>) {
        loop {
            let retry_at = self.retry_at;
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                () = sleep_until(retry_at.unwrap_or_else(Instant::now)), if retry_at.is_some() => {
                    self.reconnect().await;
                }
            }
        }
        tracing::debug!("redis pub/sub task stopped");
    }

    async fn handle(&mut self, command: Control) {
        match command {
            Control::Listen {
                channel,
                route,
                reply,
            } => {
                self.listen(channel, route).await;
                let _caller_gone_is_fine = reply.send(());
            }
            Control::Unlisten { channel, id } => self.unlisten(&channel, id).await,
            Control::Lost { generation, reason } => {
                if self
                    .link
                    .as_ref()
                    .is_some_and(|link| link.generation == generation)
                {
                    tracing::warn!(reason, "redis pub/sub connection lost; reconnecting");
                    self.lose_link();
                }
            }
        }
    }

    /// Adds a route. When connected, its channel is subscribed before this returns;
    /// otherwise the poller serves it until the connection is back.
    async fn listen(&mut self, channel: String, route: Route) {
        let first_of_channel = {
            let mut routes = lock(&self.routes);
            let list = routes.entry(channel.clone()).or_default();
            list.push(route);
            list.len() == 1
        };
        if self.link.is_none() {
            // Try now rather than after the back-off when an attempt is due anyway (e.g.
            // the first feed of the process); connecting subscribes every routed channel.
            if self.retry_at.is_none_or(|at| at <= Instant::now()) {
                self.reconnect().await;
            }
            return;
        }
        let Some(link) = self.link.as_mut().filter(|_| first_of_channel) else {
            return;
        };
        match timeout(REPLY_TIMEOUT, link.sink.subscribe(&channel)).await {
            Ok(Ok(())) => tracing::debug!(channel, "redis SUBSCRIBE"),
            // The route stays: it is polled until the connection is back and resubscribed.
            Ok(Err(error)) => {
                tracing::warn!(channel, %error, "redis SUBSCRIBE failed; reconnecting");
                self.lose_link();
            }
            Err(_) => {
                tracing::warn!(channel, "redis SUBSCRIBE unanswered; reconnecting");
                self.lose_link();
            }
        }
    }

    /// Removes a route; returns whether its channel has no route left.
    fn remove_route(&self, channel: &str, id: u64) -> bool {
        let mut routes = lock(&self.routes);
        let Some(list) = routes.get_mut(channel) else {
            return false;
        };
        list.retain(|route| route.id != id);
        let now_empty = list.is_empty();
        if now_empty {
            routes.remove(channel);
        }
        now_empty
    }

    async fn unlisten(&mut self, channel: &str, id: u64) {
        if !self.remove_route(channel, id) {
            return;
        }
        let Some(link) = &mut self.link else { return };
        match timeout(REPLY_TIMEOUT, link.sink.unsubscribe(channel)).await {
            Ok(Ok(())) => tracing::debug!(channel, "redis UNSUBSCRIBE"),
            // A lost connection is noticed by the dispatcher; nothing to undo here.
            Ok(Err(error)) => tracing::debug!(channel, %error, "redis UNSUBSCRIBE failed"),
            // A connection that does not answer is as good as dead; the new one will not
            // have this channel.
            Err(_) => {
                tracing::warn!(channel, "redis UNSUBSCRIBE unanswered; reconnecting");
                self.lose_link();
            }
        }
    }

    fn lose_link(&mut self) {
        self.link = None;
        self.connected.store(false, Ordering::Relaxed);
        self.backoff.reset();
        self.retry_at = Some(Instant::now());
    }

    /// Connects, resubscribes every channel, and tells every feed to resync.
    async fn reconnect(&mut self) {
        self.link = None;
        self.connected.store(false, Ordering::Relaxed);
        match self.connect().await {
            Ok(link) => {
                self.link = Some(link);
                self.connected.store(true, Ordering::Relaxed);
                self.retry_at = None;
                self.backoff.reset();
                let mut routes = lock(&self.routes);
                for route in routes.values_mut().flatten() {
                    route.resync();
                }
                tracing::info!(channels = routes.len(), "redis pub/sub connected");
            }
            Err(error) => {
                let delay = self.backoff.next_delay();
                tracing::warn!(%error, retry_in = ?delay, "redis pub/sub connection failed");
                self.retry_at = Some(Instant::now() + delay);
            }
        }
    }

    async fn connect(&mut self) -> Result<Link, BackendError> {
        let connect = async {
            let pubsub = self
                .client
                .get_async_pubsub()
                .await
                .map_err(|source| error("cannot open the pub/sub connection", source))?;
            let (mut sink, stream) = pubsub.split();
            let channels: Vec<String> = lock(&self.routes).keys().cloned().collect();
            if !channels.is_empty() {
                sink.subscribe(&channels)
                    .await
                    .map_err(|source| error("cannot resubscribe", source))?;
            }
            Ok::<_, BackendError>((sink, stream))
        };
        let (sink, stream) = timeout(self.connect_timeout, connect)
            .await
            .map_err(|_| BackendError::new(BACKEND, "connecting pub/sub timed out"))??;
        self.generation += 1;
        let dispatcher = tokio::spawn(dispatch(
            stream,
            Arc::clone(&self.routes),
            self.control.clone(),
            self.generation,
        ))
        .abort_handle();
        let pinger =
            tokio::spawn(ping(sink.clone(), self.control.clone(), self.generation)).abort_handle();
        Ok(Link {
            sink,
            dispatcher,
            pinger,
            generation: self.generation,
        })
    }
}

fn report_lost(
    control: &mpsc::WeakUnboundedSender<Control>,
    generation: u64,
    reason: &'static str,
) {
    if let Some(control) = control.upgrade() {
        let _stopped_is_fine = control.send(Control::Lost { generation, reason });
    }
}

/// Routes the connection's messages to the feeds of their channel until it closes.
async fn dispatch(
    mut stream: PubSubStream,
    routes: Routes,
    control: mpsc::WeakUnboundedSender<Control>,
    generation: u64,
) {
    while let Some(message) = stream.next().await {
        let channel = message.get_channel_name();
        let incoming = parse_published(message.get_payload_bytes());
        if let super::layout::Incoming::Malformed(reason) = &incoming {
            tracing::warn!(
                channel,
                reason,
                "unreadable pub/sub message; feeds will resync from the stream"
            );
        }
        let Some(item) = incoming.into_feed_item() else {
            continue;
        };
        if let Some(list) = lock(&routes).get_mut(channel) {
            for route in list {
                route.deliver(item.clone());
            }
        }
    }
    report_lost(&control, generation, "the connection closed");
}

/// PINGs the connection (a subscribed connection may) until one goes unanswered; a
/// connection that silently died (a half-open socket, a hung proxy) ends here.
async fn ping(mut sink: PubSubSink, control: mpsc::WeakUnboundedSender<Control>, generation: u64) {
    loop {
        sleep(PING_EVERY).await;
        match timeout(REPLY_TIMEOUT, sink.ping::<redis::Value>()).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return report_lost(&control, generation, "PING failed"),
            Err(_) => return report_lost(&control, generation, "PING unanswered"),
        }
    }
}
