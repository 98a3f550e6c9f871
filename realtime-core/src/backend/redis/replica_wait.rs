//! [`Durability::Replicated`] on a cluster: one `WAIT` per master covers every batch that
//! master stored meanwhile, instead of one `WAIT` per batch.
//!
//! On a cluster a batch's lane is its hash slot (one script call touches one slot), so a
//! master runs the batches of many lanes at once over this process's one connection to
//! it. `WAIT` blocks that connection until the replicas acknowledge, so with a `WAIT` in
//! each batch's pipeline a master completed about one batch per replication round trip,
//! and with many channels a batch holds about one emit. `WAIT` counts the replicas that
//! acknowledged every write its connection made before it: one `WAIT`, sent after a
//! batch's script call was answered, covers that batch and all others answered on the
//! same connection before it.
//!
//! So a batch about to be sent to a master with no `WAIT` in flight carries the `WAIT`
//! in its own pipeline, after its script call ([`RedisBackend::lead_wait`]: a lone
//! emitter waits one round trip, as before); the other batches are sent without, and
//! once answered ask [`RedisBackend::wait_for_replicas`]: with no `WAIT` in flight by
//! then, one is sent at once; otherwise the batch waits for the `WAIT` after the one in
//! flight (which may have been sent before its script call ran), shared with every batch
//! that arrived meanwhile.
//!
//! The cover holds on one connection only, and the connection to a master may be replaced
//! (a reconnect) between a batch and the `WAIT`: a batch's pipeline ends with `CLIENT ID`,
//! so does the `WAIT`'s, and a batch whose id differs from the `WAIT`'s gets no count (its
//! emits fail as outcome unknown, as when a `WAIT`'s answer is lost). Never a count that
//! does not cover the batch.
//!
//! Bounds: one `WAIT` in flight per master; the batches waiting for the next are at most
//! the emits in flight (each awaits its own answer), and are answered together.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use redis::Value;
use tokio::sync::oneshot;

use super::cluster::{NodeAddr, key_slot};
use super::commands::Commands;
use super::{Durability, RedisBackend};
use crate::util::lock;

/// How many replicas acknowledged a batch's writes; `None` when that is unknown (the
/// `WAIT` failed, or went over another connection than the batch).
pub(super) type Acknowledged = Option<i64>;

/// A batch waiting for the next `WAIT` of its master.
struct Waiter {
    /// `CLIENT ID` of the connection its script call went over.
    connection: i64,
    answer: oneshot::Sender<Acknowledged>,
}

#[derive(Default)]
struct Master {
    /// Whether a `WAIT` to this master is in flight; when one is, batches wait in
    /// `waiting` for the next.
    in_flight: bool,
    waiting: Vec<Waiter>,
}

/// A master's `WAIT` claimed by a caller, given back when the caller is done (the next
/// `WAIT` sent for the batches waiting, or none counted in flight): also when the caller
/// is abandoned mid-flight, or the master would stay counted busy and its waiting
/// batches would never be answered.
pub(super) struct WaitTurn {
    backend: RedisBackend,
    node: NodeAddr,
}

impl Drop for WaitTurn {
    fn drop(&mut self) {
        self.backend.next_wait(&self.node);
    }
}

/// The `WAIT`s of a cluster backend, per master.
#[derive(Default)]
pub(super) struct ReplicaWaits {
    masters: Mutex<HashMap<NodeAddr, Master>>,
}

impl std::fmt::Debug for ReplicaWaits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicaWaits").finish_non_exhaustive()
    }
}

impl RedisBackend {
    /// With [`Durability::Replicated`] on a cluster: if no `WAIT` to the master of `key`'s
    /// slot is in flight, claims the next one for the caller's pipeline; the caller drops
    /// the turn once its pipeline is answered (or failed). `None`: the batch goes without
    /// `WAIT`.
    pub(super) fn lead_wait(&self, key: &str) -> Option<WaitTurn> {
        let Durability::Replicated { .. } = self.shared.options.durability else {
            return None;
        };
        let Commands::Cluster(cluster) = &self.shared.commands else {
            return None;
        };
        let node = cluster.master_of(key_slot(key.as_bytes()))?;
        let mut masters = lock(&self.shared.replica_waits.masters);
        let master = masters.entry(Arc::clone(&node)).or_default();
        if master.in_flight {
            return None;
        }
        master.in_flight = true;
        Some(WaitTurn {
            backend: self.clone(),
            node,
        })
    }

