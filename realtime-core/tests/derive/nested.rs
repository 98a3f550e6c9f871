//! Events of an enum inside its own events' data, through `Nested`: the wire form, the
//! schema (a `$ref` back to itself), validation of the inner events, and a round trip
//! through a channel.

use futures::StreamExt;
use realtime_core::{Error, Events, History, Nested, Realtime};
use serde_json::json;

#[derive(Events, Clone, Debug, PartialEq)]
enum Doc {
    /// Text typed into the document.
    #[event("doc.typed")]
    Typed {
        #[schemars(length(min = 1))]
        text: String,
    },
    #[event("doc.cleared")]
    Cleared,
    /// Several edits at once.
    #[event("doc.batch")]
    Batch { edits: Vec<Nested<Doc>> },
    /// Takes an edit back.
    #[event("doc.undo")]
    Undo(Box<Nested<Doc>>),
}

fn typed(text: &str) -> Doc {
    Doc::Typed { text: text.into() }
}

fn batch() -> Doc {
    Doc::Batch {
        edits: vec![
            Nested(typed("a")),
            Nested(Doc::Cleared),
            Nested(Doc::Undo(Box::new(Nested(typed("b"))))),
        ],
    }
}

#[test]
fn a_nested_event_is_written_with_its_name_and_data() {
    assert_eq!(
        batch().to_data_json().unwrap(),
        concat!(
            r#"{"edits":[{"event":"doc.typed","data":{"text":"a"}},"#,
            r#"{"event":"doc.cleared","data":null},"#,
            r#"{"event":"doc.undo","data":{"event":"doc.typed","data":{"text":"b"}}}]}"#
        )
    );
    let back = Doc::from_data("doc.batch", batch().to_data().unwrap()).unwrap();
    assert_eq!(back, batch());
}

#[test]
fn the_schema_refers_back_to_the_event_set() {
    let schema = Doc::schema();
    let nested = &schema.definitions["NestedDoc"];
    let branches = nested["oneOf"].as_array().unwrap();
    let names: Vec<&str> = branches
        .iter()
        .map(|branch| branch["properties"]["event"]["const"].as_str().unwrap())
        .collect();
    assert_eq!(names, Doc::NAMES);
    assert_eq!(branches[0]["description"], "Text typed into the document.");
    assert_eq!(branches[0]["required"], json!(["event", "data"]));
    assert_eq!(
        schema.event("doc.undo").unwrap().data.as_value(),
        &json!({ "$ref": "#/$defs/NestedDoc" })
    );
}

#[test]
fn unknown_nested_names_and_extra_keys_do_not_decode() {
    let error = Doc::from_data(
        "doc.undo",
        json!({ "event": "doc.typo", "data": { "text": "x" } }),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("unknown event `doc.typo`"),
        "{error}"
    );
    let error = Doc::from_data(
        "doc.undo",
        json!({ "event": "doc.cleared", "data": null, "extra": 1 }),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("unknown field `extra`"),
        "{error}"
    );
}

#[tokio::test]
async fn nested_events_are_validated_stored_and_delivered() {
    let rt = Realtime::<Doc>::memory();
    let doc = rt.channel("doc-1");
    let mut deliveries = doc.subscribe_all().deliveries().await.unwrap();

    // The inner event's own rules apply: an empty text is refused at its path.
    let bad = Doc::Batch {
        edits: vec![Nested(typed("ok")), Nested(typed(""))],
    };
    let error = doc.emit(&bad).await.unwrap_err();
    let Error::Invalid(violation) = &error else {
        panic!("expected a schema violation, got {error}");
    };
    assert_eq!(
        (violation.event, violation.path.as_str()),
        ("doc.batch", "/edits/1")
    );
    let error = doc
        .emit_json(
            "doc.undo",
            json!({ "event": "doc.typed", "data": { "text": 5 } }),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Invalid(_)), "{error}");

    let id = doc.emit(&batch()).await.unwrap();
    let delivery = deliveries.next().await.unwrap();
    assert_eq!(delivery.id(), id);
    assert_eq!(delivery.envelope().event, batch());
    assert_eq!(delivery.data_json(), batch().to_data_json().unwrap());
    let history = doc.history(History::new()).await.unwrap();
    assert_eq!(
        history.iter().map(|e| &e.event).collect::<Vec<_>>(),
        [&batch()]
    );
}
