//! The semantic suite: what every backend must do, run once per backend.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test panics

use std::collections::BTreeSet;
use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use realtime_core::backend::Backend;
use realtime_core::{Cursor, Error, History, Realtime};
use realtime_tests::{
    BackendKind, StorageOptions, TestEvent, TestEventKind, assert_quiet, for_each_backend, take,
};
use serde_json::json;

for_each_backend!(
    events_arrive_in_emit_order_with_their_ids,
    the_default_channel_is_called_default,
    history_honours_inclusive_bounds_and_limits,
    history_limits_out_of_range_are_refused,
    after_replays_strictly_after_the_cursor_then_goes_live,
    after_a_trimmed_or_unknown_cursor_is_unavailable,
    since_a_bare_millisecond_replays_what_came_later,
    with_history_and_since_together_start_at_the_earlier_of_the_two,
    with_history_then_live_has_no_gap_and_no_duplicate_under_load,
    concurrent_emitters_are_all_delivered_once_in_id_order,
    many_subscribers_each_receive_every_event,
    dropping_the_last_subscription_closes_the_channel_feed,
    invalid_events_are_refused_and_leave_nothing_stored,
    emit_json_checks_the_name_and_the_schema,
    a_filter_lets_only_its_kinds_through,
    a_subscriber_that_falls_behind_catches_up_from_history,
    emit_to_writes_every_channel_and_checks_names_first,
    foreign_entries_are_counted_and_skipped_without_breaking_anything,
    bad_channel_names_are_refused,
    separate_handles_on_one_store_see_each_others_events,
    idempotent_emits_store_once_per_key_within_the_window,
    a_subscription_dropped_while_it_opens_leaves_no_listener,
);

async fn realtime(
    kind: BackendKind,
    options: StorageOptions,
) -> (Realtime<TestEvent>, Arc<dyn Backend>) {
    let backend = kind.open(options).await;
    (Realtime::with_backend(Arc::clone(&backend)), backend)
}

async fn handle(kind: BackendKind) -> Realtime<TestEvent> {
    realtime(kind, StorageOptions::default()).await.0
}

fn tick(n: u32) -> TestEvent {
    TestEvent::Tick(n)
}

fn message(text: &str) -> TestEvent {
    TestEvent::Message {
        author: "ada".into(),
        text: text.into(),
    }
}

fn ticks(received: &[(Cursor, TestEvent)]) -> Vec<u32> {
    received
        .iter()
        .map(|(_, event)| match event {
            TestEvent::Tick(n) => *n,
            other => panic!("expected a tick, got {other:?}"),
        })
        .collect()
}

async fn events_arrive_in_emit_order_with_their_ids(kind: BackendKind) {
    let rt = handle(kind).await;
    let room = rt.channel("room-1");
    let mut subscription = room.subscribe_all().await.unwrap();
    let mut ids = Vec::new();
    for n in 0..100 {
        ids.push(room.emit(&tick(n)).await.unwrap());
    }
    let received = take(&mut subscription, 100).await;
    assert_eq!(received.iter().map(|(id, _)| *id).collect::<Vec<_>>(), ids);
    assert_eq!(ticks(&received), (0..100).collect::<Vec<_>>());
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "ids grow");
    assert_eq!(subscription.channel(), "room-1");
}

async fn the_default_channel_is_called_default(kind: BackendKind) {
    let rt = handle(kind).await;
    let mut subscription = rt.channel("default").subscribe_all().await.unwrap();
    let id = rt.emit(&tick(1)).await.unwrap();
    assert_eq!(take(&mut subscription, 1).await, [(id, tick(1))]);
    let history = rt.history(History::new()).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(&*history[0].channel, "default");
}

