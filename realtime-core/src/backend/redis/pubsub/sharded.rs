//! Sharded pub/sub on a Redis Cluster: each channel is `SSUBSCRIBE`d on the master that
//! owns its slot, over one connection per master (RESP3, so that subscriptions and PINGs
//! share it), whatever the number of channels and feeds.
//!
//! A channel leaves its connection when the connection is lost (the master died, was
//! paused, or the network cut) or when the master unsubscribes it by itself (its slot
//! moved to another master: Redis 7 sends `sunsubscribe`). Either way the channel is
//! polled from its stream until the control task has read the slot map again and
//! subscribed it on the slot's owner, and then its feeds resync, as on a single Redis.
//!
//! A master's connection is kept while the master is known. Connecting runs in a task of
//! its own, never in the control task, and a master that could not be reached is not
//! tried again before its back-off has passed: one dead or frozen node delays no other
//! node's channels. A feed that opens while its master's connection is being made is
//! answered when the attempt ends (at most the connect timeout, 2 s).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, PushInfo, PushKind, Value};
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use tokio::time::{Instant, sleep, sleep_until, timeout};

use super::{
    Channels, Control, MIN_BACKOFF, PING_EVERY, REPLY_TIMEOUT, Routes, SHARDED_METRICS, add_route,
    remove_route, report, report_lost, route_payload,
};
use crate::backend::redis::cluster::{ClusterCommands, NodeAddr, key_slot};
use crate::util::{Backoff, lock};

/// Resubscribing channels whose connection was lost is retried after at most this long:
/// short, because a failover or a slot move usually completes within a few seconds.
const MAX_RETRY: Duration = Duration::from_secs(1);
/// `SSUBSCRIBE`s in flight at once on one master's connection when many channels are
/// (re)subscribed together: a master's channels after a failover come back in a few round
/// trips, not one round trip each.
const SUBSCRIBES_IN_FLIGHT: usize = 256;

/// Runs the control task until every handle is dropped.
pub(super) async fn run(
    cluster: ClusterCommands,
    connect_timeout: Duration,
    routes: Routes,
    channels: Channels,
) {
    let Channels { commands, control } = channels;
    let (connected, attempts) = mpsc::unbounded_channel();
    let task = ControlTask {
        connected,
        connecting: HashMap::new(),
        lost_early: Vec::new(),
        last_attempt_seen: 0,
        cluster,
        connect_timeout: connect_timeout.min(REPLY_TIMEOUT),
        routes,
        control,
        links: HashMap::new(),
        placement: HashMap::new(),
        down_until: HashMap::new(),
        next_generation: 0,
        backoff: Backoff::new(MIN_BACKOFF, MAX_RETRY),
        retry_at: None,
    };
    task.run(commands, attempts).await;
}

/// The end of a connection attempt to a master.
struct Attempt {
    addr: NodeAddr,
    link: Result<ShardLink, String>,
}

/// The connection to one master, with its dispatcher and pinger tasks.
struct ShardLink {
    connection: MultiplexedConnection,
    generation: u64,
    dispatcher: AbortHandle,
    pinger: AbortHandle,
    /// Our own `SUNSUBSCRIBE`s whose `sunsubscribe` push has not come back yet, per
    /// channel; any other `sunsubscribe` comes from the server.
    unsubscribing: HashMap<String, u32>,
}

impl Drop for ShardLink {
    fn drop(&mut self) {
        self.dispatcher.abort();
        self.pinger.abort();
        SHARDED_METRICS.open(-1);
    }
}

