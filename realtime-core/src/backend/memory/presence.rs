//! Presence in memory: per channel, the connections with their expiry and the members
//! with their record and number of connections. It lives under the same lock as the
//! channel logs, so a sweep, a join or a leave and the entry it appends are one step.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::time::Instant;

use super::{Logs, MemoryBackend};
use crate::backend::presence::{PresenceJoin, PresenceLease};
use crate::cursor::Cursor;
use crate::presence::{JOINED_EVENT, LEFT_EVENT};

/// One channel's presence.
#[derive(Debug, Default)]
pub(super) struct ChannelPresence {
    connections: HashMap<Box<str>, Connection>,
    members: HashMap<Arc<str>, MemberState>,
    /// No connection expires before this (it may be earlier than the true minimum after
    /// a leave or a refresh: a sweep then finds nothing and recomputes it).
    next_expiry: Option<Instant>,
}

#[derive(Debug)]
struct Connection {
    member: Arc<str>,
    expires: Instant,
}

#[derive(Debug)]
struct MemberState {
    record: Arc<str>,
    connections: usize,
}

impl ChannelPresence {
    fn recompute_next_expiry(&mut self) {
        self.next_expiry = self.connections.values().map(|c| c.expires).min();
    }

    /// Removes `connection`; the member's record when it was its last connection.
    fn remove(&mut self, connection: &str) -> Option<Arc<str>> {
        let removed = self.connections.remove(connection)?;
        let state = self.members.get_mut(&removed.member)?;
        state.connections = state.connections.saturating_sub(1);
        if state.connections > 0 {
            return None;
        }
        self.members
            .remove(&removed.member)
            .map(|state| state.record)
    }
}

impl MemoryBackend {
    /// Removes the channel's expired connections and appends `presence.left` for each
    /// member left without one.
    fn sweep_presence(&self, logs: &mut Logs, channel: &str, now: Instant) {
        let Some(presence) = logs.presence.get_mut(channel) else {
            return;
        };
        if presence.next_expiry.is_none_or(|next| next > now) {
            return;
        }
        let expired: Vec<Box<str>> = presence
            .connections
            .iter()
            .filter(|(_, connection)| connection.expires <= now)
            .map(|(id, _)| id.clone())
            .collect();
        let departed: Vec<Arc<str>> = expired
            .iter()
            .filter_map(|id| presence.remove(id))
            .collect();
        presence.recompute_next_expiry();
        for record in departed {
            self.append_locked(logs, channel, LEFT_EVENT, &record, now);
        }
        self.forget_empty_presence(logs, channel);
    }

    fn forget_empty_presence(&self, logs: &mut Logs, channel: &str) {
        if logs
            .presence
            .get(channel)
            .is_some_and(|presence| presence.connections.is_empty())
        {
            logs.presence.remove(channel);
        }
    }

    pub(super) fn presence_join_now(
        &self,
        channel: &str,
        join: PresenceJoin<'_>,
    ) -> Option<Cursor> {
        let now = Instant::now();
        let mut logs = self.logs();
        self.sweep_presence(&mut logs, channel, now);
        let presence = logs.presence.entry(Arc::from(channel)).or_default();
        let expires = now + join.ttl;
        presence.next_expiry = Some(
            presence
                .next_expiry
                .map_or(expires, |next| next.min(expires)),
        );
        let record: Arc<str> = Arc::from(join.record);
        if let Some(connection) = presence.connections.get_mut(join.connection) {
            connection.expires = expires;
            if let Some(state) = presence.members.get_mut(&connection.member) {
                state.record = record;
            }
            return None;
        }
        let member: Arc<str> = match presence.members.get_key_value(join.member) {
            Some((member, _)) => Arc::clone(member),
            None => Arc::from(join.member),
        };
        presence.connections.insert(
            Box::from(join.connection),
            Connection {
                member: Arc::clone(&member),
                expires,
            },
        );
        let state = presence.members.entry(member).or_insert(MemberState {
            record: Arc::clone(&record),
            connections: 0,
        });
        state.connections += 1;
        state.record = Arc::clone(&record);
        let first = state.connections == 1;
        first.then(|| self.append_locked(&mut logs, channel, JOINED_EVENT, &record, now))
    }

    pub(super) fn presence_refresh_now(
        &self,
        channel: &str,
        leases: &[PresenceLease<'_>],
    ) -> Vec<String> {
        let now = Instant::now();
        let mut logs = self.logs();
        self.sweep_presence(&mut logs, channel, now);
        let Some(presence) = logs.presence.get_mut(channel) else {
            return leases
                .iter()
                .map(|lease| lease.connection.to_owned())
                .collect();
        };
        let mut missing = Vec::new();
        for lease in leases {
            match presence.connections.get_mut(lease.connection) {
                Some(connection) => connection.expires = now + lease.ttl,
                None => missing.push(lease.connection.to_owned()),
            }
        }
        presence.recompute_next_expiry();
        missing
    }

    pub(super) fn presence_leave_now(&self, channel: &str, connection: &str) -> Option<Cursor> {
        let now = Instant::now();
        let mut logs = self.logs();
        self.sweep_presence(&mut logs, channel, now);
        let record = logs.presence.get_mut(channel)?.remove(connection);
        let id =
            record.map(|record| self.append_locked(&mut logs, channel, LEFT_EVENT, &record, now));
        self.forget_empty_presence(&mut logs, channel);
        id
    }

    pub(super) fn presence_members_now(&self, channel: &str) -> Vec<String> {
        let now = Instant::now();
        let mut logs = self.logs();
        self.sweep_presence(&mut logs, channel, now);
        logs.presence
            .get(channel)
            .map_or_else(Vec::new, |presence| {
                presence
                    .members
                    .values()
                    .map(|state| state.record.to_string())
                    .collect()
            })
    }
}
