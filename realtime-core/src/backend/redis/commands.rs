//! The command connection of the Redis backend, to one Redis or to the masters of a
//! cluster, and what a failed command means for the caller.

use redis::aio::ConnectionManager;
use redis::{RedisResult, Value};

use super::cluster::{ClusterCommands, NodeAddr};
use super::{BACKEND, failure};
use crate::backend::{BackendError, FailureKind};

/// Where commands go.
#[derive(Clone)]
pub(super) enum Commands {
    /// One multiplexed, auto-reconnecting connection.
    Single(ConnectionManager),
    /// One such connection per master, each command to the master of its key's slot.
    Cluster(ClusterCommands),
}

impl Commands {
    /// Sends `pipeline`, whose commands all touch `key` (or its slot). Replies come one
    /// per command, errors Redis answered included; `Err` means the connection failed.
    pub(super) async fn send(
        &self,
        key: &str,
        pipeline: &redis::Pipeline,
    ) -> RedisResult<Vec<RedisResult<Value>>> {
        Ok(self.send_noting_node(key, pipeline).await?.1)
    }

    /// As [`send`](Commands::send), with the cluster node that answered (`None` on one
    /// Redis).
    pub(super) async fn send_noting_node(
        &self,
        key: &str,
        pipeline: &redis::Pipeline,
    ) -> RedisResult<(Option<NodeAddr>, Vec<RedisResult<Value>>)> {
        match self {
            Commands::Single(connection) => {
                let replies = pipeline.query_async(&mut connection.clone()).await?;
                Ok((None, replies))
            }
            Commands::Cluster(cluster) => {
                let (node, replies) = cluster.send(key, pipeline).await?;
                Ok((Some(node), replies))
            }
        }
    }
}

/// What a failed command tells about its effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
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
    pub(super) fn of(error: &redis::RedisError) -> Self {
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
    pub(super) fn repeat(self, repeatable: bool) -> bool {
        match self {
            Outcome::NotSent => true,
            Outcome::LostInFlight => repeatable,
            Outcome::Answered | Outcome::TimedOut => false,
        }
    }

    /// What the failure means for the caller of a write (`changes`) or a read.
    pub(super) fn failure_kind(self, changes: bool) -> FailureKind {
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
pub(super) fn command_failure(
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