    /// How many replicas acknowledged the writes made over connection `connection`
    /// (its `CLIENT ID`) to the master at `node`, by a `WAIT` sent after this call.
    pub(super) async fn wait_for_replicas(&self, node: &NodeAddr, connection: i64) -> Acknowledged {
        let waiting = {
            let mut masters = lock(&self.shared.replica_waits.masters);
            let master = masters.entry(Arc::clone(node)).or_default();
            if master.in_flight {
                let (answer, waiting) = oneshot::channel();
                master.waiting.push(Waiter { connection, answer });
                Some(waiting)
            } else {
                master.in_flight = true;
                None
            }
        };
        if let Some(waiting) = waiting {
            return waiting.await.unwrap_or(None);
        }
        let turn = WaitTurn {
            backend: self.clone(),
            node: Arc::clone(node),
        };
        let acknowledged = covering(self.send_wait(node).await, connection);
        drop(turn);
        acknowledged
    }

    /// A `WAIT` to `node` ended: sends the next for the batches that arrived meanwhile
    /// (from a task of its own, so that the caller returns at once), or notes that none is
    /// in flight.
    fn next_wait(&self, node: &NodeAddr) {
        let Some(mut waiters) = self.take_waiters(node) else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to send it from (it is shutting down): the waiting batches learn
            // nothing (their answers are dropped) and no `WAIT` stays counted in flight.
            loop {
                drop(waiters);
                match self.take_waiters(node) {
                    Some(next) => waiters = next,
                    None => return,
                }
            }
        };
        let backend = self.clone();
        let node = Arc::clone(node);
        runtime.spawn(async move {
            let mut waiters = waiters;
            loop {
                let answer = backend.send_wait(&node).await;
                for waiter in waiters {
                    let _batch_gone_is_fine =
                        waiter.answer.send(covering(answer, waiter.connection));
                }
                match backend.take_waiters(&node) {
                    Some(next) => waiters = next,
                    None => return,
                }
            }
        });
    }

    /// The batches waiting for `node`'s next `WAIT`, or, when none are, `None` and the
    /// master forgotten (no `WAIT` in flight).
    fn take_waiters(&self, node: &NodeAddr) -> Option<Vec<Waiter>> {
        let mut masters = lock(&self.shared.replica_waits.masters);
        let master = masters.get_mut(node)?;
        if master.waiting.is_empty() {
            masters.remove(node);
            return None;
        }
        Some(std::mem::take(&mut master.waiting))
    }

    /// `CLIENT ID` and `WAIT` over the connection to `node`: the connection's id and the
    /// replicas counted, or `None` if either is unknown.
    async fn send_wait(&self, node: &NodeAddr) -> Option<(i64, i64)> {
        let Durability::Replicated { replicas, timeout } = self.shared.options.durability else {
            return None;
        };
        let Commands::Cluster(cluster) = &self.shared.commands else {
            return None;
        };
        let timeout_ms = u64::try_from(timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut pipeline = redis::pipe();
        pipeline
            .ignore_errors()
            .cmd("CLIENT")
            .arg("ID")
            .cmd("WAIT")
            .arg(replicas)
            .arg(timeout_ms);
        match cluster.send_to(node, &pipeline, false).await {
            Ok(replies) => match replies.as_slice() {
                [Ok(Value::Int(id)), Ok(Value::Int(count))] => Some((*id, *count)),
                other => {
                    tracing::debug!(%node, replies = ?other, "redis cluster: WAIT answered unexpectedly");
                    None
                }
            },
            Err(error) => {
                tracing::debug!(%node, %error, "redis cluster: WAIT failed");
                None
            }
        }
    }
}

/// The count of a `WAIT` for a batch sent over connection `connection`: only if the
/// `WAIT` went over that same connection.
fn covering(answer: Option<(i64, i64)>, connection: i64) -> Acknowledged {
    answer.and_then(|(id, count)| (id == connection).then_some(count))
}

#[cfg(test)]
mod tests {
    use super::covering;

    #[test]
    fn a_wait_counts_only_for_batches_of_its_connection() {
        assert_eq!(covering(Some((7, 1)), 7), Some(1));
        assert_eq!(covering(Some((8, 1)), 7), None);
        assert_eq!(covering(None, 7), None);
    }
}