struct ControlTask {
    /// Where connecting tasks report (at most one per master at a time).
    connected: mpsc::UnboundedSender<Attempt>,
    /// Masters being connected to, with the feeds waiting for the attempt to end.
    connecting: HashMap<NodeAddr, Vec<oneshot::Sender<()>>>,
    /// Generations lost before their attempt was reported (at most one per attempt in
    /// flight), and the newest generation reported.
    lost_early: Vec<u64>,
    last_attempt_seen: u64,
    cluster: ClusterCommands,
    connect_timeout: Duration,
    routes: Routes,
    control: mpsc::WeakUnboundedSender<Control>,
    links: HashMap<NodeAddr, ShardLink>,
    /// Where each live channel is subscribed. A routed channel missing here is polled
    /// until [`ControlTask::retry`] places it.
    placement: HashMap<String, NodeAddr>,
    /// Masters that could not be reached, and when to try them again.
    down_until: HashMap<NodeAddr, Instant>,
    next_generation: u64,
    backoff: Backoff,
    /// When to place the channels that are not placed; `None` when all are.
    retry_at: Option<Instant>,
}

/// Why a channel could not be subscribed now.
enum Unplaced {
    /// Its master is not known or not reachable: try again later.
    Later,
    /// The connection failed: it is dropped, with its channels.
    LinkFailed(NodeAddr, &'static str),
}

impl ControlTask {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Control>,
        mut attempts: mpsc::UnboundedReceiver<Attempt>,
    ) {
        loop {
            let retry_at = self.retry_at;
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                Some(attempt) = attempts.recv() => self.attempt_ended(attempt).await,
                () = sleep_until(retry_at.unwrap_or_else(Instant::now)), if retry_at.is_some() => {
                    self.retry().await;
                }
            }
        }
        tracing::debug!("redis sharded pub/sub task stopped");
    }

    async fn handle(&mut self, command: Control) {
        match command {
            Control::Listen {
                channel,
                route,
                reply,
            } => {
                if add_route(&self.routes, &channel, route) {
                    self.place_or_schedule(&channel).await;
                    // Its master is being connected to: answer when that ends.
                    if let Some(waiting) = self.connecting_for(&channel) {
                        waiting.push(reply);
                        return;
                    }
                }
                let _caller_gone_is_fine = reply.send(());
            }
            Control::Unlisten { channel, id } => self.unlisten(&channel, id).await,
            Control::Lost { generation, reason } => {
                if let Some(addr) = self.addr_of(generation) {
                    tracing::warn!(%addr, reason, "redis pub/sub connection to a master lost");
                    self.lose_link(&addr);
                } else if generation > self.last_attempt_seen {
                    // Lost before its attempt was reported: not to be used.
                    self.lost_early.push(generation);
                }
            }
            Control::Dropped {
                generation,
                channel,
            } => self.dropped(generation, channel),
        }
    }

    fn addr_of(&self, generation: u64) -> Option<NodeAddr> {
        self.links
            .iter()
            .find(|(_, link)| link.generation == generation)
            .map(|(addr, _)| Arc::clone(addr))
    }

    /// A `sunsubscribe` arrived: ours, or the server's (the slot moved away). The
    /// server's drops the whole connection: a push the client did not ask for may have
    /// been taken as the answer to a command in flight, so nothing on it is trusted.
    fn dropped(&mut self, generation: u64, channel: String) {
        let Some(addr) = self.addr_of(generation) else {
            return;
        };
        if let Some(link) = self.links.get_mut(&addr)
            && let Some(count) = link.unsubscribing.get_mut(&channel)
        {
            *count -= 1;
            if *count == 0 {
                link.unsubscribing.remove(&channel);
            }
            return;
        }
        tracing::info!(%addr, channel, "redis cluster unsubscribed a channel (its slot moved)");
        self.lose_link(&addr);
    }

    async fn unlisten(&mut self, channel: &str, id: u64) {
        if !remove_route(&self.routes, channel, id) {
            return;
        }
        let Some(addr) = self.placement.remove(channel) else {
            return;
        };
        let Some(link) = self.links.get_mut(&addr) else {
            return;
        };
        *link.unsubscribing.entry(channel.to_owned()).or_default() += 1;
        let mut command = redis::cmd("SUNSUBSCRIBE");
        command.arg(channel);
        let mut connection = link.connection.clone();
        match timeout(REPLY_TIMEOUT, command.query_async::<Value>(&mut connection)).await {
            Ok(Ok(_)) => tracing::debug!(channel, %addr, "redis SUNSUBSCRIBE"),
            Ok(Err(error)) => tracing::debug!(channel, %error, "redis SUNSUBSCRIBE failed"),
            Err(_) => {
                tracing::warn!(channel, %addr, "redis SUNSUBSCRIBE unanswered; reconnecting");
                self.lose_link(&addr);
            }
        }
    }

    /// Drops the connection to `addr`: its channels are polled until placed again.
    fn lose_link(&mut self, addr: &NodeAddr) {
        if self.links.remove(addr).is_some() {
            SHARDED_METRICS.lost();
        }
        let mut routes = lock(&self.routes);
        self.placement.retain(|channel, placed| {
            if placed != addr {
                return true;
            }
            if let Some(entry) = routes.get_mut(channel) {
                entry.live = false;
            }
            false
        });
        drop(routes);
        self.backoff.reset();
        self.retry_at = Some(Instant::now() + MIN_BACKOFF);
    }

    /// The feeds waiting for a connection to `channel`'s master, if one is being made.
    fn connecting_for(&mut self, channel: &str) -> Option<&mut Vec<oneshot::Sender<()>>> {
        let addr = self.cluster.master_of(key_slot(channel.as_bytes()))?;
        self.connecting.get_mut(&addr)
    }

    /// A connection attempt ended: on success its master's channels are placed; either
    /// way the feeds that waited for it are answered.
    async fn attempt_ended(&mut self, attempt: Attempt) {
        let waiting = self.connecting.remove(&attempt.addr).unwrap_or_default();
        let link = attempt.link.and_then(|link| {
            self.last_attempt_seen = self.last_attempt_seen.max(link.generation);
            match self
                .lost_early
                .iter()
                .position(|lost| *lost == link.generation)
            {
                Some(index) => {
                    self.lost_early.swap_remove(index);
                    Err("the connection closed at once".to_owned())
                }
                None => Ok(link),
            }
        });
        match link {
            Ok(link) => {
                tracing::info!(addr = %attempt.addr, "redis pub/sub connected to a master");
                self.down_until.remove(&attempt.addr);
                self.links.insert(attempt.addr, link);
                self.retry().await;
            }
            Err(error) => {
                let wait = self.backoff.next_delay().max(MAX_RETRY / 2);
                tracing::warn!(addr = %attempt.addr, %error, retry_in = ?wait, "redis pub/sub cannot reach a master");
                self.down_until.insert(attempt.addr, Instant::now() + wait);
                self.schedule_retry();
            }
        }
        for reply in waiting {
            let _caller_gone_is_fine = reply.send(());
        }
    }

    /// Subscribes a channel on its master, or leaves it to be polled and placed later.
    async fn place_or_schedule(&mut self, channel: &str) {
        match self.place(channel).await {
            Ok(()) => {}
            Err(Unplaced::Later) => self.schedule_retry(),
            Err(Unplaced::LinkFailed(addr, reason)) => {
                tracing::warn!(%addr, channel, reason, "redis SSUBSCRIBE failed; reconnecting");
                self.lose_link(&addr);
            }
        }
    }

    fn schedule_retry(&mut self) {
        if self.retry_at.is_none() {
            self.retry_at = Some(Instant::now() + self.backoff.next_delay());
        }
    }

    /// Places every routed channel that is not placed, after reading the slot map again;
    /// their feeds resync, having been polled meanwhile. A master's channels are
    /// subscribed together (pipelined on its connection).
    async fn retry(&mut self) {
        self.retry_at = None;
        if let Err(error) = self.cluster.refresh().await {
            tracing::warn!(%error, "redis cluster: cannot read the slot map");
        }
        let mut by_master: HashMap<NodeAddr, Vec<String>> = HashMap::new();
        let mut left = 0;
        for channel in lock(&self.routes).keys() {
            if self.placement.contains_key(channel) {
                continue;
            }
            match self.cluster.master_of(key_slot(channel.as_bytes())) {
                Some(addr) => by_master.entry(addr).or_default().push(channel.clone()),
                None => left += 1,
            }
        }
        for (addr, channels) in by_master {
            left += self.place_on(&addr, &channels).await;
        }
        if left == 0 {
            self.backoff.reset();
        } else if self.retry_at.is_none() && self.connecting.is_empty() {
            // (A connection being made places its channels when it is up.)
            self.schedule_retry();
        }
    }

    /// Subscribes `channel` on the master of its slot; marks it live when done.
    async fn place(&mut self, channel: &str) -> Result<(), Unplaced> {
        let slot = key_slot(channel.as_bytes());
        let Some(addr) = self.cluster.master_of(slot) else {
            return Err(Unplaced::Later);
        };
        let connection = self.link(&addr).await?;
        match ssubscribe(connection, channel.to_owned()).await {
            Subscribed::Yes => {
                self.mark_placed(channel, &addr);
                Ok(())
            }
            Subscribed::Moved => {
                self.refresh_soon();
                Err(Unplaced::Later)
            }
            Subscribed::Failed(reason) => Err(Unplaced::LinkFailed(addr, reason)),
        }
    }

    /// Subscribes `channels`, all of `addr`'s slots, on its connection, at most
    /// [`SUBSCRIBES_IN_FLIGHT`] at a time; their feeds resync once subscribed. Returns
    /// how many are left unplaced.
    async fn place_on(&mut self, addr: &NodeAddr, channels: &[String]) -> usize {
        let Ok(connection) = self.link(addr).await else {
            return channels.len();
        };
        let mut left = 0;
        let mut failed = None;
        for batch in channels.chunks(SUBSCRIBES_IN_FLIGHT) {
            let answers = futures::future::join_all(
                batch
                    .iter()
                    .map(|channel| ssubscribe(connection.clone(), channel.clone())),
            )
            .await;
            #[cfg(feature = "testing")]
            {
                let window = super::super::testing::resubscribe_window();
                if !window.is_zero() {
                    sleep(window).await;
                }
            }
            for (channel, answer) in batch.iter().zip(answers) {
                match answer {
                    Subscribed::Yes => self.mark_placed(channel, addr),
                    Subscribed::Moved => {
                        self.refresh_soon();
                        left += 1;
                    }
                    Subscribed::Failed(reason) => {
                        failed = Some(reason);
                        left += 1;
                    }
                }
            }
            if failed.is_some() {
                break;
            }
        }
        if let Some(reason) = failed {
            tracing::warn!(%addr, reason, "redis SSUBSCRIBE failed; reconnecting");
            self.lose_link(addr);
            // Everything of this master is unplaced again.
            return channels.len();
        }
        left
    }

    /// The channel's messages reach its feeds from now on, after a `Resync` (see
    /// `ChannelRoutes::resume`).
    fn mark_placed(&mut self, channel: &str, addr: &NodeAddr) {
        tracing::debug!(channel, %addr, "redis SSUBSCRIBE");
        self.placement.insert(channel.to_owned(), Arc::clone(addr));
        if let Some(entry) = lock(&self.routes).get_mut(channel) {
            entry.resume();
        }
    }

    /// Reads the slot map again in the background (a `MOVED` answer: the map is stale).
    fn refresh_soon(&self) {
        let cluster = self.cluster.clone();
        tokio::spawn(async move { cluster.refresh().await });
    }

    /// The connection to `addr`; if there is none, a task starts connecting (unless one
    /// is already, or the master is in its back-off) and the channel must wait.
    async fn link(&mut self, addr: &NodeAddr) -> Result<MultiplexedConnection, Unplaced> {
        if let Some(link) = self.links.get(addr) {
            return Ok(link.connection.clone());
        }
        let down = self
            .down_until
            .get(addr)
            .is_some_and(|until| *until > Instant::now());
        if !down && !self.connecting.contains_key(addr) {
            self.connecting.insert(Arc::clone(addr), Vec::new());
            self.next_generation += 1;
            let connect = connect(
                self.cluster.node_info(addr),
                self.connect_timeout,
                Arc::clone(&self.routes),
                self.control.clone(),
                self.next_generation,
            );
            let report = self.connected.clone();
            let addr = Arc::clone(addr);
            tokio::spawn(async move {
                let link = connect.await;
                let _stopped_is_fine = report.send(Attempt { addr, link });
            });
        }
        Err(Unplaced::Later)
    }
}

