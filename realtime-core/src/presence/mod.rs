//! Presence: who is in a channel right now, across every process of an app.
//!
//! An app declares presence once, with a variant of its event enum that also names the
//! type of each member's info; a connection joins a channel's presence and holds a
//! [`PresenceGuard`] while it is there; anyone can list the [`members`](Presence::members)
//! and follow the [`changes`](Presence::changes):
//!
//! ```
//! use std::time::Duration;
//!
//! use futures::StreamExt;
//! use realtime_core::{Events, PresenceChange, Realtime};
//!
//! #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Debug, PartialEq)]
//! struct UserInfo {
//!     #[schemars(length(min = 1, max = 40))]
//!     name: String,
//! }
//!
//! #[derive(Events, Clone, Debug, PartialEq)]
//! enum AppEvent {
//!     #[event("chat.message")]
//!     Message { text: String },
//!     /// Who joined and left: `presence.joined` and `presence.left`.
//!     #[event(presence)]
//!     Presence(PresenceChange<UserInfo>),
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> realtime_core::Result<()> {
//! let rt = Realtime::<AppEvent>::memory();
//! let room = rt.channel("room-1").presence();
//! let mut changes = room.changes().await?;
//!
//! let ada = UserInfo { name: "Ada".into() };
//! let tab_1 = room.join("user-1", ada.clone(), Duration::from_secs(30)).await?;
//! let tab_2 = room.join("user-1", ada.clone(), Duration::from_secs(30)).await?; // same member
//! assert_eq!(room.members().await?.len(), 1);
//!
//! let joined = changes.next().await.expect("a change");
//! assert!(joined.is_joined() && joined.member().info == ada);
//!
//! tab_1.leave().await?;
//! assert_eq!(room.members().await?.len(), 1, "the other tab is still there");
//! tab_2.leave().await?;
//! assert!(room.members().await?.is_empty());
//! assert!(matches!(changes.next().await, Some(PresenceChange::Left(_))));
//! # Ok(()) }
//! ```
//!
//! The changes are ordinary entries of the channel (`presence.joined`, `presence.left`):
//! subscribers and browsers receive them with the channel's other events, with real ids,
//! in history and after a reconnect. A process that dies without leaving stops its
//! heartbeats; its connections expire after their TTL and the first process to touch the
//! channel afterwards (a heartbeat, a join, a `members()` call, or a watcher's sweep every
//! [`WATCH_SWEEP_INTERVAL`]) announces the departures, once.

mod change;
mod departures;
mod guard;
// The crate's shared state holds these (`shared.rs` names the files themselves, which do
// not import this one: no import circle).
pub(crate) mod leases;
pub(crate) mod records;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};

pub use change::{PresenceKind, PresenceVariant};
pub use guard::PresenceGuard;
pub use leases::WATCH_SWEEP_INTERVAL;
use leases::{HoldError, Leases};

pub use crate::member::{
    InvalidMemberId, JOINED_EVENT, LEFT_EVENT, MAX_MEMBER_ID_LEN, Member, NoPresence,
    PresenceChange, PresenceInfo, check_member_id,
};

use crate::backend::{BackendError, FailureKind, JoinOutcome};
use crate::channel_name::{ChannelName, InvalidChannelName};
use crate::error::{Error, Result};
use crate::events::{EventKind, Events};
use crate::shared::Core;

/// The TTL to use when in doubt: a connection of a process that died is gone within
/// 30 seconds.
pub const DEFAULT_PRESENCE_TTL: Duration = Duration::from_secs(30);

/// Joins under a lease found gone before [`Presence::join`] gives up.
const JOIN_ATTEMPTS: usize = 3;

/// The shortest TTL [`Presence::join`] accepts.
pub const MIN_PRESENCE_TTL: Duration = Duration::from_secs(1);

/// The largest presence info [`Presence::join`] accepts by default, in bytes of its JSON
/// (see [`RealtimeBuilder::max_presence_info`](crate::RealtimeBuilder::max_presence_info)).
pub const DEFAULT_MAX_PRESENCE_INFO: usize = 4 * 1024;

/// The longest TTL [`Presence::join`] accepts.
pub const MAX_PRESENCE_TTL: Duration = Duration::from_secs(3_600);

