//! [`PresenceGuard`]: one connection's place in a channel's presence.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::departures::FailedLeave;
use super::leases::Leases;
use crate::backend::{LeaveOutcome, PresenceLeave};
use crate::channel_name::ChannelName;
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::util::now_ms;

/// One connection of a member in a channel's presence, kept alive by the handle's
/// heartbeats while the guard lives. Made by [`Presence::join`](crate::Presence::join).
///
/// [`leave`](Self::leave) ends it and says when it is done. Dropping the guard ends it too:
/// the leave is sent from a background task (at most 1,024 such leaves in flight per
/// handle). When a leave cannot be sent or fails, the handle gives up its lease in the
/// channel (it expires after its TTL with the connection) and joins its other connections
/// again under a new one, so a connection that left is never kept alive; and it tries the
/// leave again (back-off up to 5 s) until storage answers, so that the member's
/// `presence.left` is announced once storage is back, also after a restart that lost every
/// key.
#[must_use = "the connection leaves the channel's presence when the guard is dropped"]
pub struct PresenceGuard {
    leases: Arc<Leases>,
    channel: ChannelName,
    connection: Arc<str>,
    member: String,
    joined: Option<Cursor>,
    held: bool,
}

impl std::fmt::Debug for PresenceGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresenceGuard")
            .field("channel", &self.channel.as_str())
            .field("member", &self.member)
            .field("connection", &self.connection)
            .field("joined", &self.joined)
            .finish()
    }
}

impl PresenceGuard {
    pub(super) fn new(
        leases: Arc<Leases>,
        channel: ChannelName,
        connection: Arc<str>,
        member: String,
        joined: Option<Cursor>,
    ) -> Self {
        Self {
            leases,
            channel,
            connection,
            member,
            joined,
            held: true,
        }
    }

    /// The member's id.
    pub fn member(&self) -> &str {
        &self.member
    }

    /// The channel.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// The id of the `presence.joined` entry this connection caused, when it was the
    /// member's first connection to the channel (`None` for a second tab).
    pub fn joined(&self) -> Option<Cursor> {
        self.joined
    }

    /// Leaves now. Returns the id of the `presence.left` entry when this was the member's
    /// last connection to the channel.
    ///
    /// # Errors
    /// A backend failure; the handle then gives up its lease in the channel and tries the
    /// leave again in the background until storage confirms the departure (see the type's
    /// documentation).
    pub async fn leave(mut self) -> Result<Option<Cursor>> {
        self.held = false;
        let Some((lease, record)) = self.leases.release(&self.channel, &self.connection) else {
            return Ok(None);
        };
        let since_ms = now_ms();
        let leave = PresenceLeave {
            lease: &lease,
            connection: &self.connection,
            member: &self.member,
        };
        let left = self
            .leases
            .backend()
            .presence_leave(&self.channel, leave)
            .await;
        let unconfirmed = || FailedLeave {
            channel: self.channel.clone(),
            lease: Arc::clone(&lease),
            connection: Arc::clone(&self.connection),
            member: self.member.clone(),
            record: Arc::clone(&record),
            since_ms,
        };
        match left {
            Ok(LeaveOutcome::NotFound) => {
                self.leases.confirm_departure(unconfirmed(), false, true);
            }
            Err(_) => self.leases.leave_failed(unconfirmed(), false),
            Ok(_) => {}
        }
        left.map(LeaveOutcome::announced).map_err(Error::Backend)
    }
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        let Some((lease, record)) = self.leases.release(&self.channel, &self.connection) else {
            return;
        };
        let failed = FailedLeave {
            channel: self.channel.clone(),
            lease,
            connection: Arc::clone(&self.connection),
            member: std::mem::take(&mut self.member),
            record,
            since_ms: now_ms(),
        };
        let admitted = self.leases.admit_pending_leave();
        let runtime = tokio::runtime::Handle::try_current();
        let (true, Ok(runtime)) = (admitted, runtime) else {
            tracing::warn!(
                channel = failed.channel.as_str(),
                member = failed.member,
                "presence leave not sent (outside a runtime, or too many in flight)"
            );
            // Given up, not retried: the connection expires with the lease.
            self.leases.leave_failed(failed, admitted);
            return;
        };
        let leases = Arc::clone(&self.leases);
        runtime.spawn(async move {
            let leave = PresenceLeave {
                lease: &failed.lease,
                connection: &failed.connection,
                member: &failed.member,
            };
            match leases.backend().presence_leave(&failed.channel, leave).await {
                Ok(LeaveOutcome::NotFound) => leases.confirm_departure(failed, true, true),
                Ok(_) => {
                    leases.pending_leaves.fetch_sub(1, Ordering::AcqRel);
                }
                Err(error) => {
                    tracing::warn!(channel = failed.channel.as_str(), %error, "presence leave failed; retrying until storage answers");
                    // Keeps its place among the leaves in flight while it retries.
                    leases.leave_failed(failed, true);
                }
            }
        });
    }
}
