//! Presence: members across connections and handles, the `presence.joined` and
//! `presence.left` entries (once per member, in the channel's log), what is refused, and
//! connections that expire when their heartbeats stop.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;

use super::support::PATIENCE;
use super::{BackendFactory, StorageOptions, take};
use crate::backend::{Backend, JoinOutcome, PresenceJoin};
use crate::member::{JOINED_EVENT, LEFT_EVENT};
use crate::{Error, Events, History, Member, PresenceChange, PresenceChanges, Realtime};

/// What each member of the suite's rooms tells about itself.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Debug, PartialEq)]
pub struct Visitor {
    /// A display name, 1 to 40 characters.
    #[schemars(length(min = 1, max = 40))]
    pub name: String,
}

/// The event set of the presence cases: a message, and presence.
#[derive(crate::Events, Clone, Debug, PartialEq)]
pub enum RoomEvent {
    /// A message in the room.
    #[event("room.message")]
    Message(String),
    /// Who joined and left.
    #[event(presence)]
    Presence(PresenceChange<Visitor>),
}

const TTL: Duration = Duration::from_secs(30);

fn visitor(name: &str) -> Visitor {
    Visitor { name: name.into() }
}

fn member(id: &str, name: &str) -> Member<Visitor> {
    Member {
        id: id.into(),
        info: visitor(name),
    }
}

async fn rooms(factory: &dyn BackendFactory) -> (Realtime<RoomEvent>, Arc<dyn Backend>) {
    let backend = factory.open(StorageOptions::default()).await;
    (Realtime::with_backend(Arc::clone(&backend)), backend)
}

async fn next_change(changes: &mut PresenceChanges<Visitor>) -> PresenceChange<Visitor> {
    match tokio::time::timeout(PATIENCE, changes.next()).await {
        Ok(Some(change)) => change,
        Ok(None) => panic!("the presence changes ended"),
        Err(_) => panic!("no presence change within {PATIENCE:?}"),
    }
}

async fn assert_no_change(changes: &mut PresenceChanges<Visitor>) {
    if let Ok(Some(extra)) = tokio::time::timeout(Duration::from_millis(300), changes.next()).await
    {
        panic!("unexpected presence change {extra:?}");
    }
}

pub async fn presence_announces_a_member_once_however_many_connections_it_has(
    factory: &dyn BackendFactory,
) {
    let (rt, _) = rooms(factory).await;
    let room = rt.channel("lobby").presence();
    let mut changes = room.changes().await.unwrap();
    let ada_tab_1 = room.join("ada", visitor("Ada"), TTL).await.unwrap();
    let ada_tab_2 = room.join("ada", visitor("Ada L."), TTL).await.unwrap();
    let bob = room.join("bob", visitor("Bob"), TTL).await.unwrap();
    assert!(
        ada_tab_1.joined().is_some(),
        "the first connection announces"
    );
    assert_eq!(ada_tab_2.joined(), None, "a second tab is the same member");
    assert_eq!(
        next_change(&mut changes).await,
        PresenceChange::Joined(member("ada", "Ada"))
    );
    assert_eq!(
        next_change(&mut changes).await,
        PresenceChange::Joined(member("bob", "Bob"))
    );
    assert_eq!(
        room.members().await.unwrap(),
        [member("ada", "Ada L."), member("bob", "Bob")],
        "sorted by id, each with the info of its newest connection"
    );
    assert_eq!(rt.stats().presence_connections, 3);

    assert_eq!(
        ada_tab_1.leave().await.unwrap(),
        None,
        "another tab is still open"
    );
    assert_no_change(&mut changes).await;
    assert_eq!(room.members().await.unwrap().len(), 2);
    let left = ada_tab_2.leave().await.unwrap();
    assert!(left.is_some());
    assert_eq!(
        next_change(&mut changes).await,
        PresenceChange::Left(member("ada", "Ada L."))
    );
    drop(bob); // leaves in the background
    assert_eq!(
        next_change(&mut changes).await,
        PresenceChange::Left(member("bob", "Bob"))
    );
    assert!(room.members().await.unwrap().is_empty());
    assert_eq!(rt.stats().presence_connections, 0);
}

