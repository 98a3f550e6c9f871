//! Presence across processes: a process holding members killed with SIGKILL: its members
//! are gone within the TTL, each announced once, and a member of a live process stays.
//! (Presence over the SSE endpoint is in presence_sse.rs.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::time::Duration;

use realtime_core::backend::conformance::{RoomEvent, Visitor};
use realtime_core::{Member, Realtime};

/// A real process (`presence-member`) joins members over Redis and is killed with
/// SIGKILL: no leave is sent. Its lease expires after the TTL; a process following the
/// channel's changes (this test) sweeps it and announces each member gone exactly once,
/// while a member of a live process stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_members_of_a_killed_process_are_gone_within_the_ttl_and_announced_once() {
    use futures::StreamExt;
    use std::process::Stdio;
    use tokio::io::AsyncBufReadExt;

    const MEMBERS: usize = 5;
    let ttl = Duration::from_secs(2);
    let prefix = realtime_tests::unique_prefix();
    let backend = realtime_core::backend::redis::RedisBackend::connect_with(
        &realtime_tests::redis_url(),
        realtime_core::backend::redis::RedisOptions::default().key_prefix(&prefix),
    )
    .await
    .unwrap();
    let rt = Realtime::<RoomEvent>::with_backend(backend);
    let room = rt.channel("room-1").presence();
    let mut changes = room.changes().await.unwrap();
    // The child starts after this process follows the channel's changes: its joins are
    // live changes, not missed before the subscription.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_presence-member"))
        .args(["--redis", &realtime_tests::redis_url(), "--prefix", &prefix])
        .args(["--channel", "room-1", "--members", &MEMBERS.to_string()])
        .args(["--ttl-ms", &ttl.as_millis().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the presence-member binary runs");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the child joins in time")
        .unwrap();
    assert_eq!(ready.as_deref(), Some(format!("joined {MEMBERS}").as_str()));
    let survivor = room
        .join(
            "survivor",
            Visitor {
                name: "Stays".into(),
            },
            ttl,
        )
        .await
        .unwrap();
    assert_eq!(room.members().await.unwrap().len(), MEMBERS + 1);
    for _ in 0..=MEMBERS {
        let joined = tokio::time::timeout(Duration::from_secs(10), changes.next()).await;
        assert!(
            matches!(joined, Ok(Some(realtime_core::PresenceChange::Joined(_)))),
            "{joined:?}"
        );
    }

    let pid = child.id().expect("the child runs");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let killed_at = std::time::Instant::now();
    let _ = child.wait().await;

    // Within the TTL plus one sweep of this process (its heartbeat, every ttl / 3, sweeps
    // the channel), plus a margin for a loaded machine.
    let mut gone = std::collections::BTreeSet::new();
    let limit = ttl + ttl / 3 + Duration::from_secs(3);
    while gone.len() < MEMBERS {
        let left = tokio::time::timeout(limit.saturating_sub(killed_at.elapsed()), changes.next())
            .await
            .unwrap_or_else(|_| panic!("only {gone:?} left within {limit:?} of the kill"));
        match left {
            Some(realtime_core::PresenceChange::Left(member)) => {
                assert!(
                    gone.insert(member.id.clone()),
                    "{} announced twice",
                    member.id
                );
            }
            other => panic!("unexpected change {other:?}"),
        }
    }
    assert!(
        killed_at.elapsed() >= ttl / 2,
        "not before the lease could expire"
    );
    let extra = tokio::time::timeout(Duration::from_secs(1), changes.next()).await;
    assert!(extra.is_err(), "announced once: {extra:?}");
    assert_eq!(
        room.members().await.unwrap(),
        [Member {
            id: "survivor".into(),
            info: Visitor {
                name: "Stays".into()
            }
        }]
    );
    let history = rt
        .channel("room-1")
        .history(realtime_core::History::new())
        .await
        .unwrap();
    let departures = history
        .iter()
        .filter(|envelope| {
            matches!(
                envelope.event,
                RoomEvent::Presence(realtime_core::PresenceChange::Left(_))
            )
        })
        .count();
    assert_eq!(
        departures, MEMBERS,
        "one presence.left per member in the stream"
    );
    drop(survivor);
}

/// The presence entries a page would read (`presence.joined` / `presence.left`), as
/// `(event, member)`.
async fn presence_entries(
    subscription: &mut (impl futures::Stream<Item = realtime_core::Envelope<RoomEvent>> + Unpin),
    within: Duration,
) -> Vec<(&'static str, String)> {
    use futures::StreamExt;
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Some(envelope)) = tokio::time::timeout_at(deadline, subscription.next()).await {
        if let RoomEvent::Presence(change) = envelope.event {
            let event = if change.is_joined() { "joined" } else { "left" };
            seen.push((event, change.member().id.clone()));
        }
    }
    seen
}

/// Builds a member list the way the presence guide's page does: `joined` adds (a repeat
/// changes nothing), `left` removes.
fn list_from(entries: &[(&str, String)]) -> std::collections::BTreeSet<String> {
    let mut list = std::collections::BTreeSet::new();
    for (event, member) in entries {
        if *event == "joined" {
            list.insert(member.clone());
        } else {
            list.remove(member);
        }
    }
    list
}

