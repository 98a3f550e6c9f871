//! Reading schema documents into the typed model: what each construct becomes, and the
//! JSON pointer named by each error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use realtime_schema::model::{Additional, Kind};
use realtime_schema::{Document, Error};
use serde_json::{Value, json};

fn document(data: Value, defs: Value) -> Value {
    json!({
        "title": "AppEvent",
        "oneOf": [{
            "type": "object",
            "description": "A message.",
            "properties": { "event": { "type": "string", "const": "chat.message" }, "data": data },
            "required": ["event", "data"]
        }],
        "$defs": defs,
        "x-realtime": { "version": 1, "events": ["chat.message"], "namespaces": {} }
    })
}

fn error(data: Value) -> Error {
    Document::from_value(&document(data, json!({}))).unwrap_err()
}

fn pointer(error: &Error) -> &str {
    match error {
        Error::Unsupported { pointer, .. }
        | Error::Malformed { pointer, .. }
        | Error::NotDocument { pointer, .. } => pointer,
        other => panic!("no pointer in {other:?}"),
    }
}

#[test]
fn events_keep_their_name_description_and_data() {
    let parsed = Document::from_value(&document(json!({ "$ref": "#/$defs/Message" }), json!({
        "Message": { "type": "object", "properties": { "text": { "type": "string" } }, "required": ["text"], "additionalProperties": false }
    })))
    .unwrap();
    assert_eq!(parsed.title, "AppEvent");
    let event = parsed.event("chat.message").unwrap();
    assert_eq!(event.description.as_deref(), Some("A message."));
    assert_eq!(event.data.kind, Kind::Ref("Message".into()));
    let Kind::Object(rules) = &parsed.definition("Message").unwrap().kind else {
        panic!("not an object");
    };
    assert_eq!(rules.additional, Additional::Forbidden);
    assert!(rules.properties[0].required);
    assert_eq!(
        rules.properties[0].schema.pointer,
        "/$defs/Message/properties/text"
    );
}

#[test]
fn option_shapes_become_nullable() {
    for data in [
        json!({ "type": ["string", "null"] }),
        json!({ "anyOf": [{ "type": "string" }, { "type": "null" }] }),
    ] {
        let parsed = Document::from_value(&document(data, json!({}))).unwrap();
        assert!(matches!(parsed.events[0].data.kind, Kind::Nullable(_)));
    }
}

#[test]
fn a_ref_with_siblings_is_an_intersection() {
    let parsed = Document::from_value(&document(
        json!({ "$ref": "#/$defs/T", "properties": { "type": { "const": "t" } }, "required": ["type"], "type": "object" }),
        json!({ "T": { "type": "object" } }),
    ))
    .unwrap();
    let Kind::AllOf(parts) = &parsed.events[0].data.kind else {
        panic!("{:?}", parsed.events[0].data.kind);
    };
    assert!(matches!(parts[0].kind, Kind::Object(_)));
    assert_eq!(parts[1].kind, Kind::Ref("T".into()));
}

#[test]
fn malformed_keywords_are_named_by_pointer() {
    let cases = [
        (
            json!({ "type": "string", "minLength": -1 }),
            "/oneOf/0/properties/data/minLength",
        ),
        (json!({ "type": "strng" }), "/oneOf/0/properties/data/type"),
        (
            json!({ "type": "object", "properties": { "a": 3 } }),
            "/oneOf/0/properties/data/properties/a",
        ),
        (json!({ "oneOf": [] }), "/oneOf/0/properties/data/oneOf"),
        (
            json!({ "type": "array", "items": { "type": "integer", "maximum": "ten" } }),
            "/oneOf/0/properties/data/items/maximum",
        ),
    ];
    for (data, expected) in cases {
        let error = error(data.clone());
        assert!(matches!(error, Error::Malformed { .. }), "{data}: {error}");
        assert_eq!(pointer(&error), expected, "{data}");
    }
}

#[test]
fn unsupported_constructs_are_named_by_pointer() {
    let cases = [
        (json!(false), "/oneOf/0/properties/data"),
        (
            json!({ "$ref": "https://example.com/schema.json" }),
            "/oneOf/0/properties/data/$ref",
        ),
        (
            json!({ "type": "array", "prefixItems": [{ "type": "string" }, { "type": "string" }], "minItems": 1 }),
            "/oneOf/0/properties/data/minItems",
        ),
    ];
    for (data, expected) in cases {
        let error = error(data.clone());
        assert!(
            matches!(error, Error::Unsupported { .. }),
            "{data}: {error}"
        );
        assert_eq!(pointer(&error), expected, "{data}");
    }
}