pub async fn presence_changes_are_ordinary_entries_of_the_channel(factory: &dyn BackendFactory) {
    let (rt, _) = rooms(factory).await;
    let channel = rt.channel("hall");
    let mut everything = channel.subscribe_all().await.unwrap();
    let before = channel
        .emit(&RoomEvent::Message("hello".into()))
        .await
        .unwrap();
    let guard = channel
        .presence()
        .join("ada", visitor("Ada"), TTL)
        .await
        .unwrap();
    let joined = guard.joined().expect("the first connection");
    let left = guard.leave().await.unwrap().expect("the last connection");
    assert!(
        before < joined && joined < left,
        "ids grow across events and presence"
    );
    let live = take(&mut everything, 3).await;
    let history = channel.history(History::new()).await.unwrap();
    let stored: Vec<_> = history
        .iter()
        .map(|envelope| (envelope.id, envelope.event.clone()))
        .collect();
    assert_eq!(live, stored, "subscribers receive what history holds");
    let names: Vec<&str> = history
        .iter()
        .map(|envelope| envelope.event.name())
        .collect();
    assert_eq!(names, ["room.message", JOINED_EVENT, LEFT_EVENT]);
    assert_eq!(
        history
            .iter()
            .map(|envelope| envelope.id)
            .collect::<Vec<_>>(),
        [before, joined, left]
    );
    assert_eq!(
        history[1].event,
        RoomEvent::Presence(PresenceChange::Joined(member("ada", "Ada")))
    );
}

pub async fn presence_refuses_bad_members_bad_info_and_emitted_presence_events(
    factory: &dyn BackendFactory,
) {
    let (rt, backend) = rooms(factory).await;
    let channel = rt.channel("strict-room");
    let room = channel.presence();
    let error = room.join("ada", visitor(""), TTL).await.unwrap_err();
    assert!(
        matches!(&error, Error::Invalid(violation) if violation.event == JOINED_EVENT && violation.path == "/info/name"),
        "{error}"
    );
    let error = room.join("", visitor("Ada"), TTL).await.unwrap_err();
    assert!(matches!(error, Error::InvalidMember(_)), "{error}");
    let error = room.join("a\u{7}b", visitor("Ada"), TTL).await.unwrap_err();
    assert!(matches!(error, Error::InvalidMember(_)), "{error}");
    let error = room
        .join("ada", visitor("Ada"), Duration::from_millis(10))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidPresenceTtl { .. }), "{error}");

    let forged = RoomEvent::Presence(PresenceChange::Joined(member("mallory", "Admin")));
    let error = channel.emit(&forged).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::ReservedEvent {
                event: JOINED_EVENT
            }
        ),
        "{error}"
    );
    let error = channel
        .emit_json(
            LEFT_EVENT,
            json!({"member": "ada", "info": {"name": "Ada"}}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::ReservedEvent { event: LEFT_EVENT }),
        "{error}"
    );
    assert!(
        channel.history(History::new()).await.unwrap().is_empty(),
        "nothing stored"
    );
    assert!(room.members().await.unwrap().is_empty());

    // A record written by something else that breaks the schema is counted, not listed,
    // every time it is read.
    let join = PresenceJoin {
        lease: "foreign-process.1",
        connection: "foreign:1",
        member: "mallory",
        record: r#"{"member":"mallory","info":{"name":""}}"#,
        ttl: TTL,
    };
    backend.presence_join("strict-room", join).await.unwrap();
    let _ada = room.join("ada", visitor("Ada"), TTL).await.unwrap();
    for round in 1..=2 {
        assert_eq!(room.members().await.unwrap(), [member("ada", "Ada")]);
        assert_eq!(rt.stats().rejected, round);
    }
}

pub async fn presence_is_refused_for_an_event_set_without_it(factory: &dyn BackendFactory) {
    let backend = factory.open(StorageOptions::default()).await;
    let rt = Realtime::<super::TestEvent>::with_backend(backend);
    let room = rt.channel("plain").presence();
    let error = room.members().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::PresenceNotDeclared {
                events: "TestEvent"
            }
        ),
        "{error}"
    );
    assert!(matches!(
        room.changes().await.unwrap_err(),
        Error::PresenceNotDeclared { .. }
    ));
}

pub async fn presence_heartbeats_keep_members_past_their_ttl(factory: &dyn BackendFactory) {
    let (rt, _) = rooms(factory).await;
    let room = rt.channel("long-stay").presence();
    let ttl = Duration::from_secs(1);
    let _ada = room.join("ada", visitor("Ada"), ttl).await.unwrap();
    tokio::time::sleep(ttl * 3).await;
    assert_eq!(room.members().await.unwrap(), [member("ada", "Ada")]);
}

