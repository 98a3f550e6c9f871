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
