//! What a backend stores for presence: the connections of each channel's members, each
//! with an expiry, and the `presence.joined` / `presence.left` entries it appends to the
//! channel's log when a member's first connection joins and its last one goes.
//!
//! The contract, for every backend (the conformance suite checks it):
//!
//! - Every presence call on a channel first **sweeps** it: each connection whose expiry has
//!   passed is removed, and a member left without connections gets one `presence.left`
//!   entry. However many processes sweep the same channel at once, each departure is
//!   announced once (the sweep and the append are one atomic step).
//! - A member is present while at least one of its connections is: `presence.joined` is
//!   appended for its first connection, `presence.left` after its last.
//! - The entries are ordinary entries of the channel's log (ids, history, live feeds), with
//!   the member's record (`{"member": .., "info": ..}`) as their data.

use std::time::Duration;

/// One connection of a member joining a channel's presence
/// ([`Backend::presence_join`](super::Backend::presence_join)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresenceJoin<'a> {
    /// The connection's id, unique across processes (the caller makes it).
    pub connection: &'a str,
    /// The member's id.
    pub member: &'a str,
    /// The member's record as JSON text, `{"member": "<id>", "info": <info>}`: the data of
    /// its `presence.joined` and `presence.left` entries and what
    /// [`presence_members`](super::Backend::presence_members) returns. A later connection
    /// of the same member replaces it (without an entry).
    pub record: &'a str,
    /// How long the connection stays present without a refresh.
    pub ttl: Duration,
}

/// A connection whose expiry a heartbeat pushes back
/// ([`Backend::presence_refresh`](super::Backend::presence_refresh)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresenceLease<'a> {
    /// The connection's id.
    pub connection: &'a str,
    /// Its member's id (as it joined).
    pub member: &'a str,
    /// Its new expiry, from now.
    pub ttl: Duration,
}
