//! Presence on Redis: one script (`presence.lua`) per operation, on the master of the
//! channel's slot, touching the channel's stream and the presence keys beside it
//! (`<stream key>#presence:leases`, `...:dying`, `...:retired`, `...:counts`,
//! `...:records`, and one `...:lease:<lease>` per lease).
//!
//! A heartbeat of one process refreshes its lease in one channel with one script call of
//! constant cost, whatever the number of its connections there.

use std::sync::OnceLock;
use std::time::Duration;

use redis::Value;

use super::commands::{Outcome, command_failure};
use super::{BACKEND, RedisBackend, layout};
use crate::backend::presence::{JoinOutcome, LeaveOutcome, PresenceJoin, PresenceLeave};
use crate::backend::{BackendError, FailureKind};
use crate::cursor::Cursor;
use crate::member::{JOINED_EVENT, LEFT_EVENT};

/// Sweeps, joins, leaves, refreshes and lists in one atomic step per call; its keys and
/// arguments are named at the top of the file.
const PRESENCE_SCRIPT: &str = include_str!("presence.lua");

/// The parts of a channel's presence, as `presence.lua` takes them (`KEYS[2..6]`).
const PARTS: [&str; 5] = ["leases", "dying", "retired", "counts", "records"];

/// Calls of `members` when each finds more to sweep than one call does (1,000
/// connections): past this many, the members are returned as the last call listed them.
const MAX_MEMBER_SWEEPS: usize = 100;

fn script_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| redis::Script::new(PRESENCE_SCRIPT).get_hash().to_owned())
}

