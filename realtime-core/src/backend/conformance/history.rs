//! History and replay: ranges and limits, `after`, `since`, `with_history`, and the
//! hand-over from replay to live without a gap or a duplicate.

use std::time::Duration;

use super::support::{handle, message, realtime, tick, ticks};
use super::{BackendFactory, StorageOptions, assert_quiet, take};
use super::{TestEvent, TestEventKind};
use crate::{Cursor, Error, History};

pub async fn history_honours_inclusive_bounds_and_limits(factory: &dyn BackendFactory) {
    let rt = handle(factory).await;
    let room = rt.channel("history");
    let mut ids = Vec::new();
    for n in 0..20 {
        ids.push(room.emit(&tick(n)).await.unwrap());
    }
    let all = room.history(History::new()).await.unwrap();
    assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), ids);

    let oldest = room.history(History::new().limit(5)).await.unwrap();
    assert_eq!(oldest.iter().map(|e| e.id).collect::<Vec<_>>(), ids[..5]);

    let newest = room.history(History::last(5)).await.unwrap();
    assert_eq!(newest.iter().map(|e| e.id).collect::<Vec<_>>(), ids[15..]);

    let window = room
        .history(History::new().start(ids[3]).end(ids[7]))
        .await
        .unwrap();
    assert_eq!(window.iter().map(|e| e.id).collect::<Vec<_>>(), ids[3..=7]);

    let window_newest = room
        .history(History::last(2).start(ids[3]).end(ids[7]))
        .await
        .unwrap();
    assert_eq!(
        window_newest.iter().map(|e| e.id).collect::<Vec<_>>(),
        ids[6..=7]
    );

    // A bare millisecond end covers its whole millisecond.
    let up_to_ms = room
        .history(History::new().end(ids[19].ms()))
        .await
        .unwrap();
    assert_eq!(up_to_ms.len(), 20);
    assert!(
        room.history(History::new().start(ids[19].ms() + 1))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        rt.channel("never-used")
            .history(History::new())
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn history_limits_out_of_range_are_refused(factory: &dyn BackendFactory) {
    let rt = handle(factory).await;
    for limit in [0, 1_001] {
        let error = rt.history(History::new().limit(limit)).await.unwrap_err();
        assert!(
            matches!(error, Error::InvalidLimit { max: 1_000, .. }),
            "{error}"
        );
        assert_eq!(
            error.to_string(),
            format!("history limit {limit} is out of range; expected 1 to 1000")
        );
        let error = rt.subscribe_all().with_history(limit).await.unwrap_err();
        assert!(matches!(error, Error::InvalidLimit { .. }), "{error}");
    }
}

pub async fn after_replays_strictly_after_the_cursor_then_goes_live(factory: &dyn BackendFactory) {
    let rt = handle(factory).await;
    let room = rt.channel("after");
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(room.emit(&tick(n)).await.unwrap());
    }
    let mut subscription = room.subscribe_all().after(ids[4]).await.unwrap();
    let live = room.emit(&tick(10)).await.unwrap();
    let received = take(&mut subscription, 6).await;
    assert_eq!(ticks(&received), [5, 6, 7, 8, 9, 10]);
    assert_eq!(received.last().map(|(id, _)| *id), Some(live));
    assert_quiet(&mut subscription).await;
}

pub async fn after_a_trimmed_or_unknown_cursor_is_unavailable(factory: &dyn BackendFactory) {
    let (rt, _) = realtime(
        factory,
        StorageOptions {
            max_len: Some(3),
            ..StorageOptions::default()
        },
    )
    .await;
    let room = rt.channel("trimmed");
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(room.emit(&tick(n)).await.unwrap());
    }
    let error = room.subscribe_all().after(ids[0]).await.unwrap_err();
    match &error {
        Error::CursorUnavailable { channel, cursor } => {
            assert_eq!((channel.as_str(), *cursor), ("trimmed", ids[0]));
        }
        other => panic!("expected CursorUnavailable, got {other}"),
    }
    assert!(
        error
            .to_string()
            .contains("is not stored in channel `trimmed`")
    );
    let never_written = Cursor::new(ids[5].ms(), ids[5].seq() + 100);
    assert!(matches!(
        room.subscribe_all().after(never_written).await,
        Err(Error::CursorUnavailable { .. })
    ));
    // The oldest kept entry still works.
    let mut subscription = room.subscribe_all().after(ids[3]).await.unwrap();
    assert_eq!(ticks(&take(&mut subscription, 2).await), [4, 5]);
}

