//! The document describes what events serialize to; validation accepts what they
//! deserialize from.

#![allow(clippy::unwrap_used)] // a failing test panics

use realtime_core::{Events, History, Realtime};
use serde_json::json;

#[derive(Events, Clone, Debug, PartialEq)]
enum NoteEvent {
    #[event("note.saved")]
    Saved { title: String, body: Option<String> },
}

#[test]
fn the_document_marks_an_always_written_option_required_and_nullable() {
    let document = NoteEvent::schema().document();
    let saved = &document["$defs"]["NoteEventSaved"];
    assert_eq!(saved["required"], json!(["title", "body"]), "{saved}");
    let data = NoteEvent::Saved {
        title: "t".into(),
        body: None,
    }
    .to_data()
    .unwrap();
    assert_eq!(data, json!({ "title": "t", "body": null }));
}

#[tokio::test]
async fn input_may_still_omit_it_as_serde_allows() {
    let rt = Realtime::<NoteEvent>::memory();
    rt.emit_json("note.saved", json!({ "title": "t" }))
        .await
        .unwrap();
    let stored = rt.history(History::new()).await.unwrap();
    assert_eq!(
        stored[0].event,
        NoteEvent::Saved {
            title: "t".into(),
            body: None
        }
    );
}