/// A process that joined and then died (it never heartbeats, never leaves): its member is
/// gone once the TTL has passed, and however many processes sweep the channel at once,
/// its departure is announced once.
pub async fn presence_of_a_process_that_stops_heartbeating_expires_and_is_announced_once(
    factory: &dyn BackendFactory,
) {
    let (watcher, backend) = rooms(factory).await;
    let others: Vec<Realtime<RoomEvent>> = (0..3)
        .map(|_| Realtime::with_backend(Arc::clone(&backend)))
        .collect();
    let room = watcher.channel("crash-site").presence();
    let mut changes = room.changes().await.unwrap();
    let survivor = others[0]
        .channel("crash-site")
        .presence()
        .join("bob", visitor("Bob"), TTL)
        .await
        .unwrap();
    // The process that dies: it joins through the backend and is never heard from again.
    let record = r#"{"member":"ghost","info":{"name":"Ghost"}}"#;
    let ttl = Duration::from_secs(1);
    for connection in ["dead-process:1", "dead-process:2"] {
        let join = PresenceJoin {
            lease: "dead-process.1",
            connection,
            member: "ghost",
            record,
            ttl,
        };
        backend.presence_join("crash-site", join).await.unwrap();
    }
    assert_eq!(
        next_change(&mut changes).await,
        PresenceChange::Joined(member("bob", "Bob"))
    );
    assert_eq!(
        next_change(&mut changes).await,
        PresenceChange::Joined(member("ghost", "Ghost"))
    );
    assert_eq!(room.members().await.unwrap().len(), 2);
    tokio::time::sleep(ttl + Duration::from_millis(200)).await;
    // Everyone sweeps at once.
    let sweeps = others
        .iter()
        .map(|rt| async move { rt.channel("crash-site").presence().members().await });
    for members in futures::future::join_all(sweeps).await {
        assert_eq!(members.unwrap(), [member("bob", "Bob")]);
    }
    assert_eq!(
        next_change(&mut changes).await,
        PresenceChange::Left(member("ghost", "Ghost"))
    );
    assert_no_change(&mut changes).await;
    let history = watcher
        .channel("crash-site")
        .history(History::new())
        .await
        .unwrap();
    let departures = history
        .iter()
        .filter(|envelope| matches!(&envelope.event, RoomEvent::Presence(PresenceChange::Left(m)) if m.id == "ghost"))
        .count();
    assert_eq!(departures, 1, "announced once");
    drop(survivor);
}

/// Nobody calls anything on the channel: a watcher ([`Presence::changes`]) sweeps it, so
/// the departure still reaches subscribers within the TTL and the sweep interval.
///
/// [`Presence::changes`]: crate::Presence::changes
pub async fn presence_watchers_announce_expired_members_without_being_asked(
    factory: &dyn BackendFactory,
) {
    let (watcher, backend) = rooms(factory).await;
    let room = watcher.channel("quiet-room").presence();
    let mut changes = room.changes().await.unwrap();
    let join = PresenceJoin {
        lease: "dead-process.7",
        connection: "dead-process:7",
        member: "ghost",
        record: r#"{"member":"ghost","info":{"name":"Ghost"}}"#,
        ttl: Duration::from_secs(1),
    };
    backend.presence_join("quiet-room", join).await.unwrap();
    assert!(next_change(&mut changes).await.is_joined());
    let wait = crate::presence::WATCH_SWEEP_INTERVAL + Duration::from_secs(3);
    match tokio::time::timeout(wait, changes.next()).await {
        Ok(Some(PresenceChange::Left(gone))) => assert_eq!(gone, member("ghost", "Ghost")),
        other => panic!("expected the ghost to leave within {wait:?}, got {other:?}"),
    }
}

/// A lease that expired and was swept is gone for good: a heartbeat says so, and a late
/// join under it changes nothing (its process joins again under a new lease).
pub async fn presence_a_swept_lease_is_never_taken_back(factory: &dyn BackendFactory) {
    let (rt, backend) = rooms(factory).await;
    let ttl = Duration::from_secs(1);
    let record = r#"{"member":"ghost","info":{"name":"Ghost"}}"#;
    let join = |connection| PresenceJoin {
        lease: "stalled-process.1",
        connection,
        member: "ghost",
        record,
        ttl,
    };
    let first = backend
        .presence_join("stall", join("stalled:1"))
        .await
        .unwrap();
    assert!(matches!(first, JoinOutcome::Announced(_)), "{first:?}");
    assert!(
        backend
            .presence_refresh("stall", "stalled-process.1", ttl)
            .await
            .unwrap()
    );
    tokio::time::sleep(ttl + Duration::from_millis(200)).await;
    let room = rt.channel("stall").presence();
    assert!(room.members().await.unwrap().is_empty(), "swept");
    assert!(
        !backend
            .presence_refresh("stall", "stalled-process.1", ttl)
            .await
            .unwrap()
    );
    let late = backend
        .presence_join("stall", join("stalled:2"))
        .await
        .unwrap();
    assert_eq!(late, JoinOutcome::LeaseGone);
    assert!(room.members().await.unwrap().is_empty(), "nothing joined");
    let history = rt.channel("stall").history(History::new()).await.unwrap();
    let names: Vec<&str> = history
        .iter()
        .map(|envelope| envelope.event.name())
        .collect();
    assert_eq!(names, [JOINED_EVENT, LEFT_EVENT]);
}