/// One call of the script.
enum Operation<'a> {
    Join(PresenceJoin<'a>),
    Leave(PresenceLeave<'a>),
    Refresh {
        lease: &'a str,
        ttl: Duration,
    },
    /// The sweep alone: whether more is left to sweep.
    Sweep,
}

impl Operation<'_> {
    fn name(&self) -> &'static str {
        match self {
            Operation::Join(_) => "join",
            Operation::Leave(_) => "leave",
            Operation::Refresh { .. } => "refresh",
            Operation::Sweep => "sweep",
        }
    }

    /// The lease whose connections key the call touches.
    fn lease(&self) -> Option<&str> {
        match self {
            Operation::Join(join) => Some(join.lease),
            Operation::Leave(leave) => Some(leave.lease),
            Operation::Refresh { lease, .. } => Some(lease),
            Operation::Sweep => None,
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl RedisBackend {
    fn presence_key(&self, channel: &str, part: &str) -> String {
        let layout = &self.shared.options.key_layout;
        if self.shared.cluster {
            layout.cluster_presence_key(channel, part)
        } else {
            layout.presence_key(channel, part)
        }
    }

    fn presence_command(&self, eval: bool, channel: &str, operation: &Operation<'_>) -> redis::Cmd {
        let mut command = if eval {
            let mut command = redis::cmd("EVAL");
            command.arg(PRESENCE_SCRIPT);
            command
        } else {
            let mut command = redis::cmd("EVALSHA");
            command.arg(script_hash());
            command
        };
        let lease_prefix = self.presence_key(channel, "lease:");
        let lease = operation.lease();
        command
            .arg(1 + PARTS.len() + usize::from(lease.is_some()))
            .arg(self.stream_key(channel));
        for part in PARTS {
            command.arg(self.presence_key(channel, part));
        }
        if let Some(lease) = lease {
            command.arg(format!("{lease_prefix}{lease}"));
        }
        self.stream_settings(&mut command);
        command
            .arg(layout::message_tail(channel, JOINED_EVENT))
            .arg(layout::message_tail(channel, LEFT_EVENT))
            .arg(channel)
            .arg(lease_prefix)
            .arg(operation.name());
        match operation {
            Operation::Join(join) => {
                command
                    .arg(join.lease)
                    .arg(join.connection)
                    .arg(join.member)
                    .arg(join.record)
                    .arg(millis(join.ttl));
            }
            Operation::Leave(leave) => {
                command
                    .arg(leave.lease)
                    .arg(leave.connection)
                    .arg(leave.member);
            }
            Operation::Refresh { lease, ttl } => {
                command.arg(*lease).arg(millis(*ttl));
            }
            Operation::Sweep => {}
        }
        command
    }

    /// Runs one operation: `EVALSHA`, `EVAL` after `NOSCRIPT`; sent once more when it did
    /// not reach Redis or was lost in flight (every operation can run twice harmlessly:
    /// a connection joins or leaves once, a refresh sets the same expiry).
    async fn presence_call(
        &self,
        channel: &str,
        operation: Operation<'_>,
    ) -> Result<Value, BackendError> {
        self.presence_call_then(channel, operation, None)
            .await
            .map(|(value, _)| value)
    }

    /// [`presence_call`](Self::presence_call), with `then` pipelined after the script on
    /// the same connection (a read of the keys the script just swept), and its reply.
    async fn presence_call_then(
        &self,
        channel: &str,
        operation: Operation<'_>,
        then: Option<&redis::Cmd>,
    ) -> Result<(Value, Option<Value>), BackendError> {
        let key = self.stream_key(channel);
        let failed = || {
            format!(
                "presence {} on channel `{channel}` failed",
                operation.name()
            )
        };
        let mut eval = false;
        let mut retried = false;
        loop {
            let mut pipeline = redis::pipe();
            pipeline
                .ignore_errors()
                .add_command(self.presence_command(eval, channel, &operation));
            if let Some(then) = then {
                pipeline.add_command(then.clone());
            }
            let sent = self.shared.commands.send(&key, &pipeline).await;
            match sent.map(|replies| {
                let mut replies = replies.into_iter();
                (replies.next(), replies.next())
            }) {
                Ok((first, second)) => match first {
                    Some(Err(error)) if !eval && error.code() == Some("NOSCRIPT") => eval = true,
                    Some(Ok(value)) => {
                        let second = match second {
                            Some(Ok(value)) => Some(value),
                            Some(Err(source)) => {
                                return Err(command_failure(failed(), channel, source, false));
                            }
                            None => None,
                        };
                        return Ok((value, second));
                    }
                    Some(Err(source)) => {
                        return Err(command_failure(failed(), channel, source, true));
                    }
                    None => {
                        return Err(BackendError::new(
                            BACKEND,
                            format!("{}: no reply", failed()),
                        ));
                    }
                },
                Err(source) => {
                    let outcome = Outcome::of(&source);
                    if !retried && outcome.repeat(true) {
                        retried = true;
                        continue;
                    }
                    return Err(command_failure(failed(), channel, source, true));
                }
            }
        }
    }

    pub(super) async fn presence_join_entry(
        &self,
        channel: &str,
        join: PresenceJoin<'_>,
    ) -> Result<JoinOutcome, BackendError> {
        let reply = self.presence_call(channel, Operation::Join(join)).await?;
        if super::text(&reply).as_deref() == Some("!gone") {
            return Ok(JoinOutcome::LeaseGone);
        }
        Ok(match read_optional_id(channel, &reply)? {
            Some(id) => JoinOutcome::Announced(id),
            None => JoinOutcome::AlreadyPresent,
        })
    }

    pub(super) async fn presence_leave_entry(
        &self,
        channel: &str,
        leave: PresenceLeave<'_>,
    ) -> Result<LeaveOutcome, BackendError> {
        let reply = self.presence_call(channel, Operation::Leave(leave)).await?;
        if super::text(&reply).as_deref() == Some("?") {
            return Ok(LeaveOutcome::NotFound);
        }
        let left = read_optional_id(channel, &reply)?;
        Ok(left.map_or(LeaveOutcome::StillPresent, LeaveOutcome::Announced))
    }

    pub(super) async fn presence_refresh_lease(
        &self,
        channel: &str,
        lease: &str,
        ttl: Duration,
    ) -> Result<bool, BackendError> {
        let reply = self
            .presence_call(channel, Operation::Refresh { lease, ttl })
            .await?;
        match reply {
            Value::Int(present) => Ok(present == 1),
            other => Err(unexpected(channel, "refresh", &other)),
        }
    }

    pub(super) async fn presence_member_records(
        &self,
        channel: &str,
    ) -> Result<Vec<String>, BackendError> {
        // The records are read by a plain HVALS right after the sweeping script, in the
        // same round trip: returning them through the script would copy each into Lua
        // and back (measured: twice the time of the HVALS alone for 10,000 members).
        let mut hvals = redis::cmd("HVALS");
        hvals.arg(self.presence_key(channel, "records"));
        let mut sweeps = 0;
        loop {
            let (more, records) = self
                .presence_call_then(channel, Operation::Sweep, Some(&hvals))
                .await?;
            sweeps += 1;
            if more == Value::Int(1) && sweeps < MAX_MEMBER_SWEEPS {
                continue;
            }
            let Some(Value::Array(records)) = records else {
                return Err(unexpected(
                    channel,
                    "members",
                    &records.unwrap_or(Value::Nil),
                ));
            };
            // Each record's bytes become its string as they are (no copy).
            return Ok(records
                .into_iter()
                .filter_map(|record| match record {
                    Value::BulkString(bytes) => {
                        Some(String::from_utf8(bytes).unwrap_or_else(|error| {
                            String::from_utf8_lossy(error.as_bytes()).into_owned()
                        }))
                    }
                    other => super::text(&other),
                })
                .collect());
        }
    }
}

fn unexpected(channel: &str, operation: &str, reply: &Value) -> BackendError {
    BackendError::new(
        BACKEND,
        format!("presence {operation} on channel `{channel}`: unexpected reply {reply:?}"),
    )
    .kind(FailureKind::Unavailable)
}

/// `''` (nothing appended) or the id of the entry appended.
fn read_optional_id(channel: &str, reply: &Value) -> Result<Option<Cursor>, BackendError> {
    let Some(text) = super::text(reply) else {
        return Err(unexpected(channel, "change", reply));
    };
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| BackendError::new(BACKEND, format!("XADD returned a malformed id `{text}`")))
}
