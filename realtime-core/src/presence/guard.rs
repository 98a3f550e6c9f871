//! [`PresenceGuard`]: one connection's place in a channel's presence.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::leases::{Leases, MAX_PENDING_LEAVES};
use crate::channel_name::ChannelName;
use crate::cursor::Cursor;
use crate::error::{Error, Result};

/// One connection of a member in a channel's presence, kept alive by the handle's
/// heartbeats while the guard lives. Made by [`Presence::join`](crate::Presence::join).
///
/// [`leave`](Self::leave) ends it and says when it is done. Dropping the guard ends it too:
/// the heartbeats stop at once and the leave is sent in the background (at most
/// 1,024 such leaves in flight per handle; past that, or outside a Tokio runtime, the
/// connection expires after its TTL instead).
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
    /// A backend failure; the connection then expires after its TTL (its heartbeats have
    /// stopped already).
    pub async fn leave(mut self) -> Result<Option<Cursor>> {
        self.held = false;
        self.leases.release(&self.channel, &self.connection);
        self.leases
            .backend()
            .presence_leave(&self.channel, &self.connection, &self.member)
            .await
            .map_err(Error::Backend)
    }
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        self.leases.release(&self.channel, &self.connection);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::debug!(
                channel = self.channel.as_str(),
                member = self.member,
                "presence guard dropped outside a runtime; the connection expires after its TTL"
            );
            return;
        };
        let pending = &self.leases.pending_leaves;
        let admitted = pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
                (count < MAX_PENDING_LEAVES).then_some(count + 1)
            })
            .is_ok();
        if !admitted {
            tracing::warn!(
                channel = self.channel.as_str(),
                member = self.member,
                "too many presence leaves in flight; this connection expires after its TTL"
            );
            return;
        }
        let leases = Arc::clone(&self.leases);
        let channel = self.channel.clone();
        let connection = Arc::clone(&self.connection);
        let member = std::mem::take(&mut self.member);
        runtime.spawn(async move {
            if let Err(error) = leases
                .backend()
                .presence_leave(&channel, &connection, &member)
                .await
            {
                tracing::warn!(channel = channel.as_str(), %error, "presence leave failed; the connection expires after its TTL");
            }
            leases.pending_leaves.fetch_sub(1, Ordering::AcqRel);
        });
    }
}
