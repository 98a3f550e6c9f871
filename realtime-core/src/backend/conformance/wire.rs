//! The bytes on the wire: typed data is stored as serde writes it, and JSON text emitted
//! untyped is stored as its sender wrote it when it means the same.

use futures::StreamExt;
use serde_json::value::RawValue;

use super::support::{PATIENCE, realtime};
use super::{BackendFactory, StorageOptions, TestEvent};
use crate::backend::ReadRange;
use crate::{Error, Events, History};

fn reading(station: &str, celsius: f32) -> TestEvent {
    TestEvent::Reading {
        station: station.into(),
        celsius,
    }
}

fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_owned()).unwrap()
}

/// The data text of every entry of `channel`, as the backend stores it.
async fn stored(backend: &dyn crate::backend::Backend, channel: &str) -> Vec<String> {
    let entries = backend
        .read(channel, ReadRange::after(None, 100))
        .await
        .unwrap();
    entries.iter().map(|entry| entry.data.to_string()).collect()
}

pub async fn typed_data_is_stored_and_delivered_as_serde_writes_it(factory: &dyn BackendFactory) {
    let (rt, backend) = realtime(factory, StorageOptions::default()).await;
    let room = rt.channel("wire-typed");
    let mut deliveries = room.subscribe_all().deliveries().await.unwrap();
    let event = reading("north", 0.1);
    let id = room.emit(&event).await.unwrap();
    // Declaration order (not sorted), and the f32 as serde_json writes it (not widened
    // to 0.10000000149011612).
    let expected = r#"{"station":"north","celsius":0.1}"#;
    assert_eq!(event.to_data_json().unwrap(), expected);
    assert_eq!(stored(&*backend, "wire-typed").await, [expected]);
    let delivery = tokio::time::timeout(PATIENCE, deliveries.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((delivery.id(), delivery.data_json()), (id, expected));
    assert_eq!(delivery.envelope().event, event);
    let history = room.history(History::new()).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].event, event, "0.1 reads back as the same f32");
    // A late subscriber replays it from storage with the same text.
    let mut replay = room
        .subscribe_all()
        .with_history(1)
        .deliveries()
        .await
        .unwrap();
    let replayed = tokio::time::timeout(PATIENCE, replay.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(replayed.data_json(), expected);
}

pub async fn raw_json_is_stored_in_the_senders_order_when_it_means_the_same(
    factory: &dyn BackendFactory,
) {
    let (rt, backend) = realtime(factory, StorageOptions::default()).await;
    let room = rt.channel("wire-raw");
    let mut deliveries = room.subscribe_all().deliveries().await.unwrap();
    let sent = [
        // The sender's key order and number spelling are kept; whitespace goes.
        (
            "{ \"celsius\": 2.50,\n  \"station\": \"b: \\\"x\\\"\" }",
            r#"{"celsius":2.50,"station":"b: \"x\""}"#,
        ),
        // serde drops the unknown field: the decoded event's own text is stored.
        (
            r#"{"celsius":1.5,"station":"c","extra":true}"#,
            r#"{"station":"c","celsius":1.5}"#,
        ),
        // Rounded to the f32: the decoded event's text.
        (
            r#"{"celsius":0.1234567891,"station":"d"}"#,
            r#"{"station":"d","celsius":0.12345679}"#,
        ),
        // A repeated key (the last one counts): the decoded event's text.
        (
            r#"{"station":"e","celsius":1.0,"station":"f"}"#,
            r#"{"station":"f","celsius":1.0}"#,
        ),
    ];
    for (text, _) in &sent {
        room.emit_raw_json("sensor.reading", &raw(text))
            .await
            .unwrap();
    }
    room.emit_raw_json_with_key("counter.tick", &raw(" 7 "), "tick-7")
        .await
        .unwrap();
    let retry = room
        .emit_raw_json_with_key("counter.tick", &raw("7"), "tick-7")
        .await
        .unwrap();
    let mut expected: Vec<&str> = sent.iter().map(|(_, stored)| *stored).collect();
    expected.push("7");
    assert_eq!(stored(&*backend, "wire-raw").await, expected);
    let mut delivered = Vec::new();
    while delivered.len() < expected.len() {
        let delivery = tokio::time::timeout(PATIENCE, deliveries.next())
            .await
            .unwrap()
            .unwrap();
        delivered.push(delivery.data_json().to_owned());
    }
    assert_eq!(delivered, expected);
    assert_eq!(
        room.history(History::new())
            .await
            .unwrap()
            .last()
            .unwrap()
            .id,
        retry,
        "the keyed retry answered the original id"
    );

    // Refused as `emit_json` refuses: nothing stored.
    let error = room
        .emit_raw_json(
            "sensor.reading",
            &raw(r#"{"celsius":"warm","station":"x"}"#),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Invalid(v) if v.path == "/celsius"),
        "{error}"
    );
    let error = room
        .emit_raw_json("sensor.readings", &raw("{}"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::UnknownEvent(_)), "{error}");
    assert_eq!(stored(&*backend, "wire-raw").await.len(), expected.len());
}
