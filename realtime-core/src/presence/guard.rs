//! [`PresenceGuard`]: one connection's place in a channel's presence.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::leases::{Leases, MAX_PENDING_LEAVES};
use crate::backend::PresenceLeave;
use crate::channel_name::ChannelName;
use crate::cursor::Cursor;
use crate::error::{Error, Result};

/// One connection of a member in a channel's presence, kept alive by the handle's
/// heartbeats while the guard lives. Made by [`Presence::join`](crate::Presence::join).
///
/// [`leave`](Self::leave) ends it and says when it is done. Dropping the guard ends it too:
/// the leave is sent from a background task (at most 1,024 such leaves in flight per
/// handle). When a leave cannot be sent or fails, the handle gives up its lease in the
/// channel (it expires after its TTL with the connection) and joins its other connections
/// again under a new one, so a connection that left is never kept alive.
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
    /// A backend failure; the handle then gives up its lease in the channel, so the
    /// connection expires after its TTL (see the type's documentation).
    pub async fn leave(mut self) -> Result<Option<Cursor>> {
        self.held = false;
        let Some(lease) = self.leases.release(&self.channel, &self.connection) else {
            return Ok(None);
        };
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
        if left.is_err() {
            self.leases.give_up_lease(&self.channel, &lease);
        }
        left.map_err(Error::Backend)
    }
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        let Some(lease) = self.leases.release(&self.channel, &self.connection) else {
            return;
        };
        let pending = &self.leases.pending_leaves;
        let admitted = pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
                (count < MAX_PENDING_LEAVES).then_some(count + 1)
            })
            .is_ok();
        let runtime = tokio::runtime::Handle::try_current();
        let Ok(runtime) = runtime
            .map_err(|_| ())
            .and_then(|runtime| if admitted { Ok(runtime) } else { Err(()) })
        else {
            if admitted {
                pending.fetch_sub(1, Ordering::AcqRel);
            }
            tracing::warn!(
                channel = self.channel.as_str(),
                member = self.member,
                "presence leave not sent (outside a runtime, or too many in flight)"
            );
            self.leases.give_up_lease(&self.channel, &lease);
            return;
        };
        let leases = Arc::clone(&self.leases);
        let channel = self.channel.clone();
        let connection = Arc::clone(&self.connection);
        let member = std::mem::take(&mut self.member);
        runtime.spawn(async move {
            let leave = PresenceLeave {
                lease: &lease,
                connection: &connection,
                member: &member,
            };
            if let Err(error) = leases.backend().presence_leave(&channel, leave).await {
                tracing::warn!(channel = channel.as_str(), %error, "presence leave failed");
                leases.give_up_lease(&channel, &lease);
            }
            leases.pending_leaves.fetch_sub(1, Ordering::AcqRel);
        });
    }
}