/// Opens a RESP3 connection to a master and starts its dispatcher and pinger.
async fn connect(
    info: Result<redis::ConnectionInfo, String>,
    connect_timeout: Duration,
    routes: Routes,
    control: mpsc::WeakUnboundedSender<Control>,
    generation: u64,
) -> Result<ShardLink, String> {
    let info = info?;
    let resp3 = info
        .redis_settings()
        .clone()
        .set_protocol(redis::ProtocolVersion::RESP3);
    let client =
        redis::Client::open(info.set_redis_settings(resp3)).map_err(|error| error.to_string())?;
    let (pushes, incoming) = mpsc::unbounded_channel();
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(Some(REPLY_TIMEOUT))
        .set_push_sender(pushes);
    let connection = timeout(
        connect_timeout,
        client.get_multiplexed_async_connection_with_config(&config),
    )
    .await
    .map_err(|_| format!("no connection within {connect_timeout:?}"))?
    .map_err(|error| error.to_string())?;
    let dispatcher =
        tokio::spawn(dispatch(incoming, routes, control.clone(), generation)).abort_handle();
    let pinger = tokio::spawn(ping(connection.clone(), control, generation)).abort_handle();
    SHARDED_METRICS.open(1);
    Ok(ShardLink {
        connection,
        generation,
        dispatcher,
        pinger,
        unsubscribing: HashMap::new(),
    })
}