async fn history_honours_inclusive_bounds_and_limits(kind: BackendKind) {
    let rt = handle(kind).await;
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

async fn history_limits_out_of_range_are_refused(kind: BackendKind) {
    let rt = handle(kind).await;
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

async fn after_replays_strictly_after_the_cursor_then_goes_live(kind: BackendKind) {
    let rt = handle(kind).await;
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

async fn after_a_trimmed_or_unknown_cursor_is_unavailable(kind: BackendKind) {
    let (rt, _) = realtime(
        kind,
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

async fn since_a_bare_millisecond_replays_what_came_later(kind: BackendKind) {
    let rt = handle(kind).await;
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

async fn with_history_and_since_together_start_at_the_earlier_of_the_two(kind: BackendKind) {
    let rt = handle(kind).await;
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

async fn with_history_then_live_has_no_gap_and_no_duplicate_under_load(kind: BackendKind) {
    let rt = handle(kind).await;
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

async fn concurrent_emitters_are_all_delivered_once_in_id_order(kind: BackendKind) {
    let rt = handle(kind).await;
    let room = rt.channel("concurrent");
    let mut subscription = room.subscribe_all().await.unwrap();
    let tasks: Vec<_> = (0..8u32)
        .map(|task| {
            let room = room.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..50 {
                    ids.push(room.emit(&tick(task * 1_000 + n)).await.unwrap());
                }
                ids
            })
        })
        .collect();
    let mut emitted = BTreeSet::new();
    for task in tasks {
        let ids = task.await.unwrap();
        assert!(
            ids.windows(2).all(|pair| pair[0] < pair[1]),
            "one emitter's ids grow"
        );
        emitted.extend(ids);
    }
    let received = take(&mut subscription, 400).await;
    let ids: Vec<Cursor> = received.iter().map(|(id, _)| *id).collect();
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "delivered in id order"
    );
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), emitted);
    // Each emitter's own events stay in its order.
    for task in 0..8u32 {
        let own: Vec<u32> = ticks(&received)
            .into_iter()
            .filter(|n| n / 1_000 == task)
            .collect();
        assert_eq!(own, (0..50).map(|n| task * 1_000 + n).collect::<Vec<_>>());
    }
    assert_eq!(
        room.history(History::new().limit(1_000))
            .await
            .unwrap()
            .len(),
        400
    );
}

async fn many_subscribers_each_receive_every_event(kind: BackendKind) {
    let rt = handle(kind).await;
    let room = rt.channel("crowd");
    let mut subscriptions = Vec::new();
    for _ in 0..200 {
        subscriptions.push(room.subscribe_all().await.unwrap());
    }
    assert_eq!(
        rt.stats().live_channels,
        1,
        "one upstream feed for all subscribers"
    );
    for n in 0..20 {
        room.emit(&tick(n)).await.unwrap();
    }
    for subscription in &mut subscriptions {
        assert_eq!(
            ticks(&take(subscription, 20).await),
            (0..20).collect::<Vec<_>>()
        );
    }
}

async fn dropping_the_last_subscription_closes_the_channel_feed(kind: BackendKind) {
    let rt = handle(kind).await;
    let first = rt.channel("a").subscribe_all().await.unwrap();
    let second = rt.channel("a").subscribe_all().await.unwrap();
    let other = rt.channel("b").subscribe_all().await.unwrap();
    assert_eq!(rt.stats().live_channels, 2);
    drop(first);
    assert_eq!(rt.stats().live_channels, 2, "`a` still has a subscriber");
    drop(second);
    assert_eq!(rt.stats().live_channels, 1);
    drop(other);
    assert_eq!(rt.stats().live_channels, 0);
    wait_until_no_listener(&rt).await;
    // Subscribing again reopens the feed and works.
    let mut again = rt.channel("a").subscribe_all().await.unwrap();
    rt.channel("a").emit(&tick(7)).await.unwrap();
    assert_eq!(ticks(&take(&mut again, 1).await), [7]);
}

async fn invalid_events_are_refused_and_leave_nothing_stored(kind: BackendKind) {
    let rt = handle(kind).await;
    let room = rt.channel("strict");
    let mut subscription = room.subscribe_all().await.unwrap();
    let too_long = "x".repeat(281);
    for bad in [message(""), message(&too_long)] {
        let error = room.emit(&bad).await.unwrap_err();
        let Error::Invalid(violation) = &error else {
            panic!("expected a schema violation, got {error}");
        };
        assert_eq!(violation.event, "chat.message");
        assert_eq!(violation.path, "/text");
        assert!(
            ["minLength", "maxLength"].contains(&violation.rule.as_str()),
            "{violation:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("event `chat.message` is invalid at `/text`"),
            "{error}"
        );
    }
    assert!(
        room.history(History::new()).await.unwrap().is_empty(),
        "nothing stored"
    );
    let ok = room.emit(&message("fine")).await.unwrap();
    assert_eq!(take(&mut subscription, 1).await, [(ok, message("fine"))]);
    assert_quiet(&mut subscription).await;
}

async fn emit_json_checks_the_name_and_the_schema(kind: BackendKind) {
    let rt = handle(kind).await;
    let error = rt.emit_json("chat.mesage", json!({})).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown event `chat.mesage`; expected one of: chat.message, chat.typing, counter.tick"
    );
    let error = rt
        .emit_json("chat.message", json!({ "author": "ada", "text": "" }))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Invalid(v) if v.path == "/text"),
        "{error}"
    );
    let error = rt.emit_json("counter.tick", json!(-1)).await.unwrap_err();
    assert!(
        matches!(&error, Error::Invalid(v) if v.rule == "minimum"),
        "{error}"
    );
    let error = rt
        .emit_json("chat.message", json!({ "text": "hi" }))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Invalid(v) if v.rule == "required"),
        "{error}"
    );
    assert!(rt.history(History::new()).await.unwrap().is_empty());

    let id = rt
        .emit_json("chat.message", json!({ "author": "ada", "text": "hi" }))
        .await
        .unwrap();
    let history = rt.history(History::new()).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].id, &history[0].event), (id, &message("hi")));
}

