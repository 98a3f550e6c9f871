//! What a backend stores for presence: per channel, the **leases** of the processes that
//! hold connections in it (each with an expiry that the process's heartbeats push back),
//! the connections under each lease with their member, and the `presence.joined` /
//! `presence.left` entries it appends to the channel's log when a member's first
//! connection joins and its last one goes.
//!
//! A heartbeat refreshes one lease, whatever the number of connections under it: its cost
//! does not grow with the members. When a process dies, its lease expires, and with it
//! every connection under it.
//!
//! The contract, for every backend (the conformance suite checks it):
//!
//! - Every presence call on a channel first **sweeps** it: each lease whose expiry has
//!   passed is dropped with its connections, and a member left without connections gets one
//!   `presence.left` entry. However many processes sweep the same channel at once, each
//!   departure is announced once (the sweep and the append are one atomic step). A backend
//!   may sweep a large lease over several calls; a lease that started expiring never comes
//!   back ([`presence_refresh`](super::Backend::presence_refresh) says it is gone).
//! - A member is present while at least one of its connections is: `presence.joined` is
//!   appended for its first connection, `presence.left` after its last.
//! - The entries are ordinary entries of the channel's log (ids, history, live feeds), with
//!   the member's record (`{"member": .., "info": ..}`) as their data.

use std::time::Duration;

use crate::cursor::Cursor;

/// What a join did ([`Backend::presence_join`](super::Backend::presence_join)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinOutcome {
    /// The member's first connection: `presence.joined` was appended with this id.
    Announced(Cursor),
    /// The member was present already (another connection), or this connection was:
    /// nothing appended.
    AlreadyPresent,
    /// The lease expired and was retired: nothing changed; join under a new lease.
    LeaseGone,
}

/// What a leave did ([`Backend::presence_leave`](super::Backend::presence_leave)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaveOutcome {
    /// The member's last connection: `presence.left` was appended with this id.
    Announced(Cursor),
    /// The connection left; the member has others, so it is still present.
    StillPresent,
    /// The connection is not under the lease: a sweep retired the lease (and announced
    /// what it took), or storage lost its keys (a restart without persistence), and with
    /// them the member and its `presence.joined`. The caller finds out which.
    NotFound,
}

impl LeaveOutcome {
    /// The id of the `presence.left` appended, if any.
    pub fn announced(self) -> Option<Cursor> {
        match self {
            LeaveOutcome::Announced(id) => Some(id),
            LeaveOutcome::StillPresent | LeaveOutcome::NotFound => None,
        }
    }
}

/// One connection of a member joining a channel's presence
/// ([`Backend::presence_join`](super::Backend::presence_join)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresenceJoin<'a> {
    /// The lease the connection is held under: the joining process's, for this channel.
    /// Letters, digits, `.`, `:` and `-` only.
    pub lease: &'a str,
    /// The connection's id, unique across processes (the caller makes it); no spaces.
    pub connection: &'a str,
    /// The member's id.
    pub member: &'a str,
    /// The member's record as JSON text, `{"member": "<id>", "info": <info>}`: the data of
    /// its `presence.joined` and `presence.left` entries and what
    /// [`presence_members`](super::Backend::presence_members) returns. A later connection
    /// of the same member replaces it (without an entry).
    pub record: &'a str,
    /// The lease lives at least this long without a refresh (a join never shortens it).
    pub ttl: Duration,
}

/// One connection leaving ([`Backend::presence_leave`](super::Backend::presence_leave)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresenceLeave<'a> {
    /// The lease the connection was joined under.
    pub lease: &'a str,
    /// The connection's id.
    pub connection: &'a str,
    /// Its member's id.
    pub member: &'a str,
}