/// The answer to one `SSUBSCRIBE`.
enum Subscribed {
    Yes,
    /// The master does not own the channel's slot (any more).
    Moved,
    /// An error answer or none within [`REPLY_TIMEOUT`]: the connection is not trusted.
    Failed(&'static str),
}

async fn ssubscribe(mut connection: MultiplexedConnection, channel: String) -> Subscribed {
    let mut command = redis::cmd("SSUBSCRIBE");
    command.arg(&channel);
    match timeout(REPLY_TIMEOUT, command.query_async::<Value>(&mut connection)).await {
        Ok(Ok(_)) => Subscribed::Yes,
        Ok(Err(error)) if error.code() == Some("MOVED") => {
            tracing::debug!(channel, "redis SSUBSCRIBE: MOVED");
            Subscribed::Moved
        }
        Ok(Err(_)) => Subscribed::Failed("an error answer"),
        Err(_) => Subscribed::Failed("no answer"),
    }
}

fn text(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.as_bytes()),
        _ => None,
    }
}

/// Routes a master's pushes: messages to the feeds of their channel, `sunsubscribe`s and
/// the end of the connection to the control task.
async fn dispatch(
    mut incoming: mpsc::UnboundedReceiver<PushInfo>,
    routes: Routes,
    control: mpsc::WeakUnboundedSender<Control>,
    generation: u64,
) {
    while let Some(push) = incoming.recv().await {
        let mut data = push.data.iter();
        let channel = data
            .next()
            .and_then(text)
            .map(|name| String::from_utf8_lossy(name).into_owned());
        match (push.kind, channel) {
            (PushKind::SMessage, Some(channel)) => {
                let payload = data.next().and_then(text).unwrap_or_default();
                route_payload(&routes, &channel, payload);
            }
            (PushKind::SUnsubscribe, Some(channel)) => report(
                &control,
                Control::Dropped {
                    generation,
                    channel,
                },
            ),
            (PushKind::Disconnection, _) => break,
            _ => {}
        }
    }
    report_lost(&control, generation, "the connection closed");
}

/// PINGs the connection until one goes unanswered.
async fn ping(
    mut connection: MultiplexedConnection,
    control: mpsc::WeakUnboundedSender<Control>,
    generation: u64,
) {
    loop {
        sleep(PING_EVERY).await;
        let command = redis::cmd("PING");
        match timeout(REPLY_TIMEOUT, command.query_async::<Value>(&mut connection)).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return report_lost(&control, generation, "PING failed"),
            Err(_) => return report_lost(&control, generation, "PING unanswered"),
        }
    }
}