/// The presence of one channel: join it, list its members, follow its changes. Made by
/// [`Channel::presence`](crate::Channel::presence); cheap to clone.
pub struct Presence<E: Events> {
    core: Arc<Core<E>>,
    channel: Result<ChannelName, InvalidChannelName>,
}

impl<E: Events> Clone for Presence<E> {
    fn clone(&self) -> Self {
        Self {
            core: Arc::clone(&self.core),
            channel: self.channel.clone(),
        }
    }
}

impl<E: Events> std::fmt::Debug for Presence<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presence")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl<E: Events> Presence<E> {
    pub(crate) fn new(
        core: Arc<Core<E>>,
        channel: Result<ChannelName, InvalidChannelName>,
    ) -> Self {
        Self { core, channel }
    }

    /// The checked channel name, when the event set declares presence.
    fn checked(&self) -> Result<&ChannelName> {
        if !E::DECLARES_PRESENCE {
            return Err(Error::PresenceNotDeclared {
                events: E::TYPE_NAME,
            });
        }
        self.channel
            .as_ref()
            .map_err(|invalid| invalid.clone().into())
    }

    /// Joins a connection of `member` with `info`, kept present by this handle's
    /// heartbeats (every `ttl / 3`) until the guard is dropped or
    /// [`leave`](PresenceGuard::leave)s; if the heartbeats stop (the process died), it
    /// expires `ttl` after the last one. The member's first connection appends
    /// `presence.joined`; a member with several connections (two tabs) is one member, and
    /// the info of its newest connection is the one listed.
    ///
    /// # Errors
    /// [`Error::InvalidMember`] for a bad id, [`Error::InvalidPresenceTtl`] for a `ttl`
    /// outside [`MIN_PRESENCE_TTL`]..=[`MAX_PRESENCE_TTL`], [`Error::PresenceInfoTooLarge`]
    /// for an info whose JSON is larger than
    /// [`RealtimeBuilder::max_presence_info`](crate::RealtimeBuilder::max_presence_info)
    /// ([`DEFAULT_MAX_PRESENCE_INFO`] by default), [`Error::Invalid`] (event
    /// `presence.joined`) when the info breaks its schema, a bad channel name, a backend
    /// failure.
    pub async fn join(
        &self,
        member: impl Into<String>,
        info: E::Presence,
        ttl: Duration,
    ) -> Result<PresenceGuard> {
        let channel = self.checked()?.clone();
        let member = member.into();
        check_member_id(&member)?;
        if !(MIN_PRESENCE_TTL..=MAX_PRESENCE_TTL).contains(&ttl) {
            return Err(Error::InvalidPresenceTtl { ttl });
        }
        let record: Arc<str> = Arc::from(self.record(member.clone(), info)?);
        let leases = &self.core.presence;
        let connection = leases.new_connection_id();
        let mut lease = leases.lease_for(&channel);
        for _ in 0..JOIN_ATTEMPTS {
            let join = crate::backend::PresenceJoin {
                lease: &lease,
                connection: &connection,
                member: &member,
                record: &record,
                ttl,
            };
            let joined = match leases.backend().presence_join(&channel, join).await {
                Ok(JoinOutcome::LeaseGone) => {
                    lease = leases.replace_lease(&channel, &lease);
                    continue;
                }
                Ok(JoinOutcome::Announced(id)) => Some(id),
                Ok(JoinOutcome::AlreadyPresent) => None,
                Err(error) => {
                    leases.forget_if_unused(&channel);
                    return Err(error.into());
                }
            };
            let held = (member.clone(), Arc::clone(&record), ttl);
            match leases.hold(&channel, &lease, Arc::clone(&connection), held) {
                Ok(()) => {
                    tracing::debug!(
                        channel = channel.as_str(),
                        member,
                        ?joined,
                        "presence joined"
                    );
                    return Ok(PresenceGuard::new(
                        Arc::clone(leases),
                        channel,
                        connection,
                        member,
                        joined,
                    ));
                }
                // The lease was replaced while this joined: join again under the new one.
                Err(HoldError::LeaseChanged(current)) => lease = current,
            }
        }
        leases.forget_if_unused(&channel);
        Err(Error::Backend(
            BackendError::new(
                leases.backend().name(),
                format!("presence join on channel `{channel}` found its lease gone {JOIN_ATTEMPTS} times (heartbeats too late for the TTL?)"),
            )
            .kind(FailureKind::Unavailable),
        ))
    }

    /// The member's record as stored, `{"member": .., "info": ..}`, checked against the
    /// schema of `presence.joined`.
    fn record(&self, member: String, info: E::Presence) -> Result<String> {
        let kind = presence_kind::<E>(JOINED_EVENT)?;
        let encode_error = |source| Error::Encode {
            event: JOINED_EVENT,
            source,
        };
        let max = self.core.max_presence_info;
        let size = serde_json::to_vec(&info).map_err(encode_error)?.len();
        if size > max {
            return Err(Error::PresenceInfoTooLarge { member, size, max });
        }
        let record = serde_json::to_string(&Member { id: member, info }).map_err(encode_error)?;
        let written: serde_json::Value = serde_json::from_str(&record).map_err(encode_error)?;
        self.core.catalog.validate(kind.index(), &written)?;
        Ok(record)
    }

    /// Every member present now, sorted by id, with the info of its newest connection.
    /// Expired connections are swept first, so a member of a process that died is not
    /// listed once its TTL has passed. Records that do not match the schema are counted
    /// ([`Stats::rejected`](crate::Stats::rejected)) and logged, not returned.
    ///
    /// # Errors
    /// [`Error::PresenceNotDeclared`], a bad channel name, a backend failure.
    pub async fn members(&self) -> Result<Vec<Member<E::Presence>>> {
        let channel = self.checked()?;
        let kind = presence_kind::<E>(JOINED_EVENT)?;
        let records = self.core.backend.presence_members(channel).await?;
        let (mut members, failures) = self.core.presence_records.decode::<Member<E::Presence>>(
            &self.core.catalog,
            kind.index(),
            &records,
        );
        if !failures.is_empty() {
            let count = u64::try_from(failures.len()).unwrap_or(u64::MAX);
            self.core
                .counters
                .rejected
                .fetch_add(count, std::sync::atomic::Ordering::Relaxed);
            for error in failures {
                tracing::warn!(channel = channel.as_str(), %error, "stored presence member rejected: it does not match the schema");
            }
        }
        members.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        Ok(members)
    }

    /// The changes of the channel's presence from now on, in order. While the stream
    /// lives, this handle also sweeps the channel every [`WATCH_SWEEP_INTERVAL`], so the
    /// members of a process that died are announced as gone even when no process of this
    /// app holds a connection in the channel.
    ///
    /// To keep a list of members, open the changes first and read
    /// [`members`](Self::members) after: a change that repeats the list (a joined member
    /// already listed) then changes nothing.
    ///
    /// # Errors
    /// [`Error::PresenceNotDeclared`], a bad channel name, a backend failure.
    pub async fn changes(&self) -> Result<PresenceChanges<E::Presence>> {
        let channel = self.checked()?.clone();
        let kinds = [
            presence_kind::<E>(JOINED_EVENT)?,
            presence_kind::<E>(LEFT_EVENT)?,
        ];
        let subscription = crate::Channel::new(Arc::clone(&self.core), channel.clone())
            .subscribe(kinds)
            .await?;
        let watch = Watch {
            leases: Arc::clone(&self.core.presence),
            channel,
        };
        watch.leases.watch(&watch.channel);
        let inner = subscription
            .filter_map(|envelope| std::future::ready(envelope.event.presence_change().cloned()))
            .boxed();
        Ok(PresenceChanges {
            inner,
            _watch: watch,
        })
    }
}

/// The kind of `name` in `E`, which declares presence.
fn presence_kind<E: Events>(name: &str) -> Result<E::Kind> {
    E::Kind::from_name(name).ok_or(Error::PresenceNotDeclared {
        events: E::TYPE_NAME,
    })
}

/// Keeps a channel swept while a [`PresenceChanges`] stream lives.
struct Watch {
    leases: Arc<Leases>,
    channel: ChannelName,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.leases.unwatch(&self.channel);
    }
}

/// The changes of a channel's presence, as a `Stream`; made by [`Presence::changes`].
pub struct PresenceChanges<I> {
    inner: BoxStream<'static, PresenceChange<I>>,
    _watch: Watch,
}

impl<I> std::fmt::Debug for PresenceChanges<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresenceChanges")
            .field("channel", &self._watch.channel)
            .finish_non_exhaustive()
    }
}

impl<I> Stream for PresenceChanges<I> {
    type Item = PresenceChange<I>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}