pub async fn since_a_bare_millisecond_replays_what_came_later(factory: &dyn BackendFactory) {
    let rt = handle(factory).await;
    let room = rt.channel("since");
    let first = room.emit(&tick(0)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(3)).await;
    room.emit(&tick(1)).await.unwrap();
    room.emit(&tick(2)).await.unwrap();
    let mut subscription = room.subscribe_all().since(first.ms()).await.unwrap();
    // `since(ms)` is strictly after `ms-0`, as Redis reads `(ms`: tick 0 is `ms-0` itself.
    assert_eq!(ticks(&take(&mut subscription, 2).await), [1, 2]);
    // A position that was never stored is fine for `since`.
    let mut everything = room.subscribe_all().since(Cursor::new(1, 7)).await.unwrap();
    assert_eq!(ticks(&take(&mut everything, 3).await), [0, 1, 2]);
    // A position in the future (a client clock ahead of the server's) still gets every
    // live event.
    let mut ahead = room
        .subscribe_all()
        .since(first.ms() + 3_600_000)
        .await
        .unwrap();
    room.emit(&tick(3)).await.unwrap();
    assert_eq!(ticks(&take(&mut ahead, 1).await), [3]);
    assert_quiet(&mut ahead).await;
}

pub async fn with_history_and_since_together_start_at_the_earlier_of_the_two(
    factory: &dyn BackendFactory,
) {
    let rt = handle(factory).await;
    let room = rt.channel("newest-or-since");
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(room.emit(&tick(n)).await.unwrap());
    }
    // The position is inside the newest three: the newest three, in either order.
    for mut subscription in [
        room.subscribe_all()
            .with_history(3)
            .since(ids[8])
            .await
            .unwrap(),
        room.subscribe_all()
            .since(ids[8])
            .with_history(3)
            .await
            .unwrap(),
    ] {
        assert_eq!(ticks(&take(&mut subscription, 3).await), [7, 8, 9]);
        assert_quiet(&mut subscription).await;
    }
    // The position is older: everything after it, more than three.
    let mut subscription = room
        .subscribe_all()
        .with_history(3)
        .since(ids[2])
        .await
        .unwrap();
    assert_eq!(
        ticks(&take(&mut subscription, 7).await),
        [3, 4, 5, 6, 7, 8, 9]
    );
    // Fewer stored than asked: all of them, then live, once each.
    let mut subscription = room
        .subscribe_all()
        .with_history(50)
        .since(ids[9])
        .await
        .unwrap();
    assert_eq!(
        ticks(&take(&mut subscription, 10).await),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    );
    room.emit(&tick(10)).await.unwrap();
    assert_eq!(ticks(&take(&mut subscription, 1).await), [10]);
    assert_quiet(&mut subscription).await;
    // The limit is checked as for `with_history` alone.
    assert!(matches!(
        room.subscribe_all().since(ids[0]).with_history(0).await,
        Err(Error::InvalidLimit { .. })
    ));
}

