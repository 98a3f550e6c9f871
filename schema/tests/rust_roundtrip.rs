//! The Rust generator on the corpus: the committed `generated/corpus.rs` is what typify
//! makes of the corpus schema today (regenerate with `REALTIME_BLESS=1`), and its types
//! deserialize and re-serialize every sample event's JSON to identical JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod corpus;

#[allow(warnings, clippy::all, clippy::pedantic, unreachable_pub)]
#[rustfmt::skip]
#[path = "generated/corpus.rs"]
mod generated;

use std::path::Path;

use realtime_core::Events;
use serde_json::{Value, json};

#[test]
fn generated_rust_matches_snapshot() {
    let document = corpus::Corpus::schema().document();
    let code = realtime_schema::rust::generate(&document).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/generated/corpus.rs");
    realtime_snapshot::Snapshot::new(path).assert_matches(&code);
}

/// Events whose data serde cannot buffer: the envelope is adjacently tagged, and with
/// `data` before `event` (a `serde_json::Value`'s order, and the wire's) serde buffers the
/// data, and its buffer holds no 128-bit integers. Read in the envelope with `event`
/// first, or as the event's own type (`generated_types_keep_integers_beyond_64_bits`).
const UNBUFFERABLE: &[&str] = &["wide.id"];

#[test]
fn generated_types_round_trip_every_sample_event_exactly() {
    for event in corpus::samples() {
        if UNBUFFERABLE.contains(&event.name()) {
            continue;
        }
        let envelope = json!({ "event": event.name(), "data": event.to_data().unwrap() });
        let typed: generated::Corpus = serde_json::from_value(envelope.clone())
            .unwrap_or_else(|error| panic!("{envelope} does not deserialize: {error}"));
        let back: Value = serde_json::to_value(&typed).unwrap();
        assert_eq!(back, envelope, "{typed:?}");
    }
}

#[test]
fn an_always_written_none_stays_null_and_a_skipped_none_stays_absent() {
    // The document is generated with the serialize contract: a plain `Option` field is
    // required and nullable, so typify writes `null` for it as the derive does.
    let sample = corpus::samples()
        .into_iter()
        .find(|event| matches!(event, corpus::Corpus::Flags { note: None, .. }))
        .unwrap();
    let envelope = json!({ "event": sample.name(), "data": sample.to_data().unwrap() });
    assert_eq!(envelope["data"].get("note"), Some(&Value::Null));
    let typed: generated::Corpus = serde_json::from_value(envelope.clone()).unwrap();
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(back["data"].get("note"), Some(&Value::Null));
    assert_eq!(back, envelope);

    // `reply_to` has `skip_serializing_if`: absent when `None`, and typify leaves it out.
    let message = corpus::samples()
        .into_iter()
        .find(|event| matches!(event, corpus::Corpus::Message(m) if m.reply_to.is_none()))
        .unwrap();
    let envelope = json!({ "event": message.name(), "data": message.to_data().unwrap() });
    assert!(envelope["data"].get("reply_to").is_none());
    let typed: generated::Corpus = serde_json::from_value(envelope.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), envelope);
}

#[test]
fn generated_types_refuse_an_unknown_event_and_a_broken_constraint() {
    let unknown = json!({ "event": "chat.mesage", "data": "x" });
    assert!(serde_json::from_value::<generated::Corpus>(unknown).is_err());
    let long_bio = json!({ "event": "user.joined", "data": {
        "id": "6f1c2f4e-8a1b-4c3d-9e2f-0a1b2c3d4e5f", "email": "a@b.c", "homepage": "https://e.com",
        "joined_at": "2024-05-01T12:30:00Z", "handle": "ada", "bio": "x".repeat(41)
    }});
    assert!(serde_json::from_value::<generated::Corpus>(long_bio).is_err());
}

#[test]
fn generated_types_keep_integers_beyond_64_bits() {
    // Read from text: a `serde_json::Value` holds no integer beyond 64 bits.
    let data = format!(r#"{{"id":{},"offset":{}}}"#, u128::MAX, i128::MIN);
    let typed: generated::CorpusWide = serde_json::from_str(&data).unwrap();
    assert_eq!(serde_json::to_string(&typed).unwrap(), data);
    let envelope = format!(r#"{{"event":"wide.id","data":{data}}}"#);
    let typed: generated::Corpus = serde_json::from_str(&envelope).unwrap();
    assert_eq!(serde_json::to_string(&typed).unwrap(), envelope);
}
