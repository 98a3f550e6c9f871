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

impl Commands {
    /// Sends one command to one Redis (on a cluster: see [`send_noting_node`]). The
    /// reply is Redis's answer, an error it answered included; `Err` means the
    /// connection failed, as for a pipeline.
    ///
    /// [`send_noting_node`]: Commands::send_noting_node
    pub(super) async fn send_command(
        &self,
        command: &redis::Cmd,
    ) -> RedisResult<RedisResult<Value>> {
        use redis::aio::ConnectionLike;
        let Commands::Single(connection) = self else {
            return Err(redis::RedisError::from((
                redis::ErrorKind::Client,
                "a single command is sent to one Redis, not a cluster",
            )));
        };
        let reply = connection
            .clone()
            .req_packed_command(command)
            .await
            .and_then(Value::extract_error);
        match reply {
            Ok(value) => Ok(Ok(value)),
            Err(error) if is_answer(&error) => Ok(Err(error)),
            Err(error) => Err(error),
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

    /// What a failure of the connection means for the caller of a write (`changes`) or
    /// a read. An error Redis answered needs its words read: see [`failure_kind`].
    fn connection_failure_kind(self, changes: bool) -> FailureKind {
        match self {
            Outcome::LostInFlight | Outcome::TimedOut if changes => FailureKind::OutcomeUnknown,
            _ => FailureKind::Unavailable,
        }
    }
}

/// What a failed command means for the caller of a write (`changes`) or a read: an error
/// Redis answered is judged by what it says ([`answered_kind`]), a failed connection by
/// whether the command may have run.
pub(super) fn failure_kind(error: &redis::RedisError, changes: bool) -> FailureKind {
    match Outcome::of(error) {
        Outcome::Answered => answered_kind(error),
        outcome => outcome.connection_failure_kind(changes),
    }
}

/// The codes of the errors Redis answers while in a state that passes by itself: loading
/// its data, busy with a script, a cluster resharding or failing over, a replica not yet
/// promoted, too few replicas, out of memory or unable to persist (until the operator or
/// eviction frees it). Nothing ran; the same command can succeed later.
const PASSING_STATE_CODES: &[&str] = &[
    "LOADING",
    "BUSY",
    "TRYAGAIN",
    "CLUSTERDOWN",
    "MASTERDOWN",
    "READONLY",
    "NOREPLICAS",
    "OOM",
    "MISCONF",
    "MOVED",
    "ASK",
];

/// What an error Redis answered means: a passing state ([`PASSING_STATE_CODES`], or a
/// server at its client limit) is [`FailureKind::Unavailable`]; anything else (`ERR` for a
/// malformed argument, `WRONGTYPE`, `NOPERM`, a script's own error) is the same answer on
/// every retry, so it is [`FailureKind::Refused`].
pub(super) fn answered_kind(error: &redis::RedisError) -> FailureKind {
    code_kind(
        error.code().unwrap_or_default(),
        error.detail().unwrap_or_default(),
    )
}

/// [`answered_kind`] of an error's text as a script caught it (`<CODE> <detail>`).
pub(super) fn error_text_kind(text: &str) -> FailureKind {
    let (code, detail) = text.split_once(' ').unwrap_or((text, ""));
    code_kind(code, detail)
}

fn code_kind(code: &str, detail: &str) -> FailureKind {
    let at_client_limit = code == "ERR" && detail.contains("max number of clients");
    if PASSING_STATE_CODES.contains(&code) || at_client_limit {
        FailureKind::Unavailable
    } else {
        FailureKind::Refused
    }
}

/// Whether Redis itself answered with an error (rather than the connection failing).
fn is_answer(error: &redis::RedisError) -> bool {
    matches!(
        error.kind(),
        redis::ErrorKind::Server(_) | redis::ErrorKind::Extension
    ) || error.code().is_some()
}

/// A failed command, in words that say what it means for the caller ([`failure_kind`]
/// of a write, `changes`, or a read): a key of another type is a lasting refusal
/// explained without Redis's internals.
pub(super) fn command_failure(
    message: String,
    channel: &str,
    source: redis::RedisError,
    changes: bool,
) -> BackendError {
    if source.code() == Some("WRONGTYPE") {
        let message = format!(
            "{message}: the key of channel `{channel}` holds data that is not an event \
             stream (written by something else); this will not succeed on retry"
        );
        return BackendError::with_source(BACKEND, message, source).kind(FailureKind::Refused);
    }
    let kind = failure_kind(&source, changes);
    failure(message, source).kind(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_states_are_unavailable_and_the_rest_refused() {
        for passing in [
            "LOADING Redis is loading the dataset in memory",
            "READONLY You can't write against a read only replica.",
            "OOM command not allowed when used memory > 'maxmemory'.",
            "ERR max number of clients reached",
        ] {
            assert_eq!(
                error_text_kind(passing),
                FailureKind::Unavailable,
                "{passing}"
            );
        }
        for lasting in [
            "ERR invalid start ID for the interval",
            "WRONGTYPE Operation against a key holding the wrong kind of value",
            "NOPERM this user has no permissions to run the 'xadd' command",
            "ERR The user executing the script can't run this command or subcommand",
        ] {
            assert_eq!(error_text_kind(lasting), FailureKind::Refused, "{lasting}");
        }
    }
}
