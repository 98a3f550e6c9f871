//! Delivery: order and ids, fan-out to many subscribers, concurrent emitters, filters,
//! catching up after falling behind, several handles on one store.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::support::{handle, message, tick, ticks};
use super::{BackendFactory, StorageOptions, TestEvent, TestEventKind, assert_quiet, take};
use crate::{Cursor, Error, History, Realtime};

pub async fn events_arrive_in_emit_order_with_their_ids(factory: &dyn BackendFactory) {
    let rt = handle(factory).await;
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

pub async fn the_default_channel_is_called_default(factory: &dyn BackendFactory) {
    let rt = handle(factory).await;
    let mut subscription = rt.channel("default").subscribe_all().await.unwrap();
    let id = rt.emit(&tick(1)).await.unwrap();
    assert_eq!(take(&mut subscription, 1).await, [(id, tick(1))]);
    let history = rt.history(History::new()).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(&*history[0].channel, "default");
}

pub async fn concurrent_emitters_are_all_delivered_once_in_id_order(factory: &dyn BackendFactory) {
    let rt = handle(factory).await;
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

pub async fn many_subscribers_each_receive_every_event(factory: &dyn BackendFactory) {
    let rt = handle(factory).await;
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

pub async fn a_filter_lets_only_its_kinds_through(factory: &dyn BackendFactory) {
    let rt = handle(factory).await;
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

pub async fn a_subscriber_that_falls_behind_catches_up_from_history(factory: &dyn BackendFactory) {
    let backend = factory
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

pub async fn emit_to_writes_every_channel_and_checks_names_first(factory: &dyn BackendFactory) {
    let rt = handle(factory).await;
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

pub async fn separate_handles_on_one_store_see_each_others_events(factory: &dyn BackendFactory) {
    let backend = factory.open(StorageOptions::default()).await;
    let writer = Realtime::<TestEvent>::with_backend(Arc::clone(&backend));
    let reader = Realtime::<TestEvent>::with_backend(backend);
    let mut subscription = reader.channel("shared").subscribe_all().await.unwrap();
    let id = writer.channel("shared").emit(&tick(42)).await.unwrap();
    assert_eq!(take(&mut subscription, 1).await, [(id, tick(42))]);
}
