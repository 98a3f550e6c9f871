//! Presence in memory: per channel, the leases with their expiry and connections, and the
//! members with their record and number of connections. It lives under the same lock as
//! the channel logs, so a sweep, a join or a leave and the entry it appends are one step.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{Logs, MemoryBackend};
use crate::backend::presence::{JoinOutcome, LeaveOutcome, PresenceJoin, PresenceLeave};
use crate::member::{JOINED_EVENT, LEFT_EVENT};

/// One channel's presence.
#[derive(Debug, Default)]
pub(super) struct ChannelPresence {
    leases: HashMap<Box<str>, Lease>,
    members: HashMap<Arc<str>, MemberState>,
    /// Leases swept after they expired, and when: never taken back (a join under one is
    /// [`JoinOutcome::LeaseGone`]); forgotten after [`RETIRED_FOR`].
    retired: HashMap<Box<str>, Instant>,
}

/// How long a swept lease is remembered, so that a late join under it is refused.
const RETIRED_FOR: Duration = Duration::from_secs(3_600);

#[derive(Debug)]
struct Lease {
    expires: Instant,
    /// Connection id -> member.
    connections: HashMap<Box<str>, Arc<str>>,
}

#[derive(Debug)]
struct MemberState {
    record: Arc<str>,
    connections: usize,
}

impl ChannelPresence {
    /// One connection of `member` is gone: its record when it was the last.
    fn depart(&mut self, member: &str) -> Option<Arc<str>> {
        let state = self.members.get_mut(member)?;
        state.connections = state.connections.saturating_sub(1);
        if state.connections > 0 {
            return None;
        }
        self.members.remove(member).map(|state| state.record)
    }

    /// Drops the expired leases; the records of the members who left with them.
    fn sweep(&mut self, now: Instant) -> Vec<Arc<str>> {
        let expired: Vec<Box<str>> = self
            .leases
            .iter()
            .filter(|(_, lease)| lease.expires <= now)
            .map(|(id, _)| id.clone())
            .collect();
        let mut departed = Vec::new();
        self.retired
            .retain(|_, since| now.duration_since(*since) < RETIRED_FOR);
        for id in expired {
            let Some(lease) = self.leases.remove(&id) else {
                continue;
            };
            self.retired.insert(id, now);
            for member in lease.connections.values() {
                departed.extend(self.depart(member));
            }
        }
        departed
    }
}

/// Forgets retired leases past [`RETIRED_FOR`], and channels left with nothing (the
/// backend's once-a-second sweep calls it, so a channel nobody touches is forgotten too).
pub(super) fn forget_retired(presence: &mut HashMap<Arc<str>, ChannelPresence>, now: Instant) {
    presence.retain(|_, channel| {
        channel
            .retired
            .retain(|_, since| now.duration_since(*since) < RETIRED_FOR);
        !(channel.leases.is_empty() && channel.retired.is_empty())
    });
}

impl MemoryBackend {
    /// Sweeps the channel's expired leases and appends `presence.left` for each member
    /// left without a connection.
    fn sweep_presence(&self, logs: &mut Logs, channel: &str, now: Instant) {
        let Some(presence) = logs.presence.get_mut(channel) else {
            return;
        };
        let departed = presence.sweep(now);
        for record in departed {
            self.append_locked(logs, channel, LEFT_EVENT, &record, now);
        }
        self.forget_empty_presence(logs, channel);
    }

    fn forget_empty_presence(&self, logs: &mut Logs, channel: &str) {
        if logs
            .presence
            .get(channel)
            .is_some_and(|presence| presence.leases.is_empty() && presence.retired.is_empty())
        {
            logs.presence.remove(channel);
        }
    }

    pub(super) fn presence_join_now(&self, channel: &str, join: PresenceJoin<'_>) -> JoinOutcome {
        let now = Instant::now();
        let mut logs = self.logs();
        self.sweep_presence(&mut logs, channel, now);
        let presence = logs.presence.entry(Arc::from(channel)).or_default();
        if presence.retired.contains_key(join.lease) {
            return JoinOutcome::LeaseGone;
        }
        let expires = now + join.ttl;
        let lease = presence
            .leases
            .entry(Box::from(join.lease))
            .or_insert_with(|| Lease {
                expires,
                connections: HashMap::new(),
            });
        lease.expires = lease.expires.max(expires);
        let record: Arc<str> = Arc::from(join.record);
        let member: Arc<str> = match presence.members.get_key_value(join.member) {
            Some((member, _)) => Arc::clone(member),
            None => Arc::from(join.member),
        };
        let added = lease
            .connections
            .insert(Box::from(join.connection), Arc::clone(&member))
            .is_none();
        let state = presence.members.entry(member).or_insert(MemberState {
            record: Arc::clone(&record),
            connections: 0,
        });
        state.record = Arc::clone(&record);
        if !added {
            return JoinOutcome::AlreadyPresent;
        }
        state.connections += 1;
        if state.connections > 1 {
            return JoinOutcome::AlreadyPresent;
        }
        JoinOutcome::Announced(self.append_locked(&mut logs, channel, JOINED_EVENT, &record, now))
    }

    pub(super) fn presence_refresh_now(&self, channel: &str, lease: &str, ttl: Duration) -> bool {
        let now = Instant::now();
        let mut logs = self.logs();
        self.sweep_presence(&mut logs, channel, now);
        let Some(lease) = logs
            .presence
            .get_mut(channel)
            .and_then(|presence| presence.leases.get_mut(lease))
        else {
            return false;
        };
        lease.expires = now + ttl;
        true
    }

    pub(super) fn presence_leave_now(
        &self,
        channel: &str,
        leave: PresenceLeave<'_>,
    ) -> LeaveOutcome {
        let now = Instant::now();
        let mut logs = self.logs();
        self.sweep_presence(&mut logs, channel, now);
        let Some(presence) = logs.presence.get_mut(channel) else {
            return LeaveOutcome::NotFound;
        };
        let Some(lease) = presence.leases.get_mut(leave.lease) else {
            return LeaveOutcome::NotFound;
        };
        let Some(member) = lease.connections.remove(leave.connection) else {
            return LeaveOutcome::NotFound;
        };
        if lease.connections.is_empty() {
            presence.leases.remove(leave.lease);
        }
        let record = presence.depart(&member);
        let id =
            record.map(|record| self.append_locked(&mut logs, channel, LEFT_EVENT, &record, now));
        self.forget_empty_presence(&mut logs, channel);
        id.map_or(LeaveOutcome::StillPresent, LeaveOutcome::Announced)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swept_lease_takes_its_connections_and_counts_members_once() {
        let mut presence = ChannelPresence::default();
        let now = Instant::now();
        let ada: Arc<str> = Arc::from("ada");
        presence.members.insert(
            Arc::clone(&ada),
            MemberState {
                record: Arc::from("{}"),
                connections: 3,
            },
        );
        let mut connections = HashMap::new();
        connections.insert(Box::from("c1"), Arc::clone(&ada));
        connections.insert(Box::from("c2"), Arc::clone(&ada));
        presence.leases.insert(
            Box::from("dead"),
            Lease {
                expires: now,
                connections,
            },
        );
        let mut alive = HashMap::new();
        alive.insert(Box::from("c3"), Arc::clone(&ada));
        presence.leases.insert(
            Box::from("alive"),
            Lease {
                expires: now + Duration::from_secs(1),
                connections: alive,
            },
        );
        assert!(presence.sweep(now).is_empty(), "ada keeps a connection");
        assert_eq!(presence.members["ada"].connections, 1);
    }
}
