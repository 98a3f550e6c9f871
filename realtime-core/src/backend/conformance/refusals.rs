//! What is refused and stores nothing (invalid events, bad channel and key names), what
//! is skipped (foreign entries), and what is stored once (idempotent emits).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::support::{handle, message, realtime, tick, ticks};
use super::{BackendFactory, StorageOptions, TestEvent, assert_quiet, take};
use crate::{Cursor, Error, History, Realtime};

pub async fn invalid_events_are_refused_and_leave_nothing_stored(factory: &dyn BackendFactory) {
    let rt = handle(factory).await;
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

pub async fn emit_json_checks_the_name_and_the_schema(factory: &dyn BackendFactory) {
    let rt = handle(factory).await;
    let error = rt.emit_json("chat.mesage", json!({})).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown event `chat.mesage`; expected one of: chat.message, chat.typing, counter.tick, sensor.reading"
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

pub async fn bad_channel_names_are_refused(factory: &dyn BackendFactory) {
    let rt = handle(factory).await;
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

pub async fn foreign_entries_are_counted_and_skipped_without_breaking_anything(
    factory: &dyn BackendFactory,
) {
    let (rt, backend) = realtime(factory, StorageOptions::default()).await;
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

pub async fn idempotent_emits_store_once_per_key_within_the_window(factory: &dyn BackendFactory) {
    let backend = factory.open(StorageOptions::default()).await;
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

pub async fn idempotency_keys_reused_for_another_event_or_data_are_refused(
    factory: &dyn BackendFactory,
) {
    let rt = handle(factory).await;
    let orders = rt.channel("orders");
    let mut live = orders.subscribe_all().await.unwrap();
    let first = orders.emit_with_key(&tick(1), "order-1").await.unwrap();
    // Other data, another event: refused, nothing stored, the original id named.
    for (event, data) in [
        ("counter.tick", json!(2)),
        ("chat.message", json!({"author": "ada", "text": "1"})),
    ] {
        let refused = orders
            .emit_json_with_key(event, data, "order-1")
            .await
            .unwrap_err();
        let Error::IdempotencyKeyReused { channel, key, .. } = &refused else {
            panic!("{event}: expected IdempotencyKeyReused, got {refused:?}");
        };
        assert_eq!((channel.as_str(), key.as_str()), ("orders", "order-1"));
        let text = refused.to_string();
        assert!(text.contains(&first.to_string()), "{text}");
        assert!(text.contains("different event or data"), "{text}");
    }
    // The same event and data, typed or as JSON: the original id.
    assert_eq!(
        orders.emit_with_key(&tick(1), "order-1").await.unwrap(),
        first
    );
    let json_retry = orders
        .emit_json_with_key("counter.tick", json!(1), "order-1")
        .await
        .unwrap();
    assert_eq!(json_retry, first);
    assert_eq!(ticks(&take(&mut live, 1).await), [1]);
    assert_quiet(&mut live).await;
    assert_eq!(orders.history(History::new()).await.unwrap().len(), 1);
}
