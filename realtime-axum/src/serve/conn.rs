//! What each connection shares with the accept loop: whether a request is in flight, the
//! deadline for its next bytes while none is, and a way to be told to close.
//!
//! Idle connections (waiting for a first head, or between keep-alive requests) are kept
//! in the order they became idle, so that when descriptors run out the accept loop closes
//! the one idle for the longest.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::Waker;
use std::time::Duration;

use futures::task::AtomicWaker;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::config::ServeConfig;

/// A connection idle for less than this is never shed: a real client sends its head
/// within milliseconds of connecting, so the newest connection is not closed just because
/// every older one is busy.
pub(crate) const SHED_MIN_IDLE: Duration = Duration::from_millis(250);

/// Every open connection of one server.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    open: AtomicUsize,
    idle: Mutex<IdleQueue>,
    /// Told each time a connection closes.
    closed: Notify,
}

#[derive(Debug, Default)]
struct IdleQueue {
    /// Idle connections by the order they became idle (with when): the first is the
    /// oldest.
    by_age: BTreeMap<u64, (Instant, Weak<Connection>)>,
    next: u64,
    /// Shutting down: a connection that becomes idle is closed at once.
    closing: bool,
}

impl Connections {
    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Closes the connection idle for the longest: `false` when none has been idle for
    /// [`SHED_MIN_IDLE`].
    pub(crate) fn shed_oldest_idle(&self) -> bool {
        let oldest = {
            let mut queue = self.idle();
            let old_enough = queue
                .by_age
                .first_key_value()
                .is_some_and(|(_, (since, _))| since.elapsed() >= SHED_MIN_IDLE);
            if old_enough {
                queue.by_age.pop_first()
            } else {
                None
            }
        };
        match oldest.and_then(|(_, (_, connection))| connection.upgrade()) {
            Some(connection) => {
                tracing::debug!("closing the oldest idle connection to make room");
                connection.shed();
                true
            }
            None => false,
        }
    }

    /// Shutting down: closes every idle connection now, and each one that becomes idle.
    pub(crate) fn close_idle(&self) {
        let idle = {
            let mut queue = self.idle();
            queue.closing = true;
            std::mem::take(&mut queue.by_age)
        };
        for connection in idle.into_values().filter_map(|(_, weak)| weak.upgrade()) {
            connection.shed();
        }
    }

    /// Completes when a connection closes (or one closed since the last call).
    pub(crate) async fn one_closed(&self) {
        self.closed.notified().await;
    }

    fn idle(&self) -> MutexGuard<'_, IdleQueue> {
        // The queue holds no invariant a panic elsewhere could break.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Where a connection is between requests.
#[derive(Debug)]
enum Phase {
    /// No request in flight: the next head must be complete by `deadline`.
    Waiting {
        deadline: Instant,
        why: WaitingFor,
        /// Its place in the idle queue.
        place: u64,
    },
    /// A request is in flight (or the connection was upgraded): no read deadline here.
    Busy,
}

/// What a waiting connection waits for, and so which timeout applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WaitingFor {
    /// The first request's head, due `header_read_timeout` after accept.
    FirstHead,
    /// The next request after a response: due `idle_timeout` after it.
    NextRequest,
    /// The rest of a keep-alive request's head: due `header_read_timeout` after its first
    /// byte.
    RestOfHead,
}

impl WaitingFor {
    pub(crate) fn timeout_message(self) -> &'static str {
        match self {
            WaitingFor::FirstHead | WaitingFor::RestOfHead => {
                "no complete request head within the header read timeout"
            }
            WaitingFor::NextRequest => "no new request within the idle timeout",
        }
    }
}

/// One connection's state, shared by its IO, its service and the accept loop.
#[derive(Debug)]
pub(crate) struct Connection {
    connections: Arc<Connections>,
    pub(crate) config: Arc<ServeConfig>,
    phase: Mutex<Phase>,
    shed: AtomicBool,
    /// The connection task, woken when it is shed.
    waker: AtomicWaker,
    body_timed_out: AtomicBool,
}

impl Connection {
    /// A connection just accepted: idle, waiting for its first head.
    pub(crate) fn accepted(connections: &Arc<Connections>, config: &Arc<ServeConfig>) -> Arc<Self> {
        connections.open.fetch_add(1, Ordering::AcqRel);
        let connection = Arc::new(Self {
            connections: Arc::clone(connections),
            config: Arc::clone(config),
            phase: Mutex::new(Phase::Busy),
            shed: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            body_timed_out: AtomicBool::new(false),
        });
        let deadline = Instant::now() + config.header_read_timeout;
        connection.wait(&mut connection.phase(), WaitingFor::FirstHead, deadline);
        connection
    }

    /// A request head was read: nothing more is due until its response is written.
    pub(crate) fn request_started(&self) {
        let mut phase = self.phase();
        if let Phase::Waiting { place, .. } = *phase {
            self.connections.idle().by_age.remove(&place);
        }
        *phase = Phase::Busy;
        self.body_timed_out.store(false, Ordering::Release);
    }

    /// The response was written: the connection waits for its next request.
    pub(crate) fn response_finished(self: &Arc<Self>) {
        let deadline = Instant::now() + self.config.idle_timeout;
        self.wait(&mut self.phase(), WaitingFor::NextRequest, deadline);
    }

    /// Bytes arrived: the first of a keep-alive request's head starts its header timeout.
    pub(crate) fn bytes_read(&self) {
        let mut phase = self.phase();
        if let Phase::Waiting { deadline, why, .. } = &mut *phase {
            if *why == WaitingFor::NextRequest {
                *why = WaitingFor::RestOfHead;
                *deadline = Instant::now() + self.config.header_read_timeout;
            }
        }
    }

    /// When the connection must have read its next head, if it is waiting for one.
    pub(crate) fn read_deadline(&self) -> Option<(Instant, WaitingFor)> {
        match *self.phase() {
            Phase::Waiting { deadline, why, .. } => Some((deadline, why)),
            Phase::Busy => None,
        }
    }

    pub(crate) fn is_shed(&self) -> bool {
        self.shed.load(Ordering::Acquire)
    }

    /// The task to wake if the connection is shed.
    pub(crate) fn register_waker(&self, waker: &Waker) {
        self.waker.register(waker);
    }

    pub(crate) fn mark_body_timed_out(&self) {
        self.body_timed_out.store(true, Ordering::Release);
    }

    pub(crate) fn body_timed_out(&self) -> bool {
        self.body_timed_out.load(Ordering::Acquire)
    }

    fn wait(self: &Arc<Self>, phase: &mut Phase, why: WaitingFor, deadline: Instant) {
        let mut queue = self.connections.idle();
        if let Phase::Waiting { place, .. } = *phase {
            queue.by_age.remove(&place);
        }
        let place = queue.next;
        queue.next += 1;
        *phase = Phase::Waiting {
            deadline,
            why,
            place,
        };
        if queue.closing {
            drop(queue);
            self.shed();
        } else {
            queue
                .by_age
                .insert(place, (Instant::now(), Arc::downgrade(self)));
        }
    }

    fn shed(&self) {
        self.shed.store(true, Ordering::Release);
        self.waker.wake();
    }

    fn phase(&self) -> MutexGuard<'_, Phase> {
        self.phase
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let phase = self
            .phase
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Phase::Waiting { place, .. } = *phase {
            self.connections.idle().by_age.remove(&place);
        }
        self.connections.open.fetch_sub(1, Ordering::AcqRel);
        self.connections.closed.notify_one();
    }
}
