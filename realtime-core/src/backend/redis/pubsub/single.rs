//! The pub/sub connection to a single Redis: every channel `SUBSCRIBE`d on one
//! connection, replaced with back-off when it is lost.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use redis::aio::{PubSubSink, PubSubStream};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio::time::{Instant, sleep, sleep_until, timeout};

use super::{
    BACKEND, Channels, Control, MAX_BACKOFF, MIN_BACKOFF, PING_EVERY, REPLY_TIMEOUT, Route, Routes,
    SINGLE_METRICS, add_route, remove_route, report_lost, route_payload,
};
use crate::backend::BackendError;
use crate::backend::redis::commands::failure_kind;
use crate::util::{Backoff, lock};

/// A failure of the pub/sub connection; what it means for a subscriber as for a read
/// (a refusal such as `NOPERM` is lasting, a lost connection passes).
fn error(message: impl Into<String>, source: redis::RedisError) -> BackendError {
    let kind = failure_kind(&source, false);
    BackendError::with_source(BACKEND, message, source).kind(kind)
}

/// Runs the control task until every handle is dropped.
pub(super) async fn run(
    client: redis::Client,
    connect_timeout: Duration,
    routes: Routes,
    channels: Channels,
) {
    let Channels { commands, control } = channels;
    let task = ControlTask {
        client,
        connect_timeout,
        routes,
        link: None,
        generation: 0,
        control,
        backoff: Backoff::new(MIN_BACKOFF, MAX_BACKOFF),
        retry_at: None,
    };
    task.run(commands).await;
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
        SINGLE_METRICS.open(-1);
    }
}

struct ControlTask {
    client: redis::Client,
    connect_timeout: Duration,
    routes: Routes,
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
                if self.is_current(generation) {
                    tracing::warn!(reason, "redis pub/sub connection lost; reconnecting");
                    self.lose_link();
                }
            }
            // A single Redis only unsubscribes when asked; a connection that says otherwise
            // is not to be trusted.
            Control::Dropped {
                generation,
                channel,
            } => {
                if self.is_current(generation) {
                    tracing::warn!(
                        channel,
                        "redis unsubscribed a channel by itself; reconnecting"
                    );
                    self.lose_link();
                }
            }
        }
    }

    fn is_current(&self, generation: u64) -> bool {
        self.link
            .as_ref()
            .is_some_and(|link| link.generation == generation)
    }

    /// Adds a route. When connected, its channel is subscribed before this returns;
    /// otherwise the poller serves it until the connection is back.
    async fn listen(&mut self, channel: String, route: Route) {
        let first_of_channel = add_route(&self.routes, &channel, route);
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
            Ok(Ok(())) => {
                tracing::debug!(channel, "redis SUBSCRIBE");
                if let Some(entry) = lock(&self.routes).get_mut(&channel) {
                    entry.resume();
                }
            }
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

    async fn unlisten(&mut self, channel: &str, id: u64) {
        if !remove_route(&self.routes, channel, id) {
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

    /// Drops the connection: every channel is polled until a new one subscribes it.
    fn lose_link(&mut self) {
        self.link = None;
        SINGLE_METRICS.lost();
        for entry in lock(&self.routes).values_mut() {
            entry.live = false;
        }
        self.backoff.reset();
        self.retry_at = Some(Instant::now());
    }

    /// Connects, resubscribes every channel, and tells every feed to resync.
    async fn reconnect(&mut self) {
        self.link = None;
        match self.connect().await {
            Ok(link) => {
                self.link = Some(link);
                self.retry_at = None;
                self.backoff.reset();
                #[cfg(feature = "testing")]
                {
                    let window = super::super::testing::resubscribe_window();
                    if !window.is_zero() {
                        sleep(window).await;
                    }
                }
                let mut routes = lock(&self.routes);
                for entry in routes.values_mut() {
                    entry.resume();
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
        SINGLE_METRICS.open(1);
        Ok(Link {
            sink,
            dispatcher,
            pinger,
            generation: self.generation,
        })
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
        route_payload(
            &routes,
            message.get_channel_name(),
            message.get_payload_bytes(),
        );
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