/// Two processes on a private Redis: one holds the members, the other reads the channel
/// as a page does (a subscription, not a presence watcher: it sweeps nothing).
async fn holder_and_observer(
    server: &realtime_tests::PrivateRedis,
) -> (Realtime<RoomEvent>, Realtime<RoomEvent>) {
    use realtime_core::backend::redis::{RedisBackend, RedisOptions};
    let options = RedisOptions::default().command_timeout(Duration::from_millis(300));
    let holder = RedisBackend::connect_with(&server.url(), options.clone())
        .await
        .unwrap();
    let observer = RedisBackend::connect_with(&server.url(), options)
        .await
        .unwrap();
    (
        Realtime::with_backend(holder),
        Realtime::with_backend(observer),
    )
}

fn visitor(name: &str) -> Visitor {
    Visitor { name: name.into() }
}

/// A member whose only connection in the channel leaves while its leave cannot reach
/// storage (here Redis refuses the holder's scripts for a while, by ACL: a leave frozen in
/// a socket would still run once Redis thaws). The leave fails, and nothing of this
/// process sweeps the channel any more; once Redis answers, the leave is tried again and
/// its `presence.left` announced, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_whose_leave_fails_is_announced_once_redis_answers() {
    use realtime_core::backend::redis::{RedisBackend, RedisOptions};
    let server = realtime_tests::PrivateRedis::start().await;
    let mut admin = server.connection().await;
    let acl = |rule: &'static str| {
        let mut admin = admin.clone();
        async move {
            let _: () = redis::cmd("ACL")
                .arg(
                    &[
                        "SETUSER", "holder", "on", ">secret", "~*", "&*", "+@all", rule,
                    ][..],
                )
                .query_async(&mut admin)
                .await
                .unwrap();
        }
    };
    acl("+@scripting").await;
    let url = format!("redis://holder:secret@{}", server.addr());
    let options = RedisOptions::default().command_timeout(Duration::from_millis(300));
    let holder = Realtime::<RoomEvent>::with_backend(
        RedisBackend::connect_with(&url, options.clone())
            .await
            .unwrap(),
    );
    let (_, observer) = holder_and_observer(&server).await;
    let ttl = Duration::from_secs(2);
    let mut page = observer.channel("room").subscribe_all().await.unwrap();
    let bob = holder
        .channel("room")
        .presence()
        .join("bob", visitor("Bob"), ttl)
        .await
        .unwrap();
    let joined = presence_entries(&mut page, Duration::from_secs(2)).await;
    assert_eq!(joined, [("joined", "bob".to_owned())]);

    acl("-@scripting").await;
    drop(bob);
    tokio::time::sleep(Duration::from_millis(800)).await;
    acl("+@scripting").await;

    // Within the retry's back-off; then nothing more.
    let after = presence_entries(&mut page, ttl * 4).await;
    assert_eq!(after, [("left", "bob".to_owned())]);
    let members = observer.channel("room").presence().members().await.unwrap();
    assert!(members.is_empty(), "{members:?}");
    let _: () = redis::cmd("PING").query_async(&mut admin).await.unwrap();
}

/// Redis restarts empty (no persistence): every key is lost, the `presence.joined` entries
/// too. A member whose leave failed during the outage gets its `presence.left` from its
/// process (nobody else knows it was there); a member still connected is joined again (a
/// repeated `presence.joined` with no `presence.left` before it, which a page must take as
/// "present", not as a second member). The page's list converges to `members()`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_empty_restart_a_list_built_from_the_events_converges_to_the_members() {
    let mut server = realtime_tests::PrivateRedis::start().await;
    let (holder, observer) = holder_and_observer(&server).await;
    let ttl = Duration::from_secs(2);
    let mut page = observer.channel("room").subscribe_all().await.unwrap();
    let presence = holder.channel("room").presence();
    let ada = presence.join("ada", visitor("Ada"), ttl).await.unwrap();
    let bob = presence.join("bob", visitor("Bob"), ttl).await.unwrap();
    let mut seen = presence_entries(&mut page, Duration::from_secs(2)).await;
    assert_eq!(
        list_from(&seen),
        ["ada".to_owned(), "bob".to_owned()].into()
    );

    server.kill();
    drop(bob);
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.restart().await;

    seen.extend(presence_entries(&mut page, ttl * 5).await);
    let members: Vec<String> = observer
        .channel("room")
        .presence()
        .members()
        .await
        .unwrap()
        .into_iter()
        .map(|member: Member<Visitor>| member.id)
        .collect();
    assert_eq!(members, ["ada"]);
    assert_eq!(list_from(&seen), ["ada".to_owned()].into(), "{seen:?}");
    let lefts = |who: &str| {
        seen.iter()
            .filter(|(event, member)| *event == "left" && member == who)
            .count()
    };
    assert_eq!(lefts("bob"), 1, "{seen:?}");
    assert_eq!(lefts("ada"), 0, "{seen:?}");
    drop(ada);
}