async fn a_filter_lets_only_its_kinds_through(kind: BackendKind) {
    let rt = handle(kind).await;
    let room = rt.channel("filtered");
    let mut typing = room.subscribe([TestEventKind::Typing]).await.unwrap();
    let mut chat = room
        .subscribe([TestEventKind::Typing, TestEventKind::Message])
        .await
        .unwrap();
    room.emit(&tick(1)).await.unwrap();
    room.emit(&TestEvent::Typing("ada".into())).await.unwrap();
    room.emit(&message("hi")).await.unwrap();
    room.emit(&tick(2)).await.unwrap();
    let got: Vec<TestEvent> = take(&mut typing, 1)
        .await
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    assert_eq!(got, [TestEvent::Typing("ada".into())]);
    assert_quiet(&mut typing).await;
    let got: Vec<TestEvent> = take(&mut chat, 2)
        .await
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    assert_eq!(got, [TestEvent::Typing("ada".into()), message("hi")]);
    assert_quiet(&mut chat).await;
}

async fn a_subscriber_that_falls_behind_catches_up_from_history(kind: BackendKind) {
    let backend = kind
        .open(StorageOptions {
            feed_capacity: Some(4),
            ..StorageOptions::default()
        })
        .await;
    let rt = Realtime::<TestEvent>::builder(backend)
        .fanout_capacity(4)
        .build();
    let room = rt.channel("slow");
    let mut slow = room.subscribe_all().await.unwrap();
    for n in 0..300 {
        room.emit(&tick(n)).await.unwrap();
    }
    // The subscriber read nothing while 300 events went by a buffer of 4.
    let received = take(&mut slow, 300).await;
    assert_eq!(ticks(&received), (0..300).collect::<Vec<_>>());
    assert_quiet(&mut slow).await;
    assert!(rt.stats().catch_ups > 0, "{:?}", rt.stats());
}

async fn emit_to_writes_every_channel_and_checks_names_first(kind: BackendKind) {
    let rt = handle(kind).await;
    let mut subscriptions = Vec::new();
    for room in ["lobby", "room-1", "room-2"] {
        subscriptions.push(rt.channel(room).subscribe_all().await.unwrap());
    }
    let ids = rt
        .emit_to(["lobby", "room-1", "room-2"], &message("hi all"))
        .await
        .unwrap();
    assert_eq!(ids.len(), 3);
    for (subscription, id) in subscriptions.iter_mut().zip(&ids) {
        assert_eq!(take(subscription, 1).await, [(*id, message("hi all"))]);
    }
    let error = rt
        .emit_to(["lobby", "bad name"], &tick(1))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidChannel(_)), "{error}");
    assert_eq!(
        rt.channel("lobby")
            .history(History::new())
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn foreign_entries_are_counted_and_skipped_without_breaking_anything(kind: BackendKind) {
    let (rt, backend) = realtime(kind, StorageOptions::default()).await;
    let room = rt.channel("foreign");
    let mut subscription = room.subscribe_all().await.unwrap();
    // Written by "someone else": an unknown event, data that is not JSON, data that
    // breaks the schema, data of the wrong type.
    backend
        .append("foreign", "chat.deleted", "{}")
        .await
        .unwrap();
    backend
        .append("foreign", "counter.tick", "{not json")
        .await
        .unwrap();
    backend
        .append("foreign", "counter.tick", "-5")
        .await
        .unwrap();
    backend
        .append("foreign", "chat.message", r#"{"author":1,"text":"x"}"#)
        .await
        .unwrap();
    let good = room.emit(&tick(3)).await.unwrap();
    assert_eq!(take(&mut subscription, 1).await, [(good, tick(3))]);
    assert_eq!(rt.stats().rejected, 4, "each bad entry counted once, live");
    let history = room.history(History::new()).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        rt.stats().rejected,
        8,
        "and once more when history reads them"
    );
}

async fn bad_channel_names_are_refused(kind: BackendKind) {
    let rt = handle(kind).await;
    let long = "x".repeat(129);
    for name in ["", "room 1", "a*", "ü", long.as_str()] {
        let channel = rt.channel(name);
        assert!(
            matches!(channel.emit(&tick(1)).await, Err(Error::InvalidChannel(_))),
            "{name}"
        );
        assert!(matches!(
            channel.history(History::new()).await,
            Err(Error::InvalidChannel(_))
        ));
        assert!(matches!(
            channel.subscribe_all().await,
            Err(Error::InvalidChannel(_))
        ));
    }
    let error = rt.channel("room 1").emit(&tick(1)).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid channel name `room 1`: expected only ASCII letters, digits and `-_.:@/`"
    );
}

