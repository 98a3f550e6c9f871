//! Integers beyond 64 bits (`u128`, `i128`) are stored as their exact digits and read
//! back from that text: a `serde_json::Value` would hold them as an `f64`, which the
//! Rust types refuse, and the event would be lost to history and live subscribers.

#![allow(clippy::unwrap_used)] // a failing test panics

use futures::StreamExt;
use realtime_core::{Events, History, Realtime};
use serde_json::value::RawValue;

#[derive(Events, Clone, Debug, PartialEq)]
enum WideEvent {
    #[event("wide.id")]
    Id(u128),
    #[event("wide.offset")]
    Offset { by: i128 },
}

const BEYOND_U64: u128 = u64::MAX as u128 + 1;
const BELOW_I64: i128 = i64::MIN as i128 - 1;

fn wide_events() -> [WideEvent; 3] {
    [
        WideEvent::Id(BEYOND_U64),
        WideEvent::Id(u128::MAX),
        WideEvent::Offset { by: BELOW_I64 },
    ]
}

#[tokio::test]
async fn history_reads_back_integers_beyond_64_bits_exactly() {
    let rt = Realtime::<WideEvent>::memory();
    for event in wide_events() {
        rt.emit(&event).await.unwrap();
    }
    let stored: Vec<WideEvent> = rt
        .history(History::new())
        .await
        .unwrap()
        .into_iter()
        .map(|envelope| envelope.event)
        .collect();
    assert_eq!(stored, wide_events());
    assert_eq!(rt.stats().rejected, 0);
}

#[tokio::test]
async fn a_live_subscriber_receives_integers_beyond_64_bits() {
    let rt = Realtime::<WideEvent>::memory();
    let mut subscription = rt.subscribe_all().await.unwrap();
    for event in wide_events() {
        rt.emit(&event).await.unwrap();
    }
    for expected in wide_events() {
        let received = tokio::time::timeout(std::time::Duration::from_secs(5), subscription.next())
            .await
            .expect("the event arrives")
            .unwrap();
        assert_eq!(received.event, expected);
    }
}

#[tokio::test]
async fn raw_json_text_with_integers_beyond_64_bits_is_kept_exact() {
    let rt = Realtime::<WideEvent>::memory();
    let room = rt.channel("room");
    let id = RawValue::from_string(BEYOND_U64.to_string()).unwrap();
    room.emit_raw_json("wide.id", &id).await.unwrap();
    let offset = RawValue::from_string(format!(r#"{{"by":{BELOW_I64}}}"#)).unwrap();
    room.emit_raw_json("wide.offset", &offset).await.unwrap();
    let stored: Vec<WideEvent> = room
        .history(History::new())
        .await
        .unwrap()
        .into_iter()
        .map(|envelope| envelope.event)
        .collect();
    assert_eq!(
        stored,
        [
            WideEvent::Id(BEYOND_U64),
            WideEvent::Offset { by: BELOW_I64 }
        ]
    );
}

#[tokio::test]
async fn a_json_value_that_already_rounded_the_integer_is_refused_not_stored() {
    let rt = Realtime::<WideEvent>::memory();
    // A `Value` parsed from the exact digits holds the nearest `f64`.
    let rounded: serde_json::Value = serde_json::from_str(&BEYOND_U64.to_string()).unwrap();
    let error = rt.emit_json("wide.id", rounded).await.unwrap_err();
    assert!(error.to_string().contains("u128"), "{error}");
    assert!(rt.history(History::new()).await.unwrap().is_empty());
}

/// An event inside an event (`Nested`) is read through a `serde_json::Value`.
#[derive(Events, Clone, Debug, PartialEq)]
enum LedgerEvent {
    #[event("ledger.amount")]
    Amount(u128),
    #[event("ledger.batch")]
    Batch {
        events: Vec<realtime_core::Nested<LedgerEvent>>,
    },
}

fn batch_of(amount: u128) -> LedgerEvent {
    LedgerEvent::Batch {
        events: vec![realtime_core::Nested(LedgerEvent::Amount(amount))],
    }
}

#[tokio::test]
async fn an_event_whose_text_would_not_decode_back_is_refused_at_emit() {
    let rt = Realtime::<LedgerEvent>::memory();
    let error = rt.emit(&batch_of(BEYOND_U64)).await.unwrap_err();
    assert!(error.to_string().contains("not stored"), "{error}");
    assert!(rt.history(History::new()).await.unwrap().is_empty());
    // Within 64 bits the same type reads back: nothing is refused.
    rt.emit(&batch_of(7)).await.unwrap();
    let stored = rt.history(History::new()).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].event, batch_of(7));
}

/// serde buffers an untagged enum's input, and its buffer has no 128-bit integers: no
/// `Exact` value reads back, however small.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
enum Amount {
    Exact(u128),
    Text(String),
}

#[derive(Events, Clone, Debug, PartialEq)]
enum PriceEvent {
    #[event("price.set")]
    Set(Amount),
}

#[tokio::test]
async fn a_128_bit_integer_serde_cannot_read_back_is_refused_whatever_its_value() {
    let rt = Realtime::<PriceEvent>::memory();
    let error = rt
        .emit(&PriceEvent::Set(Amount::Exact(7)))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("not stored"), "{error}");
    // The same event with a value serde reads back is stored.
    rt.emit(&PriceEvent::Set(Amount::Text("7".into())))
        .await
        .unwrap();
    let stored = rt.history(History::new()).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].event, PriceEvent::Set(Amount::Text("7".into())));
}