#[test]
fn documents_of_another_shape_or_version_are_refused() {
    let mut newer = document(json!({ "type": "string" }), json!({}));
    newer["x-realtime"]["version"] = json!(2);
    let error = Document::from_value(&newer).unwrap_err();
    assert_eq!(pointer(&error), "/x-realtime/version");
    assert!(error.to_string().contains("version 2"), "{error}");

    let mut twice = document(json!({ "type": "string" }), json!({}));
    let entry = twice["oneOf"][0].clone();
    twice["oneOf"].as_array_mut().unwrap().push(entry);
    let error = Document::from_value(&twice).unwrap_err();
    assert_eq!(pointer(&error), "/oneOf/1/properties/event/const");

    let error = Document::from_value(&json!([1, 2])).unwrap_err();
    assert!(matches!(error, Error::NotDocument { .. }), "{error}");
    let error = Document::from_json("events.json", "{ nope").unwrap_err();
    assert!(
        error.to_string().starts_with("events.json: not JSON"),
        "{error}"
    );
}

#[test]
fn unknown_keywords_are_read_as_absent_with_a_warning_naming_pointer_and_events() {
    let parsed = Document::from_value(&document(
        json!({ "$ref": "#/$defs/Shared" }),
        json!({ "Shared": {
            "type": "object",
            "properties": {
                "a~b/c": { "type": "string", "if": {} },
                "tags": { "type": "array", "contains": { "type": "string" } },
                "odd": { "not": { "type": "string" } },
                "text": { "type": "string", "not": { "const": "" } }
            },
            "required": ["a~b/c"]
        } }),
    ))
    .unwrap();
    let warnings: Vec<(&str, &[String])> = parsed
        .warnings
        .iter()
        .map(|warning| (warning.pointer.as_str(), warning.events.as_slice()))
        .collect();
    let event = ["chat.message".to_owned()];
    assert_eq!(
        warnings,
        [
            ("/$defs/Shared/properties/a~0b~1c/if", &event[..]),
            ("/$defs/Shared/properties/odd/not", &event[..]),
            ("/$defs/Shared/properties/tags/contains", &event[..]),
            ("/$defs/Shared/properties/text/not", &event[..]),
        ]
    );
    assert!(
        parsed.warnings[0].to_string().ends_with(
            "the keyword `if` is not supported; read as if absent (a wider type) (event `chat.message`)"
        ),
        "{}",
        parsed.warnings[0]
    );
    // What is left is the wider type.
    let Kind::Object(rules) = &parsed.definition("Shared").unwrap().kind else {
        panic!("not an object");
    };
    assert!(matches!(rules.properties[1].schema.kind, Kind::Any));
    assert!(matches!(rules.properties[3].schema.kind, Kind::String(_)));
}

#[test]
fn integer_keyed_maps_and_excluded_numbers_are_read() {
    let parsed = Document::from_value(&document(
        json!({
            "type": "object",
            "properties": {
                "by_id": { "type": "object", "additionalProperties": false, "patternProperties": { "^\\d+$": { "type": "string" } } },
                "step": { "type": ["integer", "null"], "format": "int32", "not": { "const": 0 } }
            },
            "required": ["by_id", "step"]
        }),
        json!({}),
    ))
    .unwrap();
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let Kind::Object(rules) = &parsed.events[0].data.kind else {
        panic!("not an object");
    };
    let Kind::Object(map) = &rules.properties[0].schema.kind else {
        panic!("not a map");
    };
    assert_eq!(map.patterns[0].pattern, "^\\d+$");
    assert_eq!(
        map.patterns[0].schema.pointer,
        "/oneOf/0/properties/data/properties/by_id/patternProperties/^\\d+$"
    );
    assert_eq!(map.additional, Additional::Forbidden);
    let Kind::Nullable(step) = &rules.properties[1].schema.kind else {
        panic!("not nullable");
    };
    let Kind::Integer(step) = &step.kind else {
        panic!("not an integer");
    };
    assert_eq!(step.excluded, [serde_json::Number::from(0)]);
}

#[test]
fn property_names_are_string_rules_and_other_key_schemas_are_read_as_absent() {
    let parsed = Document::from_value(&document(
        json!({ "type": "object", "additionalProperties": true, "propertyNames": { "type": "string", "format": "uuid" } }),
        json!({}),
    ))
    .unwrap();
    let Kind::Object(rules) = &parsed.events[0].data.kind else {
        panic!("{:?}", parsed.events[0].data.kind);
    };
    assert_eq!(rules.keys.as_ref().unwrap().format.as_deref(), Some("uuid"));
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);

    let wider = Document::from_value(&document(
        json!({ "type": "object", "propertyNames": { "enum": ["a", "b"] } }),
        json!({}),
    ))
    .unwrap();
    let Kind::Object(rules) = &wider.events[0].data.kind else {
        panic!("{:?}", wider.events[0].data.kind);
    };
    assert_eq!(rules.keys, None);
    assert_eq!(
        wider.warnings[0].pointer,
        "/oneOf/0/properties/data/propertyNames"
    );
}