pub async fn with_history_then_live_has_no_gap_and_no_duplicate_under_load(
    factory: &dyn BackendFactory,
) {
    let rt = handle(factory).await;
    let room = rt.channel("gapless");
    let total = 2_000u32;
    let rounds = 20u32;
    // The emitter sends in rounds of 100; each round starts when a new subscriber has
    // joined, and runs while the next one joins. So subscribers join at different moments,
    // with replay and live overlapping: each must still see every event exactly once, in
    // order. (Rounds make this independent of how fast the machine is.)
    let (go, mut next_round) = tokio::sync::mpsc::unbounded_channel::<()>();
    let emitter = {
        let room = room.clone();
        tokio::spawn(async move {
            for round in 0..rounds {
                next_round.recv().await.unwrap();
                for n in round * (total / rounds)..(round + 1) * (total / rounds) {
                    room.emit(&tick(n)).await.unwrap();
                    if n % 10 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            }
        })
    };
    let mut subscriptions = Vec::new();
    for _ in 0..rounds {
        subscriptions.push(room.subscribe_all().since(0).await.unwrap());
        go.send(()).unwrap();
        tokio::time::sleep(Duration::from_micros(300)).await;
    }
    emitter.await.unwrap();
    for subscription in &mut subscriptions {
        let received = take(subscription, total as usize).await;
        assert_eq!(ticks(&received), (0..total).collect::<Vec<_>>());
        assert_quiet(subscription).await;
    }

    let mut recent = room.subscribe_all().with_history(10).await.unwrap();
    room.emit(&tick(total)).await.unwrap();
    assert_eq!(
        ticks(&take(&mut recent, 11).await),
        (total - 10..=total).collect::<Vec<_>>()
    );
    assert_quiet(&mut recent).await;
}

pub async fn with_history_of_counts_only_the_given_kinds_and_keeps_what_came_between(
    factory: &dyn BackendFactory,
) {
    let rt = handle(factory).await;
    let room = rt.channel("history-of");
    // Five messages, each followed by two ticks (a room's notices between its messages).
    let mut message_ids = Vec::new();
    for n in 0..5u32 {
        message_ids.push(room.emit(&message(&format!("m{n}"))).await.unwrap());
        room.emit(&tick(2 * n)).await.unwrap();
        room.emit(&tick(2 * n + 1)).await.unwrap();
    }
    let names = |received: &[(Cursor, TestEvent)]| -> Vec<String> {
        received
            .iter()
            .map(|(_, event)| match event {
                TestEvent::Message { text, .. } => text.clone(),
                TestEvent::Tick(n) => format!("t{n}"),
                other => format!("{other:?}"),
            })
            .collect()
    };
    // The newest two messages, the ticks between and after them, then live.
    let mut subscription = room
        .subscribe_all()
        .with_history_of(2, [TestEventKind::Message])
        .await
        .unwrap();
    assert_eq!(
        names(&take(&mut subscription, 6).await),
        ["m3", "t6", "t7", "m4", "t8", "t9"]
    );
    assert_quiet(&mut subscription).await;
    room.emit(&tick(99)).await.unwrap();
    assert_eq!(ticks(&take(&mut subscription, 1).await), [99]);

    // The subscription's own filter still applies: ticks only, from before m3.
    let mut only_ticks = room
        .subscribe([TestEventKind::Tick])
        .with_history_of(2, [TestEventKind::Message])
        .await
        .unwrap();
    assert_eq!(ticks(&take(&mut only_ticks, 5).await), [6, 7, 8, 9, 99]);
    assert_quiet(&mut only_ticks).await;

    // More asked for than stored: the whole history.
    let mut everything = room
        .subscribe_all()
        .with_history_of(50, [TestEventKind::Message])
        .await
        .unwrap();
    assert_eq!(take(&mut everything, 16).await.len(), 16);
    assert_quiet(&mut everything).await;

    // With `since` older than the newest two messages: everything after the position.
    let mut since = room
        .subscribe_all()
        .with_history_of(2, [TestEventKind::Message])
        .since(message_ids[1])
        .await
        .unwrap();
    assert_eq!(
        names(&take(&mut since, 12).await),
        [
            "t2", "t3", "m2", "t4", "t5", "m3", "t6", "t7", "m4", "t8", "t9", "t99"
        ]
    );
    assert_quiet(&mut since).await;
    assert!(matches!(
        room.subscribe_all()
            .with_history_of(0, [TestEventKind::Message])
            .await,
        Err(Error::InvalidLimit { .. })
    ));

    // The counted kind lies more than a page back: found across pages.
    let sparse = rt.channel("history-of-sparse");
    sparse.emit(&message("the one")).await.unwrap();
    for n in 0..1_050 {
        sparse.emit(&tick(n)).await.unwrap();
    }
    let mut found = sparse
        .subscribe_all()
        .with_history_of(1, [TestEventKind::Message])
        .await
        .unwrap();
    let received = take(&mut found, 1_051).await;
    assert_eq!(names(&received[..1]), ["the one"]);
    assert_eq!(ticks(&received[1..]).len(), 1_050);
    assert_quiet(&mut found).await;
}