async fn separate_handles_on_one_store_see_each_others_events(kind: BackendKind) {
    let backend = kind.open(StorageOptions::default()).await;
    let writer = Realtime::<TestEvent>::with_backend(Arc::clone(&backend));
    let reader = Realtime::<TestEvent>::with_backend(backend);
    let mut subscription = reader.channel("shared").subscribe_all().await.unwrap();
    let id = writer.channel("shared").emit(&tick(42)).await.unwrap();
    assert_eq!(take(&mut subscription, 1).await, [(id, tick(42))]);
}

/// Waits until the backend holds no subscription (a Redis UNSUBSCRIBE is asynchronous).
async fn wait_until_no_listener(rt: &Realtime<TestEvent>) {
    for _ in 0..200 {
        if rt.stats().listened_channels == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("still listening: {:?}", rt.stats());
}

async fn idempotent_emits_store_once_per_key_within_the_window(kind: BackendKind) {
    let backend = kind.open(StorageOptions::default()).await;
    let rt = Realtime::<TestEvent>::builder(Arc::clone(&backend))
        .idempotency_window(Duration::from_millis(600))
        .build();
    let orders = rt.channel("orders");
    let mut live = orders.subscribe_all().await.unwrap();
    let first = orders.emit_with_key(&tick(1), "order-1").await.unwrap();
    let retry = orders.emit_with_key(&tick(1), "order-1").await.unwrap();
    assert_eq!(first, retry, "a retry returns the original id");
    let json_retry = orders
        .emit_json_with_key("counter.tick", json!(1), "order-1")
        .await
        .unwrap();
    assert_eq!(first, json_retry);
    let other_key = orders.emit_with_key(&tick(2), "order-2").await.unwrap();
    let invoices = rt.channel("invoices");
    invoices.emit_with_key(&tick(3), "order-1").await.unwrap();
    assert!(other_key > first);
    assert_eq!(
        invoices.history(History::new()).await.unwrap().len(),
        1,
        "keys are per channel"
    );
    assert_eq!(ticks(&take(&mut live, 2).await), [1, 2]);
    assert_quiet(&mut live).await;
    let stored = orders.history(History::new()).await.unwrap();
    assert_eq!(stored.len(), 2, "stored once per key");

    // Concurrent emits with one key: exactly one is stored, all get its id.
    let nine = tick(9);
    let racers = (0..20).map(|_| orders.emit_with_key(&nine, "race"));
    let ids: BTreeSet<Cursor> = futures::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(ticks(&take(&mut live, 1).await), [9]);

    // Past the window the key is forgotten: a new emit.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let later = orders.emit_with_key(&tick(1), "order-1").await.unwrap();
    assert!(later > first);

    // Invalid keys are refused and store nothing.
    let too_long = "k".repeat(256);
    for key in ["", "two words", too_long.as_str(), "caf\u{e9}"] {
        let refused = orders.emit_with_key(&tick(5), key).await;
        assert!(
            matches!(refused, Err(Error::InvalidIdempotencyKey(_))),
            "{key:?}: {refused:?}"
        );
    }
    assert_eq!(orders.history(History::new()).await.unwrap().len(), 4);
}

async fn a_subscription_dropped_while_it_opens_leaves_no_listener(kind: BackendKind) {
    let rt = handle(kind).await;
    // Give up on subscriptions at every point of their setup, on many channels.
    for round in 0..200u32 {
        let channel = rt.channel(format!("user-{round}"));
        let opening = channel.subscribe_all().into_future();
        let polls = round % 7;
        let mut opening = Box::pin(opening);
        for _ in 0..polls {
            let waker = futures::task::noop_waker();
            let mut context = std::task::Context::from_waker(&waker);
            if opening.as_mut().poll(&mut context).is_ready() {
                break;
            }
            tokio::task::yield_now().await;
        }
        drop(opening);
    }
    assert_eq!(rt.stats().live_channels, 0);
    wait_until_no_listener(&rt).await;
}
